// SPDX-License-Identifier: MIT
//
// Caches: kmem_cache_create() with 6.12's checks and layout (__kmem_cache_create_args,
// calculate_sizes, kmem_cache_open), kmem_cache_destroy() and kmem_cache_shrink(), the
// statistics, and the per-System state with its kmalloc caches (create_kmalloc_caches).
#include "../check/report.hpp"
#include "../internal.hpp"
#include "fastpath.hpp"
#include "memcontrol.hpp"

#include <gfplab/rcu.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/sysinfo.h>

namespace gfplab {
namespace {

// What kmem_cache_create() accepts: 6.12's SLAB_CORE_FLAGS | SLAB_DEBUG_FLAGS for this
// configuration (every defined bit; SLAB_KMALLOC is the kmalloc caches' own).
constexpr slab_flags_t slab_flags_permitted = (SLAB_RECLAIM_ACCOUNT << 1) - 1;

constexpr const char *kmalloc_prefix[NR_KMALLOC_TYPES] = {"kmalloc-", "kmalloc-rcl-",
                                                          "dma-kmalloc-", "kmalloc-cg-"};
constexpr slab_flags_t kmalloc_type_flags[NR_KMALLOC_TYPES] = {0, SLAB_RECLAIM_ACCOUNT,
                                                               SLAB_CACHE_DMA, SLAB_ACCOUNT};

std::string kmalloc_name(kmalloc_cache_type type, unsigned index) {
    const unsigned size = kmalloc_size(index);
    std::string n = kmalloc_prefix[type];
    return size >= 1024 ? n + std::to_string(size / 1024) + "k" : n + std::to_string(size);
}

std::uint64_t splitmix64(std::uint64_t &x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// calculate_sizes(): where the free pointer and the red zones go, the stride, the order.
bool calculate_sizes(kmem_cache &c, const kmem_cache_args &args, unsigned nr_cpus) {
    const unsigned word = sizeof(void *);
    unsigned size = (c.object_size + word - 1) & ~(word - 1);
    c.poison = (c.flags & SLAB_POISON) && !(c.flags & SLAB_TYPESAFE_BY_RCU) && !c.ctor;
    // A red zone needs room after the object even when the object fills its words.
    if ((c.flags & SLAB_RED_ZONE) && size == c.object_size)
        size += word;
    c.inuse = size;
    // The free pointer must not overlap what stays meaningful in a free object: a
    // constructed state, an RCU reader's view, the poison, a red zone too small for it.
    if (((c.flags & SLAB_TYPESAFE_BY_RCU) && !args.use_freeptr_offset) || (c.flags & SLAB_POISON) ||
        c.ctor || ((c.flags & SLAB_RED_ZONE) && c.object_size < word)) {
        c.offset = size;
        size += word;
    } else if ((c.flags & SLAB_TYPESAFE_BY_RCU) && args.use_freeptr_offset) {
        c.offset = args.freeptr_offset;
    } else {
        // In the middle of the object, where an overflow from the previous object does not
        // reach it first.
        c.offset = (c.object_size / 2) & ~(word - 1);
    }
    if (c.flags & SLAB_RED_ZONE) {
        size += word; // the kernel's padding word after the tracking data
        c.red_left_pad = (word + c.align - 1) & ~(c.align - 1);
        size += c.red_left_pad;
    }
    size = (size + c.align - 1) & ~(c.align - 1);
    c.size = size;
    const int order = calculate_order(size, nr_cpus);
    if (order < 0)
        return false;
    c.order = unsigned(order);
    c.objects = unsigned((PAGE_SIZE << order) / size);
    // The fallback: the smallest order that holds one object.
    c.min_order = size <= PAGE_SIZE ? 0 : unsigned(std::bit_width((size - 1ul) >> PAGE_SHIFT));
    c.min_objects = unsigned((PAGE_SIZE << c.min_order) / size);
    // Slab pages are compound pages from the zone and mobility the flags ask for.
    c.allocflags = __GFP_COMP;
    if (c.flags & SLAB_CACHE_DMA)
        c.allocflags |= GFP_DMA;
    if (c.flags & SLAB_CACHE_DMA32)
        c.allocflags |= GFP_DMA32;
    if (c.flags & SLAB_RECLAIM_ACCOUNT)
        c.allocflags |= __GFP_RECLAIMABLE;
    // set_min_partial(s, ilog2(s->size) / 2).
    c.min_partial =
        std::clamp<unsigned long>((std::bit_width(size) - 1) / 2, MIN_PARTIAL, MAX_PARTIAL);
    c.cpu_partial = set_cpu_partial(c.flags, size, c.objects);
    return true;
}

// The failure report of __kmem_cache_create_args(); SLAB_PANIC panics instead.
[[gnu::cold]] void create_failed(System &s, const char *name, slab_flags_t flags, int err,
                                 const char *why) {
    if (flags & SLAB_PANIC) {
        std::fprintf(stderr,
                     "Kernel panic - not syncing: kmem_cache_create: Failed to create "
                     "slab '%s'. Error %d (%s)\n",
                     name ? name : "(null)", err, why);
        std::abort();
    }
    refuse(s, invariant::bad_input, "kmem_cache_create failed", 0, -1, nullptr,
           "kmem_cache_create({}) failed with error {}: {}", name ? name : "(null)", err, why);
}

} // namespace

// --- the per-System state -----------------------------------------------------------------

slab_state::slab_state(System &s) : sys_(s), random_state_(s.serial() * 0x2545f4914f6cdd1dull) {
    mem_.mem_map = s.pfn_to_page(0);
    mem_.arena = static_cast<std::uint8_t *>(s.page_address(mem_.mem_map));
    mem_.bytes = std::uint64_t(s.max_pfn()) << PAGE_SHIFT;
    if (mem_.bytes > ((OBJ_LOCKED - 1) << 3))
        throw std::length_error("gfplab: the slab layer addresses at most 512 GiB");
    if (s.config().checking != check_level::off) {
        // One byte per 8 bytes, committed only where slabs are.
        void *m = mmap(nullptr, mem_.bytes / 8, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            throw std::bad_alloc();
        mem_.obj_map = static_cast<std::uint8_t *>(m);
    }
    memcg_ = std::make_unique<memcg_objects>(s);
    nchunks_ = (s.max_pfn() >> CHUNK_SHIFT) + 1;
    chunks_ = std::make_unique<std::atomic<slab *>[]>(nchunks_);
    // create_kmalloc_caches(): every type and size, aligned to their size when it is a
    // power of two (create_boot_cache), so kmalloc(64) is 64-byte aligned.
    for (unsigned t = 0; t < NR_KMALLOC_TYPES; t++) {
        for (unsigned i = 1; i <= KMALLOC_INDEX_MAX; i++) {
            if (!kmalloc_size(i))
                continue;
            const unsigned size = kmalloc_size(i);
            kmem_cache_args args{};
            args.align = std::has_single_bit(size) ? size : ARCH_KMALLOC_MINALIGN;
            const std::string name = kmalloc_name(kmalloc_cache_type(t), i);
            kmalloc_caches[t][i] = create_cache(s, *this, name.c_str(), size, &args,
                                                kmalloc_type_flags[t] | SLAB_KMALLOC | SLAB_PANIC);
        }
    }
}

void slab_state::wait_for_rcu_slabs() {
    if (rcu_slabs_pending.load(std::memory_order_acquire))
        rcu::barrier();
}

slab_state::~slab_state() {
    // The System's memory goes with the System: nothing is given back page by page.
    caches_.clear();
    for (std::size_t i = 0; i < nchunks_; i++)
        delete[] chunks_[i].load();
    if (mem_.obj_map)
        munmap(mem_.obj_map, mem_.bytes / 8);
}

slab &slab_state::descriptor(unsigned long pfn) {
    std::atomic<slab *> &chunk = chunks_[pfn >> CHUNK_SHIFT];
    slab *c = chunk.load(std::memory_order_acquire);
    if (!c) {
        slab *fresh = new slab[1u << CHUNK_SHIFT];
        if (chunk.compare_exchange_strong(c, fresh, std::memory_order_acq_rel))
            c = fresh;
        else
            delete[] fresh;
    }
    return c[pfn & ((1u << CHUNK_SHIFT) - 1)];
}

kmem_cache *slab_state::add_cache(std::unique_ptr<kmem_cache> c) {
    std::lock_guard g(slab_mutex_);
    caches_.push_back(std::move(c));
    return caches_.back().get();
}

void slab_state::remove_cache(kmem_cache *c) {
    std::lock_guard g(slab_mutex_);
    std::erase_if(caches_, [c](const auto &p) { return p.get() == c; });
}

std::vector<kmem_cache *> slab_state::caches() {
    std::lock_guard g(slab_mutex_);
    std::vector<kmem_cache *> v;
    for (auto &c : caches_)
        v.push_back(c.get());
    return v;
}

std::uint64_t slab_state::next_random() {
    std::lock_guard g(slab_mutex_);
    return splitmix64(random_state_);
}

const char *slab_cache_name(System &s, const page *head) noexcept {
    const slab *sl = slab_of(s).lookup(s.page_to_pfn(head));
    return sl && sl->cache ? sl->cache->name.c_str() : "?";
}

// --- creation and destruction -------------------------------------------------------------

kmem_cache *kmem_cache_create(System &s, const char *name, unsigned object_size,
                              const kmem_cache_args *args, slab_flags_t flags) {
    return create_cache(s, slab_of(s), name, object_size, args, flags);
}

kmem_cache *create_cache(System &s, slab_state &st, const char *name, unsigned object_size,
                         const kmem_cache_args *args_in, slab_flags_t flags) {
    kmem_cache_args args = args_in ? *args_in : kmem_cache_args{};
    if (!name || object_size == 0 || object_size > KMALLOC_MAX_SIZE) {
        create_failed(s, name, flags, -EINVAL,
                      !name ? "no name" : "object size must be 1 to KMALLOC_MAX_SIZE bytes");
        return nullptr;
    }
    if (flags & ~slab_flags_permitted) {
        create_failed(s, name, flags, -EINVAL, "flags outside SLAB_FLAGS_PERMITTED");
        return nullptr;
    }
    if ((flags & SLAB_CACHE_DMA) && (flags & SLAB_CACHE_DMA32)) {
        create_failed(s, name, flags, -EINVAL, "SLAB_CACHE_DMA and SLAB_CACHE_DMA32 together");
        return nullptr;
    }
    // Fail closed on a bad usercopy region (the kernel WARNs and drops it).
    if ((!args.usersize && args.useroffset) || object_size < args.usersize ||
        object_size - args.usersize < args.useroffset)
        args.usersize = args.useroffset = 0;
    if (args.use_freeptr_offset &&
        (args.freeptr_offset >= object_size || !(flags & SLAB_TYPESAFE_BY_RCU) ||
         args.freeptr_offset % sizeof(void *))) {
        create_failed(s, name, flags, -EINVAL,
                      "freeptr_offset needs SLAB_TYPESAFE_BY_RCU, word alignment and to lie "
                      "inside the object");
        return nullptr;
    }
    if (args.align & (args.align - 1)) {
        create_failed(s, name, flags, -EINVAL, "alignment is not a power of two");
        return nullptr;
    }
    auto c = std::make_unique<kmem_cache>();
    c->sys = &s;
    c->state = &st;
    c->mem = st.memory();
    c->name = name;
    c->flags = flags;
    c->object_size = object_size;
    c->ctor = args.ctor;
    c->align = calculate_alignment(flags, args.align, object_size);
    if (!calculate_sizes(*c, args, s.nr_cpus())) {
        create_failed(s, name, flags, -EINVAL, "no slab order holds an object");
        return nullptr;
    }
    c->red_zone = flags & SLAB_RED_ZONE;
    // init_on_alloc and init_on_free spare what must survive in a free object.
    const bool keeps_contents = c->ctor || (flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON));
    if (s.config().init_on_alloc) {
        if (c->ctor)
            c->zero_and = 0; // not even __GFP_ZERO: the constructed state wins
        else if (!keeps_contents)
            c->zero_or = __GFP_ZERO;
    }
    c->init_on_free = s.config().init_on_free && !keeps_contents;
    // SLAB_ACCOUNT: every object may be charged (memcg_slab_post_alloc_hook()).
    c->hooks = c->red_zone || c->poison || c->init_on_free || (flags & SLAB_ACCOUNT);
    c->free_hook.store(c->hooks, std::memory_order_relaxed);
    c->track = s.config().checking != check_level::off;
    c->random = st.next_random() & OBJREF_MASK;
    // rseq mode indexes the CPU freelists by the kernel's CPU number, as the per-CPU page
    // lists do: one per possible CPU, and only if the lists have that many.
    const pcp::area &pcp = s.pcp_area();
    c->rseq = GFPLAB_HAVE_RSEQ && pcp.uses_rseq() && pcp.ncpus() >= unsigned(get_nprocs_conf());
    c->ncpus = c->rseq ? pcp.ncpus() : s.nr_cpus();
    c->cpu = std::make_unique<kmem_cache_cpu[]>(c->ncpus);
    for (int n = 0; n < s.nr_nodes(); n++)
        c->node.push_back(std::make_unique<kmem_cache_node>());
    return st.add_cache(std::move(c));
}

kmem_cache *kmem_cache_create(System &s, const char *name, unsigned size, unsigned align,
                              slab_flags_t flags, void (*ctor)(void *)) {
    kmem_cache_args args{};
    args.align = align;
    args.ctor = ctor;
    return kmem_cache_create(s, name, size, &args, flags);
}

System &kmem_cache_system(const kmem_cache *c) noexcept {
    return *c->sys;
}

kmem_cache *kmalloc_cache(System &s, kmalloc_cache_type type, unsigned index) noexcept {
    return type < NR_KMALLOC_TYPES && index <= KMALLOC_INDEX_MAX
               ? slab_of(s).kmalloc_caches[type][index]
               : nullptr;
}

kmem_cache_info kmem_cache_stats(const kmem_cache *c) {
    kmem_cache_info i;
    i.name = c->name;
    i.flags = c->flags;
    i.object_size = c->object_size;
    i.size = c->size;
    i.align = c->align;
    i.offset = c->offset;
    i.inuse = c->inuse;
    i.red_left_pad = c->red_left_pad;
    i.order = c->order;
    i.objects = c->objects;
    i.min_order = c->min_order;
    i.min_partial = c->min_partial;
    i.allocflags = c->allocflags;
    i.cpu_partial = c->cpu_partial;
    i.slabs_cpu_partial = slab_allocator::cpu_partial_slabs(c);
    for (unsigned cpu = 0; cpu < c->ncpus; cpu++)
        for (unsigned k = 0; k < NR_SLUB_STAT_ITEMS; k++)
            i.stat[k] += c->cpu[cpu].stat[k].load(std::memory_order_relaxed);
    i.rseq = c->rseq;
    for (const auto &n : c->node) {
        i.num_slabs += n->nr_slabs.load(std::memory_order_relaxed);
        i.num_objs += n->total_objects.load(std::memory_order_relaxed);
        i.partial_slabs += n->nr_partial.load(std::memory_order_relaxed);
    }
    i.active_objs = slab_allocator::live_objects(c);
    return i;
}

slab_totals slab_statistics(System &s) {
    slab_totals t;
    slab_state &st = slab_of(s);
    for (kmem_cache *c : st.caches()) {
        t.caches++;
        for (const auto &n : c->node) {
            const unsigned long slabs = n->nr_slabs.load(std::memory_order_relaxed);
            t.slabs += slabs;
            t.slab_pages += slabs << c->order;
        }
    }
    t.large_kmalloc_pages = st.large_kmalloc_pages.load(std::memory_order_relaxed);
    return t;
}

std::vector<kmem_cache_info> slabinfo(System &s) {
    std::vector<kmem_cache_info> v;
    for (kmem_cache *c : slab_of(s).caches())
        v.push_back(kmem_cache_stats(c));
    return v;
}

unsigned long kmem_cache_shrink_all(System &s) {
    unsigned long freed = 0;
    for (kmem_cache *c : slab_of(s).caches()) {
        slab_allocator::flush_all(c);
        freed += slab_allocator::discard_empty_partials(c);
    }
    return freed;
}

} // namespace gfplab

using gfplab::kmem_cache;
using gfplab::slab_allocator;

extern "C" {

// shutdown_cache(): every CPU's slab back, the empty slabs freed; objects still live make
// it a caller bug (the kernel WARNs and keeps the cache), reported and refused here.
void kmem_cache_destroy(kmem_cache *c) {
    if (!c)
        return;
    // In-flight kfree_rcu()s may hold objects of this cache (6.12 waits here too).
    gfplab::kvfree_rcu_barrier(*c->sys);
    slab_allocator::flush_all(c);
    slab_allocator::discard_empty_partials(c);
    if (const unsigned long live = slab_allocator::live_objects(c)) {
        unsigned long slabs = 0;
        for (const auto &n : c->node)
            slabs += n->nr_slabs.load();
        c->destroyed_with_objects = true;
        gfplab::refuse(*c->sys, gfplab::invariant::bad_input, "destroy with live objects", 0, -1,
                       nullptr,
                       "kmem_cache_destroy {}: Slab cache still has objects ({} objects in {} "
                       "slabs); the cache is kept",
                       c->name, live, slabs);
        return;
    }
    // Its last slabs may still wait for a grace period, and they point at it.
    if (c->flags & SLAB_TYPESAFE_BY_RCU)
        gfplab::slab_of(*c->sys).wait_for_rcu_slabs();
    gfplab::slab_of(*c->sys).remove_cache(c);
}

int kmem_cache_shrink(kmem_cache *c) {
    slab_allocator::flush_all(c);
    slab_allocator::discard_empty_partials(c);
    return 0;
}

unsigned int kmem_cache_size(kmem_cache *c) {
    return c->object_size;
}

} // extern "C"
