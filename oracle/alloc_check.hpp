// SPDX-License-Identifier: MIT
//
// oracle/alloc_check.hpp - the reference oracle's check of each page allocation, shared by
// gfplab-stress and the fuzz executor: the block lies in a zone and node the mask allows
// (I5), and the zone was above the floor of the request's class when it served it (I4).
//
// I4 needs the free count the allocator saw when it said yes, which no one can read after
// the fact. The check bounds it from above instead:
//
//   seen <= free now + what this request took + what other requests in flight took
//           + the drift between the cheap count and the exact one
//
// and reports only when even that bound is at or below the floor: never a false alarm, and
// exact when nothing else allocates. "What other requests took" comes from a window every
// allocating thread of the harness enters: an allocation enters with a bound (its block or
// the per-CPU refill it may trigger), any other step that may allocate enters unbounded, and
// a check that overlapped an unbounded step, a page allocation on a thread the harness does
// not run (kvfree_rcu()'s monitor), or an allocation it cannot bound, is skipped and counted.
#pragma once

#include "gfp_rules.hpp"
#include "zone_model.hpp"

#include <gfplab/system.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace gfplab::ref {

// One disagreement with the System, for the harness to report under `inv`.
struct finding {
    int inv = 0;
    std::string what;    // short: "page from a zone the mask excludes"
    std::string message; // the numbers
};

// What the harness knows about one allocation it makes.
struct alloc_request {
    gfp_t gfp = 0; // as passed (the oracle applies the scopes itself)
    unsigned order = 0;
    unsigned task_flags = 0; // the harness's own model of current->flags
    int thisnode = -1;       // the node __GFP_THISNODE must keep to (-1: not known)
    // alloc_pages_nolock(): gfp is then the mask it allocates with (__GFP_NOWARN |
    // __GFP_ZERO | __GFP_NOMEMALLOC | __GFP_COMP, plus the caller's __GFP_ACCOUNT), checked
    // against the min watermark whether or not the counters say it took the slow path.
    bool nolock = false;
};

class alloc_checker;

// A thread's membership in the window for the length of one step. Unbounded by default.
class window_guard {
  public:
    window_guard(alloc_checker &c, unsigned long bound = ~0ul) noexcept;
    ~window_guard();
    window_guard(const window_guard &) = delete;
    window_guard &operator=(const window_guard &) = delete;

  private:
    friend class alloc_checker;
    alloc_checker &c_;
    unsigned long bound_;
    unsigned long inflight_before_ = 0, started_before_ = 0, unbounded_before_ = 0;
    bool unbounded_inflight_ = false;
};

class alloc_checker {
  public:
    // exact_counts: the harness runs one thread at a time (the fuzz executor), so the
    // per-CPU deltas can be summed without racing their folds.
    alloc_checker(System &s, bool exact_counts);

    const zone_model &model() const noexcept { return model_; }

    // Wraps one allocation: construct before the call, finish() with its result.
    class scope {
      public:
        scope(alloc_checker &c, const alloc_request &r);
        // The findings for the block the call returned (nullptr: nothing to check).
        std::vector<finding> finish(const page *p);

      private:
        alloc_checker &c_;
        alloc_request r_;
        window_guard w_;
        std::uint64_t slowpath_before_, bg_before_;
        bool victim_before_;
        // One thread, a request that cannot reclaim: nothing moves the counts between the
        // call and the allocator's checks, so the cheap counts now are what it will see.
        std::vector<long> seen_;
    };

    // Placement alone (I5), for blocks whose request the harness did not wrap.
    std::vector<finding> check_placement(const alloc_request &r, const page *p) const;

    // Counters for the reports.
    std::uint64_t placement_checks() const noexcept { return placed_.load(); }
    std::uint64_t floor_checks() const noexcept { return floors_.load(); }
    std::uint64_t floor_skipped() const noexcept { return skipped_.load(); }
    std::uint64_t floor_exact() const noexcept { return exact_.load(); }

  private:
    friend class window_guard;
    std::vector<finding> check(const alloc_request &r, const page *p, bool fast_path_only,
                               bool victim, unsigned long others, bool others_known,
                               const std::vector<long> &seen, long count_now) const;
    long free_now(const zone_facts &z) const noexcept;

    System &s_;
    zone_model model_;
    bool exact_counts_;
    // The window: take bounds of the bounded steps in flight and started so far, and the
    // unbounded steps in flight and started so far.
    std::atomic<unsigned long> inflight_{0}, started_{0};
    std::atomic<unsigned long> unbounded_inflight_{0}, unbounded_started_{0};
    mutable std::atomic<std::uint64_t> placed_{0}, floors_{0}, skipped_{0}, exact_{0};
};

} // namespace gfplab::ref
