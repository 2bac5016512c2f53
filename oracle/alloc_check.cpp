// SPDX-License-Identifier: MIT
//
// oracle/alloc_check.cpp - placement (I5) and watermark-floor (I4) checks of each page
// allocation against the reference model (see alloc_check.hpp for the bound I4 uses).

#include "alloc_check.hpp"

#include <gfplab/kvfree_rcu.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace gfplab::ref {

namespace {

constexpr const char *zone_label[MAX_NR_ZONES] = {"DMA", "DMA32", "Normal", "Movable"};

} // namespace

window_guard::window_guard(alloc_checker &c, unsigned long bound) noexcept : c_(c), bound_(bound) {
    if (bound_ == ~0ul) {
        c_.unbounded_inflight_.fetch_add(1);
        c_.unbounded_started_.fetch_add(1);
        return;
    }
    // Read what was running before this step starts taking pages; every read here is
    // seq_cst, so a step that starts later finds this one in its own reads, or this one
    // finds it in finish()'s.
    inflight_before_ = c_.inflight_.fetch_add(bound_);
    started_before_ = c_.started_.fetch_add(bound_);
    unbounded_before_ = c_.unbounded_started_.load();
    unbounded_inflight_ = c_.unbounded_inflight_.load() != 0;
}

window_guard::~window_guard() {
    if (bound_ == ~0ul)
        c_.unbounded_inflight_.fetch_sub(1);
    else
        c_.inflight_.fetch_sub(bound_);
}

alloc_checker::alloc_checker(System &s, bool exact_counts)
    : s_(s), model_(s.config(), s.nr_cpus()), exact_counts_(exact_counts) {}

alloc_checker::scope::scope(alloc_checker &c, const alloc_request &r)
    : c_(c), r_(r), w_(c, c.model_.take_bound(r.order)),
      slowpath_before_(c.s_.stats().slowpath.load()),
      bg_before_(kvfree_rcu_block_allocations(c.s_)), victim_before_(current_is_oom_victim()) {
    if (!c.exact_counts_ || (scoped_mask(r.gfp, r.task_flags) & __GFP_DIRECT_RECLAIM))
        return;
    for (int nid = 0; nid < c.model_.nodes(); nid++)
        for (int zi = 0; zi < MAX_NR_ZONES; zi++)
            seen_.push_back(c.s_.node(nid).node_zones[zi].page_state(NR_FREE_PAGES));
}

std::vector<finding> alloc_checker::scope::finish(const page *p) {
    if (!p)
        return {};
    // The free count first, then what ran meanwhile (see window_guard): a step that takes
    // pages before the count is read has started before the window counters are read.
    const zone_facts *z = c_.model_.zone_of(c_.s_.page_to_pfn(p));
    const long now = z ? c_.free_now(*z) : 0;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // alloc_pages_nolock() has no slow path, and its one attempt checks the min mark.
    const bool fast = !r_.nolock && c_.s_.stats().slowpath.load() == slowpath_before_;
    const bool victim = victim_before_ || current_is_oom_victim();
    bool known = !w_.unbounded_inflight_ && c_.unbounded_started_.load() == w_.unbounded_before_;
    // A block allocation for kvfree_rcu() started meanwhile on a thread the harness does
    // not run: its take is unknown. One that started before may still be taking its page.
    known = known && kvfree_rcu_block_allocations(c_.s_) == bg_before_;
    const unsigned long others =
        w_.inflight_before_ + (c_.started_.load() - w_.started_before_ - w_.bound_);
    return c_.check(r_, p, fast, victim, others, known, seen_, now);
}

long alloc_checker::free_now(const zone_facts &z) const noexcept {
    const zone &live = s_.node(z.nid).node_zones[z.idx];
    return exact_counts_ ? live.page_state_snapshot(NR_FREE_PAGES) : live.page_state(NR_FREE_PAGES);
}

std::vector<finding> alloc_checker::check_placement(const alloc_request &r, const page *p) const {
    std::vector<finding> out;
    placed_.fetch_add(1, std::memory_order_relaxed);
    const gfp_t eff = scoped_mask(r.gfp, r.task_flags);
    const int highest = highest_zone(eff);
    const unsigned long pfn = s_.page_to_pfn(p), n = 1ul << r.order;
    const zone_facts *z = model_.zone_of(pfn);
    if (!z || !z->populated()) {
        out.push_back({5, "page outside every zone",
                       fmt::format("order-{} block at pfn {:#x} for {:#x}", r.order, pfn, eff)});
        return out;
    }
    if (pfn + n > z->end_pfn)
        out.push_back({5, "block straddles a zone boundary",
                       fmt::format("order-{} block at pfn {:#x} runs past node {} {}'s end {:#x}",
                                   r.order, pfn, z->nid, zone_label[z->idx], z->end_pfn)});
    if (highest >= 0 && z->idx > highest)
        out.push_back({5, "page from a zone the mask excludes",
                       fmt::format("pfn {:#x} is in {} (node {}), but mask {:#x} (after the "
                                   "task's scopes) allows zones up to {} only",
                                   pfn, zone_label[z->idx], z->nid, eff, zone_label[highest])});
    if ((eff & __GFP_THISNODE) && r.thisnode >= 0 && z->nid != r.thisnode)
        out.push_back({5, "__GFP_THISNODE page from another node",
                       fmt::format("pfn {:#x} is on node {}, the request was bound to node {}", pfn,
                                   z->nid, r.thisnode)});
    if (p->node != z->nid || p->zone != z->idx)
        out.push_back({5, "page metadata names another zone",
                       fmt::format("pfn {:#x} is in node {} {} by the configured boundaries, "
                                   "its struct page says node {} zone {}",
                                   pfn, z->nid, zone_label[z->idx], p->node, p->zone)});
    return out;
}

std::vector<finding> alloc_checker::check(const alloc_request &r, const page *p, bool fast,
                                          bool victim, unsigned long others, bool others_known,
                                          const std::vector<long> &seen, long now) const {
    std::vector<finding> out = check_placement(r, p);
    const gfp_t eff = scoped_mask(r.gfp, r.task_flags);
    const int highest = highest_zone(eff);
    const zone_facts *z = model_.zone_of(s_.page_to_pfn(p));
    if (!out.empty() || highest < 0 || !z)
        return out;
    const requester who{r.task_flags, victim};
    const std::optional<long> floor = watermark_floor(eff, who, z->min, z->low, fast);
    if (!floor)
        return out;
    if (!others_known) {
        skipped_.fetch_add(1, std::memory_order_relaxed);
        return out;
    }
    floors_.fetch_add(1, std::memory_order_relaxed);
    const unsigned long own = model_.take_bound(*z, r.order);
    if (!others)
        exact_.fetch_add(1, std::memory_order_relaxed);
    // kvfree_rcu()'s monitor thread may be inside one block allocation it started earlier.
    if (s_.config().kfree_rcu_thread)
        others += model_.take_bound(0);
    const long reserve = highest > z->idx ? z->lowmem_reserve[highest] : 0;
    // The count the allocator compared can have been at most this; it needs more than
    // floor + reserve after setting aside all but one page of the block.
    const long drift = exact_counts_ ? z->drift_bound : 2 * z->drift_bound;
    long seen_at_most = now + long(own) + long(others) + drift;
    if (!seen.empty())
        seen_at_most = std::min(seen_at_most, seen[z->nid * MAX_NR_ZONES + z->idx]);
    const long needed = *floor + reserve + long(1ul << r.order) - 1;
    if (seen_at_most <= needed)
        out.push_back(
            {4, "allocation below its class's watermark floor",
             fmt::format("node {} {} served order {} for {:#x} ({}) with at most {} pages free "
                         "when it said yes ({} now, up to {} taken by this request, {} by others "
                         "in flight, drift {}); its floor is {} + lowmem_reserve[{}] {} (min {}, "
                         "low {})",
                         z->nid, zone_label[z->idx], r.order, eff, floor_class(eff, who, fast),
                         seen_at_most, now, own, others, drift, *floor, zone_label[highest],
                         reserve, z->min, z->low)});
    return out;
}

} // namespace gfplab::ref
