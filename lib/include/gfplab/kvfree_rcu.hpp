// SPDX-License-Identifier: MIT
//
// kvfree_rcu() on a System, as 6.12's kernel/rcu/tree.c batches it: each CPU of the System
// gathers pointers in one-page blocks taken from the System itself (or, when none can be
// had, chains the objects through their rcu_head); a monitor moves a CPU's batch to one of
// two in-flight slots after kfree_rcu_drain_ms (at once when a block fills), and the slot
// is freed after a grace period that began after its newest pointer was queued. Under
// memory pressure the "slab-kvfree-rcu" shrinker gives back the spare blocks and frees
// every batch whose grace period has already ended (docs/rcu.md).
#pragma once

#include <gfplab/rcu.hpp>

#include <cstddef>
#include <cstdint>

namespace gfplab {

class System;

// kvfree_call_rcu(): ptr (from kmalloc(), kmem_cache_alloc() or a large kmalloc of s) is
// freed after a grace period. With head (inside *ptr's first page) it never sleeps;
// without, it may wait for a grace period itself when no block can be had: not inside
// rcu::read_lock(). A pointer from outside the System is refused (I16).
void kvfree_call_rcu(System &s, rcu::head *head, void *ptr);

// kfree_rcu(s, obj, &T::rcu): the two-argument macro's C++ spelling.
template <class T>
void kfree_rcu(System &s, T *obj, rcu::head T::*member) {
    if (obj)
        kvfree_call_rcu(s, &(obj->*member), obj);
}
// kvfree_rcu_mightsleep(): the head-less form.
inline void kvfree_rcu_mightsleep(System &s, void *ptr) {
    if (ptr)
        kvfree_call_rcu(s, nullptr, ptr);
}

// Returns once everything queued on s before the call has been freed.
void kvfree_rcu_barrier(System &s);
// One round of the monitor on the calling thread, as if every CPU's drain time had come
// (refill the spare blocks if asked, free what is ready, start a grace period for the rest
// and wait for it): for a System without the monitor thread (system_config::
// kfree_rcu_thread false), as kswapd_run_once() is for kswapd. Returns the pointers freed.
unsigned long kvfree_rcu_run_monitor(System &s);

struct kvfree_rcu_stats {
    std::uint64_t queued = 0;         // kvfree_call_rcu() calls that queued a pointer
    std::uint64_t freed = 0;          // pointers freed after their grace period
    std::uint64_t pending = 0;        // queued and not yet freed (queued - freed)
    std::uint64_t chained = 0;        // queued through the rcu_head: no block to hand
    std::uint64_t synchronous = 0;    // head-less calls that waited for a grace period inline
    std::uint64_t blocks = 0;         // one-page blocks in use (batches and in flight)
    std::uint64_t spare_blocks = 0;   // emptied blocks kept for reuse (at most 5 per CPU)
    std::uint64_t batches = 0;        // batches handed to a grace period
    std::uint64_t shrinker_freed = 0; // pointers and blocks the shrinker gave back
};
kvfree_rcu_stats kvfree_rcu_statistics(System &s);
// How many page allocations for blocks were started so far (counted before each call, on
// whichever thread makes it: the monitor's refills included). Monotonic and lock-free: a
// checker that watches the System's free counts knows from it whether a page allocation it
// did not make itself may have run in between.
std::uint64_t kvfree_rcu_block_allocations(System &s) noexcept;

} // namespace gfplab
