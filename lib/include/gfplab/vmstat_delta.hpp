// SPDX-License-Identifier: MIT
//
// gfplab/vmstat_delta.hpp - the vmstat counter scheme (mm/vmstat.c): a zone-wide atomic
// plus a small per-CPU delta that is folded into it once it passes the threshold. Templates
// over the atomic object's type (sync::atom in the library, Relacy's atomics in
// tests/relacy/), so the model check runs this code.
//
// The argument: every update of one zone's counters happens under zone->lock, so a delta's
// load and store need not be one read-modify-write, and all accesses are relaxed. A reader
// without the lock sees the zone-wide value alone; since every delta stays within
// +-threshold, that value is within ncpus * threshold of the true count (I3). The fold is
// the only atomic read-modify-write, because readers elsewhere may race with it.
#pragma once

#include <atomic>

namespace gfplab {

// __mod_zone_page_state(): the caller holds the counter's zone lock.
template <class Global, class Delta>
void vmstat_mod(Global &global, Delta &diff, long delta, int threshold) noexcept {
    long x = diff.load(std::memory_order_relaxed) + delta;
    if (x > threshold || x < -threshold) {
        global.fetch_add(x, std::memory_order_relaxed);
        x = 0;
    }
    diff.store(static_cast<decltype(diff.load(std::memory_order_relaxed))>(x),
               std::memory_order_relaxed);
}

// refresh_cpu_vm_stats(): one CPU's delta moved into the zone-wide value (the caller holds
// the counter's zone lock, so no update of the delta races with the move). Returns whether
// there was anything to move.
template <class Global, class Delta>
bool vmstat_fold(Global &global, Delta &diff) noexcept {
    const long x = diff.load(std::memory_order_relaxed);
    if (!x)
        return false;
    diff.store(0, std::memory_order_relaxed);
    global.fetch_add(x, std::memory_order_relaxed);
    return true;
}

// zone_page_state(): never negative, though the zone-wide value may be for a while.
template <class Global>
long vmstat_read(const Global &global) noexcept {
    const long v = global.load(std::memory_order_relaxed);
    return v < 0 ? 0 : v;
}

// zone_page_state_snapshot(): the zone-wide value plus every CPU's delta, the deltas
// `stride` entries apart.
template <class Global, class Delta>
long vmstat_read_snapshot(const Global &global, const Delta *diffs, unsigned stride,
                          unsigned ncpus) noexcept {
    long v = global.load(std::memory_order_relaxed);
    for (unsigned cpu = 0; cpu < ncpus; cpu++)
        v += diffs[cpu * stride].load(std::memory_order_relaxed);
    return v < 0 ? 0 : v;
}

} // namespace gfplab
