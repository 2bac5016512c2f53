// SPDX-License-Identifier: MIT
//
// The small machine the reclaim-side suites (mix, latency) run on, and the checks a run
// must pass afterwards: a benchmark of an allocator that broke under pressure measures
// nothing.
#pragma once

#include "page_pool.hpp"

#include <gfplab/system.hpp>

#include <cstdint>
#include <memory>

namespace bench {

// One System and the page pool its shrinker reclaims, made before a run's threads start.
struct pressure_machine {
    std::unique_ptr<gfplab::System> sys;
    std::unique_ptr<page_pool> pool;
};

// bytes of memory, kswapd running, no warn_alloc printing (failures are counted instead).
pressure_machine make_pressure_machine(std::uint64_t bytes, gfplab::pcp_mode pcp);

// Fills the pool with order-0 pages until a request that may not reclaim fails: free
// memory then sits at the min watermark and kswapd has been woken.
void fill_to_min(pressure_machine &m);

// Frees the pool, parks kswapd and recounts (I2); false (with the reasons on stderr) when
// the System reported anything or does not recount clean. Destroys the machine.
bool retire_pressure_machine(pressure_machine &m, const char *who);

// A run's reclaim counters, read without stopping anything.
struct reclaim_counters {
    std::uint64_t kswapd_rounds = 0;
    std::uint64_t direct_reclaim = 0;
    std::uint64_t shrinker_calls = 0;
    std::uint64_t failures = 0;
    std::uint64_t oom = 0;
};
reclaim_counters read_reclaim_counters(pressure_machine &m);

} // namespace bench
