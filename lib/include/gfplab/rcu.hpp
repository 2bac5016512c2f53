// SPDX-License-Identifier: MIT
//
// Read-copy update for gfplab: the reader side and grace periods come from liburcu's
// bulletproof flavour (urcu-bp); callbacks and polled grace-period cookies are layered on
// top here, shaped like the kernel's call_rcu() and get_state_synchronize_rcu().
//
// RCU is process-wide, as it is in a kernel: the one exception to "no global state outside
// a System" (docs/rcu.md). Every System, and the kernel face, share one grace-period
// sequence and one callback thread.
//
// Why urcu-bp: its readers register themselves on first use, so oneTBB workers, plugin
// threads and the callback thread need no rcu_register_thread() that a user's kernel code
// would never call. The memb flavour's faster read side needs every reader registered.
#pragma once

#include <gfplab/linux/rcu_head.h>

#include <cstdint>

namespace gfplab::rcu {

// The kernel's struct rcu_head (struct callback_head): two words inside the object that
// waits for a grace period; the same type the kernel face uses.
using head = ::callback_head;
using callback = void (*)(head *);

// rcu_read_lock() / rcu_read_unlock(): nest; cheap; never block.
void read_lock() noexcept;
void read_unlock() noexcept;
// Whether the calling thread is inside a read-side critical section.
bool read_lock_held() noexcept;

// synchronize_rcu(): returns after every reader that was inside a critical section when it
// was called has left it. Called inside a critical section it would never return: it
// aborts with that message instead.
void synchronize();

// Polled grace periods (get_state_synchronize_rcu() & co.): a cookie taken now is
// "elapsed" once a whole grace period that began after it has ended.
unsigned long get_state() noexcept;
bool poll_state(unsigned long cookie) noexcept;
// Takes a cookie and makes sure a grace period will end it without a synchronize() call.
unsigned long start_poll();
// Waits only if the cookie has not elapsed yet.
void cond_synchronize(unsigned long cookie);

// call_rcu(): func(h) runs on the callback thread after a grace period. Never blocks.
void call(head *h, callback func) noexcept;
// rcu_barrier(): returns after every callback queued before it has run.
void barrier();

struct statistics {
    std::uint64_t gp_completed = 0;      // grace periods ended (synchronize() calls)
    std::uint64_t callbacks_queued = 0;  // call() calls
    std::uint64_t callbacks_invoked = 0; // callbacks run
};
statistics stats() noexcept;

// rcu_read_lock() for a scope.
class read_guard {
  public:
    read_guard() noexcept { read_lock(); }
    ~read_guard() { read_unlock(); }
    read_guard(const read_guard &) = delete;
    read_guard &operator=(const read_guard &) = delete;
};

} // namespace gfplab::rcu
