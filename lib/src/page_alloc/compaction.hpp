// SPDX-License-Identifier: MIT
//
// Direct compaction's decisions (mm/compaction.c of 6.12, the kernel built with
// CONFIG_COMPACTION=y). The model moves no pages: it has no page migration, so a compaction
// run can only find that a suitable block is already free (COMPACT_SUCCESS) or scan the whole
// zone in vain (COMPACT_COMPLETE). Everything that decides whether a run happens, and what
// the slow path does with its result, is 6.12's: compaction_suitable() and its order-0
// watermark with compact_gap(), the fragmentation index for costly orders, deferral after
// failures, and should_compact_retry()'s escalation of the priority. Memory that cannot be
// compacted therefore ends a non-costly request after bounded retries, as it does in 6.12.
// Private to the page allocator.
#pragma once

#include "../internal.hpp"

namespace gfplab {

// How hard compaction tries; lower is harder (6.12 enum compact_priority).
enum compact_priority : int {
    COMPACT_PRIO_SYNC_FULL,
    MIN_COMPACT_PRIORITY = COMPACT_PRIO_SYNC_FULL,
    COMPACT_PRIO_SYNC_LIGHT,
    MIN_COMPACT_COSTLY_PRIORITY = COMPACT_PRIO_SYNC_LIGHT,
    DEF_COMPACT_PRIORITY = COMPACT_PRIO_SYNC_LIGHT,
    COMPACT_PRIO_ASYNC,
    INIT_COMPACT_PRIORITY = COMPACT_PRIO_ASYNC,
};

// What a compaction attempt concluded, in the kernel's order (larger is "further"; the
// zonelist's result is the maximum over its zones).
enum compact_result : int {
    COMPACT_NOT_SUITABLE_ZONE,
    COMPACT_SKIPPED,
    COMPACT_DEFERRED,
    COMPACT_NO_SUITABLE_PAGE,
    COMPACT_CONTINUE,
    COMPACT_COMPLETE,
    COMPACT_PARTIAL_SKIPPED,
    COMPACT_CONTENDED,
    COMPACT_SUCCESS,
};

// Retries with a successful compaction before the OOM killer is the only way on.
inline constexpr int MAX_COMPACT_RETRIES = 16;
// Deferral never skips more than 1 << COMPACT_MAX_DEFER_SHIFT attempts.
inline constexpr unsigned COMPACT_MAX_DEFER_SHIFT = 6;

// 6.12 fragmentation_index(): -1000 when a block of the order is free; otherwise 0 (failure
// would be for lack of memory) to 1000 (for fragmentation), from the zone's free blocks.
int fragmentation_index(const zone &z, unsigned order) noexcept;
// __compaction_suitable(): the order-0 watermark (min, low for costly orders) plus the gap,
// against wmark_target free pages.
bool compaction_suitable_target(const zone &z, unsigned order, zone_type highest_zoneidx,
                                long wmark_target) noexcept;
// compaction_suitable(): the above with the zone's free pages, and for costly orders only
// when the fragmentation index says the failure is fragmentation (above extfrag_threshold).
bool compaction_suitable(const zone &z, unsigned order, zone_type highest_zoneidx) noexcept;
// compaction_zonelist_suitable(): would some zone pass with a share of its reclaimable pages?
bool compaction_zonelist_suitable(System &s, const alloc_context &ac, unsigned order) noexcept;

// defer_compaction(), compaction_deferred(), compaction_defer_reset().
void defer_compaction(zone &z, unsigned order) noexcept;
bool compaction_deferred(zone &z, unsigned order) noexcept;
void compaction_defer_reset(zone &z, unsigned order, bool alloc_success) noexcept;

// try_to_compact_pages(): every eligible zone in turn, deferred ones skipped above
// MIN_COMPACT_PRIORITY; the maximum result.
compact_result try_to_compact_pages(System &s, gfp_t gfp, unsigned order, unsigned alloc_flags,
                                    const alloc_context &ac, compact_priority prio);

// __alloc_pages_direct_compact(): compaction, then the free lists; counts compact_stall,
// compact_success and compact_fail as 6.12 counts them.
page *alloc_pages_direct_compact(System &s, gfp_t gfp, unsigned order, unsigned alloc_flags,
                                 const alloc_context &ac, compact_priority prio,
                                 compact_result *result);

// should_compact_retry() with CONFIG_COMPACTION: retry while compaction was skipped for want
// of order-0 pages that reclaim could provide, a bounded number of times after a success,
// and otherwise once per priority level left.
bool should_compact_retry(System &s, const alloc_context &ac, unsigned order, compact_result result,
                          compact_priority *prio, int *retries);

} // namespace gfplab
