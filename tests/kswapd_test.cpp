// SPDX-License-Identifier: MIT
//
// kswapd against 6.12 mm/vmscan.c, run on the test's thread (kswapd_run_once(): a System
// without the kswapd thread, whose kswapd sleeps on its wait queue between turns):
// wakeup_kswapd()'s order of checks, prepare_kswapd_sleep()'s balanced and hopeless nodes,
// balance_pgdat()'s failure count, priority rules and boosted reclaim, and shrink_node()'s
// reset of kswapd_failures on progress.
#include <gfplab/page_cache.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include "../lib/src/reclaim/kswapd.hpp"
#include "support/memory.hpp"
#include "support/page_shrinker.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <mutex>
#include <vector>

namespace {

using namespace gfplab;
using namespace gfplab::test;

constexpr int MAX_RECLAIM_RETRIES = 16; // mm/internal.h
constexpr int DEF_PRIORITY = 12;        // mm/vmscan.c

system_config config() {
    return reclaim_config(false, 20);
}

zone &normal(System &s) {
    return s.node(0).node_zones[ZONE_NORMAL];
}

// Allocates and frees one page with ZONE_BOOSTED_WATERMARK set: rmqueue()'s wakeup_kswapd()
// for a boosted zone, on a node whose free memory stays where it is.
void boosted_wakeup(System &s) {
    normal(s).flags.fetch_or(ZONE_BOOSTED_WATERMARK);
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    s.free_pages(p, 0);
}

// A shrinker that frees no page but shows reclaim's priority: with 2^20 objects and
// DEFAULT_SEEKS, do_shrink_slab() scans (2^20 >> priority) * 4 / 2 = 2^(21 - priority)
// objects per shrink_slab() call, in whole batches.
struct priority_probe {
    System &s;
    std::mutex lock;
    std::vector<unsigned long> scanned; // one entry per shrink_slab() pass
    struct shrinker *shr = nullptr;

    explicit priority_probe(System &sys) : s(sys) {
        shr = s.shrinkers().alloc(0, "priority-probe");
        shr->private_data = this;
        shr->count_objects = [](struct shrinker *sh, struct shrink_control *) -> unsigned long {
            auto *self = static_cast<priority_probe *>(sh->private_data);
            std::lock_guard<std::mutex> g(self->lock);
            self->scanned.push_back(0);
            return 1ul << 20;
        };
        shr->scan_objects = [](struct shrinker *sh, struct shrink_control *sc) -> unsigned long {
            auto *self = static_cast<priority_probe *>(sh->private_data);
            std::lock_guard<std::mutex> g(self->lock);
            self->scanned.back() += sc->nr_to_scan;
            return sc->nr_to_scan;
        };
        s.shrinkers().register_shrinker(shr);
    }
    ~priority_probe() { s.shrinkers().free(shr); }
    void clear() {
        std::lock_guard<std::mutex> g(lock);
        scanned.clear();
    }
    // The priority of every pass since clear().
    std::vector<int> priorities() {
        std::lock_guard<std::mutex> g(lock);
        std::vector<int> out;
        for (unsigned long n : scanned) {
            int log2 = 0;
            while (n > 1) {
                n >>= 1;
                log2++;
            }
            out.push_back(21 - log2);
        }
        return out;
    }
};

// balance_pgdat(): a node already balanced when the run starts goes to `out`, past the
// kswapd_failures increment. More than MAX_RECLAIM_RETRIES runs on an idle node leave it
// hopeful.
TEST(BalancePgdat, BalancedNodeNeverCountsAFailure) {
    System s(config());
    for (int i = 0; i < MAX_RECLAIM_RETRIES + 4; i++)
        EXPECT_EQ(s.kswapd_run_once(0), 0u);
    EXPECT_EQ(s.kswapd_statistics(0).failures, 0);
    expect_clean(s);
}

// balance_pgdat() counts a run that reclaimed nothing; kswapd_try_to_sleep() ->
// prepare_kswapd_sleep() then lets a hopeless node's kswapd sleep (failures >=
// MAX_RECLAIM_RETRIES), and wakeup_kswapd() does not wake it: the count stops there.
TEST(BalancePgdat, UnbalancedNodeWithNothingToReclaimBecomesHopeless) {
    System s(config());
    auto held = exhaust(s); // below low: the allocations woke kswapd
    EXPECT_GE(s.kswapd_statistics(0).wakeups, 1u);
    for (int i = 1; i <= MAX_RECLAIM_RETRIES; i++) {
        EXPECT_EQ(s.kswapd_run_once(0), 0u);
        EXPECT_EQ(s.kswapd_statistics(0).failures, i) << "run " << i;
    }
    const auto rounds = s.kswapd_statistics(0).rounds;
    for (int i = 0; i < 4; i++)
        EXPECT_EQ(s.kswapd_run_once(0), 0u);
    EXPECT_EQ(s.kswapd_statistics(0).failures, MAX_RECLAIM_RETRIES);
    EXPECT_EQ(s.kswapd_statistics(0).rounds, rounds) << "a hopeless node's kswapd sleeps";
    release(s, held);
}

// wakeup_kswapd(): the request is recorded first; then a hopeless node
// (kswapd_failures >= MAX_RECLAIM_RETRIES) is left to direct reclaim, not woken.
TEST(WakeupKswapd, HopelessNodeRecordsTheRequestButIsNotWoken) {
    System s(config());
    auto held = exhaust(s);
    for (int i = 0; i < MAX_RECLAIM_RETRIES; i++)
        s.kswapd_run_once(0);
    ASSERT_EQ(s.kswapd_statistics(0).failures, MAX_RECLAIM_RETRIES);
    const auto wakeups = s.kswapd_statistics(0).wakeups;
    EXPECT_EQ(s.kswapd_statistics(0).highest_zoneidx, -1) << "the last run took the request";
    EXPECT_EQ(s.alloc_pages(GFP_NOWAIT | __GFP_NOWARN, 0), nullptr);
    EXPECT_EQ(s.kswapd_statistics(0).wakeups, wakeups);
    EXPECT_EQ(s.kswapd_statistics(0).highest_zoneidx, int(ZONE_NORMAL));
    release(s, held);
}

// wakeup_kswapd() runs in the slow path of atomic requests: while kswapd is awake (in a run,
// off its wait queue) it records the request without kswapd's lock, as the kernel's
// WRITE_ONCE()s do, and returns. Here the test holds that lock throughout.
TEST(WakeupKswapd, AnAwakeKswapdIsAskedWithoutItsLock) {
    System s(config());
    auto held = exhaust(s); // below the low watermark: a request wakes kswapd
    kswapd_state &k = reclaim_internals::kswapd(s, 0);
    const auto wakeups = s.kswapd_statistics(0).wakeups;
    std::unique_lock<std::mutex> lk(k.lock);
    k.sleeping = false; // in a run
    auto done =
        std::async(std::launch::async, [&] { return s.alloc_pages(GFP_NOWAIT | __GFP_NOWARN, 0); });
    const bool returned = done.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    k.sleeping = true;
    lk.unlock();
    EXPECT_TRUE(returned) << "wakeup_kswapd() waited for kswapd's lock";
    if (page *p = done.get())
        s.free_pages(p, 0);
    EXPECT_EQ(s.kswapd_statistics(0).highest_zoneidx, int(ZONE_NORMAL));
    EXPECT_EQ(s.kswapd_statistics(0).wakeups, wakeups) << "an awake kswapd is not woken";
    release(s, held);
}

// wakeup_kswapd(): a node balanced for the request and not boosted
// (pgdat_watermark_boosted()) is not woken, though the request is recorded; a boosted one
// is woken even when balanced.
TEST(WakeupKswapd, BalancedNodeIsWokenOnlyWhenBoosted) {
    System s(config());
    zone &z = normal(s);
    boosted_wakeup(s); // the flag without a boost: balanced, nothing to do
    EXPECT_EQ(s.kswapd_statistics(0).wakeups, 0u);
    EXPECT_EQ(s.kswapd_statistics(0).highest_zoneidx, int(ZONE_NORMAL));
    EXPECT_EQ(s.kswapd_statistics(0).order, 0u);
    z.watermark_boost.store(pageblock_nr_pages);
    boosted_wakeup(s);
    EXPECT_EQ(s.kswapd_statistics(0).wakeups, 1u);
    z.watermark_boost.store(0);
    expect_clean(s);
}

// shrink_node(): reclaim that makes progress on a node, direct reclaim included, sets
// kswapd_failures back to 0 ("a successful direct reclaim run will revive a dormant
// kswapd"); wakeup_kswapd() then wakes it again.
TEST(ShrinkNode, DirectReclaimProgressRevivesAHopelessKswapd) {
    System s(config());
    auto held = exhaust(s);
    for (int i = 0; i < MAX_RECLAIM_RETRIES; i++)
        s.kswapd_run_once(0);
    ASSERT_EQ(s.kswapd_statistics(0).failures, MAX_RECLAIM_RETRIES);
    release(s, held);
    page_shrinker cache(s, "kswapd-test-cache");
    cache.fill(100000);
    exhaust(s).swap(held);
    const auto wakeups = s.kswapd_statistics(0).wakeups;
    EXPECT_EQ(s.kswapd_run_once(0), 0u) << "hopeless: kswapd stays asleep";
    page *p = s.alloc_pages(GFP_KERNEL, 0); // direct reclaim from the cache
    ASSERT_NE(p, nullptr);
    EXPECT_GT(s.stats().direct_reclaimed.load(), 0u);
    EXPECT_EQ(s.kswapd_statistics(0).failures, 0);
    EXPECT_EQ(s.kswapd_statistics(0).wakeups, wakeups) << "woken before reclaim, hopeless";
    s.free_pages(p, 0);
    release(s, held);
    exhaust(s).swap(held); // below low again: now kswapd is woken
    EXPECT_GT(s.kswapd_statistics(0).wakeups, wakeups);
    EXPECT_GT(s.kswapd_run_once(0), 0u);
    EXPECT_EQ(s.kswapd_statistics(0).failures, 0);
    release(s, held);
}

// balance_pgdat(): boosted reclaim does not raise the priority past DEF_PRIORITY - 2
// (raise_priority = false there) but keeps reclaiming at that priority until the boost is
// reclaimed; the boosts it started with are then taken off the zones.
TEST(BalancePgdat, BoostedReclaimHoldsAtDefPriorityMinus2) {
    System s(config());
    zone &z = normal(s);
    for (int i = 0; i < 10000; i++)
        s.page_cache().add_file();
    const unsigned long boost = 256;
    z.watermark_boost.store(boost);
    ASSERT_GT(z.page_state_snapshot(NR_FREE_PAGES), long(z.high_wmark_pages() + 512));
    boosted_wakeup(s); // balanced but boosted: kswapd is woken
    priority_probe probe(s);
    const unsigned long got = s.kswapd_run_once(0);
    EXPECT_GE(got, boost);
    const auto prio = probe.priorities();
    ASSERT_FALSE(prio.empty());
    EXPECT_EQ(prio.front(), DEF_PRIORITY);
    EXPECT_EQ(*std::min_element(prio.begin(), prio.end()), DEF_PRIORITY - 2);
    EXPECT_GT(std::count(prio.begin(), prio.end(), DEF_PRIORITY - 2), 1);
    EXPECT_EQ(z.watermark_boost.load(), 0u);
    EXPECT_EQ(s.kswapd_statistics(0).failures, 0);
}

} // namespace
