// SPDX-License-Identifier: MIT
//
// The OOM killer. An allocation that reclaim cannot satisfy may end here; the rules of who
// may kill are the kernel's (I11): never for costly orders, __GFP_RETRY_MAYFAIL,
// __GFP_THISNODE or requests limited to zones below ZONE_NORMAL; and a request without
// __GFP_FS reports progress without killing (reclaim could not do its best for it), which
// is what keeps small GFP_NOFS allocations looping ("too small to fail").
#include "oom_kill.hpp"

#include "kswapd.hpp"

#include "../check/report.hpp"
#include "../trace/tracepoint.hpp"

#include <gfplab/alloc_flags.hpp>
#include <gfplab/scope.hpp>

#include <fmt/format.h>

#include <chrono>
#include <thread>
#include <unistd.h>

namespace gfplab {
namespace {

std::shared_ptr<std::atomic<bool>> &task_oom_mark() {
    thread_local std::shared_ptr<std::atomic<bool>> mark = std::make_shared<std::atomic<bool>>();
    return mark;
}

// out_of_memory(): true when the caller may retry (a victim freed memory, or the kernel
// declines to kill but reports progress).
bool out_of_memory(System &s, oom_state &oom, gfp_t gfp, unsigned order) {
    s.stats().oom_invocations.fetch_add(1, std::memory_order_relaxed);
    // I11: the slow path never comes here for NORETRY or costly requests.
    if ((gfp & __GFP_NORETRY) || order > PAGE_ALLOC_COSTLY_ORDER)
        report(s, invariant::retry_rules, "OOM for a request that may not OOM", gfp, int(order),
               nullptr, "out_of_memory(mode:{}, order:{})", gfp_describe(gfp), order);
    // "does not compensate for IO-less reclaim": no kill, but progress.
    if (!(gfp & __GFP_FS)) {
        s.stats().oom_nofs.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    // select_bad_process(): the victim whose death frees most; any registered victim is
    // killable, one that would free nothing included (6.12 starts below every score).
    oom_victim chosen;
    unsigned long worst = 0;
    {
        std::lock_guard<std::mutex> g(oom.victims_lock);
        for (const auto &v : oom.victims) {
            // oom_evaluate_task(): a victim still dying makes the caller wait, one the OOM
            // reaper is done with (MMF_OOM_SKIP) is passed over. kill() runs to its end
            // under oom_lock, so a marked victim here has been reaped.
            if (v.marked->load(std::memory_order_relaxed))
                continue;
            unsigned long b = v.badness ? v.badness() : 0;
            if (!chosen.id || b > worst) {
                worst = b;
                chosen = v;
            }
        }
    }
    std::string header = fmt::format("gfplab: invoked oom-killer: gfp_mask={}, order={}, "
                                     "oom_score_adj=0, scope stack: {}",
                                     gfp_describe(gfp), order, format_scope_stack());
    if (!chosen.id) {
        // 6.12 panics here ("System is deadlocked on memory"): a system-wide allocation with
        // nothing to kill would loop for ever. The model records the panic, distinctly, and
        // goes on as if panic() returned: the request then fails (or, NOFAIL, takes the
        // reserves), so that a campaign can report what brought the System there.
        s.stats().oom_panics.fetch_add(1, std::memory_order_relaxed);
        s.log(header + "\ngfplab: Out of memory and no killable victims...\n"
                       "gfplab: Kernel panic - not syncing: System is deadlocked on memory");
        return false;
    }
    chosen.marked->store(true, std::memory_order_release);
    trace_mark_victim(s.tracepoints(), chosen.pid, chosen.name.c_str(), worst);
    unsigned long freed = chosen.kill ? chosen.kill() : 0;
    s.stats().oom_kill.fetch_add(1, std::memory_order_relaxed);
    s.log(header + fmt::format("\ngfplab: Out of memory: Killed victim {} ({}) holding {} "
                               "pages; it freed {} pages",
                               chosen.id, chosen.name, worst, freed));
    return true;
}

} // namespace

bool current_is_oom_victim() noexcept {
    return task_oom_mark()->load(std::memory_order_acquire);
}

void clear_oom_victim() noexcept {
    task_oom_mark()->store(false, std::memory_order_release);
}

unsigned System::register_oom_victim(std::string name, std::function<unsigned long()> badness,
                                     std::function<unsigned long()> kill) {
    std::lock_guard<std::mutex> g(oom_->victims_lock);
    oom_victim v;
    v.id = oom_->next_id++;
    v.pid = int(gettid());
    v.name = std::move(name);
    v.badness = std::move(badness);
    v.kill = std::move(kill);
    v.marked = task_oom_mark();
    oom_->victims.push_back(std::move(v));
    return oom_->victims.back().id;
}

void System::unregister_oom_victim(unsigned id) {
    std::lock_guard<std::mutex> g(oom_->victims_lock);
    std::erase_if(oom_->victims, [id](const oom_victim &v) { return v.id == id; });
}

page *alloc_pages_may_oom(System &s, gfp_t gfp, unsigned order, const alloc_context &ac,
                          unsigned long *did_some_progress) {
    oom_state &oom = reclaim_internals::oom(s);
    *did_some_progress = 0;
    // Someone else is deciding: count that as progress and give them a moment.
    std::unique_lock<std::mutex> lk(oom.oom_lock, std::try_to_lock);
    if (!lk.owns_lock()) {
        *did_some_progress = 1;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return nullptr;
    }
    // A last try at the high watermark: another OOM kill may just have freed plenty; this
    // one must not kill if so, and must not reclaim either.
    if (page *p = get_page_from_freelist(s, (gfp | __GFP_HARDWALL) & ~__GFP_DIRECT_RECLAIM, order,
                                         ALLOC_WMARK_HIGH | ALLOC_CPUSET, ac))
        return p;
    if (order > PAGE_ALLOC_COSTLY_ORDER)
        return nullptr;
    if (gfp & (__GFP_RETRY_MAYFAIL | __GFP_THISNODE))
        return nullptr;
    // Lowmem-only requests: killing frees NORMAL memory that cannot help them.
    if (ac.highest_zoneidx < ZONE_NORMAL)
        return nullptr;
    const bool killed_or_progress = out_of_memory(s, oom, gfp, order);
    if (killed_or_progress || (gfp & __GFP_NOFAIL)) {
        *did_some_progress = 1;
        // __GFP_NOFAIL with nothing killed may take the last reserves.
        if (gfp & __GFP_NOFAIL)
            return get_page_from_freelist(s, gfp, order, ALLOC_NO_WATERMARKS, ac);
    }
    return nullptr;
}

} // namespace gfplab
