// SPDX-License-Identifier: MIT
//
// The ready-made shrinkers: object_cache (super_cache_scan's rules: no __GFP_FS or a busy
// filesystem lock means SHRINK_STOP; its declared lock makes allocating under it a reported
// recursion hazard, I9), then everything at once, kvfree_rcu()'s shrinker beside it,
// from several threads with the page cache under pressure.
#include <gfplab/caches.hpp>
#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/page_cache.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include "support/memory.hpp"

#include <atomic>
#include <random>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;
using namespace gfplab::test;

system_config config(bool kswapd = false) {
    return reclaim_config(kswapd, 10000);
}

// Neither direct reclaim nor a kswapd wake-up: filling must not reclaim.
constexpr gfp_t no_reclaim = (GFP_KERNEL & ~__GFP_RECLAIM) | __GFP_NOWARN;

std::uint64_t stops(System &s, const std::string &name) {
    for (const auto &st : s.shrinkers().stats())
        if (st.name == name)
            return st.stops;
    return 0;
}

TEST(ObjectCache, RefusesWithoutFsAndWhenTheLockIsBusy) {
    System s(config());
    object_cache cache(s, "testfs");
    for (int i = 0; i < 1000; i++)
        ASSERT_TRUE(cache.add(no_reclaim));
    EXPECT_EQ(s.shrinkers().shrink_slab(GFP_NOFS, 0, 0), 0u);
    EXPECT_EQ(s.shrinkers().shrink_slab(GFP_NOIO, 0, 0), 0u);
    EXPECT_EQ(cache.size(), 1000u);
    EXPECT_EQ(stops(s, "sb-testfs"), 2u);

    // Another thread holds the filesystem lock (a mount in progress): trylock fails.
    std::atomic<bool> held{false}, done{false};
    std::thread holder([&] {
        cache.fs_lock().lock();
        held = true;
        while (!done)
            std::this_thread::yield();
        cache.fs_lock().unlock();
    });
    while (!held)
        std::this_thread::yield();
    EXPECT_EQ(s.shrinkers().shrink_slab(GFP_KERNEL, 0, 0), 0u);
    EXPECT_EQ(cache.size(), 1000u);
    EXPECT_EQ(stops(s, "sb-testfs"), 3u);
    done = true;
    holder.join();

    EXPECT_EQ(s.shrinkers().shrink_slab(GFP_KERNEL, 0, 0), 1000u);
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(s.report_count(), 0u);
    expect_clean(s);
}

TEST(ObjectCache, DirectReclaimFreesObjectsForGfpKernelOnly) {
    System s(config());
    object_cache cache(s, "testfs");
    while (cache.add(no_reclaim))
        ;
    auto rest = exhaust(s);
    const unsigned long cached = cache.size();
    ASSERT_GT(cached, 10000u);
    EXPECT_EQ(s.alloc_pages(GFP_NOFS | __GFP_NORETRY | __GFP_NOWARN, 0), nullptr);
    EXPECT_EQ(cache.size(), cached);
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    EXPECT_LT(cache.size(), cached);
    s.free_pages(p, 0);
    release(s, rest);
    expect_clean(s);
}

TEST(ObjectCache, AllocatingUnderItsLockIsAReportedRecursion) {
    System s(config());
    std::vector<violation> reports;
    s.set_report_sink([&](const violation &v) { reports.push_back(v); });
    lock_class sb_umount("cachetestfs->s_umount");
    object_cache cache(s, "cachetestfs", &sb_umount);
    cache.fs_lock().lock();
    {
        nofs_scope nofs; // the right way: no report
        ASSERT_TRUE(cache.add());
    }
    EXPECT_TRUE(reports.empty());
    ASSERT_TRUE(cache.add()); // GFP_KERNEL under the lock its shrinker takes
    cache.fs_lock().unlock();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(id(reports[0].inv), 9);
    EXPECT_NE(reports[0].message.find("cachetestfs->s_umount"), std::string::npos)
        << reports[0].message;
    EXPECT_NE(reports[0].message.find("sb-cachetestfs"), std::string::npos) << reports[0].message;
}

// Page-cache users, object-cache users and allocators under pressure, all at once, with
// kswapd running; afterwards every page is accounted for.
TEST(CachesThreads, PageCacheObjectsAndAllocatorsUnderPressure) {
    system_config c = config(true);
    c.swap_pages = 2048;
    System s(c);
    page_cache &pc = s.page_cache();
    object_cache objects(s, "threadfs");
    constexpr int iters = 8000;
    // Memory starts full of clean page cache (as after reading files): every thread's
    // allocations have to reclaim from it, or wait for kswapd to.
    std::vector<cache_page_id> prefilled;
    while (cache_page_id id =
               pc.add_file(false, -1, (GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) | __GFP_NOWARN))
        prefilled.push_back(id);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; t++)
        threads.emplace_back([&, t] {
            std::mt19937 rng{unsigned(t)};
            std::vector<cache_page_id> ids;
            for (int i = 0; i < iters; i++) {
                unsigned r = rng() % 9;
                if (r < 5 || ids.empty()) {
                    cache_page_id id = r == 0 ? pc.add_anon() : pc.add_file(r == 1);
                    if (id)
                        ids.push_back(id);
                } else if (r == 5) {
                    pc.touch(ids[rng() % ids.size()]);
                } else if (r == 6) {
                    pc.mark_dirty(ids[rng() % ids.size()]);
                } else if (r == 7) {
                    pc.swap_in(ids[rng() % ids.size()]);
                } else {
                    std::size_t k = rng() % ids.size();
                    pc.remove(ids[k]);
                    ids[k] = ids.back();
                    ids.pop_back();
                }
            }
            for (cache_page_id id : ids)
                pc.remove(id);
        });
    for (int t = 0; t < 2; t++)
        threads.emplace_back([&, t] {
            std::mt19937 rng{unsigned(t + 10)};
            for (int i = 0; i < iters; i++) {
                if (rng() % 3)
                    objects.add();
                else
                    objects.remove();
            }
        });
    for (int t = 0; t < 2; t++)
        threads.emplace_back([&, t] {
            set_current_vcpu(unsigned(t));
            std::mt19937 rng{unsigned(t + 20)};
            std::vector<page *> held;
            for (int i = 0; i < iters; i++) {
                gfp_t gfp = t ? GFP_KERNEL : GFP_NOFS | __GFP_NORETRY | __GFP_NOWARN;
                if (held.size() < 3000 && rng() % 4) {
                    if (page *p = s.alloc_pages(gfp, 0))
                        held.push_back(p);
                } else if (!held.empty()) {
                    s.free_pages(held.back(), 0);
                    held.pop_back();
                    // An object freed late: kvfree_rcu()'s batches, and its shrinker, join in.
                    if (void *o = kmalloc(s, 512, gfp))
                        kvfree_rcu_mightsleep(s, o);
                }
            }
            for (page *p : held)
                s.free_pages(p, 0);
        });
    for (auto &th : threads)
        th.join();
    kvfree_rcu_barrier(s);
    for (cache_page_id id : prefilled)
        pc.remove(id);
    while (objects.remove())
        ;
    EXPECT_EQ(pc.nr_file_pages() + pc.nr_anon_pages() + pc.nr_swapped(), 0u);
    s.drain_all_pages();
    expect_clean(s);
    EXPECT_EQ(s.report_count(), 0u);
    // It was under pressure: reclaim took from the page cache.
    EXPECT_GT(pc.stats().pgsteal, 0u);
}

} // namespace
