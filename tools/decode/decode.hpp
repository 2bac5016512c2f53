// SPDX-License-Identifier: MIT
//
// gfplab-decode internals: what the command-line front end (main.cpp) hands to the mask
// decoder (mask.cpp), the era chooser (auto_era.cpp), the explainer (explain.cpp) and the
// log annotator (log.cpp).
#pragma once

#include <gfplab/gfp_layout.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace decode {

// Exit status for bad input (unknown version, config, flag name, unparseable mask).
inline constexpr int exit_bad_input = 2;

// The kernel the user asked for: one layout, or none for "--kernel auto".
struct target {
    const gfplab::gfp_layout *layout = nullptr; // nullptr: choose per mask
    gfplab::kconfig config;
};

// --- auto_era.cpp ----------------------------------------------------------------------

// A mask read with the layout that explains it best.
struct auto_choice {
    const gfplab::gfp_layout *layout = nullptr;
    gfp_t mask = 0;
};

// Reads text with every released kernel's layout and keeps the one whose %pGg names every
// bit with the fewest names (ties: newest era, then a long-term kernel, then newest release).
// nullopt when no layout can parse the text.
std::optional<auto_choice> pick_layout(std::string_view text, const gfplab::kconfig &cfg);

// Decodes an already known mask value the same way (used for masks read from logs).
const gfplab::gfp_layout *pick_layout_for(gfp_t mask, const gfplab::kconfig &cfg);

// "4.18-5.0 (4.19)": the era and the release whose layout was used.
std::string era_label(const gfplab::gfp_layout &layout);

// Calls fn(version) for every release inside the era, oldest first.
template <typename Fn>
void for_each_release(const gfplab::gfp_era &era, Fn &&fn);

// --- explain.cpp -----------------------------------------------------------------------

// The --explain lines for a mask: one per single flag, leftover bits, zone, migratetype.
std::vector<std::string> explain_lines(const gfplab::gfp_layout &layout, gfp_t mask);

// --- mask.cpp --------------------------------------------------------------------------

// "6.12 (config SLAB_OBJ_EXT)" for eras whose bits move with the config, else "4.19".
std::string kernel_label(const gfplab::gfp_layout &layout);

// Bits of mask that this layout does not define (printed as hex leftovers by the kernel).
gfp_t unknown_bits(const gfplab::gfp_layout &layout, gfp_t mask);

// Decodes each MASK argument to stdout (one JSON document with json); returns the exit
// status.
int decode_masks(const std::vector<std::string> &masks, const target &t, bool explain, bool json);

// --- log.cpp ---------------------------------------------------------------------------

// Echoes a kernel log from in to stdout with each GFP mask annotated; returns the exit
// status. fallback is used for lines no version mention in the log is near.
int annotate_log(std::FILE *in, const target &fallback);

// --- implementation of the template ----------------------------------------------------

template <typename Fn>
void for_each_release(const gfplab::gfp_era &era, Fn &&fn) {
    for (int major = era.first.major; major <= era.last.major; ++major) {
        for (int minor = 0; minor <= 20; ++minor) {
            const gfplab::kernel_version v{major, minor};
            if (v < era.first || era.last < v || !v.released())
                continue;
            fn(v);
        }
    }
}

} // namespace decode
