// SPDX-License-Identifier: MIT
//
// gfplab/vmstat.hpp - a System's statistics in one snapshot (the model's /proc/vmstat and
// /proc/zoneinfo), printable as text and as JSON.
#pragma once

#include <gfplab/linux/mmzone.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gfplab {

class System;

struct zone_snapshot {
    int node = 0;
    std::string name;
    unsigned long managed = 0;
    long free = 0;         // NR_FREE_PAGES as the allocator reads it (within drift)
    long free_exact = 0;   // zone_page_state_snapshot()
    unsigned long pcp = 0; // pages cached on per-CPU lists
    unsigned long min = 0, low = 0, high = 0, boost = 0;
    std::vector<long> lowmem_reserve;
    unsigned long reserved_highatomic = 0;
    unsigned long pcp_batch = 0, pcp_high = 0;
    int stat_threshold = 0;
    long drift_bound = 0;
    // Free blocks per order, over every migratetype (/proc/buddyinfo's columns), read
    // without the zone lock: a live System's counts move while they are read.
    std::vector<unsigned long> free_blocks;
};

struct kswapd_snapshot {
    int node = 0;
    std::uint64_t wakeups = 0, rounds = 0, reclaimed = 0, scanned = 0;
    int failures = 0;
    bool running = false;
};

struct shrinker_snapshot {
    std::string name;
    std::uint64_t calls = 0, scanned = 0, freed = 0, stops = 0, deferred = 0;
};

struct memcg_snapshot {
    unsigned id = 0;
    std::string name;
    std::uint64_t limit = 0, usage = 0, max_usage = 0, failcnt = 0;
};

// One line of /proc/slabinfo.
struct slab_snapshot {
    std::string name;
    unsigned long active_objs = 0, num_objs = 0;
    unsigned object_size = 0, size = 0, objects_per_slab = 0, pages_per_slab = 0;
    unsigned long num_slabs = 0;
    bool reclaimable = false; // SLAB_RECLAIM_ACCOUNT: counted in nr_slab_reclaimable
};

struct vmstat_snapshot {
    std::vector<zone_snapshot> zones;
    std::vector<kswapd_snapshot> kswapd;
    std::vector<shrinker_snapshot> shrinkers;
    std::vector<memcg_snapshot> memcgs;
    std::vector<slab_snapshot> slabinfo; // caches that hold slabs
    // The System's counters, by the names they print under.
    std::vector<std::pair<std::string, std::uint64_t>> counters;
    bool pcp_rseq = false;
};

vmstat_snapshot take_vmstat_snapshot(System &s);
// "/proc/zoneinfo"-like blocks per zone, the slabinfo lines, then "name value" lines.
std::string format_vmstat(const vmstat_snapshot &v);
// /proc/buddyinfo: "Node 0, zone   Normal    512    204 ..." (free blocks of each order).
std::string format_buddyinfo(const vmstat_snapshot &v);
// One JSON object: {"zones": [...], "kswapd": [...], "shrinkers": [...], "memcgs": [...],
// "slabinfo": [...], "counters": {...}}.
std::string vmstat_json(const vmstat_snapshot &v);

} // namespace gfplab
