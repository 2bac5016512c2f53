// SPDX-License-Identifier: MIT
//
// Per-CPU page lists: allocation with refill (rmqueue_pcplist, rmqueue_bulk), free with
// drain past high (free_unref_page, free_pcppages_bulk) and drain_all_pages. See pcp.hpp.
#include "pcp.hpp"

#include "../buddy/buddy.hpp"
#include "../page_alloc/page_allocator.hpp"
#include "list_ops.hpp"
#include "rseq_list.hpp"

#include <cstdlib>
#include <new>
#include <sched.h>
#include <thread>

namespace gfplab::pcp {
namespace {

constexpr std::size_t cache_line = 64;
constexpr std::uint32_t drain_check_interval = 8;

// The kernel's pindex: lists of one order sit together, migratetypes within.
constexpr unsigned list_index(unsigned order, migratetype mt) {
    return order * MIGRATE_PCPTYPES + unsigned(mt);
}

} // namespace

area::area(System &s, bool use_rseq) : sys_(s), rseq_(use_rseq) {
    zone_slots_ = unsigned(s.nr_nodes()) * MAX_NR_ZONES;
    // rseq indexes blocks by the kernel's CPU number, so there is one per possible CPU.
    unsigned possible = std::max(1u, std::thread::hardware_concurrency());
    region_.ncpus = rseq_ ? std::max(possible, s.nr_cpus()) : s.nr_cpus();
    std::size_t bytes = sizeof(cpu_block_header) + std::size_t(zone_slots_) * nr_pcp_lists * 8;
    region_.stride = (bytes + cache_line - 1) / cache_line * cache_line;
    region_.base = static_cast<std::uint8_t *>(
        ::operator new(region_.stride *region_.ncpus, std::align_val_t(cache_line)));
    for (unsigned cpu = 0; cpu < region_.ncpus; cpu++) {
        new (&region_.header(cpu)) cpu_block_header;
        for (unsigned l = 0; l < zone_slots_ * nr_pcp_lists; l++)
            new (&region_.list(cpu, sizeof(cpu_block_header) + l * 8))
                sync::atom<std::uint64_t>(empty_word);
    }
}

area::~area() {
    ::operator delete(region_.base, std::align_val_t(cache_line));
}

std::size_t area::list_offset(const zone &z, unsigned order, migratetype mt) const noexcept {
    return sizeof(cpu_block_header) + (z.pcp_slot * nr_pcp_lists + list_index(order, mt)) * 8;
}

unsigned area::this_cpu() const noexcept {
#if GFPLAB_HAVE_RSEQ
    if (rseq_)
        return current_rseq()->cpu_id;
#endif
    return current_cpu(sys_);
}

// Locked mode: fn runs on this CPU's list at `off` under the CPU's trylock; a taken lock
// means busy (the caller goes to the buddy allocator).
template <class Fn>
outcome area::locked(std::size_t off, Fn &&fn) {
    unsigned cpu = this_cpu();
    cpu_trylock l(region_.header(cpu));
    if (!l.held())
        return outcome::busy;
    if (hook_)
        hook_();
    return fn(region_.list(cpu, off));
}

outcome area::pop(std::size_t off, std::uint32_t *pfn) {
#if GFPLAB_HAVE_RSEQ
    if (rseq_)
        return rseq_pop(region_, off, sys_.pfn_to_page(0), pfn);
#endif
    return locked(off,
                  [&](sync::atom<std::uint64_t> &list) { return locked_pop(list, links(), pfn); });
}

outcome area::push(std::size_t off, std::uint32_t head, std::uint32_t tail, std::uint32_t n,
                   std::uint32_t *count) {
#if GFPLAB_HAVE_RSEQ
    if (rseq_)
        return rseq_push(region_, off, sys_.pfn_to_page(0), head, tail, n, count);
#endif
    return locked(off, [&](sync::atom<std::uint64_t> &list) {
        locked_push(list, links(), head, tail, n, count);
        return outcome::ok;
    });
}

outcome area::steal(std::size_t off, std::uint64_t *word) {
#if GFPLAB_HAVE_RSEQ
    if (rseq_)
        return rseq_steal(region_, off, word);
#endif
    return locked(off, [&](sync::atom<std::uint64_t> &list) {
        *word = locked_steal(list);
        return outcome::ok;
    });
}

// rmqueue_bulk(): up to nr blocks of `order` from the buddy allocator under one zone lock,
// chained through lru.next; returns how many.
unsigned long area::refill(zone &z, unsigned order, migratetype mt, unsigned alloc_flags,
                           std::uint32_t *head, std::uint32_t *tail) {
    // nr_pcp_alloc() without the alloc_factor scaling: a batch of order-0 pages, or enough
    // higher-order blocks for about a batch of pages (at least two).
    const unsigned long nr = order ? std::max(z.pcp_batch >> order, 2ul) : z.pcp_batch;
    unsigned long got = 0;
    std::uint32_t last = pfn_nil;
    std::lock_guard guard(z.lock);
    for (; got < nr; got++) {
        page *p = buddy::rmqueue_one(z, order, mt, alloc_flags);
        if (!p)
            break;
        auto pfn = std::uint32_t(p - z.mem_map);
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

page *area::alloc(zone &z, unsigned order, migratetype mt, unsigned alloc_flags) {
    const std::size_t off = list_offset(z, order, mt);
    std::uint32_t pfn;
    outcome r = pop(off, &pfn);
    if (r == outcome::busy)
        return nullptr;
    if (r == outcome::empty) {
        std::uint32_t head, tail;
        unsigned long got = refill(z, order, mt, alloc_flags, &head, &tail);
        if (!got)
            return nullptr;
        pfn = head;
        if (got > 1) {
            std::uint32_t rest = z.mem_map[head].lru.next, count;
            if (push(off, rest, tail, std::uint32_t(got - 1), &count) == outcome::busy)
                release_chain(z, rest, got - 1);
        }
    }
    page *p = z.mem_map + pfn;
    clear_page_flags(*p, PG_pcp);
    p->lru.next = pfn_nil;
    return p;
}

bool area::free(zone &z, page *p, unsigned order) {
    migratetype mt = z.pageblock_migratetype(std::uint32_t(p - z.mem_map));
    // Pages of highatomic pageblocks ride on the movable list; the buddy allocator puts them
    // back on their own list when the CPU drains (free_unref_page()).
    if (mt >= MIGRATE_PCPTYPES)
        mt = MIGRATE_MOVABLE;
    const auto pfn = std::uint32_t(p - z.mem_map);
    p->order = std::uint8_t(order);
    set_page_flags(*p, PG_pcp);
    std::uint32_t count;
    if (push(list_offset(z, order, mt), pfn, pfn, 1, &count) == outcome::busy) {
        clear_page_flags(*p, PG_pcp);
        return false;
    }
    // The kernel keeps one count per CPU and tests it on every free. One word per list keeps
    // our commit a single store, so the CPU's total is a sum over its lists, taken every
    // drain_check_interval frees: a CPU may run past high by that many blocks before it
    // drains.
    const unsigned cpu = this_cpu();
    auto &frees = region_.header(cpu).frees;
    const std::uint32_t n = frees.load(std::memory_order_relaxed) + 1;
    frees.store(n, std::memory_order_relaxed);
    if (n % drain_check_interval == 0) {
        unsigned long held = cpu_count(z, cpu);
        if (held >= z.pcp_high) {
            // nr_pcp_free(): bring the CPU back to high - batch, freeing at least a batch.
            unsigned long to_free = std::max(z.pcp_batch, held - (z.pcp_high - z.pcp_batch));
            drain_local(z, list_index(order, mt), to_free);
        }
    }
    return true;
}

// free_pcppages_bulk(): lists in turn from the one just freed to, each giving up its cold
// end (the tail; the head is what the next allocation takes) until to_free pages went back.
void area::drain_local(zone &z, unsigned first_list, unsigned long to_free) {
    for (unsigned i = 0; i < nr_pcp_lists && to_free; i++) {
        unsigned idx = (first_list + i) % nr_pcp_lists;
        unsigned order = idx / MIGRATE_PCPTYPES;
        std::size_t off = list_offset(z, order, migratetype(idx % MIGRATE_PCPTYPES));
        std::uint64_t w;
        if (steal(off, &w) != outcome::ok || word_head(w) == pfn_nil)
            continue;
        const unsigned long entries = word_count(w);
        const unsigned long give = std::min(entries, (to_free + (1ul << order) - 1) >> order);
        const unsigned long keep = entries - give;
        std::uint32_t head = word_head(w), cut = head;
        for (unsigned long k = 1; k < keep; k++)
            cut = z.mem_map[cut].lru.next;
        std::uint32_t cold = keep ? z.mem_map[cut].lru.next : head;
        if (keep) {
            std::uint32_t count;
            z.mem_map[cut].lru.next = pfn_nil;
            if (push(off, head, cut, std::uint32_t(keep), &count) == outcome::busy)
                release_chain(z, head, keep);
        }
        release_chain(z, cold, give);
        to_free -= std::min(to_free, give << order);
    }
}

// Hands n cached blocks, chained from head, back to the buddy allocator.
void area::release_chain(zone &z, std::uint32_t head, unsigned long n) {
    std::lock_guard guard(z.lock);
    for (unsigned long i = 0; i < n && head != pfn_nil; i++) {
        page *p = z.mem_map + head;
        std::uint32_t next = p->lru.next;
        unsigned order = p->order;
        clear_page_flags(*p, PG_pcp);
        p->lru.next = pfn_nil;
        buddy::free_one_page(z, p, head, order);
        head = next;
    }
}

unsigned area::drain_all(zone *only) {
    // pcpu_drain_mutex: one drainer at a time; a full drain already running covers ours.
    std::unique_lock lk(drain_mutex_, std::defer_lock);
    if (only)
        lk.lock();
    else if (!lk.try_lock())
        return 0;
    unsigned skipped = 0;
    for (unsigned cpu = 0; cpu < region_.ncpus; cpu++) {
        cpu_block_header &h = region_.header(cpu);
        bool locked = false;
        if (rseq_) {
            // Stop the CPU, then make sure no sequence that started before the stop can
            // still commit; from then on its lists are ours until we let go.
            h.stopped.store(1, std::memory_order_seq_cst);
            rseq_fence_cpu(cpu);
        } else {
            // A holder may be stopped for good: try for a while, then leave that CPU.
            for (int tries = 0; tries < 1000 && !locked; tries++) {
                locked = h.lock.exchange(1, trylock_acquire) == 0;
                if (!locked)
                    std::this_thread::yield();
            }
            if (!locked) {
                skipped++;
                continue;
            }
        }
        for (int n = 0; n < sys_.nr_nodes(); n++)
            for (auto &z : sys_.node(n).node_zones) {
                if (!z.populated() || (only && &z != only))
                    continue;
                for (unsigned idx = 0; idx < nr_pcp_lists; idx++) {
                    auto &list =
                        region_.list(cpu, list_offset(z, idx / MIGRATE_PCPTYPES,
                                                      migratetype(idx % MIGRATE_PCPTYPES)));
                    std::uint64_t w = list.exchange(empty_word, std::memory_order_acq_rel);
#ifdef GFPLAB_PLANTED_BUG_DRAIN_LOSES_PAGE
                    // Planted bug (fuzz builds only, fuzz/meson.build): the last block of a
                    // list of two or more is left behind, on no list and not free.
                    if (word_head(w) != pfn_nil && word_count(w) > 1)
                        w = make_word(word_head(w), word_count(w) - 1);
#endif
                    if (word_head(w) != pfn_nil)
                        release_chain(z, word_head(w), word_count(w));
                }
            }
        if (rseq_)
            h.stopped.store(0, std::memory_order_release);
        else
            h.lock.store(0, trylock_release);
    }
    return skipped;
}

unsigned long area::cpu_count(const zone &z, unsigned cpu) const noexcept {
    unsigned long pages = 0;
    for (unsigned idx = 0; idx < nr_pcp_lists; idx++) {
        std::size_t off = sizeof(cpu_block_header) + (z.pcp_slot * nr_pcp_lists + idx) * 8;
        pages += std::uint64_t(word_count(region_.list(cpu, off).load(std::memory_order_relaxed)))
                 << (idx / MIGRATE_PCPTYPES);
    }
    return pages;
}

unsigned long area::count(const zone &z) const noexcept {
    unsigned long pages = 0;
    for (unsigned cpu = 0; cpu < region_.ncpus; cpu++)
        pages += cpu_count(z, cpu);
    return pages;
}

void area::for_each_cached(const zone &z,
                           const std::function<void(std::uint32_t, unsigned, unsigned)> &fn) const {
    for (unsigned cpu = 0; cpu < region_.ncpus; cpu++)
        for (unsigned idx = 0; idx < nr_pcp_lists; idx++) {
            std::size_t off = sizeof(cpu_block_header) + (z.pcp_slot * nr_pcp_lists + idx) * 8;
            std::uint64_t w = region_.list(cpu, off).load(std::memory_order_acquire);
            std::uint32_t pfn = word_head(w);
            for (std::uint32_t k = 0; k < word_count(w) && pfn != pfn_nil; k++) {
                fn(pfn, idx / MIGRATE_PCPTYPES, idx);
                pfn = z.mem_map[pfn].lru.next;
            }
        }
}

} // namespace gfplab::pcp
