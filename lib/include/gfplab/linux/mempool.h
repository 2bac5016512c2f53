/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/mempool.h - memory pools (Linux 6.12 include/linux/mempool.h): a reserve of
 * preallocated elements that lets an allocation that may sleep always succeed, by waiting
 * for an element to come back when the allocator and the reserve are both empty.
 * mempool_init() and mempool_create() work on the default System's slab and page
 * allocator (their element array is a kmalloc); gfplab/mempool.hpp adds the same for any
 * System.
 */
#ifndef GFPLAB_LINUX_MEMPOOL_H
#define GFPLAB_LINUX_MEMPOOL_H

#include <gfplab/linux/alloc_site.h>
#include <gfplab/linux/compiler.h>
#include <gfplab/linux/gfp_types.h>
#include <gfplab/linux/slab.h>

typedef void *(mempool_alloc_t)(gfp_t gfp_mask, void *pool_data);
typedef void(mempool_free_t)(void *element, void *pool_data);

/* The kernel's fields, read as the kernel's users read them; the lock and the wait queue
 * are gfplab's own (made by mempool_init, gone with mempool_exit). */
typedef struct mempool {
    int min_nr;  /* elements the reserve holds when full */
    int curr_nr; /* elements it holds now */
    void **elements;
    void *pool_data;
    mempool_alloc_t *alloc;
    mempool_free_t *free;
    void *gfplab_sync;   /* lock and wait queue */
    void *gfplab_system; /* the System its element array and reports belong to */
} mempool_t;

GFPLAB_EXTERN_C_BEGIN
/* 0, or -ENOMEM when the reserve could not be filled (nothing is then kept). */
int mempool_init_node(mempool_t *pool, int min_nr, mempool_alloc_t *alloc_fn,
                      mempool_free_t *free_fn, void *pool_data, gfp_t gfp_mask, int node_id);
int mempool_init(mempool_t *pool, int min_nr, mempool_alloc_t *alloc_fn, mempool_free_t *free_fn,
                 void *pool_data);
void mempool_exit(mempool_t *pool);
mempool_t *mempool_create_node(int min_nr, mempool_alloc_t *alloc_fn, mempool_free_t *free_fn,
                               void *pool_data, gfp_t gfp_mask, int node_id);
mempool_t *mempool_create(int min_nr, mempool_alloc_t *alloc_fn, mempool_free_t *free_fn,
                          void *pool_data);
void mempool_destroy(mempool_t *pool);
/* Grows (allocating with GFP_KERNEL) or shrinks the reserve; 0 or -ENOMEM. */
int mempool_resize(mempool_t *pool, int new_min_nr);
/* Never NULL when gfp_mask allows direct reclaim: it waits for an element instead. */
void *mempool_alloc(mempool_t *pool, gfp_t gfp_mask);
/* An element from the reserve only, or NULL. */
void *mempool_alloc_preallocated(mempool_t *pool);
void mempool_free(void *element, mempool_t *pool);

/* Pools of slab objects (pool_data: the kmem_cache), of kmalloc'd buffers (pool_data: the
 * size) and of pages (pool_data: the order) on the default System. */
void *mempool_alloc_slab(gfp_t gfp_mask, void *pool_data);
void mempool_free_slab(void *element, void *pool_data);
void *mempool_kmalloc(gfp_t gfp_mask, void *pool_data);
void mempool_kfree(void *element, void *pool_data);
void *mempool_alloc_pages(gfp_t gfp_mask, void *pool_data);
void mempool_free_pages(void *element, void *pool_data);
GFPLAB_EXTERN_C_END

GFPLAB_INLINE int mempool_initialized(const mempool_t *pool) {
    return pool->elements != 0;
}

#define mempool_create_slab_pool(min_nr, kc)                                                       \
    mempool_create((min_nr), mempool_alloc_slab, mempool_free_slab, (void *)(kc))
#define mempool_init_slab_pool(pool, min_nr, kc)                                                   \
    mempool_init((pool), (min_nr), mempool_alloc_slab, mempool_free_slab, (void *)(kc))
#define mempool_create_kmalloc_pool(min_nr, size)                                                  \
    mempool_create((min_nr), mempool_kmalloc, mempool_kfree, (void *)(size_t)(size))
#define mempool_init_kmalloc_pool(pool, min_nr, size)                                              \
    mempool_init((pool), (min_nr), mempool_kmalloc, mempool_kfree, (void *)(size_t)(size))
#define mempool_create_page_pool(min_nr, order)                                                    \
    mempool_create((min_nr), mempool_alloc_pages, mempool_free_pages, (void *)(long)(order))
#define mempool_init_page_pool(pool, min_nr, order)                                                \
    mempool_init((pool), (min_nr), mempool_alloc_pages, mempool_free_pages, (void *)(long)(order))

#ifdef GFPLAB_CALLER_SITES /* linux/alloc_site.h */
#define mempool_alloc(pool, gfp_mask)                                                              \
    GFPLAB_SITE_ALLOC(void *, "mempool_alloc", mempool_alloc((pool), (gfp_mask)))
#define mempool_free(element, pool)                                                                \
    GFPLAB_SITE_FREE(element, mempool_free((void *)__gfplab_obj, (pool)))
#endif

#endif /* GFPLAB_LINUX_MEMPOOL_H */
