// SPDX-License-Identifier: MIT
//
// Reclaim and the slow path's rules: direct reclaim through shrinkers with the scoped mask,
// the retry modifiers, the OOM killer's conditions, "too small to fail" with its stall
// report, the PF_MEMALLOC recursion guard, and kswapd's wake and balance.
#include <gfplab/lockdep.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include "support/memory.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;
using namespace gfplab::test;
using namespace std::chrono_literals;

system_config config(bool kswapd = false) {
    return reclaim_config(kswapd, 20);
}

// A cache of pages that a shrinker gives back (like a dentry cache), remembering every
// mask reclaim called it with.
struct page_cache_shrinker {
    System &s;
    std::mutex lock;
    std::vector<page *> pages;
    std::vector<gfp_t> masks;
    bool needs_fs = false; // super_cache_scan: SHRINK_STOP without __GFP_FS
    std::function<void()> inside_scan;
    struct shrinker *shr = nullptr;

    explicit page_cache_shrinker(System &sys, const char *name = "test-cache") : s(sys) {
        shr = s.shrinkers().alloc(0, name);
        shr->private_data = this;
        shr->count_objects = [](struct shrinker *sh, struct shrink_control *) -> unsigned long {
            auto *self = static_cast<page_cache_shrinker *>(sh->private_data);
            std::lock_guard<std::mutex> g(self->lock);
            return self->pages.empty() ? SHRINK_EMPTY : self->pages.size();
        };
        shr->scan_objects = [](struct shrinker *sh, struct shrink_control *sc) -> unsigned long {
            auto *self = static_cast<page_cache_shrinker *>(sh->private_data);
            std::vector<page *> victims;
            {
                std::lock_guard<std::mutex> g(self->lock);
                self->masks.push_back(sc->gfp_mask);
                if (self->needs_fs && !(sc->gfp_mask & __GFP_FS))
                    return SHRINK_STOP;
                unsigned long n = std::min<unsigned long>(sc->nr_to_scan, self->pages.size());
                victims.assign(self->pages.end() - long(n), self->pages.end());
                self->pages.resize(self->pages.size() - n);
            }
            if (self->inside_scan)
                self->inside_scan();
            for (page *p : victims)
                self->s.free_pages(p, 0);
            return victims.size();
        };
        s.shrinkers().register_shrinker(shr);
    }
    ~page_cache_shrinker() {
        s.shrinkers().free(shr);
        for (page *p : pages)
            s.free_pages(p, 0);
    }
    // Fills the cache with up to n pages, without reclaim (which would take them from the
    // cache itself): it stops at the min watermark.
    void fill(unsigned long n) {
        for (unsigned long i = 0; i < n; i++) {
            // Neither direct reclaim nor a kswapd wake-up: filling must not reclaim.
            page *p = s.alloc_pages((GFP_KERNEL & ~__GFP_RECLAIM) | __GFP_NOWARN, 0);
            if (!p)
                break;
            std::lock_guard<std::mutex> g(lock);
            pages.push_back(p);
        }
        std::lock_guard<std::mutex> g(lock);
        masks.clear();
    }
    std::size_t size() {
        std::lock_guard<std::mutex> g(lock);
        return pages.size();
    }
    std::vector<gfp_t> seen() {
        std::lock_guard<std::mutex> g(lock);
        return masks;
    }
};

TEST(DirectReclaim, ShrinkersFreePagesForABlockedAllocation) {
    System s(config());
    page_cache_shrinker cache(s);
    cache.fill(100000); // everything GFP_KERNEL can take
    auto rest = exhaust(s);
    const std::size_t cached = cache.size();
    ASSERT_GT(cached, 10000u);
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    EXPECT_LT(cache.size(), cached) << "the shrinker gave pages back";
    EXPECT_GE(s.stats().allocstall_total(), 1u);
    EXPECT_GT(s.stats().direct_reclaimed.load(), 0u);
    auto seen = cache.seen();
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.front(), GFP_KERNEL);
    s.free_pages(p, 0);
    release(s, rest);
    expect_clean(s);
}

TEST(DirectReclaim, ShrinkersSeeTheScopedMask) {
    struct row {
        unsigned scope;
        gfp_t request, seen;
    } rows[] = {
        {0, GFP_KERNEL, GFP_KERNEL},
        {PF_MEMALLOC_NOFS, GFP_KERNEL, GFP_NOFS},
        {PF_MEMALLOC_NOIO, GFP_KERNEL, GFP_NOIO},
        {PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO, GFP_KERNEL, GFP_NOIO},
        {PF_MEMALLOC_NOFS, GFP_NOIO, GFP_NOIO},
        {0, GFP_NOFS | __GFP_ZERO, GFP_NOFS | __GFP_ZERO},
    };
    for (const auto &r : rows) {
        System s(config());
        page_cache_shrinker cache(s);
        cache.fill(100000);
        auto rest = exhaust(s);
        unsigned saved = r.scope ? memalloc_flags_save(r.scope) : 0;
        page *p = s.alloc_pages(r.request, 0);
        if (r.scope)
            memalloc_flags_restore(saved);
        ASSERT_NE(p, nullptr);
        auto seen = cache.seen();
        ASSERT_FALSE(seen.empty());
        for (gfp_t m : seen)
            EXPECT_EQ(m, r.seen) << gfp_describe(m) << " vs " << gfp_describe(r.seen);
        s.free_pages(p, 0);
        release(s, rest);
    }
}

TEST(SlowPath, AtomicRequestsNeverReclaim) {
    System s(config());
    page_cache_shrinker cache(s);
    cache.fill(100000);
    auto rest = exhaust(s, GFP_ATOMIC); // down to the atomic floor
    EXPECT_EQ(s.alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0), nullptr);
    EXPECT_EQ(s.alloc_pages(GFP_NOWAIT | __GFP_NOWARN, 0), nullptr);
    EXPECT_TRUE(cache.seen().empty()) << "I7: no shrinker ran for a non-blocking request";
    EXPECT_EQ(s.stats().allocstall_total(), 0u);
    release(s, rest);
}

TEST(SlowPath, NoretryGivesUpAfterOneReclaimAndNeverOoms) {
    System s(config());
    page_cache_shrinker cache(s);
    cache.needs_fs = true; // NOFS reclaim gets nothing from it
    cache.fill(100000);
    auto rest = exhaust(s);
    EXPECT_EQ(s.alloc_pages(GFP_NOFS | __GFP_NORETRY | __GFP_NOWARN, 0), nullptr);
    EXPECT_EQ(s.stats().allocstall_total(), 1u);
    EXPECT_EQ(s.stats().oom_invocations.load(), 0u);
    release(s, rest);
}

TEST(SlowPath, CostlyOrdersFailWithoutRetryMayfailAndNeverOom) {
    System s(config());
    auto rest = exhaust(s);
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 4), nullptr);
    EXPECT_EQ(s.stats().oom_invocations.load(), 0u);
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN, 4), nullptr);
    EXPECT_EQ(s.stats().oom_invocations.load(), 0u) << "costly orders never OOM (I11)";
    EXPECT_GE(s.stats().allocstall_total(), 2u);
    release(s, rest);
}

TEST(Oom, KillsTheLargestVictimForAGfpKernelRequest) {
    System s(config());
    std::vector<std::string> log;
    s.set_log_sink([&](const std::string &l) { log.push_back(l); });
    std::vector<page *> small_holder, big_holder;
    std::mutex lock;
    auto take = [&](std::vector<page *> &v, int n) {
        for (int i = 0; i < n; i++) {
            page *p = s.alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0);
            if (!p)
                break;
            v.push_back(p);
        }
    };
    take(small_holder, 100);
    take(big_holder, 100000);
    auto free_all = [&](std::vector<page *> &v) {
        std::lock_guard<std::mutex> g(lock);
        unsigned long n = v.size();
        release(s, v);
        return n;
    };
    unsigned small_id = s.register_oom_victim(
        "small", [&] { return (unsigned long)small_holder.size(); },
        [&] { return free_all(small_holder); });
    std::atomic<bool> big_marked{false};
    std::atomic<unsigned> big_id{0};
    std::thread victim([&] {
        big_id = s.register_oom_victim(
            "big", [&] { return (unsigned long)big_holder.size(); },
            [&] { return free_all(big_holder); });
        while (!current_is_oom_victim())
            std::this_thread::sleep_for(1ms);
        big_marked = true;
        clear_oom_victim();
    });
    while (!big_id)
        std::this_thread::sleep_for(1ms);
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    victim.join();
    EXPECT_TRUE(big_marked) << "the victim's task was marked for ALLOC_OOM reserves";
    EXPECT_EQ(s.stats().oom_kill.load(), 1u);
    EXPECT_TRUE(big_holder.empty());
    EXPECT_EQ(small_holder.size(), 100u);
    // The OOM report (stall reports may come before it on a slow machine).
    auto oom_line = std::find_if(log.begin(), log.end(), [](const std::string &l) {
        return l.find("invoked oom-killer") != std::string::npos;
    });
    ASSERT_NE(oom_line, log.end());
    EXPECT_NE(oom_line->find("invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL)"), std::string::npos)
        << *oom_line;
    EXPECT_NE(oom_line->find("Killed victim"), std::string::npos) << *oom_line;
    s.unregister_oom_victim(small_id);
    s.unregister_oom_victim(big_id);
    s.free_pages(p, 0);
    release(s, small_holder);
    expect_clean(s);
}

// "Too small to fail": GFP_NOFS order 0 may not OOM-kill, yet does not fail either; it
// loops, reporting stalls, until memory comes back.
TEST(Oom, NofsNeverKillsButKeepsTryingAndReportsTheStall) {
    System s(config());
    std::vector<std::string> log;
    std::mutex log_lock;
    s.set_log_sink([&](const std::string &l) {
        std::lock_guard<std::mutex> g(log_lock);
        log.push_back(l);
    });
    std::vector<page *> hog;
    for (page *p; (p = s.alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0));)
        hog.push_back(p);
    unsigned id = s.register_oom_victim(
        "hog", [&] { return (unsigned long)hog.size(); }, [] { return 0ul; });
    std::thread freer([&] {
        std::this_thread::sleep_for(100ms);
        // Enough that the freeing CPU's list passes high and drains into the buddy: pages
        // cached on a per-CPU list do not count as free for the watermarks.
        for (int i = 0; i < 2048; i++) {
            s.free_pages(hog.back(), 0);
            hog.pop_back();
        }
    });
    unsigned nofs = memalloc_nofs_save();
    page *p = s.alloc_pages(GFP_KERNEL, 0); // NOFS through the scope
    memalloc_nofs_restore(nofs);
    freer.join();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(s.stats().oom_kill.load(), 0u) << "I11: no kill without __GFP_FS";
    EXPECT_GT(s.stats().oom_nofs.load(), 0u);
    EXPECT_GT(s.stats().stalls.load(), 0u);
    {
        std::lock_guard<std::mutex> g(log_lock);
        auto stall = std::find_if(log.begin(), log.end(), [](const std::string &l) {
            return l.find("page allocation stalls for") != std::string::npos;
        });
        ASSERT_NE(stall, log.end());
        EXPECT_NE(stall->find("mode:0xc40(GFP_NOFS)"), std::string::npos) << *stall;
        EXPECT_NE(stall->find("nofs@"), std::string::npos) << "names the scope stack";
    }
    s.unregister_oom_victim(id);
    s.free_pages(p, 0);
    release(s, hog);
    expect_clean(s);
}

TEST(SlowPath, NofailTakesTheReserves) {
    System s(config());
    auto rest = exhaust(s, GFP_KERNEL | __GFP_NORETRY);
    page *p = s.alloc_pages(GFP_KERNEL | __GFP_NOFAIL, 0);
    EXPECT_NE(p, nullptr);
    if (p)
        s.free_pages(p, 0);
    release(s, rest);
}

// PF_MEMALLOC: reclaim's own allocations may use the reserves and never reclaim again.
TEST(SlowPath, ReclaimNeverRecursesAndMayUseReserves) {
    System s(config());
    page_cache_shrinker cache(s);
    cache.fill(100000);
    auto rest = exhaust(s);
    std::atomic<int> nested_ok{0};
    std::uint64_t reclaims_inside = 0;
    cache.inside_scan = [&] {
        reclaims_inside = s.stats().allocstall_total();
        // A GFP_KERNEL allocation from inside a shrinker: PF_MEMALLOC is set.
        if (current_task_flags() & PF_MEMALLOC)
            if (page *q = s.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0)) {
                nested_ok++;
                s.free_pages(q, 0);
            }
        EXPECT_EQ(s.stats().allocstall_total(), reclaims_inside) << "no nested reclaim";
    };
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    EXPECT_GT(nested_ok.load(), 0) << "reserves served reclaim's own allocation";
    s.free_pages(p, 0);
    release(s, rest);
}

// The deadlock the NOFS scope exists to prevent: a filesystem holds its lock and allocates
// with GFP_KERNEL; reclaim may call that filesystem's shrinker, which takes the same lock.
// Reported whether or not reclaim runs this time; never with the scope or GFP_NOFS.
TEST(RecursionDetector, AllocatingUnderTheFsLockIsReportedUnlessNofs) {
    System s(config());
    std::vector<violation> reports;
    s.set_report_sink([&](const violation &v) { reports.push_back(v); });
    lock_class fs_lock_class("test_fs->s_umount");
    Lock fs_lock(fs_lock_class);
    page_cache_shrinker cache(s, "sb-testfs");
    s.shrinkers().declare_lock(cache.shr, fs_lock_class, __GFP_FS);

    // The right callers: NOFS by scope or by mask; IO-only reclaim cannot reach the
    // shrinker's FS path.
    fs_lock.lock();
    {
        nofs_scope nofs;
        page *p = s.alloc_pages(GFP_KERNEL, 0);
        s.free_pages(p, 0);
    }
    page *q = s.alloc_pages(GFP_NOFS, 0);
    s.free_pages(q, 0);
    page *r = s.alloc_pages(GFP_ATOMIC, 0); // cannot reclaim at all
    s.free_pages(r, 0);
    fs_lock.unlock();
    EXPECT_TRUE(reports.empty());
    EXPECT_EQ(s.stats().recursion_hazards.load(), 0u);

    // The wrong caller, with plenty of memory: no reclaim happens, the hazard is reported.
    fs_lock.lock();
    page *bad = s.alloc_pages(GFP_KERNEL, 0);
    page *again = s.alloc_pages(GFP_KERNEL, 0);
    fs_lock.unlock();
    ASSERT_EQ(reports.size(), 1u) << "reported once per (lock, shrinker)";
    EXPECT_EQ(s.stats().recursion_hazards.load(), 2u) << "counted every time";
    const violation &v = reports[0];
    EXPECT_EQ(id(v.inv), 9);
    EXPECT_NE(v.message.find("test_fs->s_umount"), std::string::npos) << v.message;
    EXPECT_NE(v.message.find("sb-testfs"), std::string::npos) << v.message;
    EXPECT_NE(v.message.find("reclaim_test.cpp"), std::string::npos) << "names the caller";
    EXPECT_NE(v.message.find("0xcc0(GFP_KERNEL)"), std::string::npos) << v.message;
    s.free_pages(bad, 0);
    s.free_pages(again, 0);
    // Without the lock held nothing is reported.
    page *fine = s.alloc_pages(GFP_KERNEL, 0);
    s.free_pages(fine, 0);
    EXPECT_EQ(reports.size(), 1u);
}

TEST(Kswapd, WakesBelowLowAndBalancesToHigh) {
    System s(config(true));
    page_cache_shrinker cache(s);
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    // Fill the cache to just below low: the next allocations take the slow path and wake
    // kswapd, which reclaims from the cache until the zone is back above high.
    cache.fill(z.managed_pages - z.low_wmark_pages() + 8);
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    for (int i = 0;
         i < 2500 && (z.page_state_snapshot(NR_FREE_PAGES) <= long(z.high_wmark_pages()) ||
                      !s.kswapd_statistics(0).reclaimed);
         i++)
        std::this_thread::sleep_for(2ms);
    auto st = s.kswapd_statistics(0);
    EXPECT_TRUE(st.running);
    // A request made while kswapd is between runs is picked up without a wake-up proper,
    // so count its runs, not its wake-ups.
    EXPECT_GE(st.rounds, 1u);
    EXPECT_GT(st.reclaimed, 0u);
    EXPECT_GT(z.page_state_snapshot(NR_FREE_PAGES) + long(s.pcp_count(z)),
              long(z.high_wmark_pages()) - z.drift_bound());
    s.free_pages(p, 0);
}

TEST(Kswapd, ParkedKswapdKeepsWakeupsForLater) {
    System s(config(true));
    page_cache_shrinker cache(s);
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    s.kswapd_park();
    cache.fill(z.managed_pages - z.low_wmark_pages() + 8);
    page *p = s.alloc_pages(GFP_KERNEL, 0); // below low: a wake-up kswapd must not act on
    ASSERT_NE(p, nullptr);
    const auto rounds = s.kswapd_statistics(0).rounds;
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(s.kswapd_statistics(0).rounds, rounds) << "parked";
    EXPECT_TRUE(s.verify().empty());
    s.kswapd_unpark();
    for (int i = 0; i < 1000 && s.kswapd_statistics(0).rounds == rounds; i++)
        std::this_thread::sleep_for(2ms);
    EXPECT_GT(s.kswapd_statistics(0).rounds, rounds) << "the kept request runs";
    s.free_pages(p, 0);
}

TEST(Kswapd, HopelessAfterMaxReclaimRetriesWithoutProgress) {
    System s(config(false));
    auto rest = exhaust(s, GFP_KERNEL | __GFP_NORETRY);
    for (int i = 0; i < 20; i++)
        s.kswapd_run_once(0); // nothing reclaimable: every run fails, up to hopeless
    // 6.12: a hopeless kswapd sleeps (prepare_kswapd_sleep) and is not woken.
    EXPECT_EQ(s.kswapd_statistics(0).failures, 16);
    EXPECT_EQ(s.kswapd_statistics(0).reclaimed, 0u);
    // Progress anywhere on the node, direct reclaim's included, makes it hopeful again.
    page_cache_shrinker cache(s);
    release(s, rest);
    cache.fill(1000);
    exhaust(s).swap(rest); // GFP_NOWAIT: no reclaim of the cache on the way
    ASSERT_GT(cache.size(), 0u);
    EXPECT_EQ(s.kswapd_run_once(0), 0u) << "still hopeless: kswapd sleeps";
    page *p = s.alloc_pages(GFP_KERNEL, 0); // direct reclaim from the cache
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(s.kswapd_statistics(0).failures, 0);
    s.free_pages(p, 0);
    release(s, rest);
    exhaust(s).swap(rest); // below low: wakes kswapd again
    EXPECT_GT(s.kswapd_run_once(0), 0u);
    EXPECT_EQ(s.kswapd_statistics(0).failures, 0);
    release(s, rest);
}

} // namespace
