/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/gfp.h - the kernel's gfp helpers (Linux 6.12 include/linux/gfp.h semantics).
 * The allocation entry points (alloc_pages ...) join this header with the page allocator.
 */
#ifndef GFPLAB_LINUX_GFP_H
#define GFPLAB_LINUX_GFP_H

#include <gfplab/linux/alloc_site.h>
#include <gfplab/linux/compiler.h>
#include <gfplab/linux/gfp_types.h>
#include <gfplab/linux/mmzone.h>

/*
 * The zone table: entry i (i = the four zone-modifier bits) holds the highest zone the
 * request may use. Combinations listed in GFP_ZONE_BAD have a zero entry, which is what a
 * kernel without CONFIG_DEBUG_VM silently hands out (ZONE_DMA); we refuse them instead
 * (gfp_zone_bad(), and the validator in gfplab/gfp.hpp).
 */
#define GFPLAB_ZT(bits, zone) ((unsigned long long)(zone) << ((bits)*GFP_ZONES_SHIFT))
#define GFP_ZONE_TABLE                                                                             \
    (GFPLAB_ZT(0, ZONE_NORMAL) | GFPLAB_ZT(___GFP_DMA, OPT_ZONE_DMA) |                             \
     GFPLAB_ZT(___GFP_HIGHMEM, OPT_ZONE_HIGHMEM) | GFPLAB_ZT(___GFP_DMA32, OPT_ZONE_DMA32) |       \
     GFPLAB_ZT(___GFP_MOVABLE, ZONE_NORMAL) |                                                      \
     GFPLAB_ZT(___GFP_MOVABLE | ___GFP_DMA, OPT_ZONE_DMA) |                                        \
     GFPLAB_ZT(___GFP_MOVABLE | ___GFP_HIGHMEM, ZONE_MOVABLE) |                                    \
     GFPLAB_ZT(___GFP_MOVABLE | ___GFP_DMA32, OPT_ZONE_DMA32))

#define GFP_ZONE_BAD                                                                               \
    (1u << (___GFP_DMA | ___GFP_HIGHMEM) | 1u << (___GFP_DMA | ___GFP_DMA32) |                     \
     1u << (___GFP_DMA32 | ___GFP_HIGHMEM) | 1u << (___GFP_DMA | ___GFP_DMA32 | ___GFP_HIGHMEM) |  \
     1u << (___GFP_MOVABLE | ___GFP_HIGHMEM | ___GFP_DMA) |                                        \
     1u << (___GFP_MOVABLE | ___GFP_DMA32 | ___GFP_DMA) |                                          \
     1u << (___GFP_MOVABLE | ___GFP_DMA32 | ___GFP_HIGHMEM) |                                      \
     1u << (___GFP_MOVABLE | ___GFP_DMA32 | ___GFP_DMA | ___GFP_HIGHMEM))

/* True for the zone-modifier combinations the kernel treats as a bug (VM_BUG_ON). */
GFPLAB_INLINE int gfp_zone_bad(gfp_t flags) {
    return (GFP_ZONE_BAD >> (flags & GFP_ZONEMASK)) & 1;
}

/* The highest zone the mask allows; BAD combinations read the zero entry (ZONE_DMA). */
GFPLAB_INLINE enum zone_type gfp_zone(gfp_t flags) {
    unsigned int bit = flags & GFP_ZONEMASK;
    return (enum zone_type)((GFP_ZONE_TABLE >> (bit * GFP_ZONES_SHIFT)) &
                            ((1u << GFP_ZONES_SHIFT) - 1));
}

/*
 * Mobility from the two hint bits. Both at once is a kernel VM_WARN_ON; the raw value (3)
 * then aliases MIGRATE_HIGHATOMIC, which is what the kernel would use. The model always
 * groups pages by mobility: 6.12 turns grouping off (page_group_by_mobility_disabled, every
 * request UNMOVABLE) on machines with fewer than pageblock_nr_pages * MIGRATE_TYPES pages,
 * a few MiB that only test Systems have, where grouping keeps the fallback rules in view.
 */
GFPLAB_INLINE enum migratetype gfp_migratetype(gfp_t flags) {
    return (enum migratetype)((flags & GFP_MOVABLE_MASK) >> GFP_MOVABLE_SHIFT);
}

GFPLAB_INLINE int gfpflags_allow_blocking(gfp_t flags) {
    return !!(flags & __GFP_DIRECT_RECLAIM);
}

GFPLAB_INLINE int gfp_has_io_fs(gfp_t flags) {
    return (flags & (__GFP_IO | __GFP_FS)) == (__GFP_IO | __GFP_FS);
}

/* Process context that may reclaim and is not itself a reserve user (5.4-6.1 helper). */
GFPLAB_INLINE int gfpflags_normal_context(gfp_t flags) {
    return (flags & (__GFP_DIRECT_RECLAIM | __GFP_MEMALLOC)) == __GFP_DIRECT_RECLAIM;
}

/* CONFIG_COMPACTION is on in the model's kernel; compaction needs IO. */
GFPLAB_INLINE int gfp_compaction_allowed(gfp_t flags) {
    return !!(flags & __GFP_IO);
}

/* The mask for an allocation nested inside another (6.12): never retry hard, never warn. */
GFPLAB_INLINE gfp_t gfp_nested_mask(gfp_t flags) {
    return (flags & (GFP_KERNEL | GFP_ATOMIC | __GFP_NOLOCKDEP)) | __GFP_NORETRY |
           __GFP_NOMEMALLOC | __GFP_NOWARN;
}

enum {
    ZONELIST_FALLBACK,   /* every node, nearest first */
    ZONELIST_NOFALLBACK, /* __GFP_THISNODE: the local node only */
    MAX_ZONELISTS
};

/* CONFIG_NUMA is on in the model. */
GFPLAB_INLINE int gfp_zonelist(gfp_t flags) {
    return (flags & __GFP_THISNODE) ? ZONELIST_NOFALLBACK : ZONELIST_FALLBACK;
}

/*
 * The allocation entry points, on the default System (gfplab/system.hpp). It boots on
 * first use with the configuration from the environment (GFPLAB_MEMORY, GFPLAB_NODES,
 * GFPLAB_CPUS, GFPLAB_CHECK, GFPLAB_POISON; see README.md) unless the program set one.
 */
#ifdef __cplusplus
namespace gfplab {
struct page;
}
#define GFPLAB_PAGE gfplab::page
#else
struct page;
#define GFPLAB_PAGE struct page
#endif

GFPLAB_EXTERN_C_BEGIN
GFPLAB_PAGE *alloc_pages(gfp_t gfp_mask, unsigned int order);
GFPLAB_PAGE *alloc_pages_node(int nid, gfp_t gfp_mask, unsigned int order);
void __free_pages(GFPLAB_PAGE *page, unsigned int order);
unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order);
unsigned long get_zeroed_page(gfp_t gfp_mask);
void free_pages(unsigned long addr, unsigned int order);
/*
 * The any-context pair, a step past 6.12 (6.16's names; 6.15 called the allocation
 * try_alloc_pages(nid, order)): an order 0..3 block, zeroed, that never sleeps, reclaims or
 * waits for a lock, and so may fail while memory is plentiful. gfp_flags: 0 or
 * __GFP_ACCOUNT; nid NUMA_NO_NODE (-1) for this CPU's node.
 */
#define NUMA_NO_NODE (-1) /* linux/numa.h */
GFPLAB_PAGE *alloc_pages_nolock(gfp_t gfp_flags, int nid, unsigned int order);
void free_pages_nolock(GFPLAB_PAGE *page, unsigned int order);
GFPLAB_EXTERN_C_END
#define try_alloc_pages(nid, order) alloc_pages_nolock(0, (nid), (order))

#ifdef __cplusplus
inline gfplab::page *alloc_page(gfp_t gfp_mask) {
    return alloc_pages(gfp_mask, 0);
}
inline unsigned long __get_free_page(gfp_t gfp_mask) {
    return __get_free_pages(gfp_mask, 0);
}
inline void __free_page(gfplab::page *page) {
    __free_pages(page, 0);
}
inline void free_page(unsigned long addr) {
    free_pages(addr, 0);
}
#else
#define alloc_page(gfp_mask)      alloc_pages((gfp_mask), 0)
#define __get_free_page(gfp_mask) __get_free_pages((gfp_mask), 0)
#define __free_page(page)         __free_pages((page), 0)
#define free_page(addr)           free_pages((addr), 0)
#endif

#ifdef GFPLAB_CALLER_SITES /* linux/alloc_site.h */
#define alloc_pages(gfp_mask, order)                                                               \
    ({                                                                                             \
        __gfplab_site_enter(__FILE__, __LINE__);                                                   \
        __gfplab_site_exit_page(alloc_pages((gfp_mask), (order)), "alloc_pages", 0);               \
    })
#define alloc_pages_node(nid, gfp_mask, order)                                                     \
    ({                                                                                             \
        __gfplab_site_enter(__FILE__, __LINE__);                                                   \
        __gfplab_site_exit_page(alloc_pages_node((nid), (gfp_mask), (order)), "alloc_pages", 0);   \
    })
#define alloc_pages_nolock(gfp_flags, nid, order)                                                  \
    ({                                                                                             \
        __gfplab_site_enter(__FILE__, __LINE__);                                                   \
        __gfplab_site_exit_page(alloc_pages_nolock((gfp_flags), (nid), (order)),                   \
                                "alloc_pages_nolock", 0);                                          \
    })
#define free_pages_nolock(pg, order)                                                               \
    ({                                                                                             \
        struct page *__gfplab_pg = (pg);                                                           \
        __gfplab_site_enter(__FILE__, __LINE__);                                                   \
        __gfplab_site_forget_page(__gfplab_pg);                                                    \
        free_pages_nolock(__gfplab_pg, (order));                                                   \
        (void)__gfplab_site_exit(0, 0);                                                            \
    })
#define __free_pages(pg, order)                                                                    \
    ({                                                                                             \
        struct page *__gfplab_pg = (pg);                                                           \
        __gfplab_site_enter(__FILE__, __LINE__);                                                   \
        __gfplab_site_forget_page(__gfplab_pg);                                                    \
        __free_pages(__gfplab_pg, (order));                                                        \
        (void)__gfplab_site_exit(0, 0);                                                            \
    })
#define __get_free_pages(gfp_mask, order)                                                          \
    ({                                                                                             \
        __gfplab_site_enter(__FILE__, __LINE__);                                                   \
        __gfplab_site_exit_pages(__get_free_pages((gfp_mask), (order)), "__get_free_pages");       \
    })
#define get_zeroed_page(gfp_mask)                                                                  \
    ({                                                                                             \
        __gfplab_site_enter(__FILE__, __LINE__);                                                   \
        __gfplab_site_exit_pages(get_zeroed_page(gfp_mask), "get_zeroed_page");                    \
    })
#define free_pages(addr, order)                                                                    \
    GFPLAB_SITE_FREE(addr, free_pages((unsigned long)__gfplab_obj, (order)))
#endif

#endif /* GFPLAB_LINUX_GFP_H */
