// SPDX-License-Identifier: MIT
//
// The lock-free backend: a non-blocking page-frame allocator after LLFree (Wrenger et al.,
// ATC'23): per pageblock a bitfield and an atomic entry (pageblock_bits.hpp), per CPU and
// migratetype the pageblock it allocates from, which it holds reserved so that the other
// CPUs look elsewhere first: CPUs fill different pageblocks and rarely touch the same cache
// lines. No lock anywhere: every step is a CAS or an atomic add on one word, and a thread
// stopped between two steps holds frames that others skip, never a lock that they wait for.
//
// Orders 0..6 are an aligned run of bits in one word, 7 and 8 whole words, 9 a whole
// pageblock (its entry marked `huge`), 10 two buddy pageblocks. There is no splitting and
// no merging: a block is free when its frames are.
//
// Where the rules differ from the kernel's buddy (docs/backends.md):
//  - a pageblock keeps one migratetype, in its entry; a request takes from pageblocks of
//    its own type first; when none has room it claims a wholly free pageblock of another
//    type (retyping it), then a fallback type's pageblock with at least half its frames
//    free (retyping it, where the kernel would claim it), then takes frames from a fallback
//    type's pageblock as they are; the last two boost the watermarks, as the kernel does for
//    any fallback below a pageblock. ALLOC_NOFRAGMENT stops after the wholly free ones.
//    Each is counted in zone::migratetype_fallbacks.
//  - the highatomic reserve is whole pageblocks retyped MIGRATE_HIGHATOMIC, as in the
//    kernel, within the same 1% limit; unreserving picks a reserved pageblock with free
//    frames.
//  - NR_FREE_PAGES goes through the CPU's vmstat delta with a compare-and-swap (no zone lock
//    serialises its writers); a change past the threshold goes to the zone-wide value.
//  - "a free block of order o" (the watermark probe, buddyinfo) is found by scanning the
//    pageblocks' bitfields where the kernel reads a list head.
#include "../buddy/buddy.hpp"
#include "../compiler.hpp"
#include "../trace/tracepoint.hpp"
#include "backend.hpp"
#include "pageblock_bits.hpp"

#include <gfplab/alloc_flags.hpp>
#include <gfplab/gfp.hpp>
#include <gfplab/watermark.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <iterator>
#include <memory>
#include <new>

namespace gfplab {
namespace {

using lockfree::pageblock_state;
using lockfree::pb_entry;

// Whether frames [index, index + 2^order) of the pageblock are all free.
bool range_free(const pageblock_state &pb, unsigned index, unsigned order) noexcept {
    if (order <= lockfree::max_word_order)
        return !(pb.bits[index / 64].load(std::memory_order_relaxed) &
                 lockfree::run_mask(order, index % 64));
    for (unsigned w = index / 64, n = 1u << (order - lockfree::max_word_order); n--; w++)
        if (pb.bits[w].load(std::memory_order_relaxed))
            return false;
    return true;
}

// Whether `word` has an aligned run of 2^order clear bits (order <= max_word_order), i.e. a
// lane of 2^order bits that is zero: the borrow trick of the zero-byte test, for any lane
// width. The lowest zero lane always shows (no lane below it borrows); a lane above it may
// show wrongly, which leaves the answer right. Five operations where aligned_free_runs()
// takes a loop of `order` steps.
constexpr bool word_has_free_run(std::uint64_t word, unsigned order) noexcept {
    const std::uint64_t low = lockfree::lane_low_bits[order], high = low << ((1u << order) - 1);
    return (word - low) & ~word & high;
}
static_assert(word_has_free_run(~0ull << 8, 3) && !word_has_free_run(~0ull << 4, 3));
static_assert(word_has_free_run(0xff00ff00ff00ff00ull, 3) && !word_has_free_run(~1ull, 1));
static_assert(word_has_free_run(0, 6) && !word_has_free_run(1ull << 63, 6));
static_assert(word_has_free_run(~(1ull << 5), 0) && !word_has_free_run(~0ull, 0));

// Whether the pageblock has an aligned run of 2^order free frames (order < pageblock_order).
// The watermark check asks on every allocation above order 0 (has_block()). Claims start
// at the CPU's first word (slot % words_per_pageblock: the low words, with a few CPUs) and
// go up, so free runs are likelier near the top: the search starts there.
GFPLAB_ALWAYS_INLINE bool has_free_run(const pageblock_state &pb, unsigned order) noexcept {
    if (order <= lockfree::max_word_order) {
        for (unsigned w = lockfree::words_per_pageblock; w--;)
            if (word_has_free_run(pb.bits[w].load(std::memory_order_relaxed), order))
                return true;
        return false;
    }
    for (unsigned i = 0; i < lockfree::words_per_pageblock;
         i += 1u << (order - lockfree::max_word_order))
        if (range_free(pb, i * 64, order))
            return true;
    return false;
}

// How many maximal free blocks of order `want` the range [index, index + 2^order) splits
// into, as a buddy allocator would keep them.
unsigned long count_runs(const pageblock_state &pb, unsigned index, unsigned order,
                         unsigned want) noexcept {
    if (range_free(pb, index, order))
        return order == want;
    if (order == want || order == 0)
        return 0;
    return count_runs(pb, index, order - 1, want) +
           count_runs(pb, index + (1u << (order - 1)), order - 1, want);
}

// Claims up to n aligned runs of 2^order clear bits (0 < order <= max_word_order) in one
// pass over the words from first_word, each word's runs with one CAS; writes their indexes
// and returns how many it got. (Beside pageblock_state::claim_frames(), which order 0 uses,
// once that header's Relacy templating settles.)
unsigned claim_runs(pageblock_state &pb, unsigned order, unsigned n, unsigned first_word,
                    std::uint16_t *out) noexcept {
    unsigned got = 0;
    for (unsigned i = 0; i < lockfree::words_per_pageblock && got < n; i++) {
        const unsigned w = (first_word + i) % lockfree::words_per_pageblock;
        std::uint64_t v = pb.bits[w].load(std::memory_order_relaxed);
        for (;;) {
            std::uint64_t runs = lockfree::aligned_free_runs(v, order), starts = 0, mask = 0;
            for (unsigned k = got; runs && k < n; k++, runs &= runs - 1) {
                const unsigned pos = unsigned(std::countr_zero(runs));
                starts |= 1ull << pos;
                mask |= lockfree::run_mask(order, pos);
            }
            if (!mask)
                break;
            if (pb.bits[w].compare_exchange_weak(v, v | mask, std::memory_order_acq_rel)) {
                for (; starts; starts &= starts - 1)
                    out[got++] = std::uint16_t(w * 64 + unsigned(std::countr_zero(starts)));
                break;
            }
        }
    }
    return got;
}

// A CPU's hints: the pageblock each migratetype last allocated from (which the CPU holds
// reserved, see lockfree_backend::owner_), and where it found its last whole pageblock.
struct alignas(64) cpu_hints {
    sync::atom<std::uint32_t> pageblock[MIGRATE_TYPES]{};
    sync::atom<std::uint32_t> whole{};
};

// How far from its own pageblock a CPU looks for a wholly free pageblock to reserve when the
// only room left in its type is in other CPUs' pageblocks: a bounded search, so that a
// short zone costs a few more loads per allocation, not another scan of the zone.
inline constexpr unsigned long reserve_window = 32;

inline constexpr unsigned long no_pageblock = ~0ul;

class lockfree_backend final : public frame_backend {
  public:
    lockfree_backend(zone &z, unsigned cpus);

    const char *name() const noexcept override { return "lockfree"; }
    page *rmqueue(unsigned order, migratetype mt, unsigned alloc_flags, unsigned cpu) override;
    unsigned long rmqueue_bulk(unsigned order, migratetype mt, unsigned alloc_flags, unsigned cpu,
                               unsigned long count, std::uint32_t *head,
                               std::uint32_t *tail) override;
    void free_one(page *p, unsigned order, unsigned cpu, fpi_t fpi) override;
    void free_bulk(std::uint32_t head, unsigned long n, unsigned cpu) override;
    bool has_block(unsigned order, migratetype mt) const noexcept override;
    unsigned long nr_free_blocks(unsigned order) const noexcept override;
    int find_suitable_fallback(unsigned order, migratetype mt, bool only_stealable,
                               bool &can_steal) const noexcept override;
    void reserve_highatomic(page *p, unsigned order, unsigned cpu) override;
    bool unreserve_highatomic(bool force, migratetype to, unsigned cpu) override;
    unsigned long verify_free(free_frame_walker &w, unsigned long *highatomic) override;

  private:
    // The accounting of one entry transition (see pageblock_bits.hpp) on the CPU of `slot`:
    // NR_FREE_PAGES through its per-CPU delta, as the kernel's counters go, so that CPUs do
    // not take turns on the zone-wide counter's line at every block.
    void account(pb_entry before, pb_entry after, unsigned slot) noexcept {
        const long d = long(after.free()) - long(before.free());
        if (d)
            z_.mod_page_state_unlocked(NR_FREE_PAGES, d, slot);
        const long ha = (after.mt() == MIGRATE_HIGHATOMIC ? long(after.free()) : 0) -
                        (before.mt() == MIGRATE_HIGHATOMIC ? long(before.free()) : 0);
        if (ha)
            z_.nr_free_highatomic.fetch_add(ha, std::memory_order_relaxed);
    }
    // Changes pageblock b's type from `from` to `to` if its entry allows (pred), and mirrors
    // the type into zone::pageblock_mt.
    template <class Pred>
    bool retype(unsigned long b, migratetype from, migratetype to, Pred pred) noexcept;
    void mirror_type(unsigned long b) noexcept;

    page *block_page(unsigned long b, unsigned index) const noexcept {
        return z_.mem_map + z_.zone_start_pfn + (b << pageblock_order) + index;
    }
    unsigned long pageblock_of(const page *p) const noexcept {
        return (static_cast<unsigned long>(p - z_.mem_map) - z_.zone_start_pfn) >> pageblock_order;
    }

    // A block of `order` from pageblocks of type mt, the CPU's own first. Without `share`,
    // pageblocks other CPUs hold reserved are skipped, and *skipped says whether one had room.
    page *alloc_typed(unsigned order, migratetype mt, unsigned slot, bool share = true,
                      bool *skipped = nullptr) noexcept;
    page *alloc_in(unsigned long b, unsigned order, migratetype mt, unsigned slot) noexcept;
    sync::atom<std::uint32_t> &hint(unsigned slot, migratetype mt) noexcept {
        return hints_[slot].pageblock[mt];
    }
    // LLFree's reservations. A CPU holds the pageblock it allocates from reserved (owner_ is
    // its slot + 1, 0 for nobody), and the others look elsewhere first, so that two CPUs
    // do not take turns on one pageblock's entry and bitfield words. A reservation only
    // steers searches: the frames belong to the entry and the bits alone, so a stale or lost
    // reservation costs speed, never correctness (and the Relacy models need not know).
    bool reserved_by_other(unsigned long b, unsigned slot) const noexcept {
        const std::uint32_t o = owner_[b].load(std::memory_order_relaxed);
        return o && o != slot + 1;
    }
    // The CPU now allocates type mt from pageblock b: its hint moves there, it reserves b if
    // nobody holds it, and gives up the pageblock it held before.
    void settle(unsigned long b, unsigned slot, migratetype mt) noexcept;
    // A wholly free pageblock of one of mt's fallback types near the CPU's own, retyped to
    // mt for the CPU to reserve; no_pageblock if none within reserve_window.
    unsigned long claim_nearby(migratetype mt, unsigned slot) noexcept;
    // A block of pageblock_order or more from wholly free pageblocks of type `from`, which
    // become `as`, searched from where the CPU found its last one.
    page *alloc_whole(unsigned order, migratetype from, migratetype as, unsigned slot) noexcept;
    page *alloc_fallback(unsigned order, migratetype mt, unsigned alloc_flags,
                         unsigned cpu_slot) noexcept;
    page *alloc_one(unsigned order, migratetype mt, unsigned alloc_flags, unsigned cpu) noexcept;
    // Up to `want` blocks of `order` (up to max_word_order) from pageblock b if it is of type
    // mt, their count taken with one CAS on the entry and accounted once; their pfns in pfns.
    unsigned long take_blocks(unsigned long b, unsigned order, migratetype mt, unsigned slot,
                              unsigned long want, std::uint32_t *pfns) noexcept;
    // take_blocks() from the type's pageblocks from `start` on, until the chain holds
    // `count`; other CPUs' pageblocks as alloc_typed() treats them.
    void take_bulk(unsigned order, migratetype mt, unsigned slot, unsigned long start,
                   unsigned long count, pcp_chain &chain, bool share, bool *skipped) noexcept;
    // Gives n frames whose bits were never claimed back to pageblock b's count.
    void give_back(unsigned long b, unsigned n, unsigned slot) noexcept {
        const pb_entry before = blocks_[b].give(n);
        account(before, before.with_free(before.free() + n), slot);
    }
    // Clears a block's bits and gives its frames back to the count (order < pageblock_order);
    // returns the entry before, for the caller's accounting.
    pb_entry free_frames(page *p, unsigned order) noexcept;
    // boost_watermark() after a fallback below a pageblock, and ZONE_BOOSTED_WATERMARK for
    // kswapd when the request may wake it.
    void boost_watermarks(unsigned alloc_flags) noexcept;
    void count_fallback() noexcept {
        z_.migratetype_fallbacks.fetch_add(1, std::memory_order_relaxed);
    }

    zone &z_;
    const unsigned long nr_blocks_;
    std::unique_ptr<pageblock_state[]> blocks_;
    const unsigned nr_hints_;
    std::unique_ptr<cpu_hints[]> hints_;
    std::unique_ptr<sync::atom<std::uint32_t>[]> owner_;
};

lockfree_backend::lockfree_backend(zone &z, unsigned cpus)
    : z_(z), nr_blocks_(z.spanned_pages >> pageblock_order),
      blocks_(std::make_unique<pageblock_state[]>(nr_blocks_)), nr_hints_(std::max(1u, cpus)),
      hints_(std::make_unique<cpu_hints[]>(nr_hints_)),
      owner_(std::make_unique<sync::atom<std::uint32_t>[]>(nr_blocks_)) {
    // Zones are laid out in MAX_PAGE_ORDER blocks, so pageblocks come in aligned pairs.
    for (unsigned long b = 0; b < nr_blocks_; b++) {
        const migratetype mt = z.pageblock_migratetype(z.zone_start_pfn + (b << pageblock_order));
        blocks_[b].entry.store(pb_entry::make(pageblock_nr_pages, mt, false).raw,
                               std::memory_order_relaxed);
    }
    z.vm_stat[NR_FREE_PAGES].fetch_add(long(nr_blocks_ << pageblock_order),
                                       std::memory_order_relaxed);
    // Spread the CPUs' starting points over the zone (whole-pageblock searches start on a
    // MAX_PAGE_ORDER boundary).
    for (unsigned c = 0; c < nr_hints_; c++) {
        const auto start = std::uint32_t(nr_blocks_ * c / nr_hints_);
        for (auto &h : hints_[c].pageblock)
            h.store(start, std::memory_order_relaxed);
        hints_[c].whole.store(start & ~1u, std::memory_order_relaxed);
    }
}

void lockfree_backend::settle(unsigned long b, unsigned slot, migratetype mt) noexcept {
    auto &h = hint(slot, mt);
    const unsigned long old = h.load(std::memory_order_relaxed);
    const std::uint32_t me = slot + 1;
    std::uint32_t o = owner_[b].load(std::memory_order_relaxed);
    if (old == b && o) // where it was, reserved (by this CPU, or shared for want of room)
        return;
    if (!o)
        owner_[b].compare_exchange_strong(o, me, std::memory_order_relaxed);
    if (old == b)
        return;
    h.store(std::uint32_t(b), std::memory_order_relaxed);
    if (old < nr_blocks_ && owner_[old].load(std::memory_order_relaxed) == me)
        owner_[old].store(0, std::memory_order_relaxed);
}

void lockfree_backend::mirror_type(unsigned long b) noexcept {
    // pageblock_mt is indexed by pageblock within the zone, as blocks_ is.
    lockfree::mirror_type(blocks_[b], z_.pageblock_mt[b]);
}

template <class Pred>
bool lockfree_backend::retype(unsigned long b, migratetype from, migratetype to,
                              Pred pred) noexcept {
    pb_entry old;
    if (!blocks_[b].retype(from, to, pred, &old))
        return false;
    if (old.mt() != to) {
        account(old, old.with_mt(to), 0); // no free count changes: no CPU's delta either
        mirror_type(b);
    }
    return true;
}

page *lockfree_backend::alloc_in(unsigned long b, unsigned order, migratetype mt,
                                 unsigned slot) noexcept {
    pageblock_state &pb = blocks_[b];
    pb_entry old;
    if (!pb.take(1u << order, mt, &old))
        return nullptr;
    account(old, old.with_free(old.free() - (1u << order)), slot);
    // CPUs sharing a pageblock start their search in different words.
    const int index = pb.claim(order, slot % lockfree::words_per_pageblock);
    if (index < 0) {
        // The count had room but no aligned run is clear: give the frames back, accounted
        // as a transition of its own (the pageblock may have been retyped meanwhile).
        give_back(b, 1u << order, slot);
        return nullptr;
    }
    settle(b, slot, old.mt());
    page *p = block_page(b, unsigned(index));
    trace_mm_page_alloc_zone_locked(z_, p, order, old.mt());
    return p;
}

page *lockfree_backend::alloc_whole(unsigned order, migratetype from, migratetype as,
                                    unsigned slot) noexcept {
    // Order pageblock_order: one wholly free pageblock; MAX_PAGE_ORDER: an aligned pair,
    // taken one after the other and given back if the second is not free. The search starts
    // where this CPU found its last one: CPUs start apart, and a CPU holding many does not
    // walk past them all again (the pageblock count is even, see the constructor).
    const unsigned long span = 1ul << (order - pageblock_order);
    const pb_entry taken = pb_entry::make(0, as, true);
    unsigned long b =
        (hints_[slot].whole.load(std::memory_order_relaxed) % nr_blocks_) & ~(span - 1);
    for (unsigned long n = 0; n < nr_blocks_; n += span, b = b + span < nr_blocks_ ? b + span : 0) {
        unsigned long got = 0;
        pb_entry before[2];
        while (got < span && blocks_[b + got].take_whole(from, taken, &before[got]))
            got++;
        if (got == span) {
            for (unsigned long i = 0; i < span; i++) {
                account(before[i], taken, slot);
                if (before[i].mt() != as)
                    mirror_type(b + i);
            }
            // Start there next time: a block freed at once is taken again while its struct
            // pages are still cached, and one still held costs one step.
            hints_[slot].whole.store(std::uint32_t(b), std::memory_order_relaxed);
            trace_mm_page_alloc_zone_locked(z_, block_page(b, 0), order, as);
            return block_page(b, 0);
        }
        while (got--) {
            blocks_[b + got].untake_whole(before[got]);
            // Putting the old type back is a change of type too: a retyper racing with this
            // one may have mirrored the type it was taken as.
            if (before[got].mt() != as)
                mirror_type(b + got);
        }
    }
    return nullptr;
}

page *lockfree_backend::alloc_typed(unsigned order, migratetype mt, unsigned slot, bool share,
                                    bool *skipped) noexcept {
    if (order >= pageblock_order)
        return alloc_whole(order, mt, mt, slot);
    // From the pageblock this CPU used last for the type, onwards.
    unsigned long b = hint(slot, mt).load(std::memory_order_relaxed) % nr_blocks_;
    for (unsigned long i = 0; i < nr_blocks_; i++, b = b + 1 < nr_blocks_ ? b + 1 : 0) {
        const pb_entry e = blocks_[b].load();
        if (e.huge() || e.free() < (1u << order) || e.mt() != mt)
            continue;
        if (!share && i && reserved_by_other(b, slot)) {
            *skipped = true;
            continue;
        }
        if (page *p = alloc_in(b, order, mt, slot))
            return p;
    }
    return nullptr;
}

unsigned long lockfree_backend::claim_nearby(migratetype mt, unsigned slot) noexcept {
    const unsigned long start = hint(slot, mt).load(std::memory_order_relaxed) % nr_blocks_;
    for (migratetype fb : buddy::fallbacks[mt]) {
        unsigned long b = start;
        for (unsigned long i = 0; i < std::min(reserve_window, nr_blocks_);
             i++, b = b + 1 < nr_blocks_ ? b + 1 : 0)
            if (!reserved_by_other(b, slot) &&
                retype(b, fb, mt, [](pb_entry e) { return e.whole(); })) {
                count_fallback();
                return b;
            }
    }
    return no_pageblock;
}

page *lockfree_backend::alloc_fallback(unsigned order, migratetype mt, unsigned alloc_flags,
                                       unsigned cpu_slot) noexcept {
    // 1. A wholly free pageblock of a fallback type becomes ours: no mixing.
    for (migratetype fb : buddy::fallbacks[mt]) {
        if (order >= pageblock_order) {
            if (page *p = alloc_whole(order, fb, mt, cpu_slot)) {
                count_fallback();
                return p;
            }
            continue;
        }
        // From the CPU's own part of the zone, so that CPUs claim apart.
        unsigned long b = hint(cpu_slot, mt).load(std::memory_order_relaxed) % nr_blocks_;
        for (unsigned long i = 0; i < nr_blocks_; i++, b = b + 1 < nr_blocks_ ? b + 1 : 0)
            if (retype(b, fb, mt, [](pb_entry e) { return e.whole(); })) {
                count_fallback();
                if (page *p = alloc_in(b, order, mt, cpu_slot))
                    return p;
            }
    }
    if (order >= pageblock_order || (alloc_flags & ALLOC_NOFRAGMENT))
        return nullptr;
    // 2. A fallback pageblock at least half free is claimed whole, when the kernel would
    //    (steal_suitable_fallback(), which also counts the pageblock's pages of our type
    //    towards the half; this counts free frames only). The kernel claims only if it may
    //    steal (can_steal_fallback()): for unmovable and reclaimable requests, or when the
    //    free block it falls back to, the largest there is, has pageblock_order / 2 or
    //    more; for a small movable request here, when the pageblock has a free run of that
    //    order. Claimed or not, a fallback below a pageblock boosts the watermarks, for
    //    kswapd to reclaim ahead of the next one.
    const bool may_steal = buddy::can_steal_fallback(order, mt);
    for (migratetype fb : buddy::fallbacks[mt])
        for (unsigned long b = 0; b < nr_blocks_; b++)
            if (retype(b, fb, mt, [&](pb_entry e) {
                    return !e.huge() && e.free() >= pageblock_nr_pages / 2 &&
                           (may_steal || has_free_run(blocks_[b], pageblock_order / 2));
                })) {
                count_fallback();
                boost_watermarks(alloc_flags);
                if (page *p = alloc_in(b, order, mt, cpu_slot))
                    return p;
            }
    // 3. Frames from a fallback type's pageblock as it is: the pageblock is now mixed.
    for (migratetype fb : buddy::fallbacks[mt])
        if (page *p = alloc_typed(order, fb, cpu_slot)) {
            count_fallback();
            boost_watermarks(alloc_flags);
            return p;
        }
    return nullptr;
}

void lockfree_backend::boost_watermarks(unsigned alloc_flags) noexcept {
    // Two boosts at once may count as one: a heuristic, as racy reads of it are in the kernel.
    auto r = boost_watermark(z_.watermark_boost.load(std::memory_order_relaxed),
                             z_._watermark[WMARK_HIGH], int(z_.watermark_boost_factor),
                             pageblock_nr_pages, z_.managed_pages);
    if (r.boosted) {
        z_.watermark_boost.store(r.watermark_boost, std::memory_order_relaxed);
        if (alloc_flags & ALLOC_KSWAPD)
            z_.flags.fetch_or(ZONE_BOOSTED_WATERMARK, std::memory_order_relaxed);
    }
}

page *lockfree_backend::alloc_one(unsigned order, migratetype mt, unsigned alloc_flags,
                                  unsigned cpu) noexcept {
    const unsigned slot = cpu % nr_hints_;
    if (order >= pageblock_order) { // whole pageblocks: nobody reserves them
        page *p = alloc_whole(order, mt, mt, slot);
        return p ? p : alloc_fallback(order, mt, alloc_flags, slot);
    }
    bool skipped = false;
    if (page *p = alloc_typed(order, mt, slot, false, &skipped))
        return p;
    if (skipped) {
        // The type has room only in other CPUs' pageblocks: reserve a free one nearby, as
        // LLFree reserves a new tree, before sharing theirs (a claim, counted as the
        // kernel's fallback to a whole pageblock is).
        const unsigned long b = claim_nearby(mt, slot);
        if (b != no_pageblock)
            if (page *p = alloc_in(b, order, mt, slot))
                return p;
        if (page *p = alloc_typed(order, mt, slot))
            return p;
    }
    return alloc_fallback(order, mt, alloc_flags, slot);
}

page *lockfree_backend::rmqueue(unsigned order, migratetype mt, unsigned alloc_flags,
                                unsigned cpu) {
    const unsigned slot = cpu % nr_hints_;
    page *p = nullptr;
    if (alloc_flags & ALLOC_HIGHATOMIC)
        p = alloc_typed(order, MIGRATE_HIGHATOMIC, slot);
    if (!p)
        p = alloc_one(order, mt, alloc_flags, cpu);
    if (!p && (alloc_flags & (ALLOC_OOM | ALLOC_NON_BLOCK)))
        p = alloc_typed(order, MIGRATE_HIGHATOMIC, slot);
    return p;
}

unsigned long lockfree_backend::take_blocks(unsigned long b, unsigned order, migratetype mt,
                                            unsigned slot, unsigned long want,
                                            std::uint32_t *pfns) noexcept {
    pageblock_state &pb = blocks_[b];
    const unsigned size = 1u << order;
    pb_entry e = pb.load();
    unsigned n;
    do {
        if (e.huge() || e.free() < size || e.mt() != mt)
            return 0;
        n = unsigned(std::min<unsigned long>(want, e.free() >> order));
    } while (!pb.cas(e, e.with_free(e.free() - n * size)));
    account(e, e.with_free(e.free() - n * size), slot);
    std::uint16_t index[pageblock_nr_pages];
    const unsigned first_word = slot % lockfree::words_per_pageblock;
    unsigned got = n;
    if (order == 0) {
        pb.claim_frames(n, first_word, index); // single frames: the count promises them
    } else {
        // A count of free frames promises no aligned runs: what is not claimed goes back.
        got = claim_runs(pb, order, n, first_word, index);
        if (got < n)
            give_back(b, (n - got) * size, slot);
    }
    if (!got)
        return 0;
    settle(b, slot, mt);
    const unsigned long pfn0 = z_.zone_start_pfn + (b << pageblock_order);
    for (unsigned i = 0; i < got; i++) {
        pfns[i] = std::uint32_t(pfn0 + index[i]);
        trace_mm_page_alloc_zone_locked(z_, z_.mem_map + pfns[i], order, mt);
    }
    return got;
}

unsigned long lockfree_backend::rmqueue_bulk(unsigned order, migratetype mt, unsigned alloc_flags,
                                             unsigned cpu, unsigned long count, std::uint32_t *head,
                                             std::uint32_t *tail) {
    // The per-CPU orders come in runs from the pageblocks of the type: one CAS on a
    // pageblock's entry for all the blocks it gives, one per bitfield word they lie in, one
    // accounting; the kernel's tracepoint for each block. What the type's pageblocks cannot
    // give (and higher orders) comes a block at a time, with the fallbacks.
    pcp_chain chain(z_.mem_map, order, head, tail);
    const unsigned slot = cpu % nr_hints_;
    if (order <= lockfree::max_word_order) {
        // The CPU's own pageblocks and nobody's; then a free one to reserve, as alloc_one()
        // does; then other CPUs'.
        const unsigned long own = hint(slot, mt).load(std::memory_order_relaxed) % nr_blocks_;
        bool skipped = false;
        take_bulk(order, mt, slot, own, count, chain, false, &skipped);
        if (chain.size() < count && skipped) {
            const unsigned long b = claim_nearby(mt, slot);
            if (b != no_pageblock)
                take_bulk(order, mt, slot, b, count, chain, false, &skipped);
            take_bulk(order, mt, slot, own, count, chain, true, nullptr);
        }
    }
    while (chain.size() < count) {
        page *p = alloc_one(order, mt, alloc_flags, cpu);
        if (!p)
            break;
        chain.add(std::uint32_t(p - z_.mem_map));
    }
    return chain.finish();
}

void lockfree_backend::take_bulk(unsigned order, migratetype mt, unsigned slot, unsigned long start,
                                 unsigned long count, pcp_chain &chain, bool share,
                                 bool *skipped) noexcept {
    std::uint32_t run[pageblock_nr_pages];
    unsigned long b = start;
    for (unsigned long i = 0; i < nr_blocks_ && chain.size() < count;
         i++, b = b + 1 < nr_blocks_ ? b + 1 : 0) {
        if (!share && i && reserved_by_other(b, slot)) {
            const pb_entry e = blocks_[b].load();
            if (e.huge() || e.free() < (1u << order) || e.mt() != mt)
                continue;
            *skipped = true;
            continue;
        }
        const unsigned long n = take_blocks(
            b, order, mt, slot, std::min<unsigned long>(count - chain.size(), std::size(run)), run);
        for (unsigned long k = 0; k < n; k++)
            chain.add(run[k]);
    }
}

pb_entry lockfree_backend::free_frames(page *p, unsigned order) noexcept {
    const unsigned long b = pageblock_of(p);
    const auto index = unsigned((p - z_.mem_map) - z_.zone_start_pfn) & (pageblock_nr_pages - 1);
    blocks_[b].unclaim(index, order);
    return blocks_[b].give(1u << order);
}

// FPI_TRYLOCK changes nothing: no path here waits for anyone.
void lockfree_backend::free_one(page *p, unsigned order, unsigned cpu, fpi_t) {
    if (order < pageblock_order) {
        const pb_entry before = free_frames(p, order);
        account(before, before.with_free(before.free() + (1u << order)), cpu);
        return;
    }
    const unsigned long b = pageblock_of(p);
    for (unsigned long i = 0; i < (1ul << (order - pageblock_order)); i++) {
        const pb_entry e = blocks_[b + i].give_whole();
        account(e, pb_entry::make(pageblock_nr_pages, e.mt(), false), cpu);
    }
}

void lockfree_backend::free_bulk(std::uint32_t head, unsigned long n, unsigned cpu) {
    // Per-CPU blocks are below pageblock_order: each goes back with two atomics on its
    // pageblock; NR_FREE_PAGES takes the batch in one change.
    long freed = 0, highatomic = 0;
    pcp_unchain chain(z_.mem_map, head, n);
    while (page *p = chain.pop()) {
        const unsigned order = p->order;
        p->order = 0;
        const pb_entry before = free_frames(p, order);
        if (before.mt() == MIGRATE_HIGHATOMIC)
            highatomic += 1l << order;
        trace_mm_page_pcpu_drain(z_, p, order, before.mt());
        freed += 1l << order;
    }
    z_.mod_page_state_unlocked(NR_FREE_PAGES, freed, cpu);
    if (highatomic)
        z_.nr_free_highatomic.fetch_add(highatomic, std::memory_order_relaxed);
}

// Where this thread's last probe found its block (has_block()). The answer does not depend
// on where the probe starts; starting there reads, most often, the pageblock the thread's CPU
// allocates from and holds in its cache, rather than the zone's first pageblocks, which may be
// another CPU's and change under it at every allocation.
thread_local unsigned long t_probe_start;

bool lockfree_backend::has_block(unsigned order, migratetype mt) const noexcept {
    // A free block of `order` within a pageblock of type mt: a wholly free pageblock (and its
    // buddy, for MAX_PAGE_ORDER), or an aligned run of clear bits.
    const unsigned need = order >= pageblock_order ? pageblock_nr_pages : 1u << order;
    unsigned long b = t_probe_start < nr_blocks_ ? t_probe_start : 0;
    for (unsigned long i = 0; i < nr_blocks_; i++, b = b + 1 < nr_blocks_ ? b + 1 : 0) {
        const pb_entry e = blocks_[b].load();
        if (e.mt() != mt || e.huge() || e.free() < need)
            continue;
        if (order < pageblock_order    ? has_free_run(blocks_[b], order)
            : order == pageblock_order ? true
                                       : blocks_[b ^ 1].load().whole()) {
            t_probe_start = b;
            return true;
        }
    }
    return false;
}

unsigned long lockfree_backend::nr_free_blocks(unsigned order) const noexcept {
    // The blocks a buddy allocator would hold for the same free frames: pairs of wholly free
    // pageblocks at MAX_PAGE_ORDER, single ones at pageblock_order, and below that the
    // maximal aligned runs of free frames.
    unsigned long blocks = 0;
    for (unsigned long b = 0; b < nr_blocks_; b++) {
        const pb_entry e = blocks_[b].load();
        if (e.whole()) {
            const bool pair = blocks_[b ^ 1].load().whole();
            if (order == MAX_PAGE_ORDER)
                blocks += pair && !(b & 1);
            else if (order == pageblock_order)
                blocks += !pair;
            continue;
        }
        if (!e.huge() && e.free() && order < pageblock_order)
            blocks += count_runs(blocks_[b], 0, pageblock_order, order);
    }
    return blocks;
}

int lockfree_backend::find_suitable_fallback(unsigned order, migratetype mt, bool only_stealable,
                                             bool &can_steal) const noexcept {
    can_steal = false;
    for (migratetype fb : buddy::fallbacks[mt]) {
        if (!has_block(order, fb))
            continue;
        if (buddy::can_steal_fallback(order, mt))
            can_steal = true;
        if (!only_stealable || can_steal)
            return fb;
    }
    return -1;
}

void lockfree_backend::reserve_highatomic(page *p, unsigned order, unsigned) {
    // The kernel's limit: 1% of the zone rounded up to a pageblock; none below a pageblock.
    if (z_.managed_pages / 100 < pageblock_nr_pages)
        return;
    const unsigned long max_managed =
        (z_.managed_pages / 100 + pageblock_nr_pages - 1) & ~(pageblock_nr_pages - 1);
    const unsigned long b = pageblock_of(p);
    const unsigned long span = order < pageblock_order ? 1 : 1ul << (order - pageblock_order);
    const unsigned long pages = span << pageblock_order;
    // Book the pages first, so that racing reservations never pass the limit together.
    unsigned long reserved = z_.nr_reserved_highatomic.load(std::memory_order_relaxed);
    do {
        if (reserved >= max_managed)
            return;
    } while (!z_.nr_reserved_highatomic.compare_exchange_weak(reserved, reserved + pages,
                                                              std::memory_order_relaxed));
    unsigned long done = 0;
    for (unsigned long i = 0; i < span; i++) {
        const migratetype mt = blocks_[b + i].load().mt();
        if (mt < MIGRATE_PCPTYPES &&
            retype(b + i, mt, MIGRATE_HIGHATOMIC, [](pb_entry) { return true; }))
            done += pageblock_nr_pages;
    }
    if (done != pages)
        z_.nr_reserved_highatomic.fetch_sub(pages - done, std::memory_order_relaxed);
}

bool lockfree_backend::unreserve_highatomic(bool force, migratetype to, unsigned) {
    if (!force && z_.nr_reserved_highatomic.load(std::memory_order_relaxed) <= pageblock_nr_pages)
        return false;
    for (unsigned long b = 0; b < nr_blocks_; b++)
        if (retype(b, MIGRATE_HIGHATOMIC, to, [](pb_entry e) { return e.free() > 0; })) {
            z_.nr_reserved_highatomic.fetch_sub(pageblock_nr_pages, std::memory_order_relaxed);
            return true;
        }
    return false;
}

unsigned long lockfree_backend::verify_free(free_frame_walker &w, unsigned long *highatomic) {
    unsigned long free_pages = 0;
    for (unsigned long b = 0; b < nr_blocks_; b++) {
        const pb_entry e = blocks_[b].load();
        const unsigned long pfn0 = z_.zone_start_pfn + (b << pageblock_order);
        const unsigned clear = blocks_[b].clear_bits();
        if (e.huge() ? e.free() != 0 || clear != pageblock_nr_pages : clear != e.free())
            w.bad(invariant::counters, "lock-free pageblock",
                  fmt::format("pageblock at pfn {:#x}: entry says {} free{}, the bitfield {}", pfn0,
                              e.free(), e.huge() ? " (allocated whole)" : "", clear),
                  (long long)pfn0);
        if (z_.pageblock_migratetype(pfn0) != e.mt())
            w.bad(invariant::migratetype, "pageblock type",
                  fmt::format("pageblock at pfn {:#x} is {} but the zone records {}", pfn0,
                              migratetype_name(e.mt()),
                              migratetype_name(z_.pageblock_migratetype(pfn0))),
                  (long long)pfn0);
        if (e.huge())
            continue;
        for (unsigned i = 0; i < lockfree::words_per_pageblock; i++) {
            std::uint64_t v = blocks_[b].bits[i].load(std::memory_order_relaxed);
            for (unsigned bit = 0; bit < 64; bit++)
                if (!(v >> bit & 1))
                    w.cover(pfn0 + i * 64 + bit, 1, "free frame");
        }
        free_pages += clear;
        if (e.mt() == MIGRATE_HIGHATOMIC)
            *highatomic += clear;
    }
    return free_pages;
}

} // namespace

std::unique_ptr<frame_backend> make_lockfree_backend(zone &z, unsigned cpus) {
    return std::make_unique<lockfree_backend>(z, cpus);
}

} // namespace gfplab
