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
#include "../lib/src/pcp/pcp.hpp"
#include "support/backends.hpp"
#include "support/memory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <pthread.h>
#include <random>
#include <sched.h>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;
using namespace std::chrono_literals;

using test::expect_clean;
using test::free_pages;

system_config config(buddy_backend b, std::uint64_t mib = 64) {
    return test::backend_config(b, mib);
}

class Backends : public ::testing::TestWithParam<buddy_backend> {};

INSTANTIATE_TEST_SUITE_P(Both, Backends, test::both_backends, test::backend_param_name);

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

// The lock-free backend's fallback rules (docs/backends.md), on states built by hand: a small
// System whose Normal zone is wholly allocated straight from the backend (no per-CPU lists,
// no watermarks, no kswapd), every pageblock taken whole as the movable pageblock boot made
// it, so that a test frees exactly the pageblocks and frames it wants free.
class LockfreeFallback : public ::testing::Test {
  protected:
    LockfreeFallback() : s(config(buddy_backend::lockfree)), z(s.node(0).node_zones[ZONE_NORMAL]) {}

    void SetUp() override {
        ASSERT_EQ(std::string(z.frames->name()), "lockfree");
        s.drain_all_pages();
        while (page *p = z.frames->rmqueue(pageblock_order, MIGRATE_MOVABLE, 0, 0)) {
            blocks.push_back(p);
            block_pfn.push_back(s.page_to_pfn(p));
        }
        // Whatever boot left allocated in the zone: the rest of those pageblocks, frame by frame.
        while (page *p = z.frames->rmqueue(0, MIGRATE_MOVABLE, 0, 0))
            held.push_back({p, 0});
        ASSERT_EQ(z.page_state_snapshot(NR_FREE_PAGES), 0);
        ASSERT_GE(blocks.size(), 6u);
        z.watermark_boost.store(0);
        z.flags.fetch_and(~ZONE_BOOSTED_WATERMARK);
        fallbacks = z.migratetype_fallbacks.load();
    }

    void TearDown() override {
        for (auto &h : held)
            z.frames->free_one(h.p, h.order, 0, FPI_NONE);
        for (page *p : blocks)
            if (p)
                z.frames->free_one(p, pageblock_order, 0, FPI_NONE);
        expect_clean(s);
    }

    // Pageblock i becomes wholly free, of the type it had.
    void free_pageblock(unsigned i) {
        ASSERT_NE(blocks[i], nullptr);
        z.frames->free_one(blocks[i], pageblock_order, 0, FPI_NONE);
        blocks[i] = nullptr;
    }
    // Tests name the pageblocks SetUp() took whole by their index in `blocks`.
    unsigned long pfn_of(unsigned i) const { return block_pfn[i]; }
    migratetype type_of(unsigned i) const { return z.pageblock_migratetype(pfn_of(i)); }
    // Which of them p lies in (-1: none).
    int index_of(const page *p) const {
        const unsigned long pb = s.page_to_pfn(p) & ~(pageblock_nr_pages - 1);
        for (unsigned i = 0; i < block_pfn.size(); i++)
            if (block_pfn[i] == pb)
                return int(i);
        return -1;
    }
    page *take(unsigned order, migratetype mt, unsigned alloc_flags = 0) {
        return take_on(0, order, mt, alloc_flags);
    }
    page *take_on(unsigned cpu, unsigned order, migratetype mt, unsigned alloc_flags = 0) {
        page *p = z.frames->rmqueue(order, mt, alloc_flags, cpu);
        if (p)
            held.push_back({p, order});
        return p;
    }
    // Frees pageblock i whole, then takes `taken` of its frames back as movable ones, so that
    // it is left movable with pageblock_nr_pages - taken frames free.
    void partly_free_movable(unsigned i, unsigned taken) {
        const long before = z.page_state_snapshot(NR_FREE_PAGES);
        free_pageblock(i);
        for (unsigned order = pageblock_order; order--;)
            if (taken & (1u << order)) {
                page *p = take(order, MIGRATE_MOVABLE);
                ASSERT_NE(p, nullptr);
                ASSERT_EQ(index_of(p), int(i));
            }
        ASSERT_EQ(z.page_state_snapshot(NR_FREE_PAGES), before + long(pageblock_nr_pages - taken));
    }
    // Frees a block take() got.
    void give_back(page *p) {
        auto it = std::find_if(held.begin(), held.end(), [p](const block &h) { return h.p == p; });
        ASSERT_NE(it, held.end());
        z.frames->free_one(p, it->order, 0, FPI_NONE);
        held.erase(it);
    }
    std::uint64_t new_fallbacks() const { return z.migratetype_fallbacks.load() - fallbacks; }

    System s;
    zone &z;
    std::vector<page *> blocks;
    std::vector<unsigned long> block_pfn;
    struct block {
        page *p;
        unsigned order;
    };
    std::vector<block> held;
    std::uint64_t fallbacks = 0;
};

TEST_F(LockfreeFallback, TheZoneIsFullAndMovable) {
    for (unsigned i = 0; i < blocks.size(); i++) {
        if (i) {
            EXPECT_GT(pfn_of(i), pfn_of(i - 1));
        }
        EXPECT_EQ(type_of(i), MIGRATE_MOVABLE);
    }
    EXPECT_EQ(take(0, MIGRATE_UNMOVABLE), nullptr);
    EXPECT_EQ(take(0, MIGRATE_MOVABLE), nullptr);
}

// Step 1: a wholly free pageblock of a fallback type becomes the request's, in the kernel's
// fallback order (unmovable falls back to reclaimable before movable), before any partly
// free one; no watermark boost (the kernel steals a pageblock or more without one), and
// ALLOC_NOFRAGMENT allows it.
TEST_F(LockfreeFallback, Step1RetypesAWhollyFreePageblockInFallbackOrder) {
    // Pageblock 1 reclaimable and wholly free: a reclaimable request retypes it, then gives
    // its frame back.
    free_pageblock(1);
    page *r = z.frames->rmqueue(0, MIGRATE_RECLAIMABLE, 0, 0);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(index_of(r), 1);
    EXPECT_EQ(type_of(1), MIGRATE_RECLAIMABLE);
    EXPECT_EQ(new_fallbacks(), 1u);
    z.frames->free_one(r, 0, 0, FPI_NONE);
    // Pageblock 2 movable and more than half free; pageblock 0 movable and wholly free.
    partly_free_movable(2, 16);
    free_pageblock(0);

    page *p = take(3, MIGRATE_UNMOVABLE, ALLOC_NOFRAGMENT);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(index_of(p), 1) << "reclaimable comes first for unmovable requests";
    EXPECT_EQ(type_of(1), MIGRATE_UNMOVABLE);
    EXPECT_EQ(new_fallbacks(), 2u);
    EXPECT_EQ(z.watermark_boost.load(), 0u);
    // The pageblock is ours now: no more fallbacks while it has room.
    ASSERT_NE(take(3, MIGRATE_UNMOVABLE), nullptr);
    EXPECT_EQ(new_fallbacks(), 2u);

    // A whole pageblock (order 9) from a wholly free movable one, never the partly free one.
    page *q = take(pageblock_order, MIGRATE_UNMOVABLE);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(index_of(q), 0);
    EXPECT_EQ(type_of(0), MIGRATE_UNMOVABLE);
    EXPECT_EQ(type_of(2), MIGRATE_MOVABLE);
    EXPECT_EQ(new_fallbacks(), 3u);
    EXPECT_EQ(z.watermark_boost.load(), 0u);
}

// Step 2: no wholly free pageblock, but a fallback pageblock at least half free: it is
// retyped to the request's type (after 6.12's steal_suitable_fallback(), which boosts the
// watermarks for any steal below a pageblock, claimed or not); not under ALLOC_NOFRAGMENT.
TEST_F(LockfreeFallback, Step2RetypesAPageblockAtLeastHalfFree) {
    partly_free_movable(3, pageblock_nr_pages / 2);
    EXPECT_EQ(take(0, MIGRATE_UNMOVABLE, ALLOC_NOFRAGMENT), nullptr);
    EXPECT_EQ(type_of(3), MIGRATE_MOVABLE);
    EXPECT_EQ(new_fallbacks(), 0u);
    EXPECT_EQ(z.watermark_boost.load(), 0u);

    page *p = take(0, MIGRATE_UNMOVABLE, ALLOC_KSWAPD);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(index_of(p), 3);
    EXPECT_EQ(type_of(3), MIGRATE_UNMOVABLE);
    EXPECT_EQ(new_fallbacks(), 1u);
    EXPECT_GT(z.watermark_boost.load(), 0u);
    EXPECT_TRUE(z.flags.load() & ZONE_BOOSTED_WATERMARK);
    // Its other free frames are unmovable now: an unmovable request is no fallback, and a
    // movable one finds nothing of its type.
    ASSERT_NE(take(0, MIGRATE_UNMOVABLE, ALLOC_NOFRAGMENT), nullptr);
    EXPECT_EQ(new_fallbacks(), 1u);
}

// Step 2 for a movable request below pageblock_order / 2: the kernel claims a pageblock
// only when the fallback block it takes is of that order or more (can_steal_fallback()),
// so a half free pageblock with no free run of order 4 gives frames as it is.
TEST_F(LockfreeFallback, Step2ForSmallMovableRequestsNeedsAFreeRunOfHalfAPageblocksOrder) {
    // Pageblock 5 unmovable, then wholly taken in order-3 blocks, every other one given back:
    // half free, in runs of 8 frames.
    free_pageblock(5);
    page *first = take(0, MIGRATE_UNMOVABLE);
    ASSERT_NE(first, nullptr);
    ASSERT_EQ(type_of(5), MIGRATE_UNMOVABLE);
    give_back(first);
    std::vector<page *> eights;
    for (unsigned i = 0; i < pageblock_nr_pages / 8; i++) {
        eights.push_back(take(3, MIGRATE_UNMOVABLE));
        ASSERT_NE(eights.back(), nullptr);
        ASSERT_EQ(index_of(eights.back()), 5);
    }
    std::sort(eights.begin(), eights.end());
    for (unsigned i = 0; i < eights.size(); i += 2)
        give_back(eights[i]);
    const auto before = new_fallbacks();

    page *p = take(0, MIGRATE_MOVABLE);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(index_of(p), 5);
    EXPECT_EQ(type_of(5), MIGRATE_UNMOVABLE) << "no free run of order 4: not claimed";
    EXPECT_EQ(new_fallbacks(), before + 1);
    EXPECT_GT(z.watermark_boost.load(), 0u);

    // Frames 16..31 free: an order-4 run, and the pageblock is claimed.
    give_back(eights[3]);
    ASSERT_NE(take(0, MIGRATE_MOVABLE), nullptr);
    EXPECT_EQ(type_of(5), MIGRATE_MOVABLE);
    EXPECT_EQ(new_fallbacks(), before + 2);
}

// Step 3: a fallback pageblock less than half free gives frames as it is: it keeps its
// type, the watermarks are boosted, every such allocation is a fallback; ALLOC_NOFRAGMENT
// gets nothing.
TEST_F(LockfreeFallback, Step3TakesFramesAsTheyAreAndBoosts) {
    partly_free_movable(4, pageblock_nr_pages / 2 + 1);
    EXPECT_EQ(take(0, MIGRATE_UNMOVABLE, ALLOC_NOFRAGMENT), nullptr);
    EXPECT_EQ(new_fallbacks(), 0u);

    page *p = take(1, MIGRATE_UNMOVABLE);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(index_of(p), 4);
    EXPECT_EQ(type_of(4), MIGRATE_MOVABLE);
    EXPECT_EQ(new_fallbacks(), 1u);
    const unsigned long boost = z.watermark_boost.load();
    EXPECT_GT(boost, 0u);
    EXPECT_FALSE(z.flags.load() & ZONE_BOOSTED_WATERMARK) << "only with ALLOC_KSWAPD";

    ASSERT_NE(take(0, MIGRATE_UNMOVABLE), nullptr);
    EXPECT_EQ(type_of(4), MIGRATE_MOVABLE);
    EXPECT_EQ(new_fallbacks(), 2u);
    EXPECT_GE(z.watermark_boost.load(), boost);
    EXPECT_EQ(take(pageblock_order, MIGRATE_UNMOVABLE), nullptr) << "no whole pageblock";
}

// rmqueue_bulk() of a per-CPU order above 0 takes the blocks a pageblock of the type has in
// aligned runs, the count for all of them at once; what the count had room for but no
// aligned run holds goes back to it (verify() recounts count against bits at the end).
TEST_F(LockfreeFallback, BulkRefillTakesAlignedRunsAndGivesBackTheRest) {
    // Pageblock 0 movable with 192 free frames: every other frame of words 0-3 (no two
    // aligned together) and all of word 7 (eight aligned runs of 8).
    free_pageblock(0);
    for (unsigned i = 0; i < pageblock_nr_pages; i++)
        ASSERT_NE(take(0, MIGRATE_MOVABLE), nullptr);
    for (unsigned i = 0; i < pageblock_nr_pages; i++)
        if ((i < 256 && i % 2) || i >= 448)
            give_back(z.mem_map + pfn_of(0) + i);
    ASSERT_EQ(z.page_state_snapshot(NR_FREE_PAGES), 192);

    std::uint32_t head = pfn_nil, tail = pfn_nil;
    const unsigned long got = z.frames->rmqueue_bulk(3, MIGRATE_MOVABLE, 0, 0, 16, &head, &tail);
    ASSERT_EQ(got, 8u);
    EXPECT_EQ(z.page_state_snapshot(NR_FREE_PAGES), 192 - 64);
    std::vector<unsigned long> pfns;
    for (std::uint32_t pfn = head;; pfn = z.mem_map[pfn].lru.next) {
        ASSERT_LT(pfns.size(), got);
        const page &p = z.mem_map[pfn];
        EXPECT_TRUE(p.flags.load() & PG_pcp);
        EXPECT_EQ(p.order, 3u);
        pfns.push_back(pfn);
        if (pfn == tail)
            break;
    }
    EXPECT_EQ(z.mem_map[tail].lru.next, pfn_nil);
    ASSERT_EQ(pfns.size(), got);
    std::sort(pfns.begin(), pfns.end());
    for (unsigned i = 0; i < got; i++)
        EXPECT_EQ(pfns[i], pfn_of(0) + 448 + 8 * i);
    EXPECT_EQ(new_fallbacks(), 0u);

    z.frames->free_bulk(head, got, 0);
    EXPECT_EQ(z.page_state_snapshot(NR_FREE_PAGES), 192);
}

// LLFree's reservations: a CPU holds the pageblock it allocates from, and another CPU whose
// type has room only there reserves a wholly free pageblock of its own (a claim, counted as
// a fallback) rather than take turns with it on one entry and its bitfield words.
TEST_F(LockfreeFallback, ACpuReservesAPageblockOfItsOwnRatherThanShareAnothers) {
    free_pageblock(0);
    free_pageblock(1);
    page *a = take_on(0, 4, MIGRATE_UNMOVABLE);
    page *b = take_on(1, 4, MIGRATE_UNMOVABLE);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    ASSERT_GE(index_of(b), 0);
    EXPECT_NE(index_of(a), index_of(b)) << "CPU 1 shares CPU 0's pageblock";
    EXPECT_EQ(type_of(unsigned(index_of(b))), MIGRATE_UNMOVABLE);
    EXPECT_EQ(new_fallbacks(), 2u) << "each claim is a fallback";
    // Each keeps to its own from then on.
    EXPECT_EQ(index_of(take_on(0, 4, MIGRATE_UNMOVABLE)), index_of(a));
    EXPECT_EQ(index_of(take_on(1, 4, MIGRATE_UNMOVABLE)), index_of(b));
    EXPECT_EQ(new_fallbacks(), 2u);
}

// A reservation only steers: with no free pageblock left to reserve, a CPU shares another's
// rather than fall back to frames of another type or fail.
TEST_F(LockfreeFallback, ACpuSharesAnothersPageblockWhenNoneIsFreeToReserve) {
    free_pageblock(0);
    page *a = take_on(0, 4, MIGRATE_UNMOVABLE);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(new_fallbacks(), 1u);
    page *b = take_on(1, 4, MIGRATE_UNMOVABLE);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(index_of(b), index_of(a));
    EXPECT_EQ(new_fallbacks(), 1u);
    EXPECT_EQ(z.watermark_boost.load(), 0u);
}

// Whole pageblocks are searched from where the CPU found its last one, and CPUs start apart
// (CPU c of n at c/n of the zone), so that two CPUs do not race for the same entries, and one
// that holds many does not walk past them all again.
TEST_F(LockfreeFallback, WholePageblocksAreSearchedFromTheCpusOwnPart) {
    const unsigned last = unsigned(blocks.size() - 1);
    free_pageblock(0);
    free_pageblock(last);
    // CPU 1 starts half way through the zone; CPU 0 where SetUp() took its last pageblock.
    EXPECT_EQ(index_of(take_on(1, pageblock_order, MIGRATE_MOVABLE)), int(last));
    EXPECT_EQ(index_of(take_on(0, pageblock_order, MIGRATE_MOVABLE)), 0);
}

// The free count goes through the CPU's vmstat delta, as the kernel's counters do: a change
// within the threshold leaves the zone-wide value (and its cache line) alone, and the exact
// count follows at once; verify() (TearDown) checks the drift bound.
TEST_F(LockfreeFallback, FreeCountsGoThroughTheCpusDelta) {
    free_pageblock(0); // past the threshold: folded
    ASSERT_GE(z.stat_threshold.load(), 1);
    const long global = z.vm_stat[NR_FREE_PAGES].load();
    page *p = take_on(1, 0, MIGRATE_MOVABLE);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(z.vm_stat[NR_FREE_PAGES].load(), global);
    EXPECT_EQ(z.per_cpu_zonestats[1].vm_stat_diff[NR_FREE_PAGES].load(), -1);
    EXPECT_EQ(z.page_state_snapshot(NR_FREE_PAGES), long(pageblock_nr_pages) - 1);
    give_back(p); // on CPU 0
    EXPECT_EQ(z.vm_stat[NR_FREE_PAGES].load(), global);
    EXPECT_EQ(z.page_state_snapshot(NR_FREE_PAGES), long(pageblock_nr_pages));
}

// In locked mode a thread remembers its CPU between operations, and reads it again when a
// per-CPU list is busy or refilled. Blocks the lists do not keep never find a list busy:
// they read the CPU again every so often (every 64th operation), or two threads started on
// one CPU would share that CPU's pageblocks on the lock-free backend for good. Seen here in
// the per-CPU count of pages allocated straight from the backend.
TEST(LockfreeCpu, BlocksBelowTheListsReadTheirCpuAgain) {
    cpu_set_t allowed;
    ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; c++)
        if (CPU_ISSET(c, &allowed))
            cpus.push_back(c);
    if (cpus.size() < 2)
        GTEST_SKIP() << "needs two CPUs";
    system_config c = config(buddy_backend::lockfree);
    c.pcp = pcp_mode::locked;
    c.cpus = unsigned(std::max(cpus[0], cpus[1]) + 1);
    System s(c);
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    const auto pin = [](int cpu) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    };
    const auto from_backend = [&](int cpu) {
        return s.pcp_area().events(z, unsigned(cpu)).ev[pcp::PCP_BUDDY_ALLOC];
    };
    std::thread t([&] {
        pin(cpus[0]);
        pcp::refresh_cpu_hint(s.pcp_area().ncpus()); // as an operation on a list does
        pin(cpus[1]);
        ASSERT_EQ(pcp::t_cpu_hint, unsigned(cpus[0]) + 1) << "the thread remembers cpus[0]";
        ASSERT_EQ(from_backend(cpus[1]), 0u) << "nothing ran on that CPU yet";
        for (int i = 0; i < 64; i++) {
            page *p = s.alloc_pages_node(0, GFP_KERNEL | __GFP_THISNODE, 4);
            ASSERT_NE(p, nullptr);
            s.free_pages(p, 4);
        }
        EXPECT_GT(from_backend(cpus[1]), 0u) << "64 order-4 pairs never read the CPU again";
    });
    t.join();
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
