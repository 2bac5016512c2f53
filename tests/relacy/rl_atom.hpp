// SPDX-License-Identifier: MIT
//
// Relacy's atomics behind std::atomic's member functions, so that the library's lock-free
// cores (templates over the atomic object's type) run unchanged inside Relacy. Include the
// library headers first: relacy.hpp redefines new and delete for everything after it.
#pragma once

#include <atomic>

namespace gfplab::relacy {

// Relacy turns std::memory_order_* into macros: name them before it is included.
inline constexpr std::memory_order relaxed = std::memory_order_relaxed;
inline constexpr std::memory_order consume = std::memory_order_consume;
inline constexpr std::memory_order acquire = std::memory_order_acquire;
inline constexpr std::memory_order release = std::memory_order_release;
inline constexpr std::memory_order acq_rel = std::memory_order_acq_rel;

} // namespace gfplab::relacy

#include <relacy/relacy.hpp>

namespace gfplab::relacy {

inline rl::memory_order to_rl(std::memory_order mo) {
    if (mo == relaxed)
        return rl::mo_relaxed;
    if (mo == consume)
        return rl::mo_consume;
    if (mo == acquire)
        return rl::mo_acquire;
    if (mo == release)
        return rl::mo_release;
    if (mo == acq_rel)
        return rl::mo_acq_rel;
    return rl::mo_seq_cst;
}

template <class T>
class atom {
  public:
    atom() = default;
    // For members initialised as std::atomic's are (`atom<T> x{0}`); before() still sets
    // each iteration's value with init().
    explicit atom(T v) : a_(v) {}
    void init(T v) { a_($).store(v, rl::mo_relaxed); }
    T load(std::memory_order mo) const { return a_($).load(to_rl(mo)); }
    void store(T v, std::memory_order mo) { a_($).store(v, to_rl(mo)); }
    T exchange(T v, std::memory_order mo) { return a_($).exchange(v, to_rl(mo)); }
    T fetch_add(T v, std::memory_order mo) { return a_($).fetch_add(v, to_rl(mo)); }
    T fetch_sub(T v, std::memory_order mo) { return a_($).fetch_sub(v, to_rl(mo)); }
    T fetch_and(T v, std::memory_order mo) { return a_($).fetch_and(v, to_rl(mo)); }
    T fetch_or(T v, std::memory_order mo) { return a_($).fetch_or(v, to_rl(mo)); }
    // With one order, the failure order follows std::atomic's rule (acq_rel: acquire,
    // release: relaxed), as Relacy's own one-order form does.
    bool compare_exchange_weak(T &expected, T desired, std::memory_order mo) {
        return a_($).compare_exchange_weak(expected, desired, to_rl(mo));
    }
    bool compare_exchange_strong(T &expected, T desired, std::memory_order mo) {
        return a_($).compare_exchange_strong(expected, desired, to_rl(mo));
    }
    bool compare_exchange_weak(T &expected, T desired, std::memory_order mo,
                               std::memory_order failure) {
        return a_($).compare_exchange_weak(expected, desired, to_rl(mo), to_rl(failure));
    }
    bool compare_exchange_strong(T &expected, T desired, std::memory_order mo,
                                 std::memory_order failure) {
        return a_($).compare_exchange_strong(expected, desired, to_rl(mo), to_rl(failure));
    }

  private:
    rl::atomic<T> a_;
};

} // namespace gfplab::relacy
