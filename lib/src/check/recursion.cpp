// SPDX-License-Identifier: MIT
//
// I9, the declared side: an allocation that may reclaim in a context where a registered
// shrinker takes a lock this thread holds would deadlock the moment that shrinker runs on
// this thread (the observed side, lockdep's fs_reclaim graph, is lockdep.cpp).
#include "recursion.hpp"

#include "../internal.hpp"
#include "../scope/caller.hpp"
#include "report.hpp"

#include <gfplab/lockdep.hpp>
#include <gfplab/shrinker.hpp>

#include <algorithm>

namespace gfplab {

void check_reclaim_recursion(System &s, gfp_t gfp, unsigned order, srcloc at) {
    if (!(gfp & __GFP_DIRECT_RECLAIM) || (current_task_flags() & PF_MEMALLOC))
        return;
    recursion_hazards &hz = *s.hazards_;
    at = caller_or(at);
    s.shrinkers().for_each_declared_lock([&](const char *name, const lock_class &lock, gfp_t when) {
        if ((gfp & when) != when || !current_holds(lock))
            return;
        s.stats().recursion_hazards.fetch_add(1, std::memory_order_relaxed);
        {
            std::lock_guard<std::mutex> g(hz.lock);
            std::pair<unsigned, std::string> key{lock.id(), name};
            if (std::find(hz.reported.begin(), hz.reported.end(), key) != hz.reported.end())
                return;
            hz.reported.push_back(std::move(key));
        }
        std::string held;
        for (const auto &h : current_held_locks())
            if (h.cls == &lock)
                held = fmt::format("{}:{}", h.file, h.line);
        report(s, invariant::reclaim_recursion, "possible reclaim recursion deadlock", gfp,
               int(order), nullptr,
               "alloc_pages(mode:{}, order:{}) at {}:{} holds {} (taken at {}); the reclaim it "
               "may enter calls shrinker {}, which takes {} with {}",
               gfp_describe(gfp), order, at.file_name(), at.line_no(), lock.name(), held, name,
               lock.name(), gfp_describe(when));
    });
}

} // namespace gfplab
