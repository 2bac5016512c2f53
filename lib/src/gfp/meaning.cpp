// SPDX-License-Identifier: MIT
//
// meaning.cpp - one line per GFP name (every era) saying what it asks of the allocator,
// written for gfplab-decode --explain from the kernel's documentation, in our own words.

#include <gfplab/gfp_layout.hpp>

#include <array>
#include <string>
#include <utility>

namespace gfplab {
namespace {

using entry = std::pair<std::string_view, std::string_view>;

constexpr std::array meanings{
    // Zone modifiers: the low four bits pick the highest zone the pages may come from.
    entry{"__GFP_DMA", "allocate from ZONE_DMA (the lowest addresses, for old ISA-style devices)"},
    entry{"__GFP_HIGHMEM", "the pages may come from ZONE_HIGHMEM (no permanent kernel mapping "
                           "needed); with __GFP_MOVABLE it allows ZONE_MOVABLE"},
    entry{"__GFP_DMA32", "allocate below 4 GiB (ZONE_DMA32) for devices with 32-bit DMA"},
    entry{"__GFP_MOVABLE", "the page can be migrated or reclaimed: placed in movable pageblocks "
                           "and, with __GFP_HIGHMEM, allowed into ZONE_MOVABLE"},
    entry{"__GFP_RECLAIMABLE", "slab memory that a shrinker can free: grouped into reclaimable "
                               "pageblocks to limit fragmentation"},
    // Watermark modifiers.
    entry{"__GFP_HIGH", "the caller is important: may dip below the min watermark into part of "
                        "the reserves (ALLOC_MIN_RESERVE)"},
    entry{"__GFP_ATOMIC", "the caller cannot reclaim or sleep and is high priority: may use "
                          "more of the reserves (4.4-6.2; folded into __GFP_HIGH handling in 6.3)"},
    entry{"__GFP_MEMALLOC", "may use all memory reserves, ignoring watermarks; only for code "
                            "that frees memory quickly (swap over network and the like)"},
    entry{"__GFP_NOMEMALLOC", "never use the emergency reserves, even in a PF_MEMALLOC task; "
                              "overrides __GFP_MEMALLOC"},
    // Reclaim modifiers.
    entry{"__GFP_IO", "reclaim may start physical I/O (swap out, write back); cleared for "
                      "allocations on the block I/O path"},
    entry{"__GFP_FS", "reclaim may call into filesystems (shrinkers, writeback); clear it when "
                      "holding filesystem locks"},
    entry{"__GFP_DIRECT_RECLAIM", "the caller may sleep and enter direct reclaim and "
                                  "compaction; without it the allocation never blocks"},
    entry{"__GFP_KSWAPD_RECLAIM", "wake kswapd to reclaim in the background when the low "
                                  "watermark is reached"},
    entry{"__GFP_RECLAIM", "both direct reclaim and waking kswapd: the usual \"may sleep\" bits"},
    entry{"__GFP_WAIT", "(3.x-4.3) the caller may sleep, reclaim and wait; split into "
                        "__GFP_DIRECT_RECLAIM and __GFP_KSWAPD_RECLAIM in 4.4"},
    entry{"__GFP_NO_KSWAPD", "(3.x-4.3) do not wake kswapd; used by THP allocations"},
    entry{"__GFP_RETRY_MAYFAIL", "try hard, retrying reclaim and compaction while progress is "
                                 "made, but fail rather than invoke the OOM killer"},
    entry{"__GFP_REPEAT", "(before 4.13) retry a costly allocation a few times before failing; "
                          "became __GFP_RETRY_MAYFAIL"},
    entry{"__GFP_NOFAIL", "never fail: retry forever; the caller cannot handle failure (use "
                          "sparingly, never for costly orders from atomic context)"},
    entry{"__GFP_NORETRY", "give up after one light round of reclaim and compaction; never "
                           "invokes the OOM killer"},
    // Action modifiers.
    entry{"__GFP_NOWARN", "do not print the allocation-failure warning (warn_alloc); the caller "
                          "handles failure quietly"},
    entry{"__GFP_COMP", "make a compound page (head and tail metadata) out of a higher-order "
                        "allocation"},
    entry{"__GFP_ZERO", "return zeroed memory"},
    entry{"__GFP_COLD", "(before 4.15) a cache-cold page will do: taken from the tail of the "
                        "per-CPU list"},
    entry{"__GFP_NOTRACK", "(before 4.15) do not track the page with kmemcheck"},
    entry{"__GFP_OTHER_NODE", "(3.x-4.9) account the allocation as made on behalf of another "
                              "node (NUMA statistics)"},
    entry{"__GFP_WRITE", "the page will be dirtied soon: spread such pages across zones to "
                         "balance dirty memory"},
    entry{"__GFP_HARDWALL", "enforce the cpuset memory policy strictly (no borrowing from "
                            "ancestor cpusets)"},
    entry{"__GFP_THISNODE", "allocate on the requested node only: no fallback to other nodes "
                            "and no cpuset or mempolicy widening"},
    entry{"__GFP_ACCOUNT", "charge the allocation to the caller's memory cgroup (kmemcg)"},
    entry{"__GFP_NOACCOUNT", "(4.2-4.4) do not charge the allocation to the memory cgroup"},
    entry{"__GFP_KMEMCG", "(3.8-3.14) charge the allocation to the memory cgroup's kernel "
                          "memory"},
    entry{"__GFP_ZEROTAGS", "with __GFP_ZERO, also zero the memory tags (arm64 MTE) when the "
                            "page is zeroed"},
    entry{"__GFP_SKIP_ZERO", "KASAN HW tags: skip zeroing on allocation because the caller "
                             "initialises the memory itself"},
    entry{"__GFP_SKIP_KASAN", "KASAN HW tags: skip unpoisoning on allocation (and poisoning on "
                              "free); user pages and vmalloc tag memory themselves"},
    entry{"__GFP_SKIP_KASAN_POISON", "(5.14-6.3) KASAN HW tags: do not poison the page when it "
                                     "is freed"},
    entry{"__GFP_SKIP_KASAN_UNPOISON", "(5.18-6.3) KASAN HW tags: do not unpoison the page "
                                       "when it is allocated"},
    entry{"__GFP_NOLOCKDEP", "do not let lockdep track this allocation as a reclaim context "
                             "(silences false fs_reclaim reports)"},
    entry{"__GFP_NO_OBJ_EXT", "do not allocate the slab object-extension vector for this "
                              "allocation (avoids recursion in memcg/profiling metadata)"},
    // Composite masks.
    entry{"GFP_ATOMIC", "cannot sleep (interrupts, spinlocks): no direct reclaim, wakes kswapd, "
                        "may use part of the reserves"},
    entry{"GFP_KERNEL", "the normal kernel allocation: may sleep, reclaim, start I/O and call "
                        "into filesystems"},
    entry{"GFP_KERNEL_ACCOUNT", "GFP_KERNEL and charged to the caller's memory cgroup "
                                "(user-triggerable kernel allocations)"},
    entry{"GFP_NOWAIT", "must not sleep and is not important: no direct reclaim, no reserves; "
                        "wakes kswapd (and since 6.8 does not warn on failure)"},
    entry{"GFP_NOIO", "may reclaim but must not start any I/O; prefer memalloc_noio_save()"},
    entry{"GFP_NOFS", "may reclaim and do I/O but must not call into filesystems; prefer "
                      "memalloc_nofs_save()"},
    entry{"GFP_USER", "for userspace-reachable kernel memory: GFP_KERNEL with the cpuset "
                      "enforced (__GFP_HARDWALL)"},
    entry{"GFP_DMA", "from ZONE_DMA (kept for old device drivers; same bit as __GFP_DMA)"},
    entry{"GFP_DMA32", "from ZONE_DMA32 (same bit as __GFP_DMA32)"},
    entry{"GFP_HIGHUSER", "GFP_USER for pages that need no kernel mapping (may use highmem)"},
    entry{"GFP_HIGHUSER_MOVABLE", "user pages that can be migrated: page cache and anonymous "
                                  "memory (ZONE_MOVABLE allowed)"},
    entry{"GFP_TRANSHUGE_LIGHT", "transparent huge page, light: no reclaim at all, no reserves, "
                                 "no warning"},
    entry{"GFP_TRANSHUGE", "transparent huge page: like GFP_TRANSHUGE_LIGHT but may enter direct "
                           "reclaim and compaction"},
    entry{"GFP_TEMPORARY", "(before 4.14) short-lived kernel allocation: GFP_KERNEL placed in "
                           "reclaimable pageblocks"},
    entry{"GFP_IOFS", "(3.x-4.3) the I/O and filesystem bits together, for masking them off"},
    entry{"GFP_THISNODE", "(3.x, NUMA) this node only, no warning, no retry: for callers with "
                          "their own fallback"},
    // Helper masks (mm/internal.h, gfp.h).
    entry{"GFP_ZONEMASK", "the zone-modifier bits that index GFP_ZONE_TABLE"},
    entry{"GFP_MOVABLE_MASK", "the mobility bits that gfp_migratetype() turns into a "
                              "migratetype"},
    entry{"GFP_RECLAIM_MASK", "the reclaim-behaviour bits that slab passes on to the page "
                              "allocator"},
    entry{"GFP_CONSTRAINT_MASK", "the bits that narrow where pages may come from (cpuset, "
                                 "node)"},
    entry{"GFP_SLAB_BUG_MASK", "bits slab refuses: highmem or DMA32 requests and bits outside "
                               "the layout"},
    entry{"GFP_BOOT_MASK", "gfp_allowed_mask during early boot: everything except reclaim, IO "
                           "and FS"},
    entry{"__GFP_BITS_MASK", "every bit this kernel's layout defines"},
};

} // namespace

std::string_view gfp_flag_meaning(std::string_view name) noexcept {
    for (const auto &[n, meaning] : meanings)
        if (n == name)
            return meaning;
    // The 3.x tracepoints print single flags without the leading underscores.
    if (name.starts_with("GFP_") && name.size() < 60) {
        char buf[64] = "__";
        name.copy(buf + 2, name.size());
        const std::string_view full(buf, name.size() + 2);
        for (const auto &[n, meaning] : meanings)
            if (n == full)
                return meaning;
    }
    return {};
}

} // namespace gfplab
