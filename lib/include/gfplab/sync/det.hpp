// SPDX-License-Identifier: MIT
//
// gfplab/sync/det.hpp - atomics and a mutex whose every operation is a scheduling point of
// the deterministic scheduler (fuzz/sched/scheduler.hpp). Only the deterministic library
// copy uses them (see atom.hpp).
//
// The scheduler lets one thread run at a time, so the operation itself needs no more than
// the std::atomic it wraps; what matters is that the switch happens just before it, where
// another thread's operation could have come first on real hardware. Threads the scheduler
// does not run (the System's constructor on the main thread, say) pass straight through.
#pragma once

#include <atomic>
#include <thread>

namespace gfplab::sync::det {

// Defined by the scheduler: let the schedule decide who performs the next shared operation.
void schedule_point() noexcept;
// Defined by the scheduler: the caller cannot go on while *busy is true (a held mutex). The
// scheduler runs others until it is false; returns false when the caller is not scheduled
// (then it must wait for real).
bool block_while(const std::atomic<bool> *busy) noexcept;

template <class T>
class atomic {
  public:
    constexpr atomic() noexcept : a_() {}
    constexpr atomic(T v) noexcept : a_(v) {}
    atomic(const atomic &) = delete;
    atomic &operator=(const atomic &) = delete;

    T load(std::memory_order mo = std::memory_order_seq_cst) const noexcept {
        schedule_point();
        return a_.load(mo);
    }
    void store(T v, std::memory_order mo = std::memory_order_seq_cst) noexcept {
        schedule_point();
        a_.store(v, mo);
    }
    T exchange(T v, std::memory_order mo = std::memory_order_seq_cst) noexcept {
        schedule_point();
        return a_.exchange(v, mo);
    }
    bool compare_exchange_strong(T &expected, T desired,
                                 std::memory_order mo = std::memory_order_seq_cst) noexcept {
        schedule_point();
        return a_.compare_exchange_strong(expected, desired, mo);
    }
    bool compare_exchange_weak(T &expected, T desired,
                               std::memory_order mo = std::memory_order_seq_cst) noexcept {
        schedule_point();
        return a_.compare_exchange_weak(expected, desired, mo);
    }
    T fetch_add(T v, std::memory_order mo = std::memory_order_seq_cst) noexcept {
        schedule_point();
        return a_.fetch_add(v, mo);
    }
    T fetch_sub(T v, std::memory_order mo = std::memory_order_seq_cst) noexcept {
        schedule_point();
        return a_.fetch_sub(v, mo);
    }
    T fetch_or(T v, std::memory_order mo = std::memory_order_seq_cst) noexcept {
        schedule_point();
        return a_.fetch_or(v, mo);
    }
    T fetch_and(T v, std::memory_order mo = std::memory_order_seq_cst) noexcept {
        schedule_point();
        return a_.fetch_and(v, mo);
    }
    operator T() const noexcept { return load(); }
    T operator=(T v) noexcept {
        store(v);
        return v;
    }

  private:
    std::atomic<T> a_;
};

// A mutex that never blocks the scheduler: a thread finding it held is set aside until the
// holder lets go, so a schedule that stops the holder cannot hang the run, and a cycle of
// waiters shows up as no runnable thread (the scheduler reports a deadlock).
class mutex {
  public:
    void lock() noexcept {
        schedule_point();
        while (held_.exchange(true, std::memory_order_acquire))
            if (!block_while(&held_))
                std::this_thread::yield();
    }
    bool try_lock() noexcept {
        schedule_point();
        return !held_.exchange(true, std::memory_order_acquire);
    }
    void unlock() noexcept {
        schedule_point();
        held_.store(false, std::memory_order_release);
    }

  private:
    std::atomic<bool> held_{false};
};

} // namespace gfplab::sync::det
