// SPDX-License-Identifier: MIT
//
// Finding things in kernel log lines: where a GFP mask was printed (and the names the log
// gave it) and which release a line names. Pure text work with no layout involved, so that
// gfplab-decode --log and the fuzz_kernel_log target run exactly the same code.
#pragma once

#include <gfplab/gfp_layout.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace decode {

// A mask in a line: where its text starts and ends (after any "(names)"), its value and
// what the log called it.
struct mask_site {
    std::size_t begin = 0; // the hex digits' "0x"
    std::size_t end = 0;   // one past the match: where an annotation goes
    gfp_t mask = 0;
    std::optional<std::string> log_names;
    std::string as_printed; // "0x6000c0(GFP_KERNEL)": the %#x(%pGg) form, for parsing
};

// Every mask printed in line, left to right. Hex too wide for a gfp_t is not a mask.
std::vector<mask_site> find_mask_sites(const std::string &line);

// A release named by a line: "Linux version 5.10.0-28-amd64 ...", "... Not tainted
// 6.1.0-18-amd64 #1", "... Tainted: G        W  O      4.19.0 #1".
struct version_mention {
    gfplab::kernel_version version;
    std::string text; // as the log wrote it: "6.1.0-18-amd64"
};
std::optional<version_mention> version_in(const std::string &line);

// Lines longer than this are echoed unread: std::regex recurses per character, and no
// printk line comes near it (the kernel's LOG_LINE_MAX is 1024 bytes).
inline constexpr std::size_t max_scanned_line = 4096;

} // namespace decode
