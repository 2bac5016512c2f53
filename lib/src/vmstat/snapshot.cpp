// SPDX-License-Identifier: MIT
//
// The statistics snapshot: zones, kswapd, shrinkers, accounting groups and the slow-path
// counters, read without stopping anyone (so zone figures are as racy as /proc's).
#include "../frames/backend.hpp"

#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmstat.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace gfplab {

vmstat_snapshot take_vmstat_snapshot(System &s) {
    vmstat_snapshot v;
    v.pcp_rseq = s.pcp_uses_rseq();
    for (int n = 0; n < s.nr_nodes(); n++) {
        for (auto &z : s.node(n).node_zones) {
            if (!z.populated())
                continue;
            zone_snapshot zs;
            zs.node = n;
            zs.name = z.name;
            zs.managed = z.managed_pages;
            zs.free = z.page_state(NR_FREE_PAGES);
            zs.free_exact = z.page_state_snapshot(NR_FREE_PAGES);
            zs.pcp = s.pcp_count(z);
            zs.min = z.min_wmark_pages();
            zs.low = z.low_wmark_pages();
            zs.high = z.high_wmark_pages();
            zs.boost = z.watermark_boost.load(std::memory_order_relaxed);
            zs.lowmem_reserve.assign(z.lowmem_reserve.begin(), z.lowmem_reserve.end());
            zs.reserved_highatomic = z.nr_reserved_highatomic.load();
            zs.pcp_batch = z.pcp_batch;
            zs.pcp_high = z.pcp_high;
            zs.stat_threshold = z.stat_threshold.load(std::memory_order_relaxed);
            zs.drift_bound = z.drift_bound();
            for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
                zs.free_blocks.push_back(z.frames->nr_free_blocks(o));
            v.zones.push_back(std::move(zs));
        }
        auto k = s.kswapd_statistics(n);
        v.kswapd.push_back({n, k.wakeups, k.rounds, k.reclaimed, k.scanned, k.failures, k.running});
    }
    for (const auto &st : s.shrinkers().stats())
        v.shrinkers.push_back({st.name, st.calls, st.scanned, st.freed, st.stops, st.deferred});
    for (unsigned id = 1; id < max_mem_cgroups; id++)
        if (const mem_cgroup *g = s.memcg(id))
            v.memcgs.push_back({id, g->name, g->limit_pages, g->usage_pages.load(),
                                g->max_usage_pages.load(), g->failcnt.load()});
    // nr_slab_reclaimable / nr_slab_unreclaimable, in pages, from the caches that hold
    // slabs (large kmallocs count as unreclaimable, as NR_SLAB_UNRECLAIMABLE_B does).
    std::uint64_t slab_reclaimable = 0, slab_unreclaimable = 0;
    for (const kmem_cache_info &c : gfplab::slabinfo(s)) {
        if (!c.num_slabs)
            continue;
        const bool rcl = c.flags & SLAB_RECLAIM_ACCOUNT;
        v.slabinfo.push_back({c.name, c.active_objs, c.num_objs, c.object_size, c.size, c.objects,
                              1u << c.order, c.num_slabs, rcl});
        (rcl ? slab_reclaimable : slab_unreclaimable) += c.num_slabs << c.order;
    }
    slab_unreclaimable += slab_statistics(s).large_kmalloc_pages;
    const alloc_stats &a = s.stats();
    const kvfree_rcu_stats k = kvfree_rcu_statistics(s);
    v.counters = {
        {"nr_slab_reclaimable", slab_reclaimable},
        {"nr_slab_unreclaimable", slab_unreclaimable},
        {"failslab_injected", s.failslab().injected()},
        {"kvfree_rcu_queued", k.queued},
        {"kvfree_rcu_freed", k.freed},
        {"kvfree_rcu_pending", k.pending},
        {"kvfree_rcu_inline_gp", k.synchronous},
        {"kvfree_rcu_blocks", k.blocks + k.spare_blocks},
        {"slowpath_entries", a.slowpath.load()},
        {"pgalloc_fail", a.failures.load()},
        {"pgalloc_reserve", a.reserve_allocs.load()},
        {"nofail_loops", a.nofail_loops.load()},
        {"allocstall", a.direct_reclaim.load()},
        {"compact_stall", a.compact_stall.load()},
        {"compact_fail", a.compact_fail.load()},
        {"compact_success", a.compact_success.load()},
        {"pgsteal_direct", a.direct_reclaimed.load()},
        {"drain_all_pages", a.drains.load()},
        {"kswapd_wake_requests", a.kswapd_wakeups.load()},
        {"oom_invocations", a.oom_invocations.load()},
        {"oom_kill", a.oom_kills.load()},
        {"oom_panic", a.oom_panics.load()},
        {"oom_nofs_no_kill", a.oom_nofs.load()},
        {"allocation_stalls", a.stalls.load()},
        {"reclaim_recursion_hazards", a.recursion_hazards.load()},
        {"refused_bad_input", a.refused.load()},
        {"fail_page_alloc_injected", a.injected.load()},
        {"reports", s.report_count()},
    };
    return v;
}

std::string format_vmstat(const vmstat_snapshot &v) {
    std::string out;
    for (const auto &z : v.zones) {
        out += fmt::format("Node {}, zone {:>8}\n", z.node, z.name);
        out += fmt::format("  pages free     {}\n        exact    {}\n        min      {}\n"
                           "        low      {}\n        high     {}\n        boost    {}\n"
                           "        managed  {}\n        protection: ({})\n"
                           "        reserved_highatomic {}\n",
                           z.free, z.free_exact, z.min, z.low, z.high, z.boost, z.managed,
                           fmt::join(z.lowmem_reserve, ", "), z.reserved_highatomic);
        out += fmt::format("  pagesets ({})\n    count: {}\n    high:  {}\n    batch: {}\n"
                           "  vm stats threshold: {} (drift bound {})\n",
                           v.pcp_rseq ? "rseq" : "locked", z.pcp, z.pcp_high, z.pcp_batch,
                           z.stat_threshold, z.drift_bound);
    }
    for (const auto &k : v.kswapd)
        out += fmt::format("kswapd{} wakeups {} rounds {} reclaimed {} scanned {} failures {}{}\n",
                           k.node, k.wakeups, k.rounds, k.reclaimed, k.scanned, k.failures,
                           k.running ? "" : " (no thread)");
    for (const auto &sh : v.shrinkers)
        out += fmt::format("shrinker {} calls {} scanned {} freed {} stops {} deferred {}\n",
                           sh.name, sh.calls, sh.scanned, sh.freed, sh.stops, sh.deferred);
    for (const auto &g : v.memcgs)
        out += fmt::format("memcg {} ({}) usage {} max {} limit {} failcnt {}\n", g.id, g.name,
                           g.usage, g.max_usage, g.limit, g.failcnt);
    if (!v.slabinfo.empty())
        out += "# name            <active_objs> <num_objs> <objsize> <objperslab> "
               "<pagesperslab> : slabdata <num_slabs>\n";
    for (const auto &c : v.slabinfo)
        out += fmt::format("{:<17} {:>6} {:>6} {:>6} {:>4} {:>4} : slabdata {:>6}\n", c.name,
                           c.active_objs, c.num_objs, c.size, c.objects_per_slab, c.pages_per_slab,
                           c.num_slabs);
    for (const auto &[name, value] : v.counters)
        out += fmt::format("{} {}\n", name, value);
    return out;
}

std::string format_buddyinfo(const vmstat_snapshot &v) {
    // 6.12 mm/vmstat.c frag_show_print(): "Node %d, zone %8s ", then "%6lu " per order.
    std::string out;
    for (const auto &z : v.zones) {
        out += fmt::format("Node {}, zone {:>8} ", z.node, z.name);
        for (unsigned long n : z.free_blocks)
            out += fmt::format("{:>6} ", n);
        out += '\n';
    }
    return out;
}

std::string vmstat_json(const vmstat_snapshot &v) {
    using nlohmann::json;
    json j;
    j["pcp_mode"] = v.pcp_rseq ? "rseq" : "locked";
    j["zones"] = json::array();
    for (const auto &z : v.zones)
        j["zones"].push_back({{"node", z.node},
                              {"zone", z.name},
                              {"managed", z.managed},
                              {"free", z.free},
                              {"free_exact", z.free_exact},
                              {"pcp", z.pcp},
                              {"min", z.min},
                              {"low", z.low},
                              {"high", z.high},
                              {"boost", z.boost},
                              {"lowmem_reserve", z.lowmem_reserve},
                              {"reserved_highatomic", z.reserved_highatomic},
                              {"pcp_batch", z.pcp_batch},
                              {"pcp_high", z.pcp_high},
                              {"stat_threshold", z.stat_threshold},
                              {"drift_bound", z.drift_bound},
                              {"free_blocks", z.free_blocks}});
    j["kswapd"] = json::array();
    for (const auto &k : v.kswapd)
        j["kswapd"].push_back({{"node", k.node},
                               {"wakeups", k.wakeups},
                               {"rounds", k.rounds},
                               {"reclaimed", k.reclaimed},
                               {"scanned", k.scanned},
                               {"failures", k.failures},
                               {"running", k.running}});
    j["shrinkers"] = json::array();
    for (const auto &sh : v.shrinkers)
        j["shrinkers"].push_back({{"name", sh.name},
                                  {"calls", sh.calls},
                                  {"scanned", sh.scanned},
                                  {"freed", sh.freed},
                                  {"stops", sh.stops},
                                  {"deferred", sh.deferred}});
    j["memcgs"] = json::array();
    for (const auto &g : v.memcgs)
        j["memcgs"].push_back({{"id", g.id},
                               {"name", g.name},
                               {"limit", g.limit},
                               {"usage", g.usage},
                               {"max_usage", g.max_usage},
                               {"failcnt", g.failcnt}});
    j["slabinfo"] = json::array();
    for (const auto &c : v.slabinfo)
        j["slabinfo"].push_back({{"name", c.name},
                                 {"active_objs", c.active_objs},
                                 {"num_objs", c.num_objs},
                                 {"object_size", c.object_size},
                                 {"size", c.size},
                                 {"objects_per_slab", c.objects_per_slab},
                                 {"pages_per_slab", c.pages_per_slab},
                                 {"num_slabs", c.num_slabs},
                                 {"reclaimable", c.reclaimable}});
    json counters = json::object();
    for (const auto &[name, value] : v.counters)
        counters[name] = value;
    j["counters"] = counters;
    return j.dump(2);
}

} // namespace gfplab
