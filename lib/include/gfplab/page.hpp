// SPDX-License-Identifier: MIT
//
// gfplab/page.hpp - struct page: the metadata of one 4 KiB page frame.
//
// One struct page per page frame of the System, in one array indexed by pfn, so pfn <->
// page is pointer arithmetic. It must stay small: docs/design.md allows 1% of managed memory for
// all metadata, i.e. 40 bytes per page; this one is 24.
//
// Who may write what:
//  - a free page (PG_buddy set) belongs to its zone: everything is written under zone->lock;
//  - an allocated page belongs to whoever holds it (the allocating thread until it returns);
//  - flags are atomic because the buddy merge on free reads a neighbour's PG_buddy while
//    the neighbour's owner may be setting up its compound metadata.
#pragma once

#include <gfplab/sync/atom.hpp>

#include <atomic>
#include <cstdint>

namespace gfplab {

// Page flags, a subset of the kernel's PG_* and page types.
enum page_flag : std::uint32_t {
    PG_buddy = 1u << 0,         // free, on a buddy free list; `order` is the block order
    PG_head = 1u << 1,          // first page of a compound page (__GFP_COMP); `order` is its order
    PG_tail = 1u << 2,          // a tail page of a compound page; `lru.next` is the head's pfn
    PG_pcp = 1u << 3,           // free, on a per-CPU list (not counted in NR_FREE_PAGES)
    PG_owned = 1u << 4,         // checking: handed out, head of an allocation of `order`
    PG_poisoned = 1u << 5,      // checking: freed with poisoning on; contents are the poison
    PG_memcg = 1u << 6,         // charged to the mem_cgroup whose id is in lru.prev (memcg_data)
    PG_slab = 1u << 7,          // the head of a slab: its descriptor is the slab layer's
    PG_large_kmalloc = 1u << 8, // the head of a kmalloc() above KMALLOC_MAX_CACHE_SIZE
};

inline constexpr std::uint32_t pfn_nil = 0xffffffffu;

struct page {
    std::atomic<std::uint32_t> flags{0};
    sync::atom<std::int32_t> refcount{0};
    std::uint8_t order = 0; // see PG_buddy and PG_head
    // The migratetype the allocation asked for; read racily by pageblock stealing on other
    // CPUs (as the kernel reads PageLRU), hence atomic.
    std::atomic<std::uint8_t> alloc_mt{0};
    std::uint8_t node = 0; // page_to_nid()
    std::uint8_t zone = 0; // zone_idx() within the node
    struct {
        std::uint32_t next = pfn_nil; // free list links (pfns), or the head pfn on a tail
        std::uint32_t prev = pfn_nil;
    } lru;
    std::uint32_t owner = 0; // checking: who holds it (an allocation sequence number)
};

static_assert(sizeof(page) <= 24, "struct page grew: check the 1% metadata budget");

// Only a page's owner writes its flags (see above), so setting or clearing one is a load and
// a store, not an atomic read-modify-write: the fast path issues none.
inline void set_page_flags(page &p, std::uint32_t f,
                           std::memory_order mo = std::memory_order_relaxed) noexcept {
    p.flags.store(p.flags.load(std::memory_order_relaxed) | f, mo);
}
inline void clear_page_flags(page &p, std::uint32_t f) noexcept {
    p.flags.store(p.flags.load(std::memory_order_relaxed) & ~f, std::memory_order_relaxed);
}

// put_page_testzero(): drops one reference and returns the count before, so exactly one
// caller sees 1 and frees. acq_rel because that caller goes on to poison and reuse the
// memory: it must see every other holder's writes (their release) before it does (its
// acquire). A template over the counter's type so that tests/relacy/ checks this very code.
inline constexpr std::memory_order put_page_order = std::memory_order_acq_rel;
template <class Count>
int put_page_testzero(Count &refcount) noexcept {
    return refcount.fetch_sub(1, put_page_order);
}

} // namespace gfplab
