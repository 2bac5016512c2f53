// SPDX-License-Identifier: MIT
//
// --explain: what each flag of a mask means, and which zone and migratetype the allocator
// derives from it. The zone and mobility bits moved between eras (RECLAIMABLE was 0x80000
// in 3.x) but gfp_zone() and the migratetype mapping kept their logic, so an old mask is
// translated onto the model's bits and run through the model's own helpers.
#include "decode.hpp"

#include <gfplab/gfp.hpp>

#include <fmt/format.h>

namespace decode {
namespace {

using gfplab::gfp_layout;

// The enum spellings, which are what a reader greps the kernel for.
std::string_view zone_enum_name(zone_type z) {
    switch (z) {
    case ZONE_DMA:
        return "ZONE_DMA";
    case ZONE_DMA32:
        return "ZONE_DMA32";
    case ZONE_NORMAL:
        return "ZONE_NORMAL";
    case ZONE_MOVABLE:
        return "ZONE_MOVABLE";
    default:
        return "ZONE_?";
    }
}

std::string_view migratetype_enum_name(migratetype mt) {
    switch (mt) {
    case MIGRATE_UNMOVABLE:
        return "MIGRATE_UNMOVABLE";
    case MIGRATE_MOVABLE:
        return "MIGRATE_MOVABLE";
    case MIGRATE_RECLAIMABLE:
        return "MIGRATE_RECLAIMABLE";
    default:
        return "MIGRATE_?";
    }
}

// The era's value of one flag, 0 when that kernel does not have it.
gfp_t era_bit(const gfp_layout &layout, std::string_view name) {
    return layout.value_of(name).value_or(0);
}

struct bit_pair {
    std::string_view name;
    gfp_t model;
};

// The bits gfp_zone() and the mobility mapping read, with the model's values.
constexpr bit_pair placement_bits[] = {
    {"__GFP_DMA", __GFP_DMA},
    {"__GFP_HIGHMEM", __GFP_HIGHMEM},
    {"__GFP_DMA32", __GFP_DMA32},
    {"__GFP_MOVABLE", __GFP_MOVABLE},
    {"__GFP_RECLAIMABLE", __GFP_RECLAIMABLE},
};

// The era's placement bits of mask, moved to where the model keeps them.
gfp_t to_model_placement(const gfp_layout &layout, gfp_t mask) {
    gfp_t model = 0;
    for (const auto &bit : placement_bits) {
        const gfp_t era = era_bit(layout, bit.name);
        if (era != 0 && (mask & era) == era)
            model |= bit.model;
    }
    return model;
}

// "__GFP_DMA|__GFP_HIGHMEM": the placement bits of a model mask, for naming bad combinations.
std::string placement_names(gfp_t model, gfp_t which) {
    std::string out;
    for (const auto &bit : placement_bits) {
        if ((model & which & bit.model) == 0)
            continue;
        if (!out.empty())
            out += '|';
        out += bit.name;
    }
    return out;
}

std::string zone_line(gfp_t model) {
    const auto zone = gfplab::gfp_zone_checked(model);
    if (!zone)
        return fmt::format("zone: bad combination {} (GFP_ZONE_BAD: VM_BUG_ON with "
                           "CONFIG_DEBUG_VM, otherwise the lowest zone)",
                           placement_names(model, GFP_ZONEMASK));
    std::string line = fmt::format("zone: {}", zone_enum_name(*zone));
    // The model is x86-64, where OPT_ZONE_HIGHMEM falls back to ZONE_NORMAL.
    if ((model & __GFP_HIGHMEM) != 0 && *zone == ZONE_NORMAL)
        line += " (ZONE_HIGHMEM on kernels that have it, e.g. 32-bit)";
    return line;
}

std::string migratetype_line(gfp_t model) {
    if ((model & GFP_MOVABLE_MASK) == GFP_MOVABLE_MASK)
        return fmt::format("migratetype: bad combination {} (VM_WARN_ON: the index lands past "
                           "the per-CPU types)",
                           placement_names(model, GFP_MOVABLE_MASK));
    return fmt::format("migratetype: {}", migratetype_enum_name(gfplab::gfp_migratetype(model)));
}

std::string flag_line(std::string_view name, gfp_t value) {
    std::string_view meaning = gfplab::gfp_flag_meaning(name);
    if (meaning.empty())
        meaning = "(no description)";
    return fmt::format("{:<22} {:>#10x}  {}", name, value, meaning);
}

} // namespace

std::vector<std::string> explain_lines(const gfp_layout &layout, gfp_t mask) {
    std::vector<std::string> lines;
    for (const auto &flag : layout.flags())
        if (flag.value != 0 && (mask & flag.value) == flag.value)
            lines.push_back(flag_line(flag.name, flag.value));
    if (const gfp_t unknown = unknown_bits(layout, mask); unknown != 0)
        lines.push_back(fmt::format("{:<22} {:>#10x}  not a GFP bit in {}", "?", unknown,
                                    kernel_label(layout)));
    const gfp_t model = to_model_placement(layout, mask);
    lines.push_back(zone_line(model));
    lines.push_back(migratetype_line(model));
    return lines;
}

} // namespace decode
