// SPDX-License-Identifier: MIT
//
// The lock-free backend's record of one pageblock (pageblock_nr_pages frames), after
// LLFree's "child" level: a bitfield with one bit per frame (set: allocated) and one 32-bit
// entry holding the free-frame count, the pageblock's migratetype and whether the pageblock
// is allocated whole (as part of a block of pageblock_order or more).
//
// The two are changed in an order that keeps one rule true at every instant:
//     bits set  <=  pageblock_nr_pages - entry.free
// An allocation first takes its frames from the count (CAS on the entry), then claims bits;
// a free first clears its bits, then gives the count back. So a count of n free promises at
// least n clear bits to the threads that took from it, a whole free count means an empty
// bitfield, and a whole-pageblock allocation needs only the entry. Accounting rides on the
// entry's transitions: whoever changes the entry knows its old and new value and applies the
// difference to NR_FREE_PAGES and nr_free_highatomic after the change.
#pragma once

#include <gfplab/linux/mmzone.h>
#include <gfplab/sync/atom.hpp>

#include <atomic>
#include <bit>
#include <cstdint>

namespace gfplab::lockfree {

inline constexpr unsigned words_per_pageblock = pageblock_nr_pages / 64;
static_assert(pageblock_nr_pages % 64 == 0);
// Orders served from one bitfield word; orders up to pageblock_order - 1 span words.
inline constexpr unsigned max_word_order = 6;

// The entry: free frames (0..512) in bits 0-9, the migratetype in 10-12, `huge` in 13.
struct pb_entry {
    std::uint32_t raw = 0;

    static constexpr std::uint32_t free_mask = 0x3ff;
    static constexpr unsigned mt_shift = 10;
    static constexpr std::uint32_t huge_bit = 1u << 13;

    static constexpr pb_entry make(unsigned free, migratetype mt, bool huge) noexcept {
        return {std::uint32_t(free) | (std::uint32_t(mt) << mt_shift) | (huge ? huge_bit : 0)};
    }
    constexpr unsigned free() const noexcept { return raw & free_mask; }
    constexpr migratetype mt() const noexcept { return migratetype((raw >> mt_shift) & 7); }
    constexpr bool huge() const noexcept { return raw & huge_bit; }
    constexpr bool whole() const noexcept { return !huge() && free() == pageblock_nr_pages; }
    constexpr pb_entry with_free(unsigned f) const noexcept { return {(raw & ~free_mask) | f}; }
    constexpr pb_entry with_mt(migratetype m) const noexcept {
        return {(raw & ~(7u << mt_shift)) | (std::uint32_t(m) << mt_shift)};
    }
};

// The first bit of every aligned lane of 2^order bits in a word (at namespace scope: a table
// local to a function is built on the stack at every call).
inline constexpr std::uint64_t lane_low_bits[max_word_order + 1] = {
    ~0ull,
    0x5555555555555555ull,
    0x1111111111111111ull,
    0x0101010101010101ull,
    0x0001000100010001ull,
    0x0000000100000001ull,
    0x0000000000000001ull,
};

// The bit positions in `word` where an aligned run of 2^order clear bits starts (order <= 6).
constexpr std::uint64_t aligned_free_runs(std::uint64_t word, unsigned order) noexcept {
    std::uint64_t free = ~word;
    // After step i, bit p says bits p .. p + 2^(i+1) - 1 are all clear.
    for (unsigned i = 0; i < order; i++)
        free &= free >> (1u << i);
    // Keep the positions that are multiples of 2^order.
    return free & lane_low_bits[order];
}

constexpr std::uint64_t run_mask(unsigned order, unsigned pos) noexcept {
    return (order == max_word_order ? ~0ull : ((1ull << (1u << order)) - 1)) << pos;
}

// The memory orders of the protocol, named so that the Relacy model checks
// (tests/relacy/pageblock_*_test.cpp) can be shown to fail when one is weakened; docs/
// backends.md lists which check catches which. The argument:
//  - a block's frames pass from one owner to the next through its bits: unclaim releases
//    the owner's writes, the next claim's CAS acquires them (directly, or through a
//    cross-word claim that took the word in between and gave it back, hence the release on
//    those give-back stores too);
//  - a whole pageblock passes through its entry alone (no bits): give and the entry's CAS
//    release what the frames' owners wrote and the whole-pageblock taker acquires it, and the
//    same pair makes "a whole free count means an empty bitfield" true for whoever reads the
//    bits after taking the count.
inline constexpr std::memory_order entry_load_order = std::memory_order_acquire;
inline constexpr std::memory_order entry_cas_order = std::memory_order_acq_rel;
inline constexpr std::memory_order entry_store_order = std::memory_order_release;
inline constexpr std::memory_order give_order = std::memory_order_acq_rel;
inline constexpr std::memory_order claim_order = std::memory_order_acq_rel;
inline constexpr std::memory_order unclaim_order = std::memory_order_release;
inline constexpr std::memory_order claim_undo_order = std::memory_order_release;
// The migratetype's copy in zone::pageblock_mt (mirror_type below).
inline constexpr std::memory_order retype_cas_order = entry_cas_order;
inline constexpr std::memory_order mirror_order = std::memory_order_acq_rel;
inline constexpr std::memory_order mirror_recheck_order = entry_load_order;

// One pageblock: its entry and bitfield, on a cache line of their own where possible. A
// template over the atomic object's type and the number of bitfield words so that the
// Relacy model checks run this very code on Relacy's atomics and a smaller bitfield; the
// library uses pageblock_state below.
template <template <class> class Atom, unsigned Words>
struct alignas(64) basic_pageblock_state {
    static constexpr unsigned words = Words;
    static constexpr unsigned frames = Words * 64;
    static_assert(frames <= pb_entry::free_mask);

    Atom<std::uint32_t> entry{0};
    Atom<std::uint64_t> bits[Words]{};

    pb_entry load() const noexcept { return {entry.load(entry_load_order)}; }
    bool cas(pb_entry &expected, pb_entry desired) noexcept {
        return entry.compare_exchange_weak(expected.raw, desired.raw, entry_cas_order);
    }

    // Takes n frames from the count if the pageblock is of type mt and has them; the entry
    // before the change in *old.
    bool take(unsigned n, migratetype mt, pb_entry *old) noexcept {
        pb_entry e = load();
        for (;;) {
            if (e.huge() || e.free() < n || e.mt() != mt)
                return false;
            if (cas(e, e.with_free(e.free() - n))) {
                *old = e;
                return true;
            }
        }
    }
    // Gives n frames back to the count; returns the entry before.
    pb_entry give(unsigned n) noexcept { return {entry.fetch_add(n, give_order)}; }

    // Takes the whole pageblock (a block of pageblock_order or more) if all its frames are
    // free and it is of type mt: the entry becomes `taken` (no free
    // frame, huge) and the bitfield is not touched. The entry before in *old.
    bool take_whole(migratetype mt, pb_entry taken, pb_entry *old) noexcept {
        pb_entry e = load();
        while (!e.huge() && e.free() == frames && e.mt() == mt)
            if (cas(e, taken)) {
                *old = e;
                return true;
            }
        return false;
    }
    // Undoes take_whole (the other pageblock of a pair was not free): only the holder
    // changes a huge entry, so a plain store puts the old one back.
    void untake_whole(pb_entry old) noexcept { entry.store(old.raw, entry_store_order); }
    // Frees a pageblock taken whole: all frames free, its type kept; returns the entry before.
    // The holder is the only writer of a huge entry but for the highatomic retype of its own
    // block, which it does not run while freeing; a CAS loop costs nothing more.
    pb_entry give_whole() noexcept {
        pb_entry e = load(), freed;
        do
            freed = pb_entry::make(frames, e.mt(), false);
        while (!cas(e, freed));
        return e;
    }

    // Changes the pageblock's type from `from` to `to` if its entry
    // allows (pred). True when the pageblock is of type `to` now: *old is the entry before,
    // whose type differs from `to` only if this call changed it.
    template <class Pred>
    bool retype(migratetype from, migratetype to, Pred pred, pb_entry *old) noexcept {
        pb_entry e = load();
        for (;;) {
            if (e.mt() != from || !pred(e))
                return false;
            if (e.mt() == to ||
                entry.compare_exchange_weak(e.raw, e.with_mt(to).raw, retype_cas_order)) {
                *old = e;
                return true;
            }
        }
    }

    // Claims an aligned run of 2^order clear bits (order < pageblock_order) and returns the
    // frame's index in the pageblock, or -1 when none is clear now. Within a word one CAS;
    // across words (orders 7 and 8) whole words in turn, given back if a later one is taken:
    // a thread stopped half way holds some words for a while, which others skip.
    int claim(unsigned order, unsigned first_word) noexcept {
        if (order <= max_word_order) {
            for (unsigned i = 0; i < Words; i++) {
                const unsigned w = (first_word + i) % Words;
                std::uint64_t v = bits[w].load(std::memory_order_relaxed);
                for (std::uint64_t runs; (runs = aligned_free_runs(v, order));) {
                    const unsigned pos = unsigned(std::countr_zero(runs));
                    if (bits[w].compare_exchange_weak(v, v | run_mask(order, pos), claim_order))
                        return int(w * 64 + pos);
                }
            }
            return -1;
        }
        const unsigned span = 1u << (order - max_word_order);
        for (unsigned w0 = 0; w0 < Words; w0 += span) {
            unsigned got = 0;
            for (; got < span; got++) {
                std::uint64_t zero = 0;
                if (!bits[w0 + got].compare_exchange_strong(zero, ~0ull, claim_order))
                    break;
            }
            if (got == span)
                return int(w0 * 64);
            while (got--)
                bits[w0 + got].store(0, claim_undo_order);
        }
        return -1;
    }

    // Claims n single frames (order 0) that the caller took from the count, so they exist:
    // the lowest clear bits of each word in turn, one CAS per word. Writes their indexes.
    void claim_frames(unsigned n, unsigned first_word, std::uint16_t *out) noexcept {
        for (unsigned i = first_word, got = 0; got < n; i = (i + 1) % Words) {
            std::uint64_t v = bits[i].load(std::memory_order_relaxed);
            for (;;) {
                std::uint64_t mask = 0;
                for (std::uint64_t clear = ~v; clear && std::popcount(mask) < int(n - got);
                     clear &= clear - 1)
                    mask |= clear & -clear;
                if (!mask)
                    break;
                if (bits[i].compare_exchange_weak(v, v | mask, claim_order)) {
                    for (; mask; mask &= mask - 1)
                        out[got++] = std::uint16_t(i * 64 + unsigned(std::countr_zero(mask)));
                    break;
                }
            }
        }
    }

    // Clears the bits of a block claimed at `index` (release: the next owner sees this
    // owner's writes).
    void unclaim(unsigned index, unsigned order) noexcept {
        if (order <= max_word_order) {
            bits[index / 64].fetch_and(~run_mask(order, index % 64), unclaim_order);
            return;
        }
        for (unsigned w = index / 64, n = 1u << (order - max_word_order); n--; w++)
            bits[w].store(0, unclaim_order);
    }

    unsigned clear_bits() const noexcept {
        unsigned n = 0;
        for (const auto &w : bits)
            n += unsigned(std::popcount(~w.load(std::memory_order_relaxed)));
        return n;
    }
};

using pageblock_state = basic_pageblock_state<sync::atom, words_per_pageblock>;

// Copies pageblock pb's migratetype into `mirror`, its byte of zone::pageblock_mt. The entry
// is the truth; the mirror is what the rest of the System reads. Every retyper stores the
// entry's type and checks it again afterwards, so that the last store of all is the entry's
// final type.
template <class State, class Byte>
void mirror_type(const State &pb, Byte &mirror) noexcept {
    for (;;) {
        const migratetype mt = pb.load().mt();
        mirror.exchange(std::uint8_t(mt), mirror_order);
        if (pb_entry{pb.entry.load(mirror_recheck_order)}.mt() == mt)
            return;
    }
}

} // namespace gfplab::lockfree
