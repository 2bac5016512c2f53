// SPDX-License-Identifier: MIT
//
// The per-CPU vmstat thresholds while kswapd runs, and the periodic fold of the per-CPU
// deltas (mm/vmstat.c 6.12: set_pgdat_percpu_threshold, refresh_cpu_vm_stats).
#include "../internal.hpp"

#include <gfplab/pcp_sizing.hpp>

namespace gfplab {

int calculate_normal_threshold(const zone &z) noexcept {
    return calculate_normal_threshold(int(z.stat_cpus), z.managed_pages);
}

int calculate_pressure_threshold(const zone &z) noexcept {
    return calculate_pressure_threshold(z.low_wmark_pages(), z.min_wmark_pages(), int(z.stat_cpus));
}

void set_pgdat_percpu_threshold(pglist_data &pgdat, int (*calculate)(const zone &)) noexcept {
    // Only zones whose drift could hide a breach of the min watermark change: the others
    // keep their normal threshold (refresh_zone_stat_thresholds() gave them no drift mark).
    // Deltas already past a lower threshold stay until their CPU next updates them.
    for (zone &z : pgdat.node_zones)
        if (z.populated() && z.percpu_drift_mark)
            z.stat_threshold.store(calculate(z), std::memory_order_relaxed);
}

int refresh_zone_vm_stats(zone &z) {
    // 6.12 folds on each CPU its own deltas (vmstat_update, a per-CPU work item). The model's
    // deltas are only written under zone->lock, so one thread holding it folds them all.
    int changes = 0;
    zone_lock_guard guard(z, 0);
    for (unsigned cpu = 0; cpu < z.stat_cpus; cpu++)
        changes += z.fold_cpu_stats(cpu);
    return changes;
}

} // namespace gfplab
