// SPDX-License-Identifier: MIT
//
// gfplab-stress: multithreaded stress campaigns against one System with the oracle online.
// Workers on a oneTBB arena draw seeded operations (allocations with masks as a kernel uses
// them, frees and remote frees, page patterns, scopes, declared locks, caches behind
// shrinkers, the page cache, drains) through pressure phases; every report the library makes
// is a violation unless the campaign planted the mistake on purpose, and then it must have
// been reported. Exit status: 0 no violation (and every planted mistake reported), 1
// otherwise, 2 bad usage (a workload plugin that cannot be used included), 3 an output file
// that cannot be written (checked before the campaign starts, and again at the end), 4 the
// campaign stalled (no operation completed for --stall-timeout seconds).
//
// main() is three steps, each its own function, so that a new mode (another source of
// operations, another output) adds an option and a branch without reshaping the rest:
// parse the command line, resolve it against the scenario (preset or file), run. A run is
// one campaign per per-CPU mode unless a mode was chosen (stress/rotation.hpp), its outputs
// covering them all.
#include "campaign.hpp"
#include "executor.hpp"
#include "knobs.hpp"
#include "output.hpp"
#include "output_file.hpp"
#include "rotation.hpp"
#include "scenario_file.hpp"
#include "timeline.hpp"

#include <gfplab/memparse.hpp>
#include <gfplab/trace.hpp>
#include <gfplab/version.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <sys/ioctl.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace gfplab::stress;

constexpr std::uint64_t mib = 1ull << 20;

// What the command line said, before it is checked against the scenario.
struct options {
    std::string scenario_name = "default", scenario_file, memory_text, json_path;
    std::string weights, orders, pcp_mode, memcg_limit, sysctl, buddy;
    std::string timeline, plot, trace_events, replay, vmstat, ftrace;
    std::vector<std::string> workloads;
    bool only_workloads = false;
    double slow_alloc_us = 1000;
    unsigned threads = 0, nodes = 0, cpus = 0;
    double duration = 0, checkpoint = 1.0, invalid_share = 0, mismatch_share = 0;
    double progress = 10, stall_timeout = 30;
    std::uint64_t ops = 0, seed = 0, checkpoint_ops = 0;
    bool list = false, print = false, no_status = false, no_kswapd = false;
    // Which of them were given (the command line overrides the file, the file the preset).
    CLI::Option *threads_opt, *duration_opt, *ops_opt, *seed_opt, *memory_opt, *checkpoint_opt,
        *checkpoint_ops_opt, *invalid_opt, *mismatch_opt, *nodes_opt, *cpus_opt, *scenario_opt;
};

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void add_options(CLI::App &app, options &o) {
    // The last of a repeated option wins: scripts put defaults first and pass the user's on.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    o.scenario_opt = app.add_option("--scenario", o.scenario_name,
                                    "the preset the campaign starts from (--list-scenarios)");
    app.add_option("--scenario-file", o.scenario_file,
                   "a TOML scenario (every knob; `base = NAME` picks the preset it starts from); "
                   "the options below override it");
    o.threads_opt = app.add_option("-t,--threads", o.threads,
                                   "workers (default: the cores, at least 2; oversubscribed: "
                                   "4 per core)")
                        ->check(CLI::Range(1u, 1024u));
    o.duration_opt = app.add_option("-d,--duration", o.duration,
                                    "seconds to run (default 10 unless --ops is given)")
                         ->check(CLI::Range(0.0, 7.0 * 86400));
    o.ops_opt = app.add_option("-n,--ops", o.ops, "operations over all workers (split evenly)");
    o.seed_opt = app.add_option("-s,--seed", o.seed,
                                "seed of the workers' streams (default: random, printed)");
    o.memory_opt = app.add_option("-m,--memory", o.memory_text,
                                  "simulated memory: 64M, 1G ... (a multiple of 4M per node, at "
                                  "least 32M per node; default 256M)");
    app.add_option("--json", o.json_path,
                   "write the full report (JSON) to this file, - for standard output (the "
                   "summary then goes to standard error)");
    o.checkpoint_opt = app.add_option("--checkpoint", o.checkpoint,
                                      "seconds between quiescent checkpoints (default 1)")
                           ->check(CLI::Range(0.05, 3600.0));
    o.checkpoint_ops_opt = app.add_option(
        "--checkpoint-ops", o.checkpoint_ops,
        "end each epoch (checkpoint, scopes closed, holdings trimmed) after this many "
        "operations per worker instead of by time: with --no-kswapd and one worker on "
        "one virtual CPU the whole report then replays from the seed");
    app.add_option("--weights", o.weights,
                   "op weights in every phase, e.g. alloc=400,free=150 (ops: alloc, free, "
                   "handoff, remote_free, touch, scope_enter, scope_leave, lock_section, "
                   "cache_fill, shrinker, drain, slab, workload; ops not named keep the "
                   "scenario's)");
    app.add_option("--orders", o.orders,
                   "the order distribution, e.g. 0=600,3=80,9=20 (orders 0..10; orders not "
                   "named get 0)");
    o.invalid_opt = app.add_option("--invalid-share", o.invalid_share,
                                   "share of allocations that are planted invalid requests "
                                   "(each must be refused with I16)")
                        ->check(CLI::Range(0.0, 1.0));
    o.mismatch_opt = app.add_option("--mismatch-share", o.mismatch_share,
                                    "share of scope restores made out of order on purpose (each "
                                    "must be reported)")
                         ->check(CLI::Range(0.0, 1.0));
    o.nodes_opt = app.add_option("--nodes", o.nodes, "simulated NUMA nodes (1..8)")
                      ->check(CLI::Range(1u, 8u));
    o.cpus_opt = app.add_option("--cpus", o.cpus, "simulated CPUs (0: the host's)")
                     ->check(CLI::Range(0u, 1024u));
    app.add_option("--pcp-mode", o.pcp_mode,
                   "how threads reach per-CPU lists: rotate (the default: the time or --ops "
                   "split into one run per mode, rseq, locked and virtual, each on a fresh "
                   "System), or one mode for the whole run: automatic, rseq, locked, or virtual "
                   "(worker i runs on virtual CPU i mod --cpus)");
    app.add_option("--buddy", o.buddy,
                   "the page-frame backend below the per-CPU lists: kernel (6.12's buddy "
                   "allocator under zone->lock), lockfree (a non-blocking one, "
                   "docs/backends.md), or automatic (GFPLAB_BUDDY, else kernel; the default)");
    app.add_option("--sysctl", o.sysctl,
                   "vm sysctls the machine boots with, as sysctl -w takes them: "
                   "vm.min_free_kbytes=8192,vm.watermark_scale_factor=100 (also "
                   "watermark_boost_factor, percpu_pagelist_high_fraction, and "
                   "lowmem_reserve_ratio='256 256 32 0')");
    app.add_option("--memcg-limit", o.memcg_limit,
                   "charge __GFP_ACCOUNT allocations to named groups limited to SIZE each "
                   "(e.g. 8M; charges over the limit fail, as expected)");
    app.add_option("--vmstat", o.vmstat,
                   "write the end-of-run statistics in the kernel's shapes to this file (- for "
                   "standard output), each section after a '# /proc/NAME' line: /proc/vmstat "
                   "(6.12's counter names, then gfplab_* ones), /proc/zoneinfo, kswapd, "
                   "shrinkers and memcgs, /proc/slabinfo, then /proc/buddyinfo");
    app.add_option("--timeline", o.timeline,
                   "write a CSV sampled 4 times a second: free pages and min/low/high per zone, "
                   "kswapd, reclaim, shrinker and OOM counts");
    app.add_option("--plot", o.plot,
                   "draw the timeline with gnuplot to FILE.svg or FILE.png: a panel per zone, "
                   "free pages against min/low/high on a log axis, reclaim and OOM marks, one "
                   "legend for all panels");
    app.add_option("--trace-events", o.trace_events,
                   "write Chrome trace-event JSON (Perfetto): slow allocations, reclaim, "
                   "shrinker calls, kswapd rounds, violations, checkpoints");
    app.add_option("--trace", o.ftrace,
                   "write the library's tracepoints as the kernel's trace_pipe prints them to "
                   "this file (- for standard output) while the campaign runs: kmem:mm_page_alloc, "
                   "mm_page_free, mm_page_pcpu_drain, mm_page_alloc_zone_locked, vmscan's direct "
                   "reclaim, kswapd and shrink_slab events, oom:mark_victim (docs/tracing.md); "
                   "every allocation is a line, so keep such runs short");
    app.add_option("--slow-alloc-us", o.slow_alloc_us,
                   "allocations slower than this many microseconds go into --trace-events "
                   "(default 1000)")
        ->check(CLI::Range(0.0, 1e9));
    app.add_flag("--list-scenarios", o.list, "describe the presets and exit");
    app.add_flag("--print-scenario", o.print,
                 "print the effective scenario as TOML (a start for --scenario-file) and exit");
    app.add_flag("--no-status", o.no_status,
                 "no live status line on a terminal, no progress lines off one");
    app.add_option("--stall-timeout", o.stall_timeout,
                   "seconds without a completed operation (workers running) before the campaign "
                   "is declared stalled: it prints what every worker is doing, writes it to "
                   "--json and exits 4 (0: never; default 30)")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--progress", o.progress,
                   "off a terminal, print a progress line every this many seconds (0: none; "
                   "default 10)")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_flag("--no-kswapd", o.no_kswapd,
                 "no background reclaim thread, nor kvfree_rcu's monitor thread (its batches "
                 "are freed by its shrinker and at the end): a one-worker run is then a pure "
                 "function of its seed, report included");
    app.add_option("--workload", o.workloads,
                   "load a workload plugin (PATH.so, or PATH.so,ARGS to pass ARGS to its "
                   "init): kernel-style code built against <gfplab/workload.h> whose "
                   "operations the workers run beside the built-in mix (docs/plugins.md); "
                   "repeatable")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
    app.add_flag("--only-workloads", o.only_workloads,
                 "run the plugins' operations instead of the built-in mix, keeping what puts "
                 "them under test: page allocations holding memory near the watermarks and "
                 "random scope nesting");
    app.add_option("--replay", o.replay,
                   "run one operation stream (a fuzz_ops input or crash file) through the "
                   "fuzzers' executor instead of a campaign");
}

// --replay: one operation stream (a fuzz_ops input or crash file) through the fuzzers'
// executor, so that a crash found by either harness reproduces from this binary too.
int replay(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fmt::print(stderr, "gfplab-stress: cannot read --replay file {}\n", path);
        return 2;
    }
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                          std::istreambuf_iterator<char>());
    const auto f = gfplab::fuzz::execute_ops(bytes.data(), bytes.size());
    if (!f) {
        fmt::print("gfplab-stress: replay of {}: ok\n", path);
        return 0;
    }
    fmt::print("gfplab-stress: replay of {}: VIOLATION {}\n", path,
               gfplab::fuzz::format_failure(*f));
    return 1;
}

// The preset or file, then the command line on top: the campaign to run.
campaign_config resolve(const options &o, run_settings &run) {
    scenario sc;
    if (!o.scenario_file.empty()) {
        if (*o.scenario_opt)
            throw usage_error("--scenario and --scenario-file: give one (the file's `base` "
                              "names its preset)");
        try {
            sc = load_scenario_file(o.scenario_file, run);
        } catch (const scenario_file_error &e) {
            throw usage_error(e.what());
        }
    } else {
        auto found = find_scenario(o.scenario_name);
        if (!found) {
            std::string names;
            for (const auto &s : scenarios())
                names += (names.empty() ? "" : ", ") + s.name;
            throw usage_error(
                fmt::format("unknown scenario '{}' (one of: {})", o.scenario_name, names));
        }
        sc = *found;
    }
    if (!o.weights.empty())
        if (auto e = apply_weights(sc, o.weights); !e.empty())
            throw usage_error("--weights: " + e);
    if (!o.orders.empty())
        if (auto e = apply_orders(sc, o.orders); !e.empty())
            throw usage_error("--orders: " + e);
    if (*o.invalid_opt)
        sc.invalid_masks = o.invalid_share;
    if (*o.mismatch_opt)
        sc.scope_mismatch = o.mismatch_share;
    if (*o.nodes_opt)
        sc.nodes = o.nodes;
    if (o.no_kswapd)
        sc.kswapd = false;
    if (*o.cpus_opt)
        sc.cpus = o.cpus;
    if (!o.pcp_mode.empty() && !set_pcp_mode(sc, o.pcp_mode))
        throw usage_error(fmt::format("--pcp-mode '{}': one of {}", o.pcp_mode, pcp_mode_choices));
    if (!o.buddy.empty()) {
        const auto b = gfplab::parse_buddy_backend(o.buddy);
        if (!b)
            throw usage_error(
                fmt::format("--buddy '{}': one of automatic, kernel, lockfree", o.buddy));
        sc.buddy = *b;
    }
    if (!o.sysctl.empty())
        if (auto e = apply_sysctls(sc.vm, o.sysctl); !e.empty())
            throw usage_error("--sysctl: " + e);
    if (!o.memcg_limit.empty()) {
        auto v = gfplab::memparse(o.memcg_limit);
        if (!v)
            throw usage_error(
                fmt::format("--memcg-limit '{}' is not a size (e.g. 8M)", o.memcg_limit));
        sc.memcg_limit = *v;
    }
    if (o.only_workloads && o.workloads.empty())
        throw usage_error("--only-workloads needs at least one --workload");
    if (!o.workloads.empty())
        with_workloads(sc, o.only_workloads);
    if (sc.invalid_masks + sc.random_masks > 1)
        throw usage_error("invalid and random mask shares add up to more than 1");
    if (sc.pcp == gfplab::pcp_mode::virtual_cpus && sc.cpus == 0)
        sc.cpus = std::max(1u, std::thread::hardware_concurrency());

    if (*o.threads_opt)
        run.threads = o.threads;
    if (*o.duration_opt)
        run.duration = o.duration;
    if (*o.ops_opt) {
        if (o.ops == 0)
            throw usage_error("--ops must be at least 1");
        run.ops = o.ops;
    }
    if (*o.seed_opt)
        run.seed = o.seed;
    if (*o.checkpoint_opt)
        run.checkpoint = o.checkpoint;
    if (*o.checkpoint_ops_opt)
        run.checkpoint_ops = o.checkpoint_ops;
    if (*o.memory_opt) {
        auto m = gfplab::memparse(o.memory_text);
        if (!m)
            throw usage_error(
                fmt::format("--memory '{}' is not a size (e.g. 64M, 1G)", o.memory_text));
        run.memory = *m;
    }

    campaign_config c;
    c.sc = sc;
    c.memory = run.memory.value_or(256 * mib);
    if (c.memory < 32 * mib * sc.nodes || c.memory % (4 * mib * sc.nodes))
        throw usage_error(fmt::format("memory {} MiB on {} node(s) must be a multiple of 4M per "
                                      "node and at least 32M per node",
                                      c.memory >> 20, sc.nodes));
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    c.threads = run.threads           ? *run.threads
                : sc.threads_per_core ? cores * sc.threads_per_core
                                      : std::max(2u, cores);
    c.ops = run.ops.value_or(0);
    c.duration = run.duration ? *run.duration : c.ops ? 0 : 10;
    if (c.duration == 0 && c.ops == 0)
        throw usage_error("--duration 0 needs --ops: the campaign would never end");
    c.seed = run.seed ? *run.seed : std::random_device{}();
    c.checkpoint_every = run.checkpoint.value_or(1.0);
    c.checkpoint_ops = run.checkpoint_ops.value_or(0);
    c.slow_alloc_ns = std::uint64_t(o.slow_alloc_us * 1000);
    c.stall_timeout = o.stall_timeout;
    c.tracing = !o.trace_events.empty();
    if (!o.plot.empty())
        if (auto e = plot_problem(o.plot); !e.empty())
            throw usage_error(e);
    return c;
}

// Exit statuses (docs/oracle.md).
enum exit_status { ok = 0, found = 1, usage = 2, io_error = 3, stalled = 4, panicked = 5 };

int run(const options &o, const campaign_config &c) {
    // Every output first: a path that cannot be written ends the run before it starts.
    std::unique_ptr<output_file> json, trace, plot, vmstat;
    std::unique_ptr<stream_output> ftrace_out;
    std::unique_ptr<gfplab::ftrace_text_sink> ftrace;
    std::unique_ptr<timeline> tl;
    try {
        int dashes = int(o.json_path == "-") + int(o.trace_events == "-") + int(o.vmstat == "-") +
                     int(o.ftrace == "-");
        if (o.timeline == "-" || o.plot == "-")
            throw output_error("--timeline and --plot need a file name, not -");
        if (dashes > 1)
            throw output_error(
                "only one of --json, --trace-events, --vmstat and --trace can be - (standard "
                "output)");
        if (!o.json_path.empty())
            json = std::make_unique<output_file>(o.json_path);
        if (!o.trace_events.empty())
            trace = std::make_unique<output_file>(o.trace_events);
        if (!o.vmstat.empty())
            vmstat = std::make_unique<output_file>(o.vmstat);
        if (!o.ftrace.empty()) {
            ftrace_out = std::make_unique<stream_output>(o.ftrace);
            ftrace = std::make_unique<gfplab::ftrace_text_sink>(ftrace_out->fd());
        }
        if (!o.plot.empty())
            plot = std::make_unique<output_file>(o.plot); // gnuplot overwrites it at the end
        if (!o.timeline.empty() || !o.plot.empty())
            tl = std::make_unique<timeline>(o.timeline.empty() ? o.plot + ".csv" : o.timeline);
    } catch (const std::exception &e) {
        fmt::print(stderr, "gfplab-stress: {}\n", e.what());
        return io_error;
    }
    const bool status = !o.no_status && isatty(STDOUT_FILENO);
    // Off a terminal, a progress line every --progress seconds (CI logs, nohup runs).
    const double every = !o.no_status && !status ? o.progress : 0;
    double next_progress = every;
    // One run, or one per per-CPU mode (stress/rotation.hpp), each on its own System: the
    // outputs cover them all, the timeline and trace on one clock.
    std::vector<pcp_phase> phases = plan_pcp_phases(c);
    for (pcp_phase &p : phases)
        p.cfg.tracepoint_sink = ftrace.get();
    const campaign_config *cur = &phases.front().cfg;
    double offset = 0; // seconds the runs before this one took
    std::unique_ptr<shared_state> st;
    progress_fn progress;
    if (status || tl || every > 0)
        progress = [&](shared_state &s, double phase_elapsed) {
            const double elapsed = offset + phase_elapsed;
            if (tl)
                tl->sample(s, elapsed);
            if (status) {
                // One line whatever the terminal's width (a wrapped line would scroll).
                std::string line = status_line(s, elapsed, c.duration, c.ops);
                winsize ws{};
                if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
                    line.size() >= ws.ws_col)
                    line.resize(ws.ws_col - 1);
                fmt::print("\r{}\x1b[K", line);
                std::fflush(stdout);
            } else if (every > 0 && elapsed >= next_progress) {
                next_progress = elapsed + every;
                fmt::print("progress: {}\n", status_line(s, elapsed, c.duration, c.ops));
                std::fflush(stdout);
            }
        };
    std::string modes;
    if (phases.size() > 1)
        for (const auto &p : phases)
            modes += fmt::format("{}{}", modes.empty() ? ", per-CPU modes " : " then ",
                                 pcp_mode_name(p.cfg.sc.pcp));
    fmt::print(
        "gfplab-stress: scenario {}, {} workers, {}, seed {}, {} MiB{}\n", c.sc.name, c.threads,
        c.duration > 0 ? fmt::format("{:g} s", c.duration) : fmt::format("{} operations", c.ops),
        c.seed, c.memory >> 20, modes);
    if (c.workloads)
        for (const auto &p : c.workloads->plugins())
            fmt::print("gfplab-stress: workload {} ({}{}){}\n", p.desc->name, p.path,
                       p.args.empty() ? "" : ", " + p.args,
                       p.desc->description ? fmt::format(": {}", p.desc->description) : "");
    std::fflush(stdout);
    // Stuck workers cannot be stopped: report what they do, write the JSON, and end here.
    const stall_fn on_stall = [&](shared_state &s, double seconds, bool panic) {
        if (status)
            fmt::print("\r\x1b[K");
        std::fflush(stdout);
        print_stall(s, seconds, panic);
        int rc = panic ? panicked : stalled;
        if (ftrace) // what the tracepoints said up to the stall (the workers may add more)
            ftrace->flush();
        if (json) {
            try {
                write_stall_json(json->stream(), *cur, s, seconds, panic);
                json->close();
            } catch (const std::exception &e) {
                fmt::print(stderr, "gfplab-stress: {}\n", e.what());
                rc = io_error;
            }
        }
        std::fflush(stdout);
        std::fflush(stderr);
        std::_Exit(rc);
    };
    campaign_result r;
    std::vector<nlohmann::json> reports, traces;
    for (std::size_t i = 0; i < phases.size(); i++) {
        pcp_phase &p = phases[i];
        cur = &p.cfg;
        st.reset(); // the run before this one's System goes first
        campaign_result one;
        try {
            one = run_campaign(p.cfg, progress, on_stall, st);
        } catch (const workload_error &e) {
            fmt::print(stderr, "gfplab-stress: {}\n", e.what());
            return usage;
        }
        if (status)
            fmt::print("\r\x1b[K");
        p.lists = pcp_lists_name(p.cfg, st->sys);
        p.cpus = st->sys.nr_cpus();
        p.seconds = one.seconds;
        p.ops = one.ops;
        p.violations = st->orc.violation_count();
        p.ok = one.ok;
        if (phases.size() > 1)
            fmt::print("run {} of {}: per-CPU lists {}, seed {}\n", i + 1, phases.size(), p.lists,
                       p.cfg.seed);
        print_summary(p.cfg, *st, one, phases.size() == 1);
        if (json)
            reports.push_back(report_json(p.cfg, *st, one));
        if (trace)
            traces.push_back(trace_events_document(*st));
        offset += one.seconds;
        merge_result(r, one, phases.size() > 1 ? pcp_mode_name(p.cfg.sc.pcp) : "");
    }
    if (phases.size() > 1) {
        finish_rotation(c, r);
        print_rotation(c, phases, r);
    }
    try {
        if (json) {
            json->stream() << merge_reports(report_json(c, *st, r), reports, phases).dump(2)
                           << '\n';
            json->close();
        }
        if (tl) {
            tl->sample(*st, r.seconds);
            tl->close();
            if (!o.timeline.empty())
                fmt::print("timeline: {} ({} samples)\n", o.timeline, tl->samples());
        }
        if (vmstat) {
            vmstat->stream() << format_vmstat(r.vmstat);
            vmstat->close();
        }
        if (ftrace) {
            // The last System's kswapd may still be at work: no more events, then the file.
            st->sys.set_trace_sink(nullptr);
            ftrace->finish();
            const std::uint64_t lines = ftrace->lines();
            ftrace_out->close(ftrace->error());
            fmt::print("trace: {} ({} lines)\n", o.ftrace, lines);
        }
        if (trace) {
            const auto doc = merge_trace_documents(traces, phases);
            trace->stream() << doc.dump() << '\n';
            trace->close();
            fmt::print("trace events: {} ({} events)\n", o.trace_events, doc["traceEvents"].size());
        }
        if (plot) {
            plot->close();
            plot_timeline(tl->path(), o.plot, c.sc.name);
            fmt::print("plot: {}\n", o.plot);
            if (o.timeline.empty())
                std::remove(tl->path().c_str());
        }
    } catch (const std::exception &e) {
        fmt::print(stderr, "gfplab-stress: {}\n", e.what());
        return io_error;
    }
    return r.ok ? ok : found;
}

} // namespace

int main(int argc, char **argv) {
    CLI::App app{"gfplab-stress: multithreaded stress campaigns against a gfplab System, with "
                 "the oracle I1-I21 checked online.\nExit status: 0 clean, 1 a violation, 2 "
                 "bad usage, 3 an output that cannot be written, 4 stalled, 5 panicked (OOM with "
                 "nothing to kill). Invariants and statuses: "
                 "docs/oracle.md; workload plugins: docs/plugins.md"};
    options o;
    add_options(app, o);
    app.set_version_flag("--version", gfplab::version_string("gfplab-stress"));
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success &e) {
        return app.exit(e);
    } catch (const CLI::ParseError &e) {
        app.exit(e);
        return 2;
    }
    if (!o.replay.empty())
        return replay(o.replay);
    if (o.list) {
        for (const auto &s : scenarios())
            fmt::print("{:<15} {}\n", s.name, s.summary);
        fmt::print("{:<15} {}\n", "wrong-caller", "the old name of nofs-deadlock");
        return 0;
    }
    run_settings settings;
    campaign_config c;
    try {
        c = resolve(o, settings);
    } catch (const usage_error &e) {
        fmt::print(stderr, "gfplab-stress: {}\nRun with --help for the options.\n", e.what());
        return 2;
    }
    if (o.print) {
        settings.memory = c.memory;
        fmt::print("{}", scenario_toml(c.sc, settings));
        return 0;
    }
    std::unique_ptr<workload_set> workloads;
    if (!o.workloads.empty()) {
        try {
            workloads = std::make_unique<workload_set>(o.workloads);
        } catch (const workload_error &e) {
            fmt::print(stderr, "gfplab-stress: {}\n", e.what());
            return 2;
        }
        c.workloads = workloads.get();
    }
    return run(o, c);
}
