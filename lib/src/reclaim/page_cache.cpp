// SPDX-License-Identifier: MIT
//
// The page cache's user side: pages join their node's LRU when a user adds them and leave
// it when the user removes them or reclaim takes them (lru.cpp). Every page is allocated
// and freed through the System, outside the lru_lock.
#include <gfplab/page_cache.hpp>

#include "lru.hpp"

#include <gfplab/system.hpp>

namespace gfplab {
namespace {

constexpr unsigned nid_shift = 56;

cache_page_id make_id(int nid, std::uint64_t seq) noexcept {
    return (std::uint64_t(nid) << nid_shift) | seq;
}

void account(lruvec &v, const lru_entry &e, long delta) noexcept {
    auto &c = e.type == LRU_FILE ? v.nr_file[e.zone] : v.nr_anon[e.zone];
    c.fetch_add(delta, std::memory_order_relaxed);
    if (e.dirty)
        v.nr_dirty.fetch_add(delta, std::memory_order_relaxed);
}

} // namespace

page_cache::page_cache(System &s, std::uint64_t swap_pages) : s_(s), swap_pages_(swap_pages) {
    for (int nid = 0; nid < s.nr_nodes(); nid++) {
        vecs_.push_back(std::make_unique<lruvec>());
        vecs_.back()->nid = nid;
    }
}

page_cache::~page_cache() {
    for (auto &v : vecs_)
        for (auto &list : v->lists)
            for (const lru_entry &e : list)
                s_.free_pages(e.pg, 0);
}

lruvec *page_cache::vec_of(cache_page_id id) const noexcept {
    const std::uint64_t nid = id >> nid_shift;
    return id && nid < vecs_.size() ? vecs_[nid].get() : nullptr;
}

bool page_cache::get_swap_page() noexcept {
    std::uint64_t used = swap_used_.load(std::memory_order_relaxed);
    do {
        if (used >= swap_pages_)
            return false;
    } while (!swap_used_.compare_exchange_weak(used, used + 1, std::memory_order_relaxed));
    return true;
}

cache_page_id page_cache::add(lru_type t, bool dirty, int nid, gfp_t gfp) {
    // The allocation may reclaim, from these very lists: no lock is held across it.
    page *p = nid < 0 ? s_.alloc_pages(gfp, 0) : s_.alloc_pages_node(nid, gfp, 0);
    if (!p)
        return 0;
    // folio_add_lru(): the LRU of the node the page came from.
    lruvec &v = *vecs_[p->node];
    lru_entry e;
    e.pg = p;
    e.type = t;
    e.zone = zone_type(p->zone);
    e.dirty = t == LRU_FILE && dirty;
    std::lock_guard<std::mutex> g(v.lru_lock);
    e.id = make_id(v.nid, v.next_seq++);
    auto &list = v.lists[t];
    list.push_front(e);
    v.index.emplace(e.id, list.begin());
    account(v, e, +1);
    return e.id;
}

cache_page_id page_cache::add_file(bool dirty, int nid, gfp_t gfp) {
    return add(LRU_FILE, dirty, nid, gfp);
}

cache_page_id page_cache::add_anon(int nid, gfp_t gfp) {
    return add(LRU_ANON, false, nid, gfp);
}

bool page_cache::mark_dirty(cache_page_id id) {
    lruvec *v = vec_of(id);
    if (!v)
        return false;
    std::lock_guard<std::mutex> g(v->lru_lock);
    auto it = v->index.find(id);
    if (it == v->index.end() || it->second->type != LRU_FILE)
        return false;
    if (!it->second->dirty) {
        it->second->dirty = true;
        v->nr_dirty.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
}

bool page_cache::touch(cache_page_id id) {
    lruvec *v = vec_of(id);
    if (!v)
        return false;
    std::lock_guard<std::mutex> g(v->lru_lock);
    auto it = v->index.find(id);
    if (it == v->index.end())
        return false;
    it->second->referenced = true;
    return true;
}

bool page_cache::swap_in(cache_page_id id, gfp_t gfp) {
    lruvec *v = vec_of(id);
    if (!v)
        return false;
    {
        std::lock_guard<std::mutex> g(v->lru_lock);
        if (!v->swapped.count(id))
            return false;
    }
    // do_swap_page(): a new page, outside the lock (it may reclaim). The model keeps a page
    // on the node its id names, so it comes from that node only.
    page *p = s_.alloc_pages_node(v->nid, gfp | __GFP_THISNODE, 0);
    if (!p)
        return false;
    lru_entry e;
    e.pg = p;
    e.id = id;
    e.type = LRU_ANON;
    e.zone = zone_type(p->zone);
    // A page just faulted in is in use (the kernel maps it young).
    e.referenced = true;
    bool still_swapped;
    {
        std::lock_guard<std::mutex> g(v->lru_lock);
        still_swapped = v->swapped.erase(id) != 0;
    }
    if (!still_swapped) { // removed meanwhile
        s_.free_pages(p, 0);
        return false;
    }
    put_swap_page();
    ev_.pswpin.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> g(v->lru_lock);
    v->lists[LRU_ANON].push_front(e);
    v->index.emplace(id, v->lists[LRU_ANON].begin());
    account(*v, e, +1);
    return true;
}

bool page_cache::remove(cache_page_id id) {
    lruvec *v = vec_of(id);
    if (!v)
        return false;
    page *p = nullptr;
    {
        std::lock_guard<std::mutex> g(v->lru_lock);
        auto it = v->index.find(id);
        if (it == v->index.end()) {
            if (!v->swapped.erase(id))
                return false;
            put_swap_page(); // free_swap_and_cache()
            return true;
        }
        account(*v, *it->second, -1);
        p = it->second->pg;
        v->lists[it->second->type].erase(it->second);
        v->index.erase(it);
    }
    s_.free_pages(p, 0);
    return true;
}

page_state page_cache::state(cache_page_id id) const {
    lruvec *v = vec_of(id);
    if (!v)
        return page_state::gone;
    std::lock_guard<std::mutex> g(v->lru_lock);
    auto it = v->index.find(id);
    if (it == v->index.end())
        return v->swapped.count(id) ? page_state::swapped : page_state::gone;
    if (it->second->type == LRU_ANON)
        return page_state::anon;
    return it->second->dirty ? page_state::dirty : page_state::clean;
}

unsigned long page_cache::lru_size(int nid, lru_type t) const {
    const lruvec &v = *vecs_[std::size_t(nid)];
    std::lock_guard<std::mutex> g(v.lru_lock);
    return v.lists[t].size();
}

unsigned long page_cache::nr_file_pages() const noexcept {
    long n = 0;
    for (auto &v : vecs_)
        for (auto &c : v->nr_file)
            n += c.load(std::memory_order_relaxed);
    return n < 0 ? 0 : static_cast<unsigned long>(n);
}

unsigned long page_cache::nr_dirty() const noexcept {
    long n = 0;
    for (auto &v : vecs_)
        n += v->nr_dirty.load(std::memory_order_relaxed);
    return n < 0 ? 0 : static_cast<unsigned long>(n);
}

unsigned long page_cache::nr_anon_pages() const noexcept {
    long n = 0;
    for (auto &v : vecs_)
        for (auto &c : v->nr_anon)
            n += c.load(std::memory_order_relaxed);
    return n < 0 ? 0 : static_cast<unsigned long>(n);
}

unsigned long page_cache::zone_lru_pages(int nid, zone_type idx, lru_type t) const noexcept {
    const lruvec &v = *vecs_[std::size_t(nid)];
    const long n = (t == LRU_FILE ? v.nr_file : v.nr_anon)[idx].load(std::memory_order_relaxed);
    return n < 0 ? 0 : static_cast<unsigned long>(n);
}

unsigned long page_cache::zone_reclaimable_pages(int nid, zone_type idx) const noexcept {
    const lruvec &v = *vecs_[std::size_t(nid)];
    long n = v.nr_file[idx].load(std::memory_order_relaxed);
    // can_reclaim_anon_pages(): anon counts only while there is swap to put it in.
    if (nr_swap_pages() > 0)
        n += v.nr_anon[idx].load(std::memory_order_relaxed);
    return n < 0 ? 0 : static_cast<unsigned long>(n);
}

page_cache_stats page_cache::stats() const noexcept {
    page_cache_stats st;
    st.pgscan = ev_.pgscan.load();
    st.pgsteal = ev_.pgsteal.load();
    st.pgrotated = ev_.pgrotated.load();
    st.pgwriteback = ev_.pgwriteback.load();
    st.pswpout = ev_.pswpout.load();
    st.pswpin = ev_.pswpin.load();
    return st;
}

} // namespace gfplab
