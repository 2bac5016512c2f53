// SPDX-License-Identifier: MIT
//
// Direct reclaim and the node shrinking both it and kswapd use (mm/vmscan.c 6.12, reduced:
// a node's reclaimable memory is its page-cache LRUs (lru.cpp) and what its shrinkers hold).
#include "vmscan.hpp"

#include "kswapd.hpp"
#include "lru.hpp"

#include "../frames/backend.hpp"
#include "../trace/tracepoint.hpp"

#include <gfplab/scope.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/watermark.hpp>

namespace gfplab {

__thread reclaim_state *detail::t_reclaim_state = nullptr;

unsigned long zone_reclaimable_pages(System &s, const zone &z) noexcept {
    // The LRU pages reclaim could free there at all (file, and anon while swap has room).
    return s.page_cache().zone_reclaimable_pages(z.node, z.idx);
}

void shrink_node(System &s, int nid, scan_control &sc) {
    // Pages the shrinkers' frees return are credited through the reclaim state, as slab
    // pages are in the kernel (reclaim_state->reclaimed).
    reclaim_state rs;
    reclaim_state *outer = current_reclaim_state();
    set_current_reclaim_state(&rs);
    // The LRUs first, then the slab caches (shrink_node_memcgs: shrink_lruvec, shrink_slab).
    // sc.nr_scanned counts LRU pages only: the objects shrink_slab() scans are no pages
    // (6.12 shrink_node_memcgs() leaves its result out of the scan count).
    shrink_lruvec(s, nid, sc);
    s.shrinkers().shrink_slab(sc.gfp_mask, nid, sc.priority);
    set_current_reclaim_state(outer);
    if (outer)
        outer->reclaimed += rs.reclaimed;
    sc.nr_reclaimed += rs.reclaimed;
    // Any progress on the node, by whoever reclaims, makes kswapd hopeful again ("a
    // successful direct reclaim run will revive a dormant kswapd").
    if (rs.reclaimed)
        reclaim_internals::reset_kswapd_failures(s, nid);
}

unsigned long try_to_free_pages(System &s, const alloc_context &ac, gfp_t gfp, unsigned order) {
    scan_control sc;
    // The scopes decide what reclaim may touch (6.12: sc.gfp_mask = current_gfp_context()).
    sc.gfp_mask = current_gfp_context(gfp);
#ifdef GFPLAB_PLANTED_BUG_RECLAIM_IGNORES_NOFS
    // Planted bug (-Dplanted_bug, the -bug- binaries only, docs/oracle.md): direct reclaim
    // works with GFP_KERNEL's reach whatever the caller's mask and scopes said, so a
    // GFP_NOFS caller's reclaim enters the filesystem's shrinkers.
    sc.gfp_mask |= __GFP_FS | __GFP_IO;
#endif
    sc.order = order;
    sc.reclaim_idx = gfp_zone(gfp);
    sc.nr_to_reclaim = SWAP_CLUSTER_MAX;
    trace_mm_vmscan_direct_reclaim_begin(s.tracepoints(), int(order), sc.gfp_mask);
    // ALLOCSTALL, by the highest zone this reclaim may free pages in.
    s.stats().allocstall[sc.reclaim_idx].fetch_add(1, std::memory_order_relaxed);
    // do_try_to_free_pages(): each pass over the zonelist's nodes looks at twice as much.
    do {
        int last_nid = -1;
        for (zone *const *zp = ac.zonelist; *zp; zp++) {
            if ((*zp)->idx > sc.reclaim_idx || (*zp)->node == last_nid)
                continue;
            last_nid = (*zp)->node;
            shrink_node(s, last_nid, sc);
        }
        if (sc.nr_reclaimed >= sc.nr_to_reclaim)
            break;
    } while (--sc.priority >= 0);
    trace_mm_vmscan_direct_reclaim_end(s.tracepoints(), sc.nr_reclaimed);
    return sc.nr_reclaimed;
}

bool zone_watermark_ok_safe(const zone &z, unsigned order, unsigned long mark,
                            zone_type highest_zoneidx) {
    long free_pages = z.page_state(NR_FREE_PAGES);
    // Near the watermarks the per-CPU deltas can hide the truth: count exactly.
    if (z.percpu_drift_mark && static_cast<unsigned long>(free_pages) < z.percpu_drift_mark)
        free_pages = z.page_state_snapshot(NR_FREE_PAGES);
    auto probe = free_area_probe_of(z);
    return zone_watermark_ok(free_pages, order, mark, z.lowmem_reserve[highest_zoneidx], 0,
                             z.nr_free_highatomic.load(std::memory_order_relaxed), probe);
}

bool pgdat_balanced(System &s, int nid, unsigned order, zone_type highest_zoneidx) {
    bool any = false;
    for (int i = 0; i <= int(highest_zoneidx); i++) {
        const zone &z = s.node(nid).node_zones[i];
        if (!z.populated())
            continue;
        any = true;
        if (zone_watermark_ok_safe(z, order, z.high_wmark_pages(), highest_zoneidx))
            return true;
    }
    // A node with nothing eligible is as balanced as it can get.
    return !any;
}

} // namespace gfplab
