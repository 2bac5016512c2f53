// SPDX-License-Identifier: MIT
//
// gfplab/page_cache.hpp - the reclaimable user memory of a System: file pages (the page
// cache) and anonymous pages, on per-node LRU lists, and the swap space anon pages go to.
//
// Users put pages there and reclaim takes them away (mm/vmscan.c 6.12 shrink_lruvec,
// reduced): clean file pages are dropped, dirty ones written back first when the reclaim
// context may enter the filesystem, anon pages swapped out when there is swap and the
// context may do IO. A page is named by a cache_page_id that stays valid after reclaim took
// the page: the calls below then return false (or page_state::gone), as a kernel user
// finds a folio gone from the mapping after reclaim.
//
// Each node has one LRU list per type (anon, file) with a referenced bit standing in for
// the active/inactive split: a referenced page gets a second chance (it is rotated and its
// bit cleared) before reclaim may take it (folio_check_references()).
//
// Thread-safe: each node's lists are under the node's lru_lock (the kernel's lruvec lock);
// pages are allocated and freed outside it.
#pragma once

#include <gfplab/linux/gfp_types.h>
#include <gfplab/linux/mmzone.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace gfplab {

class System;
struct lruvec;       // lib/src/reclaim/lru.hpp
struct scan_control; // lib/src/reclaim/vmscan.hpp

// The kernel's lru_list bases: one list per type in the model.
enum lru_type { LRU_ANON = 0, LRU_FILE = 1, NR_LRU_TYPES = 2 };

// Names a page the page cache holds: the node in the top 8 bits, a sequence number below.
// 0 is never a valid id (allocation failure).
using cache_page_id = std::uint64_t;

enum class page_state {
    gone,    // reclaimed (file), removed, or never existed
    clean,   // a clean file page
    dirty,   // a dirty file page
    anon,    // an anon page in memory
    swapped, // an anon page out on swap
};

// Events, the way /proc/vmstat counts them.
struct page_cache_stats {
    std::uint64_t pgscan = 0;      // pages reclaim looked at
    std::uint64_t pgsteal = 0;     // pages reclaim freed (file dropped + anon swapped out)
    std::uint64_t pgrotated = 0;   // pages put back: referenced, or not reclaimable here
    std::uint64_t pgwriteback = 0; // dirty file pages reclaim wrote back
    std::uint64_t pswpout = 0;     // anon pages swapped out
    std::uint64_t pswpin = 0;      // anon pages swapped back in
};

class page_cache {
  public:
    // swap_pages: the swap space in pages (0: no swap, anon pages cannot be reclaimed).
    page_cache(System &s, std::uint64_t swap_pages);
    // Frees every page still cached (the System is still alive).
    ~page_cache();
    page_cache(const page_cache &) = delete;
    page_cache &operator=(const page_cache &) = delete;

    // A new file page (filemap_add_folio), allocated with gfp (the page cache's
    // GFP_HIGHUSER_MOVABLE unless the caller narrows it, e.g. not to reclaim while filling)
    // preferring node nid (-1: the calling CPU's); it joins the LRU of the node it came
    // from. 0 when the allocation failed.
    cache_page_id add_file(bool dirty = false, int nid = -1, gfp_t gfp = GFP_HIGHUSER_MOVABLE);
    // A new anon page (a fault in anonymous memory), likewise.
    cache_page_id add_anon(int nid = -1, gfp_t gfp = GFP_HIGHUSER_MOVABLE);
    // folio_mark_dirty(): false when the page is gone or is not a file page.
    bool mark_dirty(cache_page_id id);
    // folio_mark_accessed(): sets the referenced bit. false when the page is gone or out on
    // swap (swap_in() brings it back).
    bool touch(cache_page_id id);
    // A swap-in fault: allocates the page again (gfp as for add_anon) and frees its swap
    // slot. false when the page is not on swap or the allocation failed.
    bool swap_in(cache_page_id id, gfp_t gfp = GFP_HIGHUSER_MOVABLE);
    // The user drops the page itself (truncate, munmap): frees the page, or the swap slot.
    // false when reclaim (or another remove) got there first.
    bool remove(cache_page_id id);
    page_state state(cache_page_id id) const;

    // Pages on node nid's LRU of that type (in memory; swapped pages are not on an LRU).
    unsigned long lru_size(int nid, lru_type t) const;
    unsigned long nr_file_pages() const noexcept;
    unsigned long nr_dirty() const noexcept;
    unsigned long nr_anon_pages() const noexcept;
    unsigned long nr_swapped() const noexcept { return swap_used_.load(); }
    std::uint64_t total_swap_pages() const noexcept { return swap_pages_; }
    // get_nr_swap_pages(): free swap slots.
    std::uint64_t nr_swap_pages() const noexcept { return swap_pages_ - swap_used_.load(); }

    // Pages of that type in zone (nid, idx), on the LRU (cheap: per zone atomics; the
    // zone's nr_zone_inactive_anon / nr_zone_inactive_file).
    unsigned long zone_lru_pages(int nid, zone_type idx, lru_type t) const noexcept;
    // What reclaim could free in zone (nid, idx) at all: its file pages, plus its anon pages
    // while swap has room (zone_reclaimable_pages(): can_reclaim_anon_pages()). Cheap: per
    // zone atomics.
    unsigned long zone_reclaimable_pages(int nid, zone_type idx) const noexcept;

    page_cache_stats stats() const noexcept;

  private:
    friend void shrink_lruvec(System &s, int nid, scan_control &sc);
    cache_page_id add(lru_type t, bool dirty, int nid, gfp_t gfp);
    lruvec *vec_of(cache_page_id id) const noexcept;
    // Takes one swap slot if there is one.
    bool get_swap_page() noexcept;
    void put_swap_page() noexcept { swap_used_.fetch_sub(1, std::memory_order_relaxed); }

    System &s_;
    const std::uint64_t swap_pages_;
    std::atomic<std::uint64_t> swap_used_{0};
    std::vector<std::unique_ptr<lruvec>> vecs_; // one per node
    struct counters {
        std::atomic<std::uint64_t> pgscan{0}, pgsteal{0}, pgrotated{0}, pgwriteback{0}, pswpout{0},
            pswpin{0};
    } ev_;
};

} // namespace gfplab
