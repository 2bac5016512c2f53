// SPDX-License-Identifier: MIT
//
// The statistics snapshot: what it reports agrees with the System, as text and as JSON.
#include <gfplab/pcp_sizing.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmstat.hpp>

#include <chrono>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;

// 64 MiB in three zones, virtual CPUs, no kswapd: nothing moves between two snapshots.
system_config quiet_config(unsigned cpus) {
    system_config c;
    c.memory_bytes = 64ull << 20;
    c.dma32_limit = 32ull << 20;
    c.cpus = cpus;
    c.pcp = pcp_mode::virtual_cpus;
    c.kswapd = false;
    return c;
}

// The per-CPU counter deltas are the kernel backend's (the lock-free one adds to the zone
// counter at once, docs/backends.md): these tests run on it whatever GFPLAB_BUDDY says.
system_config on_kernel_buddy(system_config c) {
    c.buddy = buddy_backend::kernel;
    return c;
}

TEST(Vmstat, SnapshotTextAndJsonAgreeWithTheSystem) {
    System s(quiet_config(2));
    const unsigned g = s.mem_cgroup_create("web", 100);
    set_active_memcg(g);
    page *p = s.alloc_pages(GFP_KERNEL_ACCOUNT, 2);
    set_active_memcg(root_mem_cgroup);
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_DMA | __GFP_DMA32, 0), nullptr); // refused

    auto v = take_vmstat_snapshot(s);
    ASSERT_EQ(v.zones.size(), 4u) << "every zone, the empty ZONE_MOVABLE too";
    EXPECT_FALSE(v.zones[3].populated);
    const auto &normal = v.zones[2];
    EXPECT_EQ(normal.name, "Normal");
    EXPECT_EQ(normal.managed, 8192u);
    EXPECT_EQ(normal.free_exact + long(normal.pcp), 8192 - 4);
    EXPECT_EQ(normal.high, s.node(0).node_zones[ZONE_NORMAL].high_wmark_pages());
    ASSERT_EQ(v.memcgs.size(), 1u);
    EXPECT_EQ(v.memcgs[0].usage, 4u);

    std::string text = format_vmstat(v);
    EXPECT_NE(text.find("Node 0, zone   Normal"), std::string::npos) << text;
    EXPECT_NE(text.find("\ngfplab_refused_bad_input 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("memcg 1 (web) usage 4"), std::string::npos) << text;

    auto j = nlohmann::json::parse(vmstat_json(v));
    EXPECT_EQ(j["zones"].size(), 4u);
    EXPECT_EQ(j["zones"][2]["managed"], 8192);
    EXPECT_EQ(j["counters"]["gfplab_refused_bad_input"], 1);
    EXPECT_EQ(j["counters"]["gfplab_reports"], 1);
    EXPECT_EQ(j["kswapd"][0]["running"], false);
    EXPECT_EQ(j["memcgs"][0]["name"], "web");
    s.free_pages(p, 2);
}

TEST(Vmstat, BuddyinfoCountsFreeBlocksPerOrderAsTheKernelPrintsThem) {
    System s(quiet_config(1));
    s.drain_all_pages();
    auto v = take_vmstat_snapshot(s);
    for (const auto &z : v.zones) {
        if (!z.populated)
            continue;
        ASSERT_EQ(z.free_blocks.size(), std::size_t(NR_PAGE_ORDERS));
        long pages = 0;
        for (unsigned o = 0; o < z.free_blocks.size(); o++)
            pages += long(z.free_blocks[o]) << o;
        EXPECT_EQ(pages, z.free_exact) << z.name; // nothing on per-CPU lists after the drain
    }
    // After an allocation, buddy and per-CPU lists together still account for every page.
    page *p = s.alloc_pages(GFP_KERNEL, 3);
    ASSERT_NE(p, nullptr);
    const auto after = take_vmstat_snapshot(s);
    for (const auto &z : after.zones) {
        if (!z.populated)
            continue;
        long pages = 0;
        for (unsigned o = 0; o < z.free_blocks.size(); o++)
            pages += long(z.free_blocks[o]) << o;
        EXPECT_EQ(pages, z.free_exact) << z.name;
    }
    // "Node %d, zone %8s " then "%6lu " for each order (6.12 frag_show_print()).
    const std::string text = format_buddyinfo(after);
    const std::string line = text.substr(text.find("Node 0, zone   Normal "));
    std::istringstream cols(
        line.substr(std::string("Node 0, zone   Normal ").size(),
                    line.find('\n') - std::string("Node 0, zone   Normal ").size()));
    std::vector<unsigned long> read;
    for (unsigned long n; cols >> n;)
        read.push_back(n);
    EXPECT_EQ(read, after.zones[2].free_blocks) << text;
    auto j = nlohmann::json::parse(vmstat_json(after));
    EXPECT_EQ(j["zones"][2]["free_blocks"].size(), std::size_t(NR_PAGE_ORDERS));
    s.free_pages(p, 3);
}

// 6.12 kswapd_try_to_sleep(): while kswapd is awake the zones with a percpu_drift_mark fold
// their deltas past calculate_pressure_threshold() (set_pgdat_percpu_threshold), and past
// calculate_normal_threshold() again once it goes to sleep. A shrinker run by kswapd's
// balance_pgdat() sees the threshold in force.
TEST(Vmstat, KswapdAwakeUsesThePressureThresholdAndSleepsWithTheNormalOne) {
    System s(quiet_config(64)); // 64 CPUs x 14 > low - min: ZONE_NORMAL has a drift mark
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    ASSERT_NE(z.percpu_drift_mark, 0ul);
    const int normal = calculate_normal_threshold(64, z.managed_pages);
    const int pressure = calculate_pressure_threshold(z.low_wmark_pages(), z.min_wmark_pages(), 64);
    ASSERT_LT(pressure, normal);
    EXPECT_EQ(z.stat_threshold.load(), normal);

    struct probe {
        zone *z;
        std::vector<int> seen;
    } pr{&z, {}};
    struct shrinker *shr = s.shrinkers().alloc(0, "threshold-probe");
    shr->private_data = &pr;
    shr->count_objects = [](struct shrinker *sh, struct shrink_control *) -> unsigned long {
        auto *p = static_cast<probe *>(sh->private_data);
        p->seen.push_back(p->z->stat_threshold.load());
        return 0;
    };
    shr->scan_objects = [](struct shrinker *, struct shrink_control *) -> unsigned long {
        return SHRINK_STOP;
    };
    s.shrinkers().register_shrinker(shr);
    // Every zone below its watermarks, so that kswapd has something to do.
    std::vector<page *> held;
    while (page *p = s.alloc_pages(GFP_NOWAIT | __GFP_NOWARN, 0))
        held.push_back(p);
    s.kswapd_run_once(0);
    ASSERT_FALSE(pr.seen.empty()) << "balance_pgdat() ran no shrinker";
    for (int t : pr.seen)
        EXPECT_EQ(t, pressure);
    EXPECT_EQ(z.stat_threshold.load(), normal) << "back to normal before sleeping";
    s.shrinkers().free(shr);
    for (page *p : held)
        s.free_pages(p, 0);
}

// 6.12 refresh_cpu_vm_stats() (vmstat_update, vm.stat_refresh): a delta below the threshold
// never folds by itself; the refresh moves it into the zone counter.
TEST(Vmstat, RefreshFoldsADeltaBelowTheThreshold) {
    System s(on_kernel_buddy(quiet_config(2)));
    set_current_vcpu(1);
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    const long exact = z.page_state_snapshot(NR_FREE_PAGES);
    ASSERT_NE(z.vm_stat[NR_FREE_PAGES].load(), exact) << "the refill's delta stayed on the CPU";
    EXPECT_GT(s.refresh_vm_stats(), 0);
    EXPECT_EQ(z.vm_stat[NR_FREE_PAGES].load(), exact);
    EXPECT_EQ(z.page_state_snapshot(NR_FREE_PAGES), exact);
    EXPECT_EQ(s.refresh_vm_stats(), 0) << "nothing left to fold";
    s.free_pages(p, 0);
}

// 6.12 vmstat_update every sysctl_stat_interval: with background threads the fold happens
// on its own.
TEST(Vmstat, ThePeriodicFoldBringsTheCounterToTheTruth) {
    system_config c = quiet_config(2);
    c.kswapd = true;
    c.stat_interval_ms = 10;
    System s(c);
    set_current_vcpu(1);
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    const long exact = z.page_state_snapshot(NR_FREE_PAGES);
    for (int i = 0; i < 500 && z.vm_stat[NR_FREE_PAGES].load() != exact; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(z.vm_stat[NR_FREE_PAGES].load(), exact);
    s.free_pages(p, 0);
}

} // namespace
