// SPDX-License-Identifier: MIT
//
// Per-CPU page lists (the kernel's struct per_cpu_pages, mm/page_alloc.c 6.12): for every
// CPU and zone, one list per order 0..PAGE_ALLOC_COSTLY_ORDER and per-CPU migratetype,
// refilled from below `batch` pages at a time and drained back when the CPU holds `high`
// pages or more. Pages on these lists are not free in NR_FREE_PAGES terms.
//
// Three ways to reach a CPU's lists, chosen per System:
//  - rseq: restartable sequences give a real per-CPU critical section with no lock and no
//    atomic read-modify-write (x86-64, glibc's rseq registration, membarrier's rseq fence
//    for remote drains);
//  - locked: a per-CPU trylock, the kernel's pcp->lock; a failed trylock sends the caller to
//    the buddy allocator exactly as rmqueue_pcplist()/free_unref_page() do;
//  - virtual CPUs: the same trylock on the CPU the caller chose (set_current_vcpu).
// Either way a thread stopped anywhere in here never blocks another thread's allocation.
//
// The lists know nothing above them: the caller passes the CPU (this_cpu(), read once per
// operation) and the zone; what lies below is a page_source (the buddy allocator, or a
// fake in tests, as tcmalloc's CpuCache<Forwarder>). The hit paths are inline: they are
// the allocator's fast path. Refill, drain and everything else are out of line.
#pragma once

#include "../compiler.hpp"
#include "high.hpp"
#include "list_ops.hpp"
#include "list_word.hpp"
#include "rseq_list.hpp"

#include <gfplab/zone.hpp>

#include <functional>
#include <span>
#include <vector>

namespace gfplab::pcp {

// Lists per zone and CPU: orders 0..3 times the three per-CPU migratetypes (no THP lists).
inline constexpr unsigned nr_pcp_lists = (PAGE_ALLOC_COSTLY_ORDER + 1) * MIGRATE_PCPTYPES;

constexpr bool pcp_allowed_order(unsigned order) noexcept {
    return order <= PAGE_ALLOC_COSTLY_ORDER;
}

// The kernel's pindex: lists of one order sit together, migratetypes within.
constexpr unsigned list_index(unsigned order, migratetype mt) noexcept {
    return order * MIGRATE_PCPTYPES + unsigned(mt);
}

// What the lists need from below: the zone's page-frame backend, or a fake in tests. Each
// call is one batch (the kernel backend takes zone->lock once for it).
class page_source {
  public:
    virtual ~page_source() = default;
    // rmqueue_bulk(): up to `count` blocks of `order`, marked PG_pcp and chained through
    // lru.next from *head to *tail; returns how many.
    virtual unsigned long rmqueue_bulk(zone &z, unsigned order, migratetype mt,
                                       unsigned alloc_flags, unsigned cpu, unsigned long count,
                                       std::uint32_t *head, std::uint32_t *tail) = 0;
    // free_pcppages_bulk(): n cached blocks, chained from head, back below.
    virtual void free_pcppages_bulk(zone &z, std::uint32_t head, unsigned long n, unsigned cpu) = 0;
};

// The zones' page-frame backends as the lists' page_source (frames_source.cpp).
page_source &zone_frames_source() noexcept;

enum class cpu_mode { rseq, locked, virtual_cpus };

// The lists' per-CPU events that are not list hits (those are counted next to each list,
// list_word.hpp), per CPU and zone: gfplab's own counters (the kernel has no event for a
// refill or a drain), and the parts of pgalloc and pgfree that bypass the lists. They are
// counted off the fast path with a relaxed atomic add on the CPU's own cache lines, since
// their writers do not all hold the CPU's list (a remote drain, a busy trylock's buddy path).
enum pcp_event : unsigned {
    PCP_REFILL,          // rmqueue_bulk() calls that brought blocks to a list
    PCP_REFILL_PAGES,    // pages they brought (the one handed out included)
    PCP_REFILL_ALLOC,    // pages handed out by a refill (part of pgalloc)
    PCP_DRAIN,           // free_pcppages_bulk() calls of a CPU past high
    PCP_DRAIN_PAGES,     // pages they gave back
    PCP_DRAIN_ALL_PAGES, // pages drain_all_pages() took off the CPU's lists
    PCP_BUDDY_ALLOC,     // pages allocated straight from the buddy (part of pgalloc)
    PCP_BUDDY_FREE,      // pages freed straight to the buddy (part of pgfree)
    NR_PCP_EVENTS,
};

// One CPU's events for one zone, summed: what the statistics snapshot reads.
struct cpu_events {
    std::uint64_t alloc_hits[PAGE_ALLOC_COSTLY_ORDER + 1] = {}; // blocks off a list, by order
    std::uint64_t free_hits[PAGE_ALLOC_COSTLY_ORDER + 1] = {};  // blocks onto a list, by order
    std::uint64_t ev[NR_PCP_EVENTS] = {};
    // pgalloc's and pgfree's share of this CPU and zone, in pages.
    std::uint64_t pgalloc() const noexcept;
    std::uint64_t pgfree() const noexcept;
};

// The calling thread's virtual CPU (set_current_vcpu), and in locked mode its last
// sched_getcpu() reading plus one (0: read it again).
extern __thread unsigned t_vcpu;
extern __thread unsigned t_cpu_hint;
// The calling thread's operations below the per-CPU lists in locked mode (this_cpu_fresh()).
extern __thread unsigned t_below_ops;
// Reads sched_getcpu() into t_cpu_hint; returns it modulo ncpus.
unsigned refresh_cpu_hint(unsigned ncpus) noexcept;

// The rseq sequences (rseq_list.hpp), out of line in pcp.cpp; a pop counts the allocation
// hit and a free's push the free hit, each in a sequence of its own. Their asm puts descriptors
// in the __rseq_cs section that point into the function's own text, so it must not be
// emitted in an inline function that several objects carry (the linker would discard all
// copies but one and leave the descriptors of the others dangling).
GFPLAB_INTERNAL outcome rseq_pop_list(const percpu_region &r, std::size_t off, page *mem_map,
                                      std::uint32_t *pfn) noexcept;
GFPLAB_INTERNAL outcome rseq_push_list(const percpu_region &r, std::size_t off, page *mem_map,
                                       std::uint32_t head, std::uint32_t tail, std::uint32_t n,
                                       std::uint32_t *count) noexcept;
// A free's push of one block, which also counts the free hit.
GFPLAB_INTERNAL outcome rseq_free_push_list(const percpu_region &r, std::size_t off, page *mem_map,
                                            std::uint32_t pfn, std::uint32_t *count) noexcept;

class area {
  public:
    // zones: every zone of the System whose pcp_slot indexes the lists (pcp_slot < slots).
    area(std::span<zone *const> zones, unsigned slots, unsigned ncpus, cpu_mode mode,
         page_source &below);
    ~area();
    area(const area &) = delete;
    area &operator=(const area &) = delete;

    cpu_mode mode() const noexcept { return mode_; }
    bool uses_rseq() const noexcept { return mode_ == cpu_mode::rseq; }
    unsigned ncpus() const noexcept { return region_.ncpus; }

    // smp_processor_id() for one operation. rseq: the kernel's own cpu_id (the sequences
    // re-read it and restart on migration, so a stale number only misplaces a drain check).
    // Locked: the trylock makes any CPU's lists safe to use, so the number is only
    // locality: sched_getcpu() is read again after a busy trylock (another thread uses
    // this CPU's lists) and whenever a list runs empty or the CPU past high, not on each
    // operation. Virtual CPUs: the caller's choice.
    GFPLAB_ALWAYS_INLINE unsigned this_cpu() const noexcept {
#if GFPLAB_HAVE_RSEQ
        if (mode_ == cpu_mode::rseq)
            return current_rseq()->cpu_id;
#endif
        if (mode_ == cpu_mode::virtual_cpus)
            return t_vcpu < region_.ncpus ? t_vcpu : t_vcpu % region_.ncpus;
        const unsigned cpu = t_cpu_hint - 1;
        if (cpu >= region_.ncpus) [[unlikely]] // unread, or read for a System with more CPUs
            return refresh_cpu_hint(region_.ncpus);
        return cpu;
    }
    // this_cpu() for an operation below the per-CPU lists (a block the lists do not keep).
    // In locked mode the CPU is read again at every 64th such operation: no list trylock is
    // ever found busy there to tell a thread that it shares its remembered CPU with another,
    // and the lock-free page-frame backend spreads CPUs over the zone by this number (two
    // threads started on one CPU would share its pageblocks for good). Not at every one:
    // sched_getcpu() is a load of glibc's rseq area where the kernel has rseq, tens of
    // instructions where it has not (valgrind).
    unsigned this_cpu_fresh() const noexcept {
        if (mode_ == cpu_mode::locked && !(++t_below_ops % 64)) [[unlikely]]
            return refresh_cpu_hint(region_.ncpus);
        return this_cpu();
    }

    // rmqueue_pcplist(): a page from `cpu`'s list for (order, mt), refilling the list from
    // below when it is empty. nullptr when the list is busy or nothing came: the caller
    // then goes to the buddy allocator itself (rmqueue_buddy).
    GFPLAB_ALWAYS_INLINE page *alloc(zone &z, unsigned order, migratetype mt, unsigned alloc_flags,
                                     unsigned cpu) {
        const std::size_t off = list_offset(z, order, mt);
        std::uint32_t pfn;
        const outcome r = pop(cpu, off, z.mem_map, &pfn); // counts the hit
        if (r != outcome::ok) [[unlikely]]
            return r == outcome::busy ? nullptr : alloc_refill(z, order, mt, alloc_flags, cpu);
        // rmqueue_pcplist(): an allocation halves free_count, so that only frees in a row
        // make drains large (nr_pcp_free).
        halve_free_count(state(z, cpu));
        page *p = z.mem_map + pfn;
        clear_page_flags(*p, PG_pcp);
        p->lru.next = pfn_nil;
        return p;
    }

    // free_unref_page(): puts a freed page on `cpu`'s list, draining the CPU when it holds
    // high pages or more. false when the list is busy: the caller frees to the buddy.
    // MayDrain false is free_pages_nolock()'s (FPI_TRYLOCK): the list may stay above high
    // until a later free drains it, since a drain takes zone->lock.
    template <bool MayDrain = true>
    GFPLAB_ALWAYS_INLINE bool free(zone &z, page *p, unsigned order, unsigned cpu) {
        const auto pfn = std::uint32_t(p - z.mem_map);
        migratetype mt = z.pageblock_migratetype(pfn);
        // Pages of highatomic pageblocks ride on the movable list; the buddy allocator puts
        // them back on their own list when the CPU drains (free_unref_page()).
        if (mt >= MIGRATE_PCPTYPES) [[unlikely]]
            mt = MIGRATE_MOVABLE;
        p->order = std::uint8_t(order);
        set_page_flags(*p, PG_pcp); // keeps PG_poisoned
        std::uint32_t count;
        if (push<true>(cpu, list_offset(z, order, mt), z.mem_map, pfn, pfn, 1, &count) ==
            outcome::busy) [[unlikely]] {
            clear_page_flags(*p, PG_pcp);
            return false;
        }
        // free_unref_page_commit()'s bookkeeping: free_count and PCPF_PREV_FREE_HIGH_ORDER.
        // The kernel keeps one count per CPU and tests it against high on every free. One
        // word per list keeps our commit a single store, so the CPU's total is a sum over its
        // lists, taken every drain_check_interval frees of this zone (and on every free that
        // may be free_high): a CPU may run past high by that many blocks before it drains.
        // The state word is racy (lost updates only delay a check or shift a drain's size).
        auto &st = state(z, cpu);
        const std::uint32_t old = st.load(std::memory_order_relaxed);
        const std::uint32_t now = free_commit(old, order, z.pcp_batch);
        st.store(now, std::memory_order_relaxed);
        if constexpr (!MayDrain)
            return true;
        // free_high's tests but the count, which check_high() sums.
        const bool maybe_free_high = order && state_free_count(old) >= long(z.pcp_batch) &&
                                     (state_flags(old) & PCPF_PREV_FREE_HIGH_ORDER);
        if ((now & ((drain_check_interval - 1) << frees_shift)) == 0 || maybe_free_high)
            [[unlikely]]
            check_high(z, list_index(order, mt), cpu, old);
        return true;
    }

    // drain_all_pages(): every CPU's lists for zone z (nullptr: all zones) back below. CPUs
    // whose lists stay busy (a stopped holder in locked mode) are skipped and counted in
    // the return value.
    unsigned drain_all(zone *z);

    // this_cpu_add() of an event off the fast path (any thread, any mode).
    void count_event(const zone &z, unsigned cpu, pcp_event e, unsigned long n) noexcept {
        event(z, cpu, e).fetch_add(n, std::memory_order_relaxed);
    }
    // One CPU's events for zone z (a racy read while others run; exact at quiescence).
    cpu_events events(const zone &z, unsigned cpu) const noexcept;

    // Pages cached for zone z on one CPU (a racy sum) and on all CPUs.
    unsigned long cpu_count(const zone &z, unsigned cpu) const noexcept;
    unsigned long count(const zone &z) const noexcept;
    // Quiescent walk of every cached page of zone z: fn(pfn, order, list index).
    void for_each_cached(const zone &z,
                         const std::function<void(std::uint32_t, unsigned, unsigned)> &fn) const;

    // Test hook (locked modes only): called with the CPU's lock held on every list operation.
    void set_locked_hook(std::function<void()> hook) {
        hook_ = std::move(hook);
    }

    // PCPF_FREE_HIGH_BATCH for every CPU's pagesets (6.12 sets it per CPU from the size of
    // its share of the last-level cache, which the model does not know: the System says).
    void set_free_high_batch(bool on) noexcept;

  private:
    static constexpr std::uint32_t drain_check_interval = 8;

    // One word per CPU and zone (cpu_block_header::pcp_state): bits 0..15 free_count (it
    // saturates at batch << 5, at most 63 << 5), 16..23 pcp->flags, 24..31 the frees counted
    // towards the next check of high.
    static constexpr unsigned flags_shift = 16, frees_shift = 24;
    static constexpr long state_free_count(std::uint32_t w) noexcept {
        return long(w & 0xffff);
    }
    static constexpr std::uint8_t state_flags(std::uint32_t w) noexcept {
        return std::uint8_t(w >> flags_shift);
    }
    // free_unref_page_commit(): one more free counts, free_count grows by its pages until
    // batch << PCP_BATCH_SCALE_MAX, PCPF_PREV_FREE_HIGH_ORDER follows its order.
    static constexpr std::uint32_t free_commit(std::uint32_t w, unsigned order,
                                               unsigned long batch) noexcept {
        constexpr std::uint32_t prev = std::uint32_t(PCPF_PREV_FREE_HIGH_ORDER) << flags_shift;
        w += 1u << frees_shift; // wraps within the top byte
        if ((w & 0xffff) < (batch << PCP_BATCH_SCALE_MAX))
            w += 1u << order;
        return (w & ~prev) | (order ? prev : 0);
    }
    GFPLAB_ALWAYS_INLINE static void halve_free_count(sync::atom<std::uint32_t> &st) noexcept {
        const std::uint32_t w = st.load(std::memory_order_relaxed);
        st.store(w - ((w & 0xffff) - ((w & 0xffff) >> 1)), std::memory_order_relaxed);
    }
    sync::atom<std::uint32_t> &state(const zone &z, unsigned cpu) const noexcept {
        return region_.header(cpu).pcp_state[z.pcp_slot];
    }

    std::size_t list_offset(const zone &z, unsigned order, migratetype mt) const noexcept {
        return list_offset(z.pcp_slot, list_index(order, mt));
    }
    static std::size_t list_offset(unsigned slot, unsigned list) noexcept {
        return sizeof(cpu_block_header) + (slot * nr_pcp_lists + list) * list_slot_bytes;
    }
    // The off-fast-path events follow every zone's lists.
    sync::atom<std::uint64_t> &event(const zone &z, unsigned cpu, pcp_event e) const noexcept {
        return region_.counter(cpu, list_offset(zone_slots_, 0) +
                                        (z.pcp_slot * NR_PCP_EVENTS + e) * sizeof(std::uint64_t));
    }
    // this_cpu_inc() for the owner of a list (it holds the CPU's trylock): a plain load and
    // store, no read-modify-write; readers elsewhere only load.
    GFPLAB_ALWAYS_INLINE static void owner_inc(sync::atom<std::uint64_t> &c) noexcept {
        c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    // pfn -> its page's lru.next, the links of the list words (list_ops.hpp).
    static auto links(page *mem_map) noexcept {
        return [mem_map](std::uint32_t pfn) -> std::uint32_t & { return mem_map[pfn].lru.next; };
    }
    // Read the CPU again at the next operation (locked mode).
    static void forget_cpu() noexcept {
        t_cpu_hint = 0;
    }

    // Locked modes: fn runs on `cpu`'s list at `off` under the CPU's trylock; a taken lock
    // means busy (the caller goes to the buddy allocator, and reads its CPU again).
    template <class Fn>
    GFPLAB_ALWAYS_INLINE outcome locked(unsigned cpu, std::size_t off, Fn &&fn) {
        cpu_trylock l(region_.header(cpu));
        if (!l.held()) [[unlikely]] {
            forget_cpu();
            return outcome::busy;
        }
        if (hook_) [[unlikely]]
            hook_();
        return fn(region_.slot(cpu, off));
    }
    GFPLAB_ALWAYS_INLINE outcome pop(unsigned cpu, std::size_t off, page *mem_map,
                                     std::uint32_t *pfn) {
#if GFPLAB_HAVE_RSEQ
        if (mode_ == cpu_mode::rseq)
            return rseq_pop_list(region_, off, mem_map, pfn);
#endif
        return locked(cpu, off, [&](list_slot &l) {
            const outcome r = locked_pop(l.word, links(mem_map), pfn);
            if (r == outcome::ok) [[likely]]
                owner_inc(l.alloc_hits);
            return r;
        });
    }
    // A free's push (Free) counts a free hit; a refill's or a drain's does not.
    template <bool Free = false>
    GFPLAB_ALWAYS_INLINE outcome push(unsigned cpu, std::size_t off, page *mem_map,
                                      std::uint32_t head, std::uint32_t tail, std::uint32_t n,
                                      std::uint32_t *count) {
#if GFPLAB_HAVE_RSEQ
        if (mode_ == cpu_mode::rseq)
            return Free ? rseq_free_push_list(region_, off, mem_map, head, count)
                        : rseq_push_list(region_, off, mem_map, head, tail, n, count);
#endif
        return locked(cpu, off, [&](list_slot &l) {
            locked_push(l.word, links(mem_map), head, tail, n, count);
            if (Free)
                owner_inc(l.free_hits);
            return outcome::ok;
        });
    }
    outcome steal(unsigned cpu, std::size_t off, std::uint64_t *word);

    page *alloc_refill(zone &z, unsigned order, migratetype mt, unsigned alloc_flags, unsigned cpu);
    // free_unref_page_commit() past the push: nr_pcp_high(), then free_pcppages_bulk() of
    // nr_pcp_free() pages and ZONE_BELOW_HIGH. `before` is the state word before this free.
    void check_high(zone &z, unsigned list, unsigned cpu, std::uint32_t before);
    void drain_local(zone &z, unsigned first_list, unsigned long to_free, unsigned cpu);

    cpu_mode mode_;
    percpu_region region_;
    std::vector<zone *> zones_;
    unsigned zone_slots_;
    page_source &below_;
    sync::mutex drain_mutex_; // pcpu_drain_mutex
    std::function<void()> hook_;
};

} // namespace gfplab::pcp
