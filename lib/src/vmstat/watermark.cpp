// SPDX-License-Identifier: MIT
//
// Watermark arithmetic of Linux 6.12 (mm/page_alloc.c). Every function is a rewrite of one
// kernel routine as a pure function; the comments name the rule each step follows.
#include <gfplab/watermark.hpp>

#include <algorithm>
#include <bit>

namespace gfplab {

unsigned long int_sqrt(unsigned long x) noexcept {
    if (x < 2)
        return x;
    // Digit-by-digit square root in base 4: try each bit of the root from the top.
    unsigned long bit = 1ul << ((std::bit_width(x) - 1) & ~1u);
    unsigned long root = 0;
    while (bit) {
        if (x >= root + bit) {
            x -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return root;
}

int calculate_min_free_kbytes(unsigned long lowmem_kbytes) noexcept {
    // min_free_kbytes grows with the square root of lowmem (16 MB -> 512k, 1 GB -> 4096k,
    // 16 GB -> 16384k), bounded below by 128k and above by 256 MiB (6.12's upper clamp; 4.19
    // stopped at 64 MiB).
    const unsigned long v = int_sqrt(lowmem_kbytes * 16);
    return static_cast<int>(std::clamp(v, 128ul, 262144ul));
}

namespace {

// include/linux/math.h mult_frac(): x * n / d without overflowing the product.
constexpr unsigned long mult_frac(unsigned long x, unsigned long n, unsigned long d) {
    return (x / d) * n + ((x % d) * n) / d;
}

} // namespace

std::vector<zone_wmarks> setup_per_zone_wmarks(std::span<const wmark_zone> zones,
                                               int min_free_kbytes, int watermark_scale_factor) {
    // min_free_kbytes is in KiB; with 4 KiB pages that is a shift by 2.
    const unsigned long pages_min =
        static_cast<unsigned long>(min_free_kbytes) >> (PAGE_SHIFT - 10);

    // Only zones usable by the kernel itself share min_free_kbytes.
    unsigned long lowmem_pages = 0;
    for (const auto &z : zones)
        if (!z.highmem_or_movable)
            lowmem_pages += z.managed_pages;

    std::vector<zone_wmarks> out(zones.size());
    for (std::size_t i = 0; i < zones.size(); ++i) {
        const unsigned long managed = zones[i].managed_pages;
        // Each zone's share of pages_min is proportional to its size (64-bit product).
        std::uint64_t tmp = lowmem_pages ? std::uint64_t(pages_min) * managed / lowmem_pages : 0;

        zone_wmarks &w = out[i];
        if (zones[i].highmem_or_movable) {
            // Kernel allocations cannot use these zones, so their min only needs to keep
            // __GFP_HIGH and PF_MEMALLOC users going: 1/1024 of the zone, in [32, 128].
            w.min = std::clamp(managed / 1024, SWAP_CLUSTER_MAX, 128ul);
        } else {
            w.min = static_cast<unsigned long>(tmp);
        }

        // The step between watermarks is the larger of 1/4 of the min share and
        // watermark_scale_factor/10000 of the zone; boost starts at 0.
        const std::uint64_t gap = std::max<std::uint64_t>(
            tmp >> 2, mult_frac(managed, unsigned(watermark_scale_factor), 10000));
        w.low = w.min + static_cast<unsigned long>(gap);
        w.high = w.low + static_cast<unsigned long>(gap);
        w.promo = w.high + static_cast<unsigned long>(gap);
    }
    return out;
}

std::vector<lowmem_reserve_row> setup_per_zone_lowmem_reserve(std::span<const wmark_zone> zones,
                                                              std::span<const int> ratios) {
    const std::size_t n = std::min<std::size_t>(zones.size(), MAX_NR_ZONES);
    std::vector<lowmem_reserve_row> out(n, lowmem_reserve_row{});
    for (std::size_t i = 0; i + 1 < n; ++i) {
        const int ratio = i < ratios.size() ? ratios[i] : 0;
        // A zero ratio or an empty lower zone means no protection at all.
        const bool clear = ratio <= 0 || zones[i].managed_pages == 0;
        unsigned long upper_managed = 0;
        for (std::size_t j = i + 1; j < n; ++j) {
            // Protection against requests that may go up to zone j counts every zone above i
            // up to j, but an empty zone j itself gets no entry.
            upper_managed += zones[j].managed_pages;
            const bool empty = zones[j].managed_pages == 0;
            out[i][j] = (clear || empty) ? 0 : static_cast<long>(upper_managed / unsigned(ratio));
        }
    }
    return out;
}

unsigned long calculate_totalreserve_pages(std::span<const wmark_zone> zones,
                                           std::span<const zone_wmarks> wmarks,
                                           std::span<const lowmem_reserve_row> reserve) {
    unsigned long total = 0;
    const std::size_t n = std::min({zones.size(), wmarks.size(), reserve.size()});
    for (std::size_t i = 0; i < n; ++i) {
        // The largest protection this zone may have to honour, plus its high watermark: pages
        // userspace should not count on (dirty limits, overcommit), never above the zone size.
        long max = 0;
        for (std::size_t j = i; j < MAX_NR_ZONES; ++j)
            max = std::max(max, reserve[i][j]);
        unsigned long r = static_cast<unsigned long>(max) + wmarks[i].high;
        total += std::min(r, zones[i].managed_pages);
    }
    return total;
}

long zone_watermark_floor(unsigned long mark, unsigned int alloc_flags) noexcept {
    long min = static_cast<long>(mark);
    if (alloc_flags & ALLOC_RESERVES) {
        // __GFP_HIGH (or an RT task) may use half of the min reserve...
        if (alloc_flags & ALLOC_MIN_RESERVE) {
            min -= min / 2;
            // ...and a non-blocking one (GFP_ATOMIC) a further quarter of what is left.
            // ALLOC_NON_BLOCK alone (GFP_NOWAIT) lowers nothing.
            if (alloc_flags & ALLOC_NON_BLOCK)
                min -= min / 4;
        }
#ifdef GFPLAB_PLANTED_BUG_WATERMARK_ATOMIC
        // Planted bug (fuzz builds only, fuzz/meson.build): the non-blocking reduction
        // applied without __GFP_HIGH, so GFP_NOWAIT dips into the atomic reserve.
        else if (alloc_flags & ALLOC_NON_BLOCK)
            min -= min / 4;
#endif
        // An OOM victim is about to free memory: halve again, independently of the above.
        if (alloc_flags & ALLOC_OOM)
            min -= min / 2;
    }
    return min;
}

bool zone_watermark_ok(long free_pages, unsigned int order, unsigned long mark, long lowmem_reserve,
                       unsigned int alloc_flags, long nr_free_highatomic,
                       free_area_probe free_area) noexcept {
    // free_pages may go negative here; the kernel relies on signed arithmetic for that.
    free_pages -= zone_watermark_unusable_free(order, alloc_flags, nr_free_highatomic);
    const long min = zone_watermark_floor(mark, alloc_flags);

    // The order-0 test comes first: without enough free base pages no order can go ahead,
    // whatever blocks happen to be free. Equality fails.
    if (free_pages <= min + lowmem_reserve)
        return false;
    if (order == 0)
        return true;

    // Higher orders need at least one free block of a suitable size on a list the request may
    // take from: the per-CPU migratetypes always, HIGHATOMIC only with ALLOC_HIGHATOMIC or
    // ALLOC_OOM (CMA never exists in the model).
    const bool may_use_highatomic = alloc_flags & (ALLOC_HIGHATOMIC | ALLOC_OOM);
    for (unsigned int o = order; o < NR_PAGE_ORDERS; ++o) {
        for (int mt = 0; mt < MIGRATE_PCPTYPES; ++mt)
            if (free_area(o, mt))
                return true;
        if (may_use_highatomic && free_area(o, MIGRATE_HIGHATOMIC))
            return true;
    }
    return false;
}

bool zone_watermark_fast(const zone_wmark_state &zone, unsigned int order, unsigned long mark,
                         unsigned int alloc_flags) noexcept {
    const long free_pages = zone.free_pages;

    if (order == 0 && zone_watermark_fast_order0(free_pages, mark, zone.lowmem_reserve, alloc_flags,
                                                 zone.nr_free_highatomic))
        return true;

    if (zone_watermark_ok(free_pages, order, mark, zone.lowmem_reserve, alloc_flags,
                          zone.nr_free_highatomic, zone.free_area))
        return true;

    // A boost must not push __GFP_HIGH order-0 requests at the min watermark below what they
    // could have had without it: check again against the unboosted min.
    if (order == 0 && (alloc_flags & ALLOC_MIN_RESERVE) && zone.watermark_boost &&
        (alloc_flags & ALLOC_WMARK_MASK) == ALLOC_WMARK_MIN)
        return zone_watermark_ok(free_pages, order, zone.min_unboosted, zone.lowmem_reserve,
                                 alloc_flags, zone.nr_free_highatomic, zone.free_area);
    return false;
}

watermark_boost_result boost_watermark(unsigned long watermark_boost, unsigned long high_wmark,
                                       int watermark_boost_factor, unsigned long pageblock_pages,
                                       unsigned long managed_pages) noexcept {
    // Boosting is off when the sysctl is 0.
    if (watermark_boost_factor <= 0)
        return {false, watermark_boost};
    // Zones of fewer than 4 pageblocks are too small for boosting to help; on small machines
    // (kdump) it would only make OOM likelier.
    if (pageblock_pages * 4 > managed_pages)
        return {false, watermark_boost};
    // The boost is capped at boost_factor/10000 of the high watermark, and never below one
    // pageblock; a zero high watermark (very early boot) means no boost at all.
    unsigned long max_boost = mult_frac(high_wmark, unsigned(watermark_boost_factor), 10000);
    if (max_boost == 0)
        return {false, watermark_boost};
    max_boost = std::max(pageblock_pages, max_boost);
    // Each fragmenting steal raises the boost by one pageblock, up to the cap.
    return {true, std::min(watermark_boost + pageblock_pages, max_boost)};
}

} // namespace gfplab
