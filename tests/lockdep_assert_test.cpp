// SPDX-License-Identifier: MIT
//
// lockdep_assert_zone_held(): a buddy free-list change without zone->lock stops the process
// with the place, where 6.12 has lockdep_assert_held(&zone->lock) (account_freepages()).
// clang's thread-safety analysis already refuses such a call at compile time; the helper
// below opts out of it to show the run-time half.
#include "../lib/src/buddy/buddy.hpp"

#include <gfplab/system.hpp>

#include <gtest/gtest.h>

namespace {

using namespace gfplab;

GFPLAB_NO_THREAD_SAFETY_ANALYSIS void free_without_the_lock(System &s, page *p) {
    zone &z = s.page_zone(p);
    buddy::free_one_page(z, p, s.page_to_pfn(p), 0);
}

TEST(LockdepAssertHeld, ABuddyChangeWithoutZoneLockStops) {
#ifdef NDEBUG
    GTEST_SKIP() << "assertions are compiled out (NDEBUG), as the kernel's without LOCKDEP";
#else
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    system_config c;
    c.memory_bytes = 32ull << 20;
    c.dma32_limit = 16ull << 20;
    c.cpus = 1;
    c.pcp = pcp_mode::virtual_cpus;
    c.kswapd = false;
    System s(c);
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    EXPECT_DEATH(free_without_the_lock(s, p), "lockdep_assert_held\\(zone->lock\\) failed at");
    // The death happened in a child: here the page is still ours, and everything recounts.
    s.free_pages(p, 0);
    EXPECT_TRUE(s.verify().empty());
#endif
}

} // namespace
