// SPDX-License-Identifier: MIT
//
// gfplab-latency-bench: how long one allocation takes, as percentiles, for GFP_ATOMIC and
// GFP_KERNEL on a machine whose free memory a second thread holds at the min watermark
// while kswapd works to raise it (pressure:1), and on the same machine left alone
// (pressure:0). An atomic caller cannot sleep, so its tail is what matters: it must not pay
// for reclaim. gfplab only: the peers have no watermarks, reserves or reclaim to measure.
//
// Thread 0 is the measured caller; thread 1 is the pressure (or idles). Each sample is one
// alloc_pages() call timed with steady_clock, which itself costs some tens of ns here: the
// low percentiles are an upper bound, the tail is not distorted by it.
#include "bench_main.hpp"
#include "pressure.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

constexpr std::uint64_t machine_bytes = 64ull << 20;

bench::pressure_machine machine;
std::atomic<bool> broken{false};

void setup(const benchmark::State &state) {
    machine = bench::make_pressure_machine(machine_bytes, gfplab::pcp_mode::automatic);
    if (state.range(0))
        bench::fill_to_min(machine);
}

void teardown(const benchmark::State &) {
    if (!bench::retire_pressure_machine(machine, "gfplab-latency-bench"))
        broken = true;
}

double percentile(std::vector<double> &sorted, double q) {
    if (sorted.empty())
        return 0;
    const std::size_t i = std::min(sorted.size() - 1, std::size_t(q * double(sorted.size())));
    return sorted[i];
}

void measured(benchmark::State &state, gfp_t gfp) {
    gfplab::System &sys = *machine.sys;
    std::vector<double> ns;
    ns.reserve(1 << 20);
    std::int64_t failures = 0;
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        gfplab::page *p = sys.alloc_pages(gfp, 0);
        const auto t1 = std::chrono::steady_clock::now();
        ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
        if (p)
            sys.free_pages(p, 0);
        else
            failures++;
    }
    std::sort(ns.begin(), ns.end());
    state.counters["p50_ns"] = percentile(ns, 0.50);
    state.counters["p99_ns"] = percentile(ns, 0.99);
    state.counters["p99.9_ns"] = percentile(ns, 0.999);
    state.counters["max_ns"] = ns.empty() ? 0 : ns.back();
    state.counters["failures"] = double(failures);
    state.counters["samples"] = double(ns.size());
    state.SetItemsProcessed(state.iterations());
}

// Keeps free memory at the min watermark: GFP_NOWAIT fills until it fails there and wakes
// kswapd, whose reclaim (through the pool's shrinker) the next fills take back.
void pressure(benchmark::State &state) {
    gfplab::System &sys = *machine.sys;
    const bool on = state.range(0) != 0;
    for (auto _ : state) {
        if (!on)
            continue;
        if (gfplab::page *p = sys.alloc_pages(GFP_NOWAIT | __GFP_NOWARN, 0))
            machine.pool->put(p, 0);
        else
            std::this_thread::yield(); // let kswapd have the core it needs
    }
}

void BM_latency_atomic(benchmark::State &state) {
    if (state.thread_index() == 0)
        measured(state, GFP_ATOMIC);
    else
        pressure(state);
}

void BM_latency_kernel(benchmark::State &state) {
    if (state.thread_index() == 0)
        measured(state, GFP_KERNEL);
    else
        pressure(state);
}

BENCHMARK(BM_latency_atomic)
    ->UseRealTime()
    ->Setup(setup)
    ->Teardown(teardown)
    ->ArgName("pressure")
    ->Arg(0)
    ->Arg(1)
    ->Threads(2);
BENCHMARK(BM_latency_kernel)
    ->UseRealTime()
    ->Setup(setup)
    ->Teardown(teardown)
    ->ArgName("pressure")
    ->Arg(0)
    ->Arg(1)
    ->Threads(2);

} // namespace

int main(int argc, char **argv) {
    return bench::run_benchmarks(argc, argv, "gfplab-latency-bench", "latency", broken);
}
