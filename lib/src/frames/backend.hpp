// SPDX-License-Identifier: MIT
//
// The page-frame backend of one zone: what lies below the per-CPU lists. The layers above
// (per-CPU refill and drain, the allocation and free paths, the watermark checks, compaction's
// decisions, the statistics and verify()) reach a zone's free frames only through this
// interface, so that a System can run on either of two implementations:
//  - kernel: 6.12's buddy allocator (lib/src/buddy/) under zone->lock, exact semantics;
//  - lockfree: a non-blocking page-frame allocator (lockfree.cpp) with bitfields and atomic
//    counters per pageblock, after the LLFree design; no lock on any path.
// Both keep the contract the rest relies on: blocks of order 0..MAX_PAGE_ORDER naturally
// aligned within the zone, NR_FREE_PAGES and nr_free_highatomic exact at quiescence, one
// migratetype per pageblock with fallbacks counted, the highatomic reserve.
#pragma once

#include <gfplab/page.hpp>
#include <gfplab/report.hpp>
#include <gfplab/zone.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gfplab {

// What verify() lends a backend for its recount of the free frames.
class free_frame_walker {
  public:
    virtual ~free_frame_walker() = default;
    // [pfn, pfn + n) is free; false (after a report) if it overlaps something counted before.
    virtual bool cover(unsigned long pfn, unsigned long n, const char *what) = 0;
    virtual void bad(invariant inv, const char *what, std::string msg, long long pfn = -1) = 0;
};

// __free_one_page()'s fpi_t flags that a backend honours. FPI_TRYLOCK (6.15; FPI_NOLOCK
// later) is free_pages_nolock()'s: never wait for zone->lock; a block that cannot go back now
// waits on a deferred list until the next free that holds the lock.
using fpi_t = unsigned;
inline constexpr fpi_t FPI_NONE = 0;
inline constexpr fpi_t FPI_TRYLOCK = 1u << 2;

// Set when an ALLOC_TRYLOCK request of this thread found a lock it would otherwise have waited
// for busy (the kernel backend's zone->lock; the lock-free backend has none), so that
// alloc_pages_nolock() can tell "busy" from "short" when it fails. Its reader clears it.
extern thread_local bool t_trylock_busy;

class frame_backend {
  public:
    virtual ~frame_backend() = default;
    virtual const char *name() const noexcept = 0;

    // rmqueue_buddy(): one block of `order` for a request of migratetype mt, with the
    // highatomic rules (ALLOC_HIGHATOMIC tries the reserve first, ALLOC_OOM|ALLOC_NON_BLOCK
    // dip into it last). The head comes back with no PG_buddy and order 0. nullptr if none,
    // or, with ALLOC_TRYLOCK, if the backend would have to wait for a lock (here and in
    // rmqueue_bulk).
    virtual page *rmqueue(unsigned order, migratetype mt, unsigned alloc_flags, unsigned cpu) = 0;
    // rmqueue_bulk(): up to `count` blocks of `order`, marked PG_pcp and chained through
    // lru.next from *head to *tail, NR_FREE_PAGES lowered once; returns how many.
    virtual unsigned long rmqueue_bulk(unsigned order, migratetype mt, unsigned alloc_flags,
                                       unsigned cpu, unsigned long count, std::uint32_t *head,
                                       std::uint32_t *tail) = 0;
    // free_one_page() of a block whose head's flags are already clear (fpi: FPI_*).
    virtual void free_one(page *p, unsigned order, unsigned cpu, fpi_t fpi) = 0;
    // free_pcppages_bulk(): n per-CPU blocks chained from head (PG_pcp set), back below.
    virtual void free_bulk(std::uint32_t head, unsigned long n, unsigned cpu) = 0;

    // Whether a free block of exactly `order` of type mt exists (free_area[o].free_list[mt]
    // non-empty): the watermark check's probe for high orders. Racy, as in the kernel.
    virtual bool has_block(unsigned order, migratetype mt) const noexcept = 0;
    // Free blocks of `order`, all types (free_area[o].nr_free): buddyinfo and the
    // fragmentation index. Racy.
    virtual unsigned long nr_free_blocks(unsigned order) const noexcept = 0;
    // find_suitable_fallback() (buddy.hpp), read without locks.
    virtual int find_suitable_fallback(unsigned order, migratetype mt, bool only_stealable,
                                       bool &can_steal) const noexcept = 0;

    // reserve_highatomic_pageblock() for the block p heads, after an ALLOC_HIGHATOMIC
    // success; unreserve_highatomic_pageblock() (see buddy.hpp).
    virtual void reserve_highatomic(page *p, unsigned order, unsigned cpu) = 0;
    virtual bool unreserve_highatomic(bool force, migratetype to, unsigned cpu) = 0;

    // verify() at quiescence, with zone->lock held: checks the backend's own structures, covers
    // every free frame through w and returns the free pages counted (HIGHATOMIC ones also in
    // *highatomic). Blocks whose FPI_TRYLOCK free was deferred are freed first.
    virtual unsigned long verify_free(free_frame_walker &w, unsigned long *highatomic) = 0;
};

// The chain rmqueue_bulk() hands to the per-CPU lists, built as blocks are taken: each
// block's head gets its order and PG_pcp (PG_poisoned kept) and is linked through lru.next
// after the one before. The pages are the caller's alone until it returns them.
class pcp_chain {
  public:
    pcp_chain(page *mem_map, unsigned order, std::uint32_t *head, std::uint32_t *tail) noexcept
        : mem_map_(mem_map), head_(head), tail_(tail), order_(std::uint8_t(order)) {}

    void add(std::uint32_t pfn) noexcept {
        page &p = mem_map_[pfn];
        p.order = order_;
        set_page_flags(p, PG_pcp);
        p.lru.next = pfn_nil;
        if (last_ == pfn_nil)
            *head_ = pfn;
        else
            mem_map_[last_].lru.next = pfn;
        last_ = pfn;
        n_++;
    }
    unsigned long size() const noexcept { return n_; }
    // Writes the tail (pfn_nil when empty; the head is written by the first add()) and
    // returns rmqueue_bulk()'s answer, the number of blocks.
    unsigned long finish() const noexcept {
        *tail_ = last_;
        return n_;
    }

  private:
    page *const mem_map_;
    std::uint32_t *const head_, *const tail_;
    const std::uint8_t order_;
    std::uint32_t last_ = pfn_nil;
    unsigned long n_ = 0;
};

// The other way, for free_bulk(): up to n blocks of the chain a per-CPU drain hands over
// from `head`, taken off it one at a time with PG_pcp and the link cleared (the order stays
// in page::order); nullptr once n are taken or the chain ends.
class pcp_unchain {
  public:
    pcp_unchain(page *mem_map, std::uint32_t head, unsigned long n) noexcept
        : mem_map_(mem_map), next_(head), left_(n) {}

    page *pop() noexcept {
        if (!left_ || next_ == pfn_nil)
            return nullptr;
        left_--;
        page *p = mem_map_ + next_;
        next_ = p->lru.next;
        clear_page_flags(*p, PG_pcp);
        p->lru.next = pfn_nil;
        return p;
    }

  private:
    page *const mem_map_;
    std::uint32_t next_;
    unsigned long left_;
};

// The backend of a zone, after the zone's memory map, counters and pageblocks are set up;
// hands the whole zone over as free (memblock_free_all()).
std::unique_ptr<frame_backend> make_kernel_backend(zone &z);
std::unique_ptr<frame_backend> make_lockfree_backend(zone &z, unsigned cpus);

// The probe the watermark checks pass for orders above 0.
inline auto free_area_probe_of(const zone &z) noexcept {
    return [&z](unsigned o, int mt) { return z.frames->has_block(o, migratetype(mt)); };
}

} // namespace gfplab
