// SPDX-License-Identifier: MIT
//
// fail_page_alloc against Linux 6.12 mm/fail_page_alloc.c + lib/fault-inject.c: defaults,
// the order of the checks (which decides which counters a call consumes), times, interval,
// space, fail_nth, boot syntax, reproducibility and thread safety.
#include <gfplab/fault_inject.hpp>
#include <gfplab/linux/gfp.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;

// Every test starts and ends with no fail_nth on this thread.
class FailPageAlloc : public ::testing::Test {
  protected:
    void SetUp() override { set_current_fail_nth(0); }
    void TearDown() override { set_current_fail_nth(0); }

    // Always fail once past the filters.
    static void always(fail_page_alloc &f) {
        f.set_probability(100);
        f.set_times(-1);
    }
};

TEST_F(FailPageAlloc, DefaultsAreTheKernels) {
    fail_page_alloc f;
    EXPECT_EQ(f.probability(), 0ul);
    EXPECT_EQ(f.interval(), 1ul);
    EXPECT_EQ(f.times(), 1);
    EXPECT_EQ(f.space(), 0);
    EXPECT_TRUE(f.ignore_gfp_wait());
    EXPECT_TRUE(f.ignore_gfp_highmem());
    EXPECT_EQ(f.min_order(), 1u);
    for (unsigned int order = 0; order <= 10; ++order)
        EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, order));
    EXPECT_EQ(f.injected(), 0u);
}

TEST_F(FailPageAlloc, Filters) {
    fail_page_alloc f;
    always(f);
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 0)); // order < min_order
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_KERNEL, 1)); // ignore-gfp-wait
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC | __GFP_HIGHMEM, 1));
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC | __GFP_NOFAIL, 1));
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_NOWAIT, 2));

    f.set_ignore_gfp_wait(false);
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_KERNEL, 1));
    f.set_ignore_gfp_highmem(false);
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_HIGHUSER, 1));
    f.set_min_order(0);
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 0));
    // __GFP_NOFAIL is never failed, whatever the other knobs say.
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_KERNEL | __GFP_NOFAIL, 0));
}

TEST_F(FailPageAlloc, FiltersComeBeforeFailNth) {
    fail_page_alloc f; // probability 0: only fail_nth can fail
    set_current_fail_nth(1);
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 0)); // min_order filter: not counted
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_KERNEL, 1)); // reclaim filter: not counted
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC | __GFP_NOFAIL, 1));
    EXPECT_EQ(current_fail_nth(), 1u);
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(current_fail_nth(), 0u);
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
}

TEST_F(FailPageAlloc, FailNthCountsDownAndBypassesKnobs) {
    fail_page_alloc f;
    f.set_times(0); // would stop any probability-based failure
    set_current_fail_nth(3);
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(f.times(), 0); // atomic_dec_not_zero: stays at 0

    // A fail_nth failure still consumes one of `times`.
    fail_page_alloc g;
    g.set_times(5);
    set_current_fail_nth(1);
    EXPECT_TRUE(g.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(g.times(), 4);

    // fail_nth is per thread.
    set_current_fail_nth(1);
    std::thread([&] {
        EXPECT_EQ(current_fail_nth(), 0u);
        EXPECT_FALSE(g.should_fail_alloc_page(GFP_ATOMIC, 1));
    }).join();
    EXPECT_EQ(current_fail_nth(), 1u);
}

TEST_F(FailPageAlloc, Times) {
    fail_page_alloc f;
    f.set_probability(100);
    f.set_times(2);
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(f.times(), 1);
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(f.times(), 0);
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(f.injected(), 2u);
    // -1 never runs out and is never decremented.
    f.set_times(-1);
    for (int i = 0; i < 10; ++i)
        EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(f.times(), -1);
}

TEST_F(FailPageAlloc, Interval) {
    fail_page_alloc f;
    always(f);
    f.set_interval(3);
    const bool want[] = {false, false, true, false, false, true};
    for (bool w : want)
        EXPECT_EQ(f.should_fail_alloc_page(GFP_ATOMIC, 1), w);
    // Filtered calls do not advance the interval counter.
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_KERNEL, 1));
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
}

TEST_F(FailPageAlloc, SpaceCountsPages) {
    fail_page_alloc f;
    always(f);
    f.set_space(5);
    // order 1 is 2 pages: 5 > 2 -> 3; 3 > 2 -> 1; 1 > 2 is false: fail, space stays 1.
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(f.space(), 3);
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(f.space(), 1);
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(f.space(), 1);
    // Space equal to the size does not let the request through.
    f.set_space(4);
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 2));
    EXPECT_EQ(f.space(), 4);
}

TEST_F(FailPageAlloc, SpaceBeforeIntervalTimesBeforeSpace) {
    fail_page_alloc f;
    always(f);
    f.set_interval(2);
    f.set_space(3);
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 1)); // space 3 -> 1, count untouched
    EXPECT_FALSE(f.should_fail_alloc_page(GFP_ATOMIC, 1)); // count 1
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 1));  // count 2
    // times 0 stops before space is consumed.
    fail_page_alloc g;
    g.set_probability(100);
    g.set_times(0);
    g.set_space(100);
    EXPECT_FALSE(g.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(g.space(), 100);
}

TEST_F(FailPageAlloc, ProbabilityIsReproducible) {
    auto run = [](std::uint64_t seed) {
        fail_page_alloc f(seed);
        f.set_probability(30);
        f.set_times(-1);
        std::vector<bool> out;
        for (int i = 0; i < 2000; ++i)
            out.push_back(f.should_fail_alloc_page(GFP_ATOMIC, 1));
        return out;
    };
    const auto a = run(42), b = run(42), c = run(43);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    const auto fails = std::count(a.begin(), a.end(), true);
    EXPECT_GT(fails, 450); // 30% of 2000 = 600
    EXPECT_LT(fails, 750);

    // Re-seeding restarts the sequence.
    fail_page_alloc f(7);
    f.set_probability(50);
    f.set_times(-1);
    std::vector<bool> first, second;
    for (int i = 0; i < 100; ++i)
        first.push_back(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    f.seed(7);
    for (int i = 0; i < 100; ++i)
        second.push_back(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(first, second);
}

TEST_F(FailPageAlloc, NowarnOnlySilencesTheReport) {
    fail_page_alloc f;
    always(f);
    f.set_verbose(1);
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC | __GFP_NOWARN, 1));
    EXPECT_EQ(f.reported(), 0u);
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(f.reported(), 1u);
    EXPECT_EQ(f.injected(), 2u);
}

TEST_F(FailPageAlloc, BootSyntax) {
    fail_page_alloc f;
    ASSERT_TRUE(f.setup("10,50,4096,-1"));
    EXPECT_EQ(f.interval(), 10ul);
    EXPECT_EQ(f.probability(), 50ul);
    EXPECT_EQ(f.space(), 4096);
    EXPECT_EQ(f.times(), -1);
    EXPECT_FALSE(f.setup("1,100,0"));
    EXPECT_FALSE(f.setup("1,100,0,x"));
    EXPECT_FALSE(f.setup("a,b,c,d"));
    EXPECT_FALSE(f.setup(""));
    EXPECT_EQ(f.interval(), 10ul); // a failed parse changes nothing
    ASSERT_TRUE(f.setup("1,100,0,3"));
    EXPECT_TRUE(f.should_fail_alloc_page(GFP_ATOMIC, 1));
    EXPECT_EQ(f.times(), 2);
}

TEST_F(FailPageAlloc, TimesIsExactUnderConcurrency) {
    fail_page_alloc f(1);
    f.set_probability(100);
    f.set_times(1000);
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i)
                if (f.should_fail_alloc_page(GFP_ATOMIC, 1))
                    failed.fetch_add(1);
        });
    for (auto &t : threads)
        t.join();
    // times is read before and decremented after the decision, as in the kernel, so a few
    // racing calls may fail past the limit; the counter itself never goes below 0.
    EXPECT_GE(failed.load(), 1000);
    EXPECT_LE(failed.load(), 1004);
    EXPECT_EQ(f.times(), 0);
}

} // namespace
