// SPDX-License-Identifier: MIT
//
// stress/sysctl.hpp - the vm sysctls a campaign may set (/proc/sys/vm, Documentation/
// admin-guide/sysctl/vm.rst), with the kernel's names and ranges: `--sysctl
// vm.min_free_kbytes=8192,...` on the command line, a `[vm]` table in a scenario file.
#pragma once

#include <gfplab/system.hpp>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gfplab::stress {

struct vm_sysctls {
    unsigned min_free_kbytes = 0; // 0: the kernel's default for the machine's lowmem
    unsigned watermark_scale_factor = 10;
    unsigned watermark_boost_factor = 15000;
    std::array<unsigned, MAX_NR_ZONES> lowmem_reserve_ratio{256, 256, 32, 0};
    unsigned percpu_pagelist_high_fraction = 0; // 0: high auto-tuned between its bounds
    friend bool operator==(const vm_sysctls &, const vm_sysctls &) = default;
};

// Sets NAME (with or without its "vm." prefix) to VALUE, the way `sysctl -w` reads it
// (lowmem_reserve_ratio: one value per zone, separated by spaces or colons). Returns "" or
// what was wrong, naming the range.
std::string set_sysctl(vm_sysctls &s, std::string_view name, std::string_view value);
// "vm.min_free_kbytes=8192,vm.watermark_scale_factor=100": each in turn.
std::string apply_sysctls(vm_sysctls &s, std::string_view list);
// Every sysctl and its value, in /proc/sys/vm's spelling (names without "vm.").
std::vector<std::pair<std::string, std::string>> list_sysctls(const vm_sysctls &s);
// Into the System's configuration.
void configure(const vm_sysctls &s, system_config &c) noexcept;

} // namespace gfplab::stress
