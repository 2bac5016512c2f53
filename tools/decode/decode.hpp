// SPDX-License-Identifier: MIT
//
// gfplab-decode internals: what the command-line front end (main.cpp) hands to the mask
// decoder (mask.cpp), the era chooser (auto_era.cpp), the explainer (explain.cpp) and the
// log annotator (log.cpp).
#pragma once

#include "log_scan.hpp"

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

// Why --kernel auto took the layout it took: the winner's score, and the best layout of any
// other era (the runner-up) with the rule that put the winner ahead of it.
struct auto_reason {
    bool every_bit_named = false; // %pGg names each set bit (no hex leftovers)
    int names = 0;                // how many names it prints
    bool lts = false;             // the release is a long-term one
    std::string runner_up_era;    // empty: no other era could read the mask
    bool runner_up_every_bit_named = false;
    int runner_up_names = 0;
    // The first rule that told winner and runner-up apart: "unnamed bits", "names" or
    // "newer era"; empty without a runner-up.
    std::string decided_by;

    // One sentence: "era 4.18-5.0 names every bit with 1 name; 5.1-5.x needs 2; 4.19: its
    // newest long-term release".
    std::string summary(const gfplab::gfp_layout &winner) const;
};

// A mask read with the layout that explains it best.
struct auto_choice {
    const gfplab::gfp_layout *layout = nullptr;
    gfp_t mask = 0;
    auto_reason reason;
};

// Reads text with every released kernel's layout and keeps the one whose %pGg leaves the
// fewest bits unnamed, then prints the fewest names (ties: newest era, then a long-term
// kernel, then newest release). nullopt when no layout can parse the text.
std::optional<auto_choice> pick_layout(std::string_view text, const gfplab::kconfig &cfg);

// Decodes an already known mask value the same way (used for masks read from logs).
std::optional<auto_choice> pick_layout_for(gfp_t mask, const gfplab::kconfig &cfg);

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

// Where the layout of a mask in a log came from.
enum class layout_source {
    log,       // the nearest line that names a release ("Linux version", "Not tainted ...")
    option,    // --kernel, for a log that names no release
    automatic, // --kernel auto or nothing at all: the era that explains the mask (auto_era)
};

// One mask found in a log and how it was read.
struct log_mask {
    std::size_t line = 0; // 0-based
    mask_site site;
    const gfplab::gfp_layout *layout = nullptr; // nullptr: no layout could read it
    layout_source source = layout_source::automatic;
    std::size_t mention_line = 0;      // source == log: the line that named the release
    std::string mention_text;          // ... and how it wrote it ("4.19.0-16-amd64")
    std::optional<auto_reason> reason; // source == automatic
    bool read_with_log_names = false;  // automatic: only layouts that parse the log's names
    std::string annotation;            // " [4.19: GFP_KERNEL; layout: ...]"
    std::string why;                   // the "layout: ..." part, for JSON
    std::optional<gfplab::kconfig> config_matching; // a config printing the log's names
};

struct annotated_log {
    std::string text; // the input with every annotation inserted, nothing else changed
    std::vector<log_mask> masks;
    std::vector<std::string> warnings; // releases named that gfplab has no layout for
};

// Annotates a whole log. fallback is used for lines no version mention in the log is near.
annotated_log annotate(std::string_view log, const target &fallback);

// Echoes a kernel log from in to stdout with each GFP mask annotated, or with json one JSON
// document describing every mask; returns the exit status.
int annotate_log(std::FILE *in, const target &fallback, bool json);

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
