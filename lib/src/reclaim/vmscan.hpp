// SPDX-License-Identifier: MIT
//
// Page reclaim (mm/vmscan.c 6.12, reduced): scan_control, shrink_node, try_to_free_pages,
// the reclaim_state that credits pages freed while reclaiming, kswapd and the balance
// tests it works towards. Private to the library.
#pragma once

#include "../page_alloc/page_allocator.hpp"

#include <gfplab/system.hpp>
#include <gfplab/watermark.hpp>

namespace gfplab {

inline constexpr int DEF_PRIORITY = 12;
inline constexpr int MAX_RECLAIM_RETRIES = 16;

struct scan_control {
    gfp_t gfp_mask = GFP_KERNEL; // what reclaim may do (the scoped mask of the allocation)
    unsigned order = 0;
    int priority = DEF_PRIORITY; // scan 1/2^priority of what is reclaimable per pass
    zone_type reclaim_idx = ZONE_MOVABLE;
    unsigned long nr_to_reclaim = SWAP_CLUSTER_MAX;
    unsigned long nr_reclaimed = 0;
    unsigned long nr_scanned = 0;
    bool may_writepage = true;
};

// Pages freed by this thread while it reclaims (shrinkers freeing objects free pages) are
// credited to the reclaim in progress (the kernel's current->reclaim_state).
struct reclaim_state {
    unsigned long reclaimed = 0;
};
reclaim_state *current_reclaim_state() noexcept;
void set_current_reclaim_state(reclaim_state *rs) noexcept;

// Reclaims from node nid with sc: the page-cache LRUs, then the shrinkers, crediting
// sc.nr_reclaimed and sc.nr_scanned.
void shrink_node(System &s, int nid, scan_control &sc);

// Direct reclaim (try_to_free_pages / do_try_to_free_pages): SWAP_CLUSTER_MAX pages from the
// nodes of the zonelist, priority falling from DEF_PRIORITY until enough came back.
unsigned long try_to_free_pages(System &s, const alloc_context &ac, gfp_t gfp, unsigned order);

// Pages reclaim could still free in a zone (file LRU pages, and anon ones while swap has
// room).
unsigned long zone_reclaimable_pages(const zone &z) noexcept;

// zone_watermark_ok_safe(): the exact count (snapshot) when the cheap one is close to the
// watermarks, for kswapd's balance decisions.
bool zone_watermark_ok_safe(const zone &z, unsigned order, unsigned long mark,
                            zone_type highest_zoneidx);
// pgdat_balanced(): some eligible zone of the node is above its high watermark.
bool pgdat_balanced(System &s, int nid, unsigned order, zone_type highest_zoneidx);

// wakeup_kswapd() for the zone's node; wake_all_kswapds() for the nodes of a zonelist.
void wakeup_kswapd(System &s, zone &z, gfp_t gfp, unsigned order, zone_type highest_zoneidx);
void wake_all_kswapds(System &s, unsigned order, gfp_t gfp, const alloc_context &ac);

} // namespace gfplab
