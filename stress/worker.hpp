// SPDX-License-Identifier: MIT
//
// stress/worker.hpp - one worker: a seeded operation stream over its own pages, pages that
// others handed it, scopes, locks, caches and a private shrinker. It registers itself as an
// OOM victim while it runs: killing it frees everything it holds.
#pragma once

#include "campaign.hpp"

#include <gfplab/page.hpp>
#include <gfplab/page_cache.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace gfplab::stress {

struct held_block {
    page *p;
    unsigned order;
    std::uint64_t owner; // the worker that allocated and stamped it
    std::uint64_t serial;
};

// What a worker is doing, for the stall report: written by the worker at every step and
// around its page allocations, read by the campaign's watchdog on another thread.
struct worker_activity {
    std::atomic<unsigned> kind{unsigned(op_kind::count_)}; // the step's op_kind
    std::atomic<std::uint64_t> op{0};                      // its number
    std::atomic<long long> since_ns{0};                    // when it started (steady clock)
    std::atomic<const char *> workload{nullptr}, workload_op{nullptr};
    std::atomic<gfp_t> gfp{0}; // the page allocation in flight (0: none)
    std::atomic<int> order{-1};
    std::atomic<unsigned> task_flags{0}, scope_depth{0}; // the harness's own scopes
};

class worker {
  public:
    worker(shared_state &st, unsigned id, std::uint64_t seed, std::uint64_t quota);
    ~worker();
    worker(const worker &) = delete;
    worker &operator=(const worker &) = delete;

    // Runs operations until the deadline or the quota; leaves no scope open, no lock held,
    // and at most the checkpoint share of memory held.
    // Until the deadline or, with epoch_ops nonzero, for that many operations.
    void run_epoch(std::chrono::steady_clock::time_point deadline, std::uint64_t epoch_ops);
    // Frees everything (the end of the campaign; no worker runs).
    void release_all();

    bool quota_done() const noexcept { return quota_ && ops_done() >= quota_; }
    std::uint64_t ops_done() const noexcept { return ops_.load(std::memory_order_relaxed); }
    std::uint64_t pages_killed() const noexcept { return killed_pages_.load(); }
    unsigned long held_pages() const noexcept { return held_pages_.load(); }
    std::uint64_t seed() const noexcept { return seed_; }
    // A hash of the operation stream drawn so far (each kind and its sub-seed): equal
    // digests after equal op counts mean the same stream, whatever the outcomes were.
    std::uint64_t stream_digest() const noexcept { return digest_; }
    const worker_activity &activity() const noexcept { return activity_; }

  private:
    struct open_scope {
        unsigned kind, saved;
    };
    void step(thread_stats &ts);
    void op_alloc(splitmix64 &r, thread_stats &ts);
    void op_free(splitmix64 &r, thread_stats &ts);
    void op_handoff(splitmix64 &r, thread_stats &ts);
    void op_remote_free(thread_stats &ts);
    void op_touch(splitmix64 &r, thread_stats &ts);
    void op_scope_enter(splitmix64 &r, thread_stats &ts);
    void op_scope_leave(splitmix64 &r, thread_stats &ts);
    void op_lock_section(splitmix64 &r, thread_stats &ts);
    void op_cache_fill(splitmix64 &r, thread_stats &ts);
    void op_shrinker(thread_stats &ts);
    void op_page_cache(splitmix64 &r, thread_stats &ts);
    void op_slab(splitmix64 &r, thread_stats &ts);
    void op_workload(splitmix64 &r);
    // Checks the stamps and frees (kfree or kmem_cache_free).
    void release_object(const held_object &o, bool remote);
    void check_object(const held_object &o, bool remote);
    void publish_object(splitmix64 &r, const held_object &o);
    void rcu_read(splitmix64 &r, thread_stats &ts);
    // alloc_pages (or alloc_pages_node for the scenario's __GFP_THISNODE share), timed for
    // the trace, its placement checked and counted. d.gfp becomes the mask really used.
    page *allocate(splitmix64 &r, mask_draw &d, thread_stats &ts);
    int bound_node(int nid, gfp_t gfp) const noexcept;
    // alloc_pages()/alloc_pages_node() under the reference oracle (oracle/): placement and
    // the watermark floor of the request's class, reported as the harness's violations.
    page *checked_alloc(int nid, gfp_t gfp, unsigned order);
    page *checked_nolock(gfp_t gfp, unsigned order);
    void release_block(const held_block &b, bool remote, bool nolock = false);
    void check_task_flags();
    void close_scopes();
    void trim_to(unsigned long pages);
    unsigned long budget() const noexcept;
    unsigned long kill();

    shared_state &st_;
    const unsigned id_;
    const std::uint64_t seed_, quota_;
    splitmix64 stream_;
    op_context ctx_;
    std::atomic<std::uint64_t> ops_{0};
    std::uint64_t serial_ = 0;
    std::uint64_t digest_ = 0xcbf29ce484222325ull;
    unsigned victim_id_ = 0;

    // Holdings: the OOM killer's kill runs on the allocating thread, any thread.
    std::mutex lock_;
    std::vector<held_block> held_;
    std::vector<held_block> inbox_;    // handed over by others, freed by remote_free
    std::vector<held_object> objects_; // slab objects (under lock_: kill() frees them)
    std::atomic<unsigned long> held_pages_{0};
    std::atomic<std::uint64_t> killed_pages_{0};
    std::atomic<bool> killed_{false};

    std::vector<open_scope> scopes_;
    unsigned expected_flags_ = 0; // the task flags, computed independently of the library
    std::unique_ptr<stress::page_cache> private_cache_;
    // This worker's pages in the System's page cache (gfplab::page_cache), oldest first;
    // reclaim may take any of them at any time.
    std::deque<cache_page_id> cached_;
    worker_activity activity_;
    std::size_t cached_next_ = 0; // where the next touch/dirty/remove looks
};

} // namespace gfplab::stress
