// SPDX-License-Identifier: MIT
//
// stress/oracle.hpp - the oracle online. Every report the System, the scope API and the
// lockdep checker make lands here and becomes a violation with its context (worker, thread,
// operation number, seed), except the mistakes the campaign planted on purpose: those are
// counted, and every planted one must have been reported. Quiescent checkpoints run
// System::verify() between epochs.
#pragma once

#include <gfplab/lockdep.hpp>
#include <gfplab/report.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/system.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace gfplab::stress {

// What the calling thread is doing, for the reports it triggers (thread-local; kswapd and
// other library threads have none).
struct op_context {
    int worker = -1;
    std::uint64_t op = 0;          // the worker's operation number
    std::uint64_t seed = 0;        // the worker's stream seed
    bool planting_invalid = false; // an invalid request on purpose: I16 expected
    bool planting_scope = false;   // an out-of-order restore on purpose: a mismatch expected
    bool planting_i9 = false;      // GFP_KERNEL under the fs lock on purpose: I9 expected
    bool nonblocking = false;      // inside an allocation without __GFP_DIRECT_RECLAIM (I7)
    // Inside an operation of a workload plugin: its name and the operation's.
    const char *workload = nullptr, *workload_op = nullptr;
};
op_context *current_op_context() noexcept;
void set_current_op_context(op_context *c) noexcept;

struct recorded_violation {
    violation v;
    std::string source; // "system", "scope", "lockdep", "harness", "checkpoint"
    std::string thread; // "worker 3", "kswapd or another library thread", "checkpoint 2"
    int worker = -1;
    std::uint64_t op = 0;
    std::uint64_t seed = 0;
    double at_seconds = 0;
    std::string workload; // "plugin/operation" when a workload plugin's operation ran
};

class oracle {
  public:
    oracle(System &s, bool expects_i9, std::uint64_t seed);
    // Hooks the System's report and log sinks and the lockdep handler; call before workers
    // start. The destructor puts the lockdep handler back.
    void attach();
    ~oracle();
    oracle(const oracle &) = delete;
    oracle &operator=(const oracle &) = delete;

    // The scope API's per-thread handler (set on every worker thread, ctx = this).
    static void scope_handler(const scope_mismatch &m, void *ctx);
    // A violation the harness found itself (a corrupted pattern, a non-zero __GFP_ZERO page,
    // task flags that a restore did not bring back, an invalid request served).
    void harness_violation(int invariant, std::string what, std::string message, gfp_t gfp = 0,
                           int order = -1, long long pfn = -1);

    // A quiescent checkpoint: the caller parked every worker; this parks kswapd too
    // (System::kswapd_park) and runs System::verify().
    void checkpoint();

    // Planted mistakes, counted by the workers.
    std::atomic<std::uint64_t> planted_invalid{0}, planted_scope{0}, planted_i9{0};
    // Their reports, as they came in.
    std::atomic<std::uint64_t> reported_invalid{0}, reported_scope{0}, reported_i9{0};
    std::atomic<std::uint64_t> invalid_served{0}; // planted invalid requests that got pages
    std::atomic<std::uint64_t> stalls{0}, oom_kill_logs{0}, alloc_failure_logs{0};
    std::atomic<std::uint64_t> lockdep_reports{0};
    // GFP_KERNEL allocations the campaign's watchdog made to end a NOFS/NOIO livelock.
    std::atomic<std::uint64_t> watchdog_allocations{0};
    std::atomic<std::uint64_t> checkpoints{0};

    std::uint64_t violation_count() const noexcept { return violations_.load(); }
    std::vector<recorded_violation> violations() const;
    std::vector<std::string> recent_log() const;
    // The first report of a planted reclaim recursion (nofs-deadlock), or "".
    std::string first_expected() const;
    double elapsed() const;
    bool expects_i9() const noexcept { return expects_i9_; }

  private:
    void record(violation v, std::string source, std::string thread = {});
    void on_system_report(const violation &v);
    void on_log(const std::string &line);
    void on_lockdep(const lockdep_report &r);
    void expected(std::string report); // a planted I9 was reported

    System &sys_;
    bool expects_i9_;
    std::uint64_t seed_;
    std::chrono::steady_clock::time_point start_;
    std::atomic<std::uint64_t> violations_{0};
    mutable std::mutex lock_;
    std::vector<recorded_violation> list_; // the first max_kept
    std::vector<std::string> log_;         // the last few log lines
    std::string first_expected_;
};

} // namespace gfplab::stress
