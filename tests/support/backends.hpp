// SPDX-License-Identifier: MIT
//
// What the tests of the page-frame backends share: a small System on a chosen backend, its
// free pages, and the names of the backend parameter (see also memory.hpp's expect_clean).
#pragma once

#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace gfplab::test {

// DMA32 below 32 MiB and ZONE_NORMAL above it, two virtual CPUs, no kswapd: nothing runs
// but the test's own threads.
inline system_config backend_config(buddy_backend b, std::uint64_t mib = 64) {
    system_config c;
    c.memory_bytes = mib << 20;
    c.dma32_limit = 32ull << 20;
    c.cpus = 2;
    c.pcp = pcp_mode::virtual_cpus;
    c.buddy = b;
    c.warn_alloc = false;
    c.kswapd = false;
    return c;
}

// NR_FREE_PAGES of node 0, counted exactly.
inline unsigned long free_pages(System &s) {
    unsigned long n = 0;
    for (auto &z : s.node(0).node_zones)
        if (z.populated())
            n += z.page_state_snapshot(NR_FREE_PAGES);
    return n;
}

inline std::string backend_param_name(const ::testing::TestParamInfo<buddy_backend> &p) {
    return buddy_backend_name(p.param);
}

inline const auto both_backends = ::testing::Values(buddy_backend::kernel, buddy_backend::lockfree);

} // namespace gfplab::test
