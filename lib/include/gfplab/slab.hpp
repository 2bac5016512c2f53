// SPDX-License-Identifier: MIT
//
// gfplab/slab.hpp - the slab allocator (Linux 6.12 mm/slub.c and mm/slab_common.c) on one
// System: object caches (kmem_cache) carved from slabs of pages the page allocator hands
// out, and the kmalloc size classes on top of them. The kernel face (gfplab/linux/slab.h)
// is the same code on the default System. docs/slab.md says what is modelled and what not.
#pragma once

#include <gfplab/linux/slab.h>
#include <gfplab/scope.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gfplab {

class System;

// --- the arithmetic, as 6.12 computes it (table-tested against the kernel's values) -------

// The slab order for objects of `size` bytes (already aligned) on a machine with `nr_cpus`
// CPUs: calculate_order() with slab_min_order 0, slab_max_order PAGE_ALLOC_COSTLY_ORDER
// and slab_min_objects 0. -1 when even MAX_PAGE_ORDER cannot hold one object.
int calculate_order(unsigned size, unsigned nr_cpus) noexcept;
// calculate_alignment(): SLAB_HWCACHE_ALIGN halves the cache line while two objects fit.
unsigned calculate_alignment(slab_flags_t flags, unsigned align, unsigned size) noexcept;
// set_cpu_partial() (CONFIG_SLUB_CPU_PARTIAL): the objects a CPU's partial list is sized for,
// by the stride `size` (0 for a debug cache: red zones, poison, user tracking, tracing or
// consistency checks), and the slabs that makes when they are half full, `objects` per slab.
struct cpu_partial_limits {
    unsigned objects = 0;
    unsigned slabs = 0;
};
cpu_partial_limits set_cpu_partial(slab_flags_t flags, unsigned size, unsigned objects) noexcept;

// The kmalloc caches: index 1 is kmalloc-96, 2 kmalloc-192, 3..13 the powers of two 8..8k.
inline constexpr unsigned KMALLOC_INDEX_MAX = KMALLOC_SHIFT_HIGH;

namespace detail {
// The kernel's size_index[]: the cache index of sizes 1..192 by (size - 1) / 8, where 96
// and 192 break the powers of two.
inline constexpr std::uint8_t kmalloc_size_index[24] = {3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1,
                                                        7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2};
} // namespace detail

// kmalloc_index(): 0 for size 0; sizes above KMALLOC_MAX_CACHE_SIZE are not cached (-1).
constexpr int kmalloc_index(std::size_t size) noexcept {
    if (size <= 192)
        return size ? detail::kmalloc_size_index[(size - 1) / 8] : 0;
    if (size > KMALLOC_MAX_CACHE_SIZE)
        return -1;
    return int(std::bit_width(size - 1)); // the power of two at or above size
}
// kmalloc_size(): the object size of cache index i (kmalloc_info[i].size).
unsigned kmalloc_size(unsigned index) noexcept;

enum kmalloc_cache_type : unsigned {
    KMALLOC_NORMAL = 0,
    KMALLOC_RECLAIM, // __GFP_RECLAIMABLE: "kmalloc-rcl-*", SLAB_RECLAIM_ACCOUNT
    KMALLOC_DMA,     // __GFP_DMA: "dma-kmalloc-*", SLAB_CACHE_DMA
    KMALLOC_CGROUP,  // __GFP_ACCOUNT: "kmalloc-cg-*", SLAB_ACCOUNT
    NR_KMALLOC_TYPES
};
// kmalloc_type(): DMA before RECLAIMABLE before ACCOUNT, as 6.12 ranks them; the common
// case is one test.
constexpr kmalloc_cache_type kmalloc_type(gfp_t flags) noexcept {
    if (!(flags & (__GFP_DMA | __GFP_RECLAIMABLE | __GFP_ACCOUNT)))
        return KMALLOC_NORMAL;
    if (flags & __GFP_DMA)
        return KMALLOC_DMA;
    return flags & __GFP_RECLAIMABLE ? KMALLOC_RECLAIM : KMALLOC_CGROUP;
}

// --- caches -----------------------------------------------------------------------------

// SLUB's event counters (CONFIG_SLUB_STATS, /sys/kernel/slab/<cache>/<name>), the slow
// paths' part: the fast paths count nothing, so that they stay what they measure.
enum slub_stat_item : unsigned {
    ALLOC_SLOWPATH,      // the CPU's freelist was empty: ___slab_alloc()
    FREE_SLOWPATH,       // a free into a slab that is not the CPU's
    FREE_FROZEN,         // ... into another CPU's slab
    FREE_ADD_PARTIAL,    // ... made a full slab partial: onto the node's list
    FREE_REMOVE_PARTIAL, // ... emptied a slab on the node's list: off it
    ALLOC_FROM_PARTIAL,  // the CPU took a slab from a node's partial list
    ALLOC_SLAB,          // the CPU took a new slab from the page allocator
    ALLOC_REFILL,        // the CPU refilled from its own slab's remote frees
    ALLOC_NODE_MISMATCH, // the CPU's slab was of another node than asked
    FREE_SLAB,           // an empty slab went back to the page allocator
    CPUSLAB_FLUSH,       // a CPU's slab was flushed (shrink, destroy)
    DEACTIVATE_FULL,     // a CPU slab left full
    DEACTIVATE_EMPTY,    // a CPU slab left empty
    ORDER_FALLBACK,      // the cache's order could not be had: its minimum order
    CPU_PARTIAL_ALLOC,   // the CPU took a slab from its own partial list
    CPU_PARTIAL_FREE,    // a full slab that got an object back went onto the CPU's list
    CPU_PARTIAL_NODE,    // a slab moved from a node's list to the CPU's
    CPU_PARTIAL_DRAIN,   // a CPU's partial list went back to the nodes
    NR_SLUB_STAT_ITEMS,
};
// The sysfs file name of a counter ("alloc_slowpath", ...).
const char *slub_stat_name(slub_stat_item i) noexcept;

// A cache's geometry and what it holds, as /proc/slabinfo and /sys/kernel/slab show it.
struct kmem_cache_info {
    std::string name;
    slab_flags_t flags = 0;
    unsigned object_size = 0; // what the creator asked for
    unsigned size = 0;        // the stride: object, metadata, red zones, alignment
    unsigned align = 0;
    unsigned offset = 0; // where the free pointer lives in a free object
    unsigned inuse = 0;  // the object's bytes with its right red zone
    unsigned red_left_pad = 0;
    unsigned order = 0;     // of the slabs (oo)
    unsigned objects = 0;   // per slab at that order
    unsigned min_order = 0; // the fallback when the order above cannot be had (min)
    unsigned long min_partial = 0;
    cpu_partial_limits cpu_partial;              // sysfs cpu_partial, and in slabs
    unsigned long slabs_cpu_partial = 0;         // slabs on the CPUs' partial lists now
    std::uint64_t stat[NR_SLUB_STAT_ITEMS] = {}; // summed over the CPUs
    gfp_t allocflags = 0;                        // added to every slab page allocation
    // The CPU freelists are reached by restartable sequences (the System's per-CPU lists
    // run in rseq mode), else by a compare-and-swap (docs/slab.md).
    bool rseq = false;
    // Like /proc/slabinfo: objects on per-CPU freelists count as active.
    unsigned long active_objs = 0;
    unsigned long num_objs = 0;
    unsigned long num_slabs = 0;
    unsigned long partial_slabs = 0;
};

// Caches and the kmalloc family of one System. Objects are addresses inside the System's
// memory; a cache belongs to the System that created it and dies with it.
kmem_cache *kmem_cache_create(System &s, const char *name, unsigned object_size,
                              const kmem_cache_args *args, slab_flags_t flags);
kmem_cache *kmem_cache_create(System &s, const char *name, unsigned size, unsigned align,
                              slab_flags_t flags, void (*ctor)(void *));
kmem_cache_info kmem_cache_stats(const kmem_cache *c);
System &kmem_cache_system(const kmem_cache *c) noexcept;
// The System's kmalloc cache of one type and index (tests, statistics).
kmem_cache *kmalloc_cache(System &s, kmalloc_cache_type type, unsigned index) noexcept;

// The kmalloc family on System s (the kernel face's kmalloc() & co. on the default one).
void *kmalloc(System &s, std::size_t size, gfp_t flags, int node = NUMA_NO_NODE);
void *kzalloc(System &s, std::size_t size, gfp_t flags);
void *kmalloc_array(System &s, std::size_t n, std::size_t size, gfp_t flags);
void *kcalloc(System &s, std::size_t n, std::size_t size, gfp_t flags);
void *krealloc(System &s, const void *p, std::size_t new_size, gfp_t flags);
void kfree(System &s, const void *p);
std::size_t ksize(System &s, const void *p);
char *kstrdup(System &s, const char *str, gfp_t flags);

// Totals over all caches of s (racy while others run).
struct slab_totals {
    unsigned long caches = 0;
    unsigned long slabs = 0;
    unsigned long slab_pages = 0;
    unsigned long large_kmalloc_pages = 0;
};
slab_totals slab_statistics(System &s);
// kmem_cache_shrink() on every cache of s (the kernel's kmem_cache_shrink_all() and what
// drop_caches leaves to slab): every CPU's slab back, every empty slab to the page
// allocator. Returns the slabs freed. A harness calls it before it counts free pages.
unsigned long kmem_cache_shrink_all(System &s);
// /proc/slabinfo: every cache of s, in creation order (racy while others run).
std::vector<kmem_cache_info> slabinfo(System &s);

// --- accounting groups (gfplab/memcontrol.hpp) -------------------------------------------
// An object of a SLAB_ACCOUNT cache, or allocated with __GFP_ACCOUNT, while the thread's
// group (set_active_memcg()) is not the root is charged to that group; if the group refuses,
// the allocation returns NULL. The object's charge goes back to that group when it is freed,
// whoever frees it.

// obj_full_size(): the bytes one charged object of c costs its group (its slot, c's size,
// and the pointer to its group the kernel keeps beside it).
std::size_t obj_full_size(const kmem_cache *c) noexcept;
// drain_all_stock(): every CPU's stock of charged bytes back to its group (whole pages
// uncharged, the rest kept in the group's nr_charged_bytes).
void drain_all_stock(System &s);
// The group a live object of s is charged to (root_mem_cgroup: none).
unsigned mem_cgroup_from_slab_obj(System &s, const void *obj) noexcept;

} // namespace gfplab
