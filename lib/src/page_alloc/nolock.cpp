// SPDX-License-Identifier: MIT
//
// The any-context pair, a step past 6.12: alloc_pages_nolock() and free_pages_nolock()
// (6.15 brought them as try_alloc_pages() with ALLOC_TRYLOCK and FPI_TRYLOCK, for BPF
// programs that run in NMI or under arbitrary locks). What makes them safe anywhere is what
// they leave out: no reclaim, no kswapd wake-up, no printk (no warn_alloc), no fault
// injection (it may take locks), no wait for the per-CPU list or zone->lock. So a failure
// means "busy or short now", and the caller must cope with it, as BPF's callers do.
#include "fastpath.hpp"

#include "../check/report.hpp"
#include "../frames/backend.hpp"

namespace gfplab {

page *page_allocator::alloc_nolock(System &s, gfp_t gfp, int nid, unsigned order) {
    // Only __GFP_ACCOUNT is for the caller to choose (the kernel's VM_WARN_ON_ONCE): say
    // so, then serve the request as the kernel does, with the extra bits in.
    if (gfp & ~__GFP_ACCOUNT)
        report(s, invariant::bad_input, "alloc_pages_nolock flags", gfp, int(order), nullptr,
               "alloc_pages_nolock(mode:{}, node {}, order {}): only __GFP_ACCOUNT may be given",
               gfp_describe(gfp), nid, order);
    if (nid < -1 || nid >= s.nr_nodes()) {
        refuse(s, invariant::bad_input, "invalid request", gfp, int(order), nullptr,
               "alloc_pages_nolock(node {}, order {}): node {} does not exist ({} nodes)", nid,
               order, nid, s.nr_nodes());
        return nullptr;
    }
    // Only the per-CPU lists' orders: a larger block may need compaction or more locks.
    if (!pcp::pcp_allowed_order(order)) {
        s.stats_.failures.fetch_add(1, std::memory_order_relaxed);
        s.stats_.nolock_failures.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }
    // Zeroed for its BPF users, compound, no warning and no reserves. With no reclaim bit
    // the mask is gfpflags_allow_spinning()'s "false": nothing below may block.
    const gfp_t alloc_gfp = __GFP_NOWARN | __GFP_ZERO | __GFP_NOMEMALLOC | __GFP_COMP | gfp;
    if (nid < 0)
        nid = s.cpu_to_node(current_cpu(s));
    alloc_context ac;
    ac.highest_zoneidx = gfp_zone(alloc_gfp);
    ac.mt = gfp_migratetype(alloc_gfp);
    ac.preferred_nid = nid;
    ac.zonelist = s.node(nid).zonelists[gfp_zonelist(alloc_gfp)].data();
    // ALLOC_TRYLOCK and nothing else: the min watermark, no fragmentation avoidance (that
    // is the fast path's, alloc_flags_nofragment()), no reserves.
    t_trylock_busy = false;
    page *p = get_page_from_freelist(s, alloc_gfp, order, ALLOC_TRYLOCK, ac);
    // Unlike alloc_pages() there is no slow path.
    if (p && (gfp & __GFP_ACCOUNT) && !s.memcg_charge(p, alloc_gfp, order)) {
        free<true>(s, p, order);
        p = nullptr;
    }
    if (!p) {
        s.stats_.failures.fetch_add(1, std::memory_order_relaxed);
        s.stats_.nolock_failures.fetch_add(1, std::memory_order_relaxed);
        // Busy: some zone's lock was taken (memory may have been short as well).
        if (t_trylock_busy)
            s.stats_.nolock_busy.fetch_add(1, std::memory_order_relaxed);
    }
    trace_mm_page_alloc(s.trace_, p, order, alloc_gfp, ac.mt);
    return p;
}

page *System::alloc_pages_nolock(gfp_t gfp, int nid, unsigned order) {
    return page_allocator::alloc_nolock(*this, gfp, nid, order);
}

void System::free_pages_nolock(page *p, unsigned order) {
    page_allocator::free<true>(*this, p, order);
}

} // namespace gfplab
