// SPDX-License-Identifier: MIT
//
// oracle/zone_model.hpp - the reference oracle's own picture of a System's memory: which
// node and zone each pfn is in, and each zone's watermarks, lowmem reserves, counter drift
// bound and per-CPU refill batch, all computed from the System's configuration by 6.12's
// boot-time arithmetic (mm/page_alloc.c: calculate_min_free_kbytes(),
// __setup_per_zone_wmarks(), setup_per_zone_lowmem_reserve(), zone_batchsize();
// mm/vmstat.c: calculate_normal_threshold()), never read back from the System's zones.
#pragma once

#include <gfplab/system.hpp>

#include <array>
#include <vector>

namespace gfplab::ref {

struct zone_facts {
    int nid = 0;
    int idx = 0;
    unsigned long start_pfn = 0, end_pfn = 0; // [start, end)
    unsigned long managed = 0;
    unsigned long min = 0, low = 0, high = 0; // watermarks before any boost
    // Pages kept back from requests whose highest zone is j (0 for j <= idx).
    std::array<long, MAX_NR_ZONES> lowmem_reserve{};
    // How far the cheap free count may be from the exact one: CPUs x the normal threshold.
    long drift_bound = 0;
    unsigned long batch = 1; // the per-CPU refill batch
    bool populated() const noexcept { return managed != 0; }
};

class zone_model {
  public:
    // cpus: the System's CPU count (the configuration may say "the machine's").
    zone_model(const system_config &cfg, unsigned cpus);

    // nullptr for a pfn in no zone (past the last node's end).
    const zone_facts *zone_of(unsigned long pfn) const noexcept;
    const zone_facts &zone(int nid, int idx) const noexcept { return zones_[nid][idx]; }
    int nodes() const noexcept { return int(zones_.size()); }
    unsigned cpus() const noexcept { return cpus_; }
    // The node a virtual CPU belongs to: CPUs are split evenly over nodes, in order.
    int cpu_node(unsigned cpu) const noexcept { return int(cpu * zones_.size() / cpus_); }
    unsigned min_free_kbytes() const noexcept { return min_free_kbytes_; }
    // The most pages one allocation of this order takes off the zone's free count: the
    // block itself, or the per-CPU refill it triggers (orders up to
    // PAGE_ALLOC_COSTLY_ORDER; 6.12's nr_pcp_alloc() without alloc_factor scaling, which
    // the model does not have).
    unsigned long take_bound(const zone_facts &z, unsigned order) const noexcept;
    // The largest take_bound() of any populated zone.
    unsigned long take_bound(unsigned order) const noexcept;

  private:
    unsigned cpus_;
    unsigned long node_pages_ = 0;
    unsigned min_free_kbytes_ = 0;
    std::vector<std::array<zone_facts, MAX_NR_ZONES>> zones_;
};

} // namespace gfplab::ref
