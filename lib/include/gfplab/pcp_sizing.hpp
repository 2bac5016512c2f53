// SPDX-License-Identifier: MIT
//
// gfplab/pcp_sizing.hpp - how big the per-CPU page lists and the per-CPU vmstat deltas may
// grow (Linux 6.12 mm/page_alloc.c zone_batchsize/zone_highsize, mm/vmstat.c thresholds).
// Pure functions of the zone's size, its watermarks and the CPU count.
#pragma once

namespace gfplab {

// high_max is 1/8 of the zone split across the CPUs (mm/page_alloc.c).
inline constexpr int MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;
// The boot pageset: no caching (high 0), one page per refill.
inline constexpr int BOOT_PAGESET_HIGH = 0;
inline constexpr int BOOT_PAGESET_BATCH = 1;
// vmstat thresholds live in an s8 per-CPU delta; 125 keeps a delta plus one step in range.
inline constexpr int MAX_STAT_THRESHOLD = 125;

// 6.12 zone_batchsize() (MMU): about a quarter of a MiB of pages per refill for zones of
// 1 GiB and more, rounded to 2^n - 1 (63 with 4 KiB pages). Small zones can get 0; the
// caller (zone_pcp_high_and_batch) raises that to 1 as the kernel does.
int zone_batchsize(unsigned long managed_pages) noexcept;

// 6.12 zone_highsize(): the per-CPU list limit. fraction 0 splits the low watermark
// (high_min); a non-zero fraction splits managed_pages / fraction (high_max uses
// MIN_PERCPU_PAGELIST_HIGH_FRACTION). cpus_on_node is the number of CPUs of the zone's node,
// plus 1 while one of them is being brought online (the kernel's cpu_online argument); when
// it is 0 (memory-only node) the split is over online_cpus. Never below 4 * batch.
int zone_highsize(unsigned long managed_pages, int batch, unsigned long low_wmark, int cpus_on_node,
                  int online_cpus, int fraction) noexcept;

struct pcp_high_and_batch {
    int batch;
    int high_min;
    int high_max;
    friend constexpr bool operator==(const pcp_high_and_batch &,
                                     const pcp_high_and_batch &) = default;
};

// 6.12 zone_set_pageset_high_and_batch(): batch at least 1; with the
// vm.percpu_pagelist_high_fraction sysctl at 0, high_min from the low watermark and high_max
// from 1/8 of the zone (auto-tuning between them); with it set, both equal the fractional
// value (auto-tuning off).
pcp_high_and_batch zone_pcp_high_and_batch(unsigned long managed_pages, unsigned long low_wmark,
                                           int cpus_on_node, int online_cpus,
                                           int percpu_pagelist_high_fraction = 0) noexcept;

// 6.12 calculate_normal_threshold(): 2 * fls(cpus) * (1 + fls(managed in 128 MiB units)),
// at most 125. Used while the node is not under memory pressure.
int calculate_normal_threshold(int online_cpus, unsigned long managed_pages) noexcept;

// 6.12 calculate_pressure_threshold(): (low - min) / cpus in [1, 125], so that all CPUs'
// deltas together cannot hide the distance between the low and min watermarks. kswapd
// switches its node to this while it is awake.
int calculate_pressure_threshold(unsigned long low_wmark, unsigned long min_wmark,
                                 int online_cpus) noexcept;

// 6.12 refresh_zone_stat_thresholds(): when the worst-case drift (cpus * threshold) exceeds
// low - min, watermark checks near the high watermark + drift must use an exact snapshot
// (zone_watermark_ok_safe). Returns that mark, or 0 when no correction is needed.
unsigned long percpu_drift_mark(unsigned long high_wmark, int online_cpus, int threshold,
                                unsigned long low_wmark, unsigned long min_wmark) noexcept;

// The bound on |zone_page_state() - true value| (invariant I3). __mod_zone_page_state()
// folds a CPU's delta into the zone atomic as soon as |delta| exceeds the threshold, and the
// inc/dec variants leave at most threshold/2 behind after a fold, so each online CPU holds at
// most `threshold` unfolded pages of either sign: the bound is online_cpus * threshold. (The
// reader's clamp of a negative atomic to 0 only moves it towards the truth.)
long vmstat_drift_bound(int online_cpus, int threshold) noexcept;

} // namespace gfplab
