// SPDX-License-Identifier: MIT
//
// stress/stats.hpp - what the workers count, per thread (oneTBB's enumerable_thread_specific:
// no shared cache line on the hot path), combined at the end.
#pragma once

#include "scenario.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace gfplab::stress {

// Latency in nanoseconds, in buckets of a quarter power of two (about 19% wide).
struct latency_histogram {
    std::array<std::uint64_t, 160> buckets{};
    std::uint64_t count = 0, max_ns = 0, sum_ns = 0;
    void add(std::uint64_t ns) noexcept;
    void merge(const latency_histogram &o) noexcept;
    // The upper edge of the bucket holding quantile q (0..1).
    std::uint64_t percentile(double q) const noexcept;
};

// Outcomes of the operations (what happened, as opposed to what was drawn).
enum class outcome : unsigned {
    alloc_ok,
    alloc_failed,
    pages_allocated,
    pages_freed,
    remote_pages_freed,
    over_budget, // an alloc drawn over the worker's budget became a free
    nothing_held,
    zero_blocks_checked,
    random_masks,
    planted_invalid,
    scope_saves,
    scope_depth_max,
    locks_taken,
    cache_pages_added,
    shrinkers_registered,
    shrinkers_freed,
    atomic_ok,            // GFP_ATOMIC/GFP_NOWAIT draws of the atomic share served
    atomic_failed,        // ... and refused (expected under pressure: they may not reclaim)
    nolock_ok,            // alloc_pages_nolock() draws of the nolock share served
    nolock_failed,        // ... and refused (a busy lock with the kernel buddy, or short)
    nolock_frees,         // blocks given back with free_pages_nolock()
    thisnode_ok,          // __GFP_THISNODE requests for a chosen node, served on that node
    thisnode_failed,      // ... and refused (the node was short; no fallback is allowed)
    node_local,           // other allocations on a virtual CPU served from that CPU's node
    node_remote,          // ... and from another node (the zonelist's fallback)
    accounted_failed,     // __GFP_ACCOUNT allocations that failed (the group's limit, or memory)
    page_cache_added,     // file, dirty file and anon pages put in the System's page cache
    page_cache_gone,      // of this worker's page-cache pages, those reclaim took first
    objects_allocated,    // slab objects (kmalloc, kmem_cache_alloc) served
    objects_failed,       // ... and not (non-sleeping masks under pressure)
    objects_freed,        // freed by the worker that allocated them
    objects_remote_freed, // freed by another worker
    objects_rcu_freed,    // unpublished from RCU readers and freed by kfree_rcu()
    rcu_reads,            // RCU read-side critical sections that checked a published object
    objects_vmalloced,    // of the objects allocated, those vmalloc (or kvmalloc's fallback) made
    count_,
};
inline constexpr unsigned nr_outcomes = unsigned(outcome::count_);
std::string_view outcome_name(outcome o) noexcept;

struct thread_stats {
    std::array<std::uint64_t, nr_op_kinds> ops{};
    std::array<latency_histogram, nr_op_kinds> latency{};
    std::array<std::uint64_t, nr_outcomes> outcomes{};
    void merge(const thread_stats &o) noexcept;
};

} // namespace gfplab::stress
