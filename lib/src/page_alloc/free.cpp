// SPDX-License-Identifier: MIT
//
// The free path (__free_pages): drop the reference, check the page, undo the compound
// metadata, poison, and give the block back to the buddy allocator. Misuse (a page the
// System does not own, a tail page, a double free, a wrong order) is reported and refused,
// leaving the allocator's state as it was (I16, I13, I1).
#include "page_allocator.hpp"

#include "../buddy/buddy.hpp"
#include "../pcp/pcp.hpp"
#include "../reclaim/vmscan.hpp"

#include <gfplab/scope.hpp>
#include <gfplab/watermark.hpp>

#include <fmt/format.h>

#include <cstring>

namespace gfplab {
namespace {

constexpr std::uint8_t page_poison = 0xaa;

void refuse(System &s, int invariant, const char *what, std::string msg, unsigned order,
            long long pfn) {
    s.stats().refused.fetch_add(1, std::memory_order_relaxed);
    s.report({invariant, what, std::move(msg), 0, int(order), pfn, format_scope_stack()});
}

} // namespace

bool page_allocator::check_free(System &s, page *p, unsigned order) {
    if (!s.owns(p)) {
        refuse(s, 16, "foreign page",
               fmt::format("__free_pages({}, order {}): not a page of this System", fmt::ptr(p),
                           order),
               order, -1);
        return false;
    }
    const long long pfn = (long long)s.page_to_pfn(p);
    const std::uint32_t flags = p->flags.load(std::memory_order_acquire);
    if (order > MAX_PAGE_ORDER) {
        refuse(s, 16, "order too large",
               fmt::format("__free_pages(pfn {:#x}, order {}): order above MAX_PAGE_ORDER", pfn,
                           order),
               order, pfn);
        return false;
    }
    if (flags & PG_tail) {
        refuse(s, 13, "free of a tail page",
               fmt::format("__free_pages(pfn {:#x}, order {}): a tail of the compound page at "
                           "pfn {:#x}",
                           pfn, order, p->lru.next),
               order, pfn);
        return false;
    }
    if ((flags & (PG_buddy | PG_pcp)) || !(flags & PG_owned) ||
        p->refcount.load(std::memory_order_relaxed) <= 0) {
        refuse(s, 1, "double free",
               fmt::format("__free_pages(pfn {:#x}, order {}): the page is not allocated "
                           "(flags {:#x}, refcount {})",
                           pfn, order, flags, p->refcount.load()),
               order, pfn);
        return false;
    }
    if (p->order != order) {
        refuse(s, 13, "wrong order",
               fmt::format("__free_pages(pfn {:#x}, order {}): it was allocated with order {}", pfn,
                           order, p->order),
               order, pfn);
        return false;
    }
    return true;
}

void page_allocator::free_pages_prepare(System &s, page *p, unsigned order) {
    const unsigned long n = 1ul << order;
    const bool compound = p->flags.load(std::memory_order_relaxed) & PG_head;
    const auto head = std::uint32_t(s.page_to_pfn(p));
    for (unsigned long i = 1; compound && i < n; i++) {
        page &t = p[i];
        // I13: every tail must still point at this head.
        if (s.config().checking != check_level::off &&
            (!(t.flags.load(std::memory_order_relaxed) & PG_tail) || t.lru.next != head))
            s.report({13, "corrupt compound page",
                      fmt::format("pfn {:#x} is tail {} of the compound page at pfn {:#x} but "
                                  "has flags {:#x} and head {:#x}",
                                  head + i, i, head, t.flags.load(), t.lru.next),
                      0, int(order), (long long)(head + i), format_scope_stack()});
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

void System::free_pages(page *p, unsigned order) {
    if (!p)
        return;
    if (!page_allocator::check_free(*this, p, order))
        return;
    // Only the last reference frees.
    int was = put_page_testzero(p->refcount);
    if (was <= 0) {
        // A racing free of the same page won: undo and report (the kernel would BUG).
        p->refcount.fetch_add(1, std::memory_order_relaxed);
        refuse(*this, 1, "double free",
               fmt::format("__free_pages(pfn {:#x}, order {}): freed concurrently by another "
                           "thread",
                           page_to_pfn(p), order),
               order, (long long)page_to_pfn(p));
        return;
    }
    if (was != 1)
        return;
    page_allocator::free_pages_prepare(*this, p, order);
    // Reclaim in progress on this thread gets the credit (reclaim_state->reclaimed).
    if (reclaim_state *rs = current_reclaim_state())
        rs->reclaimed += 1ul << order;
    zone &z = page_zone(p);
    // Small orders go to this CPU's list (free_unref_page); a busy list means the buddy.
    if (!pcp::pcp_allowed_order(order) || !pcp_->free(z, p, order)) {
        std::lock_guard guard(z.lock);
        buddy::free_one_page(z, p, page_to_pfn(p), order);
    }
    // free_unref_page_commit(): a zone back above its high watermark is no longer "below
    // high" (which the allocation side noted).
    if ((z.flags.load(std::memory_order_relaxed) & ZONE_BELOW_HIGH) &&
        zone_watermark_ok(z.page_state(NR_FREE_PAGES), 0, z.high_wmark_pages(),
                          z.lowmem_reserve[ZONE_MOVABLE], 0,
                          z.nr_free_highatomic.load(std::memory_order_relaxed)))
        z.flags.fetch_and(~ZONE_BELOW_HIGH, std::memory_order_relaxed);
}

} // namespace gfplab
