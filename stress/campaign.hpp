// SPDX-License-Identifier: MIT
//
// stress/campaign.hpp - one stress campaign: a System, its reclaimable caches, the oracle,
// and workers on a oneTBB task_arena, run in epochs with a quiescent checkpoint between.
#pragma once

#include "cache.hpp"
#include "masks.hpp"
#include "oracle.hpp"
#include "scenario.hpp"
#include "stats.hpp"
#include "trace.hpp"
#include "workloads.hpp"

#include <alloc_check.hpp>

#include <gfplab/alloc_sites.hpp>
#include <gfplab/caches.hpp>
#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/lockdep.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmalloc.hpp>
#include <gfplab/vmstat.hpp>

#include <oneapi/tbb/enumerable_thread_specific.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gfplab::stress {

struct campaign_config {
    scenario sc;
    unsigned threads = 4;
    double duration = 0;   // seconds; 0: bounded by ops alone
    std::uint64_t ops = 0; // operations over all workers; 0: bounded by duration alone
    std::uint64_t seed = 1;
    std::uint64_t memory = 256ull << 20;
    double checkpoint_every = 1.0; // seconds between quiescent checkpoints
    // Nonzero: an epoch ends after this many operations per worker instead of by time, so
    // that what workers do at epoch ends (close scopes, trim what they hold) falls on the
    // same operations in every run of a seed.
    std::uint64_t checkpoint_ops = 0;
    // Workload plugins (--workload), initialised on the campaign's System before the
    // workers start and torn down after they stop; nullptr or empty: none.
    workload_set *workloads = nullptr;
    // Seconds without a completed operation, workers running, before the campaign is
    // declared stalled (--stall-timeout; 0: never).
    double stall_timeout = 30;
    // One run of several (the per-CPU mode rotation, stress/rotation.hpp): a planted
    // mistake the scenario expects must be found over the whole, not in each run.
    bool part = false;
    bool tracing = false;                  // collect trace events (--trace-events)
    trace_sink *tracepoint_sink = nullptr; // the System's tracepoints go here (--trace)
    std::uint64_t slow_alloc_ns = 1000000; // allocations slower than this are traced
};

class worker;

// What every worker shares. Members are in construction order; the caches go before the
// System does.
// A slab object a worker holds: kmalloc'd, or from the shared kmem_cache; its stamp is
// written at both ends and must be there when it is freed.
struct held_object {
    void *p = nullptr;
    std::uint32_t size = 0;
    bool from_cache = false;
    std::uint64_t stamp = 0;
};

struct shared_state {
    const campaign_config &cfg;
    System sys;
    oracle orc;
    // The reference oracle (oracle/): placement and watermark floors of every page
    // allocation, by its own arithmetic. Workers enter its window around each step that
    // may allocate.
    ref::alloc_checker ref{sys, false};
    // Held for the whole campaign when plugins run: their shrinkers and threads may
    // allocate where no window sees it, so no floor can be bounded (placement still is).
    std::optional<ref::window_guard> foreign_code;
    // What the workers and the caches hold, for the online I2 check (ledger.hpp).
    page_ledger ledger;
    mask_mix masks;
    lock_class fs_lock_class{"stressfs->s_umount"};
    lock_class driver_lock_class{"stressdrv->lock"};
    Lock fs_lock{fs_lock_class};
    Lock driver_lock{driver_lock_class};
    std::unique_ptr<page_cache> cache;    // page cache: any reclaim may take it
    std::unique_ptr<page_cache> fs_cache; // inode cache: only __GFP_FS reclaim, under fs_lock
    // The library's ready-made shrinker: a dentry cache of a second filesystem (its own
    // s_umount). kvfree_rcu()'s shrinker is the System's own.
    std::unique_ptr<object_cache> dentries;
    // Slab objects published to RCU readers: a worker that unpublishes one (by publishing
    // another in its place) frees it with kfree_rcu(); readers check it stays whole (I20).
    static constexpr unsigned nr_published = 16;
    std::array<std::atomic<void *>, nr_published> published{};
    // The slab op's kmem_cache, and objects handed from one worker to be freed by another.
    kmem_cache *objects = nullptr;
    std::mutex exchange_lock;
    std::vector<held_object> exchange;
    std::vector<unsigned> memcgs; // the groups __GFP_ACCOUNT charges (worker i: i mod n)
    unsigned long managed_pages = 0;
    tbb::enumerable_thread_specific<thread_stats> stats;
    trace_log trace; // collects only when cfg.tracing
    std::vector<std::unique_ptr<worker>> workers;

    shared_state(const campaign_config &c, const system_config &sc);
    // Frees what is still in the exchange and what is published (no worker runs), then
    // waits for kvfree_rcu() to free everything queued.
    void free_exchange();
    ~shared_state(); // workers and caches first, then the sinks that point at the oracle
};

struct campaign_result {
    thread_stats totals;
    std::uint64_t ops = 0;
    double seconds = 0;
    std::uint64_t pages_killed = 0; // by the OOM killer, over all workers
    std::vector<violation> final_verify;
    vmstat_snapshot vmstat; // at the end of the run, before the caches are torn down
    std::string vmstat_json;
    std::uint64_t kernel_warnings = 0; // WARN*() in kernel-style code (the plugins')
    // What the plugins' code allocated and had not freed after their exit() (kmemleak-style,
    // each with the line that allocated it).
    std::vector<alloc_site_record> workload_leaks;
    std::uint64_t reported_i9 = 0;    // the planted wrong caller's I9 reports
    bool ok = false;                  // exit status 0
    std::vector<std::string> verdict; // why not ok, one reason a line
};

// Called a few times a second from the main thread while the campaign runs.
using progress_fn = std::function<void(shared_state &, double elapsed)>;
// Called once, from the main thread, when no operation completed for stall_timeout seconds
// while workers ran, or when the System panicked (an OOM with nothing to kill: 6.12 stops
// there, "System is deadlocked on memory"). The workers may be stuck (in the library or a
// plugin) and cannot be stopped: the caller reports and ends the process; if it returns,
// the campaign waits on.
using stall_fn = std::function<void(shared_state &, double stalled_seconds, bool panicked)>;

system_config make_system_config(const campaign_config &c);
campaign_result run_campaign(const campaign_config &c, const progress_fn &progress,
                             const stall_fn &on_stall, std::unique_ptr<shared_state> &state_out);

} // namespace gfplab::stress
