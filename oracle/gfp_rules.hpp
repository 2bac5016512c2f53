// SPDX-License-Identifier: MIT
//
// oracle/gfp_rules.hpp - the reference oracle's own statement of what a GFP mask asks for:
// the highest zone, the migratetype, the mask after the task's scopes, and the watermark
// floor each allocation class may go down to (Linux 6.12, x86-64 with ZONE_DMA and
// ZONE_DMA32, no highmem, no CMA).
//
// Written from the kernel's rules, not from the library: it uses the flag bits and the enum
// values of the public vocabulary and nothing that computes with them (no gfp_zone(), no
// gfp_to_alloc_flags(), no current_gfp_context()). A mistake in the library's table or
// arithmetic then shows as a disagreement instead of hiding behind a shared answer. The
// `oracle-independence` test keeps it that way.
#pragma once

#include <gfplab/linux/gfp_types.h>
#include <gfplab/linux/mmzone.h>
#include <gfplab/linux/sched.h>

#include <optional>

namespace gfplab::ref {

// The highest zone a mask may be served from, or -1 for a zone-modifier combination the
// kernel treats as a bug (two zone bits, or __GFP_HIGHMEM with __GFP_DMA/__GFP_DMA32).
int highest_zone(gfp_t gfp) noexcept;
// The free lists a mask allocates from: MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE or
// MIGRATE_UNMOVABLE; -1 when it names both mobility hints.
int migratetype(gfp_t gfp) noexcept;
// What the allocator works with: the mask narrowed by the scopes in task_flags
// (PF_MEMALLOC_NOIO drops IO and FS, PF_MEMALLOC_NOFS drops FS, PF_MEMALLOC_PIN drops
// MOVABLE).
gfp_t scoped_mask(gfp_t gfp, unsigned task_flags) noexcept;

// Who is asking: the parts of the task the allocator looks at besides the mask.
struct requester {
    unsigned task_flags = 0; // PF_* bits (PF_MEMALLOC: reclaim's own allocations)
    bool oom_victim = false; // marked by the OOM killer (may be, when unsure)
};

// The lowest number of free pages (before the lowmem reserve) a zone may be left above
// when it serves `gfp` (already scoped) to `who`, given its min and low watermarks:
//   fast_path_only: the request never left the fast path, which checks at low with no
//   reserve access; otherwise the least of every floor the slow path may use.
// std::nullopt: no floor (the request may use every reserve: ALLOC_NO_WATERMARKS).
std::optional<long> watermark_floor(gfp_t gfp, const requester &who, unsigned long min_mark,
                                    unsigned long low_mark, bool fast_path_only) noexcept;
// A short name of the floor's class, for reports ("low (fast path)", "min/2 (__GFP_HIGH)" ...).
const char *floor_class(gfp_t gfp, const requester &who, bool fast_path_only) noexcept;

} // namespace gfplab::ref
