// SPDX-License-Identifier: MIT
//
// gfplab-stress: multithreaded stress campaigns against one System with the oracle online.
// Workers on a oneTBB arena draw seeded operations (allocations with masks as a kernel uses
// them, frees and remote frees, page patterns, scopes, declared locks, caches behind
// shrinkers, drains) through pressure phases; every report the library makes is a violation
// unless the campaign planted the mistake on purpose, and then it must have been reported.
// Exit status: 0 no violation (and every planted mistake reported), 1 otherwise, 2 bad usage.
#include "campaign.hpp"
#include "executor.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>
#include <unistd.h>

namespace {

using namespace gfplab::stress;

constexpr std::uint64_t mib = 1ull << 20;

// "64M", "1G", "512m", "268435456": bytes; nullopt if it does not parse.
std::optional<std::uint64_t> parse_size(const std::string &text) {
    std::uint64_t v = 0;
    const char *end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || p == text.data())
        return std::nullopt;
    std::string unit(p, end);
    for (auto &ch : unit)
        ch = char(std::toupper(static_cast<unsigned char>(ch)));
    if (unit == "" || unit == "B")
        return v;
    if (unit == "K" || unit == "KB" || unit == "KIB")
        return v << 10;
    if (unit == "M" || unit == "MB" || unit == "MIB")
        return v << 20;
    if (unit == "G" || unit == "GB" || unit == "GIB")
        return v << 30;
    return std::nullopt;
}

int usage_error(const std::string &msg) {
    fmt::print(stderr, "gfplab-stress: {}\nRun with --help for the options.\n", msg);
    return 2;
}

// --replay: one operation stream (a fuzz_ops input or crash file) through the fuzzers'
// executor, so that a crash found by either harness reproduces from this binary too.
int replay(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return usage_error(fmt::format("cannot read --replay file {}", path));
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

} // namespace

int main(int argc, char **argv) {
    CLI::App app{"gfplab-stress: multithreaded stress campaigns against a gfplab System, with "
                 "the oracle (DESIGN.md I1-I16) checked online"};
    std::string scenario_name = "default", memory_text = "256M", json_path, replay_path;
    unsigned threads = 0;
    double duration = 0, checkpoint = 1.0;
    std::uint64_t ops = 0, seed = 0;
    bool list = false, no_status = false;
    app.add_option("--scenario", scenario_name, "what the campaign does (--list-scenarios)");
    auto *threads_opt = app.add_option("-t,--threads", threads,
                                       "workers (default: the cores, at least 2; oversubscribed: "
                                       "4 per core)")
                            ->check(CLI::Range(1u, 1024u));
    auto *duration_opt = app.add_option("-d,--duration", duration,
                                        "seconds to run (default 10 "
                                        "unless --ops is given)")
                             ->check(CLI::Range(0.0, 7.0 * 86400));
    auto *ops_opt = app.add_option("-n,--ops", ops, "operations over all workers (split evenly)");
    auto *seed_opt = app.add_option("-s,--seed", seed,
                                    "seed of the workers' streams (default: random, printed)");
    app.add_option("-m,--memory", memory_text,
                   "simulated memory: 64M, 1G ... (a multiple of 4M, at least 32M)");
    app.add_option("--json", json_path, "write the full report (JSON) to this file");
    app.add_option("--checkpoint", checkpoint, "seconds between quiescent checkpoints")
        ->check(CLI::Range(0.05, 3600.0));
    app.add_flag("--list-scenarios", list, "print the scenarios and exit");
    app.add_flag("--no-status", no_status, "no live status line, even on a terminal");
    app.add_option("--replay", replay_path,
                   "run one operation stream (a fuzz_ops input) instead of a campaign");
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success &e) {
        return app.exit(e);
    } catch (const CLI::ParseError &e) {
        app.exit(e);
        return 2;
    }

    if (!replay_path.empty())
        return replay(replay_path);
    if (list) {
        for (const auto &s : scenarios())
            fmt::print("{:<15} {}\n", s.name, s.summary);
        return 0;
    }
    auto sc = find_scenario(scenario_name);
    if (!sc) {
        std::string names;
        for (const auto &s : scenarios())
            names += (names.empty() ? "" : ", ") + s.name;
        return usage_error(fmt::format("unknown scenario '{}' (one of: {})", scenario_name, names));
    }
    auto memory = parse_size(memory_text);
    if (!memory)
        return usage_error(fmt::format("--memory '{}' is not a size (e.g. 64M, 1G)", memory_text));
    if (*memory < 32 * mib || *memory % (4 * mib))
        return usage_error(
            fmt::format("--memory {} must be a multiple of 4M and at least 32M", memory_text));
    if (*ops_opt && ops == 0)
        return usage_error("--ops must be at least 1");

    campaign_config c;
    c.sc = *sc;
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    c.threads = *threads_opt           ? threads
                : sc->threads_per_core ? cores * sc->threads_per_core
                                       : std::max(2u, cores);
    c.duration = *duration_opt ? duration : *ops_opt ? 0 : 10;
    c.ops = ops;
    if (c.duration == 0 && c.ops == 0)
        return usage_error("--duration 0 needs --ops: the campaign would never end");
    c.seed = *seed_opt ? seed : std::random_device{}();
    c.memory = *memory;
    c.checkpoint_every = checkpoint;

    const bool status = !no_status && isatty(STDOUT_FILENO);
    std::unique_ptr<shared_state> st;
    progress_fn progress;
    if (status)
        progress = [&](shared_state &s, double elapsed) {
            fmt::print("\r{}\x1b[K", status_line(s, elapsed, c.duration, c.ops));
            std::fflush(stdout);
        };
    fmt::print(
        "gfplab-stress: scenario {}, {} workers, {}, seed {}, {} MiB\n", c.sc.name, c.threads,
        c.duration > 0 ? fmt::format("{:g} s", c.duration) : fmt::format("{} operations", c.ops),
        c.seed, c.memory >> 20);
    std::fflush(stdout);
    const campaign_result r = run_campaign(c, progress, st);
    if (status)
        fmt::print("\r\x1b[K");
    print_summary(c, *st, r);
    if (!json_path.empty()) {
        try {
            write_json(json_path, c, *st, r);
        } catch (const std::exception &e) {
            fmt::print(stderr, "gfplab-stress: {}\n", e.what());
            return 1;
        }
    }
    return r.ok ? 0 : 1;
}
