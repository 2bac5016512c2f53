// SPDX-License-Identifier: MIT
//
// The page-frame backends under one contract (docs/backends.md): both are emptied and
// refilled with random orders and migratetypes and recounted by verify(); the lock-free
// one's own rules (its bitfield arithmetic, fallbacks, the highatomic reserve) and its
// progress guarantee: a thread stopped anywhere inside it stops nobody.
#include <gfplab/alloc_flags.hpp>
#include <gfplab/system.hpp>

#include "../lib/src/frames/backend.hpp"
#include "../lib/src/frames/pageblock_bits.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <pthread.h>
#include <random>
#include <sched.h>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;
using namespace std::chrono_literals;

system_config config(buddy_backend b, std::uint64_t mib = 64) {
    system_config c;
    c.memory_bytes = mib << 20;
    c.dma32_limit = 32ull << 20;
    c.cpus = 2;
    c.pcp = pcp_mode::virtual_cpus;
    c.buddy = b;
    c.warn_alloc = false;
    c.kswapd = false;
    return c;
}

void expect_clean(System &s) {
    for (const auto &v : s.verify())
        ADD_FAILURE() << format_violation(v);
}

unsigned long free_pages(System &s) {
    unsigned long n = 0;
    for (auto &z : s.node(0).node_zones)
        if (z.populated())
            n += z.page_state_snapshot(NR_FREE_PAGES);
    return n;
}

class Backends : public ::testing::TestWithParam<buddy_backend> {};

INSTANTIATE_TEST_SUITE_P(Both, Backends,
                         ::testing::Values(buddy_backend::kernel, buddy_backend::lockfree),
                         [](const ::testing::TestParamInfo<buddy_backend> &p) {
                             return std::string(buddy_backend_name(p.param));
                         });

TEST_P(Backends, TheSystemSaysWhichItRuns) {
    System s(config(GetParam()));
    EXPECT_EQ(s.buddy(), GetParam());
    EXPECT_STREQ(s.node(0).node_zones[ZONE_NORMAL].frames->name(), buddy_backend_name(GetParam()));
}

// Every order and migratetype until nothing is left, then everything back: blocks aligned,
// within their zone, never overlapping (verify() recounts), and every counter back where it
// started.
TEST_P(Backends, EmptiedAndRefilledWithRandomOrdersAndTypes) {
    System s(config(GetParam()));
    const unsigned long start = free_pages(s);
    std::mt19937 rng(12345);
    const gfp_t types[] = {GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE};
    struct held {
        page *p;
        unsigned order;
    };
    std::vector<held> got;
    for (int round = 0; round < 2; round++) {
        unsigned misses = 0;
        // No reclaim: a failed request is "this order is gone", and small orders go on.
        while (misses < 200) {
            const unsigned order = rng() % 3 ? rng() % 4 : rng() % NR_PAGE_ORDERS;
            const gfp_t gfp = (types[rng() % 3] & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN;
            page *p = s.alloc_pages(gfp | __GFP_HIGH, order);
            if (!p) {
                misses++;
                continue;
            }
            const unsigned long pfn = s.page_to_pfn(p);
            ASSERT_EQ(pfn & ((1ul << order) - 1), 0u) << "order " << order;
            const zone &z = s.node(0).node_zones[p->zone];
            ASSERT_TRUE(z.contains(pfn) && z.contains(pfn + (1ul << order) - 1));
            got.push_back({p, order});
        }
        expect_clean(s);
        EXPECT_LT(free_pages(s), start / 8) << "memory was nearly used up";
        std::shuffle(got.begin(), got.end(), rng);
        for (auto &h : got)
            s.free_pages(h.p, h.order);
        got.clear();
        s.drain_all_pages();
        expect_clean(s);
        EXPECT_EQ(free_pages(s), start);
    }
}

TEST_P(Backends, BuddyinfoCountsOneMaximalBlockPerFreeRun) {
    System s(config(GetParam()));
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    // A whole zone of order-10 blocks; one order-0 page taken splits one of them into
    // blocks of orders 0..9.
    const unsigned long tens = z.frames->nr_free_blocks(MAX_PAGE_ORDER);
    EXPECT_EQ(tens, z.managed_pages >> MAX_PAGE_ORDER);
    page *p = s.alloc_pages_node(0, GFP_KERNEL | __GFP_THISNODE, 4);
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(p->zone, ZONE_NORMAL);
    EXPECT_EQ(z.frames->nr_free_blocks(MAX_PAGE_ORDER), tens - 1);
    for (unsigned o = 4; o < MAX_PAGE_ORDER; o++)
        EXPECT_EQ(z.frames->nr_free_blocks(o), 1u) << "order " << o;
    s.free_pages(p, 4);
    EXPECT_EQ(z.frames->nr_free_blocks(MAX_PAGE_ORDER), tens);
}

// The lock-free backend's bitfield arithmetic, against runs counted by hand.
TEST(LockfreeBits, AlignedFreeRunsAreFoundInAWord) {
    using lockfree::aligned_free_runs;
    EXPECT_EQ(aligned_free_runs(0, 0), ~0ull);
    EXPECT_EQ(aligned_free_runs(0, 6), 1ull);
    EXPECT_EQ(aligned_free_runs(1, 6), 0ull);
    // Bit 1 taken: pairs start at 2, 4, ...; the pair at 0 is not free.
    EXPECT_EQ(aligned_free_runs(0b10, 1), 0x5555555555555554ull);
    // Bits 0..3 free, 4 taken: the order-2 run at 0 is free, order 3 at 0 is not.
    const std::uint64_t w = ~0ull << 4;
    EXPECT_EQ(aligned_free_runs(w, 2), 1ull);
    EXPECT_EQ(aligned_free_runs(w, 3), 0ull);
    EXPECT_EQ(aligned_free_runs(~0ull, 0), 0ull);
}

TEST(LockfreeBits, ClaimsAcrossWordsAndGivesThemBack) {
    auto pb = std::make_unique<lockfree::pageblock_state>();
    // Order 8: four whole words; with word 1 partly taken, the run at word 4 is the first.
    pb->bits[1].store(1);
    EXPECT_EQ(pb->claim(8, 0), 256);
    EXPECT_EQ(pb->claim(8, 0), -1);
    EXPECT_EQ(pb->claim(7, 0), 128) << "words 2 and 3";
    EXPECT_EQ(pb->bits[0].load(), 0u) << "the failed order-8 claim gave word 0 back";
    pb->unclaim(256, 8);
    EXPECT_EQ(pb->clear_bits(), 512u - 1 - 128);
    EXPECT_EQ(pb->claim(0, 1), 65);
}

system_config lockfree_config() {
    return config(buddy_backend::lockfree, 1024); // a Normal zone large enough for a reserve
}

TEST(Lockfree, AFallbackRetypesAWhollyFreePageblockAndIsCounted) {
    System s(lockfree_config());
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    // Boot makes every pageblock movable: the first unmovable page is a fallback.
    const auto before = z.migratetype_fallbacks.load();
    page *p = s.alloc_pages_node(0, GFP_KERNEL | __GFP_THISNODE, 4);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(z.migratetype_fallbacks.load(), before + 1);
    EXPECT_EQ(z.pageblock_migratetype(s.page_to_pfn(p)), MIGRATE_UNMOVABLE);
    // The next one comes from the same, now unmovable, pageblock: no fallback.
    page *q = s.alloc_pages_node(0, GFP_KERNEL | __GFP_THISNODE, 4);
    EXPECT_EQ(z.migratetype_fallbacks.load(), before + 1);
    EXPECT_EQ(s.page_to_pfn(q) >> pageblock_order, s.page_to_pfn(p) >> pageblock_order);
    s.free_pages(p, 4);
    s.free_pages(q, 4);
    expect_clean(s);
}

TEST(Lockfree, HighatomicReserveIsBookedAndGivenBack) {
    System s(lockfree_config());
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    page *p = s.alloc_pages_node(0, GFP_KERNEL | __GFP_THISNODE, 4); // past the per-CPU lists
    ASSERT_NE(p, nullptr);
    z.frames->reserve_highatomic(p, 4, 0);
    EXPECT_EQ(z.nr_reserved_highatomic.load(), pageblock_nr_pages);
    EXPECT_EQ(z.pageblock_migratetype(s.page_to_pfn(p)), MIGRATE_HIGHATOMIC);
    EXPECT_EQ(z.nr_free_highatomic.load(), long(pageblock_nr_pages - 16));
    expect_clean(s);
    // Highatomic frames are only for ALLOC_HIGHATOMIC and the last resort.
    page *q = z.frames->rmqueue(0, MIGRATE_MOVABLE, ALLOC_HIGHATOMIC, 0);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(s.page_to_pfn(q) >> pageblock_order, s.page_to_pfn(p) >> pageblock_order);
    EXPECT_FALSE(z.frames->unreserve_highatomic(false, MIGRATE_MOVABLE, 0)) << "keeps the last";
    EXPECT_TRUE(z.frames->unreserve_highatomic(true, MIGRATE_MOVABLE, 0));
    EXPECT_EQ(z.nr_reserved_highatomic.load(), 0u);
    EXPECT_EQ(z.nr_free_highatomic.load(), 0);
    z.frames->free_one(q, 0, 0, FPI_NONE);
    s.free_pages(p, 4);
    expect_clean(s);
}

std::atomic<bool> parked{false}, release_parked{false};

void park_here(int) {
    parked = true;
    while (!release_parked)
        sched_yield();
}

// A thread stopped anywhere inside the lock-free backend (here: parked in a signal handler at
// random points of a high-order allocate/free loop, which goes to the backend every time)
// never stops another thread's allocations and frees of any order.
TEST(LockfreeProgress, AThreadStoppedInsideTheBackendStopsNobody) {
    System s(config(buddy_backend::lockfree));
    struct sigaction sa {};
    sa.sa_handler = park_here;
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(sigaction(SIGUSR2, &sa, nullptr), 0);
    std::atomic<bool> stop{false};
    std::atomic<long> ops{0};
    std::thread worker([&] {
        set_current_vcpu(0);
        for (unsigned i = 0; !stop; i++) {
            const unsigned order = 4 + i % 7; // 4..10: never a per-CPU list
            if (page *p = s.alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY, order))
                s.free_pages(p, order);
            ops++;
        }
    });
    set_current_vcpu(1);
    std::mt19937 rng(7);
    for (int park = 0; park < 20; park++) {
        const long at = ops + 200 + long(rng() % 500);
        while (ops < at)
            std::this_thread::yield();
        parked = false;
        release_parked = false;
        pthread_kill(worker.native_handle(), SIGUSR2);
        while (!parked)
            std::this_thread::yield();
        const long frozen = ops;
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        for (unsigned i = 0; i < 300; i++) {
            const unsigned order = i % NR_PAGE_ORDERS;
            page *p = s.alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY, order);
            ASSERT_NE(p, nullptr) << "order " << order;
            s.free_pages(p, order);
            ASSERT_LT(std::chrono::steady_clock::now(), deadline);
        }
        EXPECT_EQ(ops.load(), frozen) << "the worker really was stopped";
        release_parked = true;
    }
    stop = true;
    worker.join();
    s.drain_all_pages();
    expect_clean(s);
}

// Two to sixteen threads allocating and freeing every order and type at once, on both
// backends (a TSan test too); verify() afterwards.
TEST_P(Backends, ThreadsAllocatingEveryOrderAgreeWithTheRecount) {
    System s(config(GetParam()));
    const unsigned long start = free_pages(s);
    for (unsigned threads : {2u, 16u}) {
        std::vector<std::thread> ts;
        for (unsigned t = 0; t < threads; t++)
            ts.emplace_back([&, t] {
                set_current_vcpu(t % 2);
                std::mt19937 rng(t);
                std::vector<std::pair<page *, unsigned>> held;
                for (int i = 0; i < 1500; i++) {
                    if (held.size() > 20 || (!held.empty() && rng() % 2)) {
                        s.free_pages(held.back().first, held.back().second);
                        held.pop_back();
                        continue;
                    }
                    const unsigned order = rng() % 4 ? rng() % 4 : rng() % NR_PAGE_ORDERS;
                    const gfp_t gfp = rng() % 2 ? GFP_KERNEL : GFP_HIGHUSER_MOVABLE;
                    if (page *p = s.alloc_pages(gfp | __GFP_NOWARN | __GFP_NORETRY, order))
                        held.emplace_back(p, order);
                }
                for (auto &[p, o] : held)
                    s.free_pages(p, o);
            });
        for (auto &t : ts)
            t.join();
        s.drain_all_pages();
        expect_clean(s);
        EXPECT_EQ(free_pages(s), start);
    }
}

} // namespace
