// SPDX-License-Identifier: MIT
//
// gfplab/gfp_layout.hpp - GFP bit layouts of every kernel since 3.0, as data.
//
// A layout is what one kernel (a version, and for the 6.10+ enum era a configuration)
// defines: its single flags with their values, its composite masks, and the table that
// %pGg walks, in that kernel's order. Layouts are built from one table of era data
// (lib/src/gfp/eras.cpp), never from per-version code. Used to decode masks from real logs
// (gfplab-decode) and by the tests that pin the model's own layout to the kernel's values.
#pragma once

#include <gfplab/linux/gfp_types.h>

#include <compare>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gfplab {

struct kernel_version {
    int major = 6;
    int minor = 12;

    constexpr auto operator<=>(const kernel_version &) const = default;

    // Accepts "6.12", "v6.12", "6.12.3", "6.1.0-18-amd64", "4.19.0+"; nullopt otherwise.
    static std::optional<kernel_version> parse(std::string_view text);
    // A release that exists (3.0-3.19, 4.0-4.20, 5.0-5.19, 6.0 and later).
    bool released() const noexcept;
    std::string str() const; // "6.12"
};

// The kernel options that move GFP bits (only in some eras; ignored elsewhere).
struct kconfig {
    bool kasan_hw_tags = false;
    bool lockdep = false;
    bool slab_obj_ext = true; // the model's default: a distribution kernel with MEMCG

    constexpr bool operator==(const kconfig &) const = default;

    // "LOCKDEP,KASAN_HW_TAGS", "no-SLAB_OBJ_EXT", "none", "" (= defaults), with or without
    // a CONFIG_ prefix; names override the defaults. nullopt and *error on a bad name.
    static std::optional<kconfig> parse(std::string_view text, std::string *error = nullptr);
    std::string str() const; // "SLAB_OBJ_EXT" or "LOCKDEP,SLAB_OBJ_EXT" or "none"
};

// The result of parsing a mask written as names, hex, or the kernel's "%#x(%pGg)" form.
struct gfp_parse_result {
    gfp_t mask = 0;
    std::string error; // empty on success
    explicit operator bool() const noexcept { return error.empty(); }
};

// One name and its value in a layout: a single flag (one bit, or 0 when the option that
// creates it is off) or a composite mask.
struct gfp_name {
    std::string_view name;
    gfp_t value;
};

// How printk shows a mask in that kernel.
enum class gfp_print_style {
    pGg,      // "%#x(%pGg)": 4.5 and later
    hex_only, // bare "%#x": 3.x and 4.4 (names only in tracepoints)
};

class gfp_layout {
  public:
    // The era this layout belongs to, e.g. "4.18-5.0" or "6.15+", and the exact version it
    // was built for.
    std::string_view era() const noexcept { return era_; }
    kernel_version version() const noexcept { return version_; }
    const kconfig &config() const noexcept { return config_; }
    gfp_print_style print_style() const noexcept { return style_; }

    // Single flags (___GFP_* bits as __GFP_* names) with non-zero value, in bit order.
    std::span<const gfp_name> flags() const noexcept { return flags_; }
    // Composite masks (GFP_KERNEL ..., __GFP_RECLAIM) as this kernel defines them.
    std::span<const gfp_name> composites() const noexcept { return composites_; }
    // The table %pGg walks (for hex_only eras: the tracepoint's show_gfp_flags table).
    std::span<const gfp_name> print_table() const noexcept { return print_table_; }

    gfp_t known_bits() const noexcept { return known_bits_; } // OR of all single flags
    gfp_t bits_mask() const noexcept { return bits_mask_; }   // __GFP_BITS_MASK

    // A flag or composite defined by this kernel (value may be 0 for config-off flags); also
    // its mm-internal helper masks (GFP_RECLAIM_MASK ...) and __GFP_BITS_MASK.
    std::optional<gfp_t> value_of(std::string_view name) const;

    // %pGg of this kernel (for hex_only eras: the tracepoint names, never printed by printk).
    std::string format(gfp_t gfp) const;
    // What printk shows: "%#x(%pGg)" for pGg eras, "%#x" for hex_only eras.
    std::string format_mask(gfp_t gfp) const;
    // Parses names of this layout, hex, "0x..(names)" (the hex must agree with the names).
    gfp_parse_result parse(std::string_view text) const;

    // Built by the layout registry (layout.cpp); public for std::make_unique only.
    // flags may hold config-off flags (value 0): value_of knows them, flags() lists only
    // the others. other_names are names value_of also knows (mm-internal helper masks such
    // as GFP_RECLAIM_MASK); zero_print is what the name table shows for 0 (3.x tracepoints:
    // "GFP_NOWAIT"; %pGg: nothing).
    struct build_tag {};
    gfp_layout(build_tag, std::string_view era, kernel_version v, kconfig cfg, gfp_print_style s,
               std::vector<gfp_name> flags, std::vector<gfp_name> composites,
               std::vector<gfp_name> print_table, gfp_t bits_mask,
               std::vector<gfp_name> other_names = {}, std::string_view zero_print = {});

  private:
    std::string_view era_;
    kernel_version version_;
    kconfig config_;
    gfp_print_style style_;
    std::vector<gfp_name> flags_;
    std::vector<gfp_name> composites_;
    std::vector<gfp_name> print_table_;
    std::vector<gfp_name> other_names_; // config-off flags (0) and helper masks
    std::string_view zero_print_;
    gfp_t known_bits_ = 0;
    gfp_t bits_mask_ = 0;
};

// Summary of one era, oldest first, for --kernel auto and for listing.
struct gfp_era {
    std::string_view name; // "3.0-4.3", ..., "6.15+"
    kernel_version first;  // first release of the era
    kernel_version last;   // last release (for the open-ended newest era: first)
    bool config_dependent; // tail bits move with kconfig
};
std::span<const gfp_era> gfp_eras() noexcept;

// The layout of kernel v with config cfg; nullptr for versions gfplab has no data for
// (before 3.0, or not a release). Thread-safe; the layout lives until the process exits.
const gfp_layout *find_gfp_layout(kernel_version v, const kconfig &cfg = {});

// The model's own layout: 6.12, SLAB_OBJ_EXT on, LOCKDEP and KASAN_HW_TAGS off.
const gfp_layout &model_gfp_layout();

// One line saying what a flag or composite means (from the kernel's documentation, in our
// words), or an empty view for unknown names.
std::string_view gfp_flag_meaning(std::string_view name) noexcept;

} // namespace gfplab
