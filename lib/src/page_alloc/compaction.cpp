// SPDX-License-Identifier: MIT
//
// Direct compaction's decisions, as compaction.hpp describes: 6.12's mm/compaction.c and
// the compaction half of __alloc_pages_slowpath(), with a compaction run that migrates
// nothing.
#include "compaction.hpp"

#include "../frames/backend.hpp"

#include <gfplab/alloc_flags.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/system.hpp>
#include <gfplab/watermark.hpp>

#include <algorithm>

namespace gfplab {
namespace {

// vm.extfrag_threshold's default: costly orders compact only when the fragmentation index
// is above it.
constexpr int sysctl_extfrag_threshold = 500;

bool eligible(const zone &z, const alloc_context &ac) noexcept {
    return z.idx <= ac.highest_zoneidx && z.populated();
}

// __compact_finished()'s test for a direct compactor: a free block of the order or larger on
// the request's lists, or one a fallback would claim.
bool suitable_page_free(const zone &z, unsigned order, migratetype mt) noexcept {
    for (unsigned o = order; o < NR_PAGE_ORDERS; o++) {
        if (z.frames->has_block(o, mt))
            return true;
        bool can_steal = false;
        if (z.frames->find_suitable_fallback(o, mt, true, can_steal) != -1)
            return true;
    }
    return false;
}

// compact_zone() for a direct compactor. compaction_suit_allocation_order() first: the
// request would already pass its watermark (success), or compaction would lack order-0
// targets (skipped). Otherwise the run itself: the model migrates no page, so the scanners
// always meet; the run succeeds only if a suitable block is free by then, and otherwise it
// has scanned the whole zone (the cached scanner positions restart at the zone's start after
// every run that completes, so every run covers the whole zone).
compact_result compact_zone(const zone &z, unsigned order, unsigned alloc_flags,
                            const alloc_context &ac) noexcept {
    auto probe = free_area_probe_of(z);
    const unsigned long mark = z.wmark_pages(zone_watermarks(alloc_flags & ALLOC_WMARK_MASK));
    if (zone_watermark_ok(z.page_state(NR_FREE_PAGES), order, mark,
                          z.lowmem_reserve[ac.highest_zoneidx], alloc_flags,
                          z.nr_free_highatomic.load(std::memory_order_relaxed), probe))
        return COMPACT_SUCCESS;
    if (!compaction_suitable(z, order, ac.highest_zoneidx))
        return COMPACT_SKIPPED;
    return suitable_page_free(z, order, ac.mt) ? COMPACT_SUCCESS : COMPACT_COMPLETE;
}

} // namespace

const char *compact_result_name(int r) noexcept {
    static constexpr const char *names[] = {
        "COMPACT_NOT_SUITABLE_ZONE", "COMPACT_SKIPPED",   "COMPACT_DEFERRED",
        "COMPACT_NO_SUITABLE_PAGE",  "COMPACT_CONTINUE",  "COMPACT_COMPLETE",
        "COMPACT_PARTIAL_SKIPPED",   "COMPACT_CONTENDED", "COMPACT_SUCCESS"};
    return r >= 0 && unsigned(r) < std::size(names) ? names[r] : "none";
}

int fragmentation_index(const zone &z, unsigned order) noexcept {
    // fill_contig_page_info(): free blocks, free pages and blocks big enough, all orders.
    unsigned long blocks_total = 0, free_pages = 0, blocks_suitable = 0;
    for (unsigned o = 0; o < NR_PAGE_ORDERS; o++) {
        const unsigned long blocks = z.frames->nr_free_blocks(o);
        blocks_total += blocks;
        free_pages += blocks << o;
        if (o >= order)
            blocks_suitable += blocks << (o - order);
    }
    if (!blocks_total)
        return 0;
    // The index only means something when the request would fail.
    if (blocks_suitable)
        return -1000;
    const unsigned long requested = 1ul << order;
    return int(1000 - (1000 + free_pages * 1000 / requested) / blocks_total);
}

bool compaction_suitable_target(const zone &z, unsigned order, zone_type highest_zoneidx,
                                long wmark_target) noexcept {
    // Costly orders ask for the low watermark, to improve their odds; ALLOC_CMA is what the
    // kernel passes and changes nothing here (no CMA).
    unsigned long mark =
        order > PAGE_ALLOC_COSTLY_ORDER ? z.low_wmark_pages() : z.min_wmark_pages();
    mark += compact_gap(order);
    return zone_watermark_ok(wmark_target, 0, mark, z.lowmem_reserve[highest_zoneidx], ALLOC_CMA,
                             z.nr_free_highatomic.load(std::memory_order_relaxed));
}

bool compaction_suitable(const zone &z, unsigned order, zone_type highest_zoneidx) noexcept {
    if (!compaction_suitable_target(z, order, highest_zoneidx, z.page_state(NR_FREE_PAGES)))
        return false;
    // For costly orders, only a failure that fragmentation explains is worth compacting for.
    if (order > PAGE_ALLOC_COSTLY_ORDER) {
        const int fragindex = fragmentation_index(z, order);
        if (fragindex >= 0 && fragindex <= sysctl_extfrag_threshold)
            return false;
    }
    return true;
}

bool compaction_zonelist_suitable(System &s, const alloc_context &ac, unsigned order) noexcept {
    // Only a share of what reclaim could free counts: thrashing the page cache for one
    // high-order block that may still not appear is not worth it.
    for (zone *const *zp = ac.zonelist; *zp; zp++) {
        const zone &z = **zp;
        if (!eligible(z, ac))
            continue;
        const long available =
            long(zone_reclaimable_pages(s, z) / order) + z.page_state_snapshot(NR_FREE_PAGES);
        if (compaction_suitable_target(z, order, ac.highest_zoneidx, available))
            return true;
    }
    return false;
}

// The deferral counters are racy in the kernel too ("race-prone but harmless"): relaxed.
void defer_compaction(zone &z, unsigned order) noexcept {
    z.compact_considered.store(0, std::memory_order_relaxed);
    const unsigned shift = z.compact_defer_shift.load(std::memory_order_relaxed) + 1;
    z.compact_defer_shift.store(std::min(shift, COMPACT_MAX_DEFER_SHIFT),
                                std::memory_order_relaxed);
    if (int(order) < z.compact_order_failed.load(std::memory_order_relaxed))
        z.compact_order_failed.store(int(order), std::memory_order_relaxed);
}

bool compaction_deferred(zone &z, unsigned order) noexcept {
    if (int(order) < z.compact_order_failed.load(std::memory_order_relaxed))
        return false;
    const unsigned limit = 1u << z.compact_defer_shift.load(std::memory_order_relaxed);
    const unsigned considered = z.compact_considered.load(std::memory_order_relaxed) + 1;
    if (considered >= limit) {
        z.compact_considered.store(limit, std::memory_order_relaxed);
        return false;
    }
    z.compact_considered.store(considered, std::memory_order_relaxed);
    return true;
}

void compaction_defer_reset(zone &z, unsigned order, bool alloc_success) noexcept {
    if (alloc_success) {
        z.compact_considered.store(0, std::memory_order_relaxed);
        z.compact_defer_shift.store(0, std::memory_order_relaxed);
    }
    if (int(order) >= z.compact_order_failed.load(std::memory_order_relaxed))
        z.compact_order_failed.store(int(order) + 1, std::memory_order_relaxed);
}

compact_result try_to_compact_pages(System &, gfp_t gfp, unsigned order, unsigned alloc_flags,
                                    const alloc_context &ac, compact_priority prio) {
    compact_result rc = COMPACT_SKIPPED;
    if (!gfp_compaction_allowed(gfp))
        return rc;
    for (zone *const *zp = ac.zonelist; *zp; zp++) {
        zone &z = **zp;
        if (!eligible(z, ac))
            continue;
        if (prio > MIN_COMPACT_PRIORITY && compaction_deferred(z, order)) {
            rc = std::max(COMPACT_DEFERRED, rc);
            continue;
        }
        const compact_result status = compact_zone(z, order, alloc_flags, ac);
        rc = std::max(status, rc);
        if (status == COMPACT_SUCCESS) {
            // Expected to succeed here, not certain: the caller confirms with `true`.
            compaction_defer_reset(z, order, false);
            break;
        }
        // A synchronous run that found nothing defers the next ones in this zone.
        if (prio != COMPACT_PRIO_ASYNC &&
            (status == COMPACT_COMPLETE || status == COMPACT_PARTIAL_SKIPPED))
            defer_compaction(z, order);
    }
    return rc;
}

page *alloc_pages_direct_compact(System &s, gfp_t gfp, unsigned order, unsigned alloc_flags,
                                 const alloc_context &ac, compact_priority prio,
                                 compact_result *result) {
    if (!order)
        return nullptr;
    // Compaction runs as PF_MEMALLOC: its own allocations must not recurse into reclaim.
    const unsigned noreclaim = memalloc_noreclaim_save();
    *result = try_to_compact_pages(s, gfp, order, alloc_flags, ac, prio);
    memalloc_noreclaim_restore(noreclaim);
    if (*result == COMPACT_SKIPPED)
        return nullptr;
    // Compaction ran (or was deferred) in at least one zone: that is a compaction stall.
    s.stats().compact_stall.fetch_add(1, std::memory_order_relaxed);
    page *p = get_page_from_freelist(s, gfp, order, alloc_flags, ac);
    if (p) {
        compaction_defer_reset(s.page_zone(p), order, true);
        s.stats().compact_success.fetch_add(1, std::memory_order_relaxed);
        return p;
    }
    s.stats().compact_fail.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
}

bool should_compact_retry(System &s, const alloc_context &ac, unsigned order, compact_result result,
                          compact_priority *prio, int *retries) {
    if (!order)
        return false;
    // Skipped for want of order-0 targets: worth it only if reclaim can still provide them.
    if (result == COMPACT_SKIPPED)
        return compaction_zonelist_suitable(s, ac, order);
    // A success that lost the page to a race: retry a bounded number of times (costly orders,
    // which may fail, a quarter as many).
    if (result == COMPACT_SUCCESS) {
        const int max_retries =
            order > PAGE_ALLOC_COSTLY_ORDER ? MAX_COMPACT_RETRIES / 4 : MAX_COMPACT_RETRIES;
        if (++*retries <= max_retries)
            return true;
    }
    // Failed: try harder, once per priority level left.
    const compact_priority min_priority =
        order > PAGE_ALLOC_COSTLY_ORDER ? MIN_COMPACT_COSTLY_PRIORITY : MIN_COMPACT_PRIORITY;
    if (*prio > min_priority) {
        *prio = compact_priority(*prio - 1);
        *retries = 0;
        return true;
    }
    return false;
}

} // namespace gfplab
