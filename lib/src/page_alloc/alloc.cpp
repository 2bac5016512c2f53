// SPDX-License-Identifier: MIT
//
// The allocation path's out-of-line parts: a new request (validation, the request memo),
// get_page_from_freelist() over the whole zonelist, rmqueue(), the page preparation that
// touches the whole block, and the reports. The fast path is inline in fastpath.hpp; the
// slow path (reclaim, OOM, NOFAIL) is slowpath.cpp.
#include "fastpath.hpp"

#include "../check/report.hpp"
#include "../frames/backend.hpp"

#include <gfplab/lockdep.hpp>

#include <array>
#include <chrono>
#include <cstring>

namespace gfplab {

__thread request_memo t_last_request;
__thread std::uint32_t page_allocator::t_owner_tag = 0xfffff;

namespace {

// The poison a freed page carries when poisoning is on (PAGE_POISON in the kernel).
constexpr std::uint8_t page_poison = 0xaa;

// A whole page of poison, so that checking a page is one memcmp.
const std::array<std::uint8_t, PAGE_SIZE> &poison_page() {
    static const auto p = [] {
        std::array<std::uint8_t, PAGE_SIZE> a;
        a.fill(page_poison);
        return a;
    }();
    return p;
}

page *rmqueue(System &s, zone &z, unsigned order, unsigned alloc_flags, migratetype mt) {
    // Small orders come from this CPU's list; a busy or exhausted list means the buddy
    // allocator itself, with the highatomic rules (rmqueue()).
    pcp::area &pcp = s.pcp_area();
    const bool listed = pcp::pcp_allowed_order(order);
    const unsigned cpu = listed ? pcp.this_cpu() : pcp.this_cpu_fresh();
    page *p = nullptr;
    if (listed)
        p = pcp.alloc(z, order, mt, alloc_flags, cpu);
    if (!p) {
        p = z.frames->rmqueue(order, mt, alloc_flags, cpu);
        if (p) // pgalloc (rmqueue_buddy())
            pcp.count_event(z, cpu, pcp::PCP_BUDDY_ALLOC, 1ul << order);
    }
    // A fallback boosted the watermarks: have kswapd reclaim ahead of the next one, however
    // this page was served (test first: the flag is rarely set).
    if (z.flags.load(std::memory_order_relaxed) & ZONE_BOOSTED_WATERMARK) [[unlikely]]
        page_allocator::boosted_wakeup(s, z, alloc_flags);
    return p;
}

// The node's part of a request's context: the preferred node, its zonelist for the mask,
// and the fast path's alloc_flags.
unsigned prefer_node(System &s, alloc_context &ac, gfp_t gfp, int nid) {
    ac.preferred_nid = nid;
    ac.zonelist = s.node(nid).zonelists[gfp_zonelist(gfp)].data();
    return preferred_zone_alloc_flags(s, ac, gfp);
}

[[gnu::cold]] void refuse_request(System &s, int nid, gfp_t gfp, unsigned order) {
    std::string why;
    for (const auto &p : gfp_validate(gfp, int(order)))
        if (p.severity == gfp_severity::error)
            why += (why.empty() ? "" : "; ") + p.message;
    if (nid >= s.nr_nodes())
        why += fmt::format("{}node {} does not exist ({} nodes)", why.empty() ? "" : "; ", nid,
                           s.nr_nodes());
    refuse(s, invariant::bad_input, "invalid request", gfp, int(order), nullptr,
           "alloc_pages(mode:{}, order:{}): {}", gfp_describe(gfp), order, why);
}

[[gnu::cold]] void report_nofail_cannot_reclaim(System &s, gfp_t gfp, unsigned order) {
    report(s, invariant::bad_input, "NOFAIL that cannot reclaim", gfp, int(order), nullptr,
           "alloc_pages(mode:{}, order:{}): __GFP_NOFAIL without __GFP_DIRECT_RECLAIM cannot be "
           "honoured; served as 6.12 serves it, as if NOFAIL were not set (it may fail)",
           gfp_describe(gfp), order);
}

} // namespace

unsigned preferred_zone_alloc_flags(System &s, const alloc_context &ac, gfp_t gfp) {
    const zone *pref = first_zones_zonelist(ac);
    const bool normal = pref && pref->idx == ZONE_NORMAL;
    const bool dma32 =
        s.nr_nodes() == 1 || (pref && s.node(pref->node).node_zones[ZONE_DMA32].populated());
    return fastpath_alloc_flags(gfp, normal, dma32);
}

unsigned current_cpu(System &s) noexcept {
    return s.pcp_area().this_cpu();
}

void set_current_vcpu(unsigned cpu) noexcept {
    pcp::t_vcpu = cpu;
}
unsigned current_vcpu() noexcept {
    return pcp::t_vcpu;
}

page *System::alloc_pages(gfp_t gfp, unsigned order, srcloc at) {
    return page_allocator::alloc(*this, gfp, order, -1, at);
}

page *System::alloc_pages_node(int nid, gfp_t gfp, unsigned order, srcloc at) {
    return page_allocator::alloc(*this, gfp, order, nid, at);
}

void System::free_pages(page *p, unsigned order) {
    page_allocator::free(*this, p, order);
}

page *page_allocator::alloc_slow_entry(System &s, gfp_t gfp, unsigned order, int nid, srcloc at) {
    // Requests the kernel treats as bugs are refused before anything is touched (I16).
    if (!gfp_valid(gfp, int(order)) || nid >= s.nr_nodes()) {
        refuse_request(s, nid, gfp, order);
        return nullptr;
    }
    // A caller's mistake 6.12 only warns about: reported, then served. The memo stays
    // unarmed for it, so that every such request comes here and is reported.
    if (gfp_nofail_cannot_reclaim(gfp)) [[unlikely]]
        report_nofail_cannot_reclaim(s, gfp, order);
    request_memo &m = t_last_request;
    m.system = 0;
    m.gfp = gfp;
    m.order = order;
    m.task_flags = detail::t_task_flags;
    m.nid = nid;
    // gfp_allowed_mask has every bit after boot; the task's scopes narrow the mask.
    m.scoped_gfp = current_gfp_context(gfp);
    m.ac.highest_zoneidx = gfp_zone(m.scoped_gfp);
#ifdef GFPLAB_PLANTED_BUG_ZONE_TABLE
    // Planted bug (-Dplanted_bug, the -bug- binaries only, docs/oracle.md): the zone table's
    // __GFP_DMA32 entry says ZONE_NORMAL, so GFP_DMA32 pages may come from above DMA32.
    if (m.scoped_gfp & __GFP_DMA32)
        m.ac.highest_zoneidx = ZONE_NORMAL;
#endif
    m.ac.mt = gfp_migratetype(m.scoped_gfp);
    // Without a node, the preferred one is the current CPU's: only a one-node System can
    // keep the node's part of the answer.
    if (nid >= 0 || s.nr_nodes() == 1) {
        m.alloc_flags = prefer_node(s, m.ac, m.scoped_gfp, nid >= 0 ? nid : 0);
        m.first = first_zones_zonelist(m.ac);
        // The inline path tries the first zone alone: only where the full walk would too.
        if (m.first && m.first->node == m.ac.preferred_nid && !gfp_nofail_cannot_reclaim(gfp))
            m.system = s.serial_;
    }
    // Copies: an allocation nested below (reclaim) may overwrite the memo.
    gfp = m.scoped_gfp;
    alloc_context ac = m.ac;
    unsigned alloc_flags = m.alloc_flags;
    if (nid < 0 && s.nr_nodes() > 1) // a multi-node System without a node
        alloc_flags = prefer_node(s, ac, gfp, s.cpu_to_node(current_cpu(s)));
    // might_alloc(): what this allocation could do under the locks the thread holds, whether
    // or not it reclaims this time (only threads holding declared locks pay for it).
    if (detail::t_held_count) {
        if (gfp & __GFP_DIRECT_RECLAIM)
            check_might_sleep(s, "alloc_pages", gfp, int(order), at);
        might_alloc(gfp, at);
        check_reclaim_recursion(s, gfp, order, at);
    }
    // prepare_alloc_pages(): an injected failure returns NULL before any other work, and
    // without a warn_alloc() report (fail_page_alloc prints its own when verbose).
    if (s.fail_page_alloc_.should_fail_alloc_page(gfp, order)) {
        s.stats_.injected.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }
    return alloc_after_fastpath(s, gfp, order, alloc_flags, ac);
}

page *page_allocator::alloc_after_fastpath(System &s, gfp_t gfp, unsigned order,
                                           unsigned alloc_flags, alloc_context ac) {
    page *p = get_page_from_freelist(s, gfp, order, alloc_flags, ac);
    if (!p)
        p = alloc_pages_slowpath(s, gfp, order, ac);
    if (p && (gfp & __GFP_ACCOUNT))
        return charge_or_free(s, p, gfp, order, ac.mt);
    trace_mm_page_alloc(s.trace_, p, order, gfp, ac.mt);
    return p;
}

// A __GFP_ACCOUNT page the group cannot take goes straight back (memcg charge failure), and
// the request's event tells of the failure, as __alloc_pages() traces after the charge.
page *page_allocator::charge_or_free(System &s, page *p, gfp_t gfp, unsigned order,
                                     migratetype mt) {
    if (!s.memcg_charge(p, gfp, order)) {
        free(s, p, order);
        s.stats_.failures.fetch_add(1, std::memory_order_relaxed);
        p = nullptr;
    }
    trace_mm_page_alloc(s.trace_, p, order, gfp, mt);
    return p;
}

void page_allocator::boosted_wakeup(System &s, zone &z, unsigned alloc_flags) {
    if (!(alloc_flags & ALLOC_KSWAPD))
        return;
    z.flags.fetch_and(~ZONE_BOOSTED_WATERMARK, std::memory_order_relaxed);
    s.stats_.kswapd_wakeups.fetch_add(1, std::memory_order_relaxed);
    wakeup_kswapd(s, z, 0, 0, z.idx);
}

bool page_allocator::watermark_fast(const zone &z, unsigned order, unsigned long mark,
                                    zone_type highest, unsigned alloc_flags) {
#ifdef GFPLAB_PLANTED_BUG_LOWMEM_RESERVE
    // Planted bug (-Dplanted_bug, the -bug- binaries only, docs/oracle.md): the reserve row
    // is indexed by the zone's own type, whose entry is 0: a fallback into a lower zone
    // ignores the lowmem reserve kept there for the requests that cannot go higher.
    highest = zone_type(z.idx);
#endif
    if (order == 0 && watermark_ok_order0(z, mark, highest, alloc_flags))
        return true;
    auto probe = free_area_probe_of(z);
    zone_wmark_state st;
    st.free_pages = z.page_state(NR_FREE_PAGES);
    st.lowmem_reserve = z.lowmem_reserve[highest];
    st.nr_free_highatomic = z.nr_free_highatomic.load(std::memory_order_relaxed);
    st.watermark_boost = z.watermark_boost.load(std::memory_order_relaxed);
    st.min_unboosted = z._watermark[WMARK_MIN];
    st.free_area = probe;
    return zone_watermark_fast(st, order, mark, alloc_flags);
}

page *get_page_from_freelist(System &s, gfp_t gfp, unsigned order, unsigned alloc_flags,
                             const alloc_context &ac) {
retry:
    const bool no_fallback = alloc_flags & ALLOC_NOFRAGMENT;
    for (zone *const *zp = ac.zonelist; *zp; zp++) {
        zone &z = **zp;
        if (z.idx > ac.highest_zoneidx)
            continue;
        // Fragmentation avoidance is worth a local fallback, not a remote node: the first
        // step off the preferred node restarts without ALLOC_NOFRAGMENT.
        if (no_fallback && z.node != ac.preferred_nid) {
            alloc_flags &= ~ALLOC_NOFRAGMENT;
            goto retry;
        }
        // Note the zone going below high (the per-CPU lists shrink while it is).
        if (!(z.flags.load(std::memory_order_relaxed) & ZONE_BELOW_HIGH)) {
            if (page_allocator::watermark_fast(z, order, z.high_wmark_pages(), ac.highest_zoneidx,
                                               alloc_flags))
                goto try_this_zone;
            z.flags.fetch_or(ZONE_BELOW_HIGH, std::memory_order_relaxed);
        }
        if (!page_allocator::watermark_fast(
                z, order, z.wmark_pages(zone_watermarks(alloc_flags & ALLOC_WMARK_MASK)),
                ac.highest_zoneidx, alloc_flags) &&
            !(alloc_flags & ALLOC_NO_WATERMARKS))
            continue;
    try_this_zone:
        if (page *p = rmqueue(s, z, order, alloc_flags, ac.mt)) {
            // A successful high-order atomic allocation sets its pageblock aside for the
            // next one (only the slow path grants ALLOC_HIGHATOMIC, and only for order > 0).
            if (alloc_flags & ALLOC_HIGHATOMIC) [[unlikely]]
                z.frames->reserve_highatomic(p, order, current_cpu(s));
            page_allocator::prep_new_page(s, p, order, gfp, ac.mt);
            if (s.config().checking != check_level::off)
                page_allocator::check_placement(s, p, order, gfp, ac);
            return p;
        }
    }
    if (no_fallback) {
        alloc_flags &= ~ALLOC_NOFRAGMENT;
        goto retry;
    }
    return nullptr;
}

void page_allocator::report_handed_out_twice(System &s, page *p, unsigned order, gfp_t gfp) {
    report(s, invariant::single_owner, "page handed out twice", gfp, int(order), p,
           "pfn {:#x} order {} comes off the free lists still owned (flags {:#x}, refcount {})",
           s.page_to_pfn(p), order, p->flags.load(), p->refcount.load());
}

void page_allocator::report_placement(System &s, const page *p, unsigned order, gfp_t gfp,
                                      const alloc_context &ac) {
    report(s, invariant::placement, "placement", gfp, int(order), p,
           "mode:{} order {} got pfn {:#x} in node {} zone {}, but the mask allows zones up to "
           "{}{}",
           gfp_describe(gfp), order, s.page_to_pfn(p), p->node, zone_name(zone_type(p->zone)),
           zone_name(ac.highest_zoneidx),
           gfp & __GFP_THISNODE ? fmt::format(" on node {} only", ac.preferred_nid)
                                : std::string());
}

std::uint32_t page_allocator::new_owner_tag(std::uint32_t old) noexcept {
    static std::atomic<std::uint32_t> threads{0};
    std::uint32_t id = old >> 20;
    if (id == 0)
        id = threads.fetch_add(1, std::memory_order_relaxed) % 4095 + 1;
    return id << 20 | 1;
}

// The block-wide part of prep_new_page(): full checking's look at every page (I1), the
// poison check (I12), __GFP_ZERO and the compound tails (prep_compound_page()).
std::uint32_t page_allocator::prep_block(System &s, page *p, unsigned order, gfp_t gfp) {
    const unsigned long n = 1ul << order;
    // Full checking looks at every page of the block: none may belong to anyone else.
    if (s.config().checking == check_level::full)
        for (unsigned long i = 1; i < n; i++) {
            const std::uint32_t f = p[i].flags.load(std::memory_order_relaxed);
            if ((f & (PG_owned | PG_buddy | PG_pcp | PG_tail | PG_head)) ||
                p[i].refcount.load(std::memory_order_relaxed) != 0) {
                report(s, invariant::single_owner, "page handed out twice", gfp, int(order), p + i,
                       "pfn {:#x}, page {} of the order {} block at pfn {:#x}, is still in use "
                       "(flags {:#x})",
                       s.page_to_pfn(p + i), i, order, s.page_to_pfn(p), f);
                break;
            }
        }

    auto *mem = static_cast<std::uint8_t *>(s.page_address(p));
    if (s.config().poison) {
        // I12: a poisoned page must come back exactly as it was left.
        for (unsigned long i = 0; i < n; i++) {
            page &q = p[i];
            if (!(q.flags.load(std::memory_order_relaxed) & PG_poisoned))
                continue;
            clear_page_flags(q, PG_poisoned);
            const std::uint8_t *b = mem + (i << PAGE_SHIFT);
            if (std::memcmp(b, poison_page().data(), PAGE_SIZE) == 0)
                continue;
            for (unsigned long off = 0; off < PAGE_SIZE; off++)
                if (b[off] != page_poison) {
                    report(s, invariant::page_contents, "poison overwritten", gfp, int(order), &q,
                           "pfn {:#x}: byte {:#x} is {:#04x}, not the poison {:#04x}: written "
                           "after it was freed",
                           s.page_to_pfn(&q), off, b[off], page_poison);
                    break;
                }
        }
    }
#ifdef GFPLAB_PLANTED_BUG_ZERO_HEAD_ONLY
    // Planted bug (-Dplanted_bug, the -bug- binaries only, docs/oracle.md): __GFP_ZERO
    // clears the head page only, the tails of a higher-order block keep what they held.
    if (gfp & __GFP_ZERO)
        std::memset(mem, 0, PAGE_SIZE);
#else
    if (gfp & __GFP_ZERO)
        std::memset(mem, 0, n << PAGE_SHIFT);
#endif
    if (!(gfp & __GFP_COMP) || order == 0)
        return 0;
    // prep_compound_page(): tails point at their head.
    const auto head = std::uint32_t(s.page_to_pfn(p));
    for (unsigned long i = 1; i < n; i++) {
        p[i].lru.next = head;
        p[i].flags.store(PG_tail, std::memory_order_relaxed);
    }
    return PG_head;
}

void page_allocator::warn_alloc(System &s, gfp_t gfp, unsigned order) {
    if (!s.cfg_.warn_alloc || (gfp & __GFP_NOWARN))
        return;
    // One report per 10 s, as the kernel's nopage_rs ratelimit since 5.10.
    const long long now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count();
    long long last = s.last_warn_ns_.load(std::memory_order_relaxed);
    if (last >= 0 && now - last < 10'000'000'000ll)
        return;
    if (!s.last_warn_ns_.compare_exchange_strong(last, now))
        return;
    std::string msg = fmt::format("gfplab: page allocation failure: order:{}, mode:{}, "
                                  "nodemask=(null), scope stack: {}",
                                  order, gfp_describe(gfp), format_scope_stack());
    for (int nid = 0; nid < s.nr_nodes(); nid++)
        for (const zone &z : s.node(nid).node_zones)
            if (z.populated())
                msg += fmt::format("\n  Node {} {} free:{}kB min:{}kB low:{}kB high:{}kB "
                                   "reserved_highatomic:{}KB managed:{}kB",
                                   z.node, z.name, z.page_state(NR_FREE_PAGES) * 4,
                                   z.min_wmark_pages() * 4, z.low_wmark_pages() * 4,
                                   z.high_wmark_pages() * 4, z.nr_reserved_highatomic.load() * 4,
                                   z.managed_pages * 4);
    s.log(msg);
}

} // namespace gfplab
