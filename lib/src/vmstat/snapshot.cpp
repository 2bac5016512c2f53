// SPDX-License-Identifier: MIT
//
// The statistics snapshot: zones, kswapd, shrinkers, accounting groups and the counters,
// read without stopping anyone (so zone figures are as racy as /proc's; the per-CPU event
// counts are exact once nothing runs), and its texts in the shapes of 6.12's /proc/vmstat,
// /proc/zoneinfo and /proc/buddyinfo (mm/vmstat.c).
#include "../frames/backend.hpp"
#include "../internal.hpp"
#include "../pcp/pcp.hpp"

#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/page_cache.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmstat.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cctype>

namespace gfplab {

namespace {

// The kernel's per-zone event names: pgalloc_dma, allocstall_normal ... (TEXTS_FOR_ZONES).
std::string zone_event(std::string_view event, int zi) {
    std::string name = fmt::format("{}_{}", event, zone_name(zone_type(zi)));
    for (char &c : name)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return name;
}

} // namespace

vmstat_snapshot take_vmstat_snapshot(System &s) {
    vmstat_snapshot v;
    v.pcp_rseq = s.pcp_uses_rseq();
    const pcp::area &pcp = s.pcp_area();
    class page_cache &pc = s.page_cache();
    std::array<std::uint64_t, MAX_NR_ZONES> pgalloc{};
    std::uint64_t pgfree = 0, nr_free_pages = 0, boot_freed = 0;
    std::uint64_t alloc_hits = 0, free_hits = 0, refills = 0, refill_pages = 0, drains = 0,
                  drain_pages = 0, drain_all_pages = 0, pageoutrun = 0;
    for (int n = 0; n < s.nr_nodes(); n++) {
        auto k = s.kswapd_statistics(n);
        v.kswapd.push_back({n, k.wakeups, k.rounds, k.reclaimed, k.scanned, k.failures, k.running});
        pageoutrun += k.rounds; // PAGEOUTRUN: one per balance_pgdat() run
        v.nodes.push_back({n, pc.lru_size(n, LRU_ANON), pc.lru_size(n, LRU_FILE)});
        for (auto &z : s.node(n).node_zones) {
            zone_snapshot zs;
            zs.node = n;
            zs.name = z.name;
            zs.populated = z.populated();
            zs.managed = z.managed_pages;
            zs.spanned = z.spanned_pages;
            zs.present = z.spanned_pages; // the model has no holes
            zs.start_pfn = z.zone_start_pfn;
            zs.free = z.page_state(NR_FREE_PAGES);
            zs.free_exact = z.page_state_snapshot(NR_FREE_PAGES);
            zs.min = z.min_wmark_pages();
            zs.low = z.low_wmark_pages();
            zs.high = z.high_wmark_pages();
            zs.promo = z.wmark_pages(WMARK_PROMO);
            zs.boost = z.watermark_boost.load(std::memory_order_relaxed);
            zs.lowmem_reserve.assign(z.lowmem_reserve.begin(), z.lowmem_reserve.end());
            zs.reserved_highatomic = z.nr_reserved_highatomic.load();
            zs.pcp_batch = z.pcp_batch;
            zs.pcp_high = z.pcp_high;
            zs.stat_threshold = z.stat_threshold.load(std::memory_order_relaxed);
            zs.drift_bound = z.drift_bound();
            zs.nr_inactive_anon = pc.zone_lru_pages(n, z.idx, LRU_ANON);
            zs.nr_inactive_file = pc.zone_lru_pages(n, z.idx, LRU_FILE);
            zs.node_unreclaimable = k.failures >= MAX_RECLAIM_RETRIES;
            nr_free_pages += std::uint64_t(zs.free);
            // memblock_free_all() hands every managed page to the buddy allocator through
            // __free_pages_core(), which 6.12 counts in PGFREE.
            boot_freed += z.managed_pages;
            for (unsigned cpu = 0; cpu < pcp.ncpus(); cpu++) {
                const pcp::cpu_events e = pcp.events(z, cpu);
                zs.pgalloc += e.pgalloc();
                zs.pgfree += e.pgfree();
                for (unsigned o = 0; o <= PAGE_ALLOC_COSTLY_ORDER; o++) {
                    zs.pcp_alloc_hits += e.alloc_hits[o];
                    zs.pcp_free_hits += e.free_hits[o];
                }
                zs.pcp_refills += e.ev[pcp::PCP_REFILL];
                zs.pcp_refill_pages += e.ev[pcp::PCP_REFILL_PAGES];
                zs.pcp_drains += e.ev[pcp::PCP_DRAIN];
                zs.pcp_drain_pages += e.ev[pcp::PCP_DRAIN_PAGES];
                zs.pcp_drain_all_pages += e.ev[pcp::PCP_DRAIN_ALL_PAGES];
                if (zs.populated)
                    zs.pagesets.push_back(
                        {cpu, pcp.cpu_count(z, cpu), z.pcp_high, z.pcp_batch, zs.stat_threshold});
                zs.pcp += pcp.cpu_count(z, cpu);
            }
            pgalloc[z.idx] += zs.pgalloc;
            pgfree += zs.pgfree;
            alloc_hits += zs.pcp_alloc_hits;
            free_hits += zs.pcp_free_hits;
            refills += zs.pcp_refills;
            refill_pages += zs.pcp_refill_pages;
            drains += zs.pcp_drains;
            drain_pages += zs.pcp_drain_pages;
            drain_all_pages += zs.pcp_drain_all_pages;
            if (zs.populated)
                for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
                    zs.free_blocks.push_back(z.frames->nr_free_blocks(o));
            v.zones.push_back(std::move(zs));
        }
    }
    for (const auto &st : s.shrinkers().stats())
        v.shrinkers.push_back({st.name, st.calls, st.scanned, st.freed, st.stops, st.deferred});
    for (unsigned id = 1; id < max_mem_cgroups; id++)
        if (const mem_cgroup *g = s.memcg(id))
            v.memcgs.push_back({id, g->name, g->limit_pages, g->usage_pages.load(),
                                g->max_usage_pages.load(), g->failcnt.load(),
                                g->slab_reclaimable.load(), g->slab_unreclaimable.load()});
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
    const page_cache_stats pcs = pc.stats();
    std::uint64_t inactive_anon = 0, inactive_file = 0, zone_anon = 0, zone_file = 0;
    for (const auto &n : v.nodes) {
        inactive_anon += n.nr_inactive_anon;
        inactive_file += n.nr_inactive_file;
    }
    for (const auto &z : v.zones) {
        zone_anon += z.nr_inactive_anon;
        zone_file += z.nr_inactive_file;
    }
    auto &c = v.counters;
    // The kernel's, in 6.12's vmstat_text order: zone items, node items, then events.
    c.emplace_back("nr_free_pages", nr_free_pages);
    c.emplace_back("nr_zone_inactive_anon", zone_anon);
    c.emplace_back("nr_zone_inactive_file", zone_file);
    c.emplace_back("nr_inactive_anon", inactive_anon);
    c.emplace_back("nr_inactive_file", inactive_file);
    c.emplace_back("nr_slab_reclaimable", slab_reclaimable);
    c.emplace_back("nr_slab_unreclaimable", slab_unreclaimable);
    c.emplace_back("nr_dirty", pc.nr_dirty());
    c.emplace_back("pswpin", pcs.pswpin);
    c.emplace_back("pswpout", pcs.pswpout);
    for (int zi = 0; zi < MAX_NR_ZONES; zi++)
        c.emplace_back(zone_event("pgalloc", zi), pgalloc[std::size_t(zi)]);
    for (int zi = 0; zi < MAX_NR_ZONES; zi++)
        c.emplace_back(zone_event("allocstall", zi), a.allocstall[std::size_t(zi)].load());
    c.emplace_back("pgfree", pgfree + boot_freed);
    c.emplace_back("pgsteal_kswapd", a.pgsteal_kswapd.load());
    c.emplace_back("pgsteal_direct", a.pgsteal_direct.load());
    c.emplace_back("pgscan_kswapd", a.pgscan_kswapd.load());
    c.emplace_back("pgscan_direct", a.pgscan_direct.load());
    c.emplace_back("pgscan_anon", a.pgscan_anon.load());
    c.emplace_back("pgscan_file", a.pgscan_file.load());
    c.emplace_back("pgsteal_anon", a.pgsteal_anon.load());
    c.emplace_back("pgsteal_file", a.pgsteal_file.load());
    c.emplace_back("pageoutrun", pageoutrun);
    c.emplace_back("oom_kill", a.oom_kill.load());
    c.emplace_back("compact_stall", a.compact_stall.load());
    c.emplace_back("compact_fail", a.compact_fail.load());
    c.emplace_back("compact_success", a.compact_success.load());
    // gfplab's own.
    c.emplace_back("gfplab_pcp_alloc_hit", alloc_hits);
    c.emplace_back("gfplab_pcp_free_hit", free_hits);
    c.emplace_back("gfplab_pcp_refill", refills);
    c.emplace_back("gfplab_pcp_refill_pages", refill_pages);
    c.emplace_back("gfplab_pcp_drain", drains);
    c.emplace_back("gfplab_pcp_drain_pages", drain_pages);
    c.emplace_back("gfplab_pcp_drain_all_pages", drain_all_pages);
    c.emplace_back("gfplab_slowpath_entries", a.slowpath.load());
    c.emplace_back("gfplab_pgalloc_fail", a.failures.load());
    c.emplace_back("gfplab_pgalloc_reserve", a.reserve_allocs.load());
    c.emplace_back("gfplab_nofail_loops", a.nofail_loops.load());
    c.emplace_back("gfplab_direct_reclaimed", a.direct_reclaimed.load());
    c.emplace_back("gfplab_drain_all_pages", a.drains.load());
    c.emplace_back("gfplab_kswapd_wake_requests", a.kswapd_wakeups.load());
    c.emplace_back("gfplab_oom_invocations", a.oom_invocations.load());
    c.emplace_back("gfplab_oom_panic", a.oom_panics.load());
    c.emplace_back("gfplab_oom_nofs_no_kill", a.oom_nofs.load());
    c.emplace_back("gfplab_allocation_stalls", a.stalls.load());
    c.emplace_back("gfplab_reclaim_recursion_hazards", a.recursion_hazards.load());
    c.emplace_back("gfplab_refused_bad_input", a.refused.load());
    c.emplace_back("gfplab_fail_page_alloc_injected", a.injected.load());
    c.emplace_back("gfplab_alloc_nolock_fail", a.nolock_failures.load());
    c.emplace_back("gfplab_alloc_nolock_busy", a.nolock_busy.load());
    c.emplace_back("gfplab_failslab_injected", s.failslab().injected());
    c.emplace_back("gfplab_kvfree_rcu_queued", k.queued);
    c.emplace_back("gfplab_kvfree_rcu_freed", k.freed);
    c.emplace_back("gfplab_kvfree_rcu_pending", k.pending);
    c.emplace_back("gfplab_kvfree_rcu_inline_gp", k.synchronous);
    c.emplace_back("gfplab_kvfree_rcu_blocks", k.blocks + k.spare_blocks);
    c.emplace_back("gfplab_reports", s.report_count());
    return v;
}

std::string format_proc_vmstat(const vmstat_snapshot &v) {
    std::string out;
    for (const auto &[name, value] : v.counters)
        out += fmt::format("{} {}\n", name, value);
    return out;
}

std::string format_zoneinfo(const vmstat_snapshot &v) {
    // 6.12 mm/vmstat.c zoneinfo_show_print(), zone by zone in each node, empty zones too
    // (their watermarks and protection still tell what lowmem_reserve_ratio did).
    std::string out;
    int stats_printed_for = -1;
    for (const auto &z : v.zones) {
        out += fmt::format("Node {}, zone {:>8}", z.node, z.name);
        // The node's stats go with its first populated zone (is_zone_first_populated()).
        if (z.populated && stats_printed_for != z.node) {
            stats_printed_for = z.node;
            const node_snapshot &n = v.nodes[std::size_t(z.node)];
            out += "\n  per-node stats";
            out += fmt::format("\n      {:<12} {}", "nr_inactive_anon", n.nr_inactive_anon);
            out += fmt::format("\n      {:<12} {}", "nr_inactive_file", n.nr_inactive_file);
        }
        out += fmt::format("\n  pages free     {}"
                           "\n        boost    {}"
                           "\n        min      {}"
                           "\n        low      {}"
                           "\n        high     {}"
                           "\n        promo    {}"
                           "\n        spanned  {}"
                           "\n        present  {}"
                           "\n        managed  {}"
                           "\n        cma      {}",
                           z.free, z.boost, z.min, z.low, z.high, z.promo, z.spanned, z.present,
                           z.managed, 0);
        out += fmt::format("\n        protection: ({})", fmt::join(z.lowmem_reserve, ", "));
        if (!z.populated) {
            out += '\n';
            continue;
        }
        out += fmt::format("\n      {:<12} {}", "nr_free_pages", z.free);
        out += fmt::format("\n      {:<12} {}", "nr_zone_inactive_anon", z.nr_inactive_anon);
        out += fmt::format("\n      {:<12} {}", "nr_zone_inactive_file", z.nr_inactive_file);
        out += "\n  pagesets";
        for (const auto &p : z.pagesets)
            out += fmt::format("\n    cpu: {}"
                               "\n              count: {}"
                               "\n              high:  {}"
                               "\n              batch: {}"
                               "\n  vm stats threshold: {}",
                               p.cpu, p.count, p.high, p.batch, p.stat_threshold);
        out += fmt::format("\n  node_unreclaimable:  {}"
                           "\n  start_pfn:           {}\n",
                           int(z.node_unreclaimable), z.start_pfn);
    }
    return out;
}

std::string format_vmstat(const vmstat_snapshot &v) {
    std::string out = "# /proc/vmstat\n" + format_proc_vmstat(v);
    out += "# /proc/zoneinfo\n" + format_zoneinfo(v);
    out += fmt::format("# gfplab: kswapd, shrinkers, accounting groups (per-CPU lists: {})\n",
                       v.pcp_rseq ? "rseq" : "locked");
    for (const auto &k : v.kswapd)
        out += fmt::format("kswapd{} wakeups {} rounds {} reclaimed {} scanned {} failures {}{}\n",
                           k.node, k.wakeups, k.rounds, k.reclaimed, k.scanned, k.failures,
                           k.running ? "" : " (no thread)");
    for (const auto &sh : v.shrinkers)
        out += fmt::format("shrinker {} calls {} scanned {} freed {} stops {} deferred {}\n",
                           sh.name, sh.calls, sh.scanned, sh.freed, sh.stops, sh.deferred);
    for (const auto &g : v.memcgs)
        out += fmt::format("memcg {} ({}) usage {} max {} limit {} failcnt {} slab_reclaimable {} "
                           "slab_unreclaimable {}\n",
                           g.id, g.name, g.usage, g.max_usage, g.limit, g.failcnt,
                           g.slab_reclaimable, g.slab_unreclaimable);
    out += "# /proc/slabinfo\n";
    out += "# name            <active_objs> <num_objs> <objsize> <objperslab> "
           "<pagesperslab> : slabdata <num_slabs>\n";
    for (const auto &c : v.slabinfo)
        out += fmt::format("{:<17} {:>6} {:>6} {:>6} {:>4} {:>4} : slabdata {:>6}\n", c.name,
                           c.active_objs, c.num_objs, c.size, c.objects_per_slab, c.pages_per_slab,
                           c.num_slabs);
    out += "# /proc/buddyinfo\n" + format_buddyinfo(v);
    return out;
}

std::string zoneinfo(System &s) {
    return format_zoneinfo(take_vmstat_snapshot(s));
}

std::string proc_vmstat(System &s) {
    return format_proc_vmstat(take_vmstat_snapshot(s));
}

std::string format_buddyinfo(const vmstat_snapshot &v) {
    // 6.12 mm/vmstat.c frag_show_print(): "Node %d, zone %8s ", then "%6lu " per order.
    std::string out;
    for (const auto &z : v.zones) {
        if (!z.populated)
            continue;
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
    j["nodes"] = json::array();
    for (const auto &n : v.nodes)
        j["nodes"].push_back({{"node", n.node},
                              {"nr_inactive_anon", n.nr_inactive_anon},
                              {"nr_inactive_file", n.nr_inactive_file}});
    j["zones"] = json::array();
    for (const auto &z : v.zones) {
        json pagesets = json::array();
        for (const auto &p : z.pagesets)
            pagesets.push_back({{"cpu", p.cpu},
                                {"count", p.count},
                                {"high", p.high},
                                {"batch", p.batch},
                                {"stat_threshold", p.stat_threshold}});
        j["zones"].push_back({{"node", z.node},
                              {"zone", z.name},
                              {"populated", z.populated},
                              {"spanned", z.spanned},
                              {"present", z.present},
                              {"start_pfn", z.start_pfn},
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
                              {"promo", z.promo},
                              {"nr_zone_inactive_anon", z.nr_inactive_anon},
                              {"nr_zone_inactive_file", z.nr_inactive_file},
                              {"node_unreclaimable", z.node_unreclaimable},
                              {"pgalloc", z.pgalloc},
                              {"pgfree", z.pgfree},
                              {"pcp_alloc_hits", z.pcp_alloc_hits},
                              {"pcp_free_hits", z.pcp_free_hits},
                              {"pcp_refills", z.pcp_refills},
                              {"pcp_refill_pages", z.pcp_refill_pages},
                              {"pcp_drains", z.pcp_drains},
                              {"pcp_drain_pages", z.pcp_drain_pages},
                              {"pcp_drain_all_pages", z.pcp_drain_all_pages},
                              {"pagesets", pagesets},
                              {"free_blocks", z.free_blocks}});
    }
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
                               {"failcnt", g.failcnt},
                               {"slab_reclaimable", g.slab_reclaimable},
                               {"slab_unreclaimable", g.slab_unreclaimable}});
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
