// SPDX-License-Identifier: MIT
//
// Per-CPU page lists, the out-of-line parts: refill (rmqueue_bulk), drain past high
// (free_pcppages_bulk), drain_all_pages and the CPU hint. See pcp.hpp.
#include "pcp.hpp"

#include <gfplab/watermark.hpp>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <sched.h>
#include <stdexcept>
#include <thread>

namespace gfplab::pcp {
namespace {
constexpr std::size_t cache_line = 64;
} // namespace

__thread unsigned t_vcpu = 0;
__thread unsigned t_cpu_hint = 0;
__thread unsigned t_below_ops = 0;

outcome rseq_pop_list(const percpu_region &r, std::size_t off, page *mem_map,
                      std::uint32_t *pfn) noexcept {
#if GFPLAB_HAVE_RSEQ
    const outcome o = rseq_pop(r, off, mem_map, pfn);
    if (o == outcome::ok) [[likely]]
        rseq_count(r, off + alloc_hits_offset);
    return o;
#else
    (void)r, (void)off, (void)mem_map, (void)pfn;
    return outcome::busy;
#endif
}

outcome rseq_push_list(const percpu_region &r, std::size_t off, page *mem_map, std::uint32_t head,
                       std::uint32_t tail, std::uint32_t n, std::uint32_t *count) noexcept {
#if GFPLAB_HAVE_RSEQ
    return rseq_push(r, off, mem_map, head, tail, n, count);
#else
    (void)r, (void)off, (void)mem_map, (void)head, (void)tail, (void)n, (void)count;
    return outcome::busy;
#endif
}

outcome rseq_free_push_list(const percpu_region &r, std::size_t off, page *mem_map,
                            std::uint32_t pfn, std::uint32_t *count) noexcept {
#if GFPLAB_HAVE_RSEQ
    const outcome o = rseq_push(r, off, mem_map, pfn, pfn, 1, count);
    if (o == outcome::ok) [[likely]]
        rseq_count(r, off + free_hits_offset);
    return o;
#else
    (void)r, (void)off, (void)mem_map, (void)pfn, (void)count;
    return outcome::busy;
#endif
}

std::uint64_t cpu_events::pgalloc() const noexcept {
    std::uint64_t pages = ev[PCP_REFILL_ALLOC] + ev[PCP_BUDDY_ALLOC];
    for (unsigned o = 0; o <= PAGE_ALLOC_COSTLY_ORDER; o++)
        pages += alloc_hits[o] << o;
    return pages;
}

std::uint64_t cpu_events::pgfree() const noexcept {
    std::uint64_t pages = ev[PCP_BUDDY_FREE];
    for (unsigned o = 0; o <= PAGE_ALLOC_COSTLY_ORDER; o++)
        pages += free_hits[o] << o;
    return pages;
}

unsigned refresh_cpu_hint(unsigned ncpus) noexcept {
    const int cpu = sched_getcpu();
    const unsigned c = (cpu < 0 ? 0 : unsigned(cpu)) % ncpus;
    t_cpu_hint = c + 1;
    return c;
}

area::area(std::span<zone *const> zones, unsigned slots, unsigned ncpus, cpu_mode mode,
           page_source &below)
    : mode_(mode), zones_(zones.begin(), zones.end()), zone_slots_(slots), below_(below) {
    region_.ncpus = ncpus;
    if (zone_slots_ > max_zone_slots)
        throw std::length_error("gfplab: more zones than a per-CPU block has state words for");
    // The header, every zone's lists, then every zone's off-fast-path events.
    const std::size_t bytes = list_offset(zone_slots_, 0) +
                              std::size_t(zone_slots_) * NR_PCP_EVENTS * sizeof(std::uint64_t);
    region_.stride = (bytes + cache_line - 1) / cache_line * cache_line;
    region_.base = static_cast<std::uint8_t *>(
        ::operator new(region_.stride *region_.ncpus, std::align_val_t(cache_line)));
    for (unsigned cpu = 0; cpu < region_.ncpus; cpu++) {
        new (&region_.header(cpu)) cpu_block_header;
        for (unsigned l = 0; l < zone_slots_ * nr_pcp_lists; l++)
            new (&region_.slot(cpu, list_offset(0, l))) list_slot;
        for (unsigned e = 0; e < zone_slots_ * NR_PCP_EVENTS; e++)
            new (&region_.counter(cpu, list_offset(zone_slots_, 0) + e * sizeof(std::uint64_t)))
                sync::atom<std::uint64_t>(0);
    }
}

void area::set_free_high_batch(bool on) noexcept {
    const std::uint32_t bit = std::uint32_t(PCPF_FREE_HIGH_BATCH) << flags_shift;
    for (unsigned cpu = 0; cpu < region_.ncpus; cpu++)
        for (unsigned slot = 0; slot < zone_slots_; slot++) {
            auto &st = region_.header(cpu).pcp_state[slot];
            const std::uint32_t w = st.load(std::memory_order_relaxed);
            st.store(on ? w | bit : w & ~bit, std::memory_order_relaxed);
        }
}

area::~area() {
    ::operator delete(region_.base, std::align_val_t(cache_line));
}

outcome area::steal(unsigned cpu, std::size_t off, std::uint64_t *word) {
#if GFPLAB_HAVE_RSEQ
    if (mode_ == cpu_mode::rseq)
        return rseq_steal(region_, off, word);
#endif
    return locked(cpu, off, [&](list_slot &l) {
        *word = locked_steal(l.word);
        return outcome::ok;
    });
}

page *area::alloc_refill(zone &z, unsigned order, migratetype mt, unsigned alloc_flags,
                         unsigned cpu) {
    forget_cpu();
    halve_free_count(state(z, cpu)); // rmqueue_pcplist(), as on a hit
    const auto nr =
        static_cast<unsigned long>(nr_pcp_alloc(long(z.pcp_batch), long(z.pcp_high), order));
    std::uint32_t head, tail;
    const unsigned long got = below_.rmqueue_bulk(z, order, mt, alloc_flags, cpu, nr, &head, &tail);
    if (!got)
        return nullptr;
    count_event(z, cpu, PCP_REFILL, 1);
    count_event(z, cpu, PCP_REFILL_PAGES, got << order);
    count_event(z, cpu, PCP_REFILL_ALLOC, 1ul << order);
    if (got > 1) {
        std::uint32_t rest = z.mem_map[head].lru.next, count;
        if (push(cpu, list_offset(z, order, mt), z.mem_map, rest, tail, std::uint32_t(got - 1),
                 &count) == outcome::busy)
            below_.free_pcppages_bulk(z, rest, got - 1, cpu);
    }
    page *p = z.mem_map + head;
    clear_page_flags(*p, PG_pcp);
    p->lru.next = pfn_nil;
    return p;
}

namespace {

// free_unref_page_commit(), after its bulk free: a zone back above its high watermark is no
// longer "below high" (the allocation side sets the flag; only a drain clears it).
void clear_below_high(zone &z) {
    if ((z.flags.load(std::memory_order_relaxed) & ZONE_BELOW_HIGH) &&
        zone_watermark_ok(z.page_state(NR_FREE_PAGES), 0, z.high_wmark_pages(),
                          z.lowmem_reserve[ZONE_MOVABLE], 0,
                          z.nr_free_highatomic.load(std::memory_order_relaxed)))
        z.flags.fetch_and(~ZONE_BELOW_HIGH, std::memory_order_relaxed);
}

} // namespace

void area::check_high(zone &z, unsigned list, unsigned cpu, std::uint32_t before) {
    const unsigned order = list / MIGRATE_PCPTYPES;
    const long batch = long(z.pcp_batch);
    const long held = long(cpu_count(z, cpu));
    const bool free_high =
        pcp_free_high(order, state_flags(before), state_free_count(before), batch, held);
    const long high = nr_pcp_high(long(z.pcp_high), batch, free_high,
                                  z.flags.load(std::memory_order_relaxed) & ZONE_RECLAIM_ACTIVE);
    if (held < high)
        return;
    forget_cpu();
    const long free_count = state_free_count(free_commit(before, order, z.pcp_batch));
    count_event(z, cpu, PCP_DRAIN, 1);
    drain_local(z, list,
                static_cast<unsigned long>(nr_pcp_free(held, batch, high, free_count, free_high)),
                cpu);
    clear_below_high(z);
}

// free_pcppages_bulk(): lists in turn from the one just freed to, each giving up its cold
// end (the tail; the head is what the next allocation takes) until to_free pages went back.
void area::drain_local(zone &z, unsigned first_list, unsigned long to_free, unsigned cpu) {
    for (unsigned i = 0; i < nr_pcp_lists && to_free; i++) {
        const unsigned idx = (first_list + i) % nr_pcp_lists;
        const unsigned order = idx / MIGRATE_PCPTYPES;
        const std::size_t off = list_offset(z, order, migratetype(idx % MIGRATE_PCPTYPES));
        std::uint64_t w;
        if (steal(cpu, off, &w) != outcome::ok || word_head(w) == pfn_nil)
            continue;
        const unsigned long entries = word_count(w);
        const unsigned long give = std::min(entries, (to_free + (1ul << order) - 1) >> order);
        const unsigned long keep = entries - give;
        std::uint32_t head = word_head(w), cut = head;
        for (unsigned long k = 1; k < keep; k++)
            cut = z.mem_map[cut].lru.next;
        const std::uint32_t cold = keep ? z.mem_map[cut].lru.next : head;
        if (keep) {
            std::uint32_t count;
            z.mem_map[cut].lru.next = pfn_nil;
            if (push(cpu, off, z.mem_map, head, cut, std::uint32_t(keep), &count) == outcome::busy)
                below_.free_pcppages_bulk(z, head, keep, cpu);
        }
        below_.free_pcppages_bulk(z, cold, give, cpu);
        count_event(z, cpu, PCP_DRAIN_PAGES, give << order);
        to_free -= std::min(to_free, give << order);
    }
}

unsigned area::drain_all(zone *only) {
    // pcpu_drain_mutex: one drainer at a time; a full drain already running covers ours.
    if (only)
        drain_mutex_.lock();
    else if (!drain_mutex_.try_lock())
        return 0;
    unsigned skipped = 0;
    for (unsigned cpu = 0; cpu < region_.ncpus; cpu++) {
        cpu_block_header &h = region_.header(cpu);
        bool locked = false;
        if (mode_ == cpu_mode::rseq) {
            // Stop the CPU, then make sure no sequence that started before the stop can
            // still commit; from then on its lists are ours until we let go.
            h.stopped.store(1, std::memory_order_seq_cst);
            rseq_fence_cpu(cpu);
        } else {
#ifdef GFPLAB_PLANTED_BUG_DRAIN_NO_TRYLOCK
            // Planted bug (-Dplanted_bug, the -bug- binaries only, docs/oracle.md): the remote
            // drain empties another CPU's lists without its trylock, racing its owner's
            // unlocked list updates (locked and virtual-CPU modes).
            locked = true;
#endif
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
        for (zone *z : zones_) {
            if (!z->populated() || (only && z != only))
                continue;
            for (unsigned idx = 0; idx < nr_pcp_lists; idx++) {
                auto &list = region_.list(cpu, list_offset(*z, idx / MIGRATE_PCPTYPES,
                                                           migratetype(idx % MIGRATE_PCPTYPES)));
                std::uint64_t w = list.exchange(empty_word, std::memory_order_acq_rel);
#ifdef GFPLAB_PLANTED_BUG_DRAIN_LOSES_PAGE
                // Planted bug (fuzz builds only, fuzz/meson.build): the last block of a
                // list of two or more is left behind, on no list and not free.
                if (word_head(w) != pfn_nil && word_count(w) > 1)
                    w = make_word(word_head(w), word_count(w) - 1);
#endif
                if (word_head(w) != pfn_nil) {
                    below_.free_pcppages_bulk(*z, word_head(w), word_count(w), cpu);
                    count_event(*z, cpu, PCP_DRAIN_ALL_PAGES,
                                std::uint64_t(word_count(w)) << (idx / MIGRATE_PCPTYPES));
                }
            }
        }
        if (mode_ == cpu_mode::rseq)
            h.stopped.store(0, std::memory_order_release);
#ifndef GFPLAB_PLANTED_BUG_DRAIN_NO_TRYLOCK
        else
            h.lock.store(0, trylock_release);
#endif
    }
    drain_mutex_.unlock();
    return skipped;
}

cpu_events area::events(const zone &z, unsigned cpu) const noexcept {
    cpu_events e;
    for (unsigned idx = 0; idx < nr_pcp_lists; idx++) {
        const list_slot &l = region_.slot(cpu, list_offset(z.pcp_slot, idx));
        e.alloc_hits[idx / MIGRATE_PCPTYPES] += l.alloc_hits.load(std::memory_order_relaxed);
        e.free_hits[idx / MIGRATE_PCPTYPES] += l.free_hits.load(std::memory_order_relaxed);
    }
    for (unsigned i = 0; i < NR_PCP_EVENTS; i++)
        e.ev[i] = event(z, cpu, pcp_event(i)).load(std::memory_order_relaxed);
    return e;
}

unsigned long area::cpu_count(const zone &z, unsigned cpu) const noexcept {
    unsigned long pages = 0;
    for (unsigned idx = 0; idx < nr_pcp_lists; idx++) {
        const std::size_t off = list_offset(z.pcp_slot, idx);
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
            const std::size_t off = list_offset(z.pcp_slot, idx);
            std::uint64_t w = region_.list(cpu, off).load(std::memory_order_acquire);
            std::uint32_t pfn = word_head(w);
            for (std::uint32_t k = 0; k < word_count(w) && pfn != pfn_nil; k++) {
                fn(pfn, idx / MIGRATE_PCPTYPES, idx);
                pfn = z.mem_map[pfn].lru.next;
            }
        }
}

} // namespace gfplab::pcp
