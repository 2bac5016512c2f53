// SPDX-License-Identifier: MIT
//
// gfplab/mempool.hpp - memory pools on any System (gfplab/linux/mempool.h is the kernel
// face, on the default System). A pool's element array is kmalloc'd from its System and its
// reports go there; its elements come from the pool's own alloc_fn.
#pragma once

#include <gfplab/linux/mempool.h>

namespace gfplab {

class System;

// mempool_init_node() and mempool_create_node() on System s.
int mempool_init_node(System &s, mempool_t *pool, int min_nr, mempool_alloc_t *alloc_fn,
                      mempool_free_t *free_fn, void *pool_data, gfp_t gfp_mask, int node_id);
mempool_t *mempool_create_node(System &s, int min_nr, mempool_alloc_t *alloc_fn,
                               mempool_free_t *free_fn, void *pool_data, gfp_t gfp_mask,
                               int node_id);

} // namespace gfplab
