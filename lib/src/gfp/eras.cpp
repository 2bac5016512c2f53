// SPDX-License-Identifier: MIT
//
// eras.cpp - the GFP layouts of every kernel since 3.0, as data.
//
// Sources: the kernel trees 3.10.99, 3.19.8, 4.9, 4.10.17, 4.15, 4.19, 5.0.1, 5.10.13,
// 5.15.85, 5.19, 6.1.20, 6.6.9, 6.12 and 6.18.2, plus 3.0.8's include/linux/gfp.h. A bound marked
// "best effort" falls between two trees that were read and is placed from the kernel's history as
// remembered, not from a tree of that exact version.
//
// Values are the ___GFP_* integers of include/linux/gfp.h (gfp_types.h from 6.0 on).
// Masks are written the way the kernel header writes them and evaluated per version.

#include "era_data.hpp"

#include <array>

namespace gfplab::detail {
namespace {

using O = gfp_option;
using V = kernel_version;

constexpr version_span since(int ma, int mi) {
    return {V{ma, mi}, V{999, 999}};
}
constexpr version_span until(int ma, int mi) {
    return {V{0, 0}, V{ma, mi}};
}
constexpr version_span between(int ma0, int mi0, int ma1, int mi1) {
    return {V{ma0, mi0}, V{ma1, mi1}};
}

// ---------------------------------------------------------------------------------------
// 3.0-4.3: __GFP_WAIT means "may sleep and reclaim"; kswapd is woken unless __GFP_NO_KSWAPD.
// Verified: 3.0.8 (no MEMALLOC, no KMEMCG, no WRITE), 3.10.99, 3.19.8.

constexpr std::array flags_3_0{
    flag_def{"__GFP_DMA", 0x1},
    flag_def{"__GFP_HIGHMEM", 0x2},
    flag_def{"__GFP_DMA32", 0x4},
    flag_def{"__GFP_MOVABLE", 0x8},
    flag_def{"__GFP_WAIT", 0x10},
    flag_def{"__GFP_HIGH", 0x20},
    flag_def{"__GFP_IO", 0x40},
    flag_def{"__GFP_FS", 0x80},
    flag_def{"__GFP_COLD", 0x100},
    flag_def{"__GFP_NOWARN", 0x200},
    flag_def{"__GFP_REPEAT", 0x400},
    flag_def{"__GFP_NOFAIL", 0x800},
    flag_def{"__GFP_NORETRY", 0x1000},
    // Added for swap over NFS in 3.6 (best effort; absent in 3.0.8, present in 3.10).
    flag_def{"__GFP_MEMALLOC", 0x2000, O::always, since(3, 6)},
    flag_def{"__GFP_COMP", 0x4000},
    flag_def{"__GFP_ZERO", 0x8000},
    flag_def{"__GFP_NOMEMALLOC", 0x10000},
    flag_def{"__GFP_HARDWALL", 0x20000},
    flag_def{"__GFP_THISNODE", 0x40000},
    flag_def{"__GFP_RECLAIMABLE", 0x80000},
    // kmem accounting, 3.8-3.14 (present in 3.10 and 3.14.17, gone in 3.19; the 3.8 start
    // is best effort).
    flag_def{"__GFP_KMEMCG", 0x100000, O::always, between(3, 8, 3, 14)},
    // The opt-out that replaced it at the same bit, 4.2-4.4 (best effort).
    flag_def{"__GFP_NOACCOUNT", 0x100000, O::always, since(4, 2)},
    // The kernel defines NOTRACK as 0 without CONFIG_KMEMCHECK; we keep the bit so that
    // masks from kmemcheck kernels decode. No composite uses it, so nothing else moves.
    flag_def{"__GFP_NOTRACK", 0x200000},
    flag_def{"__GFP_NO_KSWAPD", 0x400000},
    flag_def{"__GFP_OTHER_NODE", 0x800000},
    // Dirty-page balancing, 3.3 (best effort; absent in 3.0.8, present in 3.10).
    flag_def{"__GFP_WRITE", 0x1000000, O::always, since(3, 3)},
};

constexpr std::array composites_3_0{
    mask_def{"GFP_ATOMIC", "__GFP_HIGH"},
    mask_def{"GFP_NOWAIT", "GFP_ATOMIC & ~__GFP_HIGH"},
    mask_def{"GFP_NOIO", "__GFP_WAIT"},
    mask_def{"GFP_NOFS", "__GFP_WAIT | __GFP_IO"},
    mask_def{"GFP_KERNEL", "__GFP_WAIT | __GFP_IO | __GFP_FS"},
    mask_def{"GFP_TEMPORARY", "__GFP_WAIT | __GFP_IO | __GFP_FS | __GFP_RECLAIMABLE"},
    mask_def{"GFP_USER", "__GFP_WAIT | __GFP_IO | __GFP_FS | __GFP_HARDWALL"},
    mask_def{"GFP_HIGHUSER", "GFP_USER | __GFP_HIGHMEM"},
    mask_def{"GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER | __GFP_MOVABLE"},
    mask_def{"GFP_IOFS", "__GFP_IO | __GFP_FS"},
    mask_def{"GFP_TRANSHUGE", "GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | "
                              "__GFP_NORETRY | __GFP_NOWARN | __GFP_NO_KSWAPD"},
    // The NUMA definition (0 on !NUMA kernels); removed when its callers were converted to
    // __GFP_THISNODE in 4.0 (best effort; present in 3.19).
    mask_def{"GFP_THISNODE", "__GFP_THISNODE | __GFP_NOWARN | __GFP_NORETRY", until(3, 19)},
    mask_def{"GFP_DMA", "__GFP_DMA"},
    mask_def{"GFP_DMA32", "__GFP_DMA32"},
};

constexpr std::array helpers_3_0{
    mask_def{"GFP_ZONEMASK", "__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE"},
    mask_def{"GFP_MOVABLE_MASK", "__GFP_RECLAIMABLE | __GFP_MOVABLE"},
    // __GFP_MEMALLOC joined when it was added (3.6, best effort).
    mask_def{"GFP_RECLAIM_MASK",
             "__GFP_WAIT | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | "
             "__GFP_REPEAT | __GFP_NOFAIL | __GFP_NORETRY | __GFP_NOMEMALLOC",
             until(3, 5)},
    mask_def{"GFP_RECLAIM_MASK",
             "__GFP_WAIT | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | "
             "__GFP_REPEAT | __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | "
             "__GFP_NOMEMALLOC",
             since(3, 6)},
    mask_def{"GFP_CONSTRAINT_MASK", "__GFP_HARDWALL | __GFP_THISNODE"},
    mask_def{"GFP_SLAB_BUG_MASK", "__GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK"},
    mask_def{"GFP_BOOT_MASK", "__GFP_BITS_MASK & ~(__GFP_WAIT | __GFP_IO | __GFP_FS)"},
};

// No %pGg before 4.5: these are the tracepoints' show_gfp_flags() names (3.19 order, names
// without the leading underscores; no entry for __GFP_FS). 0 prints "GFP_NOWAIT".
constexpr std::array print_3_0{
    print_def{"GFP_TRANSHUGE"},
    print_def{"GFP_HIGHUSER_MOVABLE"},
    print_def{"GFP_HIGHUSER"},
    print_def{"GFP_USER"},
    print_def{"GFP_TEMPORARY"},
    print_def{"GFP_KERNEL"},
    print_def{"GFP_NOFS"},
    print_def{"GFP_ATOMIC"},
    print_def{"GFP_NOIO"},
    print_def{"GFP_HIGH", "__GFP_HIGH"},
    print_def{"GFP_WAIT", "__GFP_WAIT"},
    print_def{"GFP_IO", "__GFP_IO"},
    print_def{"GFP_COLD", "__GFP_COLD"},
    print_def{"GFP_NOWARN", "__GFP_NOWARN"},
    print_def{"GFP_REPEAT", "__GFP_REPEAT"},
    print_def{"GFP_NOFAIL", "__GFP_NOFAIL"},
    print_def{"GFP_NORETRY", "__GFP_NORETRY"},
    print_def{"GFP_COMP", "__GFP_COMP"},
    print_def{"GFP_ZERO", "__GFP_ZERO"},
    print_def{"GFP_NOMEMALLOC", "__GFP_NOMEMALLOC"},
    print_def{"GFP_MEMALLOC", "__GFP_MEMALLOC"},
    print_def{"GFP_HARDWALL", "__GFP_HARDWALL"},
    // The single bit, although the composite GFP_THISNODE exists beside it.
    print_def{"GFP_THISNODE", "__GFP_THISNODE"},
    print_def{"GFP_RECLAIMABLE", "__GFP_RECLAIMABLE"},
    print_def{"GFP_MOVABLE", "__GFP_MOVABLE"},
    print_def{"GFP_NOTRACK", "__GFP_NOTRACK"},
    print_def{"GFP_NO_KSWAPD", "__GFP_NO_KSWAPD"},
    print_def{"GFP_OTHER_NODE", "__GFP_OTHER_NODE"},
};

// __GFP_OTHER_NODE (0x800000) is the top bit until __GFP_WRITE arrives (best effort).
constexpr std::array shifts_3_0{
    shift_def{24, false, until(3, 2)},
    shift_def{25, false, since(3, 3)},
};

// ---------------------------------------------------------------------------------------
// 4.4-4.9: __GFP_WAIT split into DIRECT_RECLAIM and KSWAPD_RECLAIM ("distinguish between
// being unable to sleep, unwilling to sleep and avoiding waking kswapd", 4.4). Verified 4.9.

constexpr std::array flags_4_4{
    flag_def{"__GFP_DMA", 0x1},
    flag_def{"__GFP_HIGHMEM", 0x2},
    flag_def{"__GFP_DMA32", 0x4},
    flag_def{"__GFP_MOVABLE", 0x8},
    flag_def{"__GFP_RECLAIMABLE", 0x10},
    flag_def{"__GFP_HIGH", 0x20},
    flag_def{"__GFP_IO", 0x40},
    flag_def{"__GFP_FS", 0x80},
    flag_def{"__GFP_COLD", 0x100},
    flag_def{"__GFP_NOWARN", 0x200},
    flag_def{"__GFP_REPEAT", 0x400},
    flag_def{"__GFP_NOFAIL", 0x800},
    flag_def{"__GFP_NORETRY", 0x1000},
    flag_def{"__GFP_MEMALLOC", 0x2000},
    flag_def{"__GFP_COMP", 0x4000},
    flag_def{"__GFP_ZERO", 0x8000},
    flag_def{"__GFP_NOMEMALLOC", 0x10000},
    flag_def{"__GFP_HARDWALL", 0x20000},
    flag_def{"__GFP_THISNODE", 0x40000},
    flag_def{"__GFP_ATOMIC", 0x80000},
    // kmem accounting became opt-in in 4.5: NOACCOUNT gave its bit to ACCOUNT (best effort).
    flag_def{"__GFP_NOACCOUNT", 0x100000, O::always, until(4, 4)},
    flag_def{"__GFP_ACCOUNT", 0x100000, O::always, since(4, 5)},
    flag_def{"__GFP_NOTRACK", 0x200000}, // see 3.0 about CONFIG_KMEMCHECK
    flag_def{"__GFP_DIRECT_RECLAIM", 0x400000},
    flag_def{"__GFP_OTHER_NODE", 0x800000},
    flag_def{"__GFP_WRITE", 0x1000000},
    flag_def{"__GFP_KSWAPD_RECLAIM", 0x2000000},
};

// GFP_KERNEL_ACCOUNT since 4.5 and GFP_TRANSHUGE_LIGHT since 4.8: best effort.
constexpr std::array composites_4_4{
    mask_def{"__GFP_RECLAIM", "__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_ATOMIC", "__GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_KERNEL", "__GFP_RECLAIM | __GFP_IO | __GFP_FS"},
    mask_def{"GFP_KERNEL_ACCOUNT", "GFP_KERNEL | __GFP_ACCOUNT", since(4, 5)},
    mask_def{"GFP_NOWAIT", "__GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_NOIO", "__GFP_RECLAIM"},
    mask_def{"GFP_NOFS", "__GFP_RECLAIM | __GFP_IO"},
    mask_def{"GFP_TEMPORARY", "__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_RECLAIMABLE"},
    mask_def{"GFP_USER", "__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL"},
    mask_def{"GFP_DMA", "__GFP_DMA"},
    mask_def{"GFP_DMA32", "__GFP_DMA32"},
    mask_def{"GFP_HIGHUSER", "GFP_USER | __GFP_HIGHMEM"},
    mask_def{"GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER | __GFP_MOVABLE"},
    mask_def{"GFP_TRANSHUGE",
             "(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NORETRY | "
             "__GFP_NOWARN) & ~__GFP_KSWAPD_RECLAIM",
             until(4, 7)},
    mask_def{"GFP_TRANSHUGE_LIGHT",
             "(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & "
             "~__GFP_RECLAIM",
             since(4, 8)},
    mask_def{"GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM", since(4, 8)},
};

// 4.4-6.2 (mm/internal.h from 4.x on): the reclaim-behaviour bits that nested allocations
// inherit; __GFP_REPEAT became __GFP_RETRY_MAYFAIL in 4.13.
constexpr std::array helpers_4_4{
    mask_def{"GFP_ZONEMASK", "__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE"},
    mask_def{"GFP_MOVABLE_MASK", "__GFP_RECLAIMABLE | __GFP_MOVABLE"},
    mask_def{"GFP_RECLAIM_MASK",
             "__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | "
             "__GFP_NOWARN | __GFP_REPEAT | __GFP_NOFAIL | __GFP_NORETRY | "
             "__GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_ATOMIC",
             until(4, 12)},
    mask_def{"GFP_RECLAIM_MASK",
             "__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | "
             "__GFP_NOWARN | __GFP_RETRY_MAYFAIL | __GFP_NOFAIL | "
             "__GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | "
             "__GFP_ATOMIC",
             since(4, 13)},
    mask_def{"GFP_CONSTRAINT_MASK", "__GFP_HARDWALL | __GFP_THISNODE"},
    mask_def{"GFP_SLAB_BUG_MASK", "__GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK"},
    mask_def{"GFP_BOOT_MASK", "__GFP_BITS_MASK & ~(__GFP_RECLAIM | __GFP_IO | __GFP_FS)"},
};

// gfpflag_names as 4.9 has it. Entries for names a version lacks drop out, which gives the
// 4.10 table (no OTHER_NODE) and the 4.15 one (no TEMPORARY, COLD, NOTRACK; RETRY_MAYFAIL
// in REPEAT's place). 4.4 printk has no %pGg; its names here are the 4.5 table's.
constexpr std::array print_4_4{
    print_def{"GFP_TRANSHUGE"},
    print_def{"GFP_TRANSHUGE_LIGHT"},
    print_def{"GFP_HIGHUSER_MOVABLE"},
    print_def{"GFP_HIGHUSER"},
    print_def{"GFP_USER"},
    print_def{"GFP_TEMPORARY"},
    print_def{"GFP_KERNEL_ACCOUNT"},
    print_def{"GFP_KERNEL"},
    print_def{"GFP_NOFS"},
    print_def{"GFP_ATOMIC"},
    print_def{"GFP_NOIO"},
    print_def{"GFP_NOWAIT"},
    print_def{"GFP_DMA"},
    print_def{"__GFP_HIGHMEM"},
    print_def{"GFP_DMA32"},
    print_def{"__GFP_HIGH"},
    print_def{"__GFP_ATOMIC"},
    print_def{"__GFP_IO"},
    print_def{"__GFP_FS"},
    print_def{"__GFP_COLD"},
    print_def{"__GFP_NOWARN"},
    print_def{"__GFP_REPEAT"},
    print_def{"__GFP_RETRY_MAYFAIL"},
    print_def{"__GFP_NOFAIL"},
    print_def{"__GFP_NORETRY"},
    print_def{"__GFP_COMP"},
    print_def{"__GFP_ZERO"},
    print_def{"__GFP_NOMEMALLOC"},
    print_def{"__GFP_MEMALLOC"},
    print_def{"__GFP_HARDWALL"},
    print_def{"__GFP_THISNODE"},
    print_def{"__GFP_RECLAIMABLE"},
    print_def{"__GFP_MOVABLE"},
    print_def{"__GFP_ACCOUNT"},
    print_def{"__GFP_NOTRACK"},
    print_def{"__GFP_WRITE"},
    print_def{"__GFP_RECLAIM"},
    print_def{"__GFP_DIRECT_RECLAIM"},
    print_def{"__GFP_KSWAPD_RECLAIM"},
    print_def{"__GFP_OTHER_NODE"},
};

constexpr std::array shifts_4_4{shift_def{26, false}};

// ---------------------------------------------------------------------------------------
// 4.10-4.17: __GFP_OTHER_NODE removed (4.10), WRITE and KSWAPD_RECLAIM slide down.
// Verified 4.10.17 and 4.15. Inside the era (best effort, from the kernel's history):
// NOLOCKDEP added in 4.12, REPEAT renamed RETRY_MAYFAIL in 4.13, GFP_TEMPORARY removed in
// 4.14, COLD and NOTRACK (kmemcheck) removed in 4.15 (both absent in the 4.15 tree).

constexpr std::array flags_4_10{
    flag_def{"__GFP_DMA", 0x1},
    flag_def{"__GFP_HIGHMEM", 0x2},
    flag_def{"__GFP_DMA32", 0x4},
    flag_def{"__GFP_MOVABLE", 0x8},
    flag_def{"__GFP_RECLAIMABLE", 0x10},
    flag_def{"__GFP_HIGH", 0x20},
    flag_def{"__GFP_IO", 0x40},
    flag_def{"__GFP_FS", 0x80},
    flag_def{"__GFP_COLD", 0x100, O::always, until(4, 14)},
    flag_def{"__GFP_NOWARN", 0x200},
    flag_def{"__GFP_REPEAT", 0x400, O::always, until(4, 12)},
    flag_def{"__GFP_RETRY_MAYFAIL", 0x400, O::always, since(4, 13)},
    flag_def{"__GFP_NOFAIL", 0x800},
    flag_def{"__GFP_NORETRY", 0x1000},
    flag_def{"__GFP_MEMALLOC", 0x2000},
    flag_def{"__GFP_COMP", 0x4000},
    flag_def{"__GFP_ZERO", 0x8000},
    flag_def{"__GFP_NOMEMALLOC", 0x10000},
    flag_def{"__GFP_HARDWALL", 0x20000},
    flag_def{"__GFP_THISNODE", 0x40000},
    flag_def{"__GFP_ATOMIC", 0x80000},
    flag_def{"__GFP_ACCOUNT", 0x100000},
    flag_def{"__GFP_NOTRACK", 0x200000, O::always, until(4, 14)},
    flag_def{"__GFP_DIRECT_RECLAIM", 0x400000},
    flag_def{"__GFP_WRITE", 0x800000},
    flag_def{"__GFP_KSWAPD_RECLAIM", 0x1000000},
    flag_def{"__GFP_NOLOCKDEP", 0x2000000, O::lockdep, since(4, 12)},
};

// The 4.8+ definitions of 4.4-4.9, without GFP_TEMPORARY from 4.14.
constexpr std::array composites_4_10{
    mask_def{"__GFP_RECLAIM", "__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_ATOMIC", "__GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_KERNEL", "__GFP_RECLAIM | __GFP_IO | __GFP_FS"},
    mask_def{"GFP_KERNEL_ACCOUNT", "GFP_KERNEL | __GFP_ACCOUNT"},
    mask_def{"GFP_NOWAIT", "__GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_NOIO", "__GFP_RECLAIM"},
    mask_def{"GFP_NOFS", "__GFP_RECLAIM | __GFP_IO"},
    mask_def{"GFP_TEMPORARY", "__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_RECLAIMABLE",
             until(4, 13)},
    mask_def{"GFP_USER", "__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL"},
    mask_def{"GFP_DMA", "__GFP_DMA"},
    mask_def{"GFP_DMA32", "__GFP_DMA32"},
    mask_def{"GFP_HIGHUSER", "GFP_USER | __GFP_HIGHMEM"},
    mask_def{"GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER | __GFP_MOVABLE"},
    mask_def{"GFP_TRANSHUGE_LIGHT",
             "(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & "
             "~__GFP_RECLAIM"},
    mask_def{"GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM"},
};

constexpr std::array shifts_4_10{
    shift_def{25, false, until(4, 11)},
    shift_def{25, true, since(4, 12)},
};

// ---------------------------------------------------------------------------------------
// 4.18-5.0: WRITE moved into COLD's old hole, RECLAIM bits slid down (4.18, best effort:
// 4.15 still has the 4.10 values). Verified 4.19 and 5.0.1.

constexpr std::array flags_4_18{
    flag_def{"__GFP_DMA", 0x1},
    flag_def{"__GFP_HIGHMEM", 0x2},
    flag_def{"__GFP_DMA32", 0x4},
    flag_def{"__GFP_MOVABLE", 0x8},
    flag_def{"__GFP_RECLAIMABLE", 0x10},
    flag_def{"__GFP_HIGH", 0x20},
    flag_def{"__GFP_IO", 0x40},
    flag_def{"__GFP_FS", 0x80},
    flag_def{"__GFP_WRITE", 0x100},
    flag_def{"__GFP_NOWARN", 0x200},
    flag_def{"__GFP_RETRY_MAYFAIL", 0x400},
    flag_def{"__GFP_NOFAIL", 0x800},
    flag_def{"__GFP_NORETRY", 0x1000},
    flag_def{"__GFP_MEMALLOC", 0x2000},
    flag_def{"__GFP_COMP", 0x4000},
    flag_def{"__GFP_ZERO", 0x8000},
    flag_def{"__GFP_NOMEMALLOC", 0x10000},
    flag_def{"__GFP_HARDWALL", 0x20000},
    flag_def{"__GFP_THISNODE", 0x40000},
    flag_def{"__GFP_ATOMIC", 0x80000},
    flag_def{"__GFP_ACCOUNT", 0x100000},
    flag_def{"__GFP_DIRECT_RECLAIM", 0x200000},
    flag_def{"__GFP_KSWAPD_RECLAIM", 0x400000},
    flag_def{"__GFP_NOLOCKDEP", 0x800000, O::lockdep},
};

// Shared by 4.18 through 5.13 (and, with the KASAN additions below, 5.14-5.17).
constexpr std::array composites_4_18{
    mask_def{"__GFP_RECLAIM", "__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_ATOMIC", "__GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_KERNEL", "__GFP_RECLAIM | __GFP_IO | __GFP_FS"},
    mask_def{"GFP_KERNEL_ACCOUNT", "GFP_KERNEL | __GFP_ACCOUNT"},
    mask_def{"GFP_NOWAIT", "__GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_NOIO", "__GFP_RECLAIM"},
    mask_def{"GFP_NOFS", "__GFP_RECLAIM | __GFP_IO"},
    mask_def{"GFP_USER", "__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL"},
    mask_def{"GFP_DMA", "__GFP_DMA"},
    mask_def{"GFP_DMA32", "__GFP_DMA32"},
    mask_def{"GFP_HIGHUSER", "GFP_USER | __GFP_HIGHMEM"},
    mask_def{"GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER | __GFP_MOVABLE"},
    mask_def{"GFP_TRANSHUGE_LIGHT",
             "(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & "
             "~__GFP_RECLAIM"},
    mask_def{"GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM"},
};

// The 4.15-5.13 gfpflag_names (verified identical in 4.15, 4.19, 5.0, 5.10).
#define GFPLAB_PRINT_4_15_HEAD                                                                     \
    print_def{"GFP_TRANSHUGE"}, print_def{"GFP_TRANSHUGE_LIGHT"},                                  \
        print_def{"GFP_HIGHUSER_MOVABLE"}, print_def{"GFP_HIGHUSER"}, print_def{"GFP_USER"},       \
        print_def{"GFP_KERNEL_ACCOUNT"}, print_def{"GFP_KERNEL"}, print_def{"GFP_NOFS"},           \
        print_def{"GFP_ATOMIC"}, print_def{"GFP_NOIO"}, print_def{"GFP_NOWAIT"},                   \
        print_def{"GFP_DMA"}, print_def{"__GFP_HIGHMEM"}, print_def{"GFP_DMA32"}, print_def {      \
        "__GFP_HIGH"                                                                               \
    }
#define GFPLAB_PRINT_4_15_TAIL                                                                     \
    print_def{"__GFP_IO"}, print_def{"__GFP_FS"}, print_def{"__GFP_NOWARN"},                       \
        print_def{"__GFP_RETRY_MAYFAIL"}, print_def{"__GFP_NOFAIL"}, print_def{"__GFP_NORETRY"},   \
        print_def{"__GFP_COMP"}, print_def{"__GFP_ZERO"}, print_def{"__GFP_NOMEMALLOC"},           \
        print_def{"__GFP_MEMALLOC"}, print_def{"__GFP_HARDWALL"}, print_def{"__GFP_THISNODE"},     \
        print_def{"__GFP_RECLAIMABLE"}, print_def{"__GFP_MOVABLE"}, print_def{"__GFP_ACCOUNT"},    \
        print_def{"__GFP_WRITE"}, print_def{"__GFP_RECLAIM"}, print_def{"__GFP_DIRECT_RECLAIM"},   \
        print_def {                                                                                \
        "__GFP_KSWAPD_RECLAIM"                                                                     \
    }

constexpr std::array print_4_15{
    GFPLAB_PRINT_4_15_HEAD,
    print_def{"__GFP_ATOMIC"},
    GFPLAB_PRINT_4_15_TAIL,
};

constexpr std::array shifts_4_18{shift_def{23, true}};

// ---------------------------------------------------------------------------------------
// 5.1-5.13: "mm: shuffle GFP_* flags" (5.1, best effort: absent in 5.0.1). Verified 5.10.13.

#define GFPLAB_FLAGS_5_1_HEAD                                                                      \
    flag_def{"__GFP_DMA", 0x1}, flag_def{"__GFP_HIGHMEM", 0x2}, flag_def{"__GFP_DMA32", 0x4},      \
        flag_def{"__GFP_MOVABLE", 0x8}, flag_def{"__GFP_RECLAIMABLE", 0x10},                       \
        flag_def{"__GFP_HIGH", 0x20}, flag_def{"__GFP_IO", 0x40}, flag_def{"__GFP_FS", 0x80},      \
        flag_def {                                                                                 \
        "__GFP_ZERO", 0x100                                                                        \
    }
#define GFPLAB_FLAGS_5_1_MIDDLE                                                                    \
    flag_def{"__GFP_DIRECT_RECLAIM", 0x400}, flag_def{"__GFP_KSWAPD_RECLAIM", 0x800},              \
        flag_def{"__GFP_WRITE", 0x1000}, flag_def{"__GFP_NOWARN", 0x2000},                         \
        flag_def{"__GFP_RETRY_MAYFAIL", 0x4000}, flag_def{"__GFP_NOFAIL", 0x8000},                 \
        flag_def{"__GFP_NORETRY", 0x10000}, flag_def{"__GFP_MEMALLOC", 0x20000},                   \
        flag_def{"__GFP_COMP", 0x40000}, flag_def{"__GFP_NOMEMALLOC", 0x80000},                    \
        flag_def{"__GFP_HARDWALL", 0x100000}, flag_def{"__GFP_THISNODE", 0x200000}, flag_def {     \
        "__GFP_ACCOUNT", 0x400000                                                                  \
    }

constexpr std::array flags_5_1{
    GFPLAB_FLAGS_5_1_HEAD,
    flag_def{"__GFP_ATOMIC", 0x200},
    GFPLAB_FLAGS_5_1_MIDDLE,
    flag_def{"__GFP_NOLOCKDEP", 0x800000, O::lockdep},
};

// ---------------------------------------------------------------------------------------
// 5.14-5.17: arm64 MTE adds ZEROTAGS and an unconditional SKIP_KASAN_POISON (5.14, best
// effort: absent in 5.10.13). Verified 5.15.85. 5.16 and 5.17 are placed here because the
// KASAN flags became conditional together with SKIP_ZERO/SKIP_KASAN_UNPOISON in the 5.18
// HW_TAGS vmalloc series (best effort: no 5.16-5.18 tree was available).

constexpr std::array flags_5_14{
    GFPLAB_FLAGS_5_1_HEAD,
    flag_def{"__GFP_ATOMIC", 0x200},
    GFPLAB_FLAGS_5_1_MIDDLE,
    flag_def{"__GFP_ZEROTAGS", 0x800000},
    flag_def{"__GFP_SKIP_KASAN_POISON", 0x1000000},
    flag_def{"__GFP_NOLOCKDEP", 0x2000000, O::lockdep},
};

constexpr std::array composites_5_14{
    mask_def{"__GFP_RECLAIM", "__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_ATOMIC", "__GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_KERNEL", "__GFP_RECLAIM | __GFP_IO | __GFP_FS"},
    mask_def{"GFP_KERNEL_ACCOUNT", "GFP_KERNEL | __GFP_ACCOUNT"},
    mask_def{"GFP_NOWAIT", "__GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_NOIO", "__GFP_RECLAIM"},
    mask_def{"GFP_NOFS", "__GFP_RECLAIM | __GFP_IO"},
    mask_def{"GFP_USER", "__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL"},
    mask_def{"GFP_DMA", "__GFP_DMA"},
    mask_def{"GFP_DMA32", "__GFP_DMA32"},
    mask_def{"GFP_HIGHUSER", "GFP_USER | __GFP_HIGHMEM"},
    mask_def{"GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN_POISON"},
    mask_def{"GFP_TRANSHUGE_LIGHT",
             "(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & "
             "~__GFP_RECLAIM"},
    mask_def{"GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM"},
};

constexpr std::array print_5_14{
    GFPLAB_PRINT_4_15_HEAD,
    print_def{"__GFP_ATOMIC"},
    GFPLAB_PRINT_4_15_TAIL,
    print_def{"__GFP_ZEROTAGS"},
    print_def{"__GFP_SKIP_KASAN_POISON"},
};

constexpr std::array shifts_5_14{shift_def{25, true}};

// ---------------------------------------------------------------------------------------
// 5.18-6.2: SKIP_ZERO, SKIP_KASAN_UNPOISON and SKIP_KASAN_POISON exist only with
// CONFIG_KASAN_HW_TAGS, and the KASAN names leave gfpflag_names (tracepoints only), so
// %pGg prints them as hex. Verified 5.19.0 and 6.1.20; the 5.18 start is best effort.

constexpr std::array flags_5_18{
    GFPLAB_FLAGS_5_1_HEAD,
    flag_def{"__GFP_ATOMIC", 0x200},
    GFPLAB_FLAGS_5_1_MIDDLE,
    flag_def{"__GFP_ZEROTAGS", 0x800000},
    flag_def{"__GFP_SKIP_ZERO", 0x1000000, O::kasan_hw_tags},
    flag_def{"__GFP_SKIP_KASAN_UNPOISON", 0x2000000, O::kasan_hw_tags},
    flag_def{"__GFP_SKIP_KASAN_POISON", 0x4000000, O::kasan_hw_tags},
    flag_def{"__GFP_NOLOCKDEP", 0x8000000, O::lockdep},
};

// User pages also skip unpoisoning from 6.0 (best effort: 5.19 lacks it, 6.1 has it).
constexpr std::array composites_5_18{
    mask_def{"__GFP_RECLAIM", "__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_ATOMIC", "__GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_KERNEL", "__GFP_RECLAIM | __GFP_IO | __GFP_FS"},
    mask_def{"GFP_KERNEL_ACCOUNT", "GFP_KERNEL | __GFP_ACCOUNT"},
    mask_def{"GFP_NOWAIT", "__GFP_KSWAPD_RECLAIM"},
    mask_def{"GFP_NOIO", "__GFP_RECLAIM"},
    mask_def{"GFP_NOFS", "__GFP_RECLAIM | __GFP_IO"},
    mask_def{"GFP_USER", "__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL"},
    mask_def{"GFP_DMA", "__GFP_DMA"},
    mask_def{"GFP_DMA32", "__GFP_DMA32"},
    mask_def{"GFP_HIGHUSER", "GFP_USER | __GFP_HIGHMEM"},
    mask_def{"GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN_POISON",
             until(5, 19)},
    mask_def{"GFP_HIGHUSER_MOVABLE",
             "GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN_POISON | "
             "__GFP_SKIP_KASAN_UNPOISON",
             since(6, 0)},
    mask_def{"GFP_TRANSHUGE_LIGHT",
             "(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & "
             "~__GFP_RECLAIM"},
    mask_def{"GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM"},
};

constexpr std::array print_5_18{
    GFPLAB_PRINT_4_15_HEAD,
    print_def{"__GFP_ATOMIC"},
    GFPLAB_PRINT_4_15_TAIL,
    print_def{"__GFP_ZEROTAGS"},
};

constexpr std::array shifts_5_18{shift_def{27, true}};

// ---------------------------------------------------------------------------------------
// 6.3-6.9: __GFP_ATOMIC removed (6.3; 6.1.20 still has it), leaving 0x200 unused. The two
// KASAN skip flags merged into SKIP_KASAN and NOLOCKDEP moved down in 6.4 (best effort;
// 6.6.9 verified). GFP_NOWAIT gained __GFP_NOWARN in 6.8 (best effort: absent in 6.6.9,
// present in 6.12).

constexpr std::array flags_6_3{
    GFPLAB_FLAGS_5_1_HEAD,
    GFPLAB_FLAGS_5_1_MIDDLE,
    flag_def{"__GFP_ZEROTAGS", 0x800000},
    flag_def{"__GFP_SKIP_ZERO", 0x1000000, O::kasan_hw_tags},
    flag_def{"__GFP_SKIP_KASAN_UNPOISON", 0x2000000, O::kasan_hw_tags, until(6, 3)},
    flag_def{"__GFP_SKIP_KASAN_POISON", 0x4000000, O::kasan_hw_tags, until(6, 3)},
    flag_def{"__GFP_NOLOCKDEP", 0x8000000, O::lockdep, until(6, 3)},
    flag_def{"__GFP_SKIP_KASAN", 0x2000000, O::kasan_hw_tags, since(6, 4)},
    flag_def{"__GFP_NOLOCKDEP", 0x4000000, O::lockdep, since(6, 4)},
};

#define GFPLAB_COMPOSITES_6_3_HEAD                                                                 \
    mask_def{"__GFP_RECLAIM", "__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM"},                      \
        mask_def{"GFP_ATOMIC", "__GFP_HIGH | __GFP_KSWAPD_RECLAIM"},                               \
        mask_def{"GFP_KERNEL", "__GFP_RECLAIM | __GFP_IO | __GFP_FS"}, mask_def {                  \
        "GFP_KERNEL_ACCOUNT", "GFP_KERNEL | __GFP_ACCOUNT"                                         \
    }
#define GFPLAB_COMPOSITES_6_3_TAIL                                                                 \
    mask_def{"GFP_NOIO", "__GFP_RECLAIM"}, mask_def{"GFP_NOFS", "__GFP_RECLAIM | __GFP_IO"},       \
        mask_def{"GFP_USER", "__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL"},              \
        mask_def{"GFP_DMA", "__GFP_DMA"}, mask_def{"GFP_DMA32", "__GFP_DMA32"}, mask_def {         \
        "GFP_HIGHUSER", "GFP_USER | __GFP_HIGHMEM"                                                 \
    }

constexpr std::array composites_6_3{
    GFPLAB_COMPOSITES_6_3_HEAD,
    mask_def{"GFP_NOWAIT", "__GFP_KSWAPD_RECLAIM", until(6, 7)},
    mask_def{"GFP_NOWAIT", "__GFP_KSWAPD_RECLAIM | __GFP_NOWARN", since(6, 8)},
    GFPLAB_COMPOSITES_6_3_TAIL,
    mask_def{"GFP_HIGHUSER_MOVABLE",
             "GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN_POISON | "
             "__GFP_SKIP_KASAN_UNPOISON",
             until(6, 3)},
    mask_def{"GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN",
             since(6, 4)},
    mask_def{"GFP_TRANSHUGE_LIGHT",
             "(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & "
             "~__GFP_RECLAIM"},
    mask_def{"GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM"},
};

// 6.3+ (mm/internal.h): __GFP_ATOMIC's place taken by NOLOCKDEP (6.12; 6.3 best effort).
constexpr std::array helpers_6_3{
    mask_def{"GFP_ZONEMASK", "__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE"},
    mask_def{"GFP_MOVABLE_MASK", "__GFP_RECLAIMABLE | __GFP_MOVABLE"},
    mask_def{"GFP_RECLAIM_MASK", "__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | "
                                 "__GFP_NOWARN | __GFP_RETRY_MAYFAIL | __GFP_NOFAIL | "
                                 "__GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | "
                                 "__GFP_NOLOCKDEP"},
    mask_def{"GFP_CONSTRAINT_MASK", "__GFP_HARDWALL | __GFP_THISNODE"},
    mask_def{"GFP_SLAB_BUG_MASK", "__GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK"},
    mask_def{"GFP_BOOT_MASK", "__GFP_BITS_MASK & ~(__GFP_RECLAIM | __GFP_IO | __GFP_FS)"},
};

// 6.3-6.14: the 4.15 table without __GFP_ATOMIC, __GFP_ZEROTAGS last (verified 6.6, 6.12).
constexpr std::array print_6_3{
    GFPLAB_PRINT_4_15_HEAD,
    GFPLAB_PRINT_4_15_TAIL,
    print_def{"__GFP_ZEROTAGS"},
};

constexpr std::array shifts_6_3{
    shift_def{27, true, until(6, 3)},
    shift_def{26, true, since(6, 4)},
};

// ---------------------------------------------------------------------------------------
// 6.10+: "mm: enumerate all gfp flags" numbers the bits with an enum; the tail bits take
// the next free bit only when their option is on (verified 6.12, 6.18; the 6.10 start comes
// with the allocation-profiling series that added __GFP_NO_OBJ_EXT, best effort).

constexpr std::array flags_6_10{
    flag_def{"__GFP_DMA", 0},
    flag_def{"__GFP_HIGHMEM", 0},
    flag_def{"__GFP_DMA32", 0},
    flag_def{"__GFP_MOVABLE", 0},
    flag_def{"__GFP_RECLAIMABLE", 0},
    flag_def{"__GFP_HIGH", 0},
    flag_def{"__GFP_IO", 0},
    flag_def{"__GFP_FS", 0},
    flag_def{"__GFP_ZERO", 0},
    flag_def{"", 0}, // ___GFP_UNUSED_BIT: 0x200, __GFP_ATOMIC's old bit
    flag_def{"__GFP_DIRECT_RECLAIM", 0},
    flag_def{"__GFP_KSWAPD_RECLAIM", 0},
    flag_def{"__GFP_WRITE", 0},
    flag_def{"__GFP_NOWARN", 0},
    flag_def{"__GFP_RETRY_MAYFAIL", 0},
    flag_def{"__GFP_NOFAIL", 0},
    flag_def{"__GFP_NORETRY", 0},
    flag_def{"__GFP_MEMALLOC", 0},
    flag_def{"__GFP_COMP", 0},
    flag_def{"__GFP_NOMEMALLOC", 0},
    flag_def{"__GFP_HARDWALL", 0},
    flag_def{"__GFP_THISNODE", 0},
    flag_def{"__GFP_ACCOUNT", 0},
    flag_def{"__GFP_ZEROTAGS", 0},
    flag_def{"__GFP_SKIP_ZERO", 0, O::kasan_hw_tags},
    flag_def{"__GFP_SKIP_KASAN", 0, O::kasan_hw_tags},
    flag_def{"__GFP_NOLOCKDEP", 0, O::lockdep},
    flag_def{"__GFP_NO_OBJ_EXT", 0, O::slab_obj_ext},
};

constexpr std::array composites_6_10{
    GFPLAB_COMPOSITES_6_3_HEAD,
    mask_def{"GFP_NOWAIT", "__GFP_KSWAPD_RECLAIM | __GFP_NOWARN"},
    GFPLAB_COMPOSITES_6_3_TAIL,
    mask_def{"GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN"},
    mask_def{"GFP_TRANSHUGE_LIGHT",
             "(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & "
             "~__GFP_RECLAIM"},
    mask_def{"GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM"},
};

// 6.15+ ("tracing: gfp: Remove duplication of recording GFP flags"): composites, then every
// single bit in bit order; config-off tail flags are 0 and drop out. Verified 6.18.2.
constexpr std::array print_6_15{
    print_def{"GFP_TRANSHUGE"},
    print_def{"GFP_TRANSHUGE_LIGHT"},
    print_def{"GFP_HIGHUSER_MOVABLE"},
    print_def{"GFP_HIGHUSER"},
    print_def{"GFP_USER"},
    print_def{"GFP_KERNEL_ACCOUNT"},
    print_def{"GFP_KERNEL"},
    print_def{"GFP_NOFS"},
    print_def{"GFP_ATOMIC"},
    print_def{"GFP_NOIO"},
    print_def{"GFP_NOWAIT"},
    print_def{"GFP_DMA"},
    print_def{"GFP_DMA32"},
    print_def{"__GFP_RECLAIM"},
    print_def{"__GFP_DMA"},
    print_def{"__GFP_HIGHMEM"},
    print_def{"__GFP_DMA32"},
    print_def{"__GFP_MOVABLE"},
    print_def{"__GFP_RECLAIMABLE"},
    print_def{"__GFP_HIGH"},
    print_def{"__GFP_IO"},
    print_def{"__GFP_FS"},
    print_def{"__GFP_ZERO"},
    print_def{"__GFP_DIRECT_RECLAIM"},
    print_def{"__GFP_KSWAPD_RECLAIM"},
    print_def{"__GFP_WRITE"},
    print_def{"__GFP_NOWARN"},
    print_def{"__GFP_RETRY_MAYFAIL"},
    print_def{"__GFP_NOFAIL"},
    print_def{"__GFP_NORETRY"},
    print_def{"__GFP_MEMALLOC"},
    print_def{"__GFP_COMP"},
    print_def{"__GFP_NOMEMALLOC"},
    print_def{"__GFP_HARDWALL"},
    print_def{"__GFP_THISNODE"},
    print_def{"__GFP_ACCOUNT"},
    print_def{"__GFP_ZEROTAGS"},
    print_def{"__GFP_SKIP_ZERO"},
    print_def{"__GFP_SKIP_KASAN"},
    print_def{"__GFP_NOLOCKDEP"},
    print_def{"__GFP_NO_OBJ_EXT"},
};

constexpr std::array<shift_def, 0> no_shifts{};

constexpr V kNoPgg{999, 999};

constexpr std::array eras{
    era_def{{"3.0-4.3", V{3, 0}, V{4, 3}, false},
            false,
            kNoPgg,
            "GFP_NOWAIT",
            flags_3_0,
            composites_3_0,
            helpers_3_0,
            print_3_0,
            shifts_3_0},
    // %pGg arrived with "mm, printk: introduce new format string for flags" in 4.5 (best
    // effort: 4.4 logs print bare hex, 4.9 has %pGg).
    era_def{{"4.4-4.9", V{4, 4}, V{4, 9}, false},
            false,
            V{4, 5},
            "",
            flags_4_4,
            composites_4_4,
            helpers_4_4,
            print_4_4,
            shifts_4_4},
    era_def{{"4.10-4.17", V{4, 10}, V{4, 17}, false},
            false,
            V{4, 10},
            "",
            flags_4_10,
            composites_4_10,
            helpers_4_4,
            print_4_4,
            shifts_4_10},
    era_def{{"4.18-5.0", V{4, 18}, V{5, 0}, false},
            false,
            V{4, 18},
            "",
            flags_4_18,
            composites_4_18,
            helpers_4_4,
            print_4_15,
            shifts_4_18},
    era_def{{"5.1-5.13", V{5, 1}, V{5, 13}, false},
            false,
            V{5, 1},
            "",
            flags_5_1,
            composites_4_18,
            helpers_4_4,
            print_4_15,
            shifts_4_18},
    era_def{{"5.14-5.17", V{5, 14}, V{5, 17}, false},
            false,
            V{5, 14},
            "",
            flags_5_14,
            composites_5_14,
            helpers_4_4,
            print_5_14,
            shifts_5_14},
    era_def{{"5.18-6.2", V{5, 18}, V{6, 2}, false},
            false,
            V{5, 18},
            "",
            flags_5_18,
            composites_5_18,
            helpers_4_4,
            print_5_18,
            shifts_5_18},
    era_def{{"6.3-6.9", V{6, 3}, V{6, 9}, false},
            false,
            V{6, 3},
            "",
            flags_6_3,
            composites_6_3,
            helpers_6_3,
            print_6_3,
            shifts_6_3},
    era_def{{"6.10-6.14", V{6, 10}, V{6, 14}, true},
            true,
            V{6, 10},
            "",
            flags_6_10,
            composites_6_10,
            helpers_6_3,
            print_6_3,
            no_shifts},
    era_def{{"6.15+", V{6, 15}, V{6, 15}, true},
            true,
            V{6, 15},
            "",
            flags_6_10,
            composites_6_10,
            helpers_6_3,
            print_6_15,
            no_shifts},
};

#undef GFPLAB_PRINT_4_15_HEAD
#undef GFPLAB_PRINT_4_15_TAIL
#undef GFPLAB_FLAGS_5_1_HEAD
#undef GFPLAB_FLAGS_5_1_MIDDLE
#undef GFPLAB_COMPOSITES_6_3_HEAD
#undef GFPLAB_COMPOSITES_6_3_TAIL

} // namespace

std::span<const era_def> gfp_era_data() noexcept {
    return eras;
}

} // namespace gfplab::detail
