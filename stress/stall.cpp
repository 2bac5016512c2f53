// SPDX-License-Identifier: MIT
//
// stress/stall.cpp - the stall verdict: what every worker was doing when no operation had
// completed for --stall-timeout seconds, as text and as the JSON report (docs/oracle.md,
// gfplab-stress exit status 4).
#include "output.hpp"
#include "worker.hpp"

#include <gfplab/gfp.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/version.hpp>

#include <fmt/format.h>

#include <chrono>

namespace gfplab::stress {
namespace {

struct worker_state {
    unsigned id;
    std::string what;   // the operation (and the plugin's, inside one)
    double for_seconds; // since it started
    std::string alloc;  // the page allocation in flight, or ""
    std::string scopes; // the harness's open scopes
    std::uint64_t op;
};

std::vector<worker_state> states(shared_state &st) {
    const long long now = std::chrono::steady_clock::now().time_since_epoch().count();
    std::vector<worker_state> out;
    for (unsigned i = 0; i < st.workers.size(); i++) {
        const worker_activity &a = st.workers[i]->activity();
        worker_state w{i, std::string(op_name(op_kind(a.kind.load()))), 0, "", "", a.op.load()};
        const long long since = a.since_ns.load();
        w.for_seconds = since ? double(now - since) / 1e9 : 0;
        if (const char *wl = a.workload.load())
            w.what += fmt::format(" {}/{}", wl, a.workload_op.load());
        if (const gfp_t gfp = a.gfp.load())
            w.alloc = fmt::format("{} order {}", gfp_describe(gfp), a.order.load());
        const unsigned flags = a.task_flags.load();
        w.scopes = flags
                       ? fmt::format("{} (depth {})", task_flags_name(flags), a.scope_depth.load())
                       : "none";
        out.push_back(std::move(w));
    }
    return out;
}

} // namespace

void print_stall(shared_state &st, double stalled, bool panicked) {
    const auto &s = st.sys.stats();
    if (panicked)
        fmt::print(stderr, "gfplab-stress: PANIC: out of memory with nothing left to kill (6.12 "
                           "panics: \"System is deadlocked on memory\"); what every worker was "
                           "doing:\n");
    else
        fmt::print(stderr,
                   "gfplab-stress: STALLED: no operation completed for {:.1f} s; what every "
                   "worker was doing:\n",
                   stalled);
    for (const auto &w : states(st))
        fmt::print(stderr, "  worker {}: op {} {} for {:.1f} s{}, scopes {}\n", w.id, w.op, w.what,
                   w.for_seconds, w.alloc.empty() ? "" : ", allocating " + w.alloc, w.scopes);
    fmt::print(stderr,
               "  reclaim: slow path {}, direct reclaim {} calls ({} pages), OOM {} invocations, "
               "{} kills, {} panics; allocation stalls logged {}; watchdog GFP_KERNEL allocations "
               "{}\n",
               s.slowpath.load(), s.allocstall_total(), s.direct_reclaimed.load(),
               s.oom_invocations.load(), s.oom_kill.load(), s.oom_panics.load(),
               st.orc.stalls.load(), st.orc.watchdog_allocations.load());
    fmt::print(stderr, "  {}\n", status_line(st, 0, 0, 0));
    for (const auto &line : st.orc.recent_log())
        fmt::print(stderr, "  log: {}", line.ends_with('\n') ? line : line + "\n");
    if (panicked)
        fmt::print(stderr, "  (every OOM victim was killed and memory is still short: what is "
                           "held is held by no victim, e.g. a leak; exit status 5)\n");
    else
        fmt::print(stderr,
                   "  (a leak or a caller that holds memory while it loops in a small NOFS/NOIO "
                   "allocation, which never OOM-kills, stalls every worker; exit status 4)\n");
}

void write_stall_json(std::ostream &out, const campaign_config &c, shared_state &st, double stalled,
                      bool panicked) {
    using nlohmann::json;
    json workers = json::array();
    for (const auto &w : states(st))
        workers.push_back({{"worker", w.id},
                           {"op", w.op},
                           {"doing", w.what},
                           {"for_seconds", w.for_seconds},
                           {"allocating", w.alloc},
                           {"scopes", w.scopes}});
    const auto &s = st.sys.stats();
    json violations = json::array();
    for (const auto &v : st.orc.violations())
        violations.push_back({{"id", fmt::format("I{}", id(v.v.inv))}, {"message", v.v.message}});
    const json doc = {
        {"program", "gfplab-stress"},
        {"format_version", 2},
        {"gfplab_version", version()},
        {"git_revision", git_revision()},
        {"config", {{"scenario", c.sc.name}, {"threads", c.threads}, {"seed", c.seed}}},
        {"stalled", !panicked},
        {"panicked", panicked},
        {"stalled_seconds", stalled},
        {"workers", workers},
        {"reclaim",
         {{"slowpath", s.slowpath.load()},
          {"direct_reclaim", s.allocstall_total()},
          {"direct_reclaimed", s.direct_reclaimed.load()},
          {"oom_invocations", s.oom_invocations.load()},
          {"oom_kills", s.oom_kill.load()},
          {"oom_panics", s.oom_panics.load()},
          {"allocation_stalls_logged", st.orc.stalls.load()},
          {"watchdog_allocations", st.orc.watchdog_allocations.load()}}},
        {"log", st.orc.recent_log()},
        {"violation_count", st.orc.violation_count()},
        {"violations", violations},
        {"ok", false},
        {"verdict",
         json::array({panicked ? std::string("panicked: out of memory with nothing to kill")
                               : fmt::format("stalled: no operation for {:.1f} s", stalled)})},
    };
    out << doc.dump(2) << '\n';
}

} // namespace gfplab::stress
