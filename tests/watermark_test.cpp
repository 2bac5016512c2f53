// SPDX-License-Identifier: MIT
//
// Watermark arithmetic against Linux 6.12. Every expected number below was worked out by hand
// from mm/page_alloc.c for the inputs shown (the working is in the comments), not computed
// with gfplab's functions.
#include <gfplab/watermark.hpp>

#include <gtest/gtest.h>

#include <array>

namespace {

using namespace gfplab;

TEST(MinFreeKbytes, KernelTableAndClamps) {
    struct row {
        unsigned long lowmem_kbytes;
        int want;
    } rows[] = {
        {0, 128},             // clamp from below
        {512, 128},           // int_sqrt(8192) = 90 -> 128
        {16ul << 10, 512},    // 16 MB: int_sqrt(262144) = 512 (kernel comment's table)
        {128ul << 10, 1448},  // 128 MB: int_sqrt(2097152) = 1448 (1448^2 = 2096704)
        {1ul << 20, 4096},    // 1 GB
        {16ul << 20, 16384},  // 16 GB
        {64ul << 20, 32768},  // 64 GB
        {1ul << 30, 131072},  // 1 TB
        {4ul << 30, 262144},  // 4 TB: exactly the upper clamp
        {16ul << 30, 262144}, // 16 TB: int_sqrt = 524288, clamped
        {15015908, 15500},    // the test node below: 3753977 pages
    };
    for (const auto &r : rows)
        EXPECT_EQ(calculate_min_free_kbytes(r.lowmem_kbytes), r.want) << r.lowmem_kbytes << " kB";
}

TEST(MinFreeKbytes, IntSqrt) {
    EXPECT_EQ(int_sqrt(0), 0ul);
    EXPECT_EQ(int_sqrt(1), 1ul);
    EXPECT_EQ(int_sqrt(3), 1ul);
    EXPECT_EQ(int_sqrt(4), 2ul);
    EXPECT_EQ(int_sqrt(240254528), 15500ul); // 15500^2 = 240250000, 15501^2 = 240281001
    EXPECT_EQ(int_sqrt(~0ul), 4294967295ul);
}

// An x86-64 node with 14.3 GiB: DMA 3977, DMA32 750000, NORMAL 3000000 pages, MOVABLE empty.
constexpr std::array<wmark_zone, 4> node = {{
    {3977, false},
    {750000, false},
    {3000000, false},
    {0, true},
}};

TEST(Watermarks, RealisticNodeScaleFactor10) {
    // pages_min = 15500 >> 2 = 3875; lowmem_pages = 3753977.
    // DMA:    tmp = 3875*3977/3753977 = 4;     gap = max(1, 3977*10/10000 = 3) = 3
    // DMA32:  tmp = 3875*750000/3753977 = 774; gap = max(193, 750) = 750
    // NORMAL: tmp = 3875*3000000/3753977 = 3096; gap = max(774, 3000) = 3000
    // MOVABLE (empty): min = clamp(0/1024, 32, 128) = 32; gap = 0
    const auto w = setup_per_zone_wmarks(node, 15500, 10);
    ASSERT_EQ(w.size(), 4u);
    EXPECT_EQ(w[0], (zone_wmarks{4, 7, 10, 13}));
    EXPECT_EQ(w[1], (zone_wmarks{774, 1524, 2274, 3024}));
    EXPECT_EQ(w[2], (zone_wmarks{3096, 6096, 9096, 12096}));
    EXPECT_EQ(w[3], (zone_wmarks{32, 32, 32, 32}));
}

TEST(Watermarks, RealisticNodeScaleFactor1000) {
    // gap = max(tmp >> 2, managed * 1000 / 10000): 397, 75000, 300000.
    const auto w = setup_per_zone_wmarks(node, 15500, 1000);
    EXPECT_EQ(w[0], (zone_wmarks{4, 401, 798, 1195}));
    EXPECT_EQ(w[1], (zone_wmarks{774, 75774, 150774, 225774}));
    EXPECT_EQ(w[2], (zone_wmarks{3096, 303096, 603096, 903096}));
    EXPECT_EQ(w[3], (zone_wmarks{32, 32, 32, 32}));
}

TEST(Watermarks, MovableZoneIsNotLowmem) {
    // A populated MOVABLE zone of 1000000 pages: not in lowmem_pages (so the other zones keep
    // their values), min = clamp(976, 32, 128) = 128; tmp = 3875*1000000/3753977 = 1032,
    // gap = max(258, 1000) = 1000.
    const std::array<wmark_zone, 4> zones = {
        {{3977, false}, {750000, false}, {3000000, false}, {1000000, true}}};
    const auto w = setup_per_zone_wmarks(zones, 15500);
    EXPECT_EQ(w[2], (zone_wmarks{3096, 6096, 9096, 12096}));
    EXPECT_EQ(w[3], (zone_wmarks{128, 1128, 2128, 3128}));
    // 4096 pages: clamp(4, 32, 128) = 32 at the bottom of the clamp.
    const std::array<wmark_zone, 2> small = {{{1000000, false}, {4096, true}}};
    EXPECT_EQ(setup_per_zone_wmarks(small, 1024)[1].min, 32ul);
}

TEST(Watermarks, BoostRaisesAllFour) {
    const zone_wmarks w{3096, 6096, 9096, 12096};
    EXPECT_EQ(wmark_pages(w, WMARK_MIN, 512), 3608ul);
    EXPECT_EQ(wmark_pages(w, WMARK_PROMO, 512), 12608ul);
}

TEST(LowmemReserve, DefaultRatios) {
    // DMA (256):   j=DMA32 750000/256 = 2929; j=NORMAL 3750000/256 = 14648; MOVABLE empty: 0
    // DMA32 (256): j=NORMAL 3000000/256 = 11718; MOVABLE: 0. NORMAL (32): MOVABLE empty: 0.
    const auto r = setup_per_zone_lowmem_reserve(node);
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0], (lowmem_reserve_row{0, 2929, 14648, 0}));
    EXPECT_EQ(r[1], (lowmem_reserve_row{0, 0, 11718, 0}));
    EXPECT_EQ(r[2], (lowmem_reserve_row{0, 0, 0, 0}));
    EXPECT_EQ(r[3], (lowmem_reserve_row{0, 0, 0, 0}));
}

TEST(LowmemReserve, PopulatedMovableAndEmptyLowerZone) {
    // MOVABLE 1000000: DMA 4750000/256 = 18554, DMA32 4000000/256 = 15625, NORMAL 1000000/32.
    const std::array<wmark_zone, 4> zones = {
        {{3977, false}, {750000, false}, {3000000, false}, {1000000, true}}};
    const auto r = setup_per_zone_lowmem_reserve(zones);
    EXPECT_EQ(r[0], (lowmem_reserve_row{0, 2929, 14648, 18554}));
    EXPECT_EQ(r[1], (lowmem_reserve_row{0, 0, 11718, 15625}));
    EXPECT_EQ(r[2], (lowmem_reserve_row{0, 0, 0, 31250}));
    // An empty DMA zone protects nothing; a zero ratio neither.
    const std::array<wmark_zone, 4> nodma = {
        {{0, false}, {750000, false}, {3000000, false}, {0, true}}};
    EXPECT_EQ(setup_per_zone_lowmem_reserve(nodma)[0], (lowmem_reserve_row{0, 0, 0, 0}));
    const std::array<int, 4> ratios = {0, 100, 32, 0};
    const auto r2 = setup_per_zone_lowmem_reserve(node, ratios);
    EXPECT_EQ(r2[0], (lowmem_reserve_row{0, 0, 0, 0}));
    EXPECT_EQ(r2[1], (lowmem_reserve_row{0, 0, 30000, 0}));
}

TEST(LowmemReserve, TotalReservePages) {
    // DMA: min(3977, 14648 + 10) = 3977; DMA32: 11718 + 2274 = 13992; NORMAL: 9096;
    // MOVABLE: min(0, 32) = 0. Sum 27065.
    const auto w = setup_per_zone_wmarks(node, 15500);
    const auto r = setup_per_zone_lowmem_reserve(node);
    EXPECT_EQ(calculate_totalreserve_pages(node, w, r), 27065ul);
}

// --- __zone_watermark_ok ------------------------------------------------------------------

constexpr unsigned int KERNEL = 0x840;        // gfp_to_alloc_flags(GFP_KERNEL, 0)
constexpr unsigned int HIGH_BLOCKING = 0x860; // GFP_KERNEL|__GFP_HIGH, or an RT task
constexpr unsigned int ATOMIC = 0x830;        // GFP_ATOMIC
constexpr unsigned int ATOMIC_HIGHORDER = 0xa30;
constexpr unsigned int NOWAIT = 0x850; // NON_BLOCK without MIN_RESERVE

struct wm_case {
    const char *what;
    long free;
    unsigned long mark;
    unsigned int flags;
    bool want;
};

TEST(ZoneWatermarkOk, EveryAllocationClassAtItsBoundary) {
    const wm_case cases[] = {
        // Normal: floor = mark; equality fails.
        {"normal at mark", 1000, 1000, KERNEL, false},
        {"normal above mark", 1001, 1000, KERNEL, true},
        // __GFP_HIGH blocking: 1000 - 500 = 500.
        {"high blocking at 500", 500, 1000, HIGH_BLOCKING, false},
        {"high blocking at 501", 501, 1000, HIGH_BLOCKING, true},
        // GFP_ATOMIC: 500 - 500/4 = 375 (37.5%).
        {"atomic at 375", 375, 1000, ATOMIC, false},
        {"atomic at 376", 376, 1000, ATOMIC, true},
        // Odd mark: 1001 - 500 = 501, 501 - 125 = 376.
        {"atomic odd mark at 376", 376, 1001, ATOMIC, false},
        {"atomic odd mark at 377", 377, 1001, ATOMIC, true},
        {"high blocking odd mark", 502, 1001, HIGH_BLOCKING, true},
        {"high blocking odd mark at 501", 501, 1001, HIGH_BLOCKING, false},
        // NON_BLOCK alone lowers nothing.
        {"nowait at mark", 1000, 1000, NOWAIT, false},
        {"nowait above mark", 1001, 1000, NOWAIT, true},
        // OOM victim: 1000 - 500 = 500.
        {"oom at 500", 500, 1000, ALLOC_OOM, false},
        {"oom at 501", 501, 1000, ALLOC_OOM, true},
        // OOM on top of GFP_ATOMIC: 375 - 187 = 188.
        {"oom+atomic at 188", 188, 1000, ATOMIC | ALLOC_OOM, false},
        {"oom+atomic at 189", 189, 1000, ATOMIC | ALLOC_OOM, true},
        // ALLOC_NO_WATERMARKS is not a reserve bit: the check itself is unchanged (the caller
        // skips it).
        {"no_watermarks at mark", 1000, 1000, ALLOC_NO_WATERMARKS, false},
        // Negative free pages are fine (signed arithmetic).
        {"negative", -5, 0, KERNEL, false},
        {"zero mark", 1, 0, KERNEL, true},
    };
    for (const auto &c : cases)
        EXPECT_EQ(zone_watermark_ok(c.free, 0, c.mark, 0, c.flags, 0), c.want) << c.what;
}

TEST(ZoneWatermarkOk, FloorValues) {
    EXPECT_EQ(zone_watermark_floor(1000, KERNEL), 1000);
    EXPECT_EQ(zone_watermark_floor(1000, HIGH_BLOCKING), 500);
    EXPECT_EQ(zone_watermark_floor(1000, ATOMIC), 375);
    EXPECT_EQ(zone_watermark_floor(1000, NOWAIT), 1000);
    EXPECT_EQ(zone_watermark_floor(1000, ALLOC_OOM), 500);
    EXPECT_EQ(zone_watermark_floor(3096, ATOMIC), 1161); // 3096-1548 = 1548; 1548-387
    EXPECT_EQ(zone_watermark_floor(7, ATOMIC), 3);       // 7-3 = 4; 4-1
}

TEST(ZoneWatermarkOk, HighatomicSubtractedUnlessReserveBit) {
    // 200 free highatomic pages: 1001 - 200 = 801 <= 1000 for a plain request...
    EXPECT_FALSE(zone_watermark_ok(1001, 0, 1000, 0, KERNEL, 200));
    EXPECT_TRUE(zone_watermark_ok(1201, 0, 1000, 0, KERNEL, 200));
    EXPECT_FALSE(zone_watermark_ok(1200, 0, 1000, 0, KERNEL, 200));
    // ...but any ALLOC_RESERVES bit counts them as free, even NON_BLOCK alone.
    EXPECT_TRUE(zone_watermark_ok(1001, 0, 1000, 0, NOWAIT, 200));
    EXPECT_TRUE(zone_watermark_ok(501, 0, 1000, 0, HIGH_BLOCKING, 200));
    EXPECT_TRUE(zone_watermark_ok(501, 0, 1000, 0, ALLOC_OOM, 200));
    EXPECT_TRUE(zone_watermark_ok(1001, 0, 1000, 0, ALLOC_HIGHATOMIC, 200));
    // ALLOC_NO_WATERMARKS and ALLOC_CPUSET are not reserve bits.
    EXPECT_FALSE(zone_watermark_ok(1001, 0, 1000, 0, ALLOC_NO_WATERMARKS, 200));
    EXPECT_EQ(zone_watermark_unusable_free(0, KERNEL, 200), 200);
    EXPECT_EQ(zone_watermark_unusable_free(3, KERNEL, 200), 207);
    EXPECT_EQ(zone_watermark_unusable_free(3, ATOMIC, 200), 7);
}

TEST(ZoneWatermarkOk, LowmemReserve) {
    // A NORMAL-capable request in ZONE_DMA: mark 4 + reserve 14648.
    EXPECT_FALSE(zone_watermark_ok(14652, 0, 4, 14648, KERNEL, 0));
    EXPECT_TRUE(zone_watermark_ok(14653, 0, 4, 14648, KERNEL, 0));
    // GFP_ATOMIC's reduction applies to the mark only, not to the reserve: 4 -> 2 -> 2.
    EXPECT_FALSE(zone_watermark_ok(14650, 0, 4, 14648, ATOMIC, 0));
    EXPECT_TRUE(zone_watermark_ok(14651, 0, 4, 14648, ATOMIC, 0));
}

TEST(ZoneWatermarkOk, HigherOrderNeedsAFreeBlock) {
    // order 3: unusable 7, so 1008 free leaves 1001 > 1000.
    free_area_snapshot none;
    EXPECT_FALSE(zone_watermark_ok(1008, 3, 1000, 0, KERNEL, 0, none));
    EXPECT_FALSE(zone_watermark_ok(1008, 3, 1000, 0, KERNEL, 0)); // default probe: nothing

    free_area_snapshot movable3;
    movable3.set(3, MIGRATE_MOVABLE);
    EXPECT_TRUE(zone_watermark_ok(1008, 3, 1000, 0, KERNEL, 0, movable3));
    EXPECT_FALSE(zone_watermark_ok(1007, 3, 1000, 0, KERNEL, 0, movable3)); // 1000 <= 1000

    free_area_snapshot small; // only smaller blocks
    small.set(2, MIGRATE_UNMOVABLE);
    small.set(0, MIGRATE_RECLAIMABLE);
    EXPECT_FALSE(zone_watermark_ok(5000, 3, 1000, 0, KERNEL, 0, small));

    free_area_snapshot top;
    top.set(MAX_PAGE_ORDER, MIGRATE_RECLAIMABLE);
    EXPECT_TRUE(zone_watermark_ok(5000, 3, 1000, 0, KERNEL, 0, top));
    EXPECT_TRUE(zone_watermark_ok(5000, MAX_PAGE_ORDER, 1000, 0, KERNEL, 0, top));

    // A block on the HIGHATOMIC list only counts for ALLOC_HIGHATOMIC or ALLOC_OOM.
    free_area_snapshot ha;
    ha.set(4, MIGRATE_HIGHATOMIC);
    EXPECT_FALSE(zone_watermark_ok(5000, 3, 1000, 0, KERNEL, 0, ha));
    EXPECT_FALSE(zone_watermark_ok(5000, 3, 1000, 0, HIGH_BLOCKING, 0, ha));
    EXPECT_FALSE(zone_watermark_ok(5000, 3, 1000, 0, NOWAIT, 0, ha));
    EXPECT_TRUE(zone_watermark_ok(5000, 3, 1000, 0, ATOMIC_HIGHORDER, 0, ha));
    EXPECT_TRUE(zone_watermark_ok(5000, 3, 1000, 0, ALLOC_OOM, 0, ha));

    // Any callable works as a probe; it is asked only about orders >= the request.
    int asked_below = 0;
    auto probe = [&](unsigned int o, int mt) {
        if (o < 3)
            ++asked_below;
        return o == 5 && mt == MIGRATE_UNMOVABLE;
    };
    EXPECT_TRUE(zone_watermark_ok(5000, 3, 1000, 0, KERNEL, 0, probe));
    EXPECT_EQ(asked_below, 0);
}

TEST(ZoneWatermarkFast, Order0ShortcutAndBoostRetry) {
    zone_wmark_state z;
    z.free_pages = 1301;
    z.nr_free_highatomic = 300;
    // Shortcut: 1301 - 300 = 1001 > 1000.
    EXPECT_TRUE(zone_watermark_fast(z, 0, 1000, KERNEL));
    z.free_pages = 1300; // 1000: neither the shortcut nor the full check
    EXPECT_FALSE(zone_watermark_fast(z, 0, 1000, KERNEL));
    // Fewer free pages than highatomic ones: usable clamps at 0.
    z.free_pages = 100;
    EXPECT_FALSE(zone_watermark_fast(z, 0, 0, KERNEL));

    // Boosted zone: _watermark[WMARK_MIN] = 1000, boost 512, so the mark is 1512.
    zone_wmark_state b;
    b.free_pages = 500;
    b.watermark_boost = 512;
    b.min_unboosted = 1000;
    // GFP_ATOMIC at WMARK_MIN: boosted floor 1512 -> 756 -> 567 fails, unboosted 375 passes.
    EXPECT_TRUE(zone_watermark_fast(b, 0, 1512, ATOMIC));
    EXPECT_FALSE(zone_watermark_ok(500, 0, 1512, 0, ATOMIC, 0));
    // Without MIN_RESERVE, at another watermark, for order > 0 or without boost: no retry.
    EXPECT_FALSE(zone_watermark_fast(b, 0, 1512, NOWAIT));
    EXPECT_FALSE(zone_watermark_fast(b, 0, 1512, ATOMIC | ALLOC_WMARK_LOW));
    free_area_snapshot any;
    any.set(1, MIGRATE_MOVABLE);
    b.free_area = any;
    EXPECT_FALSE(zone_watermark_fast(b, 1, 1512, ATOMIC_HIGHORDER));
    b.watermark_boost = 0;
    EXPECT_FALSE(zone_watermark_fast(b, 0, 1512, ATOMIC));
}

TEST(BoostWatermark, Arithmetic) {
    // NORMAL high 9096: cap = 9096 * 15000 / 10000 = 13644.
    EXPECT_EQ(boost_watermark(0, 9096, 15000, 512, 3000000).watermark_boost, 512ul);
    EXPECT_EQ(boost_watermark(512, 9096, 15000, 512, 3000000).watermark_boost, 1024ul);
    EXPECT_EQ(boost_watermark(13312, 9096, 15000, 512, 3000000).watermark_boost, 13644ul);
    const auto capped = boost_watermark(13644, 9096, 15000, 512, 3000000);
    EXPECT_TRUE(capped.boosted);
    EXPECT_EQ(capped.watermark_boost, 13644ul);
    // DMA high 10: cap 15, raised to one pageblock.
    EXPECT_EQ(boost_watermark(0, 10, 15000, 512, 3977).watermark_boost, 512ul);
    EXPECT_EQ(boost_watermark(512, 10, 15000, 512, 3977).watermark_boost, 512ul);
    // Zone smaller than 4 pageblocks (2048 pages): untouched.
    const auto tiny = boost_watermark(100, 9096, 15000, 512, 2047);
    EXPECT_FALSE(tiny.boosted);
    EXPECT_EQ(tiny.watermark_boost, 100ul);
    EXPECT_TRUE(boost_watermark(0, 9096, 15000, 512, 2048).boosted);
    // Factor 0 or high 0: no boost.
    EXPECT_FALSE(boost_watermark(0, 9096, 0, 512, 3000000).boosted);
    EXPECT_FALSE(boost_watermark(0, 0, 15000, 512, 3000000).boosted);
    // Factor 5000 of high 9096 = 4548.
    EXPECT_EQ(boost_watermark(4096, 9096, 5000, 512, 3000000).watermark_boost, 4548ul);
}

} // namespace
