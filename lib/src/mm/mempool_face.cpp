// SPDX-License-Identifier: MIT
//
// The memory pools' kernel face (gfplab/linux/mempool.h) on the default System: creating a
// pool, and the kmalloc and page pool helpers. The pool operations themselves are the
// mempool layer's (lib/src/mempool/mempool.cpp): a pool knows its System.
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/mempool.h>
#include <gfplab/mempool.hpp>
#include <gfplab/system.hpp>

#include "default_system.hpp"

extern "C" {

int mempool_init_node(mempool_t *pool, int min_nr, mempool_alloc_t *alloc_fn,
                      mempool_free_t *free_fn, void *pool_data, gfp_t gfp_mask, int node_id) {
    return gfplab::mempool_init_node(gfplab::current_default_system(), pool, min_nr, alloc_fn,
                                     free_fn, pool_data, gfp_mask, node_id);
}

int mempool_init(mempool_t *pool, int min_nr, mempool_alloc_t *alloc_fn, mempool_free_t *free_fn,
                 void *pool_data) {
    return mempool_init_node(pool, min_nr, alloc_fn, free_fn, pool_data, GFP_KERNEL, NUMA_NO_NODE);
}

mempool_t *mempool_create_node(int min_nr, mempool_alloc_t *alloc_fn, mempool_free_t *free_fn,
                               void *pool_data, gfp_t gfp_mask, int node_id) {
    return gfplab::mempool_create_node(gfplab::current_default_system(), min_nr, alloc_fn, free_fn,
                                       pool_data, gfp_mask, node_id);
}

mempool_t *mempool_create(int min_nr, mempool_alloc_t *alloc_fn, mempool_free_t *free_fn,
                          void *pool_data) {
    return mempool_create_node(min_nr, alloc_fn, free_fn, pool_data, GFP_KERNEL, NUMA_NO_NODE);
}

void *mempool_kmalloc(gfp_t gfp_mask, void *pool_data) {
    return kmalloc(reinterpret_cast<size_t>(pool_data), gfp_mask);
}

void mempool_kfree(void *element, void *) {
    kfree(element);
}

void *mempool_alloc_pages(gfp_t gfp_mask, void *pool_data) {
    return alloc_pages(gfp_mask, unsigned(reinterpret_cast<long>(pool_data)));
}

void mempool_free_pages(void *element, void *pool_data) {
    __free_pages(static_cast<gfplab::page *>(element), unsigned(reinterpret_cast<long>(pool_data)));
}

} // extern "C"
