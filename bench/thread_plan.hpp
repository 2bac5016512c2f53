// SPDX-License-Identifier: MIT
//
// The thread counts the scaling benchmarks run at (gfplab-bench, the peer-bench-* binaries,
// gfplab-mix-bench), and whether their threads are pinned. Read from the command line before
// Google Benchmark sees it:
//   --threads LIST     comma-separated counts ("1,2,4"; "cpus" is the CPUs this process may
//                      use); default 1,2,4,8,16, as before these options existed
//   --max-threads N    drop counts above N (N or "cpus"); alone, the doubling series 1,2,4...
//                      below N, then N
//   --pin              thread i of a benchmark runs on the i-th allowed CPU (modulo their
//                      number) for the run; off by default: on a small machine shared with
//                      others the scheduler moves a thread off a busy CPU, a pinned one waits
// Registration therefore happens in main(), after the options are read, not at static
// initialisation.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <sched.h>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

struct thread_plan {
    std::vector<int> counts{1, 2, 4, 8, 16};
    bool pin = false;
};

// The CPUs this process may run on (its affinity mask, not the machine's count).
inline int allowed_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    return std::max(1, CPU_COUNT(&set));
}

namespace detail {

inline std::optional<int> count_of(std::string_view text) {
    if (text == "cpus")
        return allowed_cpus();
    int n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > 1024)
        return std::nullopt;
    return n;
}

// "--name VALUE" or "--name=VALUE" at argv[i]: the value (i advanced past it), or nullopt.
inline std::optional<std::string> option_value(int argc, char **argv, int &i, std::string_view name,
                                               std::string &error) {
    const std::string_view arg = argv[i];
    if (arg == name) {
        if (i + 1 >= argc) {
            error = std::string(name) + " needs a value";
            return std::nullopt;
        }
        return std::string(argv[++i]);
    }
    if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=')
        return std::string(arg.substr(name.size() + 1));
    return std::nullopt;
}

} // namespace detail

// Reads and removes --threads, --max-threads and --pin from argv. false and error on a bad
// value; plan keeps its defaults for what is not given.
inline bool parse_thread_options(int &argc, char **argv, thread_plan &plan, std::string &error) {
    std::optional<std::vector<int>> listed;
    std::optional<int> max;
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--pin") {
            plan.pin = true;
            continue;
        }
        if (arg.starts_with("--threads")) {
            const auto value = detail::option_value(argc, argv, i, "--threads", error);
            if (!error.empty())
                return false;
            if (value) {
                listed.emplace();
                std::string_view rest = *value;
                while (true) {
                    const std::size_t comma = rest.find(',');
                    const auto n = detail::count_of(rest.substr(0, comma));
                    if (!n) {
                        error = "--threads wants counts from 1 to 1024 or \"cpus\", "
                                "comma-separated: '" +
                                *value + "'";
                        return false;
                    }
                    listed->push_back(*n);
                    if (comma == std::string_view::npos)
                        break;
                    rest.remove_prefix(comma + 1);
                }
                continue;
            }
        }
        if (arg.starts_with("--max-threads")) {
            const auto value = detail::option_value(argc, argv, i, "--max-threads", error);
            if (!error.empty())
                return false;
            if (value) {
                max = detail::count_of(*value);
                if (!max) {
                    error =
                        "--max-threads wants a count from 1 to 1024 or \"cpus\": '" + *value + "'";
                    return false;
                }
                continue;
            }
        }
        argv[kept++] = argv[i];
    }
    argc = kept;
    argv[argc] = nullptr;
    if (listed) {
        plan.counts = *listed;
    } else if (max) {
        plan.counts.clear();
        for (int n = 1; n < *max; n *= 2)
            plan.counts.push_back(n);
        plan.counts.push_back(*max);
    }
    if (max)
        std::erase_if(plan.counts, [&](int n) { return n > *max; });
    std::sort(plan.counts.begin(), plan.counts.end());
    plan.counts.erase(std::unique(plan.counts.begin(), plan.counts.end()), plan.counts.end());
    if (plan.counts.empty()) {
        error = "--threads and --max-threads leave no thread count";
        return false;
    }
    return true;
}

// Pins the calling benchmark thread for one run and restores its mask afterwards (thread 0
// is the main thread, which runs every benchmark).
class pin_guard {
  public:
    pin_guard(bool pin, int thread_index) {
        if (!pin || sched_getaffinity(0, sizeof saved_, &saved_) != 0)
            return;
        const int allowed = CPU_COUNT(&saved_);
        if (allowed == 0)
            return;
        int wanted = thread_index % allowed;
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (!CPU_ISSET(cpu, &saved_) || wanted-- > 0)
                continue;
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            pinned_ = sched_setaffinity(0, sizeof one, &one) == 0;
            break;
        }
    }
    ~pin_guard() {
        if (pinned_)
            sched_setaffinity(0, sizeof saved_, &saved_);
    }
    pin_guard(const pin_guard &) = delete;
    pin_guard &operator=(const pin_guard &) = delete;

  private:
    cpu_set_t saved_{};
    bool pinned_ = false;
};

// Registers fn under name, run at every count of the plan (pinned if asked).
template <typename Fn>
benchmark::internal::Benchmark *register_threaded(const std::string &name, Fn fn,
                                                  const thread_plan &plan) {
    auto *b =
        benchmark::RegisterBenchmark(name.c_str(), [fn, pin = plan.pin](benchmark::State &st) {
            pin_guard guard(pin, st.thread_index());
            fn(st);
        });
    for (int n : plan.counts)
        b->Threads(n);
    return b;
}

// The CLI help for these options, for a binary's --help.
inline constexpr const char *thread_options_help =
    "  --threads LIST      thread counts of the scaling benchmarks, comma-separated, \"cpus\" "
    "for\n"
    "                      the CPUs this process may use (default 1,2,4,8,16)\n"
    "  --max-threads N     drop counts above N (or \"cpus\"); alone: 1,2,4... up to N\n"
    "  --pin               pin thread i to the i-th allowed CPU while it runs (default off:\n"
    "                      on a small shared machine a pinned thread waits behind whatever\n"
    "                      else runs on its CPU instead of moving)\n";

} // namespace bench
