// SPDX-License-Identifier: MIT
//
// The kernel face's locks and atomic context (linux/spinlock.h, mutex.h, rwsem.h,
// preempt.h, irqflags.h, interrupt.h) and I21: whatever may sleep in atomic context is
// reported once per atomic section, naming where the thread became atomic; the locks
// exclude as they promise; and lockdep learns the reclaim recursion through them (I9).
#include "support/reports.hpp"

#include <gfplab/lockdep.hpp>
#include <gfplab/system.hpp>

#include <atomic>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <vector>

// The kernel headers last: min(), max() and swap() are macros there, as in the kernel.
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/interrupt.h>
#include <gfplab/linux/kernel.h>
#include <gfplab/linux/mutex.h>
#include <gfplab/linux/rwsem.h>
#include <gfplab/linux/slab.h>
#include <gfplab/linux/spinlock.h>

namespace gfplab {
namespace {

class Locking : public ::testing::Test {
  protected:
    void SetUp() override {
        system_config c;
        c.memory_bytes = 32ull << 20;
        c.cpus = 2;
        c.warn_alloc = false;
        sys_ = std::make_unique<System>(c);
        reports_.attach(*sys_);
        set_default_system(sys_.get());
    }
    void TearDown() override { set_default_system(nullptr); }

    std::size_t count(invariant inv) const {
        std::size_t n = 0;
        for (const auto &v : reports_.v)
            n += v.inv == inv;
        return n;
    }

    std::unique_ptr<System> sys_;
    test::collected reports_;
};

DEFINE_SPINLOCK(table_lock);
DEFINE_MUTEX(config_mutex);

TEST_F(Locking, SleepingAllocationUnderASpinlockIsReportedOnceWithTheLockSite) {
    spin_lock(&table_lock);
    const unsigned line = __LINE__ - 1;
    EXPECT_TRUE(in_atomic());
    void *a = kmalloc(64, GFP_KERNEL);   // I21
    void *b = kmalloc(4096, GFP_KERNEL); // the same section: not again
    void *c = kmalloc(64, GFP_ATOMIC);   // fine
    spin_unlock(&table_lock);
    EXPECT_FALSE(in_atomic());
    void *d = kmalloc(64, GFP_KERNEL); // fine again
    kfree(a), kfree(b), kfree(c), kfree(d);
    ASSERT_EQ(count(invariant::sleep_in_atomic), 1u);
    const violation &v = reports_.v.front();
    EXPECT_NE(v.message.find("holds spinlock table_lock"), std::string::npos) << v.message;
    EXPECT_NE(v.message.find("locking_test.cpp:" + std::to_string(line)), std::string::npos)
        << v.message;
}

TEST_F(Locking, EveryAtomicContextForbidsSleepingAndEachSectionReportsOnce) {
    unsigned long flags;
    preempt_disable();
    free_pages(__get_free_pages(GFP_KERNEL, 0), 0); // I21: preemption off
    preempt_enable();
    local_irq_save(flags);
    EXPECT_TRUE(irqs_disabled());
    free_pages(__get_free_pages(GFP_NOIO, 1), 1); // I21: interrupts off (NOIO still blocks)
    local_irq_restore(flags);
    EXPECT_FALSE(irqs_disabled());
    local_bh_disable();
    might_sleep(); // I21: bottom halves off
    local_bh_enable();
    spin_lock(&table_lock);
    mutex_lock(&config_mutex); // I21: a sleeping lock under a spinning one
    mutex_unlock(&config_mutex);
    spin_unlock(&table_lock);
    free_pages(__get_free_pages(GFP_NOWAIT, 0), 0); // never reported
    EXPECT_EQ(count(invariant::sleep_in_atomic), 4u);
    EXPECT_EQ(reports_.v.size(), 4u);
}

// alloc_pages_nolock() is for any context: in a hard interrupt that interrupted a spinlock
// holder it is served without a report, where GFP_KERNEL is I21.
TEST_F(Locking, NolockPagesAreForAnyContext) {
    static struct page *got[2];
    spin_lock(&table_lock);
    gfplab_run_in_hardirq(
        [](void *) {
            got[0] = alloc_pages_nolock(0, NUMA_NO_NODE, 0);
            got[1] = try_alloc_pages(NUMA_NO_NODE, 2); // 6.15's name
        },
        nullptr);
    spin_unlock(&table_lock);
    ASSERT_NE(got[0], nullptr);
    ASSERT_NE(got[1], nullptr);
    EXPECT_TRUE(reports_.v.empty());
    free_pages_nolock(got[0], 0);
    free_pages_nolock(got[1], 2);
    spin_lock(&table_lock);
    __free_pages(alloc_pages(GFP_KERNEL, 0), 0); // I21
    spin_unlock(&table_lock);
    EXPECT_EQ(count(invariant::sleep_in_atomic), 1u);
    EXPECT_TRUE(sys_->verify().empty());
}

TEST_F(Locking, InterruptContextIsAtomicAndNested) {
    static bool seen_irq, seen_disabled, seen_atomic;
    gfplab_run_in_hardirq(
        [](void *) {
            seen_irq = in_interrupt();
            seen_disabled = irqs_disabled();
            seen_atomic = in_atomic();
            kfree(kmalloc(32, GFP_ATOMIC));
            kfree(kmalloc(32, GFP_KERNEL)); // I21
        },
        nullptr);
    EXPECT_TRUE(seen_irq && seen_disabled && seen_atomic);
    EXPECT_FALSE(in_interrupt() || irqs_disabled() || in_atomic());
    EXPECT_EQ(count(invariant::sleep_in_atomic), 1u);
    EXPECT_NE(reports_.v.at(0).message.find("hardirq context"), std::string::npos);
}

TEST_F(Locking, NestedIrqSaveRestoresThePreviousState) {
    unsigned long outer, inner;
    local_irq_save(outer);
    local_irq_save(inner);
    local_irq_restore(inner);
    EXPECT_TRUE(irqs_disabled()); // the inner restore puts back "disabled"
    local_irq_restore(outer);
    EXPECT_FALSE(irqs_disabled());
    EXPECT_TRUE(reports_.v.empty());
}

// The locks exclude: counters bumped under each lock by two threads lose nothing, and a
// writer never meets a reader.
TEST_F(Locking, LocksExcludeAcrossThreads) {
    static spinlock_t spin;
    static struct mutex mtx;
    static struct rw_semaphore sem;
    spin_lock_init(&spin);
    mutex_init(&mtx);
    init_rwsem(&sem);
    long spin_count = 0, mutex_count = 0;
    std::atomic<int> readers{0}, writers{0};
    std::atomic<bool> overlap{false};
    auto work = [&] {
        for (int i = 0; i < 20000; i++) {
            spin_lock(&spin);
            spin_count++;
            spin_unlock(&spin);
            mutex_lock(&mtx);
            mutex_count++;
            mutex_unlock(&mtx);
            if (i % 8 == 0) {
                down_write(&sem);
                if (writers.fetch_add(1) != 0 || readers.load() != 0)
                    overlap = true;
                writers.fetch_sub(1);
                up_write(&sem);
            } else {
                down_read(&sem);
                readers.fetch_add(1);
                if (writers.load() != 0)
                    overlap = true;
                readers.fetch_sub(1);
                up_read(&sem);
            }
        }
    };
    std::thread t1(work), t2(work);
    t1.join();
    t2.join();
    EXPECT_EQ(spin_count, 40000);
    EXPECT_EQ(mutex_count, 40000);
    EXPECT_FALSE(overlap.load());
    EXPECT_TRUE(reports_.v.empty());
}

TEST_F(Locking, TrylocksFailWhileHeld) {
    static struct mutex m;
    mutex_init(&m);
    EXPECT_TRUE(mutex_trylock(&m));
    EXPECT_TRUE(mutex_is_locked(&m));
    std::thread([] { EXPECT_FALSE(mutex_trylock(&m)); }).join();
    mutex_unlock(&m);
    static struct rw_semaphore s;
    init_rwsem(&s);
    EXPECT_TRUE(down_read_trylock(&s));
    std::thread([] {
        EXPECT_TRUE(down_read_trylock(&s));
        up_read(&s);
        EXPECT_FALSE(down_write_trylock(&s));
    }).join();
    up_read(&s);
    EXPECT_TRUE(down_write_trylock(&s));
    up_write(&s);
}

// lockdep's fs_reclaim map through kernel-face locks, with nothing declared: a mutex held
// across a GFP_KERNEL allocation, and the same mutex's class taken inside reclaim, close a
// cycle (I9) the moment both have been seen.
TEST_F(Locking, ReclaimRecursionIsLearnedFromTheLocksTaken) {
    static struct mutex sb_lock;
    mutex_init(&sb_lock);
    std::vector<lockdep_report> seen;
    set_lockdep_report_handler([&](const lockdep_report &r) { seen.push_back(r); });
    lockdep_reset();
    mutex_lock(&sb_lock);
    kfree(kmalloc(64, GFP_KERNEL)); // sb_lock -> fs_reclaim
    mutex_unlock(&sb_lock);
    EXPECT_TRUE(seen.empty());
    fs_reclaim_acquire(GFP_KERNEL); // what direct reclaim does around a shrinker
    mutex_lock(&sb_lock);           // fs_reclaim -> sb_lock: the cycle
    mutex_unlock(&sb_lock);
    fs_reclaim_release(GFP_KERNEL);
    set_lockdep_report_handler(nullptr);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_NE(seen[0].first.find("sb_lock"), std::string::npos) << seen[0].first;
    lockdep_reset();
}

} // namespace
} // namespace gfplab
