// SPDX-License-Identifier: MIT
//
// Helpers the reclaim-side tests share: take what is left without reclaim, give it back,
// and check a System's recount.
#pragma once

#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace gfplab::test {

// The reclaim-side tests' machine: 64 MiB of ZONE_NORMAL on two virtual CPUs, no kswapd
// unless asked (the tests drive reclaim themselves), stall reports after `stall_warn_ms`.
inline system_config reclaim_config(bool kswapd, unsigned stall_warn_ms,
                                    std::uint64_t swap_pages = 0) {
    system_config c;
    c.memory_bytes = 64ull << 20;
    c.dma_limit = c.dma32_limit = 0;
    c.cpus = 2;
    c.pcp = pcp_mode::virtual_cpus;
    c.warn_alloc = false;
    c.kswapd = kswapd;
    c.stall_warn_ms = stall_warn_ms;
    c.swap_pages = swap_pages;
    return c;
}

// Takes every order-0 page `gfp` can get (GFP_NOWAIT: without reclaim, down to min).
inline std::vector<page *> exhaust(System &s, gfp_t gfp = GFP_NOWAIT) {
    std::vector<page *> held;
    while (page *p = s.alloc_pages(gfp | __GFP_NOWARN, 0))
        held.push_back(p);
    return held;
}

inline void release(System &s, std::vector<page *> &v) {
    for (page *p : v)
        s.free_pages(p, 0);
    v.clear();
}

// verify() wants quiescence: kswapd and kvfree_rcu()'s monitor parked meanwhile.
inline void expect_clean(System &s) {
    s.kswapd_park();
    for (const auto &v : s.verify())
        ADD_FAILURE() << format_violation(v);
    s.kswapd_unpark();
}

} // namespace gfplab::test
