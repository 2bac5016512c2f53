// SPDX-License-Identifier: MIT
//
// BENCHMARK_MAIN for the gfplab-only suites, except that a run that measured nothing, or
// measured a System that broke, fails: the smoke test must notice either. --buddy
// (buddy_option.hpp) chooses the page-frame backend of the binary's Systems.
#pragma once

#include "buddy_option.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <string_view>

namespace bench {

// suite: the name bench/run and summarize.py know the binary's results by.
inline int run_benchmarks(int argc, char **argv, const char *name, const char *suite,
                          const std::atomic<bool> &broken) {
    std::string error;
    if (!parse_buddy_option(argc, argv, error)) {
        std::fprintf(stderr, "%s: %s\n", name, error.c_str());
        return 2;
    }
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--help")
            std::fputs(buddy_option_help, stdout);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::AddCustomContext("backend", gfplab_run_name());
    benchmark::AddCustomContext("buddy", buddy_choice_name());
    benchmark::AddCustomContext("suite", suite);
    const std::size_t ran = benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (ran == 0) {
        std::fprintf(stderr, "%s: no benchmark matched the filter\n", name);
        return 1;
    }
    return broken ? 1 : 0;
}

} // namespace bench
