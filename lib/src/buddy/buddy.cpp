// SPDX-License-Identifier: MIT
//
// Splitting, merging and migratetype fallback of one zone's buddy allocator, following
// mm/page_alloc.c of Linux 6.12. zone->lock is held by the caller throughout.
#include "buddy.hpp"

#include "../trace/tracepoint.hpp"

#include <gfplab/alloc_flags.hpp>
#include <gfplab/watermark.hpp>

#include <algorithm>

namespace gfplab::buddy {
namespace {

// Freelists of these types merge with each other; HIGHATOMIC reserves stay apart.
bool migratetype_is_mergeable(migratetype mt) {
    return mt < MIGRATE_PCPTYPES;
}

unsigned long pfn_of(const zone &z, const page *p) {
    return static_cast<unsigned long>(p - z.mem_map);
}

// Puts the upper halves of a block of order `high` back on the lists until the lower part
// has order `low` (expand()).
void expand(zone &z, page *p, unsigned low, unsigned high, migratetype mt) GFPLAB_REQUIRES(z.lock) {
    unsigned long size = 1ul << high;
    while (high > low) {
        high--;
        size >>= 1;
        add_to_free_list(z, p + size, high, mt, false);
    }
}

page *rmqueue_smallest(zone &z, unsigned order, migratetype mt) GFPLAB_REQUIRES(z.lock) {
    for (unsigned o = order; o < NR_PAGE_ORDERS; o++) {
        page *p = get_page_from_free_area(z, o, mt);
        if (!p)
            continue;
        del_page_from_free_list(z, p, o, mt);
        expand(z, p, order, o, mt);
        trace_mm_page_alloc_zone_locked(z, p, order, mt);
        return p;
    }
    return nullptr;
}

void change_pageblock_range(zone &z, unsigned long pfn, unsigned order, migratetype mt) {
    unsigned long blocks = std::max(1ul, (1ul << order) >> pageblock_order);
    for (unsigned long i = 0; i < blocks; i++)
        z.set_pageblock_migratetype(pfn + (i << pageblock_order), mt);
}

struct block_census {
    unsigned long free_pages = 0;
    unsigned long movable_pages = 0;
};

// Counts the pageblock's free pages and its allocated movable pages (the kernel counts LRU
// and __PageMovable pages; the model counts allocations made as MIGRATE_MOVABLE).
block_census census_pageblock(const zone &z, unsigned long pfn) {
    block_census c;
    unsigned long start = pfn & ~(pageblock_nr_pages - 1), end = start + pageblock_nr_pages;
    for (unsigned long i = start; i < end;) {
        const page &p = z.mem_map[i];
        std::uint32_t f = p.flags.load(std::memory_order_acquire);
        if (f & PG_buddy) {
            c.free_pages += 1ul << p.order;
            i += 1ul << p.order;
            continue;
        }
        if ((f & PG_owned) && p.alloc_mt.load(std::memory_order_relaxed) == MIGRATE_MOVABLE)
            c.movable_pages++;
        i++;
    }
    return c;
}

// Moves every free block of the pageblock from list `from` to list `to` and retypes the
// pageblock (move_freepages_block()).
void move_freepages_block(zone &z, unsigned long pfn, migratetype from, migratetype to)
    GFPLAB_REQUIRES(z.lock) {
    unsigned long start = pfn & ~(pageblock_nr_pages - 1), end = start + pageblock_nr_pages;
    for (unsigned long i = start; i < end;) {
        page *p = z.mem_map + i;
        if (p->flags.load(std::memory_order_relaxed) & PG_buddy) {
            unsigned o = p->order;
            del_page_from_free_list(z, p, o, from);
            add_to_free_list(z, p, o, to, false);
            i += 1ul << o;
        } else {
            i++;
        }
    }
    z.set_pageblock_migratetype(start, to);
}

bool boost_zone_watermark(zone &z) GFPLAB_REQUIRES(z.lock) {
    auto r =
        boost_watermark(z.watermark_boost.load(std::memory_order_relaxed), z._watermark[WMARK_HIGH],
                        int(z.watermark_boost_factor), pageblock_nr_pages, z.managed_pages);
    if (r.boosted)
        z.watermark_boost.store(r.watermark_boost, std::memory_order_relaxed);
    return r.boosted;
}

page *steal_suitable_fallback(zone &z, page *p, unsigned current_order, unsigned order,
                              migratetype start_type, unsigned alloc_flags, bool whole_block)
    GFPLAB_REQUIRES(z.lock) {
    unsigned long pfn = pfn_of(z, p);
    migratetype block_type = z.pageblock_migratetype(pfn);
    z.migratetype_fallbacks.fetch_add(1, std::memory_order_relaxed);

    if (block_type != MIGRATE_HIGHATOMIC) {
        // A block of a pageblock or more changes owner whole: no fragmentation to fear.
        if (current_order >= pageblock_order) {
            del_page_from_free_list(z, p, current_order, block_type);
            change_pageblock_range(z, pfn, current_order, start_type);
            expand(z, p, order, current_order, start_type);
            return p;
        }
        // Mixing migratetypes fragments memory: boost the watermarks so kswapd reclaims
        // ahead of the next fallback.
        if (boost_zone_watermark(z) && (alloc_flags & ALLOC_KSWAPD))
            z.flags.fetch_or(ZONE_BOOSTED_WATERMARK, std::memory_order_relaxed);
        if (whole_block) {
            block_census c = census_pageblock(z, pfn);
            unsigned long alike = 0;
            if (start_type == MIGRATE_MOVABLE)
                alike = c.movable_pages;
            else if (block_type == MIGRATE_MOVABLE)
                alike = pageblock_nr_pages - (c.free_pages + c.movable_pages);
            // Claim the pageblock when at least half of it is free or already ours.
            if (c.free_pages + alike >= pageblock_nr_pages / 2) {
                move_freepages_block(z, pfn, block_type, start_type);
                return rmqueue_smallest(z, order, start_type);
            }
        }
    }
    del_page_from_free_list(z, p, current_order, block_type);
    expand(z, p, order, current_order, block_type);
    return p;
}

page *rmqueue_fallback(zone &z, unsigned order, migratetype start_mt, unsigned alloc_flags)
    GFPLAB_REQUIRES(z.lock) {
    // With ALLOC_NOFRAGMENT only whole pageblocks may be taken from other types.
    unsigned min_order = order;
    if (order < pageblock_order && (alloc_flags & ALLOC_NOFRAGMENT))
        min_order = pageblock_order;

    bool can_steal = false;
    int fb = -1;
    int current_order = MAX_PAGE_ORDER;
    // Largest first: stealing a big block keeps future fallbacks rare.
    for (; current_order >= int(min_order); --current_order) {
        fb = find_suitable_fallback(z, unsigned(current_order), start_mt, false, can_steal);
        if (fb < 0)
            continue;
        // A movable request must not break up a big unstealable block of another type if a
        // small one will do.
        if (!can_steal && start_mt == MIGRATE_MOVABLE && unsigned(current_order) > order) {
            fb = -1;
            for (current_order = int(order); current_order < NR_PAGE_ORDERS; current_order++) {
                fb = find_suitable_fallback(z, unsigned(current_order), start_mt, false, can_steal);
                if (fb >= 0)
                    break;
            }
        }
        break;
    }
    if (fb < 0)
        return nullptr;
    page *p = get_page_from_free_area(z, unsigned(current_order), migratetype(fb));
    return steal_suitable_fallback(z, p, unsigned(current_order), order, start_mt, alloc_flags,
                                   can_steal);
}

bool page_is_buddy(const zone &z, unsigned long pfn, unsigned order) {
    if (!z.contains(pfn))
        return false;
    const page &b = z.mem_map[pfn];
    return (b.flags.load(std::memory_order_acquire) & PG_buddy) && b.order == order;
}

} // namespace

bool can_steal_fallback(unsigned order, migratetype start_mt) noexcept {
    // Large blocks would be split anyway; unmovable and reclaimable allocations claim blocks
    // eagerly so they do not scatter over many movable pageblocks.
    if (order >= pageblock_order)
        return true;
    return order >= pageblock_order / 2 || start_mt == MIGRATE_RECLAIMABLE ||
           start_mt == MIGRATE_UNMOVABLE;
}

int find_suitable_fallback(const zone &z, unsigned order, migratetype mt, bool only_stealable,
                           bool &can_steal) noexcept {
    can_steal = false;
    for (migratetype fb : fallbacks[mt]) {
        if (!z.area[order].has(fb))
            continue;
        if (can_steal_fallback(order, mt))
            can_steal = true;
        if (!only_stealable || can_steal)
            return fb;
    }
    return -1;
}

page *rmqueue_one(zone &z, unsigned order, migratetype mt, unsigned alloc_flags) {
    page *p = rmqueue_smallest(z, order, mt);
    return p ? p : rmqueue_fallback(z, order, mt, alloc_flags);
}

page *rmqueue(zone &z, unsigned order, migratetype mt, unsigned alloc_flags) {
    page *p = nullptr;
    if (alloc_flags & ALLOC_HIGHATOMIC)
        p = rmqueue_smallest(z, order, MIGRATE_HIGHATOMIC);
    if (!p)
        p = rmqueue_one(z, order, mt, alloc_flags);
    // Non-blocking and OOM-victim requests may dip into the highatomic reserve last.
    if (!p && (alloc_flags & (ALLOC_OOM | ALLOC_NON_BLOCK)))
        p = rmqueue_smallest(z, order, MIGRATE_HIGHATOMIC);
    return p;
}

void free_one_page(zone &z, page *p, unsigned long pfn, unsigned order) {
    migratetype mt = z.pageblock_migratetype(pfn);
    unsigned long buddy_pfn = 0;
    while (order < MAX_PAGE_ORDER) {
        buddy_pfn = pfn ^ (1ul << order);
        if (!page_is_buddy(z, buddy_pfn, order))
            break;
        migratetype buddy_mt = mt;
        if (order >= pageblock_order) {
            // Whole pageblocks of mergeable types merge; reserves stay separate.
            buddy_mt = z.pageblock_migratetype(buddy_pfn);
            if (mt != buddy_mt &&
                (!migratetype_is_mergeable(mt) || !migratetype_is_mergeable(buddy_mt)))
                break;
        }
        del_page_from_free_list(z, z.mem_map + buddy_pfn, order, buddy_mt);
        // The merged block has one type, so later splits put its halves on one list.
        if (buddy_mt != mt)
            z.set_pageblock_migratetype(buddy_pfn, mt);
        pfn &= buddy_pfn;
        order++;
    }
    p = z.mem_map + pfn;
    // If the next larger buddy is free too, this block is likely to merge soon: put it at
    // the tail so allocations take other blocks first (buddy_merge_likely()).
    bool tail = false;
    if (order < MAX_PAGE_ORDER - 1) {
        unsigned long higher = buddy_pfn & pfn;
        tail = page_is_buddy(z, higher ^ (1ul << (order + 1)), order + 1);
    }
    add_to_free_list(z, p, order, mt, tail);
}

void reserve_highatomic_pageblock(zone &z, page *p, unsigned order) {
    // At most 1% of the zone, rounded up to a pageblock, is held for high-order atomics; a
    // zone whose 1% is less than a pageblock keeps none (ZONE_DMA, any zone under ~200 MiB).
    if (z.managed_pages / 100 < pageblock_nr_pages)
        return;
    unsigned long max_managed =
        (z.managed_pages / 100 + pageblock_nr_pages - 1) & ~(pageblock_nr_pages - 1);
    const unsigned long reserved = z.nr_reserved_highatomic.load(std::memory_order_relaxed);
    if (reserved >= max_managed)
        return;
    unsigned long pfn = pfn_of(z, p);
    migratetype mt = z.pageblock_migratetype(pfn);
    if (!migratetype_is_mergeable(mt))
        return;
    if (order < pageblock_order) {
        move_freepages_block(z, pfn, mt, MIGRATE_HIGHATOMIC);
        z.nr_reserved_highatomic.store(reserved + pageblock_nr_pages, std::memory_order_relaxed);
    } else {
        change_pageblock_range(z, pfn, order, MIGRATE_HIGHATOMIC);
        z.nr_reserved_highatomic.store(reserved + (1ul << order), std::memory_order_relaxed);
    }
}

bool unreserve_highatomic_pageblock(zone &z, bool force, migratetype to) {
    // Keep one pageblock in reserve unless this is the last attempt before OOM.
    const unsigned long reserved = z.nr_reserved_highatomic.load(std::memory_order_relaxed);
    if (!force && reserved <= pageblock_nr_pages)
        return false;
    for (unsigned order = 0; order < NR_PAGE_ORDERS; order++) {
        page *p = get_page_from_free_area(z, order, MIGRATE_HIGHATOMIC);
        if (!p)
            continue;
        unsigned long pfn = pfn_of(z, p);
        unsigned long size = std::max(pageblock_nr_pages, 1ul << order);
        z.nr_reserved_highatomic.store(reserved - std::min(size, reserved),
                                       std::memory_order_relaxed);
        if (order < pageblock_order) {
            move_freepages_block(z, pfn, MIGRATE_HIGHATOMIC, to);
        } else {
            del_page_from_free_list(z, p, order, MIGRATE_HIGHATOMIC);
            add_to_free_list(z, p, order, to, false);
            change_pageblock_range(z, pfn, order, to);
        }
        return true;
    }
    return false;
}

} // namespace gfplab::buddy
