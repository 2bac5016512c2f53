// SPDX-License-Identifier: MIT
//
// shrink_lruvec(): what reclaim does to a node's LRU lists (mm/vmscan.c 6.12
// get_scan_count, shrink_lruvec, shrink_folio_list, reduced to one list per type with a
// referenced bit). The rules, per page taken from the tail of its list:
//   - referenced: the bit is cleared and the page rotated (a second chance);
//   - a page in a zone above sc.reclaim_idx is passed over (isolate_lru_folios skips it);
//   - clean file: freed;
//   - dirty file: written back, then freed in the same pass, when the context may enter the
//     filesystem (may_enter_fs: __GFP_FS and __GFP_IO) and sc.may_writepage; else rotated.
//     Writeback completes at once in the model (no disk), as pageout() to a synchronous
//     device does, so shrink_folio_list finds the folio clean and frees it right away;
//   - anon: swapped out (the page freed, a swap slot taken) when a slot is free, the context
//     may do IO (__GFP_IO) and sc.may_writepage; else rotated. Without free swap the anon
//     list is not scanned at all (get_scan_count's SCAN_FILE).
// Where the model differs: 6.12 direct reclaim never writes file folios itself (since 3.2
// it leaves them to the flusher threads and throttles), and kswapd writes one only on the
// second encounter of a folio already marked for reclaim on a node flagged dirty. The model
// keeps the GFP contract those rules serve (no filesystem writeback without __GFP_FS|
// __GFP_IO, no swap without __GFP_IO) and lets kswapd write only once it is past its first
// few priorities (priority < DEF_PRIORITY - 2), standing for "the rest was scanned first".
#include "lru.hpp"

#include "vmscan.hpp"

#include <gfplab/scope.hpp>
#include <gfplab/system.hpp>

#include <algorithm>
#include <vector>

namespace gfplab {
namespace {

void unaccount(lruvec &v, const lru_entry &e) noexcept {
    auto &c = e.type == LRU_FILE ? v.nr_file[e.zone] : v.nr_anon[e.zone];
    c.fetch_sub(1, std::memory_order_relaxed);
    if (e.dirty)
        v.nr_dirty.fetch_sub(1, std::memory_order_relaxed);
}

} // namespace

void shrink_lruvec(System &s, int nid, scan_control &sc) {
    page_cache &pc = s.page_cache();
    lruvec &v = *pc.vecs_[std::size_t(nid)];
    const bool kswapd = current_task_flags() & PF_KSWAPD;
    constexpr gfp_t fs_io = __GFP_FS | __GFP_IO;
    const bool may_writeback = (sc.gfp_mask & fs_io) == fs_io && sc.may_writepage &&
                               (!kswapd || sc.priority < DEF_PRIORITY - 2);
    const bool may_swap = (sc.gfp_mask & __GFP_IO) && sc.may_swap && sc.may_writepage;

    // get_scan_count(): 1/2^priority of each list; a small list is still scanned a batch's
    // worth, as the kernel's would be at the low priorities that reach it.
    std::array<unsigned long, NR_LRU_TYPES> nr{};
    {
        std::lock_guard<std::mutex> g(v.lru_lock);
        for (int t = 0; t < NR_LRU_TYPES; t++) {
            const unsigned long size = v.lists[t].size();
            nr[t] = size >> sc.priority;
            if (!nr[t] && size)
                nr[t] = std::min(size, SWAP_CLUSTER_MAX);
        }
    }
    // can_reclaim_anon_pages(): no free swap, no point looking at anon pages; nor when
    // the reclaim may not swap (get_scan_count()'s !sc->may_swap: SCAN_FILE).
    if (!pc.nr_swap_pages() || !sc.may_swap)
        nr[LRU_ANON] = 0;

    unsigned long freed = 0;
    std::vector<page *> victims;
    victims.reserve(SWAP_CLUSTER_MAX);
    while (nr[LRU_FILE] || nr[LRU_ANON]) {
        for (lru_type t : {LRU_FILE, LRU_ANON}) {
            unsigned long batch = std::min(nr[t], SWAP_CLUSTER_MAX);
            nr[t] -= batch;
            if (!batch)
                continue;
            unsigned long scanned = 0, rotated = 0, written = 0, swapped = 0;
            {
                std::lock_guard<std::mutex> g(v.lru_lock);
                auto &list = v.lists[t];
                // Each page at most once per batch, even if users shrank the list meanwhile.
                batch = std::min<unsigned long>(batch, list.size());
                for (unsigned long i = 0; i < batch; i++) {
                    auto it = std::prev(list.end());
                    lru_entry &e = *it;
                    auto rotate = [&] {
                        list.splice(list.begin(), list, it);
                        rotated++;
                    };
                    if (e.zone > sc.reclaim_idx) {
                        list.splice(list.begin(), list, it); // not eligible: not scanned
                        continue;
                    }
                    scanned++;
                    if (e.referenced) {
                        e.referenced = false;
                        rotate();
                        continue;
                    }
                    if (t == LRU_FILE && e.dirty) {
                        if (!may_writeback) {
                            rotate();
                            continue;
                        }
                        // pageout(): written back, clean now.
                        e.dirty = false;
                        v.nr_dirty.fetch_sub(1, std::memory_order_relaxed);
                        written++;
                    } else if (t == LRU_ANON) {
                        // add_to_swap() needs __GFP_IO and a free slot.
                        if (!may_swap || !pc.get_swap_page()) {
                            rotate();
                            continue;
                        }
                        v.swapped.insert(e.id);
                        swapped++;
                    }
                    unaccount(v, e);
                    victims.push_back(e.pg);
                    v.index.erase(e.id);
                    list.erase(it);
                }
            }
            // Freed outside the lruvec lock (free_unref_folios); the thread's reclaim_state
            // credits them to the reclaim in progress.
            for (page *p : victims)
                s.free_pages(p, 0);
            freed += victims.size();
            pc.ev_.pgscan.fetch_add(scanned, std::memory_order_relaxed);
            pc.ev_.pgsteal.fetch_add(victims.size(), std::memory_order_relaxed);
            pc.ev_.pgrotated.fetch_add(rotated, std::memory_order_relaxed);
            pc.ev_.pgwriteback.fetch_add(written, std::memory_order_relaxed);
            pc.ev_.pswpout.fetch_add(swapped, std::memory_order_relaxed);
            // The vm events of shrink_inactive_list(), by reclaimer and by LRU type.
            alloc_stats &ev = s.stats();
            (kswapd ? ev.pgscan_kswapd : ev.pgscan_direct)
                .fetch_add(scanned, std::memory_order_relaxed);
            (kswapd ? ev.pgsteal_kswapd : ev.pgsteal_direct)
                .fetch_add(victims.size(), std::memory_order_relaxed);
            (t == LRU_FILE ? ev.pgscan_file : ev.pgscan_anon)
                .fetch_add(scanned, std::memory_order_relaxed);
            (t == LRU_FILE ? ev.pgsteal_file : ev.pgsteal_anon)
                .fetch_add(victims.size(), std::memory_order_relaxed);
            victims.clear();
            sc.nr_scanned += scanned;
        }
        // Direct reclaim stops once it has its SWAP_CLUSTER_MAX; kswapd keeps to its scan
        // targets (shrink_lruvec's proportional scan).
        if (!kswapd && sc.nr_reclaimed + freed >= sc.nr_to_reclaim)
            break;
    }
}

} // namespace gfplab
