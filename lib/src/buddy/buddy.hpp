// SPDX-License-Identifier: MIT
//
// The buddy allocator of one zone (mm/page_alloc.c 6.12: __rmqueue_smallest, expand,
// __rmqueue_fallback, steal_suitable_fallback, __free_one_page, the highatomic reserve).
// Every function here runs with zone->lock held (zone_lock_guard): the annotations let
// clang check it, and lockdep_assert_held() checks it at run time where 6.12 does.
// The buddy knows its zone and nothing above it: the CPU comes from the lock holder, the
// boost factor from the zone.
#pragma once

#include <gfplab/zone.hpp>

namespace gfplab::buddy {

// The order in which another migratetype's pages are taken when mt's lists are empty.
inline constexpr migratetype fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1] = {
    /* UNMOVABLE */ {MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE},
    /* MOVABLE */ {MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE},
    /* RECLAIMABLE */ {MIGRATE_UNMOVABLE, MIGRATE_MOVABLE},
};

// can_steal_fallback(): whether a fallback for a request of `order` and type start_mt may
// take over the whole pageblock rather than a single block.
bool can_steal_fallback(unsigned order, migratetype start_mt) noexcept;

// Free list primitives. The page must be the head of a free block of `order`.
void add_to_free_list(zone &z, page *p, unsigned order, migratetype mt, bool tail)
    GFPLAB_REQUIRES(z.lock);
void del_page_from_free_list(zone &z, page *p, unsigned order, migratetype mt)
    GFPLAB_REQUIRES(z.lock);
page *get_page_from_free_area(zone &z, unsigned order, migratetype mt) GFPLAB_REQUIRES(z.lock);

// __rmqueue(): a block of exactly `order` from mt's lists, splitting a larger one if needed,
// else from another migratetype by the fallback rules (what rmqueue_bulk() refills the
// per-CPU lists with). nullptr when the zone has nothing.
page *rmqueue_one(zone &z, unsigned order, migratetype mt, unsigned alloc_flags)
    GFPLAB_REQUIRES(z.lock);

// rmqueue_buddy(): rmqueue_one with the highatomic reserve rules: ALLOC_HIGHATOMIC tries
// the reserve first, ALLOC_OOM|ALLOC_NON_BLOCK dip into it last.
page *rmqueue(zone &z, unsigned order, migratetype mt, unsigned alloc_flags)
    GFPLAB_REQUIRES(z.lock);

// Returns a block to the free lists, merging with free buddies (the pfn's pageblock type
// decides the list).
void free_one_page(zone &z, page *p, unsigned long pfn, unsigned order) GFPLAB_REQUIRES(z.lock);

// find_suitable_fallback(): the first migratetype mt falls back to that has a free block of
// exactly `order`; with only_stealable, only one whose pageblock mt may claim whole
// (compaction's "a fallback would do" test). -1 when none. Reads the counts without the lock.
int find_suitable_fallback(const zone &z, unsigned order, migratetype mt, bool only_stealable,
                           bool &can_steal) noexcept;
// Turns the pageblock holding p into a MIGRATE_HIGHATOMIC reserve if the zone is below its
// 1% limit (after a successful ALLOC_HIGHATOMIC allocation); zones whose 1% is below a
// pageblock keep no reserve.
void reserve_highatomic_pageblock(zone &z, page *p, unsigned order) GFPLAB_REQUIRES(z.lock);
// Gives one highatomic pageblock back to migratetype `to` (unless only one pageblock is
// reserved and not `force`); returns whether a block was released. Used before OOM.
bool unreserve_highatomic_pageblock(zone &z, bool force, migratetype to) GFPLAB_REQUIRES(z.lock);

} // namespace gfplab::buddy
