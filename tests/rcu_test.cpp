// SPDX-License-Identifier: MIT
//
// RCU on liburcu and kvfree_rcu() on a System: grace periods wait for every reader that
// could see an object, callbacks and polled cookies follow them, kvfree_rcu() frees only
// after one (I20) and loses nothing, its shrinker gives memory back under pressure, and
// bad input is refused (I16).
#include <gfplab/fault_inject.hpp>
#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/page.hpp>
#include <gfplab/rcu.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>

#include "support/memory.hpp"
#include "support/reports.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;
using test::expect_clean;
using namespace std::chrono_literals;

system_config small_config(unsigned drain_ms) {
    system_config c;
    c.memory_bytes = 64ull << 20;
    c.dma32_limit = 32ull << 20;
    c.cpus = 2;
    c.warn_alloc = false;
    c.kswapd = false;
    c.kfree_rcu_drain_ms = drain_ms;
    c.init_on_free = true; // a freed object is zeroed: a reader would see it
    return c;
}

using test::collected;

// A reader that enters a critical section and stays until released.
class reader {
  public:
    reader()
        : t_([this] {
              rcu::read_guard g;
              inside_.store(true);
              while (!release_.load())
                  std::this_thread::sleep_for(1ms);
          }) {
        while (!inside_.load())
            std::this_thread::sleep_for(1ms);
    }
    ~reader() { leave(); }
    void leave() {
        release_.store(true);
        if (t_.joinable())
            t_.join();
    }

  private:
    std::atomic<bool> inside_{false}, release_{false};
    std::thread t_;
};

TEST(Rcu, GracePeriodWaitsForAReaderInsideItsCriticalSection) {
    reader r;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        rcu::synchronize();
        done.store(true);
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(done.load()) << "synchronize() returned while a reader was inside";
    r.leave();
    writer.join();
    EXPECT_TRUE(done.load());
}

TEST(Rcu, CookiesElapseOnlyAfterAGracePeriodThatBeganAfterThem) {
    const unsigned long cookie = rcu::get_state();
    EXPECT_FALSE(rcu::poll_state(cookie));
    rcu::synchronize();
    EXPECT_TRUE(rcu::poll_state(cookie));
    const unsigned long next = rcu::start_poll();
    rcu::barrier(); // the grace period start_poll() asked for has run
    EXPECT_TRUE(rcu::poll_state(next));
    rcu::cond_synchronize(next); // elapsed: returns at once
}

TEST(Rcu, CallbacksRunAfterTheReadersAndBarrierWaitsForThem) {
    struct obj {
        rcu::head rh;
        std::atomic<int> *ran;
    };
    std::atomic<int> ran{0};
    auto *o = new obj{{}, &ran};
    {
        reader r;
        rcu::call(&o->rh, [](rcu::head *h) {
            auto *self = reinterpret_cast<obj *>(h);
            self->ran->fetch_add(1);
            delete self;
        });
        std::this_thread::sleep_for(30ms);
        EXPECT_EQ(ran.load(), 0) << "a callback ran while a reader was inside";
    }
    rcu::barrier();
    EXPECT_EQ(ran.load(), 1);
    EXPECT_GE(rcu::stats().callbacks_invoked, 1u);
}

struct item {
    unsigned long pattern[6];
    rcu::head rh;
};

TEST(KvfreeRcu, ObjectsStayWhileAReaderCouldSeeThemAndGoAfter) {
    System s(small_config(1));
    collected c;
    c.attach(s);
    auto *it = static_cast<item *>(kmalloc(s, sizeof(item), GFP_KERNEL));
    ASSERT_NE(it, nullptr);
    std::fill(std::begin(it->pattern), std::end(it->pattern), 0x5a5a5a5aul);
    {
        reader r;
        kfree_rcu(s, it, &item::rh);
        std::this_thread::sleep_for(50ms); // many drain periods of 1 ms
        EXPECT_EQ(kvfree_rcu_statistics(s).freed, 0u);
        for (unsigned long w : it->pattern)
            ASSERT_EQ(w, 0x5a5a5a5aul) << "the object changed under a reader";
    }
    kvfree_rcu_barrier(s);
    const auto st = kvfree_rcu_statistics(s);
    EXPECT_EQ(st.queued, 1u);
    EXPECT_EQ(st.freed, 1u);
    EXPECT_EQ(st.pending, 0u);
    EXPECT_TRUE(c.v.empty());
    expect_clean(s);
}

TEST(KvfreeRcu, TheMonitorDrainsBatchesOnItsOwn) {
    System s(small_config(2));
    std::vector<void *> objs;
    for (int i = 0; i < 2000; i++) // more than one block's worth
        objs.push_back(kmalloc(s, 64, GFP_KERNEL));
    for (void *p : objs)
        kvfree_rcu_mightsleep(s, p);
    for (int i = 0; i < 2000 && kvfree_rcu_statistics(s).freed < objs.size(); i++)
        std::this_thread::sleep_for(5ms);
    const auto st = kvfree_rcu_statistics(s);
    EXPECT_EQ(st.freed, objs.size());
    EXPECT_GE(st.batches, 1u);
    EXPECT_EQ(st.synchronous, 0u);
    EXPECT_GE(st.spare_blocks, 1u) << "emptied blocks are kept for reuse";
    expect_clean(s);
}

TEST(KvfreeRcu, WithoutABlockHeadsChainAndHeadlessCallsWaitInline) {
    System s(small_config(5000));
    collected c;
    c.attach(s);
    auto *a = static_cast<item *>(kmalloc(s, sizeof(item), GFP_KERNEL));
    void *b = kmalloc(s, 32, GFP_KERNEL);
    auto &f = s.fault_injection();
    f.set_min_order(0);
    f.set_ignore_gfp_wait(false);
    f.set_times(-1);
    f.set_probability(100);
    kfree_rcu(s, a, &item::rh);  // no block can be had: chained through a->rh
    kvfree_rcu_mightsleep(s, b); // no block, no head: a grace period inline, then freed
    f.set_probability(0);
    auto st = kvfree_rcu_statistics(s);
    EXPECT_EQ(st.chained, 1u);
    EXPECT_EQ(st.synchronous, 1u);
    EXPECT_EQ(st.pending, 1u);
    expect_clean(s); // the chained object is counted where it waits
    kvfree_rcu_barrier(s);
    st = kvfree_rcu_statistics(s);
    EXPECT_EQ(st.freed, 1u);
    EXPECT_EQ(st.pending, 0u);
    EXPECT_TRUE(c.v.empty());
}

TEST(KvfreeRcu, TheShrinkerFreesWhatIsReadyAndTheSpareBlocks) {
    System s(small_config(60000)); // the monitor would wait a minute
    std::vector<void *> objs;
    // Fewer than a block holds: a full block would be drained by the monitor after one
    // jiffy, racing the shrinker for the batch.
    for (int i = 0; i < 400; i++)
        objs.push_back(kmalloc(s, 128, GFP_KERNEL));
    for (void *p : objs)
        kvfree_rcu_mightsleep(s, p);
    rcu::synchronize(); // every batch is ready now, but nobody has looked
    auto before = kvfree_rcu_statistics(s);
    EXPECT_EQ(before.freed, 0u);
    // drop_slab(): every shrinker until it frees no more, as memory pressure would.
    s.shrinkers().drop_slab();
    for (int i = 0; i < 2000 && kvfree_rcu_statistics(s).freed < objs.size(); i++)
        std::this_thread::sleep_for(1ms);
    auto after = kvfree_rcu_statistics(s);
    EXPECT_EQ(after.freed, objs.size());
    EXPECT_GT(after.shrinker_freed, 0u);
    expect_clean(s);
}

TEST(KvfreeRcu, UnderPressureTheShrinkerGivesReadyObjectsBack) {
    System s(small_config(60000)); // the monitor alone would wait a minute
    std::vector<void *> objs;
    // 3 MiB in 8 KiB objects, fewer than a block holds: a full block would be drained
    // after one jiffy, anything less waits for the drain delay.
    for (int i = 0; i < 400; i++)
        objs.push_back(kmalloc(s, 8192, GFP_KERNEL));
    ASSERT_EQ(std::count(objs.begin(), objs.end(), nullptr), 0);
    for (void *p : objs)
        kvfree_rcu_mightsleep(s, p);
    rcu::synchronize(); // every batch is ready, and nobody has looked yet
    const gfp_t no_reclaim = (GFP_KERNEL & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN;
    std::vector<page *> rest;
    while (page *p = s.alloc_pages(no_reclaim, 0))
        rest.push_back(p);
    EXPECT_EQ(kvfree_rcu_statistics(s).freed, 0u);
    // Direct reclaim finds no page cache: only the kvfree_rcu shrinker can help, and it
    // needs no __GFP_FS.
    page *p = s.alloc_pages(GFP_NOFS, 0);
    ASSERT_NE(p, nullptr);
    EXPECT_GT(kvfree_rcu_statistics(s).freed, 0u);
    EXPECT_GT(kvfree_rcu_statistics(s).shrinker_freed, 0u);
    s.free_pages(p, 0);
    for (page *q : rest)
        s.free_pages(q, 0);
    kvfree_rcu_barrier(s);
    EXPECT_EQ(kvfree_rcu_statistics(s).pending, 0u);
    EXPECT_EQ(s.report_count(), 0u);
    expect_clean(s);
}

TEST(KvfreeRcu, ManyThreadsAndReadersLoseNothing) {
    System s(small_config(1));
    collected c;
    c.attach(s);
    struct node {
        unsigned long magic;
        rcu::head rh;
    };
    constexpr unsigned long magic = 0xfeedfacecafebeefull;
    std::atomic<node *> shared{static_cast<node *>(kmalloc(s, sizeof(node), GFP_KERNEL))};
    shared.load()->magic = magic;
    std::atomic<bool> stop{false};
    std::atomic<unsigned long> bad{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; r++)
        readers.emplace_back([&] {
            while (!stop.load()) {
                rcu::read_guard g;
                node *n = shared.load(std::memory_order_acquire);
                if (__atomic_load_n(&n->magic, __ATOMIC_RELAXED) != magic)
                    bad.fetch_add(1);
            }
        });
    std::vector<std::thread> writers;
    for (int w = 0; w < 2; w++)
        writers.emplace_back([&] {
            for (int i = 0; i < 3000; i++) {
                auto *n = static_cast<node *>(kmalloc(s, sizeof(node), GFP_KERNEL));
                n->magic = magic;
                node *old = shared.exchange(n, std::memory_order_acq_rel);
                kfree_rcu(s, old, &node::rh);
            }
        });
    for (auto &t : writers)
        t.join();
    stop.store(true);
    for (auto &t : readers)
        t.join();
    kfree(s, shared.load());
    kvfree_rcu_barrier(s);
    EXPECT_EQ(bad.load(), 0u) << "a reader saw a freed object";
    const auto st = kvfree_rcu_statistics(s);
    EXPECT_EQ(st.queued, 6000u);
    EXPECT_EQ(st.freed, 6000u);
    EXPECT_TRUE(c.v.empty());
    expect_clean(s);
}

TEST(TypesafeByRcu, ASlabsPagesWaitForTheReadersOfItsObjects) {
    System s(small_config(5000));
    kmem_cache *c = kmem_cache_create(s, "typesafe", 256, nullptr, SLAB_TYPESAFE_BY_RCU);
    ASSERT_NE(c, nullptr);
    void *o = kmem_cache_alloc(c, GFP_KERNEL);
    ASSERT_NE(o, nullptr);
    const page *pg = s.virt_to_page(o);
    {
        reader r;
        kmem_cache_free(c, o);
        kmem_cache_shrink(c); // the empty slab is discarded ...
        EXPECT_EQ(kmem_cache_stats(c).num_slabs, 0u);
        std::this_thread::sleep_for(30ms);
        // ... but its page stays a slab page of this cache while a reader may look at it
        EXPECT_TRUE(pg->flags.load() & PG_slab);
    }
    rcu::barrier();
    EXPECT_FALSE(pg->flags.load() & PG_slab);
    kmem_cache_destroy(c);
    expect_clean(s);
}

TEST(KvfreeRcu, DestroyingACacheWaitsForItsObjectsInBatches) {
    System s(small_config(60000));
    collected c;
    c.attach(s);
    kmem_cache *k = kmem_cache_create(s, "batched", 96, nullptr, 0);
    for (int i = 0; i < 100; i++)
        kvfree_rcu_mightsleep(s, kmem_cache_alloc(k, GFP_KERNEL));
    kmem_cache_destroy(k); // kvfree_rcu_barrier() first: no "destroy with live objects"
    EXPECT_TRUE(c.v.empty()) << format_violation(c.v.front());
    EXPECT_EQ(kvfree_rcu_statistics(s).freed, 100u);
}

TEST(KvfreeRcu, BadInputIsRefused) {
    System s(small_config(5000));
    collected c;
    c.attach(s);
    int on_stack = 0;
    kvfree_rcu_mightsleep(s, &on_stack);
    EXPECT_TRUE(c.has(invariant::bad_input, "foreign pointer"));
    void *p = kmalloc(s, 64, GFP_KERNEL);
    {
        rcu::read_guard g;
        kvfree_rcu_mightsleep(s, p); // might sleep inside a reader
    }
    EXPECT_TRUE(c.has(invariant::bad_input, "kvfree_rcu_mightsleep in an RCU reader"));
    kvfree_rcu_barrier(s);
    EXPECT_EQ(kvfree_rcu_statistics(s).freed, 1u) << "refused as bad input, still not lost";
    expect_clean(s);
}

} // namespace
