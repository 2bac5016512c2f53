// SPDX-License-Identifier: MIT
//
// SLUB's slow paths (mm/slub.c 6.12): ___slab_alloc() (the CPU's slab, then a partial slab
// of the node, then a new slab allocated with no lock held), __slab_free() (an object back
// into a slab that is not the CPU's, with the node list moves it implies),
// deactivate_slab(), new_slab()/allocate_slab(), discard_slab(), flush_all().
//
// With CONFIG_SLUB_CPU_PARTIAL=y, as distributions build it: besides its slab a CPU keeps a
// list of partial slabs, unfrozen and on no node list. A full slab that gets an object back
// goes on the freeing CPU's list, and a CPU that runs out takes from its list before the
// node's (whose lock it then also tops its list up under), so most moves take no list_lock.
// Debug caches keep no such list (set_cpu_partial()).
#include "../check/report.hpp"
#include "fastpath.hpp"

#include <gfplab/gfp.hpp>
#include <gfplab/rcu.hpp>

namespace gfplab {
namespace {

// Takes CPU cpu's word for the slow path (its lock held): LOCKED, so that racing fast
// paths fail and come here. Returns the word as it was.
std::uint64_t lock_cpu_word(kmem_cache *c, unsigned cpu) {
    kmem_cache_cpu &cc = c->cpu[cpu];
#if GFPLAB_HAVE_RSEQ
    if (c->rseq) {
        std::uint64_t old;
        // On that CPU: a sequence of its own, serialised with the CPU's fast paths.
        if (slab_rseq::lock_word(*c, cpu, &old)) [[likely]]
            return old;
        // Elsewhere: the CPU's sequences store plainly, so a compare-and-swap may be
        // overwritten by one that read the word before it. The fence restarts every
        // sequence still running there; if the word is still ours after it, none committed
        // over it, and none that starts later will (they see LOCKED).
        for (;;) {
            old = cc.word.load(std::memory_order_acquire);
            const std::uint64_t mine =
                OBJ_LOCKED | ((old & ~OBJREF_MASK) + slab_allocator::TID_ONE);
            if (!cc.word.compare_exchange_strong(old, mine, std::memory_order_seq_cst))
                continue;
            pcp::rseq_fence_cpu(cpu);
            if (cc.word.load(std::memory_order_seq_cst) == mine)
                return old;
        }
    }
#endif
    std::uint64_t w = cc.word.load(std::memory_order_acquire);
    while (!cc.word.compare_exchange_weak(
        w, OBJ_LOCKED | ((w & ~OBJREF_MASK) + slab_allocator::TID_ONE),
        std::memory_order_acq_rel)) {
    }
    return w;
}

// Publishes the CPU's new freelist (the slab pointer was stored before).
void unlock_cpu_word(kmem_cache_cpu &cc, objref freelist) {
    const std::uint64_t w = cc.word.load(std::memory_order_relaxed);
    cc.word.store(freelist | ((w & ~OBJREF_MASK) + slab_allocator::TID_ONE),
                  std::memory_order_release);
}

// One of CPU cc's slow-path events (slub_stat_item).
void count(kmem_cache_cpu &cc, slub_stat_item i) {
    slab_allocator::count_stat(cc, i);
}

kmem_cache_node &node_of(kmem_cache *c, const slab *sl) {
    return *c->node[sl->node];
}

void add_partial(kmem_cache_node &n, slab *sl) GFPLAB_REQUIRES(n.list_lock) {
    sl->prev = nullptr;
    sl->next = n.partial;
    if (n.partial)
        n.partial->prev = sl;
    n.partial = sl;
    sl->on_partial = true;
    n.nr_partial.store(n.nr_partial.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void remove_partial(kmem_cache_node &n, slab *sl) GFPLAB_REQUIRES(n.list_lock) {
    if (sl->prev)
        sl->prev->next = sl->next;
    else
        n.partial = sl->next;
    if (sl->next)
        sl->next->prev = sl->prev;
    sl->next = sl->prev = nullptr;
    sl->on_partial = false;
    n.nr_partial.store(n.nr_partial.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

// Takes every free object of a slab for a CPU: the slab's whole freelist, inuse at
// objects. get_freelist() (the CPU's own slab: frees from other CPUs gathered there) leaves
// it frozen only if it had objects, so that an empty-handed CPU drops a full slab that is on
// no list; freeze_slab() (a slab just taken off the partial list) always freezes it.
objref take_freelist(slab *sl, bool freeze) {
    std::uint64_t old = sl->state.load(std::memory_order_acquire);
    for (;;) {
        slab_word w = unpack(old);
        const objref fl = w.freelist;
        w.freelist = OBJ_NIL;
        w.inuse = sl->objects;
        w.frozen = freeze || fl != OBJ_NIL;
        if (sl->state.compare_exchange_weak(old, pack(w), std::memory_order_acq_rel))
            return fl;
    }
}
objref get_freelist(slab *sl) {
    return take_freelist(sl, false);
}
objref freeze_slab(slab *sl) {
    return take_freelist(sl, true);
}

// Puts sl at the head of CPU cc's partial list; with `drain`, a list already at the
// cache's limit is detached first and returned, for the caller to give back to the nodes
// once it has let go of the CPU's lock (put_cpu_partial()).
slab *add_cpu_partial(kmem_cache *c, kmem_cache_cpu &cc, slab *sl, bool drain)
    GFPLAB_REQUIRES(cc.lock) {
    slab *old = cc.partial;
    slab *to_put = nullptr;
    unsigned slabs = 0;
    if (old) {
        if (drain && old->slabs >= c->cpu_partial.slabs) {
            to_put = old;
            old = nullptr;
        } else {
            slabs = old->slabs;
        }
    }
    sl->slabs = std::uint16_t(slabs + 1);
    sl->next = old;
    cc.partial = sl;
    return to_put;
}

// get_partial_node() for one node: the first partial slab, off the list, for the CPU; with
// CPU partial lists, up to half the limit more go onto cc's (whose lock the caller holds).
slab *get_partial_node(kmem_cache *c, kmem_cache_cpu &cc, kmem_cache_node &n)
    GFPLAB_REQUIRES(cc.lock) {
    if (!n.nr_partial.load(std::memory_order_relaxed))
        return nullptr; // the kernel's racy peek before taking the lock
    sync::lock_guard g(n.list_lock);
    slab *first = n.partial;
    if (!first)
        return nullptr;
    remove_partial(n, first);
    for (unsigned moved = 0; c->cpu_partial.slabs && n.partial;) {
        slab *sl = n.partial;
        remove_partial(n, sl);
        add_cpu_partial(c, cc, sl, false);
        count(cc, CPU_PARTIAL_NODE);
        if (++moved > c->cpu_partial.slabs / 2)
            break;
    }
    return first;
}

// get_partial(): the requested (or this CPU's) node, then any other unless __GFP_THISNODE.
slab *get_partial(kmem_cache *c, kmem_cache_cpu &cc, gfp_t gfp, int node, int local)
    GFPLAB_REQUIRES(cc.lock) {
    const int first = node == NUMA_NO_NODE ? local : node;
    if (slab *sl = get_partial_node(c, cc, *c->node[first]))
        return sl;
    if (node != NUMA_NO_NODE && (gfp & __GFP_THISNODE))
        return nullptr;
    for (int n = 0; n < int(c->node.size()); n++)
        if (n != first)
            if (slab *sl = get_partial_node(c, cc, *c->node[n]))
                return sl;
    return nullptr;
}

} // namespace

void *slab_allocator::__slab_alloc(kmem_cache *c, gfp_t gfp, int node) {
    System &s = *c->sys;
    const unsigned cpu = unsigned(&this_cpu(*c) - c->cpu.get());
    kmem_cache_cpu &cc = c->cpu[cpu];
    const int local = s.cpu_to_node(cpu);
    {
        sync::lock_guard g(cc.lock);
        count(cc, ALLOC_SLOWPATH);
        objref fl = lock_cpu_word(c, cpu) & OBJREF_MASK;
        slab *sl = cc.cpu_slab.load(std::memory_order_relaxed);
        // A request for another node gives the CPU's slab back (node_match()).
        if (sl && node != NUMA_NO_NODE && sl->node != node) {
            count(cc, ALLOC_NODE_MISMATCH);
            cc.cpu_slab.store(nullptr, std::memory_order_relaxed);
            deactivate_slab(c, sl, fl);
            sl = nullptr;
            fl = OBJ_NIL;
        }
        if (fl == OBJ_NIL && sl) {
            fl = get_freelist(sl);
            if (fl == OBJ_NIL) { // full: it leaves the CPU, on no list
                count(cc, DEACTIVATE_FULL);
                cc.cpu_slab.store(nullptr, std::memory_order_relaxed);
                sl = nullptr;
            } else {
                count(cc, ALLOC_REFILL);
            }
        }
        // The CPU's partial slabs before the node's: no list_lock (CONFIG_SLUB_CPU_PARTIAL).
        while (fl == OBJ_NIL && cc.partial) {
            slab *p = cc.partial;
            cc.partial = p->next;
            p->next = nullptr;
            if (node == NUMA_NO_NODE || p->node == node) {
                fl = freeze_slab(p); // it has objects: only a CPU slab's are handed out
                cc.cpu_slab.store(p, std::memory_order_relaxed);
                count(cc, CPU_PARTIAL_ALLOC);
            } else {
                put_partials(c, p); // another node's: back to its list
            }
        }
        if (fl == OBJ_NIL) {
            if ((sl = get_partial(c, cc, gfp, node, local))) {
                fl = freeze_slab(sl);
                cc.cpu_slab.store(sl, std::memory_order_relaxed);
                count(cc, ALLOC_FROM_PARTIAL);
            }
        }
        if (fl != OBJ_NIL) {
            void *obj = to_ptr(c->mem, fl);
            unlock_cpu_word(cc, get_freepointer(*c, obj));
            return obj;
        }
        unlock_cpu_word(cc, OBJ_NIL);
    }
    // new_slab() with no lock held: the page allocator may reclaim, and reclaim may free
    // objects of this very cache on this CPU.
    slab *sl = new_slab(c, gfp, node);
    if (!sl)
        return nullptr;
    objref fl = freeze_slab(sl);
    sync::lock_guard g(cc.lock);
    count(cc, ALLOC_SLAB);
    const std::uint64_t old = lock_cpu_word(c, cpu);
    // Someone installed a slab meanwhile: it goes back (the kernel's retry_load_slab).
    if (slab *other = cc.cpu_slab.load(std::memory_order_relaxed))
        deactivate_slab(c, other, old & OBJREF_MASK);
    cc.cpu_slab.store(sl, std::memory_order_relaxed);
    void *obj = to_ptr(c->mem, fl);
#ifdef GFPLAB_PLANTED_BUG_SLAB_DOUBLE_HANDOUT
    // Planted bug (-Dplanted_bug, the -bug- binaries only, docs/oracle.md): the new slab's
    // first object is handed out but left at the head of the per-CPU freelist, so the next
    // allocation on this CPU hands it out again.
    unlock_cpu_word(cc, fl);
#else
    unlock_cpu_word(cc, get_freepointer(*c, obj));
#endif
    return obj;
}

void slab_allocator::__slab_free(kmem_cache *c, slab *sl, void *head, void *tail, unsigned cnt) {
    stat(c, FREE_SLOWPATH);
    kmem_cache_node &n = node_of(c, sl);
    const objref head_ref = to_ref(c->mem, head);
    bool locked = false;
    bool on_node_partial = false;
    std::uint64_t old = sl->state.load(std::memory_order_acquire);
    slab_word prior, next;
    for (;;) {
        prior = unpack(old);
        set_freepointer(*c, tail, prior.freelist);
        next = prior;
        next.inuse -= cnt;
        next.freelist = head_ref;
        // An unfrozen slab that becomes empty, or stops being full, may have to move
        // between lists: the list_lock is taken before the change is made visible. A full
        // one goes to this CPU's partial list instead, where there are such lists.
        if ((!next.inuse || prior.freelist == OBJ_NIL) && !prior.frozen && !locked &&
            (!c->cpu_partial.slabs || prior.freelist != OBJ_NIL)) {
            n.list_lock.lock();
            locked = true;
            on_node_partial = sl->on_partial;
        }
        if (sl->state.compare_exchange_weak(old, pack(next), std::memory_order_acq_rel))
            break;
        if (locked) {
            n.list_lock.unlock();
            locked = false;
        }
    }
    if (!locked) {
        // A full slab that got an object back: this CPU's partial list.
        if (prior.frozen) {
            stat(c, FREE_FROZEN);
        } else if (prior.freelist == OBJ_NIL && c->cpu_partial.slabs) {
            put_cpu_partial(c, sl, true);
            stat(c, CPU_PARTIAL_FREE);
        }
        return; // else a partial one that stays partial
    }
    // Partial but not on the list: on a CPU's partial list, or a deactivation is about to
    // put it on the node's.
    if (prior.freelist != OBJ_NIL && !on_node_partial) {
        n.list_lock.unlock();
        return;
    }
    if (!next.inuse && n.nr_partial.load(std::memory_order_relaxed) >= c->min_partial) {
        if (prior.freelist != OBJ_NIL) {
            remove_partial(n, sl);
            stat(c, FREE_REMOVE_PARTIAL);
        }
        n.list_lock.unlock();
        discard_slab(c, sl);
        return;
    }
    if (prior.freelist == OBJ_NIL) {
        add_partial(n, sl); // was full: now partial
        stat(c, FREE_ADD_PARTIAL);
    }
    n.list_lock.unlock();
}

void slab_allocator::deactivate_slab(kmem_cache *c, slab *sl, objref freelist) {
    // Stage one: the CPU freelist's length and tail.
    unsigned free_delta = 0;
    void *tail = nullptr;
    for (objref r = freelist; r != OBJ_NIL;) {
        tail = to_ptr(c->mem, r);
        free_delta++;
        r = get_freepointer(*c, tail);
    }
    // Stage two: unfreeze while splicing it in front of the slab's freelist.
    std::uint64_t old = sl->state.load(std::memory_order_acquire);
    slab_word next;
    for (;;) {
        const slab_word prior = unpack(old);
        next = prior;
        next.frozen = false;
        if (tail) {
            next.inuse -= free_delta;
            set_freepointer(*c, tail, prior.freelist);
            next.freelist = freelist;
        }
        if (sl->state.compare_exchange_weak(old, pack(next), std::memory_order_acq_rel))
            break;
    }
    // Stage three: the list it now belongs on.
    kmem_cache_node &n = node_of(c, sl);
    if (!next.inuse && n.nr_partial.load(std::memory_order_relaxed) >= c->min_partial) {
        stat(c, DEACTIVATE_EMPTY);
        discard_slab(c, sl);
    } else if (next.freelist != OBJ_NIL) {
        sync::lock_guard g(n.list_lock);
        add_partial(n, sl);
    } // else full: on no list until an object comes back
}

slab *slab_allocator::new_slab(kmem_cache *c, gfp_t gfp, int node) {
    System &s = *c->sys;
    // new_slab()'s WARN: zeroing an object destroys what its constructor built.
    if (c->ctor && (gfp & __GFP_ZERO)) [[unlikely]]
        refuse(s, invariant::bad_input, "__GFP_ZERO with a constructor", gfp, -1, nullptr,
               "cache '{}' has a constructor: zeroing its objects destroys what it built", c->name);
    // allocate_slab(): only the reclaim and placement bits of the request, plus the cache's.
    const gfp_t flags = (gfp & (GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK)) | c->allocflags;
    // The preferred order may fail quietly and without hard work under pressure...
    gfp_t alloc_gfp = (flags | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_NOFAIL;
    if ((alloc_gfp & __GFP_DIRECT_RECLAIM) && c->order > c->min_order)
        alloc_gfp = (alloc_gfp | __GFP_NOMEMALLOC) & ~__GFP_RECLAIM;
    unsigned order = c->order;
    page *p = s.alloc_pages_node(node, alloc_gfp, order);
    if (!p) {
        // ...then the smallest order that holds an object, as the caller asked.
        order = c->min_order;
        stat(c, ORDER_FALLBACK);
        p = s.alloc_pages_node(node, flags, order);
        if (!p)
            return nullptr;
    }
    const unsigned long pfn = s.page_to_pfn(p);
    slab &sl = c->state->descriptor(pfn);
    const unsigned objects = unsigned((PAGE_SIZE << order) / c->size);
    sl.cache = c;
    sl.objects = std::uint16_t(objects);
    sl.node = p->node;
    sl.next = sl.prev = nullptr;
    sl.on_partial = false;
    sl.base = static_cast<std::uint8_t *>(s.page_address(p)) + c->red_left_pad;
    check_slab_page(c, p, order);
    // The objects, constructed once for their whole life in the cache, chained in order.
    objref next = OBJ_NIL;
    for (unsigned i = objects; i-- > 0;) {
        void *obj = sl.base + std::size_t(i) * c->size;
        if (c->hooks)
            init_object_free(c, obj);
        if (c->ctor)
            c->ctor(obj);
        set_freepointer(*c, obj, next);
        next = to_ref(c->mem, obj);
    }
    sl.state.store(pack({next, 0, false}), std::memory_order_relaxed);
    kmem_cache_node &n = *c->node[sl.node];
    n.nr_slabs.fetch_add(1, std::memory_order_relaxed);
    n.total_objects.fetch_add(objects, std::memory_order_relaxed);
    // Publish the descriptor before the page says it is a slab (virt_to_slab reads them
    // in that order).
    set_page_flags(*p, PG_slab, std::memory_order_release);
    return &sl;
}

namespace {
// What waits for a grace period before a SLAB_TYPESAFE_BY_RCU slab's pages go (6.12 keeps
// the rcu_head in struct slab; here the descriptor's words are all in use, so it is a
// small record of its own).
struct rcu_slab_free {
    rcu::head rh;
    kmem_cache *c;
    slab *sl;
};
} // namespace

void slab_allocator::discard_slab(kmem_cache *c, slab *sl) {
    stat(c, FREE_SLAB);
    kmem_cache_node &n = node_of(c, sl);
    const unsigned objects = sl->objects;
    n.nr_slabs.fetch_sub(1, std::memory_order_relaxed);
    n.total_objects.fetch_sub(objects, std::memory_order_relaxed);
    if (c->flags & SLAB_TYPESAFE_BY_RCU) {
        // free_slab(): a reader may still be looking at an object of this slab (and must
        // find an object of this cache there) until a grace period has passed.
        slab_of(*c->sys).rcu_slabs_pending.fetch_add(1, std::memory_order_relaxed);
        rcu::call(&(new rcu_slab_free{{}, c, sl})->rh, [](rcu::head *h) {
            auto *w = reinterpret_cast<rcu_slab_free *>(h);
            slab_state &st = slab_of(*w->c->sys);
            free_slab(w->c, w->sl);
            st.rcu_slabs_pending.fetch_sub(1, std::memory_order_release);
            delete w;
        });
        return;
    }
    free_slab(c, sl);
}

void slab_allocator::free_slab(kmem_cache *c, slab *sl) {
    System &s = *c->sys;
    std::uint8_t *start = sl->base - c->red_left_pad;
    page *p = s.virt_to_page(start);
    const unsigned order = p->order;
    sl->cache = nullptr;
    clear_page_flags(*p, PG_slab);
#ifdef GFPLAB_PLANTED_BUG_SLAB_LEAK
    // Planted bug (-Dplanted_bug, the -bug- binaries only, docs/oracle.md): an empty slab
    // is unlinked and its counts dropped, but its pages never go back to the page allocator.
    (void)order;
    return;
#endif
    s.free_pages(p, order);
}

void slab_allocator::flush_cpu_slab(kmem_cache *c, unsigned cpu) {
    kmem_cache_cpu &cc = c->cpu[cpu];
    slab *sl;
    slab *partial;
    objref fl;
    {
        sync::lock_guard g(cc.lock);
        fl = lock_cpu_word(c, cpu) & OBJREF_MASK;
        sl = cc.cpu_slab.load(std::memory_order_relaxed);
        cc.cpu_slab.store(nullptr, std::memory_order_relaxed);
        unlock_cpu_word(cc, OBJ_NIL);
        partial = cc.partial;
        cc.partial = nullptr;
    }
    if (sl) {
        stat(c, CPUSLAB_FLUSH);
        deactivate_slab(c, sl, fl);
    }
    if (partial)
        put_partials(c, partial);
}

void slab_allocator::put_cpu_partial(kmem_cache *c, slab *sl, bool drain) {
    kmem_cache_cpu &cc = this_cpu(*c);
    slab *to_put;
    {
        sync::lock_guard g(cc.lock);
        to_put = add_cpu_partial(c, cc, sl, drain);
    }
    if (to_put) {
        put_partials(c, to_put);
        stat(c, CPU_PARTIAL_DRAIN);
    }
}

void slab_allocator::put_partials(kmem_cache *c, slab *list) {
    slab *discard = nullptr;
    while (list) {
        slab *sl = list;
        list = sl->next;
        kmem_cache_node &n = node_of(c, sl);
        sync::lock_guard g(n.list_lock);
        // Emptied while it waited on the CPU: gone, when the node has enough partial slabs.
        if (!unpack(sl->state.load(std::memory_order_acquire)).inuse &&
            n.nr_partial.load(std::memory_order_relaxed) >= c->min_partial) {
            sl->next = discard;
            discard = sl;
        } else {
            add_partial(n, sl);
        }
    }
    while (discard) {
        slab *sl = discard;
        discard = sl->next;
        discard_slab(c, sl);
    }
}

unsigned long slab_allocator::cpu_partial_slabs(const kmem_cache *c) {
    unsigned long total = 0;
    for (unsigned cpu = 0; cpu < c->ncpus; cpu++) {
        kmem_cache_cpu &cc = c->cpu[cpu];
        sync::lock_guard g(cc.lock);
        if (cc.partial)
            total += cc.partial->slabs;
    }
    return total;
}

void slab_allocator::flush_all(kmem_cache *c) {
    for (unsigned cpu = 0; cpu < c->ncpus; cpu++)
        flush_cpu_slab(c, cpu);
}

unsigned long slab_allocator::discard_empty_partials(kmem_cache *c) {
    unsigned long freed = 0;
    for (auto &np : c->node) {
        kmem_cache_node &n = *np;
        slab *empty = nullptr;
        {
            sync::lock_guard g(n.list_lock);
            for (slab *sl = n.partial, *next; sl; sl = next) {
                next = sl->next;
                if (unpack(sl->state.load(std::memory_order_acquire)).inuse == 0) {
                    remove_partial(n, sl);
                    sl->next = empty;
                    empty = sl;
                }
            }
        }
        // Off the list and empty: nobody can reach them any more.
        for (slab *sl = empty, *next; sl; sl = next) {
            next = sl->next;
            discard_slab(c, sl);
            freed++;
        }
    }
    return freed;
}

unsigned long slab_allocator::live_objects(const kmem_cache *c) {
    unsigned long total = 0, free = 0;
    for (const auto &np : c->node) {
        kmem_cache_node &n = *np;
        total += n.total_objects.load(std::memory_order_relaxed);
        sync::lock_guard g(n.list_lock);
        for (const slab *sl = n.partial; sl; sl = sl->next)
            free += sl->objects - unpack(sl->state.load(std::memory_order_acquire)).inuse;
    }
    return total > free ? total - free : 0;
}

} // namespace gfplab
