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

// The bit positions in `word` where an aligned run of 2^order clear bits starts (order <= 6).
constexpr std::uint64_t aligned_free_runs(std::uint64_t word, unsigned order) noexcept {
    std::uint64_t free = ~word;
    // After step i, bit p says bits p .. p + 2^(i+1) - 1 are all clear.
    for (unsigned i = 0; i < order; i++)
        free &= free >> (1u << i);
    // Keep the positions that are multiples of 2^order.
    constexpr std::uint64_t starts[max_word_order + 1] = {
        ~0ull,
        0x5555555555555555ull,
        0x1111111111111111ull,
        0x0101010101010101ull,
        0x0001000100010001ull,
        0x0000000100000001ull,
        0x0000000000000001ull,
    };
    return free & starts[order];
}

constexpr std::uint64_t run_mask(unsigned order, unsigned pos) noexcept {
    return (order == max_word_order ? ~0ull : ((1ull << (1u << order)) - 1)) << pos;
}

// One pageblock: its entry and bitfield, on a cache line of their own where possible.
struct alignas(64) pageblock_state {
    sync::atom<std::uint32_t> entry{0};
    sync::atom<std::uint64_t> bits[words_per_pageblock]{};

    pb_entry load() const noexcept { return {entry.load(std::memory_order_acquire)}; }
    bool cas(pb_entry &expected, pb_entry desired) noexcept {
        return entry.compare_exchange_weak(expected.raw, desired.raw, std::memory_order_acq_rel);
    }

    // Takes n frames from the count if the pageblock is of type mt (any type when mt is
    // MIGRATE_TYPES) and has them; the entry before the change in *old.
    bool take(unsigned n, unsigned mt, pb_entry *old) noexcept {
        pb_entry e = load();
        for (;;) {
            if (e.huge() || e.free() < n || (mt != MIGRATE_TYPES && e.mt() != mt))
                return false;
            if (cas(e, e.with_free(e.free() - n))) {
                *old = e;
                return true;
            }
        }
    }
    // Gives n frames back to the count; returns the entry before.
    pb_entry give(unsigned n) noexcept { return {entry.fetch_add(n, std::memory_order_acq_rel)}; }

    // Claims an aligned run of 2^order clear bits (order < pageblock_order) and returns the
    // frame's index in the pageblock, or -1 when none is clear now. Within a word one CAS;
    // across words (orders 7 and 8) whole words in turn, given back if a later one is taken:
    // a thread stopped half way holds some words for a while, which others skip.
    int claim(unsigned order, unsigned first_word) noexcept {
        if (order <= max_word_order) {
            for (unsigned i = 0; i < words_per_pageblock; i++) {
                const unsigned w = (first_word + i) % words_per_pageblock;
                std::uint64_t v = bits[w].load(std::memory_order_relaxed);
                for (std::uint64_t runs; (runs = aligned_free_runs(v, order));) {
                    const unsigned pos = unsigned(std::countr_zero(runs));
                    if (bits[w].compare_exchange_weak(v, v | run_mask(order, pos),
                                                      std::memory_order_acq_rel))
                        return int(w * 64 + pos);
                }
            }
            return -1;
        }
        const unsigned span = 1u << (order - max_word_order);
        for (unsigned w0 = 0; w0 < words_per_pageblock; w0 += span) {
            unsigned got = 0;
            for (; got < span; got++) {
                std::uint64_t zero = 0;
                if (!bits[w0 + got].compare_exchange_strong(zero, ~0ull, std::memory_order_acq_rel))
                    break;
            }
            if (got == span)
                return int(w0 * 64);
            while (got--)
                bits[w0 + got].store(0, std::memory_order_release);
        }
        return -1;
    }

    // Claims n single frames (order 0) that the caller took from the count, so they exist:
    // the lowest clear bits of each word in turn, one CAS per word. Writes their indexes.
    void claim_frames(unsigned n, unsigned first_word, std::uint16_t *out) noexcept {
        for (unsigned i = first_word, got = 0; got < n; i = (i + 1) % words_per_pageblock) {
            std::uint64_t v = bits[i].load(std::memory_order_relaxed);
            for (;;) {
                std::uint64_t mask = 0;
                for (std::uint64_t clear = ~v; clear && std::popcount(mask) < int(n - got);
                     clear &= clear - 1)
                    mask |= clear & -clear;
                if (!mask)
                    break;
                if (bits[i].compare_exchange_weak(v, v | mask, std::memory_order_acq_rel)) {
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
            bits[index / 64].fetch_and(~run_mask(order, index % 64), std::memory_order_release);
            return;
        }
        for (unsigned w = index / 64, n = 1u << (order - max_word_order); n--; w++)
            bits[w].store(0, std::memory_order_release);
    }

    unsigned clear_bits() const noexcept {
        unsigned n = 0;
        for (const auto &w : bits)
            n += unsigned(std::popcount(~w.load(std::memory_order_relaxed)));
        return n;
    }
};

} // namespace gfplab::lockfree
