// SPDX-License-Identifier: MIT
//
// The model's GFP vocabulary against Linux 6.12's values (typical distribution config:
// SLAB_OBJ_EXT on, LOCKDEP and KASAN_HW_TAGS off). The expected numbers are written out
// here by hand from the kernel's headers, not derived from our own macros.
#include <gfplab/gfp.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace {

using namespace gfplab;

struct named {
    const char *name;
    gfp_t got;
    gfp_t want;
};

TEST(GfpValues, EverySingleFlagOf612) {
    const named flags[] = {
        {"__GFP_DMA", __GFP_DMA, 0x1},
        {"__GFP_HIGHMEM", __GFP_HIGHMEM, 0x2},
        {"__GFP_DMA32", __GFP_DMA32, 0x4},
        {"__GFP_MOVABLE", __GFP_MOVABLE, 0x8},
        {"__GFP_RECLAIMABLE", __GFP_RECLAIMABLE, 0x10},
        {"__GFP_HIGH", __GFP_HIGH, 0x20},
        {"__GFP_IO", __GFP_IO, 0x40},
        {"__GFP_FS", __GFP_FS, 0x80},
        {"__GFP_ZERO", __GFP_ZERO, 0x100},
        {"__GFP_DIRECT_RECLAIM", __GFP_DIRECT_RECLAIM, 0x400},
        {"__GFP_KSWAPD_RECLAIM", __GFP_KSWAPD_RECLAIM, 0x800},
        {"__GFP_WRITE", __GFP_WRITE, 0x1000},
        {"__GFP_NOWARN", __GFP_NOWARN, 0x2000},
        {"__GFP_RETRY_MAYFAIL", __GFP_RETRY_MAYFAIL, 0x4000},
        {"__GFP_NOFAIL", __GFP_NOFAIL, 0x8000},
        {"__GFP_NORETRY", __GFP_NORETRY, 0x10000},
        {"__GFP_MEMALLOC", __GFP_MEMALLOC, 0x20000},
        {"__GFP_COMP", __GFP_COMP, 0x40000},
        {"__GFP_NOMEMALLOC", __GFP_NOMEMALLOC, 0x80000},
        {"__GFP_HARDWALL", __GFP_HARDWALL, 0x100000},
        {"__GFP_THISNODE", __GFP_THISNODE, 0x200000},
        {"__GFP_ACCOUNT", __GFP_ACCOUNT, 0x400000},
        {"__GFP_ZEROTAGS", __GFP_ZEROTAGS, 0x800000},
        // The config-dependent tail: KASAN_HW_TAGS and LOCKDEP off, SLAB_OBJ_EXT on.
        {"__GFP_SKIP_ZERO", __GFP_SKIP_ZERO, 0},
        {"__GFP_SKIP_KASAN", __GFP_SKIP_KASAN, 0},
        {"__GFP_NOLOCKDEP", __GFP_NOLOCKDEP, 0},
        {"__GFP_NO_OBJ_EXT", __GFP_NO_OBJ_EXT, 0x1000000},
    };
    for (const auto &f : flags)
        EXPECT_EQ(f.got, f.want) << f.name;
    EXPECT_EQ(__GFP_BITS_SHIFT, 25);
    EXPECT_EQ(__GFP_BITS_MASK, 0x1ffffffu);
}

TEST(GfpValues, CompositeMasksOf612) {
    const named masks[] = {
        {"__GFP_RECLAIM", __GFP_RECLAIM, 0xc00},
        {"GFP_ATOMIC", GFP_ATOMIC, 0x820},
        {"GFP_KERNEL", GFP_KERNEL, 0xcc0},
        {"GFP_KERNEL_ACCOUNT", GFP_KERNEL_ACCOUNT, 0x400cc0},
        {"GFP_NOWAIT", GFP_NOWAIT, 0x2800},
        {"GFP_NOIO", GFP_NOIO, 0xc00},
        {"GFP_NOFS", GFP_NOFS, 0xc40},
        {"GFP_USER", GFP_USER, 0x100cc0},
        {"GFP_DMA", GFP_DMA, 0x1},
        {"GFP_DMA32", GFP_DMA32, 0x4},
        {"GFP_HIGHUSER", GFP_HIGHUSER, 0x100cc2},
        {"GFP_HIGHUSER_MOVABLE", GFP_HIGHUSER_MOVABLE, 0x100cca},
        {"GFP_TRANSHUGE_LIGHT", GFP_TRANSHUGE_LIGHT, 0x1c20ca},
        {"GFP_TRANSHUGE", GFP_TRANSHUGE, 0x1c24ca},
    };
    for (const auto &m : masks)
        EXPECT_EQ(m.got, m.want) << m.name;
}

TEST(GfpValues, HelperMasks) {
    EXPECT_EQ(GFP_ZONEMASK, 0xfu);
    EXPECT_EQ(GFP_MOVABLE_MASK, 0x18u);
    EXPECT_EQ(GFP_CONSTRAINT_MASK, 0x300000u);
    // RECLAIM|HIGH|IO|FS|NOWARN|RETRY_MAYFAIL|NOFAIL|NORETRY|MEMALLOC|NOMEMALLOC (+NOLOCKDEP=0)
    EXPECT_EQ(GFP_RECLAIM_MASK, 0xbece0u);
    EXPECT_EQ(GFP_SLAB_BUG_MASK, 0x6u | ~0x1ffffffu);
    EXPECT_EQ(GFP_BOOT_MASK, 0x1ffffffu & ~0xcc0u);
    // Usable in constant expressions.
    static_assert(GFP_KERNEL == 0xcc0u && gfp_zone(GFP_DMA32) == ZONE_DMA32);
}

// include/linux/gfp.h's table: the four zone-modifier bits -> the highest usable zone, on
// x86-64 (no ZONE_HIGHMEM, so OPT_ZONE_HIGHMEM is ZONE_NORMAL).
TEST(GfpZone, AllSixteenCombinations) {
    struct row {
        unsigned bits;
        bool bad;
        zone_type zone;
    };
    const row rows[16] = {
        {0x0, false, ZONE_NORMAL}, {0x1, false, ZONE_DMA},     {0x2, false, ZONE_NORMAL},
        {0x3, true, ZONE_DMA},     {0x4, false, ZONE_DMA32},   {0x5, true, ZONE_DMA},
        {0x6, true, ZONE_DMA},     {0x7, true, ZONE_DMA},      {0x8, false, ZONE_NORMAL},
        {0x9, false, ZONE_DMA},    {0xa, false, ZONE_MOVABLE}, {0xb, true, ZONE_DMA},
        {0xc, false, ZONE_DMA32},  {0xd, true, ZONE_DMA},      {0xe, true, ZONE_DMA},
        {0xf, true, ZONE_DMA},
    };
    for (const auto &r : rows) {
        SCOPED_TRACE(r.bits);
        EXPECT_EQ(bool(gfp_zone_bad(r.bits)), r.bad);
        // A bad entry reads as zero, the lowest zone, as in a kernel without DEBUG_VM.
        EXPECT_EQ(gfp_zone(r.bits), r.zone);
        // Higher bits never change the zone.
        EXPECT_EQ(gfp_zone(r.bits | GFP_KERNEL | __GFP_COMP), r.zone);
        auto checked = gfp_zone_checked(r.bits);
        EXPECT_EQ(checked.has_value(), !r.bad);
        if (checked) {
            EXPECT_EQ(*checked, r.zone);
        }
    }
    EXPECT_EQ(gfp_zone(GFP_HIGHUSER_MOVABLE), ZONE_MOVABLE);
    EXPECT_EQ(gfp_zone(GFP_HIGHUSER), ZONE_NORMAL);
    EXPECT_EQ(gfp_zone(GFP_KERNEL | __GFP_MOVABLE), ZONE_NORMAL);
}

TEST(GfpMigratetype, EveryMobilityCombination) {
    EXPECT_EQ(gfp_migratetype(GFP_KERNEL), MIGRATE_UNMOVABLE);
    EXPECT_EQ(gfp_migratetype(GFP_KERNEL | __GFP_MOVABLE), MIGRATE_MOVABLE);
    EXPECT_EQ(gfp_migratetype(GFP_KERNEL | __GFP_RECLAIMABLE), MIGRATE_RECLAIMABLE);
    // Both hints: the kernel warns and the raw value aliases MIGRATE_HIGHATOMIC.
    EXPECT_EQ(gfp_migratetype(__GFP_MOVABLE | __GFP_RECLAIMABLE), MIGRATE_HIGHATOMIC);
    EXPECT_EQ(gfp_migratetype(GFP_HIGHUSER_MOVABLE), MIGRATE_MOVABLE);
    EXPECT_EQ(int(MIGRATE_PCPTYPES), 3);
    EXPECT_EQ(migratetype_name(MIGRATE_RECLAIMABLE), "Reclaimable");
    EXPECT_EQ(zone_name(ZONE_NORMAL), "Normal");
    EXPECT_EQ(zone_name(ZONE_DMA32), "DMA32");
}

TEST(GfpPredicates, KernelHelpers) {
    EXPECT_TRUE(gfpflags_allow_blocking(GFP_KERNEL));
    EXPECT_TRUE(gfpflags_allow_blocking(GFP_NOIO));
    EXPECT_FALSE(gfpflags_allow_blocking(GFP_ATOMIC));
    EXPECT_FALSE(gfpflags_allow_blocking(GFP_NOWAIT));
    EXPECT_FALSE(gfpflags_allow_blocking(GFP_TRANSHUGE_LIGHT));
    EXPECT_TRUE(gfpflags_allow_blocking(GFP_TRANSHUGE));

    EXPECT_TRUE(gfp_has_io_fs(GFP_KERNEL));
    EXPECT_FALSE(gfp_has_io_fs(GFP_NOFS));
    EXPECT_FALSE(gfp_has_io_fs(GFP_NOIO));
    EXPECT_FALSE(gfp_has_io_fs(__GFP_FS));

    EXPECT_TRUE(gfpflags_normal_context(GFP_KERNEL));
    EXPECT_FALSE(gfpflags_normal_context(GFP_KERNEL | __GFP_MEMALLOC));
    EXPECT_FALSE(gfpflags_normal_context(GFP_ATOMIC));
    EXPECT_FALSE(gfpflags_normal_context(__GFP_MEMALLOC));

    EXPECT_TRUE(gfp_compaction_allowed(GFP_NOFS));
    EXPECT_FALSE(gfp_compaction_allowed(GFP_NOIO));

    // gfp_nested_mask keeps only GFP_KERNEL|GFP_ATOMIC bits and adds the quiet ones.
    EXPECT_EQ(gfp_nested_mask(GFP_KERNEL | __GFP_ZERO | __GFP_COMP),
              GFP_KERNEL | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN);
    EXPECT_EQ(gfp_zonelist(GFP_KERNEL | __GFP_THISNODE), int(ZONELIST_NOFALLBACK));
    EXPECT_EQ(gfp_zonelist(GFP_KERNEL), int(ZONELIST_FALLBACK));
}

bool has_kind(const std::vector<gfp_problem> &ps, gfp_problem_kind k, gfp_severity s) {
    return std::any_of(ps.begin(), ps.end(),
                       [&](const gfp_problem &p) { return p.kind == k && p.severity == s; });
}

TEST(GfpValidate, CleanMasksHaveNoProblems) {
    for (gfp_t m : {GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_NOIO, GFP_NOFS, GFP_USER,
                    GFP_HIGHUSER_MOVABLE, GFP_TRANSHUGE, GFP_TRANSHUGE_LIGHT, GFP_DMA, GFP_DMA32,
                    GFP_KERNEL_ACCOUNT, GFP_KERNEL | __GFP_NOFAIL, gfp_t(0)}) {
        EXPECT_TRUE(gfp_validate(m, 0).empty()) << gfp_describe(m);
        EXPECT_TRUE(gfp_valid(m, 0)) << gfp_describe(m);
    }
}

TEST(GfpValidate, ErrorsNameTheProblem) {
    auto p = gfp_validate(GFP_KERNEL | __GFP_DMA | __GFP_DMA32);
    ASSERT_TRUE(has_kind(p, gfp_problem_kind::bad_zone_combination, gfp_severity::error));
    EXPECT_NE(p[0].message.find("GFP_DMA|GFP_DMA32"), std::string::npos) << p[0].message;

    EXPECT_TRUE(has_kind(gfp_validate(0x4000000u), gfp_problem_kind::bits_outside_layout,
                         gfp_severity::error));
    EXPECT_TRUE(has_kind(gfp_validate(GFP_KERNEL | 0x200u), gfp_problem_kind::unused_bit,
                         gfp_severity::error));
    EXPECT_TRUE(has_kind(gfp_validate(__GFP_MOVABLE | __GFP_RECLAIMABLE),
                         gfp_problem_kind::both_mobility_hints, gfp_severity::error));
    // 6.12 warns and serves it (as if NOFAIL were not set): a warning, not a refusal.
    EXPECT_TRUE(has_kind(gfp_validate(GFP_ATOMIC | __GFP_NOFAIL),
                         gfp_problem_kind::nofail_without_reclaim, gfp_severity::warning));
    EXPECT_TRUE(gfp_valid(GFP_ATOMIC | __GFP_NOFAIL, 0));
    EXPECT_TRUE(gfp_nofail_cannot_reclaim(GFP_NOWAIT | __GFP_NOFAIL));
    EXPECT_FALSE(gfp_nofail_cannot_reclaim(GFP_NOIO | __GFP_NOFAIL));
    EXPECT_TRUE(has_kind(gfp_validate(GFP_KERNEL, 11), gfp_problem_kind::order_too_large,
                         gfp_severity::error));
    EXPECT_FALSE(gfp_valid(GFP_KERNEL, 11));
    EXPECT_TRUE(gfp_valid(GFP_KERNEL, 10));
}

TEST(GfpValidate, WarningsSayWhichFlagWins) {
    EXPECT_TRUE(has_kind(gfp_validate(GFP_KERNEL | __GFP_NOFAIL, 2),
                         gfp_problem_kind::nofail_large_order, gfp_severity::warning));
    EXPECT_TRUE(has_kind(gfp_validate(GFP_KERNEL | __GFP_NOFAIL | __GFP_NORETRY),
                         gfp_problem_kind::nofail_with_noretry, gfp_severity::warning));
    EXPECT_TRUE(has_kind(gfp_validate(GFP_KERNEL | __GFP_NOFAIL | __GFP_RETRY_MAYFAIL),
                         gfp_problem_kind::nofail_with_retry_mayfail, gfp_severity::warning));
    EXPECT_TRUE(has_kind(gfp_validate(GFP_KERNEL | __GFP_NORETRY | __GFP_RETRY_MAYFAIL),
                         gfp_problem_kind::noretry_with_retry_mayfail, gfp_severity::warning));
    EXPECT_TRUE(has_kind(gfp_validate(GFP_KERNEL | __GFP_MEMALLOC | __GFP_NOMEMALLOC),
                         gfp_problem_kind::memalloc_with_nomemalloc, gfp_severity::warning));
    EXPECT_TRUE(has_kind(gfp_validate(GFP_KERNEL | __GFP_ZEROTAGS),
                         gfp_problem_kind::zerotags_without_zero, gfp_severity::warning));
    // Warnings do not make a mask invalid.
    EXPECT_TRUE(gfp_valid(GFP_KERNEL | __GFP_MEMALLOC | __GFP_NOMEMALLOC));
}

// The cheap admission test and the explaining validator must never disagree.
TEST(GfpValidate, ValidAgreesWithValidateOnRandomMasks) {
    std::mt19937 rng(12);
    for (int i = 0; i < 20000; i++) {
        gfp_t m = rng() & (i % 3 ? 0x1ffffffu : 0xffffffffu);
        int order = int(rng() % 13) - 1;
        bool any_error = false;
        for (const auto &p : gfp_validate(m, order))
            any_error |= p.severity == gfp_severity::error;
        ASSERT_EQ(gfp_valid(m, order), !any_error) << std::hex << m << " order " << order;
    }
}

} // namespace
