// SPDX-License-Identifier: MIT
//
// oracle/zone_model.cpp - the reference oracle's zone layout and boot-time arithmetic (see
// zone_model.hpp).

#include "zone_model.hpp"

#include <algorithm>
#include <bit>

namespace gfplab::ref {

namespace {

constexpr unsigned page_shift = 12;
constexpr unsigned costly_order = 3; // PAGE_ALLOC_COSTLY_ORDER: the per-CPU lists' orders

// The integer square root, by Newton's method (the kernel's int_sqrt() is bitwise; any
// exact floor(sqrt(x)) agrees with it).
unsigned long isqrt(unsigned long x) noexcept {
    if (x < 2)
        return x;
    unsigned long r = x / 2 + 1, next = (r + x / r) / 2;
    while (next < r) {
        r = next;
        next = (r + x / r) / 2;
    }
    return r;
}

// The vmstat fold threshold: grows with the log of the CPU count and of the zone size in
// 128 MiB units, capped at 125.
long normal_threshold(unsigned cpus, unsigned long managed) noexcept {
    const long t = 2L * std::bit_width(cpus) * (1L + std::bit_width(managed >> (27 - page_shift)));
    return std::min(t, 125L);
}

// A quarter of a thousandth of the zone (at most 1 MiB of it), rounded to 2^n - 1.
unsigned long batch_size(unsigned long managed) noexcept {
    unsigned long b = std::min(managed >> 10, (1ul << 20) >> page_shift) / 4;
    b = std::max(b, 1ul);
    b = std::bit_floor(b + b / 2) - 1;
    return std::max(b, 1ul);
}

} // namespace

zone_model::zone_model(const system_config &cfg, unsigned cpus) : cpus_(std::max(cpus, 1u)) {
    const unsigned long pages = cfg.memory_bytes >> page_shift;
    const unsigned nodes = std::max(cfg.nodes, 1u);
    node_pages_ = pages / nodes;
    const unsigned long dma_end = cfg.dma_limit >> page_shift;
    const unsigned long dma32_end = cfg.dma32_limit >> page_shift;
    const unsigned long movable = cfg.movable_bytes_per_node >> page_shift;
    zones_.resize(nodes);

    // Each node: a contiguous share of memory. ZONE_DMA and ZONE_DMA32 end at their
    // physical limits; ZONE_MOVABLE is the node's top `movable` pages; ZONE_NORMAL the rest.
    for (unsigned nid = 0; nid < nodes; nid++) {
        const unsigned long start = nid * node_pages_, end = start + node_pages_;
        const unsigned long ends[MAX_NR_ZONES] = {dma_end, dma32_end, end - movable, end};
        unsigned long lo = start;
        for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
            zone_facts &z = zones_[nid][zi];
            z.nid = int(nid);
            z.idx = zi;
            const unsigned long hi = std::clamp(ends[zi], lo, end);
            z.start_pfn = lo;
            z.end_pfn = hi;
            z.managed = hi - lo;
            lo = hi;
        }
    }

    // min_free_kbytes: by default 4 * sqrt(lowmem in KiB), within [128 KiB, 256 MiB], where
    // lowmem is every page outside ZONE_MOVABLE.
    unsigned long lowmem = 0;
    for (const auto &node : zones_)
        for (const zone_facts &z : node)
            if (z.idx != ZONE_MOVABLE)
                lowmem += z.managed;
    min_free_kbytes_ =
        cfg.min_free_kbytes
            ? cfg.min_free_kbytes
            : unsigned(std::clamp(isqrt((lowmem << (page_shift - 10)) * 16), 128ul, 262144ul));

    const unsigned long pages_min = min_free_kbytes_ >> (page_shift - 10);
    for (auto &node : zones_) {
        for (zone_facts &z : node) {
            // min: lowmem zones share pages_min in proportion to their size; ZONE_MOVABLE
            // keeps a token 1/1024 (32..128 pages). The distance between the marks is a
            // quarter of the proportional share or the scale factor's fraction, whichever is
            // larger.
            const unsigned long share = lowmem ? pages_min * z.managed / lowmem : 0;
            z.min = z.idx == ZONE_MOVABLE ? std::clamp(z.managed / 1024, 32ul, 128ul) : share;
            const unsigned long scaled = z.managed / 10000 * cfg.watermark_scale_factor +
                                         z.managed % 10000 * cfg.watermark_scale_factor / 10000;
            const unsigned long gap = std::max(share / 4, scaled);
            z.low = z.min + gap;
            z.high = z.low + gap;
            z.drift_bound = long(cpus_) * normal_threshold(cpus_, z.managed);
            z.batch = batch_size(z.managed);
        }
        // A zone keeps back, from requests that could have used a higher zone j, the pages
        // of the zones above it up to j divided by its own ratio: none if the ratio is 0 or
        // the zone is empty, and none against an empty zone j (6.12 counts those requests
        // as if they could not go higher: a GFP_HIGHUSER_MOVABLE request on a machine
        // without ZONE_MOVABLE meets no reserve at all).
        for (int i = 0; i < MAX_NR_ZONES; i++) {
            zone_facts &z = node[i];
            const unsigned ratio = cfg.lowmem_reserve_ratio[i];
            unsigned long above = 0;
            for (int j = i + 1; j < MAX_NR_ZONES; j++) {
                above += node[j].managed;
                const bool protect = ratio && z.managed && node[j].managed;
                z.lowmem_reserve[j] = protect ? long(above / ratio) : 0;
            }
        }
    }
}

const zone_facts *zone_model::zone_of(unsigned long pfn) const noexcept {
    if (!node_pages_)
        return nullptr;
    const unsigned long nid = pfn / node_pages_;
    if (nid >= zones_.size())
        return nullptr;
    for (const zone_facts &z : zones_[nid])
        if (pfn >= z.start_pfn && pfn < z.end_pfn)
            return &z;
    return nullptr;
}

unsigned long zone_model::take_bound(const zone_facts &z, unsigned order) const noexcept {
    const unsigned long block = 1ul << order;
    if (order > costly_order)
        return block;
    // A refill takes `batch` order-0 pages, or max(batch >> order, 2) blocks of a higher
    // order; a batch of 1 refills one block.
    const unsigned long blocks = z.batch > 1 ? std::max(z.batch >> order, 2ul) : 1ul;
    return std::max(blocks << order, block);
}

unsigned long zone_model::take_bound(unsigned order) const noexcept {
    unsigned long worst = 1ul << order;
    for (const auto &node : zones_)
        for (const zone_facts &z : node)
            if (z.populated())
                worst = std::max(worst, take_bound(z, order));
    return worst;
}

} // namespace gfplab::ref
