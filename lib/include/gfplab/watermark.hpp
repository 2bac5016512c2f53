// SPDX-License-Identifier: MIT
//
// gfplab/watermark.hpp - zone watermarks as pure arithmetic (Linux 6.12 mm/page_alloc.c):
// min_free_kbytes, per-zone min/low/high/promo, lowmem_reserve, the watermark check itself
// and watermark boosting. Nothing here holds state; the engine feeds in what it has counted.
#pragma once

#include <gfplab/alloc_flags.hpp>
#include <gfplab/linux/mmzone.h>

#include <array>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace gfplab {

// Sysctl defaults of 6.12: vm.watermark_scale_factor (0.1% of a zone per watermark step),
// vm.watermark_boost_factor (150% of the high watermark), vm.lowmem_reserve_ratio.
inline constexpr int DEFAULT_WATERMARK_SCALE_FACTOR = 10;
inline constexpr int DEFAULT_WATERMARK_BOOST_FACTOR = 15000;
inline constexpr std::array<int, MAX_NR_ZONES> DEFAULT_LOWMEM_RESERVE_RATIO = {
    256, // ZONE_DMA
    256, // ZONE_DMA32
    32,  // ZONE_NORMAL
    0,   // ZONE_MOVABLE
};
// The clamp of a HIGHMEM/MOVABLE zone's min watermark starts at SWAP_CLUSTER_MAX pages.
inline constexpr unsigned long SWAP_CLUSTER_MAX = 32;

// lib/math/int_sqrt.c: floor(sqrt(x)).
unsigned long int_sqrt(unsigned long x) noexcept;

// 6.12 calculate_min_free_kbytes(): int_sqrt(lowmem_kbytes * 16) clamped to [128, 262144].
// lowmem_kbytes is nr_free_buffer_pages() in KiB. (A larger user-set value wins in the
// kernel; that choice is the caller's.)
int calculate_min_free_kbytes(unsigned long lowmem_kbytes) noexcept;

// One zone as __setup_per_zone_wmarks() and setup_per_zone_lowmem_reserve() see it.
struct wmark_zone {
    unsigned long managed_pages = 0;
    bool highmem_or_movable = false; // is_highmem(zone) || zone_idx(zone) == ZONE_MOVABLE
};

// zone->_watermark[] (without boost: wmark_pages() adds watermark_boost to each).
struct zone_wmarks {
    unsigned long min = 0, low = 0, high = 0, promo = 0;

    constexpr unsigned long operator[](zone_watermarks w) const noexcept {
        return w == WMARK_MIN ? min : w == WMARK_LOW ? low : w == WMARK_HIGH ? high : promo;
    }
    friend constexpr bool operator==(const zone_wmarks &, const zone_wmarks &) = default;
};

// 6.12 wmark_pages(): the boost raises all four watermarks alike.
constexpr unsigned long wmark_pages(const zone_wmarks &w, zone_watermarks which,
                                    unsigned long watermark_boost) noexcept {
    return w[which] + watermark_boost;
}

// 6.12 __setup_per_zone_wmarks() over every zone of the machine (all nodes: lowmem_pages is a
// global sum). Result i belongs to zones[i]. With no lowmem at all every min is 0 (the kernel
// would divide by zero).
std::vector<zone_wmarks>
setup_per_zone_wmarks(std::span<const wmark_zone> zones, int min_free_kbytes,
                      int watermark_scale_factor = DEFAULT_WATERMARK_SCALE_FACTOR);

// lowmem_reserve[i][j]: pages zone i keeps back from requests whose highest usable zone is j.
using lowmem_reserve_row = std::array<long, MAX_NR_ZONES>;

// 6.12 setup_per_zone_lowmem_reserve() for the zones of one node, in zone order (at most
// MAX_NR_ZONES; ratios[i] is sysctl_lowmem_reserve_ratio[i], missing entries count as 0).
std::vector<lowmem_reserve_row>
setup_per_zone_lowmem_reserve(std::span<const wmark_zone> zones,
                              std::span<const int> ratios = DEFAULT_LOWMEM_RESERVE_RATIO);

// 6.12 calculate_totalreserve_pages() for one node: sum over zones of
// min(managed, high + max_j lowmem_reserve[j]).
unsigned long calculate_totalreserve_pages(std::span<const wmark_zone> zones,
                                           std::span<const zone_wmarks> wmarks,
                                           std::span<const lowmem_reserve_row> reserve);

// Answers "does zone->free_area[order] have a block on free_list[mt]?" for the order > 0 part
// of the check. A non-owning reference to any callable bool(unsigned order, int mt); the
// default answers false everywhere.
class free_area_probe {
  public:
    constexpr free_area_probe() noexcept = default;
    template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, free_area_probe>) free_area_probe(const F &f)
    noexcept // NOLINT: implicit on purpose, like function_ref
        : ctx_(&f), fn_([](const void *c, unsigned int o, int mt) {
              return static_cast<bool>((*static_cast<const F *>(c))(o, mt));
          }) {}
    bool operator()(unsigned int order, int mt) const { return fn_ && fn_(ctx_, order, mt); }

  private:
    const void *ctx_ = nullptr;
    bool (*fn_)(const void *, unsigned int, int) = nullptr;
};

// A copy of which free lists are non-empty: bit mt of nonempty[o] is set when
// free_area[o].free_list[mt] has a block. Usable as a probe.
struct free_area_snapshot {
    std::array<std::uint8_t, NR_PAGE_ORDERS> nonempty{};

    void set(unsigned int order, int mt) noexcept { nonempty[order] |= std::uint8_t(1u << mt); }
    bool operator()(unsigned int order, int mt) const noexcept {
        return order < NR_PAGE_ORDERS && (nonempty[order] >> mt) & 1u;
    }
};

// 6.12 __zone_watermark_unusable_free(): pages the request cannot count as free.
inline long zone_watermark_unusable_free(unsigned int order, unsigned int alloc_flags,
                                         long nr_free_highatomic) noexcept {
    // The request's own tail pages can never satisfy anything else.
    long unusable = (1l << order) - 1;
    // Highatomic pageblocks are held back from everyone without a reserve flag.
    if (!(alloc_flags & ALLOC_RESERVES))
        unusable += nr_free_highatomic;
    // Without CMA, NR_FREE_CMA_PAGES is always 0: nothing to subtract for !ALLOC_CMA.
    return unusable;
}

// zone_watermark_fast()'s cheap order-0 test, inline for the allocation fast path: free
// pages minus everything possibly unusable (over-estimating the highatomic part), clamped at
// 0, strictly above mark + reserve passes at once. false means: run the full check.
inline bool zone_watermark_fast_order0(long free_pages, unsigned long mark, long lowmem_reserve,
                                       unsigned int alloc_flags, long nr_free_highatomic) noexcept {
    const long reserved = zone_watermark_unusable_free(0, alloc_flags, nr_free_highatomic);
    const long usable = free_pages - (free_pages < reserved ? free_pages : reserved);
    return usable > static_cast<long>(mark) + lowmem_reserve;
}

// 6.12 __zone_watermark_ok(), exactly. lowmem_reserve is zone->lowmem_reserve[highest_zoneidx];
// free_pages is NR_FREE_PAGES as read (it may go negative inside, as in the kernel).
bool zone_watermark_ok(long free_pages, unsigned int order, unsigned long mark, long lowmem_reserve,
                       unsigned int alloc_flags, long nr_free_highatomic,
                       free_area_probe free_area = {}) noexcept;

// The effective floor the check compares against (before lowmem_reserve): mark lowered by the
// reserve rules of alloc_flags. Exposed for the oracle's invariant I4.
long zone_watermark_floor(unsigned long mark, unsigned int alloc_flags) noexcept;

// What zone_watermark_fast() reads from the zone besides the mark.
struct zone_wmark_state {
    long free_pages = 0;         // zone_page_state(zone, NR_FREE_PAGES), never negative
    long lowmem_reserve = 0;     // zone->lowmem_reserve[highest_zoneidx]
    long nr_free_highatomic = 0; // zone->nr_free_highatomic
    unsigned long watermark_boost = 0;
    unsigned long min_unboosted = 0; // zone->_watermark[WMARK_MIN]
    free_area_probe free_area{};
};

// 6.12 zone_watermark_fast(): the order-0 shortcut (usable free pages above mark + reserve
// pass at once), then the full check, then for order-0 ALLOC_MIN_RESERVE requests at
// ALLOC_WMARK_MIN in a boosted zone one more check against the unboosted min watermark.
bool zone_watermark_fast(const zone_wmark_state &zone, unsigned int order, unsigned long mark,
                         unsigned int alloc_flags) noexcept;

// 6.12 boost_watermark(): the result of one fragmenting fallback steal.
struct watermark_boost_result {
    bool boosted;                  // false: the zone was left alone
    unsigned long watermark_boost; // the (possibly unchanged) new zone->watermark_boost
};
watermark_boost_result boost_watermark(unsigned long watermark_boost, unsigned long high_wmark,
                                       int watermark_boost_factor, unsigned long pageblock_pages,
                                       unsigned long managed_pages) noexcept;

} // namespace gfplab
