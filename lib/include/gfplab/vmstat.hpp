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

// One CPU's pageset for a zone (/proc/zoneinfo's "cpu: N" entry).
struct pageset_snapshot {
    unsigned cpu = 0;
    unsigned long count = 0; // pages on the CPU's lists for the zone
    unsigned long high = 0, batch = 0;
    int stat_threshold = 0;
};

// One zone, populated or not (/proc/zoneinfo prints them all).
struct zone_snapshot {
    int node = 0;
    std::string name;
    bool populated = false;
    unsigned long managed = 0, spanned = 0, present = 0, start_pfn = 0;
    long free = 0;         // NR_FREE_PAGES as the allocator reads it (within drift)
    long free_exact = 0;   // zone_page_state_snapshot()
    unsigned long pcp = 0; // pages cached on per-CPU lists
    unsigned long min = 0, low = 0, high = 0, promo = 0, boost = 0;
    std::vector<long> lowmem_reserve;
    unsigned long reserved_highatomic = 0;
    unsigned long pcp_batch = 0, pcp_high = 0;
    int stat_threshold = 0;
    long drift_bound = 0;
    // The zone's LRU pages (nr_zone_inactive_anon, nr_zone_inactive_file): the model keeps
    // one LRU per type, which stands for the inactive list reclaim scans.
    unsigned long nr_inactive_anon = 0, nr_inactive_file = 0;
    std::vector<pageset_snapshot> pagesets; // every CPU (populated zones only)
    bool node_unreclaimable = false;        // kswapd gave up on the node (I14)
    // Per-CPU events summed over the CPUs (exact at quiescence): pgalloc's share of this
    // zone (pages), and the per-CPU lists' own counts.
    std::uint64_t pgalloc = 0, pgfree = 0;
    std::uint64_t pcp_alloc_hits = 0, pcp_free_hits = 0; // blocks
    std::uint64_t pcp_refills = 0, pcp_refill_pages = 0;
    std::uint64_t pcp_drains = 0, pcp_drain_pages = 0, pcp_drain_all_pages = 0;
    // Free blocks per order, over every migratetype (/proc/buddyinfo's columns), read
    // without the zone lock: a live System's counts move while they are read.
    std::vector<unsigned long> free_blocks;
};

// A node's stats (zoneinfo's "per-node stats" block).
struct node_snapshot {
    int node = 0;
    unsigned long nr_inactive_anon = 0, nr_inactive_file = 0;
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
    // memory.stat's slab_reclaimable / slab_unreclaimable: bytes of charged slab objects.
    std::uint64_t slab_reclaimable = 0, slab_unreclaimable = 0;
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
    std::vector<node_snapshot> nodes;
    std::vector<zone_snapshot> zones; // every zone of every node, empty ones included
    std::vector<kswapd_snapshot> kswapd;
    std::vector<shrinker_snapshot> shrinkers;
    std::vector<memcg_snapshot> memcgs;
    std::vector<slab_snapshot> slabinfo; // caches that hold slabs
    // /proc/vmstat: the System's counters, by the names they print under: 6.12's names (in
    // its vmstat_text order) for what counts as the kernel counts it, then gfplab's own,
    // each beginning "gfplab_" (docs/fidelity.md lists both).
    std::vector<std::pair<std::string, std::uint64_t>> counters;
    bool pcp_rseq = false;
};

vmstat_snapshot take_vmstat_snapshot(System &s);
// Every section in one text, each after a "# ..." line naming it: /proc/vmstat, then
// /proc/zoneinfo, gfplab's kswapd, shrinker and memcg lines, /proc/slabinfo, and
// /proc/buddyinfo last.
std::string format_vmstat(const vmstat_snapshot &v);
// /proc/vmstat: "name value" lines.
std::string format_proc_vmstat(const vmstat_snapshot &v);
// /proc/zoneinfo in the shape of 6.12's zoneinfo_show_print(), every zone of every node.
std::string format_zoneinfo(const vmstat_snapshot &v);
// /proc/buddyinfo: "Node 0, zone   Normal    512    204 ..." (free blocks of each order),
// populated zones only, as 6.12 prints it.
std::string format_buddyinfo(const vmstat_snapshot &v);
// One JSON object: {"nodes": [...], "zones": [...], "kswapd": [...], "shrinkers": [...],
// "memcgs": [...], "slabinfo": [...], "counters": {...}}.
std::string vmstat_json(const vmstat_snapshot &v);

// The System's /proc/zoneinfo and /proc/vmstat now.
std::string zoneinfo(System &s);
std::string proc_vmstat(System &s);

} // namespace gfplab
