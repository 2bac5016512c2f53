// SPDX-License-Identifier: MIT
//
// BENCHMARK_MAIN for the gfplab-only suites, except that a run that measured nothing, or
// measured a System that broke, fails: the smoke test must notice either.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>

namespace bench {

// suite: the name bench/run and summarize.py know the binary's results by.
inline int run_benchmarks(int argc, char **argv, const char *name, const char *suite,
                          const std::atomic<bool> &broken) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::AddCustomContext("backend", "gfplab");
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
