// SPDX-License-Identifier: MIT
//
// gfplab/vmstat_delta.hpp - the vmstat counter scheme (mm/vmstat.c): a zone-wide atomic
// plus a small per-CPU delta that is folded into it once it passes the threshold. Templates
// over the atomic object's type (sync::atom in the library, Relacy's atomics in
// tests/relacy/), so the model check runs this code.
//
// The argument: every update of one zone's counters happens under zone->lock, so a delta's
// load and store need not be one read-modify-write, and all accesses are relaxed (the
// lock-free page-frame backend, which holds no lock, uses vmstat_mod_unlocked()). A reader
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

// mod_zone_state() of the kernel's this_cpu_cmpxchg() form, for writers that hold no zone
// lock (the lock-free page-frame backend): the delta changes with a compare-and-swap, since
// two threads may share a CPU number, and whoever takes it past the threshold moves it
// into the zone-wide value. Each delta stays within +-threshold, as under the lock.
template <class Global, class Delta>
void vmstat_mod_unlocked(Global &global, Delta &diff, long delta, int threshold) noexcept {
    // A change past the threshold on its own (a high-order block) goes straight to the
    // zone-wide value, one atomic add, and the delta keeps what it had. The kernel would
    // fold the delta along with it: the sum is the same, and the delta stays within bounds.
    if (delta > threshold || delta < -threshold) {
        global.fetch_add(delta, std::memory_order_relaxed);
        return;
    }
    using value = decltype(diff.load(std::memory_order_relaxed));
    value old = diff.load(std::memory_order_relaxed);
    long fold;
    value next;
    do {
        const long x = long(old) + delta;
        fold = x > threshold || x < -threshold ? x : 0;
        next = static_cast<value>(x - fold);
    } while (!diff.compare_exchange_weak(old, next, std::memory_order_relaxed));
    if (fold)
        global.fetch_add(fold, std::memory_order_relaxed);
}

// refresh_cpu_vm_stats(): one CPU's delta moved into the zone-wide value. An exchange, as the
// kernel's this_cpu_xchg(): the caller holds the zone lock, but vmstat_mod_unlocked()'s
// writers do not. Returns whether there was anything to move.
template <class Global, class Delta>
bool vmstat_fold(Global &global, Delta &diff) noexcept {
    const long x = diff.exchange(0, std::memory_order_relaxed);
    if (!x)
        return false;
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
