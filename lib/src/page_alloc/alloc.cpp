// SPDX-License-Identifier: MIT
//
// The allocation path: entry checks, the fast path at the low watermark, and the slow path.
// Reclaim (kswapd, direct reclaim, OOM) lands with the reclaim issue; until then the slow
// path does everything else the kernel's does (min watermark, reserves, NOFAIL) and a
// request that would need reclaim fails, or for __GFP_NOFAIL waits for frees.
#include "page_allocator.hpp"

#include "../buddy/buddy.hpp"
#include "../pcp/pcp.hpp"
#include "../reclaim/vmscan.hpp"

#include <gfplab/alloc_flags.hpp>
#include <gfplab/lockdep.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/watermark.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <sched.h>
#include <thread>

namespace gfplab {
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

// Who holds a page (I1): the allocating thread's number and its own allocation count. Per
// thread, so the fast path writes no shared cache line for it.
std::uint32_t next_owner_tag() noexcept {
    static std::atomic<std::uint32_t> threads{0};
    // Constant-initialised thread_locals: no TLS guard on the fast path.
    static constinit thread_local std::uint32_t id = 0;
    static constinit thread_local std::uint32_t seq = 0;
    if (!id) [[unlikely]]
        id = threads.fetch_add(1, std::memory_order_relaxed) % 4095 + 1;
    return id << 20 | (++seq & 0xfffff);
}

bool watermark_fast(const zone &z, unsigned order, unsigned long mark, zone_type highest,
                    unsigned alloc_flags) {
    if (order == 0 && zone_watermark_fast_order0(
                          z.page_state(NR_FREE_PAGES), mark, z.lowmem_reserve[highest], alloc_flags,
                          z.nr_free_highatomic.load(std::memory_order_relaxed)))
        return true;
    auto probe = [&z](unsigned o, int mt) { return z.area[o].has(migratetype(mt)); };
    zone_wmark_state st;
    st.free_pages = z.page_state(NR_FREE_PAGES);
    st.lowmem_reserve = z.lowmem_reserve[highest];
    st.nr_free_highatomic = z.nr_free_highatomic.load(std::memory_order_relaxed);
    st.watermark_boost = z.watermark_boost.load(std::memory_order_relaxed);
    st.min_unboosted = z._watermark[WMARK_MIN];
    st.free_area = probe;
    return zone_watermark_fast(st, order, mark, alloc_flags);
}

page *rmqueue(System &s, zone &z, unsigned order, unsigned alloc_flags, migratetype mt) {
    // Small orders come from this CPU's list; a busy or exhausted list means the buddy
    // allocator itself, with the highatomic rules (rmqueue()).
    page *p = nullptr;
    if (pcp::pcp_allowed_order(order))
        p = s.pcp_area().alloc(z, order, mt, alloc_flags);
    if (!p) {
        std::lock_guard guard(z.lock);
        p = buddy::rmqueue(z, order, mt, alloc_flags);
    }
    // A fallback boosted the watermarks: have kswapd reclaim ahead of the next one, however
    // this page was served (test first: the flag is rarely set).
    if ((alloc_flags & ALLOC_KSWAPD) &&
        (z.flags.load(std::memory_order_relaxed) & ZONE_BOOSTED_WATERMARK)) [[unlikely]] {
        z.flags.fetch_and(~ZONE_BOOSTED_WATERMARK, std::memory_order_relaxed);
        s.stats().kswapd_wakeups.fetch_add(1, std::memory_order_relaxed);
        wakeup_kswapd(s, z, 0, 0, z.idx);
    }
    return p;
}

} // namespace

namespace {
thread_local unsigned vcpu = 0;
}

void set_current_vcpu(unsigned cpu) noexcept {
    vcpu = cpu;
}
unsigned current_vcpu() noexcept {
    return vcpu;
}

unsigned current_cpu(const System &s) noexcept {
    if (s.config().pcp == pcp_mode::virtual_cpus)
        return vcpu % s.nr_cpus();
    int cpu = sched_getcpu();
    return cpu < 0 ? 0 : unsigned(cpu) % s.nr_cpus();
}

// I5, online: the page lies in a zone the mask allows (at or below gfp_zone()) and, with
// __GFP_THISNODE, on the preferred node.
void check_placement(System &s, const page *p, unsigned order, gfp_t gfp, const alloc_context &ac) {
    const bool zone_ok = zone_type(p->zone) <= ac.highest_zoneidx;
    const bool node_ok = !(gfp & __GFP_THISNODE) || p->node == ac.preferred_nid;
    if (zone_ok && node_ok) [[likely]]
        return;
    s.report({5, "placement",
              fmt::format("mode:{} order {} got pfn {:#x} in node {} zone {}, but the mask allows "
                          "zones up to {}{}",
                          gfp_describe(gfp), order, s.page_to_pfn(p), p->node,
                          zone_name(zone_type(p->zone)), zone_name(ac.highest_zoneidx),
                          gfp & __GFP_THISNODE ? fmt::format(" on node {} only", ac.preferred_nid)
                                               : std::string()),
              gfp, int(order), (long long)s.page_to_pfn(p), format_scope_stack()});
}

page *page_allocator::get_page_from_freelist(System &s, gfp_t gfp, unsigned order,
                                             unsigned alloc_flags, const alloc_context &ac) {
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
            if (watermark_fast(z, order, z.high_wmark_pages(), ac.highest_zoneidx, alloc_flags))
                goto try_this_zone;
            z.flags.fetch_or(ZONE_BELOW_HIGH, std::memory_order_relaxed);
        }
        if (!watermark_fast(z, order,
                            z.wmark_pages(zone_watermarks(alloc_flags & ALLOC_WMARK_MASK)),
                            ac.highest_zoneidx, alloc_flags) &&
            !(alloc_flags & ALLOC_NO_WATERMARKS))
            continue;
    try_this_zone:
        if (page *p = rmqueue(s, z, order, alloc_flags, ac.mt)) {
            // A successful high-order atomic allocation sets its pageblock aside for the
            // next one (only the slow path grants ALLOC_HIGHATOMIC, and only for order > 0).
            if (alloc_flags & ALLOC_HIGHATOMIC) [[unlikely]] {
                std::lock_guard guard(z.lock);
                buddy::reserve_highatomic_pageblock(z, p, order);
            }
            prep_new_page(s, p, order, gfp, ac.mt);
            if (s.config().checking != check_level::off)
                check_placement(s, p, order, gfp, ac);
            return p;
        }
    }
    if (no_fallback) {
        alloc_flags &= ~ALLOC_NOFRAGMENT;
        goto retry;
    }
    return nullptr;
}

void page_allocator::prep_new_page(System &s, page *p, unsigned order, gfp_t gfp, migratetype mt) {
    const unsigned long n = 1ul << order;
    const bool checking = s.config().checking != check_level::off;
    // I1: the head of a block coming off the free lists is nobody's.
    if (checking && (p->refcount.load(std::memory_order_relaxed) != 0 ||
                     (p->flags.load(std::memory_order_relaxed) & (PG_owned | PG_buddy))))
        s.report({1, "page handed out twice",
                  fmt::format("pfn {:#x} order {} comes off the free lists still owned (flags "
                              "{:#x}, refcount {})",
                              s.page_to_pfn(p), order, p->flags.load(), p->refcount.load()),
                  gfp, int(order), (long long)s.page_to_pfn(p), format_scope_stack()});
    // Full checking looks at every page of the block: none may belong to anyone else.
    if (s.config().checking == check_level::full)
        for (unsigned long i = 1; i < n; i++) {
            const std::uint32_t f = p[i].flags.load(std::memory_order_relaxed);
            if ((f & (PG_owned | PG_buddy | PG_pcp | PG_tail | PG_head)) ||
                p[i].refcount.load(std::memory_order_relaxed) != 0) {
                s.report({1, "page handed out twice",
                          fmt::format("pfn {:#x}, page {} of the order {} block at pfn {:#x}, is "
                                      "still in use (flags {:#x})",
                                      s.page_to_pfn(p + i), i, order, s.page_to_pfn(p), f),
                          gfp, int(order), (long long)s.page_to_pfn(p + i), format_scope_stack()});
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
                    s.report(
                        {12, "poison overwritten",
                         fmt::format("pfn {:#x}: byte {:#x} is {:#04x}, not the poison {:#04x}: "
                                     "written after it was freed",
                                     s.page_to_pfn(&q), off, b[off], page_poison),
                         gfp, int(order), (long long)s.page_to_pfn(&q), format_scope_stack()});
                    break;
                }
        }
    }
    if (gfp & __GFP_ZERO)
        std::memset(mem, 0, n << PAGE_SHIFT);

    p->alloc_mt.store(std::uint8_t(mt), std::memory_order_relaxed);
    p->order = std::uint8_t(order);
    p->owner = next_owner_tag();
    std::uint32_t flags = PG_owned;
    if ((gfp & __GFP_COMP) && order > 0) {
        // prep_compound_page(): tails point at their head.
        flags |= PG_head;
        const auto head = std::uint32_t(s.page_to_pfn(p));
        for (unsigned long i = 1; i < n; i++) {
            p[i].lru.next = head;
            p[i].flags.store(PG_tail, std::memory_order_relaxed);
        }
    }
    p->flags.store(flags, std::memory_order_relaxed);
    p->refcount.store(1, std::memory_order_release);
}

page *System::alloc_pages(gfp_t gfp, unsigned order, srcloc at) {
    return alloc_pages_node(-1, gfp, order, at);
}

namespace {

// What a request's mask decides before any zone is looked at: that it is valid, the mask
// the task's scopes leave, the zonelist, zone bound and migratetype, and the fast path's
// alloc_flags. It depends only on the System, the mask, the order, the node and the task's
// scope flags, and a thread repeats the same request far more often than not, so each
// thread keeps its last one: a hit skips gfp_valid(), current_gfp_context() and the
// zone-type arithmetic (75 of an order-0 allocation's 542 instructions). Nothing reads the
// memo after the copies below, so an allocation nested in reclaim may overwrite it.
struct request_memo {
    std::uint64_t system = 0; // System::serial(); 0 never matches
    gfp_t gfp = 0;
    unsigned order = 0;
    unsigned task_flags = 0;
    int nid = 0;
    gfp_t scoped_gfp = 0;
    unsigned alloc_flags = 0;
    alloc_context ac;
};
constinit thread_local request_memo last_request;

} // namespace

page *System::alloc_pages_node(int nid, gfp_t gfp, unsigned order, srcloc at) {
    const unsigned task_flags = current_task_flags();
    request_memo &m = last_request;
    const bool hit = m.system == serial_ && m.gfp == gfp && m.order == order &&
                     m.task_flags == task_flags && m.nid == nid;
    if (!hit) [[unlikely]] {
        // Requests the kernel treats as bugs are refused before anything is touched (I16).
        if (!gfp_valid(gfp, int(order)) || nid >= nr_nodes()) {
            refuse_request(nid, gfp, order);
            return nullptr;
        }
        m.system = 0;
        m.gfp = gfp;
        m.order = order;
        m.task_flags = task_flags;
        m.nid = nid;
        // gfp_allowed_mask has every bit after boot; the task's scopes narrow the mask.
        m.scoped_gfp = current_gfp_context(gfp);
        m.ac.highest_zoneidx = gfp_zone(m.scoped_gfp);
        m.ac.mt = gfp_migratetype(m.scoped_gfp);
        // Without a node, the preferred one is the current CPU's: only a one-node System
        // can keep the node's part of the answer.
        if (nid >= 0 || nodes_.size() == 1) {
            m.alloc_flags = prefer_node(m.ac, m.scoped_gfp, nid >= 0 ? nid : 0);
            m.system = serial_;
        }
    }
    gfp = m.scoped_gfp;
    alloc_context ac = m.ac;
    unsigned alloc_flags = m.alloc_flags;
    if (m.system != serial_) [[unlikely]] // a multi-node System without a node
        alloc_flags = prefer_node(ac, gfp, cpu_to_node(current_cpu(*this)));
    // might_alloc(): what this allocation could do under the locks the thread holds, whether
    // or not it reclaims this time (only threads holding declared locks pay for it).
    if (current_held_count()) [[unlikely]] {
        might_alloc(gfp, at);
        check_reclaim_recursion(gfp, order, at);
    }
    // prepare_alloc_pages(): an injected failure returns NULL before any other work, and
    // without a warn_alloc() report (fail_page_alloc prints its own when verbose).
    if (fail_page_alloc_.should_fail_alloc_page(gfp, order)) {
        stats_.injected.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }

    page *p = page_allocator::get_page_from_freelist(*this, gfp, order, alloc_flags, ac);
    if (!p)
        p = page_allocator::slowpath(*this, gfp, order, ac);
    // A __GFP_ACCOUNT page the group cannot take goes straight back (memcg charge failure).
    if (p && (gfp & __GFP_ACCOUNT) && !memcg_charge(p, gfp, order)) [[unlikely]] {
        free_pages(p, order);
        stats_.failures.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }
    return p;
}

// The node's part of a request's context: the preferred node, its zonelist for the mask,
// and the fast path's alloc_flags (ALLOC_NOFRAGMENT depends on the node's zones).
unsigned System::prefer_node(alloc_context &ac, gfp_t gfp, int nid) {
    const pglist_data &pgdat = node(nid);
    ac.preferred_nid = nid;
    ac.zonelist = pgdat.zonelists[gfp_zonelist(gfp)].data();
    return fastpath_alloc_flags(
        gfp, ac.highest_zoneidx >= ZONE_NORMAL && pgdat.node_zones[ZONE_NORMAL].populated(),
        pgdat.node_zones[ZONE_DMA32].populated());
}

void System::refuse_request(int nid, gfp_t gfp, unsigned order) {
    std::string why;
    for (const auto &p : gfp_validate(gfp, int(order)))
        if (p.severity == gfp_severity::error)
            why += (why.empty() ? "" : "; ") + p.message;
    if (nid >= nr_nodes())
        why += fmt::format("{}node {} does not exist ({} nodes)", why.empty() ? "" : "; ", nid,
                           nr_nodes());
    stats_.refused.fetch_add(1, std::memory_order_relaxed);
    report({16, "invalid request",
            fmt::format("alloc_pages(mode:{}, order:{}): {}", gfp_describe(gfp), order, why), gfp,
            int(order), -1, format_scope_stack()});
}

// I9, the declared side: an allocation that may reclaim in a context where a registered
// shrinker takes a lock this thread holds would deadlock the moment that shrinker runs on
// this thread. Reported once per (lock, shrinker) pair, counted every time.
void System::check_reclaim_recursion(gfp_t gfp, unsigned order, srcloc at) {
    if (!(gfp & __GFP_DIRECT_RECLAIM) || (current_task_flags() & PF_MEMALLOC))
        return;
    shrinkers_->for_each_declared_lock([&](const char *name, const lock_class &lock, gfp_t when) {
        if ((gfp & when) != when || !current_holds(lock))
            return;
        stats_.recursion_hazards.fetch_add(1, std::memory_order_relaxed);
        {
            std::lock_guard<std::mutex> g(hazards_lock_);
            std::pair<unsigned, std::string> key{lock.id(), name};
            if (std::find(hazards_reported_.begin(), hazards_reported_.end(), key) !=
                hazards_reported_.end())
                return;
            hazards_reported_.push_back(std::move(key));
        }
        std::string held;
        for (const auto &h : current_held_locks())
            if (h.cls == &lock)
                held = fmt::format("{}:{}", h.file, h.line);
        report({9, "possible reclaim recursion deadlock",
                fmt::format("alloc_pages(mode:{}, order:{}) at {}:{} holds {} (taken at {}); "
                            "the reclaim it may enter calls shrinker {}, which takes {} with {}",
                            gfp_describe(gfp), order, at.file_name(), at.line_no(), lock.name(),
                            held, name, lock.name(), gfp_describe(when)),
                gfp, int(order), -1, format_scope_stack()});
    });
}

void System::warn_alloc(gfp_t gfp, unsigned order) {
    if (!cfg_.warn_alloc || (gfp & __GFP_NOWARN))
        return;
    // One report per 10 s, as the kernel's nopage_rs ratelimit since 5.10.
    const long long now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count();
    long long last = last_warn_ns_.load(std::memory_order_relaxed);
    if (last >= 0 && now - last < 10'000'000'000ll)
        return;
    if (!last_warn_ns_.compare_exchange_strong(last, now))
        return;
    std::string msg = fmt::format("gfplab: page allocation failure: order:{}, mode:{}, "
                                  "nodemask=(null), scope stack: {}",
                                  order, gfp_describe(gfp), format_scope_stack());
    for (auto &n : nodes_)
        for (auto &z : n->node_zones)
            if (z.populated())
                msg += fmt::format("\n  Node {} {} free:{}kB min:{}kB low:{}kB high:{}kB "
                                   "reserved_highatomic:{}KB managed:{}kB",
                                   z.node, z.name, z.page_state(NR_FREE_PAGES) * 4,
                                   z.min_wmark_pages() * 4, z.low_wmark_pages() * 4,
                                   z.high_wmark_pages() * 4, z.nr_reserved_highatomic * 4,
                                   z.managed_pages * 4);
    log(msg);
}

} // namespace gfplab
