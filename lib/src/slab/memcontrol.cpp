// SPDX-License-Identifier: MIT
//
// Slab objects charged to accounting groups (6.12 mm/memcontrol.c: obj_cgroup_charge,
// consume_obj_stock, refill_obj_stock, drain_obj_stock, mod_objcg_state,
// __memcg_slab_post_alloc_hook, __memcg_slab_free_hook; mm/slub.c: memcg_slab_post_alloc_hook,
// memcg_slab_free_hook, memcg_alloc_abort_single).
//
// A group is charged in pages (try_charge_memcg(), with the limit and the forced charges of
// page charging), an object in bytes: what the pages charged for an object leave over waits
// in the CPU's stock for the next object of the same group, and a freed object's bytes go
// to the stock too, which gives whole pages back once it holds more than one. A stock holds
// one group at a time; when another group takes it, its whole pages go back and the bytes
// below a page wait in the group's nr_charged_bytes for the next stock the group takes.
//
// Not modelled: memcg reclaim before a charge fails (as for pages), the per-CPU page stock
// (MEMCG_CHARGE_BATCH: the pages a drain gives back are uncharged at once), the per-CPU
// batching of the slab statistics (they are exact at every moment here), list_lru memcg
// lists.
#include "memcontrol.hpp"

#include "../internal.hpp"
#include "fastpath.hpp"

#include <gfplab/memcontrol.hpp>
#include <gfplab/system.hpp>

#include <sys/mman.h>

namespace gfplab {

memcg_objects::memcg_objects(System &s)
    : sys_(s), ncpus_(s.nr_cpus()), stocks_(std::make_unique<obj_stock[]>(ncpus_)) {}

memcg_objects::~memcg_objects() {
    if (std::uint8_t *m = map_.load())
        munmap(m, map_bytes_);
}

std::uint8_t *memcg_objects::make_map() {
    std::lock_guard g(map_lock_);
    if (std::uint8_t *m = map_.load(std::memory_order_relaxed))
        return m;
    // One byte per 8 bytes of the System's memory, committed only where it is written.
    const std::uint64_t bytes = (std::uint64_t(sys_.max_pfn()) << PAGE_SHIFT) / 8;
    void *m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return nullptr;
    map_bytes_ = bytes;
    map_.store(static_cast<std::uint8_t *>(m), std::memory_order_release);
    return static_cast<std::uint8_t *>(m);
}

obj_stock &memcg_objects::this_stock() noexcept {
    const unsigned cpu = sys_.pcp_area().this_cpu();
    return stocks_[cpu < ncpus_ ? cpu : cpu % ncpus_];
}

// The stock's whole pages back to its group, the bytes below a page to the group's
// nr_charged_bytes; the stock is then nobody's.
void memcg_objects::drain_obj_stock(obj_stock &st) {
    if (!st.cached)
        return;
    if (st.nr_bytes) {
        mem_cgroup *g = memcg_group(sys_, st.cached);
        if (const unsigned nr_pages = st.nr_bytes >> PAGE_SHIFT)
            memcg_uncharge_pages(*g, nr_pages);
        g->nr_charged_bytes.fetch_add(st.nr_bytes & (PAGE_SIZE - 1), std::memory_order_relaxed);
        st.nr_bytes = 0;
    }
    st.cached = 0;
}

bool memcg_objects::consume_obj_stock(unsigned id, unsigned nr_bytes) {
    obj_stock &st = this_stock();
    sync::lock_guard guard(st.lock);
    if (st.cached != id || st.nr_bytes < nr_bytes)
        return false;
    st.nr_bytes -= nr_bytes;
    return true;
}

// A charge's spare bytes come with allow_uncharge false: the stock may then hold up to an
// object less than two pages, so that a page just charged is not given straight back.
void memcg_objects::refill_obj_stock(unsigned id, mem_cgroup &g, unsigned nr_bytes,
                                     bool allow_uncharge) {
    unsigned nr_pages = 0;
    {
        obj_stock &st = this_stock();
        sync::lock_guard guard(st.lock);
        if (st.cached != id) {
            drain_obj_stock(st);
            st.cached = id;
            st.nr_bytes = g.nr_charged_bytes.load(std::memory_order_relaxed)
                              ? unsigned(g.nr_charged_bytes.exchange(0, std::memory_order_relaxed))
                              : 0;
            allow_uncharge = true;
        }
        st.nr_bytes += nr_bytes;
        if (allow_uncharge && st.nr_bytes > PAGE_SIZE) {
            nr_pages = st.nr_bytes >> PAGE_SHIFT;
            st.nr_bytes &= PAGE_SIZE - 1;
        }
    }
    if (nr_pages)
        memcg_uncharge_pages(g, nr_pages);
}

bool memcg_objects::charge(unsigned id, mem_cgroup &g, gfp_t gfp, std::size_t size) {
    if (consume_obj_stock(id, unsigned(size)))
        return true;
    // The group's nr_charged_bytes and what the stock holds are not used here: the charge
    // is whole new pages, and the stock keeps what the last one leaves over.
    const unsigned nr_bytes = unsigned(size & (PAGE_SIZE - 1));
    const std::uint64_t nr_pages = (size >> PAGE_SHIFT) + (nr_bytes ? 1 : 0);
    if (!try_charge_memcg(g, gfp, nr_pages))
        return false;
    if (nr_bytes)
        refill_obj_stock(id, g, unsigned(PAGE_SIZE) - nr_bytes, false);
    return true;
}

void memcg_objects::uncharge(unsigned id, mem_cgroup &g, std::size_t size) {
    refill_obj_stock(id, g, unsigned(size), true);
}

void memcg_objects::drain_all() {
    for (unsigned cpu = 0; cpu < ncpus_; cpu++) {
        sync::lock_guard guard(stocks_[cpu].lock);
        drain_obj_stock(stocks_[cpu]);
    }
}

namespace {

// mod_objcg_state() for a cache's objects: memory.stat's slab_reclaimable or
// slab_unreclaimable (cache_vmstat_idx()).
void mod_objcg_state(mem_cgroup &g, const kmem_cache &c, std::size_t bytes, bool add) {
    std::atomic<std::uint64_t> &stat =
        (c.flags & SLAB_RECLAIM_ACCOUNT) ? g.slab_reclaimable : g.slab_unreclaimable;
    if (add)
        stat.fetch_add(bytes, std::memory_order_relaxed);
    else
        stat.fetch_sub(bytes, std::memory_order_relaxed);
}

} // namespace

bool memcg_slab_post_alloc_hook(kmem_cache *c, gfp_t gfp, void *obj) {
    if (!(gfp & __GFP_ACCOUNT) && !(c->flags & SLAB_ACCOUNT))
        return true;
    const unsigned id = active_memcg() % max_mem_cgroups;
    mem_cgroup *g = memcg_group(*c->sys, id);
    if (!g)
        return true; // the root, or an id this System does not have: nothing is charged
    memcg_objects &m = c->state->memcg();
    const std::size_t full = obj_full_size(*c);
    if (!m.charge(id, *g, gfp, full))
        return false;
    std::uint8_t *map = m.map();
    if (!map && !(map = m.make_map())) {
        // alloc_slab_obj_exts() failed: the object stays uncharged, as in the kernel.
        m.uncharge(id, *g, full);
        return true;
    }
    if (!c->free_hook.load(std::memory_order_relaxed))
        c->free_hook.store(true, std::memory_order_relaxed);
    __atomic_store_n(map + (slab_allocator::to_ref(c->mem, obj) - 1), std::uint8_t(id),
                     __ATOMIC_RELAXED);
    mod_objcg_state(*g, *c, full, true);
    return true;
}

void memcg_alloc_abort_single(kmem_cache *c, void *obj) {
    slab *sl = slab_allocator::virt_to_slab(*c->state, c->mem, obj);
    slab_allocator::free(c, sl, obj);
}

void memcg_slab_free_hook(kmem_cache *c, void *obj) {
    memcg_objects &m = c->state->memcg();
    std::uint8_t *map = m.map();
    if (!map)
        return;
    std::uint8_t *slot = map + (slab_allocator::to_ref(c->mem, obj) - 1);
    const unsigned id = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (!id)
        return; // never charged (the root's, or taken before the cache charged any)
    __atomic_store_n(slot, std::uint8_t(0), __ATOMIC_RELAXED);
    mem_cgroup *g = memcg_group(*c->sys, id);
    const std::size_t full = obj_full_size(*c);
    m.uncharge(id, *g, full);
    mod_objcg_state(*g, *c, full, false);
}

// --- the public face (gfplab/slab.hpp) ----------------------------------------------------

std::size_t obj_full_size(const kmem_cache *c) noexcept {
    return obj_full_size(*c);
}

void drain_all_stock(System &s) {
    slab_of(s).memcg().drain_all();
}

unsigned mem_cgroup_from_slab_obj(System &s, const void *obj) noexcept {
    slab_state &st = slab_of(s);
    const std::uint8_t *map = st.memcg().map();
    if (!map || !slab_allocator::virt_to_slab(st, st.memory(), obj))
        return root_mem_cgroup;
    return __atomic_load_n(map + (slab_allocator::to_ref(st.memory(), obj) - 1), __ATOMIC_RELAXED);
}

} // namespace gfplab
