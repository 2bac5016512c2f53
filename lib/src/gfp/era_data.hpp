// SPDX-License-Identifier: MIT
//
// era_data.hpp - private: the shape of the per-era GFP data (eras.cpp) that the layout
// registry (layout.cpp) turns into gfp_layout objects. Not installed.
#pragma once

#include <gfplab/gfp_layout.hpp>

#include <span>
#include <string_view>

namespace gfplab::detail {

// The kernel option that decides whether a flag exists (value 0 when the option is off).
enum class gfp_option : unsigned char { always, kasan_hw_tags, lockdep, slab_obj_ext };

// Inclusive version bounds of a data entry inside its era; the defaults cover every kernel.
struct version_span {
    kernel_version since{0, 0};
    kernel_version until{999, 999};
    constexpr bool contains(kernel_version v) const noexcept { return since <= v && v <= until; }
};

// One ___GFP_* bit, spelled as its __GFP_* name. In enum eras value is ignored: the bit is
// the next free one (or none, for holes with an empty name) in list order.
struct flag_def {
    std::string_view name;
    gfp_t value;
    gfp_option option = gfp_option::always;
    version_span versions = {};
};

// A composite or helper mask, written as the kernel's header writes it: names of flags and
// earlier masks combined with | & ~ and parentheses (and __GFP_BITS_MASK).
struct mask_def {
    std::string_view name;
    std::string_view expr;
    version_span versions = {};
};

// One %pGg table entry: what is printed, and the mask it stands for (expr empty: the
// name itself). Entries whose mask names something the kernel lacks, or that evaluate to 0,
// are left out (the kernel's table never holds a 0 entry: it would always match).
struct print_def {
    std::string_view name;
    std::string_view expr = {};
    version_span versions = {};
};

// __GFP_BITS_SHIFT: shift, plus one when CONFIG_LOCKDEP is on (IS_ENABLED(CONFIG_LOCKDEP)).
struct shift_def {
    int shift;
    bool plus_lockdep;
    version_span versions = {};
};

struct era_def {
    gfp_era summary;
    bool enumerated;             // 6.10+: bits numbered by an enum
    kernel_version pgg_since;    // first version whose printk has %pGg (hex_only before)
    std::string_view zero_print; // what the name table prints for 0 ("" for %pGg)
    std::span<const flag_def> flags;
    std::span<const mask_def> composites;
    std::span<const mask_def> helpers; // mm-internal masks: value_of only, never printed
    std::span<const print_def> print_table;
    std::span<const shift_def> shifts; // empty for enum eras (shift = bits allocated)
};

std::span<const era_def> gfp_era_data() noexcept;

} // namespace gfplab::detail
