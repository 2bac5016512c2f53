// SPDX-License-Identifier: MIT
//
// Decoding MASK arguments: read each one with the chosen kernel's layout and print it the
// way that kernel's printk would, then what the user asked for on top.
#include "decode.hpp"

#include <gfplab/version.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

void print_mask(const gfp_layout &layout, gfp_t mask, const std::optional<auto_reason> &reason,
                bool explain) {
    fmt::print("{}\n", layout.format_mask(mask));
    print_tracepoint_names(layout, mask);
    if (reason) {
        fmt::print("  kernel: auto -> {}\n", era_label(layout));
        fmt::print("  why: {}\n", reason->summary(layout));
    }
    if (explain)
        for (const auto &line : explain_lines(layout, mask))
            fmt::print("  {}\n", line);
    warn_unknown_bits(layout, mask);
}

// One MASK argument read: the layout and value, or why it could not be.
struct decoded {
    const gfp_layout *layout = nullptr;
    gfp_t mask = 0;
    bool automatic = false;
    std::string error;
    std::optional<auto_reason> reason; // automatic: why this layout
};

decoded read_one(const std::string &text, const target &t) {
    if (t.layout == nullptr) {
        const auto choice = pick_layout(text, t.config);
        if (!choice) {
            // The default kernel's parser explains what is wrong and suggests names.
            const gfp_layout *newest = gfplab::find_gfp_layout(gfplab::kernel_version{}, t.config);
            return {nullptr, 0, true,
                    fmt::format("cannot parse mask '{}' with any kernel's layout{}{}", text,
                                newest ? "; " : "", newest ? newest->parse(text).error : ""),
                    std::nullopt};
        }
        return {choice->layout, choice->mask, true, "", choice->reason};
    }
    const gfplab::gfp_parse_result r = t.layout->parse(text);
    if (!r)
        return {nullptr, 0, false,
                fmt::format("cannot parse mask '{}' for {} (config {}): {}", text,
                            t.layout->version().str(), t.config.str(), r.error),
                std::nullopt};
    return {t.layout, r.mask, false, "", std::nullopt};
}

nlohmann::json mask_json(const std::string &text, const decoded &d, bool explain) {
    nlohmann::json j{{"input", text}, {"ok", d.layout != nullptr}};
    if (!d.layout) {
        j["error"] = d.error;
        return j;
    }
    j["value"] = fmt::format("{:#x}", d.mask);
    j["printk"] = d.layout->format_mask(d.mask);
    j["names"] = d.layout->format(d.mask);
    j["kernel"] = kernel_label(*d.layout);
    j["era"] = era_label(*d.layout);
    j["automatic"] = d.automatic;
    if (d.reason)
        j["reason"] = d.reason->summary(*d.layout);
    j["unknown_bits"] = fmt::format("{:#x}", unknown_bits(*d.layout, d.mask));
    if (explain)
        j["explain"] = explain_lines(*d.layout, d.mask);
    return j;
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

int decode_masks(const std::vector<std::string> &masks, const target &t, bool explain, bool json) {
    // Every mask is tried so that one typo does not hide the other answers.
    int status = 0;
    nlohmann::json out = nlohmann::json::array();
    for (const auto &text : masks) {
        const decoded d = read_one(text, t);
        if (json)
            out.push_back(mask_json(text, d, explain));
        else if (d.layout)
            print_mask(*d.layout, d.mask, d.reason, explain);
        else
            fmt::print(stderr, "gfplab-decode: {}\n", d.error);
        if (!d.layout) {
            status = exit_bad_input;
            // A line pasted from dmesg ("... mode:0xcc0(GFP_KERNEL), nodemask=(null)").
            if (text.find(' ') != std::string::npos || text.find("mode:") != std::string::npos ||
                text.find("gfp_mask") != std::string::npos)
                fmt::print(stderr,
                           "gfplab-decode: '{}' looks like a log line: pass the log on "
                           "standard input with --log (dmesg | gfplab-decode --log)\n",
                           text);
        }
    }
    if (json)
        fmt::print("{}\n", nlohmann::json{{"program", "gfplab-decode"},
                                          {"format_version", 1},
                                          {"gfplab_version", gfplab::version()},
                                          {"git_revision", gfplab::git_revision()},
                                          {"masks", out}}
                               .dump(2));
    return status;
}

} // namespace decode
