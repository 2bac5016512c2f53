// SPDX-License-Identifier: MIT
//
// Per-CPU list sizing and vmstat thresholds of Linux 6.12 as pure functions.
#include <gfplab/linux/mmzone.h>
#include <gfplab/pcp_sizing.hpp>

#include <algorithm>
#include <bit>

namespace gfplab {
namespace {

// include/linux/bitops.h fls(): 1-based index of the highest set bit, 0 for 0.
constexpr int fls(unsigned long x) {
    return static_cast<int>(std::bit_width(x));
}

// include/linux/log2.h rounddown_pow_of_two().
constexpr unsigned long rounddown_pow_of_two(unsigned long x) {
    return std::bit_floor(x);
}

} // namespace

int zone_batchsize(unsigned long managed_pages) noexcept {
    // One thousandth of the zone, but no more than 1 MiB worth of pages...
    unsigned long batch = std::min(managed_pages >> 10, (1ul << 20) / PAGE_SIZE);
    // ...of which a quarter, so that a refill stays well inside a CPU's cache.
    batch /= 4;
    if (batch < 1)
        batch = 1;
    // Round 1.5 * batch down to 2^n - 1: batch sizes that are powers of two make refills of
    // different CPUs hit the same cache colours (the kernel's comment on this).
    return static_cast<int>(rounddown_pow_of_two(batch + batch / 2) - 1);
}

int zone_highsize(unsigned long managed_pages, int batch, unsigned long low_wmark, int cpus_on_node,
                  int online_cpus, int fraction) noexcept {
    // Default: all CPUs' lists together hold at most the low watermark, so full lists never
    // wake kswapd by themselves. With a fraction: that share of the zone.
    const unsigned long total_pages =
        fraction == 0 ? low_wmark : managed_pages / static_cast<unsigned long>(fraction);
    // Split across the CPUs local to the zone; a node without CPUs splits over all of them.
    int nr_split_cpus = cpus_on_node;
    if (nr_split_cpus <= 0)
        nr_split_cpus = online_cpus;
    if (nr_split_cpus <= 0)
        nr_split_cpus = 1; // the model's guard: the kernel always has an online CPU
    int high = static_cast<int>(total_pages / static_cast<unsigned long>(nr_split_cpus));
    // Enough room for a few batches whatever the zone size.
    return std::max(high, batch << 2);
}

pcp_high_and_batch zone_pcp_high_and_batch(unsigned long managed_pages, unsigned long low_wmark,
                                           int cpus_on_node, int online_cpus,
                                           int percpu_pagelist_high_fraction) noexcept {
    const int batch = std::max(1, zone_batchsize(managed_pages));
    if (percpu_pagelist_high_fraction) {
        // Tuned by hand: high_min == high_max disables the auto-tuning.
        const int high = zone_highsize(managed_pages, batch, low_wmark, cpus_on_node, online_cpus,
                                       percpu_pagelist_high_fraction);
        return {batch, high, high};
    }
    return {batch, zone_highsize(managed_pages, batch, low_wmark, cpus_on_node, online_cpus, 0),
            zone_highsize(managed_pages, batch, low_wmark, cpus_on_node, online_cpus,
                          MIN_PERCPU_PAGELIST_HIGH_FRACTION)};
}

int calculate_normal_threshold(int online_cpus, unsigned long managed_pages) noexcept {
    // The zone size in 128 MiB units (27 = log2(128 MiB)).
    const unsigned long mem = managed_pages >> (27 - PAGE_SHIFT);
    // Grows logarithmically with both the CPU count and the zone size.
    const int threshold =
        2 * fls(static_cast<unsigned long>(std::max(online_cpus, 0))) * (1 + fls(mem));
    return std::min(MAX_STAT_THRESHOLD, threshold);
}

int calculate_pressure_threshold(unsigned long low_wmark, unsigned long min_wmark,
                                 int online_cpus) noexcept {
    const int distance = static_cast<int>(low_wmark - min_wmark);
    const int threshold = std::max(1, distance / std::max(online_cpus, 1));
    return std::min(MAX_STAT_THRESHOLD, threshold);
}

unsigned long percpu_drift_mark(unsigned long high_wmark, int online_cpus, int threshold,
                                unsigned long low_wmark, unsigned long min_wmark) noexcept {
    // Drift is tolerable while it cannot span the gap between the low and min watermarks
    // (kswapd is woken at low, so the true value cannot silently cross min).
    const unsigned long tolerate_drift = low_wmark - min_wmark;
    const unsigned long max_drift =
        static_cast<unsigned long>(online_cpus) * static_cast<unsigned long>(threshold);
    return max_drift > tolerate_drift ? high_wmark + max_drift : 0;
}

long vmstat_drift_bound(int online_cpus, int threshold) noexcept {
    return static_cast<long>(online_cpus) * threshold;
}

} // namespace gfplab
