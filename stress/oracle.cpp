// SPDX-License-Identifier: MIT
#include "oracle.hpp"

#include <gfplab/gfp.hpp>

#include <fmt/format.h>

#include <thread>

namespace gfplab::stress {
namespace {

thread_local op_context *tls_context = nullptr;

// Enough to read every distinct problem; the count goes on past it.
constexpr std::size_t max_kept = 1000;
constexpr std::size_t max_log = 20;

} // namespace

op_context *current_op_context() noexcept {
    return tls_context;
}

void set_current_op_context(op_context *c) noexcept {
    tls_context = c;
}

oracle::oracle(System &s, bool expects_i9, std::uint64_t seed)
    : sys_(s), expects_i9_(expects_i9), seed_(seed), start_(std::chrono::steady_clock::now()) {}

oracle::~oracle() {
    set_lockdep_report_handler({});
}

void oracle::attach() {
    sys_.set_report_sink([this](const violation &v) { on_system_report(v); });
    sys_.set_log_sink([this](const std::string &line) { on_log(line); });
    // Earlier runs in this process (none in the program, but tests) must not leak edges in.
    lockdep_reset();
    set_lockdep_report_handler([this](const lockdep_report &r) { on_lockdep(r); });
}

double oracle::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void oracle::record(violation v, std::string source, std::string thread) {
    violations_.fetch_add(1, std::memory_order_relaxed);
    recorded_violation r;
    r.source = std::move(source);
    if (v.scope_stack.empty())
        v.scope_stack = format_scope_stack();
    r.v = std::move(v);
    r.at_seconds = elapsed();
    if (!thread.empty()) {
        r.thread = std::move(thread);
        r.seed = seed_;
    } else if (const op_context *c = tls_context) {
        r.worker = c->worker;
        r.op = c->op;
        r.seed = c->seed;
        r.thread = c->worker < 0 ? "main thread" : fmt::format("worker {}", c->worker);
        if (c->workload)
            r.workload = fmt::format("{}/{}", c->workload, c->workload_op);
    } else {
        r.thread = "kswapd or another library thread";
        r.seed = seed_;
    }
    std::lock_guard<std::mutex> g(lock_);
    if (list_.size() < max_kept)
        list_.push_back(std::move(r));
}

// Called under the System's report lock: nothing here may call back into the System.
void oracle::on_system_report(const violation &v) {
    const op_context *c = tls_context;
    if (c && c->planting_invalid && id(v.inv) == 16 &&
        (v.what == "invalid request" || v.what == "NOFAIL that cannot reclaim")) {
        reported_invalid.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    // The planted wrong caller's I9 is what the scenario must find: expected, like every
    // planted mistake's report (the first one is kept for the summary).
    if (id(v.inv) == 9 && expects_i9_ && c && c->planting_i9) {
        expected(format_violation(v));
        return;
    }
    record(v, "system");
}

void oracle::scope_handler(const scope_mismatch &m, void *ctx) {
    auto *self = static_cast<oracle *>(ctx);
    const op_context *c = tls_context;
    if (c && c->planting_scope) {
        self->reported_scope.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    self->record({invariant::scope_mask, "unbalanced scope restore", m.message, 0, -1, -1,
                  format_scope_stack()},
                 "scope");
}

void oracle::on_lockdep(const lockdep_report &r) {
    lockdep_reports.fetch_add(1, std::memory_order_relaxed);
    // The cycle the wrong caller closes is what that scenario must find.
    if (expects_i9_ && tls_context && tls_context->planting_i9) {
        expected(fmt::format("I9 {}: {}; {}", r.message, r.first, r.second));
        return;
    }
    record({invariant::reclaim_recursion, "possible circular locking dependency",
            fmt::format("{}: {}; {}", r.message, r.first, r.second), 0, -1, -1, ""},
           "lockdep");
}

void oracle::expected(std::string report) {
    if (reported_i9.fetch_add(1, std::memory_order_relaxed) == 0) {
        std::lock_guard<std::mutex> g(lock_);
        first_expected_ = std::move(report);
    }
}

std::string oracle::first_expected() const {
    std::lock_guard<std::mutex> g(lock_);
    return first_expected_;
}

void oracle::on_log(const std::string &line) {
    // Stalls are the model's "too small to fail" at work, OOM kills its way out: both are
    // expected under pressure and reported in the summary, never as violations.
    if (line.find("page allocation stalls") != std::string::npos)
        stalls.fetch_add(1, std::memory_order_relaxed);
    else if (line.find("Out of memory: Killed") != std::string::npos)
        oom_kill_logs.fetch_add(1, std::memory_order_relaxed);
    else if (line.find("page allocation failure") != std::string::npos)
        alloc_failure_logs.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> g(lock_);
    if (log_.size() == max_log)
        log_.erase(log_.begin());
    log_.push_back(line);
}

void oracle::harness_violation(int invariant, std::string what, std::string message, gfp_t gfp,
                               int order, long long pfn) {
    record({invariant_from_id(invariant), std::move(what), std::move(message), gfp, order, pfn, ""},
           "harness");
}

void oracle::checkpoint() {
    const auto n = checkpoints.fetch_add(1, std::memory_order_relaxed) + 1;
    // Workers are parked by the caller; kswapd and kvfree_rcu()'s monitor are the library
    // threads left.
    sys_.kswapd_park();
    std::vector<violation> found = sys_.verify();
    sys_.kswapd_unpark();
    for (auto &v : found) {
        violation w = v;
        w.message = fmt::format("checkpoint {}: {}", n, v.message);
        record(std::move(w), "checkpoint", fmt::format("checkpoint {}", n));
    }
}

std::vector<recorded_violation> oracle::violations() const {
    std::lock_guard<std::mutex> g(lock_);
    return list_;
}

std::vector<std::string> oracle::recent_log() const {
    std::lock_guard<std::mutex> g(lock_);
    return log_;
}

} // namespace gfplab::stress
