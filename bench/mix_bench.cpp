// SPDX-License-Identifier: MIT
//
// gfplab-mix-bench: the realistic request mix (gfp_mix.hpp, with NOFS/NOIO scopes) on a
// small machine that is kept full, so that every allocation competes with kswapd, direct
// reclaim and a shrinker. Three in four blocks are parked in a reclaimable page pool, so
// memory never frees itself; what reclaim gives back is what the workload lives on. Beside
// the throughput it reports the reclaim activity per second that bought it.
#include "bench_main.hpp"
#include "gfp_mix.hpp"
#include "pressure.hpp"
#include "run_clock.hpp"
#include "thread_plan.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>

namespace {

// 64 MiB: small enough that a run cycles through memory many times a second.
constexpr std::uint64_t machine_bytes = 64ull << 20;

bench::pressure_machine machine;
bench::reclaim_counters at_start;
bench::run_clock run;
std::atomic<bool> broken{false};

void setup(const benchmark::State &) {
    machine = bench::make_pressure_machine(machine_bytes, gfplab::pcp_mode::automatic);
    bench::fill_to_min(machine);
    at_start = bench::read_reclaim_counters(machine);
    run.start();
}

void teardown(const benchmark::State &) {
    if (!bench::retire_pressure_machine(machine, "gfplab-mix-bench"))
        broken = true;
}

void BM_gfp_mix(benchmark::State &state) {
    std::minstd_rand rng(std::uint32_t(7919 * (state.thread_index() + 1)));
    gfplab::System &sys = *machine.sys;
    for (auto _ : state) {
        const bench::mix_draw d = bench::draw_gfp_mix(rng);
        gfplab::page *p;
        {
            bench::mix_scope_guard scope(d.scope);
            p = sys.alloc_pages(d.gfp, d.order);
        }
        // A failure is an outcome of the mix (ATOMIC below min, NORETRY, THP), counted by
        // the System and reported as failures_per_second.
        if (!p)
            continue;
        static_cast<volatile unsigned char *>(sys.page_address(p))[0] = 1;
        if (rng() % 4)
            machine.pool->put(p, d.order);
        else
            sys.free_pages(p, d.order);
    }
    double seconds = 0;
    if (!run.finish(state, state.iterations(), seconds))
        return;
    const bench::reclaim_counters now = bench::read_reclaim_counters(machine);
    auto per_second = [&](std::uint64_t a, std::uint64_t b) { return double(a - b) / seconds; };
    state.counters["kswapd_rounds_per_second"] =
        per_second(now.kswapd_rounds, at_start.kswapd_rounds);
    state.counters["direct_reclaim_per_second"] =
        per_second(now.direct_reclaim, at_start.direct_reclaim);
    state.counters["shrinker_calls_per_second"] =
        per_second(now.shrinker_calls, at_start.shrinker_calls);
    state.counters["failures_per_second"] = per_second(now.failures, at_start.failures);
    state.counters["oom_per_second"] = per_second(now.oom, at_start.oom);
}

} // namespace

int main(int argc, char **argv) {
    // The mix at every thread count of the plan (thread_plan.hpp: --threads, --max-threads,
    // --pin), registered once they are read.
    bench::thread_plan plan;
    std::string error;
    if (!bench::parse_thread_options(argc, argv, plan, error)) {
        std::fprintf(stderr, "gfplab-mix-bench: %s\n", error.c_str());
        return 2;
    }
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--help")
            std::fputs(bench::thread_options_help, stdout);
    bench::register_threaded("BM_gfp_mix", BM_gfp_mix, plan)
        ->UseRealTime()
        ->Setup(setup)
        ->Teardown(teardown);
    return bench::run_benchmarks(argc, argv, "gfplab-mix-bench", "mix", broken);
}
