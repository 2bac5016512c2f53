// SPDX-License-Identifier: MIT
//
// A node's LRU lists (the kernel's lruvec) and shrink_lruvec(), which reclaim calls on them.
// Private to the library.
#pragma once

#include <gfplab/page.hpp>
#include <gfplab/page_cache.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace gfplab {

struct scan_control;

// One page on an LRU. The page cache keeps its own record rather than linking struct page:
// the page's lru links carry the buddy lists and the memcg id in the model.
struct lru_entry {
    page *pg = nullptr;
    cache_page_id id = 0;
    lru_type type = LRU_FILE;
    zone_type zone = ZONE_NORMAL;
    bool dirty = false;      // PG_dirty (file pages)
    bool referenced = false; // PG_referenced: a second chance before reclaim takes it
};

struct lruvec {
    int nid = 0;
    // The lruvec lock: lists, index and swapped set. Never held across an allocation or a
    // free, so reclaim running inside an allocation can always take it.
    mutable std::mutex lru_lock;
    // Most recently added or rotated at the front; reclaim scans from the back.
    std::array<std::list<lru_entry>, NR_LRU_TYPES> lists;
    std::unordered_map<cache_page_id, std::list<lru_entry>::iterator> index;
    std::unordered_set<cache_page_id> swapped; // anon pages out on swap
    std::uint64_t next_seq = 1;
    // Per zone, for zone_reclaimable_pages() without the lock.
    std::array<std::atomic<long>, MAX_NR_ZONES> nr_file{};
    std::array<std::atomic<long>, MAX_NR_ZONES> nr_anon{};
    std::atomic<long> nr_dirty{0};
};

// shrink_lruvec(): reclaims from node nid's LRU lists with sc's context. Pages it frees
// are credited through the thread's reclaim_state (shrink_node sets one), not here; it adds
// what it scanned to sc.nr_scanned.
void shrink_lruvec(System &s, int nid, scan_control &sc);

} // namespace gfplab
