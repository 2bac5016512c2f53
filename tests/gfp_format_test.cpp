// SPDX-License-Identifier: MIT
//
// Printing masks as each kernel's %pGg does, and reading them back.
#include <gtest/gtest.h>

#include <gfplab/gfp_layout.hpp>
#include <gfplab/linux/gfp_types.h>

#include <random>
#include <string>

namespace gfplab {
namespace {

const gfp_layout &layout(int major, int minor, kconfig cfg = {}) {
    const gfp_layout *l = find_gfp_layout({major, minor}, cfg);
    if (l == nullptr)
        throw std::runtime_error("no layout");
    return *l;
}

const kconfig all_configs[] = {
    {false, false, false}, {false, false, true}, {false, true, false}, {false, true, true},
    {true, false, false},  {true, false, true},  {true, true, false},  {true, true, true},
};

// ---------------------------------------------------------------------------------------
// lib/test_printf.c (6.12) flags() expectations, on the model layout.

TEST(GfpFormat, KernelSelfTestExpectations) {
    const gfp_layout &m = model_gfp_layout();
    EXPECT_EQ(m.format(GFP_TRANSHUGE), "GFP_TRANSHUGE");
    EXPECT_EQ(m.format(GFP_ATOMIC | __GFP_DMA), "GFP_ATOMIC|GFP_DMA");
    EXPECT_EQ(m.format(__GFP_HIGH), "__GFP_HIGH");
    EXPECT_EQ(m.format(~__GFP_BITS_MASK), "0xfe000000");
    EXPECT_EQ(m.format(__GFP_HIGH | ~__GFP_BITS_MASK), "__GFP_HIGH|0xfe000000");
    EXPECT_EQ(m.format(0), "");
}

TEST(GfpFormat, TableOrderChangedIn615) {
    EXPECT_EQ(layout(6, 12).format(0x40dc0), "GFP_KERNEL|__GFP_COMP|__GFP_ZERO");
    EXPECT_EQ(layout(6, 14).format(0x40dc0), "GFP_KERNEL|__GFP_COMP|__GFP_ZERO");
    EXPECT_EQ(layout(5, 10).format(0x40dc0), "GFP_KERNEL|__GFP_COMP|__GFP_ZERO");
    EXPECT_EQ(layout(6, 15).format(0x40dc0), "GFP_KERNEL|__GFP_ZERO|__GFP_COMP");
    EXPECT_EQ(layout(6, 18).format(0x40dc0), "GFP_KERNEL|__GFP_ZERO|__GFP_COMP");
}

TEST(GfpFormat, TailFlagsOutsideTheTableBefore615) {
    // NO_OBJ_EXT is not in the 6.10-6.14 %pGg table: it is printed as a leftover.
    EXPECT_EQ(layout(6, 12).format_mask(0x1000cc0), "0x1000cc0(GFP_KERNEL|0x1000000)");
    EXPECT_EQ(layout(6, 15).format_mask(0x1000cc0), "0x1000cc0(GFP_KERNEL|__GFP_NO_OBJ_EXT)");
    // 5.18-6.2: the KASAN skip bits are tracepoint-only names.
    EXPECT_EQ(layout(6, 1, {true, false, true}).format(0x1000000 | 0xcc0), "GFP_KERNEL|0x1000000");
    // 5.14-5.17: SKIP_KASAN_POISON is named, and part of GFP_HIGHUSER_MOVABLE.
    EXPECT_EQ(layout(5, 15).format(0x1000000), "__GFP_SKIP_KASAN_POISON");
}

TEST(GfpFormat, RealLogLines) {
    // mode:/gfp_mask= values as printed by those kernels.
    EXPECT_EQ(layout(4, 9).format_mask(0x24201ca), "0x24201ca(GFP_HIGHUSER_MOVABLE|__GFP_COLD)");
    EXPECT_EQ(layout(4, 9).format_mask(0x26000c0),
              "0x26000c0(GFP_KERNEL|__GFP_NOTRACK)"); // kmemcheck-era slab mode
    EXPECT_EQ(layout(4, 14).format_mask(0x14200ca), "0x14200ca(GFP_HIGHUSER_MOVABLE)");
    EXPECT_EQ(layout(4, 15).format_mask(0x14000c0), "0x14000c0(GFP_KERNEL)");
    EXPECT_EQ(layout(4, 19).format_mask(0x6000c0), "0x6000c0(GFP_KERNEL)");
    EXPECT_EQ(layout(4, 19).format_mask(0x6280ca), "0x6280ca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO)");
    EXPECT_EQ(layout(5, 10).format_mask(0x100cca), "0x100cca(GFP_HIGHUSER_MOVABLE)");
    EXPECT_EQ(layout(5, 10).format_mask(0xcc0), "0xcc0(GFP_KERNEL)");
    EXPECT_EQ(layout(5, 15).format_mask(0x1100dca), "0x1100dca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO)");
    EXPECT_EQ(layout(6, 1).format_mask(0x140cca), "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)");
    EXPECT_EQ(layout(6, 6).format_mask(0xa20), "0xa20(GFP_ATOMIC|0x200)"); // 0x200 is unused
    EXPECT_EQ(layout(6, 1).format_mask(0xa20), "0xa20(GFP_ATOMIC)");
    EXPECT_EQ(layout(6, 12).format_mask(0x2800), "0x2800(GFP_NOWAIT)");
    EXPECT_EQ(layout(6, 6).format_mask(0x2800), "0x2800(GFP_NOWAIT|__GFP_NOWARN)");
    // memcg- and psi-triggered OOMs have no allocation behind them.
    EXPECT_EQ(layout(6, 6).format_mask(0), "0x0()");
}

TEST(GfpFormat, HexOnlyEras) {
    // 3.x printk: "mode:0x%x"; the names only exist in tracepoints.
    EXPECT_EQ(layout(3, 10).format_mask(0x201da), "0x201da");
    EXPECT_EQ(layout(3, 10).format(0x201da), "GFP_HIGHUSER_MOVABLE|GFP_COLD");
    EXPECT_EQ(layout(3, 19).format(0xd0), "GFP_KERNEL");
    EXPECT_EQ(layout(3, 19).format(0x80), "0x80"); // the tracepoint table has no __GFP_FS
    EXPECT_EQ(layout(3, 19).format(0x40000), "GFP_THISNODE");
    EXPECT_EQ(layout(3, 19).format(0x20), "GFP_ATOMIC");
    EXPECT_EQ(layout(3, 19).format(0), "GFP_NOWAIT");
    EXPECT_EQ(layout(3, 19).format_mask(0), "0x0");
    EXPECT_EQ(layout(4, 4).format_mask(0x24000c0), "0x24000c0");
    EXPECT_EQ(layout(4, 4).format(0x24000c0), "GFP_KERNEL");
    EXPECT_EQ(layout(4, 5).format_mask(0x24000c0), "0x24000c0(GFP_KERNEL)");
}

TEST(GfpFormat, ComposedFromTheLargestFirst) {
    const gfp_layout &l = layout(6, 12);
    EXPECT_EQ(l.format(GFP_KERNEL_ACCOUNT | __GFP_ZERO), "GFP_KERNEL_ACCOUNT|__GFP_ZERO");
    EXPECT_EQ(l.format(GFP_NOFS | __GFP_NOFAIL), "GFP_NOFS|__GFP_NOFAIL");
    EXPECT_EQ(l.format(__GFP_RECLAIM), "GFP_NOIO");
    EXPECT_EQ(l.format(__GFP_DIRECT_RECLAIM), "__GFP_DIRECT_RECLAIM");
    EXPECT_EQ(l.format(__GFP_KSWAPD_RECLAIM | __GFP_HIGHMEM), "__GFP_HIGHMEM|__GFP_KSWAPD_RECLAIM");
}

// ---------------------------------------------------------------------------------------
// Round trips.

TEST(GfpRoundTrip, EveryCompositeInEveryEraAndConfig) {
    for (const gfp_era &era : gfp_eras()) {
        for (kernel_version v : {era.first, era.last}) {
            for (const kconfig &cfg : all_configs) {
                const gfp_layout &l = layout(v.major, v.minor, cfg);
                for (auto names : {l.composites(), l.flags()}) {
                    for (const gfp_name &n : names) {
                        SCOPED_TRACE(std::string(n.name) + " on " + v.str() + " " + cfg.str());
                        const std::string text = l.format(n.value);
                        const gfp_parse_result back = l.parse(text);
                        ASSERT_TRUE(back) << text << ": " << back.error;
                        EXPECT_EQ(back.mask, n.value) << text;
                        EXPECT_EQ(l.parse(l.format_mask(n.value)).mask, n.value);
                    }
                }
            }
        }
    }
}

TEST(GfpRoundTrip, NamesParseToTheirValues) {
    for (const gfp_era &era : gfp_eras()) {
        for (kernel_version v : {era.first, era.last}) {
            const gfp_layout &l = layout(v.major, v.minor);
            for (auto names : {l.composites(), l.flags(), l.print_table()}) {
                for (const gfp_name &n : names) {
                    // 3.x: the tracepoint's "GFP_THISNODE" is the single bit and wins.
                    if (l.print_style() == gfp_print_style::hex_only && n.name == "GFP_THISNODE")
                        continue;
                    const auto back = l.parse(n.name);
                    ASSERT_TRUE(back) << n.name << " " << v.str() << ": " << back.error;
                    EXPECT_EQ(back.mask, n.value) << n.name << " " << v.str();
                }
            }
        }
    }
}

TEST(GfpRoundTrip, ThousandsOfRandomMasksInEveryEraAndConfig) {
    std::mt19937 rng(20260101);
    int checked = 0;
    for (const gfp_era &era : gfp_eras()) {
        for (kernel_version v : {era.first, era.last}) {
            for (const kconfig &cfg : all_configs) {
                const gfp_layout &l = layout(v.major, v.minor, cfg);
                for (int i = 0; i < 400; ++i) {
                    // Mostly masks made of this layout's bits, sometimes any 32 bits.
                    gfp_t mask = static_cast<gfp_t>(rng());
                    if (i % 4 != 0)
                        mask &= l.known_bits();
                    const std::string text = l.format(mask);
                    const gfp_parse_result back = l.parse(text);
                    ASSERT_TRUE(back) << v.str() << " " << text << ": " << back.error;
                    ASSERT_EQ(back.mask, mask) << v.str() << " " << cfg.str() << " " << text;
                    const std::string printed = l.format_mask(mask);
                    ASSERT_EQ(l.parse(printed).mask, mask) << printed;
                    ++checked;
                }
            }
        }
    }
    EXPECT_EQ(checked, 10 * 2 * 8 * 400);
}

// ---------------------------------------------------------------------------------------
// Parsing.

TEST(GfpParse, NamesHexAndKernelForm) {
    const gfp_layout &l = layout(6, 12);
    EXPECT_EQ(l.parse("GFP_KERNEL").mask, 0xcc0u);
    EXPECT_EQ(l.parse("GFP_KERNEL | __GFP_ZERO").mask, 0xdc0u);
    EXPECT_EQ(l.parse("  GFP_KERNEL|__GFP_COMP|__GFP_ZERO ").mask, 0x40dc0u);
    EXPECT_EQ(l.parse("0xcc0").mask, 0xcc0u);
    EXPECT_EQ(l.parse("cc0").mask, 0xcc0u);
    EXPECT_EQ(l.parse("0XCC0").mask, 0xcc0u);
    EXPECT_EQ(l.parse("GFP_KERNEL|0x100").mask, 0xdc0u);
    EXPECT_EQ(l.parse("0xcc0(GFP_KERNEL)").mask, 0xcc0u);
    EXPECT_EQ(l.parse("0x1000cc0(GFP_KERNEL|0x1000000)").mask, 0x1000cc0u);
    EXPECT_EQ(l.parse("0x0()").mask, 0u);
    EXPECT_TRUE(l.parse("0x0()"));
    EXPECT_EQ(l.parse("none").mask, 0u);
    EXPECT_TRUE(l.parse(""));
    EXPECT_EQ(l.parse("__GFP_RECLAIM").mask, 0xc00u);
    EXPECT_EQ(l.parse("GFP_RECLAIM_MASK").mask, GFP_RECLAIM_MASK);
    // Config-off flags are names of the layout with value 0.
    EXPECT_TRUE(l.parse("__GFP_NOLOCKDEP"));
    EXPECT_EQ(l.parse("__GFP_NOLOCKDEP").mask, 0u);
}

TEST(GfpParse, OtherSpellings) {
    const gfp_layout &l = layout(6, 12);
    EXPECT_EQ(l.parse("GFP_ZERO").mask, 0x100u);     // __GFP_ZERO
    EXPECT_EQ(l.parse("__GFP_KERNEL").mask, 0xcc0u); // GFP_KERNEL
    EXPECT_EQ(l.parse("GFP_DMA").mask, 0x1u);        // a real composite
    const gfp_layout &old = layout(3, 10);
    EXPECT_EQ(old.parse("GFP_WAIT|GFP_IO").mask, 0x50u);
    EXPECT_EQ(old.parse("__GFP_WAIT|GFP_FS").mask, 0x90u);
    EXPECT_EQ(old.parse("GFP_HIGHUSER_MOVABLE|GFP_COLD").mask, 0x201dau);
    EXPECT_EQ(old.parse("GFP_THISNODE").mask, 0x40000u); // what its tracepoint means
    EXPECT_EQ(old.parse("GFP_NOWAIT").mask, 0u);
}

TEST(GfpParse, Errors) {
    const gfp_layout &l = layout(6, 12);
    gfp_parse_result r = l.parse("GFP_KERNL");
    EXPECT_FALSE(r);
    EXPECT_NE(r.error.find("'GFP_KERNL'"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("did you mean GFP_KERNEL?"), std::string::npos) << r.error;

    r = l.parse("GFP_KERNEL|__GFP_NOWRN");
    EXPECT_FALSE(r);
    EXPECT_NE(r.error.find("did you mean __GFP_NOWARN?"), std::string::npos) << r.error;

    // A name from another era is unknown here.
    r = l.parse("__GFP_WAIT");
    EXPECT_FALSE(r);
    EXPECT_NE(r.error.find("'__GFP_WAIT'"), std::string::npos) << r.error;

    r = l.parse("0xcc0(GFP_NOFS)");
    EXPECT_FALSE(r);
    EXPECT_NE(r.error.find("0xc40"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("0xcc0"), std::string::npos) << r.error;
    EXPECT_FALSE(l.parse("0xcc0()"));
    EXPECT_FALSE(l.parse("0xcc0(GFP_KERNEL"));
    EXPECT_FALSE(l.parse("zz(GFP_KERNEL)"));

    r = l.parse("%$#@!");
    EXPECT_FALSE(r);
    EXPECT_NE(r.error.find("'%$#@!'"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("did you mean"), std::string::npos) << r.error;

    EXPECT_FALSE(l.parse("GFP_KERNEL|"));
    EXPECT_FALSE(l.parse("|GFP_KERNEL"));
    EXPECT_FALSE(l.parse("GFP_KERNEL||__GFP_ZERO"));
    EXPECT_FALSE(l.parse("0x123456789")); // does not fit in a gfp_t
    EXPECT_FALSE(l.parse("GFP_KERNEL __GFP_ZERO"));
    EXPECT_EQ(l.parse("bogus").mask, 0u);
}

} // namespace
} // namespace gfplab
