// SPDX-License-Identifier: MIT
//
// The slab fast paths (mm/slub.c 6.12: slab_alloc_node with its __slab_alloc fallback,
// do_slab_free with its __slab_free fallback), inline: one restartable sequence, or one
// compare-and-swap, on the CPU's freelist word each way, with the oracle's object check (I17)
// in the same pass. Whatever is rare (a node, a bad mask, __GFP_ACCOUNT or a SLAB_ACCOUNT
// cache, held locks, failslab, red zones or poison, a cache that has charged objects, an
// empty freelist, a free into another slab) is one test and a call out of line. Private to
// the library.
#pragma once

#include "../check/held_count.hpp"
#include "../page_alloc/fail_nth.hpp"
#include "../pcp/pcp.hpp"
#include "rseq_freelist.hpp"
#include "slab.hpp"

#include <cstring>

namespace gfplab {

struct slab_allocator {
    static constexpr std::uint64_t TID_ONE = std::uint64_t(1) << OBJREF_BITS;

    GFPLAB_ALWAYS_INLINE static objref to_ref(const slab_memory &m, const void *p) noexcept {
        return objref((static_cast<const std::uint8_t *>(p) - m.arena) >> 3) + 1;
    }
    GFPLAB_ALWAYS_INLINE static void *to_ptr(const slab_memory &m, objref r) noexcept {
        return m.arena + ((r - 1) << 3);
    }

    // The free pointer inside a free object, stored xor the cache's random value so that a
    // stray write into a free object is not a plausible pointer (the kernel's
    // CONFIG_SLAB_FREELIST_HARDENED).
    GFPLAB_ALWAYS_INLINE static objref get_freepointer(const kmem_cache &c,
                                                       const void *obj) noexcept {
        std::uint64_t v;
        std::memcpy(&v, static_cast<const std::uint8_t *>(obj) + c.offset, sizeof v);
        return v ^ c.random;
    }
    // The fast path reads the next pointer of its freelist's head before its compare-and-swap
    // knows the head is still free: another thread may have taken the object and be writing
    // to it. The value is then garbage and the compare-and-swap fails on the changed tid;
    // that read is the kernel's get_freepointer_safe(), hidden from ThreadSanitizer.
    __attribute__((no_sanitize("thread"))) static objref
    get_freepointer_racy(const kmem_cache &c, const void *obj) noexcept {
        return *reinterpret_cast<const volatile std::uint64_t *>(
                   static_cast<const std::uint8_t *>(obj) + c.offset) ^
               c.random;
    }
    GFPLAB_ALWAYS_INLINE static void set_freepointer(const kmem_cache &c, void *obj,
                                                     objref next) noexcept {
        const std::uint64_t v = next ^ c.random;
        std::memcpy(static_cast<std::uint8_t *>(obj) + c.offset, &v, sizeof v);
    }

    GFPLAB_ALWAYS_INLINE static kmem_cache_cpu &this_cpu(kmem_cache &c) noexcept {
        const unsigned cpu = c.sys->pcp_area().this_cpu();
        return c.cpu[cpu < c.ncpus ? cpu : cpu % c.ncpus];
    }

    // stat(): one of the CPU's slow-path events. A load and a store, as the kernel's
    // raw_cpu_inc(): a locked add on every slow free cost 8% of a 512-objects round. Two
    // threads sharing a CPU slot may lose a count between them, as a preempted
    // raw_cpu_inc() may.
    static void count_stat(kmem_cache_cpu &cc, slub_stat_item i) noexcept {
        cc.stat[i].store(cc.stat[i].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    static void stat(kmem_cache *c, slub_stat_item i) noexcept { count_stat(this_cpu(*c), i); }

    // The checking byte of an object start (obj_map is only there with checking on).
    GFPLAB_ALWAYS_INLINE static std::uint8_t obj_state(const slab_memory &m, objref r) noexcept {
        return __atomic_load_n(m.obj_map + (r - 1), __ATOMIC_RELAXED);
    }
    GFPLAB_ALWAYS_INLINE static void set_obj_state(const slab_memory &m, objref r,
                                                   std::uint8_t v) noexcept {
        __atomic_store_n(m.obj_map + (r - 1), v, __ATOMIC_RELAXED);
    }

    // slab_alloc_node(): the CPU's freelist, else the slow path; then the object's hooks.
    GFPLAB_ALWAYS_INLINE static void *alloc(kmem_cache *c, gfp_t gfp, int node,
                                            std::size_t orig_size) {
        if ((gfp & (GFP_SLAB_BUG_MASK | __GFP_ACCOUNT)) || node != NUMA_NO_NODE || c->hooks ||
            (detail::t_held_count | detail::t_fail_nth) || c->sys->failslab().armed()) [[unlikely]]
            return alloc_hooked(c, gfp, node, orig_size);
        void *obj = alloc_from_cpu(c, gfp);
        if (!obj) [[unlikely]]
            return nullptr;
        post_alloc(c, obj, gfp);
        return obj;
    }

    // The CPU's freelist: a restartable sequence (rseq_freelist.hpp), else one
    // compare-and-swap that also bumps the tid.
    GFPLAB_ALWAYS_INLINE static void *alloc_from_cpu(kmem_cache *c, gfp_t gfp) {
#if GFPLAB_HAVE_RSEQ
        if (c->rseq) [[likely]] {
            const objref head = slab_rseq::pop(*c);
            if (head == OBJ_NIL) [[unlikely]]
                return __slab_alloc(c, gfp, NUMA_NO_NODE);
            return to_ptr(c->mem, head);
        }
#endif
        kmem_cache_cpu &cc = this_cpu(*c);
        std::uint64_t w = cc.word.load(std::memory_order_acquire);
        for (;;) {
            const objref head = w & OBJREF_MASK;
            if (head == OBJ_NIL || head == OBJ_LOCKED) [[unlikely]]
                return __slab_alloc(c, gfp, NUMA_NO_NODE);
            void *obj = to_ptr(c->mem, head);
            const objref next = get_freepointer_racy(*c, obj);
            if (cc.word.compare_exchange_weak(w, next | ((w & ~OBJREF_MASK) + TID_ONE),
                                              std::memory_order_acq_rel)) [[likely]]
                return obj;
        }
    }

    // slab_post_alloc_hook(): the object's state for the oracle, then __GFP_ZERO or
    // init_on_alloc.
    GFPLAB_ALWAYS_INLINE static void post_alloc(kmem_cache *c, void *obj, gfp_t gfp) {
        if (c->track) {
            const objref r = to_ref(c->mem, obj);
            if (obj_state(c->mem, r) != obj_free) [[unlikely]]
                report_handed_out_twice(c, obj);
            set_obj_state(c->mem, r, obj_allocated);
        }
        if ((gfp | c->zero_or) & c->zero_and) [[unlikely]]
            std::memset(obj, 0, c->object_size);
    }

    // virt_to_slab(): the slab whose memory holds p, or null (not slab memory).
    GFPLAB_ALWAYS_INLINE static slab *virt_to_slab(const slab_state &st, const slab_memory &m,
                                                   const void *p) noexcept {
        const std::uint64_t off = std::uint64_t(static_cast<const std::uint8_t *>(p) - m.arena);
        if (off >= m.bytes) [[unlikely]]
            return nullptr;
        unsigned long pfn = off >> PAGE_SHIFT;
        std::uint32_t flags = m.mem_map[pfn].flags.load(std::memory_order_acquire);
        if (flags & PG_tail) {
            pfn = m.mem_map[pfn].lru.next;
            flags = m.mem_map[pfn].flags.load(std::memory_order_acquire);
        }
        if (!(flags & PG_slab)) [[unlikely]]
            return nullptr;
        return st.lookup(pfn);
    }

    // do_slab_free() for one object of cache c in slab sl: the object check (I17), then the
    // CPU's freelist when sl is the CPU's slab, else __slab_free().
    GFPLAB_ALWAYS_INLINE static void free(kmem_cache *c, slab *sl, void *obj) {
        const objref r = to_ref(c->mem, obj);
        if (c->track) {
            if (sl->cache != c || obj_state(c->mem, r) != obj_allocated) [[unlikely]]
                return free_refused(c, sl, obj);
            set_obj_state(c->mem, r, obj_free);
        }
        if (c->free_hook.load(std::memory_order_relaxed)) [[unlikely]]
            free_hooks(c, obj);
#if GFPLAB_HAVE_RSEQ
        if (c->rseq) [[likely]] {
            if (!slab_rseq::push(*c, sl, static_cast<std::uint8_t *>(obj) + c->offset, r))
                [[unlikely]]
                __slab_free(c, sl, obj, obj, 1);
            return;
        }
#endif
        kmem_cache_cpu &cc = this_cpu(*c);
        std::uint64_t w = cc.word.load(std::memory_order_acquire);
        for (;;) {
            if ((w & OBJREF_MASK) == OBJ_LOCKED ||
                cc.cpu_slab.load(std::memory_order_acquire) != sl) [[unlikely]]
                return __slab_free(c, sl, obj, obj, 1);
            set_freepointer(*c, obj, w & OBJREF_MASK);
            if (cc.word.compare_exchange_weak(w, r | ((w & ~OBJREF_MASK) + TID_ONE),
                                              std::memory_order_acq_rel)) [[likely]]
                return;
        }
    }

    // --- out of line (slub.cpp, debug.cpp) ---------------------------------------------------
    // The checks the fast path skips (mask, node, locks, failslab, red zones, poison), and
    // the memcg charge (memcontrol.cpp).
    [[gnu::noinline]] static void *alloc_hooked(kmem_cache *c, gfp_t gfp, int node,
                                                std::size_t orig_size);
    // ___slab_alloc(): the CPU's slab, a partial slab, a new slab.
    [[gnu::noinline]] static void *__slab_alloc(kmem_cache *c, gfp_t gfp, int node);
    // __slab_free(): a chain head..tail of cnt objects back to their (not the CPU's) slab.
    [[gnu::noinline]] static void __slab_free(kmem_cache *c, slab *sl, void *head, void *tail,
                                              unsigned cnt) GFPLAB_NO_THREAD_SAFETY_ANALYSIS;
    // Red zones and poison: checked and set when an object is handed out and given back,
    // and set on a new slab's objects (init_object()); free_hooks() uncharges first.
    static void alloc_hooks(kmem_cache *c, void *obj);
    [[gnu::noinline]] static void free_hooks(kmem_cache *c, void *obj);
    static void init_object_free(kmem_cache *c, void *obj);
    // I18: a new slab's pages have the zone and migratetype the cache's flags ask for.
    static void check_slab_page(kmem_cache *c, const page *p, unsigned order);
    // new_slab(): pages for a slab, its descriptor and free objects (not frozen, on no list).
    static slab *new_slab(kmem_cache *c, gfp_t gfp, int node);
    // discard_slab(): an empty slab's pages back to the page allocator.
    static void discard_slab(kmem_cache *c, slab *sl);
    // __free_slab(): the pages go back (after the grace period for SLAB_TYPESAFE_BY_RCU).
    static void free_slab(kmem_cache *c, slab *sl);
    // deactivate_slab(): a CPU's slab and its CPU freelist back to the node's lists.
    static void deactivate_slab(kmem_cache *c, slab *sl, objref freelist);
    // put_cpu_partial(): a slab that was full and got an object back goes on this CPU's
    // partial list; with `drain`, a list at the cache's limit goes to the nodes first.
    static void put_cpu_partial(kmem_cache *c, slab *sl, bool drain);
    // __put_partials(): a detached CPU partial list to the nodes' lists, discarding the
    // empty slabs a node does not need.
    static void put_partials(kmem_cache *c, slab *list);
    // Slabs on the CPUs' partial lists now (sysfs slabs_cpu_partial).
    static unsigned long cpu_partial_slabs(const kmem_cache *c);
    // flush_cpu_slab() for one CPU (its slab and its partial slabs), and for every CPU
    // (flush_all()).
    static void flush_cpu_slab(kmem_cache *c, unsigned cpu);
    static void flush_all(kmem_cache *c);
    // Frees every empty slab on the partial lists; returns how many.
    static unsigned long discard_empty_partials(kmem_cache *c);
    // Objects live in the cache's slabs (exact when nobody allocates or frees).
    static unsigned long live_objects(const kmem_cache *c);
    [[gnu::cold, gnu::noinline]] static void report_handed_out_twice(kmem_cache *c, void *obj);
    [[gnu::cold, gnu::noinline]] static void free_refused(kmem_cache *c, slab *sl, void *obj);
};

} // namespace gfplab
