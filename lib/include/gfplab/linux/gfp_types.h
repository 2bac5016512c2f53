/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/gfp_types.h - the GFP bits of the model, spelled as Linux 6.12 spells them.
 *
 * The model is a Linux 6.12 kernel configured like a typical distribution kernel:
 * CONFIG_SLAB_OBJ_EXT on (selected by MEMCG), CONFIG_LOCKDEP and CONFIG_KASAN_HW_TAGS off.
 * Since 6.10 the kernel numbers its bits with an enum, so the tail bits (SKIP_ZERO,
 * SKIP_KASAN, NOLOCKDEP, NO_OBJ_EXT) take the next free bit only when their option is on
 * and are 0 otherwise; the enum below reproduces that so that __GFP_NO_OBJ_EXT lands on
 * bit 24 exactly as in such a kernel. Other kernels' layouts are data in gfp_layout.hpp.
 *
 * Usable from C and C++; every value is an integer constant expression.
 */
#ifndef GFPLAB_LINUX_GFP_TYPES_H
#define GFPLAB_LINUX_GFP_TYPES_H

/* The model's kernel configuration; the library is built for exactly this one. */
#define GFPLAB_CONFIG_KASAN_HW_TAGS 0
#define GFPLAB_CONFIG_LOCKDEP       0
#define GFPLAB_CONFIG_SLAB_OBJ_EXT  1

typedef unsigned int gfp_t;

enum {
    ___GFP_DMA_BIT,
    ___GFP_HIGHMEM_BIT,
    ___GFP_DMA32_BIT,
    ___GFP_MOVABLE_BIT,
    ___GFP_RECLAIMABLE_BIT,
    ___GFP_HIGH_BIT,
    ___GFP_IO_BIT,
    ___GFP_FS_BIT,
    ___GFP_ZERO_BIT,
    ___GFP_UNUSED_BIT, /* 0x200: the hole left when __GFP_ATOMIC went away in 6.3 */
    ___GFP_DIRECT_RECLAIM_BIT,
    ___GFP_KSWAPD_RECLAIM_BIT,
    ___GFP_WRITE_BIT,
    ___GFP_NOWARN_BIT,
    ___GFP_RETRY_MAYFAIL_BIT,
    ___GFP_NOFAIL_BIT,
    ___GFP_NORETRY_BIT,
    ___GFP_MEMALLOC_BIT,
    ___GFP_COMP_BIT,
    ___GFP_NOMEMALLOC_BIT,
    ___GFP_HARDWALL_BIT,
    ___GFP_THISNODE_BIT,
    ___GFP_ACCOUNT_BIT,
    ___GFP_ZEROTAGS_BIT,
#if GFPLAB_CONFIG_KASAN_HW_TAGS
    ___GFP_SKIP_ZERO_BIT,
    ___GFP_SKIP_KASAN_BIT,
#endif
#if GFPLAB_CONFIG_LOCKDEP
    ___GFP_NOLOCKDEP_BIT,
#endif
#if GFPLAB_CONFIG_SLAB_OBJ_EXT
    ___GFP_NO_OBJ_EXT_BIT,
#endif
    ___GFP_LAST_BIT
};

#define GFPLAB_BIT(b) (1u << (b))

/* Plain integer bits. */
#define ___GFP_DMA            GFPLAB_BIT(___GFP_DMA_BIT)
#define ___GFP_HIGHMEM        GFPLAB_BIT(___GFP_HIGHMEM_BIT)
#define ___GFP_DMA32          GFPLAB_BIT(___GFP_DMA32_BIT)
#define ___GFP_MOVABLE        GFPLAB_BIT(___GFP_MOVABLE_BIT)
#define ___GFP_RECLAIMABLE    GFPLAB_BIT(___GFP_RECLAIMABLE_BIT)
#define ___GFP_HIGH           GFPLAB_BIT(___GFP_HIGH_BIT)
#define ___GFP_IO             GFPLAB_BIT(___GFP_IO_BIT)
#define ___GFP_FS             GFPLAB_BIT(___GFP_FS_BIT)
#define ___GFP_ZERO           GFPLAB_BIT(___GFP_ZERO_BIT)
#define ___GFP_DIRECT_RECLAIM GFPLAB_BIT(___GFP_DIRECT_RECLAIM_BIT)
#define ___GFP_KSWAPD_RECLAIM GFPLAB_BIT(___GFP_KSWAPD_RECLAIM_BIT)
#define ___GFP_WRITE          GFPLAB_BIT(___GFP_WRITE_BIT)
#define ___GFP_NOWARN         GFPLAB_BIT(___GFP_NOWARN_BIT)
#define ___GFP_RETRY_MAYFAIL  GFPLAB_BIT(___GFP_RETRY_MAYFAIL_BIT)
#define ___GFP_NOFAIL         GFPLAB_BIT(___GFP_NOFAIL_BIT)
#define ___GFP_NORETRY        GFPLAB_BIT(___GFP_NORETRY_BIT)
#define ___GFP_MEMALLOC       GFPLAB_BIT(___GFP_MEMALLOC_BIT)
#define ___GFP_COMP           GFPLAB_BIT(___GFP_COMP_BIT)
#define ___GFP_NOMEMALLOC     GFPLAB_BIT(___GFP_NOMEMALLOC_BIT)
#define ___GFP_HARDWALL       GFPLAB_BIT(___GFP_HARDWALL_BIT)
#define ___GFP_THISNODE       GFPLAB_BIT(___GFP_THISNODE_BIT)
#define ___GFP_ACCOUNT        GFPLAB_BIT(___GFP_ACCOUNT_BIT)
#define ___GFP_ZEROTAGS       GFPLAB_BIT(___GFP_ZEROTAGS_BIT)
#if GFPLAB_CONFIG_KASAN_HW_TAGS
#define ___GFP_SKIP_ZERO  GFPLAB_BIT(___GFP_SKIP_ZERO_BIT)
#define ___GFP_SKIP_KASAN GFPLAB_BIT(___GFP_SKIP_KASAN_BIT)
#else
#define ___GFP_SKIP_ZERO  0u
#define ___GFP_SKIP_KASAN 0u
#endif
#if GFPLAB_CONFIG_LOCKDEP
#define ___GFP_NOLOCKDEP GFPLAB_BIT(___GFP_NOLOCKDEP_BIT)
#else
#define ___GFP_NOLOCKDEP 0u
#endif
#if GFPLAB_CONFIG_SLAB_OBJ_EXT
#define ___GFP_NO_OBJ_EXT GFPLAB_BIT(___GFP_NO_OBJ_EXT_BIT)
#else
#define ___GFP_NO_OBJ_EXT 0u
#endif

/* Zone modifiers: the low four bits index GFP_ZONE_TABLE (see gfp.h). */
#define __GFP_DMA     ((gfp_t)___GFP_DMA)
#define __GFP_HIGHMEM ((gfp_t)___GFP_HIGHMEM)
#define __GFP_DMA32   ((gfp_t)___GFP_DMA32)
#define __GFP_MOVABLE ((gfp_t)___GFP_MOVABLE) /* zone modifier and mobility hint */
#define GFP_ZONEMASK  (__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE)

/* Page mobility and placement hints. */
#define __GFP_RECLAIMABLE ((gfp_t)___GFP_RECLAIMABLE)
#define __GFP_WRITE       ((gfp_t)___GFP_WRITE)
#define __GFP_HARDWALL    ((gfp_t)___GFP_HARDWALL)
#define __GFP_THISNODE    ((gfp_t)___GFP_THISNODE)
#define __GFP_ACCOUNT     ((gfp_t)___GFP_ACCOUNT)
#define __GFP_NO_OBJ_EXT  ((gfp_t)___GFP_NO_OBJ_EXT)

/* Watermark (reserve access) modifiers. */
#define __GFP_HIGH       ((gfp_t)___GFP_HIGH)
#define __GFP_MEMALLOC   ((gfp_t)___GFP_MEMALLOC)
#define __GFP_NOMEMALLOC ((gfp_t)___GFP_NOMEMALLOC)

/* Reclaim modifiers. */
#define __GFP_IO             ((gfp_t)___GFP_IO)
#define __GFP_FS             ((gfp_t)___GFP_FS)
#define __GFP_DIRECT_RECLAIM ((gfp_t)___GFP_DIRECT_RECLAIM)
#define __GFP_KSWAPD_RECLAIM ((gfp_t)___GFP_KSWAPD_RECLAIM)
#define __GFP_RECLAIM        ((gfp_t)(___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM))
#define __GFP_RETRY_MAYFAIL  ((gfp_t)___GFP_RETRY_MAYFAIL)
#define __GFP_NOFAIL         ((gfp_t)___GFP_NOFAIL)
#define __GFP_NORETRY        ((gfp_t)___GFP_NORETRY)

/* Action modifiers. */
#define __GFP_NOWARN     ((gfp_t)___GFP_NOWARN)
#define __GFP_COMP       ((gfp_t)___GFP_COMP)
#define __GFP_ZERO       ((gfp_t)___GFP_ZERO)
#define __GFP_ZEROTAGS   ((gfp_t)___GFP_ZEROTAGS)
#define __GFP_SKIP_ZERO  ((gfp_t)___GFP_SKIP_ZERO)
#define __GFP_SKIP_KASAN ((gfp_t)___GFP_SKIP_KASAN)
#define __GFP_NOLOCKDEP  ((gfp_t)___GFP_NOLOCKDEP)

#define __GFP_BITS_SHIFT ((int)___GFP_LAST_BIT)
#define __GFP_BITS_MASK  ((gfp_t)((1u << __GFP_BITS_SHIFT) - 1))

/* Composite masks, as callers use them. */
#define GFP_ATOMIC           (__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL           (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_KERNEL_ACCOUNT   (GFP_KERNEL | __GFP_ACCOUNT)
#define GFP_NOWAIT           (__GFP_KSWAPD_RECLAIM | __GFP_NOWARN)
#define GFP_NOIO             (__GFP_RECLAIM)
#define GFP_NOFS             (__GFP_RECLAIM | __GFP_IO)
#define GFP_USER             (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL)
#define GFP_DMA              __GFP_DMA
#define GFP_DMA32            __GFP_DMA32
#define GFP_HIGHUSER         (GFP_USER | __GFP_HIGHMEM)
#define GFP_HIGHUSER_MOVABLE (GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN)
#define GFP_TRANSHUGE_LIGHT                                                                        \
    ((GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM)
#define GFP_TRANSHUGE (GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM)

/* Helper masks (mm/internal.h and gfp.h in the kernel). */
#define GFP_MOVABLE_MASK  (__GFP_RECLAIMABLE | __GFP_MOVABLE)
#define GFP_MOVABLE_SHIFT 3
#define GFP_RECLAIM_MASK                                                                           \
    (__GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_RETRY_MAYFAIL |       \
     __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_NOLOCKDEP)
#define GFP_CONSTRAINT_MASK (__GFP_HARDWALL | __GFP_THISNODE)
#define GFP_SLAB_BUG_MASK   (__GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK)
#define GFP_BOOT_MASK       (__GFP_BITS_MASK & ~(__GFP_RECLAIM | __GFP_IO | __GFP_FS))

#endif /* GFPLAB_LINUX_GFP_TYPES_H */
