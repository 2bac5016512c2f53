// SPDX-License-Identifier: MIT
//
// Charging slab objects to accounting groups (6.12 mm/memcontrol.c's obj_cgroup part and
// mm/slub.c's memcg hooks): what the hooked allocation path and free_hooks() call, and the
// per-System state behind them. Private to the slab layer; memcontrol.cpp has the rules.
#pragma once

#include "slab.hpp"

#include <gfplab/sync/thread_safety.hpp>

#include <memory>
#include <mutex>

namespace gfplab {

struct mem_cgroup;

// One CPU slot's charged bytes that no object uses yet, all of one group (the object part
// of the kernel's memcg_stock_pcp; the local_lock is a mutex: threads share a slot).
struct alignas(64) obj_stock {
    sync::mutex lock;
    unsigned cached GFPLAB_GUARDED_BY(lock) = 0; // the group's id; 0: none
    unsigned nr_bytes GFPLAB_GUARDED_BY(lock) = 0;
};

// The object stocks of a System and the group of every charged object: one byte per
// 8-byte granule of the System's memory (indexed like slab_memory::obj_map, objref - 1),
// reserved when the first object is charged and committed by the kernel page by page where
// charged objects start (docs/slab.md gives the cost).
class memcg_objects {
  public:
    explicit memcg_objects(System &s);
    ~memcg_objects();
    memcg_objects(const memcg_objects &) = delete;
    memcg_objects &operator=(const memcg_objects &) = delete;

    // obj_cgroup_charge(): size bytes for group id (g), from this CPU's stock or as whole
    // pages through try_charge_memcg() with the rest of the last page left in the stock.
    bool charge(unsigned id, mem_cgroup &g, gfp_t gfp, std::size_t size);
    // obj_cgroup_uncharge(): size bytes back to this CPU's stock; whole pages past one
    // page go back to the group.
    void uncharge(unsigned id, mem_cgroup &g, std::size_t size);
    // drain_all_stock()'s object part: every CPU's stock back to its group.
    void drain_all();

    // The group map: null until the first charge (then for the System's life).
    std::uint8_t *map() const noexcept { return map_.load(std::memory_order_acquire); }
    std::uint8_t *make_map(); // null when the reservation was refused

  private:
    obj_stock &this_stock() noexcept;
    void drain_obj_stock(obj_stock &st) GFPLAB_REQUIRES(st.lock);
    bool consume_obj_stock(unsigned id, unsigned nr_bytes);
    void refill_obj_stock(unsigned id, mem_cgroup &g, unsigned nr_bytes, bool allow_uncharge);

    System &sys_;
    const unsigned ncpus_;
    std::unique_ptr<obj_stock[]> stocks_;
    std::atomic<std::uint8_t *> map_{nullptr};
    std::uint64_t map_bytes_ = 0;
    std::mutex map_lock_;
};

// obj_full_size(): what a charged object costs its group, its slot and the pointer to its
// group the kernel keeps beside it (slab->obj_exts[]).
inline std::size_t obj_full_size(const kmem_cache &c) noexcept {
    return std::size_t(c.size) + sizeof(void *);
}

// memcg_slab_post_alloc_hook() for one object: charges it when the cache is SLAB_ACCOUNT or
// the request __GFP_ACCOUNT and the thread's group is not the root. False: the group
// refused, and the caller must give the object back (memcg_alloc_abort_single()).
bool memcg_slab_post_alloc_hook(kmem_cache *c, gfp_t gfp, void *obj);
// memcg_alloc_abort_single(): an object whose charge failed back to its slab.
void memcg_alloc_abort_single(kmem_cache *c, void *obj);
// memcg_slab_free_hook() for one object: uncharges the group it was charged to, if any.
void memcg_slab_free_hook(kmem_cache *c, void *obj);

} // namespace gfplab
