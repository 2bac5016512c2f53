// SPDX-License-Identifier: MIT
//
// stress/scenario.hpp - what a campaign does: the operations a worker draws and how often,
// the share of planted mistakes, the pressure phases, and the named scenarios.
#pragma once

#include "sysctl.hpp"

#include <gfplab/system.hpp>

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
    slab,         // kmalloc/kmem_cache objects, stamped; some freed by other workers
    workload,     // an operation of a loaded workload plugin (--workload, stress/workloads.hpp)
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
    // The planted wrong caller's I9 is the finding: it is recorded as a violation (exit 1),
    // and a run without it failed to find the deadlock.
    bool expects_i9 = false;
    // Share of allocations drawn as GFP_ATOMIC or GFP_NOWAIT (interrupt and network receive
    // paths) on top of the mix: they may dip into reserves and fail, never reclaim.
    double atomic_share = 0;
    // Share of allocations made with alloc_pages_nolock() (any context, BPF's allocator: no
    // reclaim, no wait for a lock, orders 0..3), and of frees made with free_pages_nolock().
    double nolock_share = 0.01;
    // Share of allocations that ask for one node with __GFP_THISNODE (checked: that node or
    // NULL, I5).
    double thisnode_share = 0;
    // The machine: NUMA nodes, CPUs (0: the host's) and how threads reach per-CPU lists.
    unsigned nodes = 1;
    unsigned cpus = 0;
    pcp_mode pcp = pcp_mode::automatic;
    // The per-CPU mode is one System's for its life, and each mode has paths the others never
    // run (rseq's restarts; the trylock's remote drain; virtual CPUs shared by workers): the
    // campaign is split into one run per mode, rseq, locked, virtual, each on a fresh System
    // (stress/rotation.hpp). `pcp` is then unused. A chosen mode (--pcp-mode) turns it off.
    bool pcp_rotate = true;
    // The page-frame backend below the per-CPU lists (docs/backends.md).
    buddy_backend buddy = buddy_backend::automatic;
    // Nonzero: __GFP_ACCOUNT allocations charge named groups with this limit each.
    std::uint64_t memcg_limit = 0;
    // Share of cache_fill operations that go to the System's page cache (file, dirty file
    // and anon pages on the LRUs) rather than to the shrinker-backed caches.
    double page_cache_share = 0.5;
    double dirty_share = 0.3;     // of the page-cache file pages added
    double anon_share = 0.3;      // of the page-cache pages added
    std::uint64_t swap_pages = 0; // 0: a quarter of memory
    // Off: no background reclaim, so that a one-worker run is a pure function of its seed
    // (direct reclaim and the OOM killer run on the worker's own thread).
    bool kswapd = true;
    // The vm sysctls the machine boots with (--sysctl, a scenario file's [vm] table).
    vm_sysctls vm;
    // Order weights 0..10 for the composite masks (transparent huge pages are order 9).
    std::array<unsigned, 11> orders{600, 120, 80, 80, 30, 20, 15, 10, 10, 20, 5};
};

// The mix with workload plugins loaded (--workload): their operations get as many draws as
// the built-in operations together (a weight a scenario file gave them is kept). With only
// (--only-workloads), the built-in workload operations go and what puts the plugins' code
// under test stays: page allocations and frees (the pressure phases, with the workers
// allowed to hold all of memory, as in the pressure preset) and the random scope nesting
// their operations run inside.
void with_workloads(scenario &s, bool only);

const std::vector<scenario> &scenarios();
// By name or alias (wrong-caller is nofs-deadlock's old name).
std::optional<scenario> find_scenario(std::string_view name);
std::optional<op_kind> find_op(std::string_view name) noexcept;
std::string_view pcp_mode_name(pcp_mode m) noexcept;
std::optional<pcp_mode> find_pcp_mode(std::string_view name) noexcept;
// The per-CPU mode as the command line and scenario files spell it: a pcp_mode name, or
// "rotate" (pcp_rotate).
std::string_view pcp_mode_text(const scenario &s) noexcept;
// Sets pcp and pcp_rotate from that spelling; false if it names no mode.
bool set_pcp_mode(scenario &s, std::string_view text) noexcept;
inline constexpr std::string_view pcp_mode_choices = "rotate, automatic, rseq, locked, virtual";

} // namespace gfplab::stress
