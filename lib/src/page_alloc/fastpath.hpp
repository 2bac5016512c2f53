// SPDX-License-Identifier: MIT
//
// The allocation and free fast paths (mm/page_alloc.c 6.12: __alloc_pages with
// get_page_from_freelist's first zone, rmqueue_pcplist and prep_new_page; __free_pages with
// free_unref_page), inline, as mimalloc's alloc.c keeps its fast path: everything a repeated
// request on a per-CPU list hit needs, with the oracle's online checks (I1, I5, I16 and the
// misuse checks of the free path) in the same pass; whatever is rare (a new request,
// locks held, fault injection, a busy or empty list, a zone below high, reports) is one
// test and a call out of line. System::alloc_pages/free_pages and the kernel face's
// alloc_pages()/__free_pages() are each this code behind one call. Private to the library.
#pragma once

#include "../check/held_count.hpp"
#include "../compiler.hpp"
#include "../internal.hpp"
#include "../pcp/pcp.hpp"
#include "../scope/task_flags.hpp"
#include "../trace/tracepoint.hpp"
#include "fail_nth.hpp"

#include <gfplab/alloc_flags.hpp>
#include <gfplab/system.hpp>
#include <gfplab/watermark.hpp>

namespace gfplab {

// What a request's mask decides before any zone is looked at: that it is valid, the mask
// the task's scopes leave, the zonelist, zone bound and migratetype, the fast path's
// alloc_flags, and the first zone to try. It depends only on the System, the mask, the
// order, the node and the task's scope flags, and a thread repeats the same request far
// more often than not, so each thread keeps its last one. `system` is the System's serial
// only while the memo can serve the inline path (a valid request whose preferred node is
// known); nothing reads the memo after the fast path copied it, so an allocation nested in
// reclaim may overwrite it.
struct request_memo {
    std::uint64_t system = 0; // System::serial(); 0 never matches
    gfp_t gfp = 0;
    unsigned order = 0;
    unsigned task_flags = 0;
    int nid = 0;
    gfp_t scoped_gfp = 0;
    unsigned alloc_flags = 0;
    zone *first = nullptr; // the zonelist's first eligible zone, on the preferred node
    alloc_context ac;
};
extern __thread request_memo t_last_request;

struct page_allocator {
    // The fast path's order-0 watermark test (zone_watermark_fast() for order 0): free pages
    // less what the request may not use, above the mark plus the lowmem reserve.
    GFPLAB_ALWAYS_INLINE static bool watermark_ok_order0(const zone &z, unsigned long mark,
                                                         zone_type highest,
                                                         unsigned alloc_flags) noexcept {
        return zone_watermark_fast_order0(z.page_state(NR_FREE_PAGES), mark,
                                          z.lowmem_reserve[highest], alloc_flags,
                                          z.nr_free_highatomic.load(std::memory_order_relaxed));
    }

    GFPLAB_ALWAYS_INLINE static page *alloc(System &s, gfp_t gfp, unsigned order, int nid,
                                            srcloc at) {
        const request_memo &m = t_last_request;
        const bool hit = m.system == s.serial_ && m.gfp == gfp && m.order == order &&
                         m.task_flags == detail::t_task_flags && m.nid == nid;
        // Held declared locks (might_alloc, I9) and fault injection take the long way.
        if (!hit || (detail::t_held_count | detail::t_fail_nth) || s.fail_page_alloc_.armed())
            [[unlikely]]
            return alloc_slow_entry(s, gfp, order, nid, at);
        zone &z = *m.first;
        const gfp_t scoped = m.scoped_gfp;
        const unsigned alloc_flags = m.alloc_flags;
        const alloc_context ac = m.ac;
        // get_page_from_freelist()'s first zone while it is above high: the mark check that
        // lets the request skip every other test.
        if (pcp::pcp_allowed_order(order) &&
            !(z.flags.load(std::memory_order_relaxed) & ZONE_BELOW_HIGH) &&
            (order ? watermark_fast(z, order, z.high_wmark_pages(), ac.highest_zoneidx, alloc_flags)
                   : watermark_ok_order0(z, z.high_wmark_pages(), ac.highest_zoneidx, alloc_flags)))
            [[likely]] {
            pcp::area &pcp = *s.pcp_;
            if (page *p = pcp.alloc(z, order, ac.mt, alloc_flags, pcp.this_cpu())) [[likely]] {
                if (z.flags.load(std::memory_order_relaxed) & ZONE_BOOSTED_WATERMARK) [[unlikely]]
                    boosted_wakeup(s, z, alloc_flags);
                prep_new_page(s, p, order, scoped, ac.mt);
                if (s.cfg_.checking != check_level::off)
                    check_placement(s, p, order, scoped, ac);
                if (scoped & __GFP_ACCOUNT) [[unlikely]]
                    return charge_or_free(s, p, scoped, order, ac.mt);
                trace_mm_page_alloc(s.trace_, p, order, scoped, ac.mt);
                return p;
            }
        }
        return alloc_after_fastpath(s, scoped, order, alloc_flags, ac);
    }

    // prep_new_page(): the head's metadata, with I1's check that nobody holds it.
    GFPLAB_ALWAYS_INLINE static void prep_new_page(System &s, page *p, unsigned order, gfp_t gfp,
                                                   migratetype mt) {
        if (s.cfg_.checking != check_level::off &&
            (p->refcount.load(std::memory_order_relaxed) != 0 ||
             (p->flags.load(std::memory_order_relaxed) & (PG_owned | PG_buddy)))) [[unlikely]]
            report_handed_out_twice(s, p, order, gfp);
        // Zeroing, compound tails, poison and full checking: each a pass over the block.
        std::uint32_t flags = PG_owned;
        if ((gfp & (__GFP_ZERO | __GFP_COMP)) || s.cfg_.poison ||
            s.cfg_.checking == check_level::full) [[unlikely]]
            flags |= prep_block(s, p, order, gfp);
        p->alloc_mt.store(std::uint8_t(mt), std::memory_order_relaxed);
        p->order = std::uint8_t(order);
        p->owner = next_owner_tag();
        p->flags.store(flags, std::memory_order_relaxed);
        p->refcount.store(1, std::memory_order_release);
    }

    // I5, online: the page lies in a zone the mask allows (at or below gfp_zone()) and, with
    // __GFP_THISNODE, on the preferred node.
    GFPLAB_ALWAYS_INLINE static void check_placement(System &s, const page *p, unsigned order,
                                                     gfp_t gfp, const alloc_context &ac) {
        if (zone_type(p->zone) > ac.highest_zoneidx ||
            ((gfp & __GFP_THISNODE) && p->node != ac.preferred_nid)) [[unlikely]]
            report_placement(s, p, order, gfp, ac);
    }

    // Who holds a page (I1): the allocating thread's number (high 12 bits) and its own
    // allocation count. Per thread, so the fast path writes no shared cache line for it. A
    // thread starts at count 0xfffff of number 0, so its first step finds it has no number.
    GFPLAB_ALWAYS_INLINE static std::uint32_t next_owner_tag() noexcept {
        const std::uint32_t old = t_owner_tag;
        std::uint32_t tag = old + 1;
        if ((tag & 0xfffff) == 0) [[unlikely]]
            tag = new_owner_tag(old);
        t_owner_tag = tag;
        return tag;
    }

    // __free_pages(): the misuse checks in one test, the last reference, then the per-CPU
    // list of this CPU (free_unref_page), else the buddy allocator. Nolock is
    // free_pages_nolock()'s (FPI_TRYLOCK): no drain, and no wait for zone->lock.
    template <bool Nolock = false>
    GFPLAB_ALWAYS_INLINE static void free(System &s, page *p, unsigned order) {
        if (!p)
            return;
        if (!s.owns(p)) [[unlikely]]
            return free_refused(s, p, order);
        // check_free()'s conditions at once: a head of this order that somebody holds and
        // the slab layer does not (its order came from a valid allocation, so an order
        // above MAX_PAGE_ORDER differs).
        const std::uint32_t flags = p->flags.load(std::memory_order_acquire);
        if ((flags & (PG_tail | PG_buddy | PG_pcp | PG_owned | PG_slab)) != PG_owned ||
            p->refcount.load(std::memory_order_relaxed) <= 0 || p->order != order) [[unlikely]]
            return free_refused(s, p, order);
        // Only the last reference frees.
        if (const int was = put_page_testzero(p->refcount); was != 1) [[unlikely]]
            return free_not_last(s, p, order, was);
        // free_pages_prepare(): compound tails, the memcg charge and poison are rare.
        if ((flags & (PG_head | PG_memcg)) || s.cfg_.poison) [[unlikely]] {
            free_pages_prepare_block(s, p, order);
        } else {
            p->owner = 0;
            p->alloc_mt.store(0, std::memory_order_relaxed);
            p->flags.store(0, std::memory_order_relaxed);
        }
        // Reclaim in progress on this thread gets the credit (reclaim_state->reclaimed).
        if (reclaim_state *rs = detail::t_reclaim_state) [[unlikely]]
            rs->reclaimed += 1ul << order;
        zone &z = s.page_zone(p);
        pcp::area &pcp = *s.pcp_;
        // free_pages_prepare()'s event, here rather than before the work above: what follows
        // then reloads nothing after the out-of-line call (an event before the per-CPU list
        // and any drain it triggers, as in the kernel).
        trace_mm_page_free(s.trace_, p, order);
        if (!pcp::pcp_allowed_order(order) || !pcp.free<!Nolock>(z, p, order, pcp.this_cpu()))
            [[unlikely]]
            free_to_buddy(s, z, p, order, Nolock);
        // ZONE_BELOW_HIGH is cleared by the per-CPU drain (pcp.cpp), as 6.12's
        // free_unref_page_commit() does after free_pcppages_bulk(), not on every free.
    }

    // --- out of line ----------------------------------------------------------------------
    static bool watermark_fast(const zone &z, unsigned order, unsigned long mark, zone_type highest,
                               unsigned alloc_flags);
    // A request the memo cannot serve: validation (I16), the memo, might_alloc and I9,
    // fault injection, then the whole path.
    [[gnu::noinline]] static page *alloc_slow_entry(System &s, gfp_t gfp, unsigned order, int nid,
                                                    srcloc at);
    // Every zone of the zonelist, then the slow path, then the memcg charge.
    [[gnu::noinline]] static page *alloc_after_fastpath(System &s, gfp_t gfp, unsigned order,
                                                        unsigned alloc_flags, alloc_context ac);
    // The memcg charge, then the request's mm_page_alloc event.
    [[gnu::noinline]] static page *charge_or_free(System &s, page *p, gfp_t gfp, unsigned order,
                                                  migratetype mt);
    [[gnu::noinline]] static void boosted_wakeup(System &s, zone &z, unsigned alloc_flags);
    // Returns the head's extra flags (PG_head for a compound page).
    [[gnu::noinline]] static std::uint32_t prep_block(System &s, page *p, unsigned order,
                                                      gfp_t gfp);
    [[gnu::cold, gnu::noinline]] static void report_handed_out_twice(System &s, page *p,
                                                                     unsigned order, gfp_t gfp);
    [[gnu::cold, gnu::noinline]] static void
    report_placement(System &s, const page *p, unsigned order, gfp_t gfp, const alloc_context &ac);
    [[gnu::noinline]] static std::uint32_t new_owner_tag(std::uint32_t old) noexcept;
    [[gnu::cold, gnu::noinline]] static void free_refused(System &s, page *p, unsigned order);
    [[gnu::noinline]] static void free_not_last(System &s, page *p, unsigned order, int was);
    [[gnu::noinline]] static void free_pages_prepare_block(System &s, page *p, unsigned order);
    [[gnu::noinline]] static void free_to_buddy(System &s, zone &z, page *p, unsigned order,
                                                bool nolock);
    // alloc_pages_nolock() (nolock.cpp).
    static page *alloc_nolock(System &s, gfp_t gfp, int nid, unsigned order);
    // The rate-limited "page allocation failure" report.
    [[gnu::cold]] static void warn_alloc(System &s, gfp_t gfp, unsigned order);

    static __thread std::uint32_t t_owner_tag;
};

} // namespace gfplab
