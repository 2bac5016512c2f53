// SPDX-License-Identifier: MIT
//
// What the library's layers share that users do not see: the role of the kernel's
// mm/internal.h. The types a request carries between layers, and the functions one layer
// calls in another where the call goes up the layer order (docs/design.md): the page
// allocator's slow path entering reclaim and the oracle's checks, reclaim's last attempt
// at an allocation. Declared here so that no layer includes another's private header.
#pragma once

#include <gfplab/gfp.hpp>
#include <gfplab/memcontrol.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/zone.hpp>

namespace gfplab {

class System;
struct slowpath_trace;

// What one allocation walks: the zonelist of its preferred node, its highest zone and its
// migratetype (the kernel's struct alloc_context).
struct alloc_context {
    zone *const *zonelist = nullptr; // null-terminated, preferred node first
    zone_type highest_zoneidx = ZONE_NORMAL;
    migratetype mt = MIGRATE_UNMOVABLE;
    int preferred_nid = 0;
};

// first_zones_zonelist(): the preferred zone, the first on the zonelist the request may use
// (nullptr when none is: a __GFP_THISNODE request for a zone its node lacks).
inline zone *first_zones_zonelist(const alloc_context &ac) noexcept {
    for (zone *const *zp = ac.zonelist; *zp; zp++)
        if ((*zp)->idx <= ac.highest_zoneidx)
            return *zp;
    return nullptr;
}

// --- vmstat (vmstat/threshold.cpp) ---------------------------------------------------------
// 6.12 calculate_normal_threshold() and calculate_pressure_threshold() of one zone
// (gfplab/pcp_sizing.hpp has the arithmetic).
int calculate_normal_threshold(const zone &z) noexcept;
int calculate_pressure_threshold(const zone &z) noexcept;
// set_pgdat_percpu_threshold(): the node's zones that have a percpu_drift_mark fold their
// deltas past calculate(zone) from now on. kswapd passes calculate_pressure_threshold
// when it wakes and calculate_normal_threshold before it sleeps.
void set_pgdat_percpu_threshold(pglist_data &pgdat, int (*calculate)(const zone &)) noexcept;
// refresh_cpu_vm_stats() for one zone on every CPU: each delta folded into the zone
// counter, under zone->lock. Returns how many deltas were not zero.
int refresh_zone_vm_stats(zone &z);

// --- page allocator (page_alloc/) ---------------------------------------------------------
// The fast path's alloc_flags for a request whose context is ac: ALLOC_WMARK_LOW and 6.12's
// alloc_flags_nofragment() for the preferred zone (first_zones_zonelist(), not the zone
// bound): ZONE_NORMAL with a DMA32 zone below it on its node, assumed on one node.
unsigned preferred_zone_alloc_flags(System &s, const alloc_context &ac, gfp_t gfp);
page *get_page_from_freelist(System &s, gfp_t gfp, unsigned order, unsigned alloc_flags,
                             const alloc_context &ac);
page *alloc_pages_slowpath(System &s, gfp_t gfp, unsigned order, alloc_context &ac);
// The calling thread's slowpath_trace (gfplab/system.hpp), for the slow path to fill.
slowpath_trace &current_slowpath_trace() noexcept;
// The CPU the calling thread's operation runs on, within the System's CPUs.
unsigned current_cpu(System &s) noexcept;

// --- accounting groups (page_alloc/memcontrol.cpp) ----------------------------------------
// Group id of s, writable; nullptr for the root and for an id s does not have.
mem_cgroup *memcg_group(System &s, unsigned id) noexcept;
// try_charge_memcg(): nr_pages more for g, refused past its limit (failcnt) unless the
// request may not fail or may use reserves, or is reclaim itself (forced).
bool try_charge_memcg(mem_cgroup &g, gfp_t gfp, std::uint64_t nr_pages);
// page_counter_uncharge().
inline void memcg_uncharge_pages(mem_cgroup &g, std::uint64_t nr_pages) noexcept {
    g.usage_pages.fetch_sub(nr_pages, std::memory_order_relaxed);
}

// Free order-0 pages compaction wants above the watermark to have migration targets (twice
// the request): the slow path's compaction and kswapd's switch to order 0 both use it.
constexpr unsigned long compact_gap(unsigned order) noexcept {
    return 2ul << order;
}

// --- reclaim (reclaim/) -------------------------------------------------------------------
// kvfree_rcu_barrier() (gfplab/kvfree_rcu.hpp), for kmem_cache_destroy().
void kvfree_rcu_barrier(System &s);
inline constexpr int MAX_RECLAIM_RETRIES = 16;

// Pages freed by this thread while it reclaims (shrinkers freeing objects free pages) are
// credited to the reclaim in progress (the kernel's current->reclaim_state).
struct reclaim_state {
    unsigned long reclaimed = 0;
};
namespace detail {
extern __thread reclaim_state *t_reclaim_state; // reclaim/vmscan.cpp
}
inline reclaim_state *current_reclaim_state() noexcept {
    return detail::t_reclaim_state;
}
inline void set_current_reclaim_state(reclaim_state *rs) noexcept {
    detail::t_reclaim_state = rs;
}

// Direct reclaim (try_to_free_pages / do_try_to_free_pages): SWAP_CLUSTER_MAX pages from
// the nodes of the zonelist, priority falling from DEF_PRIORITY until enough came back.
unsigned long try_to_free_pages(System &s, const alloc_context &ac, gfp_t gfp, unsigned order);
// Pages reclaim could still free in a zone (file LRU pages, and anon ones while swap has
// room).
unsigned long zone_reclaimable_pages(System &s, const zone &z) noexcept;
// wakeup_kswapd() for the zone's node; wake_all_kswapds() for the nodes of a zonelist.
void wakeup_kswapd(System &s, zone &z, gfp_t gfp, unsigned order, zone_type highest_zoneidx);
void wake_all_kswapds(System &s, unsigned order, gfp_t gfp, const alloc_context &ac);
// __alloc_pages_may_oom(): the last attempt at the high watermark, the conditions under
// which no victim may be killed, then out_of_memory(). *did_some_progress follows the
// kernel: set when the OOM killer ran (or could not run and someone else is killing).
page *alloc_pages_may_oom(System &s, gfp_t gfp, unsigned order, const alloc_context &ac,
                          unsigned long *did_some_progress);

// --- slab (slab/) --------------------------------------------------------------------------
// The name of the cache whose slab starts at head (a PG_slab page), for reports.
const char *slab_cache_name(System &s, const page *head) noexcept;

// --- checking (check/) --------------------------------------------------------------------
// I9, the declared side: an allocation that may enter FS reclaim while this thread holds a
// lock that a registered shrinker declares it takes.
void check_reclaim_recursion(System &s, gfp_t gfp, unsigned order, srcloc at);
// I21: `what` (an allocation whose mask may block, mutex_lock(), might_sleep()) may sleep,
// and this thread holds a spinlock or has preemption or interrupts off, or is in interrupt
// context. Allocations call it with order >= 0 and their mask.
void check_might_sleep(System &s, const char *what, gfp_t gfp, int order, srcloc at);

} // namespace gfplab
