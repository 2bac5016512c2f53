// SPDX-License-Identifier: MIT
//
// linux/workqueue.h: items run once per queueing on the workqueue's own thread, in process
// context; pending work is not queued twice; flush waits, cancel takes queued work back;
// delayed work waits for its time unless flushed or cancelled.
#include <atomic>
#include <chrono>
#include <gtest/gtest.h>
#include <thread>

// The kernel headers last (kernel.h's min/max/swap are macros).
#include <gfplab/linux/preempt.h>
#include <gfplab/linux/workqueue.h>

namespace {

struct counted {
    work_struct work;
    std::atomic<int> runs{0};
    std::atomic<bool> on_worker{false}, atomic_ctx{true};
    std::atomic<int> *gate = nullptr; // while non-zero, the item waits
};

void count_fn(work_struct *w) {
    auto *c = container_of(w, counted, work);
    while (c->gate && c->gate->load())
        std::this_thread::yield();
    c->on_worker = current_is_workqueue_worker();
    c->atomic_ctx = in_atomic();
    c->runs++;
}

TEST(Workqueue, QueuedWorkRunsOnceOnItsWorkerInProcessContext) {
    workqueue_struct *wq = alloc_workqueue("test-%d", WQ_MEM_RECLAIM, 1, 7);
    ASSERT_NE(wq, nullptr);
    counted c;
    INIT_WORK(&c.work, count_fn);
    EXPECT_TRUE(queue_work(wq, &c.work));
    EXPECT_TRUE(flush_work(&c.work) || c.runs == 1);
    EXPECT_EQ(c.runs, 1);
    EXPECT_TRUE(c.on_worker);
    EXPECT_FALSE(c.atomic_ctx);
    EXPECT_FALSE(current_is_workqueue_worker());
    destroy_workqueue(wq);
}

TEST(Workqueue, PendingWorkIsNotQueuedTwiceAndCancelTakesItBack) {
    workqueue_struct *wq = alloc_workqueue("test", 0, 1);
    std::atomic<int> gate{1};
    counted blocker, c;
    blocker.gate = &gate;
    INIT_WORK(&blocker.work, count_fn);
    INIT_WORK(&c.work, count_fn);
    queue_work(wq, &blocker.work); // keeps the worker busy
    EXPECT_TRUE(queue_work(wq, &c.work));
    EXPECT_FALSE(queue_work(wq, &c.work)); // still pending
    EXPECT_TRUE(work_pending(&c.work));
    EXPECT_TRUE(cancel_work_sync(&c.work));
    EXPECT_FALSE(work_pending(&c.work));
    gate = 0;
    flush_workqueue(wq);
    EXPECT_EQ(blocker.runs, 1);
    EXPECT_EQ(c.runs, 0);
    destroy_workqueue(wq);
}

TEST(Workqueue, DelayedWorkWaitsForItsTimeUnlessFlushedOrCancelled) {
    delayed_work later, cancelled, flushed;
    static std::atomic<int> runs_later{0}, runs_cancelled{0}, runs_flushed{0};
    INIT_DELAYED_WORK(&later, [](work_struct *) { runs_later++; });
    INIT_DELAYED_WORK(&cancelled, [](work_struct *) { runs_cancelled++; });
    INIT_DELAYED_WORK(&flushed, [](work_struct *) { runs_flushed++; });
    const unsigned long start = jiffies;
    EXPECT_TRUE(schedule_delayed_work(&later, msecs_to_jiffies(30)));
    EXPECT_TRUE(schedule_delayed_work(&cancelled, msecs_to_jiffies(10000)));
    EXPECT_TRUE(schedule_delayed_work(&flushed, msecs_to_jiffies(10000)));
    EXPECT_TRUE(delayed_work_pending(&later));
    EXPECT_TRUE(cancel_delayed_work_sync(&cancelled));
    flush_delayed_work(&flushed);
    EXPECT_EQ(runs_flushed, 1);
    while (runs_later == 0 && jiffies - start < 5000)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(runs_later, 1);
    EXPECT_GE(jiffies - start, 30u);
    EXPECT_EQ(runs_cancelled, 0);
}

} // namespace
