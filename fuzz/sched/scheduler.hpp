// SPDX-License-Identifier: MIT
//
// The deterministic scheduler: N real threads of which exactly one runs at a time. Every
// operation on a sync::atom or sync::mutex of the deterministic library copy (gfplab/sync/
// det.hpp) is a scheduling point where the schedule picks who goes next, so one input gives
// one interleaving, and the same input the same interleaving again.
//
// The schedule: bytes first, each one choosing a runnable thread (low two bits, among the
// runnable ones in thread order) and how many scheduling points it keeps the CPU (high six
// bits, 1..64), so that a mutation of one byte moves one switch. When the bytes run out,
// PCT (Burckhardt et al., probabilistic concurrency testing): distinct random priorities
// and d - 1 random change points at which the running thread drops below everyone, all
// drawn from the seed, so the tail of the run is deterministic too.
//
// A thread that finds a sync::mutex held is not runnable until it is released, so no
// schedule can spin forever on a stopped holder. No runnable thread while some are alive
// is a deadlock; more than max_steps scheduling points is a livelock. Both are reported on
// stderr with every thread's state, and the process aborts (a fuzzer finding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace gfplab::fuzz {

struct schedule_params {
    const std::uint8_t *bytes = nullptr;
    std::size_t nbytes = 0;
    std::uint64_t seed = 0;          // PCT's priorities and change points
    unsigned pct_depth = 3;          // d: d - 1 priority change points
    std::size_t pct_horizon = 5000;  // change points fall in the first this many steps
    std::size_t max_steps = 2000000; // more is a livelock
};

struct schedule_stats {
    std::size_t steps = 0;    // scheduling points passed
    std::size_t switches = 0; // of which handed the CPU to another thread
    std::size_t bytes_used = 0;
};

// Runs every function on its own thread under the schedule and returns when all are done.
// Not reentrant: one run at a time per process.
schedule_stats run_scheduled(const schedule_params &p, std::vector<std::function<void()>> fns);

} // namespace gfplab::fuzz
