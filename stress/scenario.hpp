// SPDX-License-Identifier: MIT
//
// stress/scenario.hpp - what a campaign does: the operations a worker draws and how often,
// the share of planted mistakes, the pressure phases, and the named scenarios.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gfplab::stress {

// The operations a worker draws. The order is the order of reports and JSON keys.
enum class op_kind : unsigned {
    alloc,        // alloc_pages with a mask from the mix, pattern written
    free,         // free one of the worker's own pages (pattern checked)
    handoff,      // give a page to another worker, who frees it (remote free)
    remote_free,  // free the pages other workers handed over
    touch,        // check and rewrite the pattern of a held page
    scope_enter,  // memalloc_*_save
    scope_leave,  // the matching restore (or, now and then, a planted out-of-order one)
    lock_section, // declared locks taken, allocations made inside, released
    cache_fill,   // pages into the reclaimable caches (what shrinkers give back)
    shrinker,     // register a private shrinker, or free it
    drain,        // drain_all_pages()
    count_,
};
inline constexpr unsigned nr_op_kinds = unsigned(op_kind::count_);
std::string_view op_name(op_kind k) noexcept;

using op_weights = std::array<unsigned, nr_op_kinds>;

// Pressure phases, per worker, by operation count (so that a seed replays the same stream):
// fill takes memory towards the low watermark and below, hold keeps it near min, release
// gives it back.
enum class phase : unsigned { fill, hold, release, count_ };
std::string_view phase_name(phase p) noexcept;

struct scenario {
    std::string name;
    std::string summary; // one line for --list-scenarios
    // Weights per phase: fill, hold, release.
    std::array<op_weights, 3> weights;
    unsigned phase_ops = 3000;     // operations per phase per worker
    double hold_share = 0.5;       // the share of memory all workers together may hold
    double random_masks = 0.10;    // share of uniformly random valid masks
    double invalid_masks = 0.002;  // share of planted invalid requests (I16 expected)
    double scope_mismatch = 0.01;  // share of scope leaves restored out of order on purpose
    double wrong_caller = 0;       // share of lock sections allocating GFP_KERNEL under the fs lock
    unsigned threads_per_core = 0; // nonzero: default --threads is this many per core
    bool expects_i9 = false;       // the run succeeds only if the System reported I9
    // Order weights 0..10 for the composite masks (transparent huge pages are order 9).
    std::array<unsigned, 11> orders{600, 120, 80, 80, 30, 20, 15, 10, 10, 20, 5};
};

const std::vector<scenario> &scenarios();
std::optional<scenario> find_scenario(std::string_view name);

} // namespace gfplab::stress
