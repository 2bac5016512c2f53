// SPDX-License-Identifier: MIT
//
// Memory pools (Linux 6.12 mm/mempool.c). An allocation first asks the pool's allocator
// without direct reclaim and I/O, then takes a reserved element, then asks again with the
// caller's mask, and, when that may sleep, waits for an element to come back and starts
// over: a sleeping mask never fails (I19). A free refills the reserve before it gives
// anything back to the allocator.
#include "../check/held_count.hpp"
#include "../check/report.hpp"
#include "../internal.hpp"

#include <gfplab/mempool.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>

namespace gfplab {
namespace {

// pool->lock and pool->wait.
struct mempool_sync {
    std::mutex lock;
    std::condition_variable wait;
};

mempool_sync &sync_of(mempool_t *pool) {
    return *static_cast<mempool_sync *>(pool->gfplab_sync);
}
System &system_of(const mempool_t *pool) {
    return *static_cast<System *>(pool->gfplab_system);
}

// curr_nr and min_nr are read without the lock (READ_ONCE), so they are written atomically.
int load(const int &v) {
    return __atomic_load_n(&v, __ATOMIC_RELAXED);
}
void store(int &v, int x) {
    __atomic_store_n(&v, x, __ATOMIC_RELAXED);
}

void add_element(mempool_t *pool, void *element) {
    pool->elements[pool->curr_nr] = element;
    store(pool->curr_nr, pool->curr_nr + 1);
}
void *remove_element(mempool_t *pool) {
    const int n = pool->curr_nr - 1;
    store(pool->curr_nr, n);
    return pool->elements[n];
}

} // namespace

int mempool_init_node(System &s, mempool_t *pool, int min_nr, mempool_alloc_t *alloc_fn,
                      mempool_free_t *free_fn, void *pool_data, gfp_t gfp_mask, int node_id) {
    std::memset(pool, 0, sizeof *pool);
    if (min_nr < 0) {
        refuse(s, invariant::bad_input, "mempool min_nr", gfp_mask, -1, nullptr,
               "mempool_init_node: min_nr {} is negative", min_nr);
        return -EINVAL;
    }
    pool->min_nr = min_nr;
    pool->pool_data = pool_data;
    pool->alloc = alloc_fn;
    pool->free = free_fn;
    pool->gfplab_system = &s;
    pool->elements =
        static_cast<void **>(kmalloc(s, std::size_t(min_nr) * sizeof(void *), gfp_mask, node_id));
    if (!pool->elements)
        return -ENOMEM;
    pool->gfplab_sync = new mempool_sync;
    // The reserve is filled now, with the mask the creator gave.
    while (pool->curr_nr < pool->min_nr) {
        void *element = pool->alloc(gfp_mask, pool->pool_data);
        if (!element) {
            mempool_exit(pool);
            return -ENOMEM;
        }
        add_element(pool, element);
    }
    return 0;
}

mempool_t *mempool_create_node(System &s, int min_nr, mempool_alloc_t *alloc_fn,
                               mempool_free_t *free_fn, void *pool_data, gfp_t gfp_mask,
                               int node_id) {
    auto *pool =
        static_cast<mempool_t *>(kmalloc(s, sizeof(mempool_t), gfp_mask | __GFP_ZERO, node_id));
    if (!pool)
        return nullptr;
    if (mempool_init_node(s, pool, min_nr, alloc_fn, free_fn, pool_data, gfp_mask, node_id)) {
        kfree(s, pool);
        return nullptr;
    }
    return pool;
}

} // namespace gfplab

using gfplab::mempool_sync;

extern "C" {

void mempool_exit(mempool_t *pool) {
    if (!pool->elements)
        return;
    while (pool->curr_nr) {
        void *element = gfplab::remove_element(pool);
        pool->free(element, pool->pool_data);
    }
    gfplab::kfree(gfplab::system_of(pool), pool->elements);
    pool->elements = nullptr;
    delete &gfplab::sync_of(pool);
    pool->gfplab_sync = nullptr;
}

void mempool_destroy(mempool_t *pool) {
    if (!pool)
        return;
    gfplab::System &s = gfplab::system_of(pool);
    mempool_exit(pool);
    gfplab::kfree(s, pool);
}

int mempool_resize(mempool_t *pool, int new_min_nr) {
    gfplab::System &s = gfplab::system_of(pool);
    if (new_min_nr <= 0) {
        gfplab::refuse(s, gfplab::invariant::bad_input, "mempool min_nr", 0, -1, nullptr,
                       "mempool_resize: new_min_nr {} is not positive", new_min_nr);
        return -EINVAL;
    }
    mempool_sync &sync = gfplab::sync_of(pool);
    std::unique_lock l(sync.lock);
    if (new_min_nr <= pool->min_nr) {
        // Shrink: the surplus goes back to the allocator, outside the lock.
        while (new_min_nr < pool->curr_nr) {
            void *element = gfplab::remove_element(pool);
            l.unlock();
            pool->free(element, pool->pool_data);
            l.lock();
        }
        gfplab::store(pool->min_nr, new_min_nr);
        return 0;
    }
    l.unlock();
    auto *new_elements = static_cast<void **>(
        gfplab::kmalloc_array(s, std::size_t(new_min_nr), sizeof(void *), GFP_KERNEL));
    if (!new_elements)
        return -ENOMEM;
    l.lock();
    if (new_min_nr <= pool->min_nr) { // raced: the other resize does our work
        l.unlock();
        gfplab::kfree(s, new_elements);
        return 0;
    }
    std::memcpy(new_elements, pool->elements, std::size_t(pool->curr_nr) * sizeof(void *));
    gfplab::kfree(s, pool->elements);
    pool->elements = new_elements;
    gfplab::store(pool->min_nr, new_min_nr);
    while (pool->curr_nr < pool->min_nr) {
        l.unlock();
        void *element = pool->alloc(GFP_KERNEL, pool->pool_data);
        if (!element)
            return 0; // as 6.12: the pool refills from frees later
        l.lock();
        if (pool->curr_nr < pool->min_nr) {
            gfplab::add_element(pool, element);
        } else {
            l.unlock();
            pool->free(element, pool->pool_data); // raced
            return 0;
        }
    }
    return 0;
}

void *mempool_alloc(mempool_t *pool, gfp_t gfp_mask) {
    gfplab::System &s = gfplab::system_of(pool);
    if (gfp_mask & __GFP_ZERO) // VM_WARN_ON_ONCE: a reserved element is not zeroed
        gfplab::refuse(s, gfplab::invariant::bad_input, "mempool __GFP_ZERO", gfp_mask, -1, nullptr,
                       "mempool_alloc: __GFP_ZERO, which elements from the reserve "
                       "would not honour");
    // might_alloc().
    if (gfplab::detail::t_held_count) {
        if (gfp_mask & __GFP_DIRECT_RECLAIM)
            gfplab::check_might_sleep(s, "mempool_alloc", gfp_mask, 0, gfplab::srcloc::current());
        gfplab::check_reclaim_recursion(s, gfplab::current_gfp_context(gfp_mask), 0,
                                        gfplab::srcloc::current());
    }
    // No emergency reserves, no looping in the page allocator, no warnings: the pool is
    // the fallback.
    gfp_mask |= __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN;
    // The first round neither reclaims nor does I/O: the reserve comes before that.
    gfp_t gfp_temp = gfp_mask & ~(__GFP_DIRECT_RECLAIM | __GFP_IO);
    mempool_sync &sync = gfplab::sync_of(pool);
    for (;;) {
        if (void *element = pool->alloc(gfp_temp, pool->pool_data))
            return element;
        std::unique_lock l(sync.lock);
        if (pool->curr_nr)
            return gfplab::remove_element(pool);
        // The reserve is empty too: once more with the full mask, right away.
        if (gfp_temp != gfp_mask) {
            gfp_temp = gfp_mask;
            continue;
        }
        if (!(gfp_mask & __GFP_DIRECT_RECLAIM))
            return nullptr;
        // Wait for an element to come back (the kernel's 5 s io_schedule_timeout guards
        // against a lost wake-up), then start over with the allocator.
        sync.wait.wait_for(l, std::chrono::seconds(5));
    }
}

void *mempool_alloc_preallocated(mempool_t *pool) {
    mempool_sync &sync = gfplab::sync_of(pool);
    std::lock_guard g(sync.lock);
    return pool->curr_nr ? gfplab::remove_element(pool) : nullptr;
}

void mempool_free(void *element, mempool_t *pool) {
    if (!element)
        return;
    // The reserve first: a racy peek, confirmed under the lock.
    if (gfplab::load(pool->curr_nr) < gfplab::load(pool->min_nr)) {
        mempool_sync &sync = gfplab::sync_of(pool);
        std::unique_lock l(sync.lock);
        if (pool->curr_nr < pool->min_nr) {
            gfplab::add_element(pool, element);
            l.unlock();
            sync.wait.notify_all();
            return;
        }
    }
    pool->free(element, pool->pool_data);
}

void *mempool_alloc_slab(gfp_t gfp_mask, void *pool_data) {
    return kmem_cache_alloc(static_cast<gfplab::kmem_cache *>(pool_data), gfp_mask);
}

void mempool_free_slab(void *element, void *pool_data) {
    kmem_cache_free(static_cast<gfplab::kmem_cache *>(pool_data), element);
}

} // extern "C"
