// SPDX-License-Identifier: MIT
#include "stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace gfplab::stress {

std::string_view outcome_name(outcome o) noexcept {
    static constexpr std::string_view names[] = {
        "alloc_ok",
        "alloc_failed",
        "pages_allocated",
        "pages_freed",
        "remote_pages_freed",
        "over_budget",
        "nothing_held",
        "zero_blocks_checked",
        "random_masks",
        "planted_invalid",
        "scope_saves",
        "scope_depth_max",
        "locks_taken",
        "cache_pages_added",
        "shrinkers_registered",
        "shrinkers_freed",
        "atomic_ok",
        "atomic_failed",
        "nolock_ok",
        "nolock_failed",
        "nolock_frees",
        "thisnode_ok",
        "thisnode_failed",
        "node_local",
        "node_remote",
        "accounted_failed",
        "page_cache_added",
        "page_cache_gone",
        "objects_allocated",
        "objects_failed",
        "objects_freed",
        "objects_remote_freed",
        "objects_rcu_freed",
        "rcu_reads",
        "objects_vmalloced",
    };
    return unsigned(o) < nr_outcomes ? names[unsigned(o)] : "?";
}

namespace {

unsigned bucket_of(std::uint64_t ns) noexcept {
    if (ns < 4)
        return unsigned(ns);
    // Four buckets per power of two: the top bit and the two below it.
    const unsigned top = unsigned(std::bit_width(ns)) - 1;
    const unsigned sub = unsigned(ns >> (top - 2)) & 3;
    return std::min<unsigned>(4 + (top - 2) * 4 + sub, 159);
}

std::uint64_t bucket_top(unsigned b) noexcept {
    if (b < 4)
        return b;
    const unsigned top = (b - 4) / 4 + 2, sub = (b - 4) % 4;
    return ((4ull + sub + 1) << (top - 2)) - 1;
}

} // namespace

void latency_histogram::add(std::uint64_t ns) noexcept {
    buckets[bucket_of(ns)]++;
    count++;
    sum_ns += ns;
    max_ns = std::max(max_ns, ns);
}

void latency_histogram::merge(const latency_histogram &o) noexcept {
    for (std::size_t i = 0; i < buckets.size(); i++)
        buckets[i] += o.buckets[i];
    count += o.count;
    sum_ns += o.sum_ns;
    max_ns = std::max(max_ns, o.max_ns);
}

std::uint64_t latency_histogram::percentile(double q) const noexcept {
    if (!count)
        return 0;
    const auto want = std::uint64_t(std::ceil(q * double(count)));
    std::uint64_t seen = 0;
    for (unsigned b = 0; b < buckets.size(); b++) {
        seen += buckets[b];
        if (seen >= std::max<std::uint64_t>(want, 1))
            return std::min(bucket_top(b), max_ns);
    }
    return max_ns;
}

void thread_stats::merge(const thread_stats &o) noexcept {
    for (unsigned i = 0; i < nr_op_kinds; i++) {
        ops[i] += o.ops[i];
        latency[i].merge(o.latency[i]);
    }
    for (unsigned i = 0; i < nr_outcomes; i++)
        outcomes[i] = i == unsigned(outcome::scope_depth_max) ? std::max(outcomes[i], o.outcomes[i])
                                                              : outcomes[i] + o.outcomes[i];
}

} // namespace gfplab::stress
