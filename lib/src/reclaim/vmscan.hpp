// SPDX-License-Identifier: MIT
//
// Page reclaim (mm/vmscan.c 6.12, reduced): scan_control, shrink_node, try_to_free_pages,
// the reclaim_state that credits pages freed while reclaiming, kswapd and the balance
// tests it works towards. Private to the library.
#pragma once

#include "../internal.hpp"

#include <gfplab/system.hpp>
#include <gfplab/watermark.hpp>

namespace gfplab {

inline constexpr int DEF_PRIORITY = 12;

struct scan_control {
    gfp_t gfp_mask = GFP_KERNEL; // what reclaim may do (the scoped mask of the allocation)
    unsigned order = 0;
    int priority = DEF_PRIORITY; // scan 1/2^priority of what is reclaimable per pass
    zone_type reclaim_idx = ZONE_MOVABLE;
    unsigned long nr_to_reclaim = SWAP_CLUSTER_MAX;
    unsigned long nr_reclaimed = 0;
    unsigned long nr_scanned = 0;
    bool may_writepage = true; // write dirty file pages back (and swapped-out anon)
    bool may_swap = true;      // reclaim anon pages at all (boosted kswapd runs do not)
};

// Reclaims from node nid with sc: the page-cache LRUs, then the shrinkers, crediting
// sc.nr_reclaimed and sc.nr_scanned.
void shrink_node(System &s, int nid, scan_control &sc);

// zone_watermark_ok_safe(): the exact count (snapshot) when the cheap one is close to the
// watermarks, for kswapd's balance decisions.
bool zone_watermark_ok_safe(const zone &z, unsigned order, unsigned long mark,
                            zone_type highest_zoneidx);
// pgdat_balanced(): some eligible zone of the node is above its high watermark.
bool pgdat_balanced(System &s, int nid, unsigned order, zone_type highest_zoneidx);

} // namespace gfplab
