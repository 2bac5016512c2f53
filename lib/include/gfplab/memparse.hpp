// SPDX-License-Identifier: MIT
//
// gfplab/memparse.hpp - sizes as the kernel's command line takes them (lib/cmdline.c
// memparse()): one syntax for every size gfplab reads, from the environment
// (GFPLAB_MEMORY), gfplab-stress, gfplab-run, gfplab-demo and scenario files.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gfplab {

// A number in C notation (decimal, 0x hexadecimal, a leading 0 for octal) with an optional
// binary suffix K, M, G, T, P or E in either case: "256M", "0x10000000", "4g", "65536" (bytes).
// Unlike the kernel's, which stops at the first character it does not understand, the whole
// text must be used; nullopt for anything else, and for a value that does not fit 64 bits.
std::optional<std::uint64_t> memparse(std::string_view text) noexcept;

} // namespace gfplab
