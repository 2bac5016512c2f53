// SPDX-License-Identifier: MIT
//
// The kernel backend: 6.12's buddy allocator (lib/src/buddy/) behind the frame_backend
// interface. Every call takes zone->lock once, for a whole batch where there is one
// (rmqueue_bulk() and free_pcppages_bulk() do the same), and hands the CPU to the lock
// guard so that the free-list counter updates go to that CPU's vmstat delta. The any-context
// paths of 6.15 (ALLOC_TRYLOCK, FPI_TRYLOCK) only trylock it: an allocation then fails, a
// free is deferred to the next free that takes the lock.
#include "../buddy/buddy.hpp"
#include "../trace/tracepoint.hpp"
#include "backend.hpp"

#include <gfplab/alloc_flags.hpp>
#include <gfplab/gfp.hpp>

#include <fmt/format.h>

namespace gfplab {

thread_local bool t_trylock_busy = false;

namespace {

class kernel_backend final : public frame_backend {
  public:
    explicit kernel_backend(zone &z) : z_(z) {
        for (auto &a : z.area) {
            a.head.fill(pfn_nil);
            a.tail.fill(pfn_nil);
        }
        // Hand the zone to the buddy allocator in maximal blocks (memblock_free_all).
        zone_lock_guard guard(z, 0);
        for (unsigned long pfn = z.zone_start_pfn; pfn < z.end_pfn(); pfn += 1ul << MAX_PAGE_ORDER)
            buddy::free_one_page(z, z.mem_map + pfn, pfn, MAX_PAGE_ORDER);
    }

    const char *name() const noexcept override { return "kernel"; }

    page *rmqueue(unsigned order, migratetype mt, unsigned alloc_flags, unsigned cpu) override {
        // rmqueue_buddy() since 6.15: an ALLOC_TRYLOCK request gives up rather than wait.
        if (alloc_flags & ALLOC_TRYLOCK) {
            if (!zone_trylock(z_)) {
                t_trylock_busy = true;
                return nullptr;
            }
            zone_lock_guard guard(z_, cpu, std::adopt_lock);
            return buddy::rmqueue(z_, order, mt, alloc_flags);
        }
        zone_lock_guard guard(z_, cpu);
        return buddy::rmqueue(z_, order, mt, alloc_flags);
    }

    unsigned long rmqueue_bulk(unsigned order, migratetype mt, unsigned alloc_flags, unsigned cpu,
                               unsigned long count, std::uint32_t *head,
                               std::uint32_t *tail) override {
        if (alloc_flags & ALLOC_TRYLOCK) {
            if (!zone_trylock(z_)) {
                t_trylock_busy = true;
                return 0;
            }
            zone_lock_guard guard(z_, cpu, std::adopt_lock);
            return take_bulk(order, mt, alloc_flags, count, head, tail);
        }
        zone_lock_guard guard(z_, cpu);
        return take_bulk(order, mt, alloc_flags, count, head, tail);
    }

    void free_one(page *p, unsigned order, unsigned cpu, fpi_t fpi) override {
        const auto pfn = static_cast<unsigned long>(p - z_.mem_map);
        if (fpi & FPI_TRYLOCK) {
            if (!zone_trylock(z_))
                return defer(p, order);
            zone_lock_guard guard(z_, cpu, std::adopt_lock);
            buddy::free_one_page(z_, p, pfn, order);
            return;
        }
        // free_one_page(): whoever holds the lock without FPI_TRYLOCK frees the deferred
        // blocks too.
        zone_lock_guard guard(z_, cpu);
        free_deferred();
        buddy::free_one_page(z_, p, pfn, order);
    }

    void free_bulk(std::uint32_t head, unsigned long n, unsigned cpu) override {
        zone_lock_guard guard(z_, cpu);
        pcp_unchain chain(z_.mem_map, head, n);
        while (page *p = chain.pop()) {
            const auto pfn = static_cast<unsigned long>(p - z_.mem_map);
            const unsigned order = p->order;
            buddy::free_one_page(z_, p, pfn, order);
            trace_mm_page_pcpu_drain(z_, p, order, z_.pageblock_migratetype(pfn));
        }
    }

    bool has_block(unsigned order, migratetype mt) const noexcept override {
        return z_.area[order].has(mt);
    }

    unsigned long nr_free_blocks(unsigned order) const noexcept override {
        unsigned long blocks = 0;
        for (const auto &n : z_.area[order].nr_free)
            blocks += n.load(std::memory_order_relaxed);
        return blocks;
    }

    int find_suitable_fallback(unsigned order, migratetype mt, bool only_stealable,
                               bool &can_steal) const noexcept override {
        return buddy::find_suitable_fallback(z_, order, mt, only_stealable, can_steal);
    }

    void reserve_highatomic(page *p, unsigned order, unsigned cpu) override {
        zone_lock_guard guard(z_, cpu);
        buddy::reserve_highatomic_pageblock(z_, p, order);
    }

    bool unreserve_highatomic(bool force, migratetype to, unsigned cpu) override {
        zone_lock_guard guard(z_, cpu);
        return buddy::unreserve_highatomic_pageblock(z_, force, to);
    }

    unsigned long verify_free(free_frame_walker &w, unsigned long *highatomic) override
        GFPLAB_REQUIRES(z_.lock);

  private:
    unsigned long take_bulk(unsigned order, migratetype mt, unsigned alloc_flags,
                            unsigned long count, std::uint32_t *head, std::uint32_t *tail)
        GFPLAB_REQUIRES(z_.lock) {
        pcp_chain chain(z_.mem_map, order, head, tail);
        while (chain.size() < count) {
            page *p = buddy::rmqueue_one(z_, order, mt, alloc_flags);
            if (!p)
                break;
            chain.add(std::uint32_t(p - z_.mem_map));
        }
        return chain.finish();
    }

    // add_page_to_zone_llist(): a block whose FPI_TRYLOCK free found zone->lock busy, pushed
    // on a lock-free stack linked through lru.next; not free (nor counted) until taken off.
    void defer(page *p, unsigned order) noexcept {
        p->order = std::uint8_t(order);
        const auto pfn = std::uint32_t(p - z_.mem_map);
        std::uint32_t top = deferred_.load(std::memory_order_relaxed);
        do
            p->lru.next = top;
        while (!deferred_.compare_exchange_weak(top, pfn, std::memory_order_release));
    }

    void free_deferred() GFPLAB_REQUIRES(z_.lock) {
        if (deferred_.load(std::memory_order_relaxed) == pfn_nil)
            return;
        for (std::uint32_t pfn = deferred_.exchange(pfn_nil, std::memory_order_acquire);
             pfn != pfn_nil;) {
            page *p = z_.mem_map + pfn;
            const std::uint32_t next = p->lru.next;
            p->lru.next = pfn_nil;
            buddy::free_one_page(z_, p, pfn, p->order);
            pfn = next;
        }
    }

    zone &z_;
    sync::atom<std::uint32_t> deferred_{pfn_nil};
};

// Walks every free list: each block well formed (flagged free with its order, aligned, in
// the zone, linked both ways), on the list of its pageblock's type (I6, since 6.10), and
// the lists' counts equal to their lengths. verify() holds zone->lock.
unsigned long kernel_backend::verify_free(free_frame_walker &w, unsigned long *highatomic) {
    free_deferred();
    unsigned long free_pages = 0;
    for (unsigned order = 0; order < NR_PAGE_ORDERS; order++) {
        for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
            const std::string_view mt_name = migratetype_name(migratetype(mt));
            unsigned long entries = 0;
            std::uint32_t prev = pfn_nil;
            for (std::uint32_t pfn = z_.area[order].head[mt]; pfn != pfn_nil;
                 prev = pfn, pfn = z_.mem_map[pfn].lru.next) {
                const page &p = z_.mem_map[pfn];
                if (!z_.contains(pfn) || entries > z_.spanned_pages) {
                    w.bad(invariant::counters, "corrupt free list",
                          fmt::format("order {} {} list reaches pfn {:#x} outside the zone", order,
                                      mt_name, pfn));
                    break;
                }
                entries++;
                if (!(p.flags.load() & PG_buddy) || p.order != order || p.lru.prev != prev ||
                    (pfn & ((1u << order) - 1)))
                    w.bad(invariant::counters, "corrupt free block",
                          fmt::format("pfn {:#x} on the order {} {} list has flags {:#x}, order "
                                      "{}, prev {:#x}",
                                      pfn, order, mt_name, p.flags.load(), p.order, p.lru.prev),
                          pfn);
                if (z_.pageblock_migratetype(pfn) != mt)
                    w.bad(invariant::migratetype, "free block on the wrong list",
                          fmt::format("pfn {:#x} (order {}) is on the {} list but its pageblock "
                                      "is {}",
                                      pfn, order, mt_name,
                                      migratetype_name(z_.pageblock_migratetype(pfn))),
                          pfn);
                w.cover(pfn, 1ul << order, "free block");
                free_pages += 1ul << order;
                if (mt == MIGRATE_HIGHATOMIC)
                    *highatomic += 1ul << order;
            }
            if (entries != z_.area[order].nr_free[mt].load())
                w.bad(invariant::counters, "free count",
                      fmt::format("order {} {}: nr_free says {}, the list holds {}", order, mt_name,
                                  z_.area[order].nr_free[mt].load(), entries));
        }
    }
    return free_pages;
}

} // namespace

std::unique_ptr<frame_backend> make_kernel_backend(zone &z) {
    return std::make_unique<kernel_backend>(z);
}

} // namespace gfplab
