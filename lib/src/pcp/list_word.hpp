// SPDX-License-Identifier: MIT
//
// One per-CPU page list as a single 64-bit word: the head pfn in the low half (pfn_nil when
// empty) and the number of entries in the high half. The entries are linked through
// struct page::lru.next. Because the whole state is one word, a single store commits any
// change, which is what a restartable sequence needs.
#pragma once

#include <gfplab/page.hpp>
#include <gfplab/sync/atom.hpp>

#include <cstddef>
#include <cstdint>

namespace gfplab::pcp {

inline constexpr std::uint64_t empty_word = pfn_nil;

constexpr std::uint32_t word_head(std::uint64_t w) noexcept {
    return std::uint32_t(w);
}
constexpr std::uint32_t word_count(std::uint64_t w) noexcept {
    return std::uint32_t(w >> 32);
}
constexpr std::uint64_t make_word(std::uint32_t head, std::uint32_t count) noexcept {
    return std::uint64_t(count) << 32 | head;
}

// Zones a per-CPU area can serve: MAX_NR_ZONES on each of at most 8 nodes.
inline constexpr unsigned max_zone_slots = 32;

// The first bytes of every CPU's block in the per-CPU area. Lists follow at byte offsets
// that the caller computes; the rseq sequences find the block from the CPU number.
struct cpu_block_header {
    // rseq mode: set while another CPU drains this one (drain_all_pages); every sequence
    // checks it first and leaves the work to the buddy allocator while it is set.
    sync::atom<std::uint32_t> stopped{0};
    // portable mode: the per-CPU trylock (the kernel's pcp->lock); a failed trylock sends
    // the caller to the buddy allocator, so a thread stopped while holding it stops nobody.
    sync::atom<std::uint32_t> lock{0};
    std::uint32_t pad[2] = {};
    // Per zone slot, the parts of the kernel's struct per_cpu_pages that the list words do
    // not hold (pcp.hpp: free_count, flags, frees since the last check of high). Here, at a
    // fixed offset from the block, so that the fast path finds them from the address it
    // computes for the trylock anyway.
    sync::atom<std::uint32_t> pcp_state[max_zone_slots] = {};
};
static_assert(sizeof(cpu_block_header) == 16 + 4 * max_zone_slots);

// One list in a CPU's block: its word, then the CPU's events on it (the kernel's
// vm_event_states, this_cpu_inc()): blocks taken from it by an allocation and blocks put on
// it by a free, not counting refills and drains. Next to the word, so that the fast path
// finds a counter at a fixed offset from the address it already has. Written only by the
// owner of the list (under the CPU's trylock, or inside a restartable sequence on that
// CPU), read racily by whoever sums them; 64 bits, so that they never wrap.
struct list_slot {
    sync::atom<std::uint64_t> word{empty_word};
    sync::atom<std::uint64_t> alloc_hits{0};
    sync::atom<std::uint64_t> free_hits{0};
};
inline constexpr std::size_t list_slot_bytes = sizeof(list_slot);
// Byte offsets of the counters from the list word (the rseq sequences count there).
inline constexpr std::size_t alloc_hits_offset = 8, free_hits_offset = 16;
static_assert(list_slot_bytes == 24, "a list slot is its word and two counters");

// Where the per-CPU blocks are.
struct percpu_region {
    std::uint8_t *base = nullptr;
    std::size_t stride = 0; // bytes per CPU block (a multiple of the cache line)
    unsigned ncpus = 0;

    cpu_block_header &header(unsigned cpu) const noexcept {
        return *reinterpret_cast<cpu_block_header *>(base + cpu * stride);
    }
    sync::atom<std::uint64_t> &list(unsigned cpu, std::size_t off) const noexcept {
        return slot(cpu, off).word;
    }
    list_slot &slot(unsigned cpu, std::size_t off) const noexcept {
        return *reinterpret_cast<list_slot *>(base + cpu * stride + off);
    }
    // A per-CPU event counter at byte offset `off` of the block.
    sync::atom<std::uint64_t> &counter(unsigned cpu, std::size_t off) const noexcept {
        return *reinterpret_cast<sync::atom<std::uint64_t> *>(base + cpu * stride + off);
    }
};

enum class outcome {
    ok,
    empty, // pop: the list was empty
    busy,  // the CPU is stopped (rseq) or its lock is taken (portable): use the buddy
};

} // namespace gfplab::pcp
