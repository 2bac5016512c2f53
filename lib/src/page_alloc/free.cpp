// SPDX-License-Identifier: MIT
//
// The free path's out-of-line parts (__free_pages; the inline part is fastpath.hpp): the
// reports of misuse (a page the System does not own, a tail page, a double free, a wrong
// order), which refuse the free and leave the allocator's state as it was (I16, I13, I1);
// the block-wide part of free_pages_prepare(); the buddy allocator when the CPU's list is
// busy or the order too high.
#include "fastpath.hpp"

#include "../check/report.hpp"
#include "../frames/backend.hpp"

#include <cstring>

namespace gfplab {
namespace {
constexpr std::uint8_t page_poison = 0xaa;
} // namespace

// check_free()'s reports, in its order; the fast path came here because one of them holds.
void page_allocator::free_refused(System &s, page *p, unsigned order) {
    if (!s.owns(p)) {
        refuse(s, invariant::bad_input, "foreign page", 0, int(order), nullptr,
               "__free_pages({}, order {}): not a page of this System", fmt::ptr(p), order);
        return;
    }
    const auto pfn = s.page_to_pfn(p);
    const std::uint32_t flags = p->flags.load(std::memory_order_acquire);
    if (order > MAX_PAGE_ORDER)
        refuse(s, invariant::bad_input, "order too large", 0, int(order), p,
               "__free_pages(pfn {:#x}, order {}): order above MAX_PAGE_ORDER", pfn, order);
    else if (flags & PG_tail)
        refuse(s, invariant::compound, "free of a tail page", 0, int(order), p,
               "__free_pages(pfn {:#x}, order {}): a tail of the compound page at pfn {:#x}", pfn,
               order, p->lru.next);
    else if (flags & PG_slab)
        refuse(s, invariant::bad_input, "free of a slab page", 0, int(order), p,
               "__free_pages(pfn {:#x}, order {}): a slab of cache '{}' owns the page", pfn, order,
               slab_cache_name(s, p));
    else if ((flags & (PG_buddy | PG_pcp)) || !(flags & PG_owned) ||
             p->refcount.load(std::memory_order_relaxed) <= 0)
        refuse(s, invariant::single_owner, "double free", 0, int(order), p,
               "__free_pages(pfn {:#x}, order {}): the page is not allocated (flags {:#x}, "
               "refcount {})",
               pfn, order, flags, p->refcount.load());
    else if (p->order != order)
        refuse(s, invariant::compound, "wrong order", 0, int(order), p,
               "__free_pages(pfn {:#x}, order {}): it was allocated with order {}", pfn, order,
               p->order);
}

void page_allocator::free_not_last(System &s, page *p, unsigned order, int was) {
    if (was > 1)
        return; // other references remain
    // A racing free of the same page won: undo and report (the kernel would BUG).
    p->refcount.fetch_add(1, std::memory_order_relaxed);
    refuse(s, invariant::single_owner, "double free", 0, int(order), p,
           "__free_pages(pfn {:#x}, order {}): freed concurrently by another thread",
           s.page_to_pfn(p), order);
}

// free_pages_prepare() for a compound page, a charged page or with poisoning on.
void page_allocator::free_pages_prepare_block(System &s, page *p, unsigned order) {
    const unsigned long n = 1ul << order;
    const bool compound = p->flags.load(std::memory_order_relaxed) & PG_head;
    const auto head = std::uint32_t(s.page_to_pfn(p));
    for (unsigned long i = 1; compound && i < n; i++) {
        page &t = p[i];
        // I13: every tail must still point at this head.
        if (s.config().checking != check_level::off &&
            (!(t.flags.load(std::memory_order_relaxed) & PG_tail) || t.lru.next != head))
            report(s, invariant::compound, "corrupt compound page", 0, int(order), &t,
                   "pfn {:#x} is tail {} of the compound page at pfn {:#x} but has flags {:#x} "
                   "and head {:#x}",
                   head + i, i, head, t.flags.load(), t.lru.next);
        t.flags.store(0, std::memory_order_relaxed);
        t.lru.next = pfn_nil;
    }
    s.memcg_uncharge(p, order);
    p->owner = 0;
    p->alloc_mt.store(0, std::memory_order_relaxed);
    p->flags.store(0, std::memory_order_relaxed);
    if (s.config().poison) {
        std::memset(s.page_address(p), page_poison, n << PAGE_SHIFT);
        for (unsigned long i = 0; i < n; i++)
            set_page_flags(p[i], PG_poisoned);
    }
}

void page_allocator::free_to_buddy(System &s, zone &z, page *p, unsigned order, bool nolock) {
    const unsigned cpu = s.pcp_area().this_cpu_fresh();
    z.frames->free_one(p, order, cpu, nolock ? FPI_TRYLOCK : FPI_NONE);
    s.pcp_area().count_event(z, cpu, pcp::PCP_BUDDY_FREE, 1ul << order); // pgfree (free_one_page())
}

} // namespace gfplab
