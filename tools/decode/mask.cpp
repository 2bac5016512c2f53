// SPDX-License-Identifier: MIT
//
// Decoding MASK arguments: read each one with the chosen kernel's layout and print it the
// way that kernel's printk would, then what the user asked for on top.
#include "decode.hpp"

#include <fmt/format.h>

namespace decode {
namespace {

using gfplab::gfp_layout;

// Names for a mask the era's printk showed as bare hex: the tracepoint's spelling, the only
// place that kernel ever named it.
void print_tracepoint_names(const gfp_layout &layout, gfp_t mask) {
    if (layout.print_style() == gfplab::gfp_print_style::hex_only)
        fmt::print("  tracepoint: {}\n", layout.format(mask));
}

void warn_unknown_bits(const gfp_layout &layout, gfp_t mask) {
    const gfp_t unknown = unknown_bits(layout, mask);
    if (unknown == 0)
        return;
    fmt::print(
        stderr,
        "gfplab-decode: warning: {:#x}: bits {:#x} are not GFP flags in {}; printed as hex\n", mask,
        unknown, kernel_label(layout));
}

void print_mask(const gfp_layout &layout, gfp_t mask, bool chosen_automatically, bool explain) {
    fmt::print("{}\n", layout.format_mask(mask));
    print_tracepoint_names(layout, mask);
    if (chosen_automatically)
        fmt::print("  kernel: auto -> {}\n", era_label(layout));
    if (explain)
        for (const auto &line : explain_lines(layout, mask))
            fmt::print("  {}\n", line);
    warn_unknown_bits(layout, mask);
}

// One MASK argument; false when it could not be read.
bool decode_one(const std::string &text, const target &t, bool explain) {
    if (t.layout == nullptr) {
        const auto choice = pick_layout(text, t.config);
        if (!choice) {
            // The default kernel's parser explains what is wrong and suggests names.
            const gfp_layout *newest = gfplab::find_gfp_layout(gfplab::kernel_version{}, t.config);
            fmt::print(stderr,
                       "gfplab-decode: cannot parse mask '{}' with any kernel's layout{}{}\n", text,
                       newest ? "; " : "", newest ? newest->parse(text).error : "");
            return false;
        }
        print_mask(*choice->layout, choice->mask, true, explain);
        return true;
    }
    const gfplab::gfp_parse_result r = t.layout->parse(text);
    if (!r) {
        fmt::print(stderr, "gfplab-decode: cannot parse mask '{}' for {} (config {}): {}\n", text,
                   t.layout->version().str(), t.config.str(), r.error);
        return false;
    }
    print_mask(*t.layout, r.mask, false, explain);
    return true;
}

} // namespace

std::string kernel_label(const gfp_layout &layout) {
    for (const auto &era : gfplab::gfp_eras())
        if (era.name == layout.era() && era.config_dependent)
            return fmt::format("{} (config {})", layout.version().str(), layout.config().str());
    return layout.version().str();
}

gfp_t unknown_bits(const gfp_layout &layout, gfp_t mask) {
    return mask & ~layout.known_bits();
}

int decode_masks(const std::vector<std::string> &masks, const target &t, bool explain) {
    // Every mask is tried so that one typo does not hide the other answers.
    int status = 0;
    for (const auto &text : masks)
        if (!decode_one(text, t, explain)) {
            status = exit_bad_input;
            // A line pasted from dmesg ("... mode:0xcc0(GFP_KERNEL), nodemask=(null)").
            if (text.find(' ') != std::string::npos || text.find("mode:") != std::string::npos ||
                text.find("gfp_mask") != std::string::npos)
                fmt::print(stderr,
                           "gfplab-decode: '{}' looks like a log line: pass the log on "
                           "standard input with --log (dmesg | gfplab-decode --log)\n",
                           text);
        }
    return status;
}

} // namespace decode
