// SPDX-License-Identifier: MIT
//
// The object checks (I17) and the slab page check (I18): the hooked allocation path (a bad
// mask fixed up as kmalloc_fix_flags() does, might_alloc's lock check, failslab, a node, the
// memcg charge), SLUB's
// debug features SLAB_RED_ZONE and SLAB_POISON (init_object(), check_object()) and the
// reports of a free the oracle refuses.
#include "../check/report.hpp"
#include "../internal.hpp"
#include "fastpath.hpp"
#include "memcontrol.hpp"

#include <gfplab/gfp.hpp>

namespace gfplab {
namespace {

// The kernel's poison bytes (include/linux/poison.h).
constexpr std::uint8_t POISON_FREE = 0x6b;
constexpr std::uint8_t POISON_END = 0xa5;
constexpr std::uint8_t SLUB_RED_INACTIVE = 0xbb;
constexpr std::uint8_t SLUB_RED_ACTIVE = 0xcc;

// The first byte in [p, p + n) that is not v, or null.
const std::uint8_t *first_not(const std::uint8_t *p, std::size_t n, std::uint8_t v) {
    for (std::size_t i = 0; i < n; i++)
        if (p[i] != v)
            return p + i;
    return nullptr;
}

void set_red_zones(const kmem_cache &c, std::uint8_t *obj, std::uint8_t v) {
    std::memset(obj - c.red_left_pad, v, c.red_left_pad);
    std::memset(obj + c.object_size, v, c.inuse - c.object_size);
}

// check_bytes_and_report() for both red zones: one report per damaged zone.
void check_red_zones(kmem_cache &c, std::uint8_t *obj, std::uint8_t want, const char *when) {
    if (const std::uint8_t *bad = first_not(obj - c.red_left_pad, c.red_left_pad, want))
        report(*c.sys, invariant::slab_object, "red zone overwritten", 0, -1, nullptr,
               "{} object {} of cache '{}' {}: Left Redzone overwritten at offset -{} "
               "(byte {:#04x}, want {:#04x})",
               when, fmt::ptr(obj), c.name, when, obj - bad, *bad, want);
    if (const std::uint8_t *bad = first_not(obj + c.object_size, c.inuse - c.object_size, want))
        report(*c.sys, invariant::slab_object, "red zone overwritten", 0, -1, nullptr,
               "{} object {} of cache '{}': Right Redzone overwritten at offset {} (byte "
               "{:#04x}, want {:#04x}; object size {})",
               when, fmt::ptr(obj), c.name, bad - obj, *bad, want, c.object_size);
}

} // namespace

void slab_allocator::init_object_free(kmem_cache *c, void *obj) {
    auto *o = static_cast<std::uint8_t *>(obj);
    if (c->red_zone)
        set_red_zones(*c, o, SLUB_RED_INACTIVE);
    if (c->poison) {
        std::memset(o, POISON_FREE, c->object_size - 1);
        o[c->object_size - 1] = POISON_END;
    }
}

void slab_allocator::alloc_hooks(kmem_cache *c, void *obj) {
    auto *o = static_cast<std::uint8_t *>(obj);
    // maybe_wipe_obj_freeptr(): an object zeroed on free is handed out all zero.
    if (c->init_on_free && c->offset < c->inuse)
        std::memset(o + c->offset, 0, sizeof(objref));
    if (c->red_zone) {
        check_red_zones(*c, o, SLUB_RED_INACTIVE, "allocating");
        set_red_zones(*c, o, SLUB_RED_ACTIVE);
    }
    // A write into a free object (a use after free) shows in its poison.
    if (c->poison) {
        const std::uint8_t *bad = first_not(o, c->object_size - 1, POISON_FREE);
        if (!bad && o[c->object_size - 1] != POISON_END)
            bad = o + c->object_size - 1;
        if (bad)
            report(*c->sys, invariant::slab_object, "use after free", 0, -1, nullptr,
                   "allocating object {} of cache '{}': Poison overwritten at offset {} (byte "
                   "{:#04x}): the object was written after it was freed",
                   fmt::ptr(obj), c->name, bad - o, *bad);
    }
}

void slab_allocator::free_hooks(kmem_cache *c, void *obj) {
    // slab_free(): the memcg uncharge before the debug hooks.
    memcg_slab_free_hook(c, obj);
    auto *o = static_cast<std::uint8_t *>(obj);
    if (c->red_zone)
        check_red_zones(*c, o, SLUB_RED_ACTIVE, "freeing");
    if (c->init_on_free)
        std::memset(o, 0, c->object_size);
    init_object_free(c, obj);
}

// kmalloc_fix_flags(): a zone the slab cannot use, or bits outside the mask, are a caller
// bug; the kernel warns and serves the request without them. 6.12 looks only when a new
// slab or a large kmalloc needs pages; the oracle looks at every request.
gfp_t kmalloc_fix_flags(System &s, gfp_t flags, std::string_view who) {
    const gfp_t invalid = flags & GFP_SLAB_BUG_MASK;
    flags &= ~GFP_SLAB_BUG_MASK;
    refuse(s, invariant::bad_input, "invalid slab mask", invalid, -1, nullptr,
           "{}: Unexpected gfp: {:#x} ({}). Fixing up to gfp: {:#x} ({}). Fix your code!", who,
           invalid, gfp_format(invalid), flags, gfp_format(flags));
    return flags;
}

void *slab_allocator::alloc_hooked(kmem_cache *c, gfp_t gfp, int node, std::size_t) {
    System &s = *c->sys;
    if (gfp & GFP_SLAB_BUG_MASK) [[unlikely]]
        gfp = kmalloc_fix_flags(s, gfp, c->name);
    if (node != NUMA_NO_NODE && (node < 0 || node >= s.nr_nodes())) [[unlikely]] {
        refuse(s, invariant::bad_input, "invalid node", gfp, -1, nullptr,
               "cache '{}': node {} does not exist (the System has {})", c->name, node,
               s.nr_nodes());
        return nullptr;
    }
    // might_alloc(): a request that may enter reclaim, made under a lock a shrinker takes.
    if (detail::t_held_count) {
        if (gfp & __GFP_DIRECT_RECLAIM)
            check_might_sleep(s, "kmem_cache_alloc", gfp, 0, srcloc::current());
        check_reclaim_recursion(s, current_gfp_context(gfp), 0, srcloc::current());
    }
    // should_failslab(), in slab_pre_alloc_hook().
    if (s.failslab().should_failslab(gfp, c->flags & SLAB_FAILSLAB, c->object_size))
        return nullptr;
    void *obj = node == NUMA_NO_NODE ? alloc_from_cpu(c, gfp) : __slab_alloc(c, gfp, node);
    if (!obj)
        return nullptr;
    if (c->hooks)
        alloc_hooks(c, obj);
    post_alloc(c, obj, gfp);
    // slab_post_alloc_hook()'s last step: a charge the group refuses fails the allocation.
    if (!memcg_slab_post_alloc_hook(c, gfp, obj)) [[unlikely]] {
        memcg_alloc_abort_single(c, obj);
        return nullptr;
    }
    return obj;
}

void slab_allocator::check_slab_page(kmem_cache *c, const page *p, unsigned order) {
    System &s = *c->sys;
    if (s.config().checking == check_level::off)
        return;
    // Derived from the cache's flags, not from allocflags: a wrong allocflags shows.
    const zone_type highest = (c->flags & SLAB_CACHE_DMA)     ? ZONE_DMA
                              : (c->flags & SLAB_CACHE_DMA32) ? ZONE_DMA32
                                                              : ZONE_NORMAL;
    const migratetype mt =
        (c->flags & SLAB_RECLAIM_ACCOUNT) ? MIGRATE_RECLAIMABLE : MIGRATE_UNMOVABLE;
    const std::uint32_t flags = p->flags.load(std::memory_order_relaxed);
    if (zone_type(p->zone) > highest || p->alloc_mt.load(std::memory_order_relaxed) != mt ||
        (order && !(flags & PG_head)))
        report(s, invariant::slab_page, "slab page misplaced", c->allocflags, int(order), p,
               "cache '{}': a slab of order {} in zone {} with migratetype {}{}; the flags want "
               "a zone at most {} and migratetype {}",
               c->name, order, int(p->zone), int(p->alloc_mt.load()),
               (order && !(flags & PG_head)) ? " and no compound head" : "", int(highest), int(mt));
}

void slab_allocator::report_handed_out_twice(kmem_cache *c, void *obj) {
    report(*c->sys, invariant::slab_object, "object handed out twice", 0, -1, nullptr,
           "cache '{}': object {} was given out while it is still allocated", c->name,
           fmt::ptr(obj));
}

// The reasons in the order a reader wants them: the wrong cache, not an object's start,
// then not allocated (a double free).
void slab_allocator::free_refused(kmem_cache *c, slab *sl, void *obj) {
    System &s = *c->sys;
    kmem_cache *owner = sl->cache;
    if (owner != c) {
        refuse(s, invariant::slab_object, "wrong cache", 0, -1, nullptr,
               "kmem_cache_free({}, {}): Wrong slab cache. {} but object is from {}", c->name,
               fmt::ptr(obj), c->name, owner ? owner->name : "(none)");
        return;
    }
    const auto off = std::uint64_t(static_cast<std::uint8_t *>(obj) - sl->base);
    if (static_cast<std::uint8_t *>(obj) < sl->base || off % c->size ||
        off / c->size >= sl->objects) {
        refuse(s, invariant::slab_object, "not an object start", 0, -1, nullptr,
               "free of {} in cache '{}': not the start of an object (offset {} in a slab of "
               "{}-byte objects)",
               fmt::ptr(obj), c->name, std::int64_t(off), c->size);
        return;
    }
    refuse(s, invariant::slab_object, "double free", 0, -1, nullptr,
           "free of {} in cache '{}': the object is not allocated (object {} of its slab)",
           fmt::ptr(obj), c->name, off / c->size);
}

} // namespace gfplab
