// SPDX-License-Identifier: MIT
//
// ALLOC_* derivation against Linux 6.12. Expected values are written out by hand from
// mm/internal.h and mm/page_alloc.c (gfp_to_alloc_flags, __gfp_pfmemalloc_flags,
// prepare_alloc_pages, alloc_flags_nofragment), not computed with our own functions.
#include <gfplab/alloc_flags.hpp>
#include <gfplab/linux/sched.h>

#include <gtest/gtest.h>

namespace {

using namespace gfplab;

TEST(AllocFlags, ValuesOf612) {
    EXPECT_EQ(ALLOC_WMARK_MIN, 0u);
    EXPECT_EQ(ALLOC_WMARK_LOW, 1u);
    EXPECT_EQ(ALLOC_WMARK_HIGH, 2u);
    EXPECT_EQ(ALLOC_NO_WATERMARKS, 0x4u);
    EXPECT_EQ(ALLOC_WMARK_MASK, 0x3u);
    EXPECT_EQ(ALLOC_OOM, 0x8u);
    EXPECT_EQ(ALLOC_NON_BLOCK, 0x10u);
    EXPECT_EQ(ALLOC_MIN_RESERVE, 0x20u);
    EXPECT_EQ(ALLOC_CPUSET, 0x40u);
    EXPECT_EQ(ALLOC_CMA, 0x80u);
    EXPECT_EQ(ALLOC_NOFRAGMENT, 0x100u);
    EXPECT_EQ(ALLOC_HIGHATOMIC, 0x200u);
    EXPECT_EQ(ALLOC_TRYLOCK, 0x400u); // 6.15's value
    EXPECT_EQ(ALLOC_KSWAPD, 0x800u);
    EXPECT_EQ(ALLOC_RESERVES, 0x238u);
}

struct slow_case {
    const char *what;
    gfp_t gfp;
    unsigned int order;
    bool rt;
    unsigned int want;
};

TEST(AllocFlags, GfpToAllocFlagsTable) {
    const slow_case cases[] = {
        // WMARK_MIN | CPUSET | KSWAPD; blocking requests never get HIGHATOMIC.
        {"GFP_KERNEL", GFP_KERNEL, 0, false, 0x840},
        {"GFP_KERNEL order 3", GFP_KERNEL, 3, false, 0x840},
        // HIGH -> MIN_RESERVE, no DIRECT_RECLAIM -> NON_BLOCK, MIN_RESERVE drops CPUSET.
        {"GFP_ATOMIC", GFP_ATOMIC, 0, false, 0x830},
        {"GFP_ATOMIC order 1", GFP_ATOMIC, 1, false, 0xa30},
        // NON_BLOCK without MIN_RESERVE keeps CPUSET.
        {"GFP_NOWAIT", GFP_NOWAIT, 0, false, 0x850},
        {"GFP_NOWAIT order 2", GFP_NOWAIT, 2, false, 0xa50},
        {"GFP_KERNEL|__GFP_HIGH", GFP_KERNEL | __GFP_HIGH, 0, false, 0x860},
        // NOMEMALLOC: no NON_BLOCK, no HIGHATOMIC, but CPUSET still dropped for __GFP_HIGH.
        {"GFP_ATOMIC|__GFP_NOMEMALLOC", GFP_ATOMIC | __GFP_NOMEMALLOC, 0, false, 0x820},
        {"GFP_ATOMIC|__GFP_NOMEMALLOC order 3", GFP_ATOMIC | __GFP_NOMEMALLOC, 3, false, 0x820},
        {"GFP_NOWAIT|__GFP_NOMEMALLOC", GFP_NOWAIT | __GFP_NOMEMALLOC, 0, false, 0x840},
        // No reclaim bits at all: no KSWAPD either.
        {"0", 0, 0, false, 0x50},
        // RT tasks get MIN_RESERVE only when they may block.
        {"GFP_KERNEL rt", GFP_KERNEL, 0, true, 0x860},
        {"GFP_NOFS rt order 4", GFP_NOFS, 4, true, 0x860},
        {"GFP_ATOMIC rt", GFP_ATOMIC, 0, true, 0x830},
        {"GFP_NOWAIT rt", GFP_NOWAIT, 0, true, 0x850},
    };
    for (const auto &c : cases)
        EXPECT_EQ(gfp_to_alloc_flags(c.gfp, c.order, c.rt), c.want)
            << c.what << ": got " << alloc_flags_name(gfp_to_alloc_flags(c.gfp, c.order, c.rt));
}

TEST(AllocFlags, NoCmaEver) {
    for (gfp_t gfp : {GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_ATOMIC | __GFP_MOVABLE, GFP_NOWAIT})
        for (unsigned int order : {0u, 3u, 10u}) {
            EXPECT_EQ(gfp_to_alloc_flags(gfp, order) & ALLOC_CMA, 0u);
            EXPECT_EQ(fastpath_alloc_flags(gfp, true, true) & ALLOC_CMA, 0u);
        }
}

struct pf_case {
    const char *what;
    gfp_t gfp;
    unsigned int pflags;
    bool oom_victim, in_interrupt, in_softirq;
    unsigned int want;
};

TEST(AllocFlags, PfmemallocTable) {
    const pf_case cases[] = {
        {"plain", GFP_KERNEL, 0, false, false, false, 0},
        {"PF_MEMALLOC", GFP_KERNEL, PF_MEMALLOC, false, false, false, 0x4},
        {"PF_MEMALLOC in hardirq", GFP_ATOMIC, PF_MEMALLOC, false, true, false, 0},
        // Serving a softirq implies in_interrupt(); the softirq rule comes first.
        {"PF_MEMALLOC in softirq", GFP_ATOMIC, PF_MEMALLOC, false, true, true, 0x4},
        {"__GFP_MEMALLOC", GFP_KERNEL | __GFP_MEMALLOC, 0, false, false, false, 0x4},
        {"__GFP_MEMALLOC in hardirq", GFP_ATOMIC | __GFP_MEMALLOC, 0, false, true, false, 0x4},
        {"NOMEMALLOC beats MEMALLOC", GFP_KERNEL | __GFP_MEMALLOC | __GFP_NOMEMALLOC, PF_MEMALLOC,
         true, false, false, 0},
        {"NOMEMALLOC beats PF_MEMALLOC", GFP_KERNEL | __GFP_NOMEMALLOC, PF_MEMALLOC, false, false,
         false, 0},
        {"OOM victim", GFP_KERNEL, 0, true, false, false, 0x8},
        {"OOM victim with PF_MEMALLOC", GFP_KERNEL, PF_MEMALLOC, true, false, false, 0x4},
        {"OOM victim in interrupt", GFP_ATOMIC, 0, true, true, false, 0},
        {"OOM victim in softirq", GFP_ATOMIC, 0, true, true, true, 0},
        {"other PF bits", GFP_KERNEL, PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO, false, false, false, 0},
    };
    for (const auto &c : cases)
        EXPECT_EQ(gfp_pfmemalloc_flags(c.gfp, c.pflags, c.oom_victim, c.in_interrupt, c.in_softirq),
                  c.want)
            << c.what;
    EXPECT_TRUE(gfp_pfmemalloc_allowed(GFP_KERNEL, PF_MEMALLOC));
    // 6.12 returns !!__gfp_pfmemalloc_flags(): an OOM victim's ALLOC_OOM counts.
    EXPECT_TRUE(gfp_pfmemalloc_allowed(GFP_KERNEL, 0, true));
    EXPECT_FALSE(gfp_pfmemalloc_allowed(GFP_KERNEL | __GFP_NOMEMALLOC, 0, true));
    EXPECT_FALSE(gfp_pfmemalloc_allowed(GFP_KERNEL, 0, false));
}

TEST(AllocFlags, ReserveFlagsReplaceAllButKswapd) {
    EXPECT_EQ(alloc_flags_with_reserves(0x840, 0x4), 0x804u);
    EXPECT_EQ(alloc_flags_with_reserves(0x830, 0x8), 0x808u);
    EXPECT_EQ(alloc_flags_with_reserves(0x050, 0x4), 0x004u);
    EXPECT_EQ(alloc_flags_with_reserves(0x840, 0), 0x840u);
}

TEST(AllocFlags, FastPath) {
    // WMARK_LOW | KSWAPD | NOFRAGMENT when NORMAL is preferred and DMA32 exists.
    EXPECT_EQ(fastpath_alloc_flags(GFP_KERNEL, true, true), 0x901u);
    EXPECT_EQ(fastpath_alloc_flags(GFP_KERNEL, false, true), 0x801u);
    EXPECT_EQ(fastpath_alloc_flags(GFP_KERNEL, true, false), 0x801u);
    EXPECT_EQ(fastpath_alloc_flags(GFP_ATOMIC, true, true), 0x901u); // no reserves on fast path
    EXPECT_EQ(fastpath_alloc_flags(0, true, true), 0x101u);
    EXPECT_EQ(fastpath_alloc_flags(GFP_NOWAIT & ~__GFP_KSWAPD_RECLAIM, false, false), 0x1u);
    EXPECT_EQ(alloc_flags_nofragment(GFP_KERNEL, true, true), 0x900u);
    EXPECT_EQ(alloc_flags_nofragment(__GFP_HIGH, true, true), 0x100u);
}

TEST(AllocFlags, Names) {
    EXPECT_EQ(alloc_flags_name(0x830),
              "ALLOC_WMARK_MIN|ALLOC_NON_BLOCK|ALLOC_MIN_RESERVE|ALLOC_KSWAPD");
    EXPECT_EQ(alloc_flags_name(0x901), "ALLOC_WMARK_LOW|ALLOC_NOFRAGMENT|ALLOC_KSWAPD");
    EXPECT_EQ(alloc_flags_name(0x4), "ALLOC_WMARK_MIN|ALLOC_NO_WATERMARKS");
    EXPECT_EQ(alloc_flags_name(0x0), "ALLOC_WMARK_MIN");
    EXPECT_EQ(alloc_flags_name(0x2c8),
              "ALLOC_WMARK_MIN|ALLOC_OOM|ALLOC_CPUSET|ALLOC_CMA|ALLOC_HIGHATOMIC");
    EXPECT_EQ(alloc_flags_name(0x1402), "ALLOC_WMARK_HIGH|ALLOC_TRYLOCK|0x1000");
    EXPECT_EQ(alloc_flags_name(0x400), "ALLOC_WMARK_MIN|ALLOC_TRYLOCK");
    EXPECT_EQ(alloc_flags_name(0x3), "ALLOC_WMARK_0x3");
}

} // namespace
