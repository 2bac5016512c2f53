// SPDX-License-Identifier: MIT
//
// A System's watermarks and lowmem reserves, computed at boot as the kernel's
// init_per_zone_wmark_min() does: min_free_kbytes from the lowmem size (unless configured),
// then __setup_per_zone_wmarks() over every zone of every node, then
// setup_per_zone_lowmem_reserve() node by node.
#include <gfplab/system.hpp>
#include <gfplab/watermark.hpp>

#include <vector>

namespace gfplab {

void System::setup_watermarks() {
    std::vector<wmark_zone> all;
    std::vector<zone *> zones;
    unsigned long lowmem_pages = 0;
    for (auto &n : nodes_)
        for (auto &z : n->node_zones) {
            bool movable = z.idx == ZONE_MOVABLE;
            all.push_back({z.managed_pages, movable});
            zones.push_back(&z);
            if (!movable)
                lowmem_pages += z.managed_pages;
        }
    // nr_free_buffer_pages() at boot: every lowmem page is free and no watermark is set yet.
    // The model is a kernel without transparent hugepages (or with THP disabled): 6.12 with
    // THP raises min_free_kbytes in set_recommended_min_free_kbytes() (two pageblocks per zone
    // plus the fallback reserves), and keeps pageblock-order per-CPU lists; neither applies.
    int min_free_kbytes = cfg_.min_free_kbytes
                              ? int(cfg_.min_free_kbytes)
                              : calculate_min_free_kbytes(lowmem_pages << (PAGE_SHIFT - 10));
    auto marks = setup_per_zone_wmarks(all, min_free_kbytes, int(cfg_.watermark_scale_factor));
    for (std::size_t i = 0; i < zones.size(); i++) {
        zone &z = *zones[i];
        z._watermark = {marks[i].min, marks[i].low, marks[i].high, marks[i].promo};
        z.watermark_boost.store(0, std::memory_order_relaxed);
    }

    std::array<int, MAX_NR_ZONES> ratios;
    for (int i = 0; i < MAX_NR_ZONES; i++)
        ratios[i] = int(cfg_.lowmem_reserve_ratio[i]);
    for (auto &n : nodes_) {
        std::array<wmark_zone, MAX_NR_ZONES> node_zones;
        for (int i = 0; i < MAX_NR_ZONES; i++)
            node_zones[i] = {n->node_zones[i].managed_pages, i == ZONE_MOVABLE};
        auto reserve = setup_per_zone_lowmem_reserve(node_zones, ratios);
        for (int i = 0; i < MAX_NR_ZONES; i++)
            n->node_zones[i].lowmem_reserve = reserve[i];
    }
}

} // namespace gfplab
