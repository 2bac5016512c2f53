/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/alloc_site.h - the call sites of kernel code's allocations and frees.
 *
 * In C, the include root's allocation and free functions (gfp.h, slab.h, vmalloc.h,
 * mempool.h, rcupdate.h) are wrapped by macros of the same names that tell the library the
 * caller's file and line for the length of the call: a report made meanwhile (I21, I9, a
 * double free...) names the module's line, and, while a host such as gfplab-run tracks
 * them, every object still allocated is listed with the line that allocated it (the
 * kmemleak idea). C++ callers get the plain functions (gfplab's C++ API has the same
 * names), and so does C code built with GFPLAB_NO_CALLER_SITES.
 */
#ifndef GFPLAB_LINUX_ALLOC_SITE_H
#define GFPLAB_LINUX_ALLOC_SITE_H

#include <gfplab/linux/compiler.h>

#include <stddef.h>

#ifdef __cplusplus
namespace gfplab {
struct page;
}
#define GFPLAB_SITE_PAGE gfplab::page
#else
struct page;
#define GFPLAB_SITE_PAGE struct page
#endif

GFPLAB_EXTERN_C_BEGIN
/* The call at file:line begins. */
void __gfplab_site_enter(const char *file, unsigned int line);
/* It returned `object` (NULL: failed) from `what`: remembered while tracking (its size is
 * the allocator's), and the site is cleared. Returns object. */
void *__gfplab_site_exit(void *object, const char *what);
/* The same for a block of pages (alloc_pages): remembered by its address. */
GFPLAB_SITE_PAGE *__gfplab_site_exit_page(GFPLAB_SITE_PAGE *page, const char *what,
                                          unsigned int order);
/* The same for a block of pages returned by its address (__get_free_pages). */
unsigned long __gfplab_site_exit_pages(unsigned long addr, const char *what);
/* A free of object (or of the page block) begins: it is no longer the caller's. */
void __gfplab_site_forget(const void *object);
void __gfplab_site_forget_page(const GFPLAB_SITE_PAGE *page);
GFPLAB_EXTERN_C_END

#if !defined(__cplusplus) && !defined(GFPLAB_NO_CALLER_SITES)
#define GFPLAB_CALLER_SITES 1
/* call returns a pointer-sized value; what it returns is recorded under `what`. Every
 * argument of the wrapped call is evaluated once, by the call itself. */
#define GFPLAB_SITE_ALLOC(type, what, call)                                                        \
    ({                                                                                             \
        __gfplab_site_enter(__FILE__, __LINE__);                                                   \
        (type) __gfplab_site_exit((void *)(call), what);                                           \
    })
/* object is evaluated once, before the call, which must use the saved __gfplab_obj. */
#define GFPLAB_SITE_FREE(object, call)                                                             \
    ({                                                                                             \
        const void *__gfplab_obj = (const void *)(object);                                         \
        __gfplab_site_enter(__FILE__, __LINE__);                                                   \
        __gfplab_site_forget(__gfplab_obj);                                                        \
        call;                                                                                      \
        (void)__gfplab_site_exit(0, 0);                                                            \
    })
#endif

#endif /* GFPLAB_LINUX_ALLOC_SITE_H */
