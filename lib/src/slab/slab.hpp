// SPDX-License-Identifier: MIT
//
// The slab layer's state (mm/slab.h's role): object references, the slab descriptor, the
// per-CPU and per-node parts of a cache, the cache itself and the per-System table that
// finds a slab from its head page. Private to the library.
//
// Concurrency, as SLUB does it without this_cpu_cmpxchg_double:
//  - a CPU's freelist and transaction id share one 64-bit word (kmem_cache_cpu::word), so
//    the fast paths are one restartable sequence (kmem_cache::rseq, rseq_freelist.hpp) or
//    one compare-and-swap, and any change of the CPU's slab goes through the word (it is
//    LOCKED while the slow path works), which fails every racing fast path;
//  - a slab's freelist, inuse count and frozen bit share one 64-bit word (slab::state), the
//    kernel's freelist + counters double word, changed only by compare-and-swap;
//  - the per-node partial list is under the node's list_lock; a frozen slab (a CPU's) is on
//    no list and only its CPU allocates from it; other threads free into its freelist.
#pragma once

#include "../compiler.hpp"

#include <gfplab/slab.hpp>
#include <gfplab/sync/atom.hpp>
#include <gfplab/sync/thread_safety.hpp>
#include <gfplab/system.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gfplab {

class slab_state;
class memcg_objects; // memcontrol.hpp

// An object's address as a number: (address - start of the System's memory) / 8 + 1, so
// that 0 is the empty list. 36 bits reach 512 GiB of simulated memory.
using objref = std::uint64_t;
inline constexpr unsigned OBJREF_BITS = 36;
inline constexpr objref OBJ_NIL = 0;
inline constexpr objref OBJ_LOCKED = (objref(1) << OBJREF_BITS) - 1; // the slow path's mark
inline constexpr std::uint64_t OBJREF_MASK = OBJ_LOCKED;

// Slab geometry limits (mm/slub.c).
inline constexpr unsigned MAX_OBJS_PER_PAGE = 32767;
inline constexpr unsigned MIN_PARTIAL = 5;
inline constexpr unsigned MAX_PARTIAL = 10;

// What a slab page holds besides objects, one per slab, found from the head pfn.
struct slab {
    // freelist (36 bits) | inuse (15 bits) << 36 | frozen << 51
    sync::atom<std::uint64_t> state{0};
    kmem_cache *cache = nullptr;
    // The node's partial list (under its list_lock), or a CPU's (next only, under the
    // CPU's lock).
    slab *next = nullptr;
    slab *prev = nullptr;
    std::uint8_t *base = nullptr; // the first object (after the left red zone)
    std::uint16_t objects = 0;
    std::uint8_t node = 0;
    bool on_partial = false; // the kernel's slab_test_node_partial() (under list_lock)
    // At the head of a CPU's partial list: how many slabs the list holds (slab->slabs).
    std::uint16_t slabs = 0;
};
static_assert(sizeof(slab) == 48, "docs/slab.md gives the descriptor's cost");

struct slab_word {
    objref freelist;
    unsigned inuse;
    bool frozen;
};
constexpr std::uint64_t pack(slab_word w) noexcept {
    return w.freelist | std::uint64_t(w.inuse) << OBJREF_BITS |
           std::uint64_t(w.frozen) << (OBJREF_BITS + 15);
}
constexpr slab_word unpack(std::uint64_t v) noexcept {
    return {v & OBJREF_MASK, unsigned(v >> OBJREF_BITS) & 0x7fff,
            bool((v >> (OBJREF_BITS + 15)) & 1)};
}

// Checking: the state of every 8-byte granule of the System's memory that starts an object
// (indexed by objref - 1), written by whoever holds the object. Only object starts are
// ever obj_allocated, so one byte answers "is this a live object" on free.
enum : std::uint8_t { obj_free = 0, obj_allocated = 1 };

// Where a cache finds the System's memory (copied into every cache: the fast paths read
// them next to the per-CPU pointer).
struct slab_memory {
    std::uint8_t *arena = nullptr;
    std::uint64_t bytes = 0;
    page *mem_map = nullptr;
    std::uint8_t *obj_map = nullptr; // checking on: one byte per 8 bytes, lazily committed
};

// One CPU's part of a cache: its freelist + tid word, its (frozen) slab, its partial slabs,
// and the lock that serialises its slow path (the kernel's local_lock: threads, unlike a
// CPU's code, can run one CPU's slow path twice at once).
struct alignas(64) kmem_cache_cpu {
    // freelist (36 bits) | tid << 36
    sync::atom<std::uint64_t> word{0};
    std::atomic<slab *> cpu_slab{nullptr}; // changed only while word is LOCKED
    sync::mutex lock;
    // CONFIG_SLUB_CPU_PARTIAL: slabs with free objects that belong to no CPU and no node
    // list (not frozen), linked through slab::next; the head's slabs counts them.
    slab *partial GFPLAB_GUARDED_BY(lock) = nullptr;
    // The CPU's slow-path events (slub_stat_item): atomic words, so that readers and
    // threads sharing the CPU never race, counted without a locked add (count_stat()).
    std::atomic<std::uint64_t> stat[NR_SLUB_STAT_ITEMS] = {};
};

struct kmem_cache_node {
    sync::mutex list_lock;
    slab *partial GFPLAB_GUARDED_BY(list_lock) = nullptr;
    std::atomic<unsigned long> nr_partial{0}; // written under list_lock, read racily
    std::atomic<unsigned long> nr_slabs{0};
    std::atomic<unsigned long> total_objects{0};
};

struct kmem_cache {
    System *sys = nullptr;
    slab_state *state = nullptr;
    slab_memory mem;
    std::unique_ptr<kmem_cache_cpu[]> cpu; // ncpus of them
    unsigned ncpus = 0;
    // The CPU freelists are reached by restartable sequences (rseq_freelist.hpp): the
    // System's per-CPU lists run in rseq mode and every possible CPU number has a slot.
    bool rseq = false;
    // Red zones, poison, init_on_free or SLAB_ACCOUNT: allocation takes the hooked path.
    bool hooks = false;
    // hooks, or an object of the cache was ever charged to a group (memcontrol.cpp): free
    // takes free_hooks(). Set once, never cleared; the object's hand-over to whoever frees
    // it orders the store before that thread's load.
    std::atomic<bool> free_hook{false};
    bool track = false; // checking on: object states in mem.obj_map
    std::string name;
    slab_flags_t flags = 0;
    unsigned object_size = 0, size = 0, align = 0, offset = 0, inuse = 0, red_left_pad = 0;
    unsigned order = 0, objects = 0, min_order = 0, min_objects = 0;
    unsigned long min_partial = 0;
    // set_cpu_partial(): objects a CPU's partial list is sized for (sysfs cpu_partial), and
    // the slabs that makes at half full (0: no per-CPU partial lists, as for debug caches).
    cpu_partial_limits cpu_partial;
    gfp_t allocflags = 0;
    void (*ctor)(void *) = nullptr;
    std::uint64_t random = 0; // freelist hardening: free pointers are stored xor this
    // slab_want_init_on_alloc(): zero when (gfp | zero_or) & zero_and has __GFP_ZERO.
    gfp_t zero_or = 0, zero_and = __GFP_ZERO;
    bool init_on_free = false; // slab_want_init_on_free()
    bool red_zone = false;     // SLAB_RED_ZONE
    bool poison = false;       // __OBJECT_POISON: POISON, no ctor, not TYPESAFE_BY_RCU
    std::vector<std::unique_ptr<kmem_cache_node>> node;
    bool destroyed_with_objects = false; // kmem_cache_destroy() refused: objects were live
};

// The slabs of one System: the descriptor table, its caches, the kmalloc caches.
class slab_state {
  public:
    explicit slab_state(System &s);
    ~slab_state();

    // Descriptors in chunks of 512 pfns, made on first use (a slab needs one at its head).
    static constexpr unsigned CHUNK_SHIFT = 9;
    slab *lookup(unsigned long pfn) const noexcept {
        slab *chunk = chunks_[pfn >> CHUNK_SHIFT].load(std::memory_order_acquire);
        return chunk ? chunk + (pfn & ((1u << CHUNK_SHIFT) - 1)) : nullptr;
    }
    slab &descriptor(unsigned long pfn); // makes the chunk

    const slab_memory &memory() const noexcept { return mem_; }
    System &system() noexcept { return sys_; }

    // The cache list (the kernel's slab_caches under slab_mutex).
    kmem_cache *add_cache(std::unique_ptr<kmem_cache> c);
    void remove_cache(kmem_cache *c); // deletes it
    std::vector<kmem_cache *> caches();
    // A number for the next cache's freelist hardening, reproducible per System.
    std::uint64_t next_random();

    kmem_cache *kmalloc_caches[NR_KMALLOC_TYPES][KMALLOC_INDEX_MAX + 1] = {};
    std::atomic<unsigned long> large_kmalloc_pages{0};
    // SLAB_TYPESAFE_BY_RCU slabs discarded and waiting for their grace period.
    std::atomic<long> rcu_slabs_pending{0};
    // rcu_barrier() when any are: before a cache or the System goes.
    void wait_for_rcu_slabs();
    // The per-CPU object stocks and each charged object's group (memcontrol.cpp).
    memcg_objects &memcg() noexcept { return *memcg_; }

  private:
    System &sys_;
    slab_memory mem_;
    std::unique_ptr<std::atomic<slab *>[]> chunks_;
    std::unique_ptr<memcg_objects> memcg_;
    std::size_t nchunks_ = 0;
    std::mutex slab_mutex_;
    std::vector<std::unique_ptr<kmem_cache>> caches_;
    std::uint64_t random_state_;
};

// kmem_cache_create() on a System whose slab state is st (which may be under construction).
kmem_cache *create_cache(System &s, slab_state &st, const char *name, unsigned object_size,
                         const kmem_cache_args *args, slab_flags_t flags);

// Reports a GFP_SLAB_BUG_MASK mask (I16) for `who` and returns it without those bits.
[[gnu::cold]] gfp_t kmalloc_fix_flags(System &s, gfp_t flags, std::string_view who);

// How the slab layer reaches its System's state (a friend of System).
inline slab_state &slab_of(System &s) noexcept {
    return *s.slab_;
}

} // namespace gfplab
