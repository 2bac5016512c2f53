// SPDX-License-Identifier: MIT
//
// gfplab-accounting-bench: what keeping NR_FREE_PAGES costs as the CPU count grows.
//
// Every allocation reads the free count (the watermark check) and every refill or drain
// changes it. The kernel's scheme (mm/vmstat.c), which gfplab follows, gives each CPU a
// small delta and folds it into the zone's shared counter only past a threshold that grows
// with the CPU count; readers see a value that may drift by cpus * threshold pages. The
// obvious alternative, one shared atomic updated on every change, is exact but makes its
// cache line bounce between every CPU that allocates.
//
// BM_vmstat_percpu_delta and BM_vmstat_shared_atomic are that comparison in isolation,
// bench-local: each event is a watermark check plus a +-1 update on one of N virtual CPUs,
// the benchmark's real threads taking turns over their share of them (allocation runs of
// 1024 events, then as many frees). Counters: shared_writes_per_event (cache-line
// transfers the scheme causes) and drift_bound_pages (the accuracy it gives up).
// BM_accounting_system is the library's own path on a System with N virtual CPUs: rounds
// of 512 order-0 allocations and frees, each round on the next virtual CPU, so that the
// per-CPU lists refill and drain through the zone and its counters.
#include "bench_main.hpp"

#include <gfplab/pcp_sizing.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmstat.hpp>
#include <gfplab/watermark.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <memory>
#include <vector>

namespace {

std::atomic<bool> broken{false};

// --- the model ---------------------------------------------------------------------------

constexpr unsigned long managed_pages = (1ul << 30) >> 12; // a 1 GiB zone
constexpr unsigned long low_mark = managed_pages / 100;
constexpr int run_length = 1024;

// Per-CPU data lives on its own cache line, as the kernel's per-CPU areas do.
struct alignas(64) cpu_delta {
    std::atomic<int> diff{0};
};

struct counter_model {
    alignas(64) std::atomic<long> nr_free{long(managed_pages)};
    alignas(64) std::atomic<long> folds{0};
    std::unique_ptr<cpu_delta[]> deltas;
    int threshold = 0;
};
counter_model model;

void model_setup(const benchmark::State &state) {
    const int cpus = int(state.range(0));
    model.nr_free = long(managed_pages);
    model.folds = 0;
    model.deltas = std::make_unique<cpu_delta[]>(std::size_t(cpus));
    model.threshold = gfplab::calculate_normal_threshold(cpus, managed_pages);
}

void model_teardown(const benchmark::State &) {
    model.deltas.reset();
}

// Thread t owns the virtual CPUs t, t + threads, ...: a CPU's delta has one writer at a
// time, as in the kernel, so it needs no atomic read-modify-write.
template <bool percpu>
void vmstat_events(benchmark::State &state) {
    const int cpus = int(state.range(0));
    const int threads = state.threads();
    const int mine = (cpus - state.thread_index() + threads - 1) / threads;
    int k = 0, phase = 0;
    long folds = 0;
    for (auto _ : state) {
        const int cpu = state.thread_index() + threads * k;
        k = k + 1 == mine ? 0 : k + 1;
        const long delta = phase < run_length ? -1 : 1;
        phase = phase + 1 == 2 * run_length ? 0 : phase + 1;
        if (delta < 0)
            benchmark::DoNotOptimize(gfplab::zone_watermark_fast_order0(
                model.nr_free.load(std::memory_order_relaxed), low_mark, 0, 0, 0));
        if constexpr (percpu) {
            std::atomic<int> &diff = model.deltas[std::size_t(cpu)].diff;
            const int x = diff.load(std::memory_order_relaxed) + int(delta);
            if (x > model.threshold || x < -model.threshold) {
                model.nr_free.fetch_add(x, std::memory_order_relaxed);
                diff.store(0, std::memory_order_relaxed);
                folds++;
            } else {
                diff.store(x, std::memory_order_relaxed);
            }
        } else {
            model.nr_free.fetch_add(delta, std::memory_order_relaxed);
            folds++;
        }
    }
    state.SetItemsProcessed(state.iterations());
    model.folds.fetch_add(folds, std::memory_order_relaxed);
    // Counters are summed over threads: report the run-wide figures from one of them.
    if (state.thread_index() == 0) {
        const int t = percpu ? model.threshold : 0;
        state.counters["stat_threshold"] = t;
        state.counters["drift_bound_pages"] = double(gfplab::vmstat_drift_bound(cpus, t));
    }
    // Every thread's share, summed: folds per event over the whole run.
    state.counters["shared_writes_per_event"] =
        benchmark::Counter(double(folds), benchmark::Counter::kAvgIterations);
}

void BM_vmstat_percpu_delta(benchmark::State &state) {
    vmstat_events<true>(state);
}
void BM_vmstat_shared_atomic(benchmark::State &state) {
    vmstat_events<false>(state);
}

// --- the library's path ----------------------------------------------------------------

std::unique_ptr<gfplab::System> sys;

void system_setup(const benchmark::State &state) {
    gfplab::system_config cfg;
    cfg.memory_bytes = 1ull << 30;
    cfg.dma32_limit = 256ull << 20;
    cfg.cpus = unsigned(state.range(0));
    cfg.pcp = gfplab::pcp_mode::virtual_cpus;
    cfg.buddy = bench::buddy_choice;
    cfg.warn_alloc = false;
    sys = std::make_unique<gfplab::System>(cfg);
}

void system_teardown(const benchmark::State &) {
    if (sys->report_count() || !sys->verify().empty()) {
        std::fprintf(stderr, "gfplab-accounting-bench: the System broke (reports or I2)\n");
        broken = true;
    }
    sys.reset();
}

void BM_accounting_system(benchmark::State &state) {
    const int cpus = int(state.range(0));
    const int threads = state.threads();
    const int mine = (cpus - state.thread_index() + threads - 1) / threads;
    std::array<gfplab::page *, 512> held;
    int k = 0;
    for (auto _ : state) {
        gfplab::set_current_vcpu(unsigned(state.thread_index() + threads * k));
        k = k + 1 == mine ? 0 : k + 1;
        for (gfplab::page *&p : held) {
            p = sys->alloc_pages(GFP_KERNEL, 0);
            if (!p) {
                state.SkipWithError("order-0 allocation failed on a 1 GiB System");
                broken = true;
                return;
            }
        }
        for (gfplab::page *p : held)
            sys->free_pages(p, 0);
    }
    state.SetItemsProcessed(state.iterations() * std::int64_t(2 * held.size()));
    if (state.thread_index() == 0) {
        for (const gfplab::zone_snapshot &z : gfplab::take_vmstat_snapshot(*sys).zones)
            if (z.name == "Normal") {
                state.counters["stat_threshold"] = z.stat_threshold;
                state.counters["drift_bound_pages"] = double(z.drift_bound);
            }
    }
}

// The model's threads each need a CPU of their own: 2 threads start at 2 CPUs.
void cpus_from(benchmark::internal::Benchmark *b, int first) {
    b->ArgName("vcpus");
    for (int n = first; n <= 64; n *= 2)
        b->Arg(n);
}

#define ACCOUNTING_BENCHMARK(fn, set, tear, threads, first)                                        \
    BENCHMARK(fn)                                                                                  \
        ->UseRealTime()                                                                            \
        ->Setup(set)                                                                               \
        ->Teardown(tear)                                                                           \
        ->Apply([](benchmark::internal::Benchmark *b) { cpus_from(b, first); })                    \
        ->Threads(threads)

ACCOUNTING_BENCHMARK(BM_vmstat_percpu_delta, model_setup, model_teardown, 1, 1);
ACCOUNTING_BENCHMARK(BM_vmstat_percpu_delta, model_setup, model_teardown, 2, 2);
ACCOUNTING_BENCHMARK(BM_vmstat_shared_atomic, model_setup, model_teardown, 1, 1);
ACCOUNTING_BENCHMARK(BM_vmstat_shared_atomic, model_setup, model_teardown, 2, 2);
ACCOUNTING_BENCHMARK(BM_accounting_system, system_setup, system_teardown, 1, 1);
ACCOUNTING_BENCHMARK(BM_accounting_system, system_setup, system_teardown, 2, 2);

} // namespace

int main(int argc, char **argv) {
    return bench::run_benchmarks(argc, argv, "gfplab-accounting-bench", "accounting", broken);
}
