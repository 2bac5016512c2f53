// SPDX-License-Identifier: MIT
//
// Buddy free lists: doubly linked through struct page by pfn, one list per order and
// migratetype, with NR_FREE_PAGES and the highatomic count kept in step (6.12's
// account_freepages(): every page on a buddy list is free, HIGHATOMIC ones included).
#include "buddy.hpp"

namespace gfplab::buddy {
namespace {

void account_freepages(zone &z, long nr_pages, migratetype mt) GFPLAB_REQUIRES(z.lock) {
    lockdep_assert_zone_held(z);
    z.mod_page_state(NR_FREE_PAGES, nr_pages);
    if (mt == MIGRATE_HIGHATOMIC)
        z.nr_free_highatomic.fetch_add(nr_pages, std::memory_order_relaxed);
}

} // namespace

void add_to_free_list(zone &z, page *p, unsigned order, migratetype mt, bool tail) {
    page *map = z.mem_map;
    auto pfn = std::uint32_t(p - map);
    free_area &a = z.area[order];
    if (tail) {
        p->lru.prev = a.tail[mt];
        p->lru.next = pfn_nil;
        if (a.tail[mt] != pfn_nil)
            map[a.tail[mt]].lru.next = pfn;
        else
            a.head[mt] = pfn;
        a.tail[mt] = pfn;
    } else {
        p->lru.next = a.head[mt];
        p->lru.prev = pfn_nil;
        if (a.head[mt] != pfn_nil)
            map[a.head[mt]].lru.prev = pfn;
        else
            a.tail[mt] = pfn;
        a.head[mt] = pfn;
    }
    p->order = std::uint8_t(order);
    set_page_flags(*p, PG_buddy, std::memory_order_release);
    a.nr_free[mt].store(a.nr_free[mt].load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
    account_freepages(z, 1l << order, mt);
}

void del_page_from_free_list(zone &z, page *p, unsigned order, migratetype mt) {
    page *map = z.mem_map;
    free_area &a = z.area[order];
    if (p->lru.prev != pfn_nil)
        map[p->lru.prev].lru.next = p->lru.next;
    else
        a.head[mt] = p->lru.next;
    if (p->lru.next != pfn_nil)
        map[p->lru.next].lru.prev = p->lru.prev;
    else
        a.tail[mt] = p->lru.prev;
    p->lru.next = p->lru.prev = pfn_nil;
    clear_page_flags(*p, PG_buddy);
    p->order = 0;
    a.nr_free[mt].store(a.nr_free[mt].load(std::memory_order_relaxed) - 1,
                        std::memory_order_relaxed);
    account_freepages(z, -(1l << order), mt);
}

page *get_page_from_free_area(zone &z, unsigned order, migratetype mt) {
    std::uint32_t pfn = z.area[order].head[mt];
    return pfn == pfn_nil ? nullptr : z.mem_map + pfn;
}

} // namespace gfplab::buddy
