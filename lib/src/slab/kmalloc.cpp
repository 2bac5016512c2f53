// SPDX-License-Identifier: MIT
//
// The kmem_cache_* calls and the kmalloc family (mm/slub.c and mm/slab_common.c 6.12):
// kmalloc through its size classes and types, large kmalloc straight from the page
// allocator, kfree()/ksize() that find the cache from the page, krealloc(), kstrdup().
#include "../check/report.hpp"
#include "fastpath.hpp"

#include <gfplab/gfp.hpp>
#include <gfplab/vmalloc.hpp>

#include <cstring>
#include <limits>

namespace gfplab {
namespace {

// ___kmalloc_large_node(): a compound page of the smallest order that holds size.
void *kmalloc_large(System &s, std::size_t size, gfp_t flags, int node) {
    if (flags & GFP_SLAB_BUG_MASK) [[unlikely]]
        flags = kmalloc_fix_flags(s, flags, "kmalloc-large");
    unsigned order = 0;
    while ((PAGE_SIZE << order) < size && order <= MAX_PAGE_ORDER)
        order++;
    // Above MAX_PAGE_ORDER the page allocator warns (unless __GFP_NOWARN) and fails.
    if (order > MAX_PAGE_ORDER) {
        if (!(flags & __GFP_NOWARN))
            refuse(s, invariant::bad_input, "kmalloc too large", flags, int(order), nullptr,
                   "kmalloc({}): above KMALLOC_MAX_SIZE ({} bytes)", size, KMALLOC_MAX_SIZE);
        return nullptr;
    }
    page *p = s.alloc_pages_node(node, flags | __GFP_COMP, order);
    if (!p)
        return nullptr;
    set_page_flags(*p, PG_large_kmalloc);
    slab_of(s).large_kmalloc_pages.fetch_add(1ul << order, std::memory_order_relaxed);
    return s.page_address(p);
}

// free_large_kmalloc(), or the report of a pointer kfree() cannot take.
[[gnu::noinline]] void kfree_not_slab(System &s, const void *obj) {
    page *p = s.virt_to_page(obj);
    if (!p && is_vmalloc_addr(s, obj)) {
        refuse(s, invariant::bad_input, "kfree of a vmalloc address", 0, -1, nullptr,
               "kfree({}): a vmalloc address: give it back with vfree() or kvfree()",
               fmt::ptr(obj));
        return;
    }
    if (!p) {
        refuse(s, invariant::bad_input, "foreign pointer", 0, -1, nullptr,
               "kfree({}): not memory of this System", fmt::ptr(obj));
        return;
    }
    page *head = p;
    if (p->flags.load(std::memory_order_acquire) & PG_tail)
        head = s.pfn_to_page(p->lru.next);
    const std::uint32_t flags = head->flags.load(std::memory_order_acquire);
    if (!(flags & PG_large_kmalloc) || (flags & (PG_buddy | PG_pcp)) || !(flags & PG_owned)) {
        refuse(s, invariant::bad_input, "kfree of a page", 0, -1, head,
               "kfree({}): the page (pfn {:#x}) {}", fmt::ptr(obj), s.page_to_pfn(head),
               (flags & PG_owned) ? "was not allocated by kmalloc: give it back with "
                                    "__free_pages()/free_pages()"
                                  : "is free (a large kmalloc freed twice?)");
        return;
    }
    if (obj != s.page_address(head)) {
        refuse(s, invariant::slab_object, "not an object start", 0, int(head->order), head,
               "kfree({}): inside the large kmalloc at {}, not its start", fmt::ptr(obj),
               fmt::ptr(s.page_address(head)));
        return;
    }
    const unsigned order = head->order;
    clear_page_flags(*head, PG_large_kmalloc);
    slab_of(s).large_kmalloc_pages.fetch_sub(1ul << order, std::memory_order_relaxed);
    s.free_pages(head, order);
}

} // namespace

void *kmalloc(System &s, std::size_t size, gfp_t flags, int node) {
    if (size > KMALLOC_MAX_CACHE_SIZE) [[unlikely]]
        return kmalloc_large(s, size, flags, node);
    if (!size) [[unlikely]]
        return ZERO_SIZE_PTR;
    const unsigned index = unsigned(kmalloc_index(size));
    kmem_cache *c = slab_of(s).kmalloc_caches[kmalloc_type(flags)][index];
    return slab_allocator::alloc(c, flags, node, size);
}

void *kzalloc(System &s, std::size_t size, gfp_t flags) {
    return kmalloc(s, size, flags | __GFP_ZERO);
}

void *kmalloc_array(System &s, std::size_t n, std::size_t size, gfp_t flags) {
    std::size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes))
        return nullptr;
    return kmalloc(s, bytes, flags);
}

void *kcalloc(System &s, std::size_t n, std::size_t size, gfp_t flags) {
    return kmalloc_array(s, n, size, flags | __GFP_ZERO);
}

void kfree(System &s, const void *p) {
    if (ZERO_OR_NULL_PTR(p)) [[unlikely]]
        return;
    slab_state &st = slab_of(s);
    slab *sl = slab_allocator::virt_to_slab(st, st.memory(), p);
    if (!sl) [[unlikely]]
        return kfree_not_slab(s, p);
    slab_allocator::free(sl->cache, sl, const_cast<void *>(p));
}

std::size_t ksize(System &s, const void *p) {
    if (ZERO_OR_NULL_PTR(p))
        return 0;
    slab_state &st = slab_of(s);
    if (slab *sl = slab_allocator::virt_to_slab(st, st.memory(), p)) {
        // slab_ksize(): what the caller may use without tripping a check.
        const kmem_cache &c = *sl->cache;
        if (c.flags & (SLAB_RED_ZONE | SLAB_POISON))
            return c.object_size;
        if (c.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_STORE_USER))
            return c.inuse;
        return c.size;
    }
    page *pg = s.virt_to_page(p);
    if (pg && (pg->flags.load() & PG_tail))
        pg = s.pfn_to_page(pg->lru.next);
    if (!pg || !(pg->flags.load() & PG_large_kmalloc)) {
        refuse(s, invariant::bad_input, "ksize of a non-kmalloc pointer", 0, -1, pg,
               "ksize({}): not memory kmalloc() gave out", fmt::ptr(p));
        return 0;
    }
    return PAGE_SIZE << pg->order;
}

// krealloc(): the same object while it is big enough (the spare tail zeroed when the
// caller wants zeroed memory), else a new one with the old contents.
void *krealloc(System &s, const void *p, std::size_t new_size, gfp_t flags) {
    if (!new_size) {
        kfree(s, p);
        return ZERO_SIZE_PTR;
    }
    const std::size_t ks = ZERO_OR_NULL_PTR(p) ? 0 : ksize(s, p);
    if (ks >= new_size) {
        if (flags & __GFP_ZERO)
            std::memset(static_cast<std::uint8_t *>(const_cast<void *>(p)) + new_size, 0,
                        ks - new_size);
        return const_cast<void *>(p);
    }
    void *ret = kmalloc(s, new_size, flags);
    if (ret && ks) {
        std::memcpy(ret, p, ks);
        kfree(s, p);
    }
    return ret;
}

char *kstrdup(System &s, const char *str, gfp_t flags) {
    if (!str)
        return nullptr;
    const std::size_t len = std::strlen(str) + 1;
    auto *buf = static_cast<char *>(kmalloc(s, len, flags));
    if (buf)
        std::memcpy(buf, str, len);
    return buf;
}

} // namespace gfplab

using gfplab::kmem_cache;
using gfplab::slab_allocator;

extern "C" {

void *kmem_cache_alloc(kmem_cache *c, gfp_t flags) {
    return slab_allocator::alloc(c, flags, NUMA_NO_NODE, c->object_size);
}

void *kmem_cache_alloc_node(kmem_cache *c, gfp_t flags, int node) {
    return slab_allocator::alloc(c, flags, node, c->object_size);
}

void *kmem_cache_zalloc(kmem_cache *c, gfp_t flags) {
    return slab_allocator::alloc(c, flags | __GFP_ZERO, NUMA_NO_NODE, c->object_size);
}

void kmem_cache_free(kmem_cache *c, void *obj) {
    if (!obj)
        return;
    const gfplab::slab_state &st = *c->state;
    gfplab::slab *sl = slab_allocator::virt_to_slab(st, c->mem, obj);
    if (!sl) [[unlikely]] {
        gfplab::refuse(*c->sys, gfplab::invariant::slab_object, "not a slab object", 0, -1, nullptr,
                       "kmem_cache_free({}, {}): the memory is not a slab's", c->name,
                       fmt::ptr(obj));
        return;
    }
    slab_allocator::free(c, sl, obj);
}

int kmem_cache_alloc_bulk(kmem_cache *c, gfp_t flags, size_t size, void **p) {
    for (size_t i = 0; i < size; i++) {
        p[i] = slab_allocator::alloc(c, flags, NUMA_NO_NODE, c->object_size);
        if (!p[i]) {
            kmem_cache_free_bulk(c, i, p);
            return 0;
        }
    }
    return int(size);
}

void kmem_cache_free_bulk(kmem_cache *c, size_t size, void **p) {
    for (size_t i = 0; i < size; i++)
        kmem_cache_free(c, p[i]);
}

} // extern "C"
