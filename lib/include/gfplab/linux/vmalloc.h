/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/vmalloc.h - vmalloc's kernel face (Linux 6.12 include/linux/vmalloc.h) on
 * the default System: virtually contiguous areas over pages that need not be physically
 * contiguous (docs/vmalloc.md). kvmalloc() and kvfree() are in linux/slab.h, as in 6.12.
 */
#ifndef GFPLAB_LINUX_VMALLOC_H
#define GFPLAB_LINUX_VMALLOC_H

#include <gfplab/linux/alloc_site.h>
#include <gfplab/linux/compiler.h>
#include <gfplab/linux/gfp.h>

#include <stddef.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

GFPLAB_EXTERN_C_BEGIN
void *vmalloc(unsigned long size);
void *vzalloc(unsigned long size);
void *vmalloc_node(unsigned long size, int node);
void *vzalloc_node(unsigned long size, int node);
/* __vmalloc(): the caller's mask for the pages; __GFP_FS/__GFP_IO reach the page tables
 * through the scope API. */
void *__vmalloc(unsigned long size, gfp_t gfp_mask);
void vfree(const void *addr);
GFPLAB_PAGE *vmalloc_to_page(const void *addr);
bool is_vmalloc_addr(const void *x);
GFPLAB_EXTERN_C_END

#ifdef GFPLAB_CALLER_SITES /* linux/alloc_site.h */
#define vmalloc(size)            GFPLAB_SITE_ALLOC(void *, "vmalloc", vmalloc(size))
#define vzalloc(size)            GFPLAB_SITE_ALLOC(void *, "vzalloc", vzalloc(size))
#define vmalloc_node(size, node) GFPLAB_SITE_ALLOC(void *, "vmalloc", vmalloc_node((size), (node)))
#define vzalloc_node(size, node) GFPLAB_SITE_ALLOC(void *, "vzalloc", vzalloc_node((size), (node)))
#define __vmalloc(size, gfp_mask)                                                                  \
    GFPLAB_SITE_ALLOC(void *, "__vmalloc", __vmalloc((size), (gfp_mask)))
#define vfree(addr) GFPLAB_SITE_FREE(addr, vfree(__gfplab_obj))
#endif

#endif /* GFPLAB_LINUX_VMALLOC_H */
