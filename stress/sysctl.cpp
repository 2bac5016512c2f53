// SPDX-License-Identifier: MIT
#include "sysctl.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>

namespace gfplab::stress {
namespace {

std::optional<unsigned> number(std::string_view text) {
    unsigned v = 0;
    const char *end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || p != end || text.empty())
        return std::nullopt;
    return v;
}

// 6.12 mm/page_alloc.c: MIN_PERCPU_PAGELIST_HIGH_FRACTION.
constexpr unsigned min_percpu_pagelist_high_fraction = 8;

} // namespace

std::string set_sysctl(vm_sysctls &s, std::string_view name, std::string_view value) {
    if (name.substr(0, 3) == "vm.")
        name.remove_prefix(3);
    if (name == "lowmem_reserve_ratio") {
        std::array<unsigned, MAX_NR_ZONES> r{};
        std::size_t n = 0;
        while (!value.empty()) {
            const std::size_t cut = value.find_first_of(" :");
            const std::string_view one = value.substr(0, cut);
            value = cut == std::string_view::npos ? std::string_view() : value.substr(cut + 1);
            if (one.empty())
                continue;
            const auto v = number(one);
            if (!v || n == r.size())
                return fmt::format("vm.lowmem_reserve_ratio: {} non-negative integers, one per "
                                   "zone (DMA DMA32 Normal Movable), separated by spaces or "
                                   "colons",
                                   r.size());
            r[n++] = *v;
        }
        if (n != r.size())
            return fmt::format("vm.lowmem_reserve_ratio: {} values, one per zone", r.size());
        s.lowmem_reserve_ratio = r;
        return "";
    }
    const auto v = number(value);
    if (name == "min_free_kbytes") {
        // The kernel takes any int; past a few GiB the model's zones could not honour it.
        if (!v || *v > (4u << 20))
            return "vm.min_free_kbytes: 0 (the kernel's default) .. 4194304";
        s.min_free_kbytes = *v;
    } else if (name == "watermark_scale_factor") {
        if (!v || *v < 1 || *v > 3000)
            return "vm.watermark_scale_factor: 1 .. 3000";
        s.watermark_scale_factor = *v;
    } else if (name == "watermark_boost_factor") {
        if (!v)
            return "vm.watermark_boost_factor: a non-negative integer (0: no boost)";
        s.watermark_boost_factor = *v;
    } else if (name == "percpu_pagelist_high_fraction") {
        if (!v || (*v != 0 && *v < min_percpu_pagelist_high_fraction))
            return fmt::format("vm.percpu_pagelist_high_fraction: 0 (auto-tuned) or at least {}",
                               min_percpu_pagelist_high_fraction);
        s.percpu_pagelist_high_fraction = *v;
    } else {
        return fmt::format("unknown sysctl '{}' (min_free_kbytes, watermark_scale_factor, "
                           "watermark_boost_factor, lowmem_reserve_ratio, "
                           "percpu_pagelist_high_fraction)",
                           name);
    }
    return "";
}

std::string apply_sysctls(vm_sysctls &s, std::string_view list) {
    while (!list.empty()) {
        const std::size_t cut = list.find(',');
        const std::string_view one = list.substr(0, cut);
        list = cut == std::string_view::npos ? std::string_view() : list.substr(cut + 1);
        const std::size_t eq = one.find('=');
        if (eq == std::string_view::npos)
            return fmt::format("'{}' is not NAME=VALUE", one);
        if (auto e = set_sysctl(s, one.substr(0, eq), one.substr(eq + 1)); !e.empty())
            return e;
    }
    return "";
}

std::vector<std::pair<std::string, std::string>> list_sysctls(const vm_sysctls &s) {
    return {
        {"min_free_kbytes", std::to_string(s.min_free_kbytes)},
        {"watermark_scale_factor", std::to_string(s.watermark_scale_factor)},
        {"watermark_boost_factor", std::to_string(s.watermark_boost_factor)},
        {"lowmem_reserve_ratio", fmt::format("{}", fmt::join(s.lowmem_reserve_ratio, " "))},
        {"percpu_pagelist_high_fraction", std::to_string(s.percpu_pagelist_high_fraction)},
    };
}

void configure(const vm_sysctls &s, system_config &c) noexcept {
    c.min_free_kbytes = s.min_free_kbytes;
    c.watermark_scale_factor = s.watermark_scale_factor;
    c.watermark_boost_factor = s.watermark_boost_factor;
    c.lowmem_reserve_ratio = s.lowmem_reserve_ratio;
    c.percpu_pagelist_high_fraction = s.percpu_pagelist_high_fraction;
}

} // namespace gfplab::stress
