// SPDX-License-Identifier: MIT
//
// How many blocks a per-CPU list takes from below and gives back, as pure functions of
// the CPU's state (mm/page_alloc.c 6.12: nr_pcp_alloc, nr_pcp_high, nr_pcp_free and the
// free_high test of free_unref_page_commit). area (pcp.hpp) feeds them its counts.
//
// The model keeps high at high_min: the auto-tuning of pcp->high between high_min and
// high_max (and its decay from vmstat_update) is not modelled, so these rules are 6.12's
// for a CPU whose high never moved, and alloc_factor (the doubling of order-0 refills
// while a CPU only allocates) is 0.
#pragma once

#include <algorithm>
#include <cstdint>

namespace gfplab::pcp {

// CONFIG_PCP_BATCH_SCALE_MAX (default 5): free_count saturates at batch << 5, and a
// free_high drain gives back at most that many pages.
inline constexpr int PCP_BATCH_SCALE_MAX = 5;

// pcp->flags bits (include/linux/mmzone.h): the previous free on this CPU was of a
// high order; keep a batch of pages before a free_high drain (set when the CPU's share of
// its last-level cache holds more than three batches).
inline constexpr std::uint8_t PCPF_PREV_FREE_HIGH_ORDER = 1u << 0;
inline constexpr std::uint8_t PCPF_FREE_HIGH_BATCH = 1u << 1;

// nr_pcp_alloc(): blocks of `order` one refill asks for. A pageset whose high is below
// its batch (the boot pageset) takes one; otherwise a batch of pages, as blocks of the
// order but at least two, unless the batch is a single page (small zones): then one
// block, whatever the order.
constexpr long nr_pcp_alloc(long batch, long high, unsigned order) noexcept {
    if (high < batch)
        return 1;
    if (batch > 1)
        return std::max(batch >> order, 2l);
    return batch;
}

// The free_high test of free_unref_page_commit(), for a free of order 1..3 (the model's
// only high orders on per-CPU lists): this free and the one before it were of a high
// order, the CPU has freed at least a batch of pages without allocating much in between,
// and, with PCPF_FREE_HIGH_BATCH, it holds at least a batch (count includes this block).
constexpr bool pcp_free_high(unsigned order, std::uint8_t flags, long free_count, long batch,
                             long count) noexcept {
    return order != 0 && free_count >= batch && (flags & PCPF_PREV_FREE_HIGH_ORDER) &&
           (!(flags & PCPF_FREE_HIGH_BATCH) || count >= batch);
}

// nr_pcp_high() with high fixed at high_min: the count at which the CPU drains. 0 for a
// free_high free (drain now); with reclaim active on the zone, at most four batches, so
// that reclaim's frees do not pile up on per-CPU lists.
constexpr long nr_pcp_high(long high, long batch, bool free_high, bool reclaim_active) noexcept {
    if (high == 0 || free_high)
        return 0;
    if (reclaim_active)
        return std::min(batch << 2, high);
    return high;
}

// nr_pcp_free(): pages to give back once count reached high. A free_high drain empties
// the CPU (at most batch << PCP_BATCH_SCALE_MAX pages); a pageset with high below batch
// gives back one page; otherwise as many pages as the CPU freed in a row (free_count),
// but at least a batch, and never so many that less than a batch stays.
constexpr long nr_pcp_free(long count, long batch, long high, long free_count,
                           bool free_high) noexcept {
    if (free_high)
        return std::min(count, batch << PCP_BATCH_SCALE_MAX);
    if (high < batch)
        return 1;
    // clamp(free_count, batch, high - batch), the upper bound winning as in the kernel's
    // clamp_t (high is at least 4 * batch here, so it never has to).
    return std::min(std::max(free_count, batch), high - batch);
}

} // namespace gfplab::pcp
