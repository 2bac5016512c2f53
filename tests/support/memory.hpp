// SPDX-License-Identifier: MIT
//
// Helpers the reclaim-side tests share: take what is left without reclaim, give it back,
// and check a System's recount.
#pragma once

#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace gfplab::test {

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

inline void expect_clean(System &s) {
    for (const auto &v : s.verify())
        ADD_FAILURE() << format_violation(v);
}

} // namespace gfplab::test
