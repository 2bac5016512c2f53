// SPDX-License-Identifier: MIT
//
// The allocation slow path, step by step as 6.12's __alloc_pages_slowpath(): wake kswapd,
// retry at the min watermark with gfp_to_alloc_flags(), reserves where the mask and the task
// allow them, give up at once without __GFP_DIRECT_RECLAIM or inside reclaim (PF_MEMALLOC),
// direct reclaim with the scoped mask, drain the per-CPU lists once after a fruitless
// reclaim, should_reclaim_retry() with MAX_RECLAIM_RETRIES, then the OOM killer; the rules of
// __GFP_NORETRY, __GFP_RETRY_MAYFAIL, __GFP_NOFAIL and costly orders. The model has no
// compaction: should_compact_retry() takes its !CONFIG_COMPACTION form.
#include "fastpath.hpp"

#include "../buddy/buddy.hpp"
#include "../check/report.hpp"

#include <gfplab/alloc_flags.hpp>
#include <gfplab/lockdep.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/watermark.hpp>

#include <fmt/format.h>

#include <chrono>
#include <thread>

namespace gfplab {
namespace {

using clock_type = std::chrono::steady_clock;

// __alloc_pages_direct_reclaim(): reclaim as PF_MEMALLOC (so that reclaim's own allocations
// neither recurse nor wait), inside fs_reclaim for the lock checker, then try again; one
// drain of the per-CPU lists (and the highatomic reserve) if that still fails.
page *direct_reclaim(System &s, gfp_t gfp, unsigned order, unsigned alloc_flags,
                     const alloc_context &ac, unsigned long *progress) {
    // I7/I10: only blocking requests from outside reclaim get here.
    if (!(gfp & __GFP_DIRECT_RECLAIM) || (current_task_flags() & PF_MEMALLOC))
        report(s, gfp & __GFP_DIRECT_RECLAIM ? invariant::reserves : invariant::nonblocking,
               "reclaim from a context that may not", gfp, int(order), nullptr,
               "direct reclaim for mode:{} order:{} with task flags {}", gfp_describe(gfp), order,
               task_flags_name(current_task_flags()));
    s.stats().direct_reclaim.fetch_add(1, std::memory_order_relaxed);
    fs_reclaim_acquire(gfp);
    unsigned noreclaim = memalloc_noreclaim_save();
    *progress = try_to_free_pages(s, ac, gfp, order);
    memalloc_noreclaim_restore(noreclaim);
    fs_reclaim_release(gfp);
    s.stats().direct_reclaimed.fetch_add(*progress, std::memory_order_relaxed);
    if (!*progress)
        return nullptr;
    page *p = get_page_from_freelist(s, gfp, order, alloc_flags, ac);
    if (!p) {
        // Pages may sit on other CPUs' lists, or in a highatomic reserve: release both once.
        for (zone *const *zp = ac.zonelist; *zp; zp++) {
            zone_lock_guard g(**zp, current_cpu(s));
            buddy::unreserve_highatomic_pageblock(**zp, false, ac.mt);
        }
        s.drain_all_pages();
        s.stats().drains.fetch_add(1, std::memory_order_relaxed);
        p = get_page_from_freelist(s, gfp, order, alloc_flags, ac);
    }
    return p;
}

// should_reclaim_retry(): keep going while some zone could pass its min watermark with
// what is free plus what reclaim could still free, for at most MAX_RECLAIM_RETRIES rounds
// without progress (costly orders count every round).
bool should_reclaim_retry(System &s, gfp_t, unsigned order, const alloc_context &ac,
                          unsigned alloc_flags, bool did_some_progress, int *no_progress_loops) {
    if (did_some_progress && order <= PAGE_ALLOC_COSTLY_ORDER)
        *no_progress_loops = 0;
    else
        (*no_progress_loops)++;
    if (*no_progress_loops > MAX_RECLAIM_RETRIES) {
        // Last resort before OOM: the highatomic reserves, all of them.
        bool released = false;
        for (zone *const *zp = ac.zonelist; *zp; zp++) {
            zone_lock_guard g(**zp, current_cpu(s));
            released |= buddy::unreserve_highatomic_pageblock(**zp, true, ac.mt);
        }
        return released;
    }
    for (zone *const *zp = ac.zonelist; *zp; zp++) {
        const zone &z = **zp;
        if (z.idx > ac.highest_zoneidx)
            continue;
        long available = long(zone_reclaimable_pages(s, z)) + z.page_state_snapshot(NR_FREE_PAGES);
        auto probe = [&z](unsigned o, int mt) { return z.area[o].has(migratetype(mt)); };
        if (zone_watermark_ok(available, order, z.min_wmark_pages(),
                              z.lowmem_reserve[ac.highest_zoneidx], alloc_flags,
                              z.nr_free_highatomic.load(std::memory_order_relaxed), probe)) {
            std::this_thread::yield(); // cond_resched()
            return true;
        }
    }
    return false;
}

// should_compact_retry() without CONFIG_COMPACTION: small high orders may retry while some
// zone still passes its order-0 min watermark.
bool should_compact_retry(unsigned order, const alloc_context &ac, unsigned alloc_flags) {
    if (!order || order > PAGE_ALLOC_COSTLY_ORDER)
        return false;
    for (zone *const *zp = ac.zonelist; *zp; zp++) {
        const zone &z = **zp;
        if (z.idx <= ac.highest_zoneidx &&
            zone_watermark_ok(z.page_state(NR_FREE_PAGES), 0, z.min_wmark_pages(),
                              z.lowmem_reserve[ac.highest_zoneidx], alloc_flags,
                              z.nr_free_highatomic.load(std::memory_order_relaxed)))
            return true;
    }
    return false;
}

} // namespace

page *alloc_pages_slowpath(System &s, gfp_t gfp, unsigned order, alloc_context &ac) {
    s.stats().slowpath.fetch_add(1, std::memory_order_relaxed);
    const bool can_direct_reclaim = gfp & __GFP_DIRECT_RECLAIM;
    const bool costly = order > PAGE_ALLOC_COSTLY_ORDER;
    const auto started = clock_type::now();
    auto next_stall_report = started + std::chrono::milliseconds(s.config().stall_warn_ms);
    int no_progress_loops = 0;
    unsigned long did_some_progress = 0;
    page *p = nullptr;

    unsigned alloc_flags = gfp_to_alloc_flags(gfp, order);
    if (alloc_flags & ALLOC_KSWAPD)
        wake_all_kswapds(s, order, gfp, ac);
    if ((p = get_page_from_freelist(s, gfp, order, alloc_flags, ac)))
        return p;

    for (;;) {
    retry:
        if (alloc_flags & ALLOC_KSWAPD)
            wake_all_kswapds(s, order, gfp, ac);
        // Reserve access is decided again each round: the task may have become an OOM victim.
        const unsigned reserve =
            gfp_pfmemalloc_flags(gfp, current_task_flags(), current_is_oom_victim());
        const unsigned flags = alloc_flags_with_reserves(alloc_flags, reserve);
        if ((p = get_page_from_freelist(s, gfp, order, flags, ac))) {
            if (reserve)
                s.stats().reserve_allocs.fetch_add(1, std::memory_order_relaxed);
            return p;
        }
        // Atomic requests give up here; so does reclaim itself (no recursion).
        if (!can_direct_reclaim || (current_task_flags() & PF_MEMALLOC))
            goto nopage;
        if ((p = direct_reclaim(s, gfp, order, flags, ac, &did_some_progress)))
            return p;
        if (gfp & __GFP_NORETRY)
            goto nopage;
        // Costly orders fail unless the caller asked to retry (and compaction could help).
        if (costly && (!gfp_compaction_allowed(gfp) || !(gfp & __GFP_RETRY_MAYFAIL)))
            goto nopage;
        if (should_reclaim_retry(s, gfp, order, ac, flags, did_some_progress > 0,
                                 &no_progress_loops))
            goto stall_check;
        if (did_some_progress && should_compact_retry(order, ac, flags))
            goto stall_check;
        if ((p = alloc_pages_may_oom(s, gfp, order, ac, &did_some_progress)))
            return p;
        // An OOM victim that has taken its reserves (or may not) stops here.
        if (current_is_oom_victim() && ((flags & ALLOC_OOM) || (gfp & __GFP_NOMEMALLOC)))
            goto nopage;
        if (did_some_progress) {
            no_progress_loops = 0;
            goto stall_check;
        }
    nopage:
        // __GFP_NOFAIL never returns NULL (validation refused the non-blocking kind).
        if (!(gfp & __GFP_NOFAIL) || !can_direct_reclaim)
            break;
        for (unsigned fb : {ALLOC_MIN_RESERVE | ALLOC_CPUSET, ALLOC_MIN_RESERVE})
            if ((p = get_page_from_freelist(s, gfp, order, fb, ac)))
                return p;
        s.stats().nofail_loops.fetch_add(1, std::memory_order_relaxed);
    stall_check : {
        // A request that keeps looping is reported, so that a livelock shows instead of a
        // silent hang (the old "page allocation stalls" warning, with the scope stack).
        auto now = clock_type::now();
        if (now >= next_stall_report) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
            s.stats().stalls.fetch_add(1, std::memory_order_relaxed);
            s.log(fmt::format("gfplab: page allocation stalls for {}ms, order:{}, mode:{}, "
                              "scope stack: {}",
                              ms.count(), order, gfp_describe(gfp), format_scope_stack()));
            next_stall_report = now + std::chrono::milliseconds(s.config().stall_warn_ms);
        }
        // Without reclaimable memory a round frees nothing: do not spin a CPU on it.
        if (!did_some_progress)
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        goto retry;
    }
    }
    // I11: __GFP_NOFAIL must not get here.
    if (gfp & __GFP_NOFAIL)
        report(s, invariant::retry_rules, "NOFAIL failed", gfp, int(order), nullptr,
               "mode:{} order:{}", gfp_describe(gfp), order);
    s.stats().failures.fetch_add(1, std::memory_order_relaxed);
    page_allocator::warn_alloc(s, gfp, order);
    return nullptr;
}

} // namespace gfplab
