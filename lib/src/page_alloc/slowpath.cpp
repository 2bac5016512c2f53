// SPDX-License-Identifier: MIT
//
// The allocation slow path, step by step as 6.12's __alloc_pages_slowpath() with
// CONFIG_COMPACTION=y: wake kswapd, retry at the min watermark with gfp_to_alloc_flags(),
// direct compaction first for costly and non-movable high orders, reserves where the mask and
// the task allow them, give up at once without __GFP_DIRECT_RECLAIM or inside reclaim
// (PF_MEMALLOC), direct reclaim with the scoped mask (one drain of the per-CPU lists and the
// highatomic reserve after a fruitless one), direct compaction, should_reclaim_retry() with
// MAX_RECLAIM_RETRIES, should_compact_retry() with its priorities, then the OOM killer; the
// rules of __GFP_NORETRY, __GFP_RETRY_MAYFAIL, __GFP_NOFAIL and costly orders. Compaction's
// decisions are compaction.cpp's (a model that migrates no page).
#include "fastpath.hpp"

#include "compaction.hpp"

#include "../check/report.hpp"
#include "../frames/backend.hpp"

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

// unreserve_highatomic_pageblock() over the request's zones: one highatomic pageblock goes
// back to the request's migratetype, from the first zone that has one to give. Without
// `force` each zone keeps its last reserved pageblock.
bool unreserve_highatomic(System &s, const alloc_context &ac, bool force) {
    for (zone *const *zp = ac.zonelist; *zp; zp++) {
        zone &z = **zp;
        if (z.idx > ac.highest_zoneidx)
            continue;
        if (z.frames->unreserve_highatomic(force, ac.mt, current_cpu(s)))
            return true;
    }
    return false;
}

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
        unreserve_highatomic(s, ac, false);
        s.drain_all_pages();
        s.stats().drains.fetch_add(1, std::memory_order_relaxed);
        p = get_page_from_freelist(s, gfp, order, alloc_flags, ac);
    }
    return p;
}

// should_reclaim_retry(): keep going while some zone could pass its min watermark with
// what is free plus what reclaim could still free, for at most MAX_RECLAIM_RETRIES rounds
// without progress (costly orders count every round). Before giving up (and going OOM) the
// highatomic reserves are released, a pageblock at a time, each release worth one more round.
bool should_reclaim_retry(System &s, unsigned order, const alloc_context &ac, unsigned alloc_flags,
                          bool did_some_progress, int *no_progress_loops) {
    if (did_some_progress && order <= PAGE_ALLOC_COSTLY_ORDER)
        *no_progress_loops = 0;
    else
        (*no_progress_loops)++;
    bool ret = false;
    if (*no_progress_loops <= MAX_RECLAIM_RETRIES) {
        for (zone *const *zp = ac.zonelist; *zp && !ret; zp++) {
            const zone &z = **zp;
            if (z.idx > ac.highest_zoneidx)
                continue;
            long available =
                long(zone_reclaimable_pages(s, z)) + z.page_state_snapshot(NR_FREE_PAGES);
            auto probe = free_area_probe_of(z);
            ret = zone_watermark_ok(available, order, z.min_wmark_pages(),
                                    z.lowmem_reserve[ac.highest_zoneidx], alloc_flags,
                                    z.nr_free_highatomic.load(std::memory_order_relaxed), probe);
        }
        std::this_thread::yield(); // cond_resched()
    }
    return ret || unreserve_highatomic(s, ac, true);
}

// The warnings 6.12 gives a __GFP_NOFAIL request on entry (WARN_ON_ONCE): above order 1,
// and from PF_MEMALLOC (nothing can be reclaimed for it). Logged once per System each;
// the request that cannot block at all is reported when it is made (alloc.cpp).
void warn_nofail(System &s, gfp_t gfp, unsigned order) {
    if (order > 1 && !s.warned_once(System::warn_nofail_order))
        s.log(fmt::format("gfplab: WARNING: __GFP_NOFAIL at order {} (mode:{}): large no-fail "
                          "requests can livelock, scope stack: {}",
                          order, gfp_describe(gfp), format_scope_stack()));
    if ((current_task_flags() & PF_MEMALLOC) && !s.warned_once(System::warn_nofail_memalloc))
        s.log(fmt::format("gfplab: WARNING: __GFP_NOFAIL from PF_MEMALLOC (mode:{} order:{}): "
                          "nothing can be reclaimed for it, it can only wait",
                          gfp_describe(gfp), order));
}

// A request that keeps looping is reported, so that a livelock shows instead of a silent
// hang (the old "page allocation stalls" warning, with the scope stack); a round that could
// free nothing sleeps instead of spinning a CPU.
struct stall_watch {
    clock_type::time_point started = clock_type::now();
    clock_type::time_point next_report;

    explicit stall_watch(const System &s)
        : next_report(started + std::chrono::milliseconds(s.config().stall_warn_ms)) {}

    void before_retry(System &s, gfp_t gfp, unsigned order, bool progress) {
        auto now = clock_type::now();
        if (now >= next_report) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
            s.stats().stalls.fetch_add(1, std::memory_order_relaxed);
            s.log(fmt::format("gfplab: page allocation stalls for {}ms, order:{}, mode:{}, "
                              "scope stack: {}",
                              ms.count(), order, gfp_describe(gfp), format_scope_stack()));
            next_report = now + std::chrono::milliseconds(s.config().stall_warn_ms);
        }
        if (!progress)
            std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
};

} // namespace

slowpath_trace &current_slowpath_trace() noexcept {
    static thread_local slowpath_trace t;
    return t;
}

const slowpath_trace &last_slowpath_trace() noexcept {
    return current_slowpath_trace();
}

page *alloc_pages_slowpath(System &s, gfp_t gfp, unsigned order, alloc_context &ac) {
    s.stats().slowpath.fetch_add(1, std::memory_order_relaxed);
    const bool can_direct_reclaim = gfp & __GFP_DIRECT_RECLAIM;
    const bool can_compact = gfp_compaction_allowed(gfp);
    const bool nofail = gfp & __GFP_NOFAIL;
    const bool costly = order > PAGE_ALLOC_COSTLY_ORDER;
    // Kept locally and published on the way out: an allocation nested in this one's reclaim
    // publishes its own trace first, and this one, finishing last, is what the caller sees.
    struct publish_on_return {
        slowpath_trace t;
        ~publish_on_return() { current_slowpath_trace() = t; }
    } trace;
    slowpath_trace &t = trace.t;
    stall_watch stall(s);
    int no_progress_loops = 0, compaction_retries = 0;
    compact_priority prio = DEF_COMPACT_PRIORITY;
    compact_result compaction = COMPACT_SKIPPED;
    unsigned long did_some_progress = 0;
    unsigned reserve = 0;
    page *p = nullptr;
    if (nofail) [[unlikely]]
        warn_nofail(s, gfp, order);

    unsigned alloc_flags = gfp_to_alloc_flags(gfp, order);
    // No zone on the zonelist the request may use: nothing to wake, reclaim or kill for.
    if (!first_zones_zonelist(ac))
        goto nopage;
    if (alloc_flags & ALLOC_KSWAPD)
        wake_all_kswapds(s, order, gfp, ac);
    if ((p = get_page_from_freelist(s, gfp, order, alloc_flags, ac)))
        return p;

    // Costly orders, and high orders that would fragment (non-movable), try compaction
    // before reclaim: there may be enough base pages. Not for requests that may still use
    // every reserve (their ALLOC_NO_WATERMARKS attempt comes first).
    if (can_direct_reclaim && can_compact && (costly || (order > 0 && ac.mt != MIGRATE_MOVABLE)) &&
        !gfp_pfmemalloc_allowed(gfp, current_task_flags(), current_is_oom_victim())) {
        t.compaction_runs++;
        if ((p = alloc_pages_direct_compact(s, gfp, order, alloc_flags, ac, INIT_COMPACT_PRIORITY,
                                            &compaction)))
            return p;
        // A costly __GFP_NORETRY request (THP faults) stops here if compaction could not even
        // start; otherwise it reclaims once, compacting asynchronously.
        if (costly && (gfp & __GFP_NORETRY)) {
            if (compaction == COMPACT_SKIPPED || compaction == COMPACT_DEFERRED)
                goto nopage;
            prio = INIT_COMPACT_PRIORITY;
        }
    }

    for (;;) {
        t.rounds++;
        if (alloc_flags & ALLOC_KSWAPD)
            wake_all_kswapds(s, order, gfp, ac);
        // Reserve access is decided again each round: the task may have become an OOM victim.
        reserve = gfp_pfmemalloc_flags(gfp, current_task_flags(), current_is_oom_victim());
        alloc_flags = alloc_flags_with_reserves(alloc_flags, reserve);
        if ((p = get_page_from_freelist(s, gfp, order, alloc_flags, ac))) {
            if (reserve)
                s.stats().reserve_allocs.fetch_add(1, std::memory_order_relaxed);
            return p;
        }
        // Atomic requests give up here; so does reclaim itself (no recursion).
        if (!can_direct_reclaim || (current_task_flags() & PF_MEMALLOC))
            goto nopage;
        if ((p = direct_reclaim(s, gfp, order, alloc_flags, ac, &did_some_progress)))
            return p;
        if (order)
            t.compaction_runs++;
        if ((p = alloc_pages_direct_compact(s, gfp, order, alloc_flags, ac, prio, &compaction)))
            return p;
        t.compaction = compaction;
        t.compact_priority = prio;
#ifndef GFPLAB_PLANTED_BUG_NORETRY_RETRIES
        if (gfp & __GFP_NORETRY)
            goto nopage;
#endif
        // (GFPLAB_PLANTED_BUG_NORETRY_RETRIES: the __GFP_NORETRY exit above is missing, so a
        // NORETRY request retries reclaim and may reach the OOM killer.)
        // Costly orders fail unless the caller asked to retry and compaction could help.
        if (costly && (!can_compact || !(gfp & __GFP_RETRY_MAYFAIL)))
            goto nopage;
        if (should_reclaim_retry(s, order, ac, alloc_flags, did_some_progress > 0,
                                 &no_progress_loops)) {
            t.reclaim_retries++;
            stall.before_retry(s, gfp, order, did_some_progress);
            continue;
        }
        // Compaction needs free order-0 pages: retrying it only makes sense while reclaim
        // makes progress.
        if (did_some_progress && can_compact &&
            should_compact_retry(s, ac, order, compaction, &prio, &compaction_retries)) {
            t.compact_retries++;
            stall.before_retry(s, gfp, order, true);
            continue;
        }
        t.oom_calls++;
        if ((p = alloc_pages_may_oom(s, gfp, order, ac, &did_some_progress)))
            return p;
        // An OOM victim that has taken its reserves (or may not) stops here.
        if (current_is_oom_victim() && ((alloc_flags & ALLOC_OOM) || (gfp & __GFP_NOMEMALLOC)))
            goto nopage;
        if (did_some_progress) {
            no_progress_loops = 0;
            stall.before_retry(s, gfp, order, true);
            continue;
        }
    nopage:
        // __GFP_NOFAIL never returns NULL, unless it cannot reclaim: 6.12 lets that one fail.
        if (!nofail || !can_direct_reclaim)
            break;
        // Some of the reserves high-priority atomics use, never all of them.
        for (unsigned fb : {ALLOC_MIN_RESERVE | ALLOC_CPUSET, ALLOC_MIN_RESERVE})
            if ((p = get_page_from_freelist(s, gfp, order, fb, ac)))
                return p;
        s.stats().nofail_loops.fetch_add(1, std::memory_order_relaxed);
        stall.before_retry(s, gfp, order, did_some_progress);
    }
    // I11: __GFP_NOFAIL that may reclaim must not get here.
    if (nofail && can_direct_reclaim)
        report(s, invariant::retry_rules, "NOFAIL failed", gfp, int(order), nullptr,
               "mode:{} order:{}", gfp_describe(gfp), order);
    t.failed = true;
    s.stats().failures.fetch_add(1, std::memory_order_relaxed);
    page_allocator::warn_alloc(s, gfp, order);
    return nullptr;
}

} // namespace gfplab
