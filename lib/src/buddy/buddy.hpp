// SPDX-License-Identifier: MIT
//
// The buddy allocator of one zone (mm/page_alloc.c 6.12: __rmqueue_smallest, expand,
// __rmqueue_fallback, steal_suitable_fallback, __free_one_page, the highatomic reserve).
// Every function here runs with zone->lock held; callers take it.
#pragma once

#include <gfplab/zone.hpp>

namespace gfplab::buddy {

// Free list primitives. The page must be the head of a free block of `order`.
void add_to_free_list(zone &z, page *p, unsigned order, migratetype mt, bool tail);
void del_page_from_free_list(zone &z, page *p, unsigned order, migratetype mt);
page *get_page_from_free_area(zone &z, unsigned order, migratetype mt);

// __rmqueue(): a block of exactly `order` from mt's lists, splitting a larger one if needed,
// else from another migratetype by the fallback rules (what rmqueue_bulk() refills the
// per-CPU lists with). nullptr when the zone has nothing.
page *rmqueue_one(zone &z, unsigned order, migratetype mt, unsigned alloc_flags);

// rmqueue_buddy(): rmqueue_one with the highatomic reserve rules: ALLOC_HIGHATOMIC tries
// the reserve first, ALLOC_OOM|ALLOC_NON_BLOCK dip into it last.
page *rmqueue(zone &z, unsigned order, migratetype mt, unsigned alloc_flags);

// Returns a block to the free lists, merging with free buddies (the pfn's pageblock type
// decides the list).
void free_one_page(zone &z, page *p, unsigned long pfn, unsigned order);

// Turns the pageblock holding p into a MIGRATE_HIGHATOMIC reserve if the zone is below its
// 1% limit (after a successful ALLOC_HIGHATOMIC allocation).
void reserve_highatomic_pageblock(zone &z, page *p, unsigned order);
// Gives one highatomic pageblock back to migratetype `to` (unless only one pageblock is
// reserved and not `force`); returns whether a block was released. Used before OOM.
bool unreserve_highatomic_pageblock(zone &z, bool force, migratetype to);

// Free pages of order >= `order` on the given list (for the watermark check's block search).
inline bool free_area_has_block(const zone &z, unsigned order, migratetype mt) {
    for (unsigned o = order; o < NR_PAGE_ORDERS; o++)
        if (z.area[o].has(mt))
            return true;
    return false;
}

} // namespace gfplab::buddy
