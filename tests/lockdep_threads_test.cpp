// SPDX-License-Identifier: MIT
//
// The checker's graph is shared and its held-lock stacks are per thread: many threads that
// take locks in one global order and allocate under them produce no report (no false
// positive from another thread's stack), and one thread that breaks the order produces
// exactly one. Runs under TSan too.
#include <gfplab/linux/gfp.h>
#include <gfplab/lockdep.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int nr_locks = 6;
constexpr int nr_threads = 8;
constexpr int rounds = 400;

struct lock_set {
    std::vector<std::unique_ptr<gfplab::lock_class>> classes;
    std::vector<std::unique_ptr<gfplab::Lock>> locks;
    lock_set() {
        for (int i = 0; i < nr_locks; ++i) {
            classes.push_back(std::make_unique<gfplab::lock_class>("L" + std::to_string(i)));
            locks.push_back(std::make_unique<gfplab::Lock>(*classes.back()));
        }
    }
};

class LockdepThreadsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        gfplab::lockdep_reset();
        gfplab::set_lockdep_report_handler([this](const gfplab::lockdep_report &r) {
            std::lock_guard<std::mutex> guard(m);
            reports.push_back(r);
        });
    }
    void TearDown() override {
        gfplab::set_lockdep_report_handler(nullptr);
        gfplab::lockdep_reset();
    }
    std::size_t nr_reports() {
        std::lock_guard<std::mutex> guard(m);
        return reports.size();
    }

    std::mutex m;
    std::vector<gfplab::lockdep_report> reports;
};

// Takes a random subset of the locks in index order (the global order), allocates at random
// depths, sometimes enters reclaim that takes only the shrinker's own lock, and lets go in a
// random order.
void worker(lock_set &set, gfplab::Lock &shrinker_lock, unsigned seed, std::atomic<bool> &go,
            std::atomic<int> &held_errors) {
    while (!go.load(std::memory_order_acquire))
        std::this_thread::yield();
    std::mt19937 rng(seed);
    for (int r = 0; r < rounds; ++r) {
        std::vector<int> taken;
        for (int i = 0; i < nr_locks; ++i) {
            if (rng() % 2 == 0)
                continue;
            set.locks[i]->lock();
            taken.push_back(i);
            if (rng() % 3 == 0)
                gfplab::might_alloc(GFP_KERNEL);
        }
        gfplab::might_alloc(rng() % 2 ? GFP_KERNEL : GFP_NOFS);
        if (rng() % 4 == 0) {
            // Direct reclaim under the held locks: held -> fs_reclaim -> shrinker lock.
            gfplab::fs_reclaim_acquire(GFP_KERNEL);
            shrinker_lock.lock();
            shrinker_lock.unlock();
            gfplab::fs_reclaim_release(GFP_KERNEL);
        }
        if (gfplab::current_held_locks().size() != taken.size())
            held_errors.fetch_add(1, std::memory_order_relaxed);
        std::shuffle(taken.begin(), taken.end(), rng);
        for (int i : taken)
            set.locks[i]->unlock();
        if (!gfplab::current_held_locks().empty())
            held_errors.fetch_add(1, std::memory_order_relaxed);
    }
}

TEST_F(LockdepThreadsTest, GlobalOrderNoFalsePositiveThenOneInversion) {
    lock_set set;
    gfplab::lock_class shrinker_class("shrinker lock");
    gfplab::Lock shrinker_lock(shrinker_class);
    std::atomic<bool> go{false};
    std::atomic<int> held_errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < nr_threads; ++t)
        threads.emplace_back(worker, std::ref(set), std::ref(shrinker_lock), 1234u + t,
                             std::ref(go), std::ref(held_errors));
    go.store(true, std::memory_order_release);
    for (auto &t : threads)
        t.join();
    EXPECT_EQ(held_errors.load(), 0);
    EXPECT_EQ(nr_reports(), 0u);
    EXPECT_EQ(gfplab::lockdep_report_count(), 0u);

    // Make sure L1 -> L4 is on record whatever the random rounds did.
    set.locks[1]->lock();
    set.locks[4]->lock();
    set.locks[4]->unlock();
    set.locks[1]->unlock();
    EXPECT_EQ(nr_reports(), 0u);

    // One thread breaks the order, twice: one report. It takes other locks of the same two
    // classes (lockdep orders classes, not instances), so that TSan's own deadlock detector,
    // which orders mutex instances, sees no inversion of real mutexes.
    gfplab::Lock other4(*set.classes[4]), other1(*set.classes[1]);
    std::thread bad([&] {
        for (int i = 0; i < 2; ++i) {
            other4.lock(gfplab::srcloc{"bad.c", 40});
            other1.lock(gfplab::srcloc{"bad.c", 41});
            other1.unlock();
            other4.unlock();
        }
    });
    bad.join();
    ASSERT_EQ(nr_reports(), 1u);
    EXPECT_EQ(gfplab::lockdep_report_count(), 1u);
    EXPECT_NE(reports[0].second.find("L4 -> L1 at bad.c:41"), std::string::npos)
        << reports[0].second;
    EXPECT_NE(reports[0].first.find("L1"), std::string::npos) << reports[0].first;
}

TEST_F(LockdepThreadsTest, ReclaimRecursionAcrossThreads) {
    // The two sides on two threads: one allocates under the fs lock, the other is reclaim
    // taking it. Still one report.
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    std::atomic<bool> go{false};
    std::thread fs_side([&] {
        while (!go.load(std::memory_order_acquire))
            std::this_thread::yield();
        for (int i = 0; i < 200; ++i) {
            l.lock();
            gfplab::might_alloc(GFP_KERNEL);
            l.unlock();
        }
    });
    std::thread reclaim_side([&] {
        while (!go.load(std::memory_order_acquire))
            std::this_thread::yield();
        for (int i = 0; i < 200; ++i) {
            gfplab::fs_reclaim_acquire(GFP_KERNEL);
            l.lock();
            l.unlock();
            gfplab::fs_reclaim_release(GFP_KERNEL);
        }
    });
    go.store(true, std::memory_order_release);
    fs_side.join();
    reclaim_side.join();
    EXPECT_EQ(nr_reports(), 1u);
}

TEST_F(LockdepThreadsTest, ClassesComeAndGoWhileOthersRun) {
    // Class registration and teardown race with edge recording on other threads.
    std::atomic<bool> stop{false};
    gfplab::lock_class base_class("base");
    gfplab::Lock base(base_class);
    std::thread user([&] {
        while (!stop.load(std::memory_order_acquire)) {
            base.lock();
            gfplab::might_alloc(GFP_KERNEL);
            base.unlock();
        }
    });
    for (int i = 0; i < 300; ++i) {
        gfplab::lock_class c("short-lived");
        gfplab::Lock l(c);
        base.lock();
        l.lock();
        l.unlock();
        base.unlock();
    }
    stop.store(true, std::memory_order_release);
    user.join();
    EXPECT_EQ(nr_reports(), 0u);
}

} // namespace
