// SPDX-License-Identifier: MIT
//
// Per-CPU page lists (the kernel's struct per_cpu_pages, mm/page_alloc.c 6.12): for every
// CPU and zone, one list per order 0..PAGE_ALLOC_COSTLY_ORDER and per-CPU migratetype,
// refilled from the buddy allocator `batch` pages at a time and drained back when the CPU
// holds `high` pages or more. Pages on these lists are not free in NR_FREE_PAGES terms.
//
// Two ways to reach a CPU's lists, chosen per System:
//  - rseq: restartable sequences give a real per-CPU critical section with no lock and no
//    atomic read-modify-write (x86-64, glibc's rseq registration, membarrier's rseq fence
//    for remote drains);
//  - locked: a per-CPU trylock, the kernel's pcp->lock; a failed trylock sends the caller to
//    the buddy allocator exactly as rmqueue_pcplist()/free_unref_page() do. The CPU is the
//    one the thread runs on (sched_getcpu) or, with virtual CPUs, the one the caller chose.
// Either way a thread stopped anywhere in here never blocks another thread's allocation.
#pragma once

#include "list_word.hpp"

#include <gfplab/system.hpp>

#include <functional>
#include <memory>
#include <mutex>

namespace gfplab::pcp {

// Lists per zone and CPU: orders 0..3 times the three per-CPU migratetypes (no THP lists).
inline constexpr unsigned nr_pcp_lists = (PAGE_ALLOC_COSTLY_ORDER + 1) * MIGRATE_PCPTYPES;

constexpr bool pcp_allowed_order(unsigned order) noexcept {
    return order <= PAGE_ALLOC_COSTLY_ORDER;
}

class area {
  public:
    area(System &s, bool use_rseq);
    ~area();
    area(const area &) = delete;
    area &operator=(const area &) = delete;

    bool uses_rseq() const noexcept { return rseq_; }
    unsigned ncpus() const noexcept { return region_.ncpus; }

    // A page from this CPU's list for (order, mt), refilling it from the buddy allocator
    // when empty. nullptr when the list is busy or the zone had nothing: the caller then
    // goes to the buddy allocator itself (rmqueue_buddy).
    page *alloc(zone &z, unsigned order, migratetype mt, unsigned alloc_flags);
    // Puts a freed page on this CPU's list and drains the CPU if it now holds high pages or
    // more. false when the list is busy: the caller frees to the buddy allocator.
    bool free(zone &z, page *p, unsigned order);
    // drain_all_pages(): every CPU's lists for zone z (nullptr: all zones) back to the buddy
    // allocator. CPUs whose lists stay busy (a stopped holder in locked mode) are skipped
    // and counted in the return value.
    unsigned drain_all(zone *z);

    // Pages cached for zone z on one CPU (a racy sum) and on all CPUs.
    unsigned long cpu_count(const zone &z, unsigned cpu) const noexcept;
    unsigned long count(const zone &z) const noexcept;
    // Quiescent walk of every cached page of zone z: fn(pfn, order, cpu, list index).
    void for_each_cached(const zone &z,
                         const std::function<void(std::uint32_t, unsigned, unsigned)> &fn) const;

    // Test hook (locked mode only): called with the CPU's lock held on every list operation.
    void set_locked_hook(std::function<void()> hook) { hook_ = std::move(hook); }

  private:
    std::size_t list_offset(const zone &z, unsigned order, migratetype mt) const noexcept;
    unsigned this_cpu() const noexcept;
    template <class Fn>
    outcome locked(std::size_t off, Fn &&fn);
    outcome pop(std::size_t off, std::uint32_t *pfn);
    outcome push(std::size_t off, std::uint32_t head, std::uint32_t tail, std::uint32_t n,
                 std::uint32_t *count);
    outcome steal(std::size_t off, std::uint64_t *word);
    unsigned long refill(zone &z, unsigned order, migratetype mt, unsigned alloc_flags,
                         std::uint32_t *head, std::uint32_t *tail);
    void drain_local(zone &z, unsigned first_list, unsigned long to_free);
    void release_chain(zone &z, std::uint32_t head, unsigned long n);
    // pfn -> its page's lru.next, the links of the list words (list_ops.hpp).
    auto links() const noexcept {
        return [this](std::uint32_t pfn) -> std::uint32_t & {
            return sys_.pfn_to_page(pfn)->lru.next;
        };
    }

    System &sys_;
    bool rseq_;
    percpu_region region_;
    unsigned zone_slots_;
    sync::mutex drain_mutex_; // pcpu_drain_mutex
    std::function<void()> hook_;
};

} // namespace gfplab::pcp
