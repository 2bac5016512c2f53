// SPDX-License-Identifier: MIT
//
// The historical GFP layouts against the kernel's own values: composite masks per era
// (reference table 1.6), single flags (tables 1.1, 1.3, 1.4), the enum-era tail bits, and
// the model layout against the C header gfplab/linux/gfp_types.h.
#include <gtest/gtest.h>

#include <gfplab/gfp_layout.hpp>
#include <gfplab/linux/gfp_types.h>

#include <array>
#include <bit>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gfplab {
namespace {

const gfp_layout &layout(int major, int minor, kconfig cfg = {}) {
    const gfp_layout *l = find_gfp_layout({major, minor}, cfg);
    if (l == nullptr)
        throw std::runtime_error("no layout for " + std::to_string(major) + "." +
                                 std::to_string(minor));
    return *l;
}

constexpr kconfig no_options{false, false, false};
constexpr kconfig kasan_only{true, false, true};

// ---------------------------------------------------------------------------------------
// Table 1.6: every row and column. Columns are eras; each is checked in every version of
// it that the reference read.

constexpr gfp_t absent = 0xdeadbeef;

struct column {
    std::vector<kernel_version> versions;
};

const std::array<column, 9> columns{{
    {{{3, 10}, {3, 19}}},
    {{{4, 9}}},
    {{{4, 10}, {4, 15}}},
    {{{4, 19}, {5, 0}}},
    {{{5, 10}}},
    {{{5, 15}}},
    {{{5, 19}, {6, 1}}},
    {{{6, 6}}},
    {{{6, 12}, {6, 18}}},
}};

struct row {
    const char *name;
    std::array<gfp_t, 9> values;
};

// clang-format off
const row table_1_6[] = {
    {"GFP_ATOMIC",           {0x20, 0x2080020, 0x1080020, 0x480020, 0xa20, 0xa20, 0xa20, 0x820, 0x820}},
    {"GFP_KERNEL",           {0xd0, 0x24000c0, 0x14000c0, 0x6000c0, 0xcc0, 0xcc0, 0xcc0, 0xcc0, 0xcc0}},
    {"GFP_KERNEL_ACCOUNT",   {absent, 0x25000c0, 0x15000c0, 0x7000c0, 0x400cc0, 0x400cc0, 0x400cc0, 0x400cc0, 0x400cc0}},
    {"GFP_NOWAIT",           {0x0, 0x2000000, 0x1000000, 0x400000, 0x800, 0x800, 0x800, 0x800, 0x2800}},
    {"GFP_NOIO",             {0x10, 0x2400000, 0x1400000, 0x600000, 0xc00, 0xc00, 0xc00, 0xc00, 0xc00}},
    {"GFP_NOFS",             {0x50, 0x2400040, 0x1400040, 0x600040, 0xc40, 0xc40, 0xc40, 0xc40, 0xc40}},
    {"GFP_USER",             {0x200d0, 0x24200c0, 0x14200c0, 0x6200c0, 0x100cc0, 0x100cc0, 0x100cc0, 0x100cc0, 0x100cc0}},
    {"GFP_DMA",              {0x1, 0x1, 0x1, 0x1, 0x1, 0x1, 0x1, 0x1, 0x1}},
    {"GFP_DMA32",            {0x4, 0x4, 0x4, 0x4, 0x4, 0x4, 0x4, 0x4, 0x4}},
    {"GFP_HIGHUSER",         {0x200d2, 0x24200c2, 0x14200c2, 0x6200c2, 0x100cc2, 0x100cc2, 0x100cc2, 0x100cc2, 0x100cc2}},
    {"GFP_HIGHUSER_MOVABLE", {0x200da, 0x24200ca, 0x14200ca, 0x6200ca, 0x100cca, 0x1100cca, 0x100cca, 0x100cca, 0x100cca}},
    {"GFP_TRANSHUGE_LIGHT",  {absent, 0x342ca, 0x342ca, 0x342ca, 0x1c20ca, 0x11c20ca, 0x1c20ca, 0x1c20ca, 0x1c20ca}},
    {"GFP_TRANSHUGE",        {0x4352da, 0x4342ca, 0x4342ca, 0x2342ca, 0x1c24ca, 0x11c24ca, 0x1c24ca, 0x1c24ca, 0x1c24ca}},
};
// clang-format on

TEST(GfpLayoutComposites, EveryRowAndColumnOfTable16) {
    for (const row &r : table_1_6) {
        for (std::size_t c = 0; c < columns.size(); ++c) {
            for (kernel_version v : columns[c].versions) {
                SCOPED_TRACE(std::string(r.name) + " on " + v.str());
                const auto value = layout(v.major, v.minor).value_of(r.name);
                if (r.values[c] == absent) {
                    EXPECT_FALSE(value.has_value());
                } else {
                    ASSERT_TRUE(value.has_value());
                    EXPECT_EQ(*value, r.values[c]);
                }
            }
        }
    }
}

TEST(GfpLayoutComposites, TemporaryUntil413) {
    EXPECT_EQ(layout(3, 10).value_of("GFP_TEMPORARY"), 0x800d0u);
    EXPECT_EQ(layout(4, 9).value_of("GFP_TEMPORARY"), 0x24000d0u);
    EXPECT_EQ(layout(4, 10).value_of("GFP_TEMPORARY"), 0x14000d0u);
    EXPECT_FALSE(layout(4, 15).value_of("GFP_TEMPORARY").has_value());
    EXPECT_FALSE(layout(4, 19).value_of("GFP_TEMPORARY").has_value());
}

TEST(GfpLayoutComposites, KasanHwTagsFootnotes) {
    EXPECT_EQ(layout(5, 19, kasan_only).value_of("GFP_HIGHUSER_MOVABLE"), 0x4100ccau);
    EXPECT_EQ(layout(6, 1, kasan_only).value_of("GFP_HIGHUSER_MOVABLE"), 0x6100ccau);
    EXPECT_EQ(layout(6, 6, kasan_only).value_of("GFP_HIGHUSER_MOVABLE"), 0x2100ccau);
    EXPECT_EQ(layout(6, 12, kasan_only).value_of("GFP_HIGHUSER_MOVABLE"), 0x2100ccau);
    // ... and nothing of it without the option.
    EXPECT_EQ(layout(6, 1).value_of("GFP_HIGHUSER_MOVABLE"), 0x100ccau);
}

TEST(GfpLayoutComposites, ThreeXOnlyMasks) {
    EXPECT_EQ(layout(3, 10).value_of("GFP_IOFS"), 0xc0u);
    EXPECT_EQ(layout(3, 19).value_of("GFP_THISNODE"), 0x41200u);
    EXPECT_FALSE(layout(4, 9).value_of("GFP_IOFS").has_value());
    EXPECT_FALSE(layout(3, 19).value_of("__GFP_RECLAIM").has_value());
    EXPECT_EQ(layout(4, 19).value_of("__GFP_RECLAIM"), 0x600000u);
}

TEST(GfpLayoutComposites, TranshugeBefore48KeptKswapdOff) {
    // 4.4-4.7: GFP_TRANSHUGE cleared only KSWAPD_RECLAIM and still had NORETRY.
    EXPECT_EQ(layout(4, 4).value_of("GFP_TRANSHUGE"), 0x4352cau);
    EXPECT_FALSE(layout(4, 7).value_of("GFP_TRANSHUGE_LIGHT").has_value());
    EXPECT_EQ(layout(4, 8).value_of("GFP_TRANSHUGE"), 0x4342cau);
}

TEST(GfpLayoutComposites, NowaitGainsNowarn) {
    EXPECT_EQ(layout(6, 6).value_of("GFP_NOWAIT"), 0x800u);
    EXPECT_EQ(layout(6, 12).value_of("GFP_NOWAIT"), 0x2800u);
    EXPECT_EQ(layout(6, 8).value_of("GFP_NOWAIT"), 0x2800u); // best-effort boundary
    EXPECT_EQ(layout(6, 7).value_of("GFP_NOWAIT"), 0x800u);
}

// ---------------------------------------------------------------------------------------
// Single flags.

struct flag_value {
    const char *name;
    gfp_t value;
};

void expect_flags(const gfp_layout &l, std::initializer_list<flag_value> flags) {
    for (const flag_value &f : flags) {
        SCOPED_TRACE(std::string(f.name) + " on " + l.version().str());
        EXPECT_EQ(l.value_of(f.name), std::optional<gfp_t>(f.value));
    }
}

TEST(GfpLayoutFlags, Every612Flag) {
    const gfp_layout &l = layout(6, 12);
    expect_flags(l, {{"__GFP_DMA", 0x1},
                     {"__GFP_HIGHMEM", 0x2},
                     {"__GFP_DMA32", 0x4},
                     {"__GFP_MOVABLE", 0x8},
                     {"__GFP_RECLAIMABLE", 0x10},
                     {"__GFP_HIGH", 0x20},
                     {"__GFP_IO", 0x40},
                     {"__GFP_FS", 0x80},
                     {"__GFP_ZERO", 0x100},
                     {"__GFP_DIRECT_RECLAIM", 0x400},
                     {"__GFP_KSWAPD_RECLAIM", 0x800},
                     {"__GFP_WRITE", 0x1000},
                     {"__GFP_NOWARN", 0x2000},
                     {"__GFP_RETRY_MAYFAIL", 0x4000},
                     {"__GFP_NOFAIL", 0x8000},
                     {"__GFP_NORETRY", 0x10000},
                     {"__GFP_MEMALLOC", 0x20000},
                     {"__GFP_COMP", 0x40000},
                     {"__GFP_NOMEMALLOC", 0x80000},
                     {"__GFP_HARDWALL", 0x100000},
                     {"__GFP_THISNODE", 0x200000},
                     {"__GFP_ACCOUNT", 0x400000},
                     {"__GFP_ZEROTAGS", 0x800000},
                     {"__GFP_SKIP_ZERO", 0},
                     {"__GFP_SKIP_KASAN", 0},
                     {"__GFP_NOLOCKDEP", 0},
                     {"__GFP_NO_OBJ_EXT", 0x1000000}});
    EXPECT_FALSE(l.value_of("__GFP_ATOMIC").has_value());
    EXPECT_EQ(l.flags().size(), 24u); // 23 fixed bits (0x200 unused) + NO_OBJ_EXT
    EXPECT_EQ(l.known_bits(), 0x1fffdffu);
    EXPECT_EQ(l.bits_mask(), 0x1ffffffu);
}

TEST(GfpLayoutFlags, Table13For419And50) {
    for (auto [ma, mi] : {std::pair{4, 18}, {4, 19}, {5, 0}}) {
        const gfp_layout &l = layout(ma, mi, kconfig{false, true, true});
        expect_flags(l, {{"__GFP_DMA", 0x1},
                         {"__GFP_HIGHMEM", 0x2},
                         {"__GFP_DMA32", 0x4},
                         {"__GFP_MOVABLE", 0x8},
                         {"__GFP_RECLAIMABLE", 0x10},
                         {"__GFP_HIGH", 0x20},
                         {"__GFP_IO", 0x40},
                         {"__GFP_FS", 0x80},
                         {"__GFP_WRITE", 0x100},
                         {"__GFP_NOWARN", 0x200},
                         {"__GFP_RETRY_MAYFAIL", 0x400},
                         {"__GFP_NOFAIL", 0x800},
                         {"__GFP_NORETRY", 0x1000},
                         {"__GFP_MEMALLOC", 0x2000},
                         {"__GFP_COMP", 0x4000},
                         {"__GFP_ZERO", 0x8000},
                         {"__GFP_NOMEMALLOC", 0x10000},
                         {"__GFP_HARDWALL", 0x20000},
                         {"__GFP_THISNODE", 0x40000},
                         {"__GFP_ATOMIC", 0x80000},
                         {"__GFP_ACCOUNT", 0x100000},
                         {"__GFP_DIRECT_RECLAIM", 0x200000},
                         {"__GFP_KSWAPD_RECLAIM", 0x400000},
                         {"__GFP_NOLOCKDEP", 0x800000}});
        EXPECT_EQ(l.bits_mask(), 0xffffffu); // 23 + IS_ENABLED(CONFIG_LOCKDEP)
        EXPECT_EQ(layout(ma, mi).bits_mask(), 0x7fffffu);
        EXPECT_EQ(layout(ma, mi).value_of("__GFP_NOLOCKDEP"), 0u);
    }
}

TEST(GfpLayoutFlags, Table14For3x) {
    for (auto [ma, mi] : {std::pair{3, 10}, {3, 19}}) {
        const gfp_layout &l = layout(ma, mi);
        expect_flags(l, {{"__GFP_DMA", 0x1},
                         {"__GFP_HIGHMEM", 0x2},
                         {"__GFP_DMA32", 0x4},
                         {"__GFP_MOVABLE", 0x8},
                         {"__GFP_WAIT", 0x10},
                         {"__GFP_HIGH", 0x20},
                         {"__GFP_IO", 0x40},
                         {"__GFP_FS", 0x80},
                         {"__GFP_COLD", 0x100},
                         {"__GFP_NOWARN", 0x200},
                         {"__GFP_REPEAT", 0x400},
                         {"__GFP_NOFAIL", 0x800},
                         {"__GFP_NORETRY", 0x1000},
                         {"__GFP_MEMALLOC", 0x2000},
                         {"__GFP_COMP", 0x4000},
                         {"__GFP_ZERO", 0x8000},
                         {"__GFP_NOMEMALLOC", 0x10000},
                         {"__GFP_HARDWALL", 0x20000},
                         {"__GFP_THISNODE", 0x40000},
                         {"__GFP_RECLAIMABLE", 0x80000},
                         {"__GFP_NOTRACK", 0x200000},
                         {"__GFP_NO_KSWAPD", 0x400000},
                         {"__GFP_OTHER_NODE", 0x800000},
                         {"__GFP_WRITE", 0x1000000}});
        EXPECT_EQ(l.bits_mask(), 0x1ffffffu); // __GFP_BITS_SHIFT 25
        EXPECT_EQ(l.print_style(), gfp_print_style::hex_only);
        EXPECT_FALSE(l.value_of("__GFP_DIRECT_RECLAIM").has_value());
    }
    EXPECT_EQ(layout(3, 10).value_of("__GFP_KMEMCG"), 0x100000u);
    EXPECT_FALSE(layout(3, 19).value_of("__GFP_KMEMCG").has_value());
    // 3.0.8: no MEMALLOC, KMEMCG or WRITE yet.
    EXPECT_FALSE(layout(3, 0).value_of("__GFP_MEMALLOC").has_value());
    EXPECT_FALSE(layout(3, 0).value_of("__GFP_WRITE").has_value());
}

TEST(GfpLayoutFlags, EraKeyValues) {
    // Table 1.5.
    expect_flags(layout(4, 9), {{"__GFP_RECLAIMABLE", 0x10},
                                {"__GFP_COLD", 0x100},
                                {"__GFP_REPEAT", 0x400},
                                {"__GFP_ATOMIC", 0x80000},
                                {"__GFP_ACCOUNT", 0x100000},
                                {"__GFP_NOTRACK", 0x200000},
                                {"__GFP_DIRECT_RECLAIM", 0x400000},
                                {"__GFP_OTHER_NODE", 0x800000},
                                {"__GFP_WRITE", 0x1000000},
                                {"__GFP_KSWAPD_RECLAIM", 0x2000000}});
    expect_flags(layout(4, 10), {{"__GFP_WRITE", 0x800000},
                                 {"__GFP_KSWAPD_RECLAIM", 0x1000000},
                                 {"__GFP_DIRECT_RECLAIM", 0x400000},
                                 {"__GFP_REPEAT", 0x400},
                                 {"__GFP_COLD", 0x100}});
    EXPECT_FALSE(layout(4, 10).value_of("__GFP_OTHER_NODE").has_value());
    const gfp_layout &l415 = layout(4, 15, kconfig{false, true, true});
    expect_flags(l415, {{"__GFP_RETRY_MAYFAIL", 0x400}, {"__GFP_NOLOCKDEP", 0x2000000}});
    for (const char *gone : {"__GFP_REPEAT", "__GFP_COLD", "__GFP_NOTRACK"})
        EXPECT_FALSE(l415.value_of(gone).has_value()) << gone;
    expect_flags(layout(5, 10), {{"__GFP_ZERO", 0x100},
                                 {"__GFP_ATOMIC", 0x200},
                                 {"__GFP_DIRECT_RECLAIM", 0x400},
                                 {"__GFP_KSWAPD_RECLAIM", 0x800},
                                 {"__GFP_WRITE", 0x1000},
                                 {"__GFP_ACCOUNT", 0x400000}});
    expect_flags(layout(5, 15, kconfig{false, true, true}), {{"__GFP_ZEROTAGS", 0x800000},
                                                             {"__GFP_SKIP_KASAN_POISON", 0x1000000},
                                                             {"__GFP_NOLOCKDEP", 0x2000000}});
    expect_flags(layout(6, 1, kconfig{true, true, true}), {{"__GFP_ZEROTAGS", 0x800000},
                                                           {"__GFP_SKIP_ZERO", 0x1000000},
                                                           {"__GFP_SKIP_KASAN_UNPOISON", 0x2000000},
                                                           {"__GFP_SKIP_KASAN_POISON", 0x4000000},
                                                           {"__GFP_NOLOCKDEP", 0x8000000}});
    expect_flags(layout(6, 1), {{"__GFP_SKIP_ZERO", 0}, {"__GFP_SKIP_KASAN_POISON", 0}});
    // Table 1.2 (6.6): fixed values, 0 when the option is off; shift 26 + LOCKDEP.
    const gfp_layout &l66 = layout(6, 6, kconfig{true, true, true});
    expect_flags(l66, {{"__GFP_SKIP_ZERO", 0x1000000},
                       {"__GFP_SKIP_KASAN", 0x2000000},
                       {"__GFP_NOLOCKDEP", 0x4000000}});
    EXPECT_EQ(l66.bits_mask(), 0x7ffffffu);
    EXPECT_EQ(layout(6, 6).bits_mask(), 0x3ffffffu);
    EXPECT_FALSE(layout(6, 6).value_of("__GFP_ATOMIC").has_value());
    EXPECT_FALSE(layout(6, 6).value_of("__GFP_NO_OBJ_EXT").has_value());
}

// Table 1.1: the enum era's tail bits for the four configurations.
TEST(GfpLayoutFlags, EnumEraTailBits) {
    struct config_row {
        kconfig cfg;
        gfp_t skip_zero, skip_kasan, nolockdep, no_obj_ext, bits_mask;
    };
    const config_row rows[] = {
        {{false, false, false}, 0, 0, 0, 0, 0xffffff},
        {{false, false, true}, 0, 0, 0, 0x1000000, 0x1ffffff},
        {{false, true, true}, 0, 0, 0x1000000, 0x2000000, 0x3ffffff},
        {{true, true, true}, 0x1000000, 0x2000000, 0x4000000, 0x8000000, 0xfffffff},
    };
    for (kernel_version v : {kernel_version{6, 10}, {6, 12}, {6, 14}, {6, 15}, {6, 18}}) {
        for (const config_row &r : rows) {
            SCOPED_TRACE(v.str() + " " + r.cfg.str());
            const gfp_layout &l = layout(v.major, v.minor, r.cfg);
            EXPECT_EQ(l.value_of("__GFP_SKIP_ZERO"), r.skip_zero);
            EXPECT_EQ(l.value_of("__GFP_SKIP_KASAN"), r.skip_kasan);
            EXPECT_EQ(l.value_of("__GFP_NOLOCKDEP"), r.nolockdep);
            EXPECT_EQ(l.value_of("__GFP_NO_OBJ_EXT"), r.no_obj_ext);
            EXPECT_EQ(l.bits_mask(), r.bits_mask);
            EXPECT_EQ(l.value_of("__GFP_ZEROTAGS"), 0x800000u);
        }
    }
}

TEST(GfpLayoutFlags, FlagsAreSingleBitsInBitOrderAndNeverZero) {
    for (const gfp_era &era : gfp_eras()) {
        for (kernel_version v : {era.first, era.last}) {
            for (kconfig cfg : {no_options, kconfig{true, true, true}}) {
                const gfp_layout &l = layout(v.major, v.minor, cfg);
                gfp_t previous = 0;
                for (const gfp_name &f : l.flags()) {
                    SCOPED_TRACE(std::string(f.name) + " on " + v.str());
                    EXPECT_EQ(std::popcount(f.value), 1);
                    EXPECT_GT(f.value, previous);
                    EXPECT_EQ(f.value & ~l.bits_mask(), 0u);
                    previous = f.value;
                }
                for (const gfp_name &p : l.print_table())
                    EXPECT_NE(p.value, 0u) << p.name;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The model layout and the C header agree on every __GFP_* and GFP_* macro.

TEST(GfpLayoutModel, AgreesWithGfpTypesHeader) {
    const gfp_layout &m = model_gfp_layout();
    EXPECT_EQ(m.version(), (kernel_version{6, 12}));
    EXPECT_EQ(m.config(), (kconfig{false, false, true}));
    EXPECT_EQ(m.era(), "6.10-6.14");
    EXPECT_EQ(&m, find_gfp_layout({6, 12}));
#define GFPLAB_EXPECT_MACRO(name) EXPECT_EQ(m.value_of(#name), std::optional<gfp_t>(name)) << #name
    GFPLAB_EXPECT_MACRO(__GFP_DMA);
    GFPLAB_EXPECT_MACRO(__GFP_HIGHMEM);
    GFPLAB_EXPECT_MACRO(__GFP_DMA32);
    GFPLAB_EXPECT_MACRO(__GFP_MOVABLE);
    GFPLAB_EXPECT_MACRO(__GFP_RECLAIMABLE);
    GFPLAB_EXPECT_MACRO(__GFP_WRITE);
    GFPLAB_EXPECT_MACRO(__GFP_HARDWALL);
    GFPLAB_EXPECT_MACRO(__GFP_THISNODE);
    GFPLAB_EXPECT_MACRO(__GFP_ACCOUNT);
    GFPLAB_EXPECT_MACRO(__GFP_NO_OBJ_EXT);
    GFPLAB_EXPECT_MACRO(__GFP_HIGH);
    GFPLAB_EXPECT_MACRO(__GFP_MEMALLOC);
    GFPLAB_EXPECT_MACRO(__GFP_NOMEMALLOC);
    GFPLAB_EXPECT_MACRO(__GFP_IO);
    GFPLAB_EXPECT_MACRO(__GFP_FS);
    GFPLAB_EXPECT_MACRO(__GFP_DIRECT_RECLAIM);
    GFPLAB_EXPECT_MACRO(__GFP_KSWAPD_RECLAIM);
    GFPLAB_EXPECT_MACRO(__GFP_RECLAIM);
    GFPLAB_EXPECT_MACRO(__GFP_RETRY_MAYFAIL);
    GFPLAB_EXPECT_MACRO(__GFP_NOFAIL);
    GFPLAB_EXPECT_MACRO(__GFP_NORETRY);
    GFPLAB_EXPECT_MACRO(__GFP_NOWARN);
    GFPLAB_EXPECT_MACRO(__GFP_COMP);
    GFPLAB_EXPECT_MACRO(__GFP_ZERO);
    GFPLAB_EXPECT_MACRO(__GFP_ZEROTAGS);
    GFPLAB_EXPECT_MACRO(__GFP_SKIP_ZERO);
    GFPLAB_EXPECT_MACRO(__GFP_SKIP_KASAN);
    GFPLAB_EXPECT_MACRO(__GFP_NOLOCKDEP);
    GFPLAB_EXPECT_MACRO(__GFP_BITS_MASK);
    GFPLAB_EXPECT_MACRO(GFP_ZONEMASK);
    GFPLAB_EXPECT_MACRO(GFP_ATOMIC);
    GFPLAB_EXPECT_MACRO(GFP_KERNEL);
    GFPLAB_EXPECT_MACRO(GFP_KERNEL_ACCOUNT);
    GFPLAB_EXPECT_MACRO(GFP_NOWAIT);
    GFPLAB_EXPECT_MACRO(GFP_NOIO);
    GFPLAB_EXPECT_MACRO(GFP_NOFS);
    GFPLAB_EXPECT_MACRO(GFP_USER);
    GFPLAB_EXPECT_MACRO(GFP_DMA);
    GFPLAB_EXPECT_MACRO(GFP_DMA32);
    GFPLAB_EXPECT_MACRO(GFP_HIGHUSER);
    GFPLAB_EXPECT_MACRO(GFP_HIGHUSER_MOVABLE);
    GFPLAB_EXPECT_MACRO(GFP_TRANSHUGE_LIGHT);
    GFPLAB_EXPECT_MACRO(GFP_TRANSHUGE);
    GFPLAB_EXPECT_MACRO(GFP_MOVABLE_MASK);
    GFPLAB_EXPECT_MACRO(GFP_RECLAIM_MASK);
    GFPLAB_EXPECT_MACRO(GFP_CONSTRAINT_MASK);
    GFPLAB_EXPECT_MACRO(GFP_SLAB_BUG_MASK);
    GFPLAB_EXPECT_MACRO(GFP_BOOT_MASK);
#undef GFPLAB_EXPECT_MACRO
    // Not masks: the shift is checked through the mask it makes, GFP_MOVABLE_SHIFT is 3.
    EXPECT_EQ(m.bits_mask(), (gfp_t{1} << __GFP_BITS_SHIFT) - 1);
    EXPECT_EQ(GFP_MOVABLE_MASK >> GFP_MOVABLE_SHIFT, 0x3u);
}

TEST(GfpLayoutModel, EveryFlagOfTheModelIsInTheHeader) {
    // The other direction: the layout has no single flag that the header lacks.
    const gfp_layout &m = model_gfp_layout();
    gfp_t header_bits =
        __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE | __GFP_RECLAIMABLE | __GFP_HIGH |
        __GFP_IO | __GFP_FS | __GFP_ZERO | __GFP_RECLAIM | __GFP_WRITE | __GFP_NOWARN |
        __GFP_RETRY_MAYFAIL | __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_COMP |
        __GFP_NOMEMALLOC | __GFP_HARDWALL | __GFP_THISNODE | __GFP_ACCOUNT | __GFP_ZEROTAGS |
        __GFP_SKIP_ZERO | __GFP_SKIP_KASAN | __GFP_NOLOCKDEP | __GFP_NO_OBJ_EXT;
    EXPECT_EQ(m.known_bits(), header_bits);
}

// ---------------------------------------------------------------------------------------
// Registry, eras, print styles.

TEST(GfpLayoutRegistry, KnownAndUnknownVersions) {
    EXPECT_EQ(find_gfp_layout({2, 6}), nullptr);
    EXPECT_EQ(find_gfp_layout({3, 20}), nullptr);
    EXPECT_EQ(find_gfp_layout({4, 21}), nullptr);
    EXPECT_EQ(find_gfp_layout({5, 20}), nullptr);
    EXPECT_EQ(find_gfp_layout({1, 0}), nullptr);
    EXPECT_NE(find_gfp_layout({4, 20}), nullptr);
    EXPECT_NE(find_gfp_layout({6, 0}), nullptr);
    EXPECT_NE(find_gfp_layout({6, 30}), nullptr);
    for (int minor = 0; minor <= 19; ++minor)
        EXPECT_NE(find_gfp_layout({3, minor}), nullptr) << minor;
}

TEST(GfpLayoutRegistry, EraOfEachVersion) {
    const std::pair<kernel_version, const char *> cases[] = {
        {{3, 0}, "3.0-4.3"},   {{4, 3}, "3.0-4.3"},    {{4, 4}, "4.4-4.9"},
        {{4, 9}, "4.4-4.9"},   {{4, 10}, "4.10-4.17"}, {{4, 17}, "4.10-4.17"},
        {{4, 18}, "4.18-5.0"}, {{5, 0}, "4.18-5.0"},   {{5, 1}, "5.1-5.13"},
        {{5, 13}, "5.1-5.13"}, {{5, 14}, "5.14-5.17"}, {{5, 17}, "5.14-5.17"},
        {{5, 18}, "5.18-6.2"}, {{6, 2}, "5.18-6.2"},   {{6, 3}, "6.3-6.9"},
        {{6, 9}, "6.3-6.9"},   {{6, 10}, "6.10-6.14"}, {{6, 14}, "6.10-6.14"},
        {{6, 15}, "6.15+"},    {{6, 40}, "6.15+"},
    };
    for (auto [v, era] : cases)
        EXPECT_EQ(layout(v.major, v.minor).era(), era) << v.str();
    const auto eras = gfp_eras();
    ASSERT_EQ(eras.size(), 10u);
    EXPECT_EQ(eras.front().name, "3.0-4.3");
    EXPECT_EQ(eras.back().name, "6.15+");
    EXPECT_EQ(eras.back().last, (kernel_version{6, 15}));
    EXPECT_TRUE(eras.back().config_dependent);
    EXPECT_FALSE(eras[3].config_dependent);
    for (std::size_t i = 1; i < eras.size(); ++i)
        EXPECT_LT(eras[i - 1].last, eras[i].first);
}

TEST(GfpLayoutRegistry, PrintStyles) {
    EXPECT_EQ(layout(3, 19).print_style(), gfp_print_style::hex_only);
    EXPECT_EQ(layout(4, 4).print_style(), gfp_print_style::hex_only);
    EXPECT_EQ(layout(4, 5).print_style(), gfp_print_style::pGg);
    EXPECT_EQ(layout(6, 12).print_style(), gfp_print_style::pGg);
}

TEST(GfpLayoutRegistry, CachedAndThreadSafe) {
    std::vector<const gfp_layout *> seen(8);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < seen.size(); ++i)
        threads.emplace_back([&seen, i] { seen[i] = find_gfp_layout({5, 4}, no_options); });
    for (auto &t : threads)
        t.join();
    for (const gfp_layout *l : seen)
        EXPECT_EQ(l, seen.front());
    EXPECT_NE(find_gfp_layout({5, 4}), seen.front()); // another config, another layout
}

TEST(GfpLayoutMeaning, EveryNameOfEveryEraIsExplained) {
    for (const gfp_era &era : gfp_eras()) {
        for (kernel_version v : {era.first, era.last}) {
            const gfp_layout &l = layout(v.major, v.minor, kconfig{true, true, true});
            for (auto names : {l.flags(), l.composites(), l.print_table()})
                for (const gfp_name &n : names)
                    EXPECT_FALSE(gfp_flag_meaning(n.name).empty()) << n.name << " " << v.str();
        }
    }
    EXPECT_NE(gfp_flag_meaning("__GFP_FS").find("filesystem"), std::string_view::npos);
    EXPECT_EQ(gfp_flag_meaning("GFP_WAIT"), gfp_flag_meaning("__GFP_WAIT"));
    EXPECT_TRUE(gfp_flag_meaning("GFP_BOGUS").empty());
    EXPECT_TRUE(gfp_flag_meaning("").empty());
}

// ---------------------------------------------------------------------------------------
// kernel_version and kconfig.

TEST(KernelVersion, Parse) {
    EXPECT_EQ(kernel_version::parse("6.12"), (kernel_version{6, 12}));
    EXPECT_EQ(kernel_version::parse("v6.12"), (kernel_version{6, 12}));
    EXPECT_EQ(kernel_version::parse("6.12.3"), (kernel_version{6, 12}));
    EXPECT_EQ(kernel_version::parse("6.1.0-18-amd64"), (kernel_version{6, 1}));
    EXPECT_EQ(kernel_version::parse("4.19.0+"), (kernel_version{4, 19}));
    EXPECT_EQ(kernel_version::parse("5.15-rc3"), (kernel_version{5, 15}));
    EXPECT_EQ(kernel_version::parse(" 3.10 "), (kernel_version{3, 10}));
    for (const char *bad : {"", "6", "6.", ".12", "v", "abc", "6.12x", "6.12.", "6..12", "6.12.x"})
        EXPECT_FALSE(kernel_version::parse(bad).has_value()) << bad;
}

TEST(KernelVersion, ReleasedAndStr) {
    EXPECT_TRUE((kernel_version{3, 0}).released());
    EXPECT_TRUE((kernel_version{3, 19}).released());
    EXPECT_FALSE((kernel_version{3, 20}).released());
    EXPECT_TRUE((kernel_version{4, 20}).released());
    EXPECT_FALSE((kernel_version{4, 21}).released());
    EXPECT_TRUE((kernel_version{5, 19}).released());
    EXPECT_FALSE((kernel_version{5, 20}).released());
    EXPECT_TRUE((kernel_version{6, 0}).released());
    EXPECT_FALSE((kernel_version{2, 6}).released());
    EXPECT_FALSE((kernel_version{3, -1}).released());
    EXPECT_EQ((kernel_version{6, 12}).str(), "6.12");
    EXPECT_LT((kernel_version{4, 19}), (kernel_version{5, 0}));
}

TEST(Kconfig, Parse) {
    EXPECT_EQ(kconfig::parse(""), kconfig{});
    EXPECT_EQ(kconfig::parse("none"), no_options);
    EXPECT_EQ(kconfig::parse("LOCKDEP,KASAN_HW_TAGS"), (kconfig{true, true, true}));
    EXPECT_EQ(kconfig::parse("no-SLAB_OBJ_EXT"), no_options);
    EXPECT_EQ(kconfig::parse("CONFIG_LOCKDEP"), (kconfig{false, true, true}));
    EXPECT_EQ(kconfig::parse("lockdep, no-CONFIG_SLAB_OBJ_EXT"), (kconfig{false, true, false}));
    std::string error;
    EXPECT_FALSE(kconfig::parse("LOCKDEP,KASAN", &error).has_value());
    EXPECT_NE(error.find("KASAN"), std::string::npos);
    EXPECT_FALSE(kconfig::parse("bogus").has_value());
}

TEST(Kconfig, StrRoundTrips) {
    EXPECT_EQ(kconfig{}.str(), "SLAB_OBJ_EXT");
    EXPECT_EQ((kconfig{false, true, true}).str(), "LOCKDEP,SLAB_OBJ_EXT");
    EXPECT_EQ(no_options.str(), "none");
    for (int bits = 0; bits < 8; ++bits) {
        const kconfig cfg{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0};
        EXPECT_EQ(kconfig::parse(cfg.str()), cfg) << cfg.str();
    }
}

} // namespace
} // namespace gfplab
