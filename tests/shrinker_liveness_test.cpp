// SPDX-License-Identifier: MIT
//
// The harnesses' liveness token (fuzz/ops/shrinker_liveness.hpp): the last clause of the
// shrinker contract (I15), no callback once shrinker_free() has returned, checked from the
// callee. The library keeps the clause by construction, so the two ways it can break are
// staged by hand: a callback called through a stale pointer after the free (what a registry
// that dropped a reference too early would do), and a free that returns while a call is
// still inside. Each test fails when the check it names is taken out of
// shrinker_liveness.cpp.
#include "fuzz_shrinker.hpp"
#include "shrinker_liveness.hpp"

#include <gfplab/gfp.hpp>
#include <gfplab/shrinker.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;
using namespace gfplab::fuzz;

struct reports {
    std::mutex lock;
    std::vector<std::string> what, message;
    liveness_reporter reporter() {
        return [this](const std::string &w, const std::string &m) {
            std::lock_guard<std::mutex> g(lock);
            what.push_back(w);
            message.push_back(m);
        };
    }
    std::size_t size() {
        std::lock_guard<std::mutex> g(lock);
        return what.size();
    }
};

using callback = unsigned long (*)(struct shrinker *, struct shrink_control *);

// The fuzz executor's shrinker, called through the pointers a walk held, after the owner
// freed it. The shrinker and its private data are gone: the call is reported and looks at
// neither (the stale pointer is only a key), and it asks reclaim to stop.
TEST(ShrinkerLiveness, ACallAfterFreeIsReportedAndTouchesNothing) {
    shrinker_registry registry(1);
    reports r;
    auto owner =
        std::make_unique<fuzz_shrinker>(registry, "late", 64, nullptr, __GFP_FS, r.reporter());
    struct shrinker *stale = owner->raw();
    const callback count = stale->count_objects, scan = stale->scan_objects;
    struct shrink_control sc = {};
    sc.gfp_mask = GFP_KERNEL;
    sc.nr_to_scan = 8;
    EXPECT_EQ(count(stale, &sc), 64u); // live: its own count
    EXPECT_EQ(r.size(), 0u);

    owner.reset(); // shrinker_free(), then the token retires

    EXPECT_EQ(count(stale, &sc), 0u);
    EXPECT_EQ(scan(stale, &sc), SHRINK_STOP);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r.what[0], "shrinker called after shrinker_free()");
    EXPECT_NE(r.message[0].find("count_objects of shrinker \"late\""), std::string::npos)
        << r.message[0];
    EXPECT_NE(r.message[1].find("scan_objects of shrinker \"late\""), std::string::npos)
        << r.message[1];
}

// shrinker_free() returning while a callback still runs (a free that did not wait for the
// walk's reference): retire() reports the call in flight and holds the owner until it is
// out, so the owner's data outlives it. The call is parked inside the callback until the
// report has been made.
TEST(ShrinkerLiveness, AFreeThatReturnsDuringACallIsReportedAndWaitsForIt) {
    reports r;
    static struct shrinker key; // stands for the freed struct: only its address is used
    shrinker_liveness::arm(&key, "in-flight", r.reporter());

    std::atomic<bool> inside{false}, release{false}, retired{false}, saw_retired{false};
    std::thread walk([&] {
        const shrinker_call call(&key, "scan_objects");
        EXPECT_TRUE(static_cast<bool>(call));
        inside = true;
        while (!release.load())
            std::this_thread::yield();
        saw_retired = retired.load(); // the owner must still be waiting here
    });
    while (!inside.load())
        std::this_thread::yield();
    std::thread owner([&] {
        shrinker_liveness::retire(&key); // "shrinker_free() returned" a moment ago
        retired = true;
    });
    // The report, or (the check gone) the owner back from retire() without one.
    while (r.size() == 0 && !retired.load())
        std::this_thread::yield();
    release = true;
    walk.join();
    owner.join();
    EXPECT_FALSE(saw_retired.load());
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r.what[0], "shrinker_free() returned during a call");
    EXPECT_NE(r.message[0].find("\"in-flight\""), std::string::npos) << r.message[0];

    // And a call that starts after the retirement is refused.
    const shrinker_call late(&key, "count_objects");
    EXPECT_FALSE(static_cast<bool>(late));
    EXPECT_EQ(r.size(), 2u);
}

// A call for an address no harness shrinker ever had goes to the latest reporter.
TEST(ShrinkerLiveness, ACallWithNoTokenIsReported) {
    reports r;
    static struct shrinker armed, never;
    shrinker_liveness::arm(&armed, "armed", r.reporter());
    {
        const shrinker_call call(&never, "scan_objects");
        EXPECT_FALSE(static_cast<bool>(call));
    }
    EXPECT_EQ(r.size(), 1u);
    shrinker_liveness::retire(&armed);
    EXPECT_EQ(r.size(), 1u);
}

// The real registry keeps the clause: shrinkers registered and freed while another thread
// walks them in a loop never see a late call, and the walker always finds live tokens.
TEST(ShrinkerLiveness, FreesRacingWalksOfTheRealRegistryStayClean) {
    shrinker_registry registry(1);
    reports r;
    std::atomic<bool> stop{false};
    std::thread reclaim([&] {
        while (!stop.load())
            registry.shrink_slab(GFP_KERNEL, 0, 0);
    });
    for (int i = 0; i < 300; i++) {
        fuzz_shrinker s(registry, "racer", 256, nullptr, __GFP_FS, r.reporter());
        s.add(256);
    }
    stop = true;
    reclaim.join();
    EXPECT_EQ(r.size(), 0u);
}

} // namespace
