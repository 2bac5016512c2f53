// SPDX-License-Identifier: MIT
//
// The per-CPU lists alone, on a fake page source (as tcmalloc tests its CpuCache against a
// fake Forwarder): no System, no buddy allocator, no zone lock. What the lists ask of the
// layer below, and when, is the contract these tests pin down: a batch per refill, blocks
// back once a CPU holds `high`, everything back on drain_all_pages(), and a busy list
// reported to the caller instead of waited for.
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

    fixture() {
        z.mem_map = map.get();
        z.spanned_pages = z.managed_pages = nr_pages;
        z.pcp_slot = 0;
        z.pcp_batch = 8;
        z.pcp_high = 32;
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

} // namespace
