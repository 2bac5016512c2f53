// SPDX-License-Identifier: MIT
//
// The model's own vocabulary: names of zones and migratetypes, and %pGg printing and
// parsing with the model's layout (Linux 6.12, SLAB_OBJ_EXT on).
#include <gfplab/gfp.hpp>

namespace gfplab {

std::string_view zone_name(zone_type z) noexcept {
    // mm/page_alloc.c zone_names[]
    switch (z) {
    case ZONE_DMA:
        return "DMA";
    case ZONE_DMA32:
        return "DMA32";
    case ZONE_NORMAL:
        return "Normal";
    case ZONE_MOVABLE:
        return "Movable";
    default:
        return "?";
    }
}

std::string_view migratetype_name(migratetype mt) noexcept {
    // mm/page_alloc.c migratetype_names[]
    switch (mt) {
    case MIGRATE_UNMOVABLE:
        return "Unmovable";
    case MIGRATE_MOVABLE:
        return "Movable";
    case MIGRATE_RECLAIMABLE:
        return "Reclaimable";
    case MIGRATE_HIGHATOMIC:
        return "HighAtomic";
    default:
        return "?";
    }
}

std::string gfp_format(gfp_t gfp) {
    return model_gfp_layout().format(gfp);
}

std::string gfp_describe(gfp_t gfp) {
    return model_gfp_layout().format_mask(gfp);
}

gfp_parse_result gfp_parse(std::string_view text) {
    return model_gfp_layout().parse(text);
}

} // namespace gfplab
