/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/mm.h - page <-> address <-> pfn conversions and zone queries, in the
 * kernel's names, on the default System.
 */
#ifndef GFPLAB_LINUX_MM_H
#define GFPLAB_LINUX_MM_H

#include <gfplab/linux/gfp.h>

#ifdef __cplusplus
namespace gfplab {
struct zone;
}
#define GFPLAB_ZONE gfplab::zone
#else
struct zone;
#define GFPLAB_ZONE struct zone
#endif

GFPLAB_EXTERN_C_BEGIN
void *page_address(const GFPLAB_PAGE *page);
/* NULL when addr is not memory of the default System. */
GFPLAB_PAGE *virt_to_page(const void *addr);
unsigned long page_to_pfn(const GFPLAB_PAGE *page);
GFPLAB_PAGE *pfn_to_page(unsigned long pfn);
int page_to_nid(const GFPLAB_PAGE *page);
enum zone_type page_zonenum(const GFPLAB_PAGE *page);
GFPLAB_ZONE *page_zone(const GFPLAB_PAGE *page);
enum zone_type zone_idx(const GFPLAB_ZONE *zone);
int zone_to_nid(const GFPLAB_ZONE *zone);
/* "DMA", "DMA32", "Normal", "Movable" (the kernel's zone names). */
const char *zone_name(const GFPLAB_ZONE *zone);
GFPLAB_EXTERN_C_END

#endif /* GFPLAB_LINUX_MM_H */
