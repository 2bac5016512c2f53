// SPDX-License-Identifier: MIT
//
// The deterministic scheduler (fuzz/sched/): one input, one interleaving; schedules that
// differ really interleave differently; a held sync::mutex sets its waiter aside instead
// of hanging the run; a lock-order cycle is reported as a deadlock.
#include "../fuzz/sched/scheduler.hpp"

#include <gfplab/sync/atom.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace {

using namespace gfplab;
using namespace gfplab::fuzz;

static_assert(GFPLAB_SYNC_DETERMINISTIC, "this test links the deterministic library copy");

// Two threads each add 1 to a counter three times with a load and a store (a racy
// increment): which updates get lost depends only on the schedule.
struct racy_run {
    long total;
    std::string trace;
};

racy_run racy(const std::vector<std::uint8_t> &sched, std::uint64_t seed) {
    sync::atom<long> counter{0};
    std::string trace;
    schedule_params p;
    p.bytes = sched.data();
    p.nbytes = sched.size();
    p.seed = seed;
    std::vector<std::function<void()>> fns;
    for (char name : {'a', 'b'})
        fns.push_back([&, name] {
            for (int i = 0; i < 3; i++) {
                long v = counter.load(std::memory_order_relaxed);
                trace += name;
                counter.store(v + 1, std::memory_order_relaxed);
            }
        });
    run_scheduled(p, std::move(fns));
    return {counter.load(), trace};
}

TEST(Sched, SameInputSameInterleaving) {
    const std::vector<std::uint8_t> sched{0x01, 0x00, 0x05, 0x01, 0x00};
    const racy_run first = racy(sched, 42);
    for (int i = 0; i < 20; i++) {
        const racy_run again = racy(sched, 42);
        EXPECT_EQ(again.trace, first.trace);
        EXPECT_EQ(again.total, first.total);
    }
    // With no bytes PCT decides, from the seed alone.
    EXPECT_EQ(racy({}, 7).trace, racy({}, 7).trace);
}

TEST(Sched, SchedulesReallyInterleave) {
    std::set<long> totals;
    std::set<std::string> traces;
    for (unsigned s = 0; s < 64; s++) {
        const std::vector<std::uint8_t> sched{std::uint8_t(s), std::uint8_t(s >> 2 | 1),
                                              std::uint8_t(s * 7), std::uint8_t(s ^ 3)};
        racy_run r = racy(sched, s);
        totals.insert(r.total);
        traces.insert(r.trace);
    }
    EXPECT_TRUE(totals.count(6)) << "some schedule runs the threads one after the other";
    EXPECT_TRUE(totals.size() > 1) << "and some lose an update";
    EXPECT_GT(traces.size(), 2u);
}

TEST(Sched, WaiterOnHeldMutexIsSetAside) {
    sync::mutex m;
    sync::atom<int> inside{0};
    int max_inside = 0;
    for (std::uint8_t b = 0; b < 16; b++) {
        const std::vector<std::uint8_t> sched(8, b);
        schedule_params p;
        p.bytes = sched.data();
        p.nbytes = sched.size();
        std::vector<std::function<void()>> fns;
        for (int t = 0; t < 3; t++)
            fns.push_back([&] {
                for (int i = 0; i < 3; i++) {
                    std::lock_guard g(m);
                    const int n = inside.load() + 1;
                    inside.store(n);
                    max_inside = std::max(max_inside, n);
                    inside.store(n - 1);
                }
            });
        run_scheduled(p, std::move(fns));
    }
    EXPECT_EQ(max_inside, 1);
}

// Thread 0 takes a, then the schedule switches to thread 1, which takes b: each then
// waits for the other's lock.
void lock_order_cycle() {
    sync::mutex a, b;
    const std::vector<std::uint8_t> sched{0x04, 0x05, 0x00, 0x00, 0x00, 0x00};
    schedule_params p;
    p.bytes = sched.data();
    p.nbytes = sched.size();
    run_scheduled(p, {[&] {
                          std::lock_guard ga(a);
                          std::lock_guard gb(b);
                      },
                      [&] {
                          std::lock_guard gb(b);
                          std::lock_guard ga(a);
                      }});
}

TEST(SchedDeathTest, LockOrderCycleIsADeadlock) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(lock_order_cycle(), "deadlock");
}

} // namespace
