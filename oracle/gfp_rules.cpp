// SPDX-License-Identifier: MIT
//
// oracle/gfp_rules.cpp - the reference oracle's GFP rules (see gfp_rules.hpp). Each rule is
// spelled out from 6.12's description of it, in a different form from the library's (no
// packed zone table, no ALLOC_* bits), so that the two cannot share a mistake.

#include "gfp_rules.hpp"

#include <algorithm>

namespace gfplab::ref {

int highest_zone(gfp_t gfp) noexcept {
    const bool dma = gfp & __GFP_DMA, dma32 = gfp & __GFP_DMA32, high = gfp & __GFP_HIGHMEM;
    const bool movable = gfp & __GFP_MOVABLE;
    // At most one zone modifier; __GFP_MOVABLE combines with any of them.
    if (int(dma) + int(dma32) + int(high) > 1)
        return -1;
    if (dma)
        return ZONE_DMA;
    if (dma32)
        return ZONE_DMA32;
    // Without CONFIG_HIGHMEM __GFP_HIGHMEM means ZONE_NORMAL, except that together with
    // __GFP_MOVABLE (GFP_HIGHUSER_MOVABLE) it is what reaches ZONE_MOVABLE.
    if (high && movable)
        return ZONE_MOVABLE;
    return ZONE_NORMAL;
}

int migratetype(gfp_t gfp) noexcept {
    const bool movable = gfp & __GFP_MOVABLE, reclaimable = gfp & __GFP_RECLAIMABLE;
    if (movable && reclaimable)
        return -1;
    return movable ? MIGRATE_MOVABLE : reclaimable ? MIGRATE_RECLAIMABLE : MIGRATE_UNMOVABLE;
}

gfp_t scoped_mask(gfp_t gfp, unsigned task_flags) noexcept {
    // NOIO is the weaker context and wins over NOFS; PIN is independent of both.
    if (task_flags & PF_MEMALLOC_NOIO)
        gfp &= ~(__GFP_IO | __GFP_FS);
    if (task_flags & PF_MEMALLOC_NOFS)
        gfp &= ~__GFP_FS;
    if (task_flags & PF_MEMALLOC_PIN)
        gfp &= ~__GFP_MOVABLE;
    return gfp;
}

namespace {

// Every reserve is open: __GFP_MEMALLOC, or reclaim's own context, unless the caller said
// __GFP_NOMEMALLOC (which closes the OOM victim's share too).
bool no_watermarks(gfp_t gfp, const requester &who) noexcept {
    if (gfp & __GFP_NOMEMALLOC)
        return false;
    return (gfp & __GFP_MEMALLOC) || (who.task_flags & PF_MEMALLOC);
}

long half_off(long mark) noexcept {
    return mark - mark / 2;
}

} // namespace

std::optional<long> watermark_floor(gfp_t gfp, const requester &who, unsigned long min_mark,
                                    unsigned long low_mark, bool fast_path_only) noexcept {
    // The first attempt checks the low mark and grants nothing: reserves are the slow
    // path's business.
    if (fast_path_only)
        return long(low_mark);
    if (no_watermarks(gfp, who))
        return std::nullopt;
    const long min = long(min_mark);
    long floor = min;
    // __GFP_HIGH may take half of min; a caller that also cannot sleep (GFP_ATOMIC) a
    // quarter of what is left on top, unless it refused the reserves with NOMEMALLOC.
    if (gfp & __GFP_HIGH) {
        long high = half_off(min);
        if (!(gfp & (__GFP_DIRECT_RECLAIM | __GFP_NOMEMALLOC)))
            high -= high / 4;
        floor = std::min(floor, high);
    }
    // A __GFP_NOFAIL request that may reclaim gets half of min in its last resort before
    // looping again; an OOM victim gets half of min so that it can exit.
    if ((gfp & __GFP_NOFAIL) && (gfp & __GFP_DIRECT_RECLAIM))
        floor = std::min(floor, half_off(min));
    if (who.oom_victim && !(gfp & __GFP_NOMEMALLOC))
        floor = std::min(floor, half_off(min));
    return floor;
}

const char *floor_class(gfp_t gfp, const requester &who, bool fast_path_only) noexcept {
    if (fast_path_only)
        return "low (fast path)";
    if (no_watermarks(gfp, who))
        return "none (every reserve)";
    if ((gfp & __GFP_HIGH) && !(gfp & (__GFP_DIRECT_RECLAIM | __GFP_NOMEMALLOC)))
        return "3/8 min (__GFP_HIGH, cannot sleep)";
    if ((gfp & __GFP_HIGH) || ((gfp & __GFP_NOFAIL) && (gfp & __GFP_DIRECT_RECLAIM)) ||
        (who.oom_victim && !(gfp & __GFP_NOMEMALLOC)))
        return "min/2 (__GFP_HIGH, NOFAIL or OOM victim)";
    return "min (slow path)";
}

} // namespace gfplab::ref
