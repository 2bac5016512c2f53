// SPDX-License-Identifier: MIT
//
// The per-CPU lists alone, on a fake page source (as tcmalloc tests its CpuCache against a
// fake Forwarder): no System, no buddy allocator, no zone lock. What the lists ask of the
// layer below, and when, is the contract these tests pin down: a batch per refill, blocks
// back once a CPU holds `high`, everything back on drain_all_pages(), and a busy list
// reported to the caller instead of waited for.
#include "../lib/src/pcp/high.hpp"
#include "../lib/src/pcp/pcp.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace {

using namespace gfplab;

// Pages handed out and taken back by pfn, with a log of the calls.
class fake_source final : public pcp::page_source {
  public:
    explicit fake_source(page *map, unsigned pages) : map_(map) {
        for (unsigned pfn = pages; pfn-- > 0;)
            free_.push_back(pfn);
    }
    unsigned long rmqueue_bulk(zone &, unsigned order, migratetype, unsigned, unsigned cpu,
                               unsigned long count, std::uint32_t *head,
                               std::uint32_t *tail) override {
        refills++;
        last_cpu = cpu;
        requested = count;
        unsigned long got = 0;
        std::uint32_t last = pfn_nil;
        for (; got < count && !free_.empty(); got++) {
            const std::uint32_t pfn = free_.back();
            free_.pop_back();
            page &p = map_[pfn];
            p.order = std::uint8_t(order);
            set_page_flags(p, PG_pcp);
            p.lru.next = pfn_nil;
            if (last == pfn_nil)
                *head = pfn;
            else
                map_[last].lru.next = pfn;
            last = pfn;
        }
        *tail = last;
        return got;
    }
    void free_pcppages_bulk(zone &, std::uint32_t head, unsigned long n, unsigned) override {
        for (unsigned long i = 0; i < n && head != pfn_nil; i++) {
            page &p = map_[head];
            const std::uint32_t next = p.lru.next;
            EXPECT_TRUE(p.flags.load() & PG_pcp) << "pfn " << head << " was not on a list";
            clear_page_flags(p, PG_pcp);
            free_.push_back(head);
            returned++;
            head = next;
        }
    }
    std::size_t free_blocks() const { return free_.size(); }

    unsigned refills = 0;
    unsigned long returned = 0;
    unsigned long requested = 0;
    unsigned last_cpu = ~0u;

  private:
    page *map_;
    std::vector<std::uint32_t> free_;
};

constexpr unsigned nr_pages = 4 * pageblock_nr_pages;
constexpr unsigned ncpus = 3;

struct fixture {
    std::unique_ptr<page[]> map = std::make_unique<page[]>(nr_pages);
    zone z;
    fake_source source{map.get(), nr_pages};
    std::unique_ptr<pcp::area> area;

    explicit fixture(unsigned long batch = 8, unsigned long high = 32) {
        z.mem_map = map.get();
        z.spanned_pages = z.managed_pages = nr_pages;
        z.pcp_slot = 0;
        z.pcp_batch = batch;
        z.pcp_high = high;
        z.pageblock_mt = std::make_unique<std::atomic<std::uint8_t>[]>(nr_pages >> pageblock_order);
        for (unsigned b = 0; b < nr_pages >> pageblock_order; b++)
            z.pageblock_mt[b] = MIGRATE_MOVABLE;
        zone *zones[] = {&z};
        area = std::make_unique<pcp::area>(zones, 1, ncpus, pcp::cpu_mode::virtual_cpus, source);
    }
};

TEST(PcpFakeSource, AnEmptyListRefillsABatchFromBelow) {
    fixture f;
    page *p = f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 1);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(f.source.refills, 1u);
    EXPECT_EQ(f.source.requested, f.z.pcp_batch);
    EXPECT_EQ(f.source.last_cpu, 1u) << "the refill is done on behalf of the caller's CPU";
    EXPECT_FALSE(p->flags.load() & PG_pcp) << "a page handed out is on no list";
    EXPECT_EQ(f.area->cpu_count(f.z, 1), f.z.pcp_batch - 1);
    EXPECT_EQ(f.area->cpu_count(f.z, 0), 0u);
    // The next batch - 1 allocations are hits: no call below.
    for (unsigned i = 1; i < f.z.pcp_batch; i++)
        ASSERT_NE(f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 1), nullptr);
    EXPECT_EQ(f.source.refills, 1u);
}

TEST(PcpFakeSource, HigherOrdersRefillAboutABatchOfPages) {
    fixture f;
    ASSERT_NE(f.area->alloc(f.z, 2, MIGRATE_MOVABLE, 0, 0), nullptr);
    // nr_pcp_alloc(): batch >> order blocks, at least two.
    EXPECT_EQ(f.source.requested, 2u);
    EXPECT_EQ(f.area->cpu_count(f.z, 0), 1u << 2);
}

TEST(PcpFakeSource, FreesPastHighGoBackBelow) {
    fixture f;
    std::vector<page *> held;
    for (unsigned i = 0; i < 3 * f.z.pcp_high; i++) {
        page *p = f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 0);
        ASSERT_NE(p, nullptr);
        held.push_back(p);
    }
    const unsigned long before = f.source.returned;
    for (page *p : held)
        ASSERT_TRUE(f.area->free(f.z, p, 0, 2));
    // Checked every 8 frees: CPU 2 never holds more than high plus that slack.
    EXPECT_GT(f.source.returned, before);
    EXPECT_LE(f.area->cpu_count(f.z, 2), f.z.pcp_high + 8);
    EXPECT_EQ(f.area->count(f.z) + f.source.free_blocks(), nr_pages) << "no block lost";
}

TEST(PcpFakeSource, DrainAllGivesEveryCachedBlockBack) {
    fixture f;
    for (unsigned cpu = 0; cpu < ncpus; cpu++) {
        page *p = f.area->alloc(f.z, cpu % 2, MIGRATE_MOVABLE, 0, cpu);
        ASSERT_NE(p, nullptr);
        ASSERT_TRUE(f.area->free(f.z, p, cpu % 2, cpu));
    }
    EXPECT_GT(f.area->count(f.z), 0u);
    EXPECT_EQ(f.area->drain_all(nullptr), 0u);
    EXPECT_EQ(f.area->count(f.z), 0u);
    EXPECT_EQ(f.source.free_blocks(), nr_pages) << "every block is back below";
}

// The lists' per-CPU events (vm_event_states): each counted on the CPU that did it, hits by
// order, and what went below is what the refill and drain counters say.
TEST(PcpFakeSource, EventsAreCountedOnTheCpuThatDidThem) {
    fixture f;
    std::vector<page *> held;
    for (unsigned i = 0; i < 3 * f.z.pcp_high; i++) {
        page *p = f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 1);
        ASSERT_NE(p, nullptr);
        held.push_back(p);
    }
    page *big = f.area->alloc(f.z, 2, MIGRATE_MOVABLE, 0, 1);
    ASSERT_NE(big, nullptr);
    const pcp::cpu_events e1 = f.area->events(f.z, 1);
    EXPECT_EQ(e1.ev[pcp::PCP_REFILL], f.source.refills);
    EXPECT_EQ(e1.alloc_hits[0] + e1.alloc_hits[2] + e1.ev[pcp::PCP_REFILL], 3 * f.z.pcp_high + 1)
        << "every block came off a list or with its refill";
    EXPECT_EQ(e1.pgalloc(), 3 * f.z.pcp_high + 4);
    // The fake counts blocks: the order-2 refill took two, of four pages each.
    EXPECT_EQ(e1.ev[pcp::PCP_REFILL_PAGES], nr_pages - f.source.free_blocks() + 2 * 3);
    for (page *p : held)
        ASSERT_TRUE(f.area->free(f.z, p, 0, 2));
    ASSERT_TRUE(f.area->free(f.z, big, 2, 2));
    const pcp::cpu_events e2 = f.area->events(f.z, 2);
    EXPECT_EQ(e2.free_hits[0], 3 * f.z.pcp_high);
    EXPECT_EQ(e2.free_hits[2], 1u);
    EXPECT_EQ(e2.pgfree(), 3 * f.z.pcp_high + 4);
    EXPECT_EQ(e2.pgalloc(), 0u);
    EXPECT_GT(e2.ev[pcp::PCP_DRAIN], 0u);
    const unsigned long drained = f.source.returned;
    EXPECT_EQ(f.area->drain_all(nullptr), 0u);
    std::uint64_t all = 0, past_high = 0, freed = 0;
    for (unsigned cpu = 0; cpu < ncpus; cpu++) {
        const pcp::cpu_events e = f.area->events(f.z, cpu);
        all += e.ev[pcp::PCP_DRAIN_ALL_PAGES];
        past_high += e.ev[pcp::PCP_DRAIN_PAGES];
        freed += e.pgfree();
    }
    EXPECT_EQ(past_high, drained) << "order-0 blocks: pages = blocks";
    EXPECT_EQ(past_high + all, f.source.returned + 2 * 3) << "two order-2 blocks of 4 pages";
    EXPECT_EQ(freed, 3 * f.z.pcp_high + 4) << "draining frees nothing in pgfree's terms";
    EXPECT_EQ(f.area->events(f.z, 0).pgalloc() + f.area->events(f.z, 0).pgfree(), 0u);
}

TEST(PcpFakeSource, ABusyListIsReportedNotWaitedFor) {
    fixture f;
    page *first = f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 0);
    ASSERT_NE(first, nullptr);
    page *nested = first;
    bool inside = false;
    // Under CPU 0's trylock, a second operation on CPU 0 (an interrupt in the kernel, a
    // stopped thread's neighbour here) finds the list busy and gets nothing.
    f.area->set_locked_hook([&] {
        if (inside)
            return;
        inside = true;
        nested = f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 0);
        EXPECT_FALSE(f.area->free(f.z, first, 0, 0));
        inside = false;
    });
    ASSERT_NE(f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 0), nullptr);
    f.area->set_locked_hook(nullptr);
    EXPECT_EQ(nested, nullptr);
    EXPECT_FALSE(first->flags.load() & PG_pcp) << "a refused free leaves the page as it was";
}

// 6.12 nr_pcp_alloc(): a refill of a high order asks for batch >> order blocks, at least two,
// but a batch of one page (a small zone) refills one block of any order.
TEST(PcpFakeSource, NrPcpAllocRefillsOneBlockOfAHighOrderWhenTheBatchIsOnePage) {
    fixture f(1, 4);
    ASSERT_NE(f.area->alloc(f.z, 1, MIGRATE_MOVABLE, 0, 0), nullptr);
    EXPECT_EQ(f.source.requested, 1u);
    EXPECT_EQ(f.area->cpu_count(f.z, 0), 0u) << "the one block went to the caller";
}

// 6.12 free_unref_page_commit() + nr_pcp_free(): once the CPU holds high pages, it gives
// back as many pages as it freed in a row (free_count), clamped to [batch, high - batch]:
// 32 frees in a row on an idle CPU (free_count 32, high 32, batch 8) give back 24 pages,
// leaving a batch.
TEST(PcpFakeSource, NrPcpFreeGivesBackWhatTheCpuFreedInARow) {
    fixture f;
    std::vector<page *> held;
    for (unsigned long i = 0; i < f.z.pcp_high; i++) {
        page *p = f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 0);
        ASSERT_NE(p, nullptr);
        held.push_back(p);
    }
    f.area->drain_all(nullptr);
    const unsigned long before = f.source.returned;
    for (page *p : held)
        ASSERT_TRUE(f.area->free(f.z, p, 0, 2));
    EXPECT_EQ(f.source.returned - before, f.z.pcp_high - f.z.pcp_batch);
    EXPECT_EQ(f.area->cpu_count(f.z, 2), f.z.pcp_batch);
}

// 6.12 free_unref_page_commit(): when allocations come between the frees, free_count stays
// low (rmqueue_pcplist halves it) and a drain at high gives back one batch (nr_pcp_free's
// lower bound).
TEST(PcpFakeSource, NrPcpFreeGivesBackABatchWhenAllocationsInterleave) {
    fixture f;
    std::vector<page *> held;
    for (unsigned long i = 0; i < 2 * f.z.pcp_high; i++)
        held.push_back(f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 0));
    f.area->drain_all(nullptr);
    // Two frees, one allocation, until the CPU reaches high: free_count stays below 4.
    const unsigned long before = f.source.returned;
    while (f.source.returned == before && !held.empty()) {
        ASSERT_TRUE(f.area->free(f.z, held.back(), 0, 1));
        held.pop_back();
        ASSERT_TRUE(f.area->free(f.z, held.back(), 0, 1));
        held.pop_back();
        if (f.source.returned != before)
            break;
        held.insert(held.begin(), f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 1));
    }
    EXPECT_EQ(f.source.returned - before, f.z.pcp_batch);
}

// 6.12 free_unref_page_commit()'s free_high: high-order frees in a row, once free_count
// reached a batch, drain the CPU at once (nr_pcp_high() gives 0, nr_pcp_free() everything
// up to batch << CONFIG_PCP_BATCH_SCALE_MAX), far below high.
TEST(PcpFakeSource, ConsecutiveHighOrderFreesDrainTheCpu) {
    fixture f;
    std::vector<page *> held;
    for (int i = 0; i < 5; i++)
        held.push_back(f.area->alloc(f.z, 1, MIGRATE_MOVABLE, 0, 0));
    f.area->drain_all(nullptr);
    // Frees 1..4 bring free_count to 8 = batch (8 pages held, below high 32); the fifth
    // finds free_count >= batch after a high-order free, and the CPU holds 10 >= batch.
    for (int i = 0; i < 4; i++)
        ASSERT_TRUE(f.area->free(f.z, held[i], 1, 2));
    EXPECT_EQ(f.area->cpu_count(f.z, 2), 8u);
    ASSERT_TRUE(f.area->free(f.z, held[4], 1, 2));
    EXPECT_EQ(f.area->cpu_count(f.z, 2), 0u);
}

// An order-0 free in between clears PCPF_PREV_FREE_HIGH_ORDER: the next high-order free is
// not free_high, however large free_count is.
TEST(PcpFakeSource, AnOrderZeroFreeInBetweenIsNotFreeHigh) {
    fixture f;
    std::vector<page *> held;
    for (int i = 0; i < 5; i++)
        held.push_back(f.area->alloc(f.z, 1, MIGRATE_MOVABLE, 0, 0));
    page *small = f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 0);
    f.area->drain_all(nullptr);
    for (int i = 0; i < 4; i++)
        ASSERT_TRUE(f.area->free(f.z, held[i], 1, 2));
    ASSERT_TRUE(f.area->free(f.z, small, 0, 2));
    ASSERT_TRUE(f.area->free(f.z, held[4], 1, 2));
    EXPECT_EQ(f.area->cpu_count(f.z, 2), 11u);
}

// 6.12 nr_pcp_high(): while reclaim is active on the zone a CPU keeps at most four batches.
TEST(PcpFakeSource, ReclaimActiveCapsHighAtFourBatches) {
    fixture f(2, 32);
    std::vector<page *> held;
    for (int i = 0; i < 32; i++)
        held.push_back(f.area->alloc(f.z, 0, MIGRATE_MOVABLE, 0, 0));
    f.area->drain_all(nullptr);
    f.z.flags.fetch_or(ZONE_RECLAIM_ACTIVE);
    for (int i = 0; i < 16; i++)
        ASSERT_TRUE(f.area->free(f.z, held[i], 0, 2));
    // The 8th free reached 8 = min(4 * batch, high) pages: the CPU gave back
    // clamp(free_count 8, batch 2, 8 - 2) = 6; the 16th found 10 and gave back 6 more.
    EXPECT_EQ(f.area->cpu_count(f.z, 2), 4u);
}

// The rules alone, against values worked out from 6.12's functions.
TEST(PcpRules, NrPcpAllocTable) {
    // nr_pcp_alloc(batch, high, order)
    EXPECT_EQ(pcp::nr_pcp_alloc(63, 252, 0), 63);
    EXPECT_EQ(pcp::nr_pcp_alloc(63, 252, 1), 31);
    EXPECT_EQ(pcp::nr_pcp_alloc(63, 252, 3), 7);
    EXPECT_EQ(pcp::nr_pcp_alloc(7, 28, 3), 2); // batch >> order is 0: at least two
    EXPECT_EQ(pcp::nr_pcp_alloc(1, 4, 0), 1);
    EXPECT_EQ(pcp::nr_pcp_alloc(1, 4, 3), 1);   // a one-page batch: one block
    EXPECT_EQ(pcp::nr_pcp_alloc(1, 0, 2), 1);   // boot pageset (high < batch)
    EXPECT_EQ(pcp::nr_pcp_alloc(63, 10, 0), 1); // high < batch
}

TEST(PcpRules, NrPcpFreeTable) {
    // nr_pcp_free(count, batch, high, free_count, free_high)
    EXPECT_EQ(pcp::nr_pcp_free(252, 63, 252, 0, false), 63);     // at least a batch
    EXPECT_EQ(pcp::nr_pcp_free(252, 63, 252, 100, false), 100);  // what was freed in a row
    EXPECT_EQ(pcp::nr_pcp_free(252, 63, 252, 2016, false), 189); // leave a batch
    EXPECT_EQ(pcp::nr_pcp_free(300, 63, 252, 2016, true), 300);  // free_high: everything...
    EXPECT_EQ(pcp::nr_pcp_free(3000, 63, 252, 0, true), 2016);   // ...up to batch << 5
    EXPECT_EQ(pcp::nr_pcp_free(5, 1, 0, 0, false), 1);           // high < batch
}

TEST(PcpRules, NrPcpHighAndFreeHighTable) {
    // nr_pcp_high(high, batch, free_high, reclaim_active)
    EXPECT_EQ(pcp::nr_pcp_high(252, 63, false, false), 252);
    EXPECT_EQ(pcp::nr_pcp_high(252, 63, true, false), 0);
    EXPECT_EQ(pcp::nr_pcp_high(252, 63, false, true), 252); // 4 * 63 = 252
    EXPECT_EQ(pcp::nr_pcp_high(400, 63, false, true), 252);
    EXPECT_EQ(pcp::nr_pcp_high(0, 1, false, false), 0);
    // pcp_free_high(order, flags, free_count, batch, count)
    constexpr auto prev = pcp::PCPF_PREV_FREE_HIGH_ORDER;
    constexpr auto keep = pcp::PCPF_FREE_HIGH_BATCH;
    EXPECT_TRUE(pcp::pcp_free_high(1, prev, 63, 63, 2));
    EXPECT_FALSE(pcp::pcp_free_high(0, prev, 63, 63, 200));       // order 0 is never free_high
    EXPECT_FALSE(pcp::pcp_free_high(1, 0, 63, 63, 200));          // the previous free was order 0
    EXPECT_FALSE(pcp::pcp_free_high(1, prev, 62, 63, 200));       // free_count below batch
    EXPECT_FALSE(pcp::pcp_free_high(3, prev | keep, 63, 63, 62)); // keeps a batch
    EXPECT_TRUE(pcp::pcp_free_high(3, prev | keep, 63, 63, 63));
}

} // namespace
