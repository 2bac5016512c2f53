// SPDX-License-Identifier: MIT
//
// The reference oracle (oracle/): its rules against 6.12's values, its zone model against
// the System's on many configurations, and its checks against Systems made deliberately
// wrong: a check that cannot fail would be worth nothing.

#include <alloc_check.hpp>
#include <gfp_rules.hpp>
#include <zone_model.hpp>

#include <gfplab/gfp.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include <vector>

using namespace gfplab;

namespace {

system_config quiet_config(std::uint64_t bytes = 64ull << 20) {
    system_config c;
    c.memory_bytes = bytes;
    c.nodes = 1;
    c.cpus = 2;
    c.pcp = pcp_mode::virtual_cpus;
    c.kswapd = false;
    c.kfree_rcu_thread = false;
    c.warn_alloc = false;
    return c;
}

// Allocates order-0 pages with `gfp` until the System says no, each checked by the
// oracle; returns the findings (the pages are freed again).
std::vector<ref::finding> exhaust(System &s, ref::alloc_checker &c, gfp_t gfp,
                                  unsigned task_flags = 0) {
    std::vector<ref::finding> found;
    std::vector<page *> held;
    for (;;) {
        ref::alloc_checker::scope check(c, {gfp, 0, task_flags, -1});
        page *p = s.alloc_pages(gfp, 0);
        if (!p)
            break;
        held.push_back(p);
        for (auto &f : check.finish(p))
            found.push_back(f);
        if (!found.empty())
            break;
    }
    for (page *p : held)
        s.free_pages(p, 0);
    return found;
}

} // namespace

TEST(RefRules, HighestZoneAgreesWithTheLibraryOnEveryModifierCombination) {
    const gfp_t bits[] = {__GFP_DMA, __GFP_HIGHMEM, __GFP_DMA32, __GFP_MOVABLE, __GFP_RECLAIMABLE};
    for (unsigned m = 0; m < 32; m++) {
        gfp_t gfp = GFP_KERNEL;
        for (unsigned b = 0; b < 5; b++)
            if (m & (1u << b))
                gfp |= bits[b];
        const int ours = ref::highest_zone(gfp);
        const auto theirs = gfp_zone_checked(gfp);
        if (ours < 0)
            EXPECT_FALSE(theirs.has_value()) << gfp_describe(gfp);
        else
            EXPECT_EQ(theirs.value_or(__MAX_NR_ZONES), ours) << gfp_describe(gfp);
        if (ref::migratetype(gfp) >= 0 && ours >= 0) {
            EXPECT_EQ(int(gfp_migratetype(gfp)), ref::migratetype(gfp)) << gfp_describe(gfp);
        }
    }
    EXPECT_EQ(ref::highest_zone(GFP_HIGHUSER_MOVABLE), ZONE_MOVABLE);
    EXPECT_EQ(ref::highest_zone(GFP_HIGHUSER), ZONE_NORMAL);
    EXPECT_EQ(ref::migratetype(__GFP_MOVABLE | __GFP_RECLAIMABLE), -1);
}

TEST(RefRules, ScopesNarrowTheMaskAsCurrentGfpContext) {
    EXPECT_EQ(ref::scoped_mask(GFP_KERNEL, PF_MEMALLOC_NOFS), GFP_NOFS);
    EXPECT_EQ(ref::scoped_mask(GFP_KERNEL, PF_MEMALLOC_NOIO | PF_MEMALLOC_NOFS), GFP_NOIO);
    EXPECT_EQ(ref::highest_zone(ref::scoped_mask(GFP_HIGHUSER_MOVABLE, PF_MEMALLOC_PIN)),
              ZONE_NORMAL);
    EXPECT_EQ(ref::scoped_mask(GFP_KERNEL, PF_MEMALLOC), GFP_KERNEL);
}

// 6.12 __zone_watermark_ok() and the slow path's reserve rules, with min 1000 and low 1250.
TEST(RefRules, FloorsByAllocationClass) {
    const ref::requester task{}, reclaim{PF_MEMALLOC, false}, victim{0, true};
    auto floor = [](gfp_t gfp, const ref::requester &who, bool fast = false) {
        return ref::watermark_floor(gfp, who, 1000, 1250, fast);
    };
    EXPECT_EQ(floor(GFP_KERNEL, task, true), 1250); // the fast path: low, no reserves
    EXPECT_EQ(floor(GFP_ATOMIC, task, true), 1250); // ... whatever the mask
    EXPECT_EQ(floor(GFP_KERNEL, task), 1000);       // the slow path: min
    EXPECT_EQ(floor(GFP_NOWAIT, task), 1000);       // cannot sleep, no __GFP_HIGH: min
    EXPECT_EQ(floor(GFP_KERNEL | __GFP_HIGH, task), 500);
    EXPECT_EQ(floor(GFP_ATOMIC, task), 375); // half, then a quarter of the rest off
    EXPECT_EQ(floor(GFP_ATOMIC | __GFP_NOMEMALLOC, task), 500);
    EXPECT_EQ(floor(GFP_KERNEL | __GFP_NOFAIL, task), 500);
    EXPECT_EQ(floor(GFP_NOWAIT | __GFP_NOFAIL, task), 1000); // cannot reclaim: no last resort
    EXPECT_EQ(floor(GFP_KERNEL, victim), 500);
    EXPECT_EQ(floor(GFP_KERNEL | __GFP_NOMEMALLOC, victim), 1000);
    EXPECT_FALSE(floor(GFP_KERNEL, reclaim).has_value());
    EXPECT_FALSE(floor(GFP_KERNEL | __GFP_MEMALLOC, task).has_value());
    EXPECT_EQ(floor(GFP_KERNEL | __GFP_NOMEMALLOC, reclaim), 1000);
}

// The oracle's arithmetic and the System's are written apart; they must agree wherever
// the System is right.
TEST(RefZoneModel, AgreesWithTheSystemOnManyConfigurations) {
    struct shape {
        std::uint64_t bytes;
        unsigned nodes, cpus;
        std::uint64_t dma, dma32, movable;
        unsigned min_free_kbytes, scale;
    };
    const shape shapes[] = {
        {64ull << 20, 1, 2, 16ull << 20, 4ull << 30, 0, 0, 10},
        {256ull << 20, 1, 4, 16ull << 20, 64ull << 20, 0, 0, 10},
        {512ull << 20, 2, 4, 8ull << 20, 128ull << 20, 64ull << 20, 0, 30},
        {1ull << 30, 4, 8, 16ull << 20, 256ull << 20, 0, 8192, 10},
        {96ull << 20, 3, 3, 4ull << 20, 16ull << 20, 8ull << 20, 0, 1000},
    };
    for (const shape &sh : shapes) {
        system_config c = quiet_config(sh.bytes);
        c.nodes = sh.nodes;
        c.cpus = sh.cpus;
        c.dma_limit = sh.dma;
        c.dma32_limit = sh.dma32;
        c.movable_bytes_per_node = sh.movable;
        c.min_free_kbytes = sh.min_free_kbytes;
        c.watermark_scale_factor = sh.scale;
        System s(c);
        const ref::zone_model m(s.config(), s.nr_cpus());
        for (int nid = 0; nid < s.nr_nodes(); nid++)
            for (const zone &z : s.node(nid).node_zones) {
                SCOPED_TRACE(testing::Message()
                             << (sh.bytes >> 20) << " MiB, node " << nid << " " << z.name);
                const ref::zone_facts &f = m.zone(nid, z.idx);
                EXPECT_EQ(f.managed, z.managed_pages);
                if (!z.populated())
                    continue;
                EXPECT_EQ(f.start_pfn, z.zone_start_pfn);
                EXPECT_EQ(f.min, z._watermark[WMARK_MIN]);
                EXPECT_EQ(f.low, z._watermark[WMARK_LOW]);
                EXPECT_EQ(f.high, z._watermark[WMARK_HIGH]);
                for (int j = 0; j < MAX_NR_ZONES; j++)
                    EXPECT_EQ(f.lowmem_reserve[j], z.lowmem_reserve[j]) << "against zone " << j;
                EXPECT_EQ(f.drift_bound, z.drift_bound());
                EXPECT_EQ(f.batch, z.pcp_batch);
                EXPECT_EQ(m.zone_of(z.zone_start_pfn), &f);
                EXPECT_EQ(m.zone_of(z.end_pfn() - 1), &f);
            }
    }
}

TEST(RefCheck, SilentOnAHealthySystemDownToEachFloor) {
    System s(quiet_config());
    ref::alloc_checker c(s, true);
    EXPECT_TRUE(exhaust(s, c, GFP_NOWAIT | __GFP_NOWARN).empty());
    EXPECT_TRUE(exhaust(s, c, GFP_ATOMIC | __GFP_NOWARN).empty());
    {
        const unsigned saved = memalloc_noreclaim_save();
        EXPECT_TRUE(exhaust(s, c, GFP_KERNEL | __GFP_NOWARN, PF_MEMALLOC).empty());
        memalloc_noreclaim_restore(saved);
    }
    EXPECT_GT(c.floor_checks(), 0u);
    EXPECT_EQ(c.floor_checks(), c.floor_exact());
}

// A System whose watermarks are wrong (all zero: the fast path then checks nothing) serves
// far below the floors; the oracle, which computes the marks itself, says so.
TEST(RefCheck, DisagreesWithASystemWhoseMarksAreWrong) {
    System s(quiet_config());
    ref::alloc_checker c(s, true);
    for (zone &z : s.node(0).node_zones)
        z._watermark = {};
    const auto found = exhaust(s, c, GFP_NOWAIT | __GFP_NOWARN);
    ASSERT_FALSE(found.empty());
    EXPECT_EQ(found.front().inv, 4);
    EXPECT_NE(found.front().message.find("low (fast path)"), std::string::npos)
        << found.front().message;
}

// A lowmem reserve the System forgot: a GFP_KERNEL request takes the DMA zone's last pages.
TEST(RefCheck, DisagreesWithASystemWhoseReserveIsWrong) {
    system_config cfg = quiet_config();
    cfg.dma32_limit = 32ull << 20; // DMA, DMA32 and Normal, so DMA32 has a reserve
    System s(cfg);
    ref::alloc_checker c(s, true);
    for (zone &z : s.node(0).node_zones)
        z.lowmem_reserve = {};
    const auto found = exhaust(s, c, GFP_NOWAIT | __GFP_NOWARN);
    ASSERT_FALSE(found.empty());
    EXPECT_EQ(found.front().inv, 4);
}

// Placement: a page from a zone the mask excludes, and a struct page that names the wrong
// zone, as a wrong zone table or a corrupt memory map would produce.
TEST(RefCheck, DisagreesWithAWrongZone) {
    System s(quiet_config());
    ref::alloc_checker c(s, true);
    page *p = s.alloc_pages(GFP_KERNEL, 0); // ZONE_DMA32 here: above ZONE_DMA
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(c.model().zone_of(s.page_to_pfn(p))->idx, ZONE_DMA32);
    auto found = c.check_placement({GFP_KERNEL | __GFP_DMA, 0, 0, -1}, p);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].inv, 5);
    EXPECT_EQ(found[0].what, "page from a zone the mask excludes");
    EXPECT_TRUE(c.check_placement({GFP_KERNEL, 0, 0, -1}, p).empty());
    found = c.check_placement({GFP_KERNEL | __GFP_THISNODE, 0, 0, 1}, p);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].what, "__GFP_THISNODE page from another node");
    p->zone = ZONE_DMA;
    found = c.check_placement({GFP_KERNEL, 0, 0, -1}, p);
    p->zone = ZONE_DMA32;
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].what, "page metadata names another zone");
    s.free_pages(p, 0);
}

// Another step that may allocate without a bound runs meanwhile: the floor cannot be
// bounded and is skipped, not guessed; one with a bound widens the slack by it.
TEST(RefCheck, TheWindowSkipsWhatItCannotBound) {
    System s(quiet_config());
    for (zone &z : s.node(0).node_zones)
        z._watermark = {};
    ref::alloc_checker c(s, false);
    {
        const ref::window_guard other(c); // unbounded
        EXPECT_TRUE(exhaust(s, c, GFP_NOWAIT | __GFP_NOWARN).empty());
    }
    EXPECT_EQ(c.floor_checks(), 0u);
    EXPECT_GT(c.floor_skipped(), 0u);
    {
        const ref::window_guard other(c, 8);
        EXPECT_FALSE(exhaust(s, c, GFP_NOWAIT | __GFP_NOWARN).empty());
    }
    EXPECT_EQ(c.floor_exact(), 0u);
}
