// SPDX-License-Identifier: MIT
//
// The statistics under the kernel's names mean what 6.12 counts under them (pgalloc_<zone>
// in pages of the zone a block came from, pgfree, allocstall_<zone> by the request's highest
// zone, pageoutrun per balance_pgdat() run, pgscan/pgsteal by reclaimer), the per-CPU event
// counters add up exactly once nothing runs, in every per-CPU mode the machine has, and the
// texts have the shapes of 6.12's /proc/vmstat and /proc/zoneinfo (mm/vmstat.c).
#include <gfplab/page_cache.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmstat.hpp>

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;

// 64 MiB: DMA below 16 MiB, DMA32 below 32 MiB, NORMAL above, an empty MOVABLE; no kswapd
// thread, so nothing moves between two snapshots.
system_config quiet_config(unsigned cpus, pcp_mode mode = pcp_mode::virtual_cpus) {
    system_config c;
    c.memory_bytes = 64ull << 20;
    c.dma32_limit = 32ull << 20;
    c.cpus = cpus;
    c.pcp = mode;
    c.kswapd = false;
    c.warn_alloc = false;
    return c;
}

std::map<std::string, std::uint64_t> counters(System &s) {
    std::map<std::string, std::uint64_t> m;
    for (const auto &[name, value] : take_vmstat_snapshot(s).counters)
        m[name] = value;
    return m;
}

// How much each counter grew from `before` to now.
std::map<std::string, std::int64_t> growth(System &s,
                                           const std::map<std::string, std::uint64_t> &before) {
    std::map<std::string, std::int64_t> d;
    for (const auto &[name, value] : counters(s))
        d[name] = std::int64_t(value) - std::int64_t(before.at(name));
    return d;
}

std::uint64_t managed_pages(System &s) {
    std::uint64_t n = 0;
    for (int nid = 0; nid < s.nr_nodes(); nid++)
        for (const zone &z : s.node(nid).node_zones)
            n += z.managed_pages;
    return n;
}

// __count_zid_vm_events(PGALLOC, page_zonenum(page), 1 << order): pages, by the zone the
// block came from, whether a per-CPU list, its refill or the buddy allocator served it.
TEST(VmEvents, PgallocCountsPagesInTheZoneTheyCameFrom) {
    System s(quiet_config(2));
    set_current_vcpu(1);
    const auto before = counters(s);
    std::vector<std::pair<page *, unsigned>> held;
    for (int i = 0; i < 5; i++) // a refill, then list hits
        held.emplace_back(s.alloc_pages(GFP_DMA32, 0), 0);
    for (int i = 0; i < 3; i++)
        held.emplace_back(s.alloc_pages(GFP_DMA32, 2), 2);
    held.emplace_back(s.alloc_pages(GFP_KERNEL, 9), 9); // straight from the buddy allocator
    for (const auto &[p, order] : held) {
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(p->zone, order == 9 ? ZONE_NORMAL : ZONE_DMA32);
    }
    auto d = growth(s, before);
    EXPECT_EQ(d["pgalloc_dma32"], 5 + 3 * 4);
    EXPECT_EQ(d["pgalloc_normal"], 512);
    EXPECT_EQ(d["pgalloc_dma"], 0);
    EXPECT_EQ(d["pgalloc_movable"], 0);
    EXPECT_EQ(d["pgfree"], 0);
    EXPECT_GE(d["gfplab_pcp_refill"], 2) << "one per list that ran empty";
    EXPECT_EQ(d["gfplab_pcp_alloc_hit"] + d["gfplab_pcp_refill"], 8)
        << "every order <= 3 block came off a list or with its refill";

    // PGFREE: pages, per-CPU list or buddy allocator alike.
    const auto mid = counters(s);
    for (const auto &[p, order] : held)
        s.free_pages(p, order);
    d = growth(s, mid);
    EXPECT_EQ(d["pgfree"], 5 + 3 * 4 + 512);
    EXPECT_EQ(d["gfplab_pcp_free_hit"], 8);
    EXPECT_EQ(d["pgalloc_dma32"] + d["pgalloc_normal"], 0);
}

// memblock_free_all() gives every managed page to the buddy allocator through
// __free_pages_core(), which 6.12 counts in PGFREE: a new System has freed all its memory.
TEST(VmEvents, BootFreesEveryManagedPage) {
    System s(quiet_config(1));
    EXPECT_EQ(counters(s).at("pgfree"), managed_pages(s));
}

// do_try_to_free_pages() counts ALLOCSTALL by sc->reclaim_idx, the highest zone of the
// request's mask: a GFP_DMA32 request that reclaims is an allocstall_dma32.
TEST(VmEvents, DirectReclaimCountsAllocstallByTheRequestsHighestZone) {
    System s(quiet_config(1));
    std::vector<page *> held;
    // DMA32 and DMA down to their min watermarks (GFP_NOWAIT does not reclaim).
    while (page *p = s.alloc_pages(GFP_NOWAIT | __GFP_DMA32, 0))
        held.push_back(p);
    const auto before = counters(s);
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_DMA32 | __GFP_NORETRY | __GFP_NOWARN, 0), nullptr);
    auto d = growth(s, before);
    EXPECT_EQ(d["allocstall_dma32"], 1) << "__GFP_NORETRY reclaims once";
    EXPECT_EQ(d["allocstall_dma"] + d["allocstall_normal"] + d["allocstall_movable"], 0);
    EXPECT_EQ(s.stats().allocstall_total(), 1u);
    // A GFP_KERNEL request reclaiming is an allocstall_normal.
    while (page *p = s.alloc_pages(GFP_NOWAIT, 0))
        held.push_back(p);
    const auto mid = counters(s);
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0), nullptr);
    d = growth(s, mid);
    EXPECT_EQ(d["allocstall_normal"], 1);
    EXPECT_EQ(d["allocstall_dma32"], 0);
    for (page *p : held)
        s.free_pages(p, 0);
}

// PAGEOUTRUN once per balance_pgdat() run; PGSCAN_KSWAPD / PGSTEAL_KSWAPD for the LRU pages
// kswapd scanned and freed (the file LRU here: PGSCAN_FILE / PGSTEAL_FILE too), none of it
// direct.
TEST(VmEvents, KswapdRunCountsPageoutrunAndItsScanAndSteal) {
    System s(quiet_config(1));
    class page_cache &pc = s.page_cache();
    for (int i = 0; i < 2000; i++)
        ASSERT_NE(pc.add_file(), 0u);
    std::vector<page *> held;
    while (page *p = s.alloc_pages(GFP_NOWAIT, 0))
        held.push_back(p);
    const auto snap = take_vmstat_snapshot(s);
    const auto before = counters(s);
    ASSERT_GT(s.kswapd_run_once(0), 0u);
    auto d = growth(s, before);
    EXPECT_EQ(d["pageoutrun"], 1);
    EXPECT_GT(d["pgsteal_kswapd"], 0);
    EXPECT_GE(d["pgscan_kswapd"], d["pgsteal_kswapd"]);
    EXPECT_EQ(d["pgsteal_file"], d["pgsteal_kswapd"]);
    EXPECT_EQ(d["pgscan_file"], d["pgscan_kswapd"]);
    EXPECT_EQ(d["pgscan_direct"] + d["pgsteal_direct"] + d["pgsteal_anon"], 0);
    EXPECT_EQ(d["nr_inactive_file"], -d["pgsteal_file"]) << "what it stole left the LRU";
    EXPECT_EQ(d["nr_zone_inactive_file"], d["nr_inactive_file"]);
    EXPECT_EQ(snap.nodes[0].nr_inactive_file, 2000u);
    EXPECT_EQ(s.kswapd_statistics(0).rounds, counters(s).at("pageoutrun"));
    for (page *p : held)
        s.free_pages(p, 0);
}

// this_cpu_inc() for the fast path's events, in every per-CPU mode: two threads allocate and
// free blocks of orders 0..3 (refills, list hits, drains past high, drain_all_pages()), and
// at quiescence the per-CPU counters add up to exactly the pages they moved.
void per_cpu_sums_are_exact(pcp_mode mode, unsigned cpus) {
    system_config c = quiet_config(cpus, mode);
    c.memory_bytes = 512ull << 20; // batches above one page: refills leave blocks to hit
    c.dma32_limit = 256ull << 20;
    System s(c);
    if (mode == pcp_mode::rseq && !s.pcp_uses_rseq())
        GTEST_SKIP() << "rseq is not available here";
    const auto before = counters(s);
    constexpr int rounds = 300;
    std::vector<std::thread> threads;
    std::vector<std::uint64_t> pages(2);
    for (unsigned t = 0; t < 2; t++)
        threads.emplace_back([&s, &pages, t] {
            set_current_vcpu(t % s.nr_cpus());
            std::vector<std::pair<page *, unsigned>> held;
            auto alloc = [&](unsigned order) {
                if (page *p = s.alloc_pages(GFP_KERNEL, order)) {
                    held.emplace_back(p, order);
                    pages[t] += 1ul << order;
                }
            };
            auto free_all = [&] {
                for (const auto &[p, o] : held)
                    s.free_pages(p, o);
                held.clear();
            };
            for (int r = 0; r < rounds; r++) {
                const unsigned order = unsigned(r) % 4;
                for (int i = 0; i < 8; i++)
                    alloc(order);
                if (r % 3 == 2)
                    free_all();
            }
            free_all();
            // Order-0 pages left on the lists for drain_all_pages().
            for (int i = 0; i < 4; i++)
                alloc(0);
            free_all();
        });
    for (auto &t : threads)
        t.join();
    s.drain_all_pages();
    auto d = growth(s, before);
    const std::int64_t moved = std::int64_t(pages[0] + pages[1]);
    EXPECT_EQ(d["pgalloc_normal"], moved);
    EXPECT_EQ(d["pgfree"], moved);
    EXPECT_GT(d["gfplab_pcp_alloc_hit"], 0);
    EXPECT_GT(d["gfplab_pcp_free_hit"], 0);
    EXPECT_GT(d["gfplab_pcp_drain_all_pages"], 0);
    // What the lists took in came back out: handed out, drained past high, or drained all.
    const auto v = take_vmstat_snapshot(s);
    const zone_snapshot &normal = v.zones[ZONE_NORMAL];
    EXPECT_EQ(normal.pcp, 0u) << "drained";
    EXPECT_EQ(normal.pgalloc, std::uint64_t(moved));
    EXPECT_EQ(normal.pgfree, std::uint64_t(moved));
}

TEST(VmEvents, PerCpuCountsAddUpExactlyWithVirtualCpus) {
    per_cpu_sums_are_exact(pcp_mode::virtual_cpus, 2);
}

TEST(VmEvents, PerCpuCountsAddUpExactlyLocked) {
    per_cpu_sums_are_exact(pcp_mode::locked, std::thread::hardware_concurrency());
}

TEST(VmEvents, PerCpuCountsAddUpExactlyInRestartableSequences) {
    per_cpu_sums_are_exact(pcp_mode::rseq, 0);
}

// /proc/vmstat: "name value" lines; 6.12's names in vmstat_text order, gfplab's after them,
// each beginning "gfplab_".
TEST(VmstatText, ProcVmstatHasTheKernelsShapeAndOrder) {
    System s(quiet_config(2));
    const std::string text = proc_vmstat(s);
    const std::vector<std::string> kernel_order = {"nr_free_pages",
                                                   "nr_zone_inactive_anon",
                                                   "nr_zone_inactive_file",
                                                   "nr_inactive_anon",
                                                   "nr_inactive_file",
                                                   "nr_slab_reclaimable",
                                                   "nr_slab_unreclaimable",
                                                   "nr_dirty",
                                                   "pswpin",
                                                   "pswpout",
                                                   "pgalloc_dma",
                                                   "pgalloc_dma32",
                                                   "pgalloc_normal",
                                                   "pgalloc_movable",
                                                   "allocstall_dma",
                                                   "allocstall_dma32",
                                                   "allocstall_normal",
                                                   "allocstall_movable",
                                                   "pgfree",
                                                   "pgsteal_kswapd",
                                                   "pgsteal_direct",
                                                   "pgscan_kswapd",
                                                   "pgscan_direct",
                                                   "pgscan_anon",
                                                   "pgscan_file",
                                                   "pgsteal_anon",
                                                   "pgsteal_file",
                                                   "pageoutrun",
                                                   "oom_kill",
                                                   "compact_stall",
                                                   "compact_fail",
                                                   "compact_success"};
    std::istringstream in(text);
    const std::regex line(R"(([a-z0-9_]+) ([0-9]+))");
    std::vector<std::string> names;
    for (std::string l; std::getline(in, l);) {
        std::smatch m;
        ASSERT_TRUE(std::regex_match(l, m, line)) << "'" << l << "'";
        names.push_back(m[1]);
    }
    ASSERT_GT(names.size(), kernel_order.size());
    for (std::size_t i = 0; i < kernel_order.size(); i++)
        EXPECT_EQ(names[i], kernel_order[i]);
    for (std::size_t i = kernel_order.size(); i < names.size(); i++)
        EXPECT_EQ(names[i].rfind("gfplab_", 0), 0u) << names[i] << " is not a 6.12 name";
    EXPECT_EQ(text.rfind("nr_free_pages ", 0), 0u);
}

// /proc/zoneinfo as 6.12's zoneinfo_show_print() prints it, line by line: every zone of the
// node, the empty ZONE_MOVABLE with its watermarks and protection only, the per-node stats
// with the first populated zone, and a pageset per CPU.
TEST(VmstatText, ZoneinfoHasTheKernelsShape) {
    System s(quiet_config(2));
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    s.free_pages(p, 0); // a page on CPU 0's list
    const std::string text = zoneinfo(s);
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        lines.push_back(l);
    const std::string num = "[0-9]+";
    auto zone_head = [](const std::string &name) {
        return "Node 0, zone " + std::string(8 - name.size(), ' ') + name;
    };
    std::vector<std::string> want;
    auto watermarks = [&] {
        for (const char *w :
             {"  pages free     ", "        boost    ", "        min      ", "        low      ",
              "        high     ", "        promo    ", "        spanned  ", "        present  ",
              "        managed  ", "        cma      "})
            want.push_back(std::string(w) + num);
        want.push_back(R"(        protection: \(-?[0-9]+, -?[0-9]+, -?[0-9]+, -?[0-9]+\))");
    };
    bool first = true;
    for (const std::string name : {"DMA", "DMA32", "Normal"}) {
        want.push_back(zone_head(name));
        if (first) {
            want.push_back("  per-node stats");
            want.push_back("      nr_inactive_anon " + num);
            want.push_back("      nr_inactive_file " + num);
            first = false;
        }
        watermarks();
        want.push_back("      nr_free_pages " + num);
        want.push_back("      nr_zone_inactive_anon " + num);
        want.push_back("      nr_zone_inactive_file " + num);
        want.push_back("  pagesets");
        for (int cpu = 0; cpu < 2; cpu++) {
            want.push_back("    cpu: " + std::to_string(cpu));
            want.push_back("              count: " + num);
            want.push_back("              high:  " + num);
            want.push_back("              batch: " + num);
            want.push_back("  vm stats threshold: " + num);
        }
        want.push_back("  node_unreclaimable:  0");
        want.push_back("  start_pfn:           " + num);
    }
    want.push_back(zone_head("Movable"));
    watermarks();
    ASSERT_EQ(lines.size(), want.size()) << text;
    for (std::size_t i = 0; i < want.size(); i++)
        EXPECT_TRUE(std::regex_match(lines[i], std::regex(want[i])))
            << "line " << i + 1 << ": '" << lines[i] << "' is not '" << want[i] << "'";
    // The values are the zone's: ZONE_NORMAL's start, managed pages and CPU 0's list.
    const zone &z = s.node(0).node_zones[ZONE_NORMAL];
    EXPECT_NE(text.find("\n        managed  " + std::to_string(z.managed_pages) + "\n"),
              std::string::npos);
    EXPECT_NE(text.find("\n  start_pfn:           " + std::to_string(z.zone_start_pfn) + "\n"),
              std::string::npos);
    const auto v = take_vmstat_snapshot(s);
    unsigned long cached = 0;
    for (const auto &ps : v.zones[ZONE_NORMAL].pagesets)
        cached += ps.count;
    EXPECT_EQ(cached, s.pcp_count(z));
    EXPECT_GT(cached, 0u);
}

} // namespace
