// SPDX-License-Identifier: MIT
//
// The buddy allocator as the per-CPU lists' page_source: rmqueue_bulk() and
// free_pcppages_bulk(), each under one zone->lock for the whole batch.
#include "../buddy/buddy.hpp"
#include "../trace/tracepoint.hpp"
#include "pcp.hpp"

namespace gfplab::pcp {
namespace {

class buddy_source final : public page_source {
  public:
    unsigned long rmqueue_bulk(zone &z, unsigned order, migratetype mt, unsigned alloc_flags,
                               unsigned cpu, unsigned long count, std::uint32_t *head,
                               std::uint32_t *tail) override {
        unsigned long got = 0;
        std::uint32_t last = pfn_nil;
        zone_lock_guard guard(z, cpu);
        for (; got < count; got++) {
            page *p = buddy::rmqueue_one(z, order, mt, alloc_flags);
            if (!p)
                break;
            const auto pfn = std::uint32_t(p - z.mem_map);
            p->order = std::uint8_t(order);
            set_page_flags(*p, PG_pcp); // keep PG_poisoned
            p->lru.next = pfn_nil;
            if (last == pfn_nil)
                *head = pfn;
            else
                z.mem_map[last].lru.next = pfn;
            last = pfn;
        }
        *tail = last;
        return got;
    }

    void free_pcppages_bulk(zone &z, std::uint32_t head, unsigned long n, unsigned cpu) override {
        zone_lock_guard guard(z, cpu);
        for (unsigned long i = 0; i < n && head != pfn_nil; i++) {
            page *p = z.mem_map + head;
            const std::uint32_t next = p->lru.next;
            const unsigned order = p->order;
            clear_page_flags(*p, PG_pcp);
            p->lru.next = pfn_nil;
            buddy::free_one_page(z, p, head, order);
            trace_mm_page_pcpu_drain(z, p, order, z.pageblock_migratetype(head));
            head = next;
        }
    }
};

} // namespace

page_source &buddy_page_source() noexcept {
    static buddy_source source;
    return source;
}

} // namespace gfplab::pcp
