// SPDX-License-Identifier: MIT
//
// RCU on liburcu-bp. liburcu decides when readers are done (urcu_glue.cpp);
// this file adds what the kernel has and liburcu spells differently: polled cookies
// counted in grace periods this file starts, and call_rcu() callbacks on one thread of
// our own, whose struct rcu_head is the kernel's two-word one (liburcu's is not).
#include <gfplab/rcu.hpp>

#include "urcu_glue.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GFPLAB_RCU_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GFPLAB_RCU_TSAN 1
#endif
#ifdef GFPLAB_RCU_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace gfplab::rcu {
namespace {

// ThreadSanitizer does not see the ordering liburcu builds (it is not instrumented): every
// read_unlock() releases this token and the end of every grace period acquires it, which
// is the edge a grace period guarantees (a little more: it also orders readers that
// started after the grace period did).
[[maybe_unused]] char tsan_gp_edge;

[[noreturn]] void die(const char *what) {
    std::fprintf(stderr, "gfplab: %s\n", what);
    std::abort();
}

// Grace periods are numbered as they start; `completed` is the highest number known to
// have ended. A cookie is one more than the number started when it was taken: a grace
// period with that number or higher began after the cookie, so once one has ended, every
// reader that could have seen what the cookie's caller unpublished is gone.
std::atomic<unsigned long> gp_started{0};
std::atomic<unsigned long> gp_completed{0};
std::atomic<std::uint64_t> nr_queued{0};
std::atomic<std::uint64_t> nr_invoked{0};
thread_local bool t_in_callback = false;

void note_completed(unsigned long seq) noexcept {
    unsigned long cur = gp_completed.load();
    while (cur < seq && !gp_completed.compare_exchange_weak(cur, seq)) {
    }
}

// The callback thread: takes everything queued, waits for one grace period, runs it
// oldest first. What is queued meanwhile waits for the next grace period, as it must.
class callback_thread {
  public:
    ~callback_thread() {
        if (!worker_.joinable())
            return;
        stop_.store(true);
        pending_.store(reinterpret_cast<head *>(&stop_)); // wakes the wait below
        pending_.notify_one();
        worker_.join();
    }
    void start() {
        std::call_once(started_, [this] { worker_ = std::thread([this] { run(); }); });
    }
    void push(head *h) noexcept {
        head *old = pending_.load(std::memory_order_relaxed);
        do
            h->next = old;
        while (!pending_.compare_exchange_weak(old, h, std::memory_order_release,
                                               std::memory_order_relaxed));
        if (!old)
            pending_.notify_one();
    }

  private:
    void run() {
        t_in_callback = true;
        for (;;) {
            pending_.wait(nullptr, std::memory_order_acquire);
            if (stop_.load())
                return;
            head *list = pending_.exchange(nullptr, std::memory_order_acquire);
            synchronize();
            head *fifo = nullptr;
            while (list) {
                head *next = list->next;
                list->next = fifo;
                fifo = list;
                list = next;
            }
            while (fifo) {
                head *next = fifo->next;
                fifo->func(fifo);
                nr_invoked.fetch_add(1, std::memory_order_relaxed);
                fifo = next;
            }
        }
    }

    std::atomic<head *> pending_{nullptr};
    std::atomic<bool> stop_{false};
    std::once_flag started_;
    std::thread worker_;
};

callback_thread &callbacks() {
    static callback_thread t;
    return t;
}

} // namespace

void read_lock() noexcept {
    detail::urcu_read_lock();
}

void read_unlock() noexcept {
#ifdef GFPLAB_RCU_TSAN
    __tsan_release(&tsan_gp_edge);
#endif
    detail::urcu_read_unlock();
}

bool read_lock_held() noexcept {
    return detail::urcu_read_ongoing();
}

void synchronize() {
    if (read_lock_held())
        die("synchronize_rcu() inside rcu_read_lock(): the grace period would wait for the "
            "caller itself");
    const unsigned long seq = gp_started.fetch_add(1) + 1;
    detail::urcu_synchronize();
#ifdef GFPLAB_RCU_TSAN
    __tsan_acquire(&tsan_gp_edge);
#endif
    note_completed(seq);
}

unsigned long get_state() noexcept {
    return gp_started.load() + 1;
}

bool poll_state(unsigned long cookie) noexcept {
    return gp_completed.load() >= cookie;
}

namespace {
void nothing(head *h) {
    delete h;
}
} // namespace

unsigned long start_poll() {
    const unsigned long cookie = get_state();
    // A callback makes the callback thread run a grace period that starts after now.
    call(new head{}, &nothing);
    return cookie;
}

void cond_synchronize(unsigned long cookie) {
    if (!poll_state(cookie))
        synchronize();
}

void call(head *h, callback func) noexcept {
    h->func = func;
    nr_queued.fetch_add(1, std::memory_order_relaxed);
    callback_thread &t = callbacks();
    t.start();
    t.push(h);
}

namespace {
struct barrier_head {
    head h{};
    std::atomic<bool> done{false};
};
void barrier_done(head *h) {
    auto *b = reinterpret_cast<barrier_head *>(h);
    b->done.store(true, std::memory_order_release);
    b->done.notify_one();
}
} // namespace

void barrier() {
    if (t_in_callback)
        die("rcu_barrier() from an RCU callback: it would wait for itself");
    if (read_lock_held())
        die("rcu_barrier() inside rcu_read_lock(): the grace period would wait for the "
            "caller itself");
    if (nr_queued.load() == 0)
        return; // no callback was ever queued
    barrier_head b;
    call(&b.h, &barrier_done);
    b.done.wait(false, std::memory_order_acquire);
}

statistics stats() noexcept {
    return {gp_completed.load(), nr_queued.load(), nr_invoked.load()};
}

} // namespace gfplab::rcu
