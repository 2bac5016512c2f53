/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/mmzone.h - zones, migratetypes and page orders of the model (Linux 6.12,
 * x86-64: no ZONE_HIGHMEM, no ZONE_DEVICE as an allocation target, no CMA).
 */
#ifndef GFPLAB_LINUX_MMZONE_H
#define GFPLAB_LINUX_MMZONE_H

#include <gfplab/linux/compiler.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1ul << PAGE_SHIFT)

/* 6.12: MAX_PAGE_ORDER is inclusive; orders 0..10 exist. */
#define MAX_PAGE_ORDER          10
#define NR_PAGE_ORDERS          (MAX_PAGE_ORDER + 1)
#define PAGE_ALLOC_COSTLY_ORDER 3
#define pageblock_order         9
#define pageblock_nr_pages      (1ul << pageblock_order)

/* The order of the kernel's enum with CONFIG_ZONE_DMA and CONFIG_ZONE_DMA32 on x86-64. */
enum zone_type { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_MOVABLE, __MAX_NR_ZONES };
#define MAX_NR_ZONES __MAX_NR_ZONES

/* ZONES_SHIFT for four zones; GFP_ZONE_TABLE packs one zone index per 2 bits. */
#define ZONES_SHIFT     2
#define GFP_ZONES_SHIFT ZONES_SHIFT

/* Zones that are not configured resolve to ZONE_NORMAL, as in the kernel. */
#define OPT_ZONE_DMA     ZONE_DMA
#define OPT_ZONE_DMA32   ZONE_DMA32
#define OPT_ZONE_HIGHMEM ZONE_NORMAL

enum migratetype {
    MIGRATE_UNMOVABLE,
    MIGRATE_MOVABLE,
    MIGRATE_RECLAIMABLE,
    MIGRATE_PCPTYPES, /* the number of types on the per-CPU lists */
    MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES,
    MIGRATE_TYPES
};

enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO, NR_WMARK };

#endif /* GFPLAB_LINUX_MMZONE_H */
