// SPDX-License-Identifier: MIT
//
// gfplab-bench and peer-bench-*: the page allocator's workloads, built once per backend
// (backend.hpp) so that gfplab and real allocators run the same code in the same way.
//
// Every workload runs at 1, 2, 4, 8 and 16 threads on wall-clock time, and counts blocks as
// items, so items_per_second is the aggregate throughput of all threads: 2 threads on 2
// cores should nearly double it, 8 threads on 2 cores should not lose it (docs/design.md), and
// 16 shows whether oversubscription keeps holding.
//
// gfplab-bench takes --buddy kernel|lockfree (buddy_option.hpp): the page-frame backend of
// its Systems, named in the JSON context so that bench/run can put both beside the peers.
#include "backend.hpp"
#include "spsc_ring.hpp"
#include "thread_plan.hpp"

#if BENCH_BACKEND == BENCH_GFPLAB
#include "buddy_option.hpp"

#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/vmalloc.hpp>
#else
#include <urcu/urcu-bp.h>
#endif

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using bench::block;

// A run whose allocator failed, reported or did not recount clean: main() exits non-zero,
// so that the CI smoke test notices.
std::atomic<bool> broken{false};

block alloc_or_die(unsigned order) {
    block b = bench::alloc_block(order);
    if (!b) {
        // Aborting, not SkipWithError: in BM_remote_free the consumer would wait forever.
        std::fprintf(stderr, "%s: order-%u allocation failed\n", bench::backend_name, order);
        std::abort();
    }
    bench::touch(b);
    return b;
}

// BM_remote_free's hand-over rings, one per producer/consumer pair of the current run.
using ring = bench::spsc_ring<block, 256>;
std::unique_ptr<ring[]> rings;

// Aggregate throughput over wall-clock time. Google Benchmark's real time for a threaded
// run is the average of each thread's own loop time, so when threads take turns (a lock
// that hands itself back to the thread that just released it, or 8 threads on 2 cores)
// the early finishers pull the average down and items_per_second overstates the aggregate.
// This clock runs from the end of setup() until the last thread of the run is done, and
// the last one reports total items / that time as items_per_second_wall.
struct run_clock {
    std::chrono::steady_clock::time_point start;
    std::atomic<std::int64_t> items{0};
    std::atomic<int> finished{0};
};
run_clock run;

// The bulk and rand workloads' phases: every thread of the run allocates, all wait, every
// thread frees, all wait (one barrier per run, made in setup()).
std::unique_ptr<std::barrier<>> phase;

void setup(const benchmark::State &state) {
    bench::setup_backend();
    rings = std::make_unique<ring[]>(std::size_t(state.threads() / 2 + 1));
    phase = std::make_unique<std::barrier<>>(state.threads());
    run.items = 0;
    run.finished = 0;
    run.start = std::chrono::steady_clock::now();
}

// Called by every thread after its loop, with the blocks that thread counts. true for the
// last thread of the run, which has seen every other thread's work by then.
bool count_items(benchmark::State &state, std::int64_t items) {
    state.SetItemsProcessed(items);
    run.items.fetch_add(items, std::memory_order_relaxed);
    if (run.finished.fetch_add(1, std::memory_order_acq_rel) + 1 != state.threads())
        return false;
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - run.start;
    state.counters["items_per_second_wall"] =
        double(run.items.load(std::memory_order_relaxed)) / wall.count();
    return true;
}

void teardown(const benchmark::State &) {
#if BENCH_BACKEND != BENCH_GFPLAB
    urcu_bp_barrier(); // what BM_kfree_rcu_64 deferred is freed before the next run
#endif
    if (!bench::teardown_backend())
        broken = true;
    rings.reset();
    phase.reset();
}

// The per-CPU cache hit (orders 0..3: pcp lists hold orders up to
// PAGE_ALLOC_COSTLY_ORDER), or above that a block straight from the page-frame backend: on
// the kernel one split and merged under zone->lock on every pair, on the lock-free one a
// run of bits claimed and cleared.
void pair(benchmark::State &state, unsigned order) {
    for (auto _ : state)
        bench::free_block(alloc_or_die(order), order);
    count_items(state, state.iterations());
}

// More pages than a per-CPU list keeps (pcp high is a few hundred at most on small zones),
// so every round refills the list from the buddy in batches and drains it back.
void BM_hold512_order0(benchmark::State &state) {
    std::array<block, 512> held;
    for (auto _ : state) {
        for (block &b : held)
            b = alloc_or_die(0);
        for (block b : held)
            bench::free_block(b, 0);
    }
    count_items(state, state.iterations() * std::int64_t(held.size()));
}

// Thread 2k allocates, thread 2k+1 frees what it got: the free lands on another CPU's
// list (or another thread's heap, for the peers). Items are blocks, counted once, on the
// producer. Alone (1 thread, or the odd one out), a thread hands blocks to itself.
void BM_remote_free(benchmark::State &state) {
    const int t = state.thread_index();
    ring &r = rings[std::size_t(t / 2)];
    const bool alone = state.threads() % 2 && t == state.threads() - 1;
    if (alone) {
        for (auto _ : state) {
            r.push(alloc_or_die(0));
            bench::free_block(r.pop(), 0);
        }
        count_items(state, state.iterations());
    } else if (t % 2 == 0) {
        for (auto _ : state)
            r.push(alloc_or_die(0));
        count_items(state, state.iterations());
    } else {
        // Every thread of a run does the same number of iterations, so the consumer pops
        // exactly what its producer pushed and the ring ends the run empty.
        for (auto _ : state)
            bench::free_block(r.pop(), 0);
        count_items(state, 0);
    }
}

// --- the LLFree paper's workloads -----------------------------------------------------------
//
// "bulk": every thread allocates its share of a fixed amount of memory, all wait, every
// thread frees what it got. "rand": the same, but the frees go in one random order over all
// the blocks of the run, split among the threads, so most blocks are freed by another
// thread than their allocator and in no order a list or a bitfield would like. Beside the
// aggregate rate they report alloc_ns and free_ns: a thread's time per allocation (per
// free) in its phase, averaged over the threads, which is what the paper plots.
//
// 256 MiB in all: a quarter of the bench System, a third of its ZONE_NORMAL, so that even
// with every per-CPU list full the zone stays far above its watermarks (the slow path
// would be measured otherwise), and a size every peer serves without trouble.
constexpr std::size_t llfree_total_bytes = 256ull << 20;

// The blocks of the current bulk/rand run, slot i allocated by thread i / share, and the
// order the slots are freed in (identity for bulk, a random permutation for rand).
std::vector<block> slots;
std::vector<std::uint32_t> free_order;
// The phases' time summed over the threads of the run, in ns, and their operations.
std::atomic<std::int64_t> alloc_time_ns{0}, free_time_ns{0}, phase_ops{0};

void alloc_then_free(benchmark::State &state, unsigned order, bool random) {
    const int t = state.thread_index();
    const std::size_t share =
        llfree_total_bytes / bench::block_bytes(order) / std::size_t(state.threads());
    if (share == 0) {
        // Every thread sees the same: none reaches a barrier.
        state.SkipWithError("more threads than blocks of this order in 256 MiB");
        return;
    }
    const std::size_t first = std::size_t(t) * share;
    std::barrier<> &sync = *phase;
    if (t == 0) {
        const std::size_t n = share * std::size_t(state.threads());
        slots.assign(n, block{});
        free_order.resize(n);
        std::iota(free_order.begin(), free_order.end(), 0u);
        if (random)
            std::shuffle(free_order.begin(), free_order.end(), std::minstd_rand(1234567));
        alloc_time_ns = 0;
        free_time_ns = 0;
        phase_ops = 0;
    }
    sync.arrive_and_wait();
    auto allocate = [&] {
        for (std::size_t i = first; i < first + share; ++i)
            slots[i] = alloc_or_die(order);
    };
    auto release = [&] {
        for (std::size_t i = first; i < first + share; ++i)
            bench::free_block(slots[free_order[i]], order);
    };
    // One round before the clock starts: the first touch of the memory (a new System each
    // run, or a peer's fresh mappings) takes page faults that are not the allocator's work.
    allocate();
    sync.arrive_and_wait();
    release();
    sync.arrive_and_wait();
    if (t == 0)
        run.start = std::chrono::steady_clock::now();
    using clock = std::chrono::steady_clock;
    clock::duration in_alloc{}, in_free{};
    for (auto _ : state) {
        const auto a0 = clock::now();
        allocate();
        in_alloc += clock::now() - a0;
        // rand frees other threads' blocks: every one must have been allocated first.
        sync.arrive_and_wait();
        const auto f0 = clock::now();
        release();
        in_free += clock::now() - f0;
        // ... and freed before its slot is allocated into again.
        sync.arrive_and_wait();
    }
    const auto ns = [](clock::duration d) {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    };
    alloc_time_ns.fetch_add(ns(in_alloc), std::memory_order_relaxed);
    free_time_ns.fetch_add(ns(in_free), std::memory_order_relaxed);
    const std::int64_t ops = state.iterations() * std::int64_t(share);
    phase_ops.fetch_add(ops, std::memory_order_relaxed);
    if (count_items(state, ops)) {
        const double all = double(phase_ops.load(std::memory_order_relaxed));
        state.counters["alloc_ns"] = double(alloc_time_ns.load(std::memory_order_relaxed)) / all;
        state.counters["free_ns"] = double(free_time_ns.load(std::memory_order_relaxed)) / all;
    }
}

// --- small objects (the slab suite) ---------------------------------------------------------

void *object_or_die(std::size_t size) {
    void *p = bench::alloc_object(size);
    if (!p) {
        std::fprintf(stderr, "%s: a %zu-byte allocation failed\n", bench::backend_name, size);
        std::abort();
    }
    bench::touch_object(p);
    return p;
}

// kmalloc(size, GFP_KERNEL) and kfree() against malloc(size) and free(): the CPU's
// freelist hit, the path nearly every small kernel allocation takes.
void kmalloc_pair(benchmark::State &state, std::size_t size) {
    for (auto _ : state)
        bench::free_object(object_or_die(size));
    count_items(state, state.iterations());
}

// kmem_cache_alloc() and kmem_cache_free() of a 64-byte cache (a peer: malloc(64)).
void BM_cache_pair_64(benchmark::State &state) {
    for (auto _ : state) {
        void *p = bench::cache_alloc();
        if (!p)
            std::abort();
        bench::touch_object(p);
        bench::cache_free(p);
    }
    count_items(state, state.iterations());
}

// 512 64-byte objects held, then freed: more than a slab holds, so every round takes new
// and partial slabs and gives empty ones back (the slow paths).
void BM_kmalloc_hold512_64(benchmark::State &state) {
    std::array<void *, 512> held;
    for (auto _ : state) {
        for (void *&p : held)
            p = object_or_die(64);
        for (void *p : held)
            bench::free_object(p);
    }
    count_items(state, state.iterations() * std::int64_t(held.size()));
}

// kfree_rcu() of a 64-byte object right after kmalloc(): gfplab's per-CPU batches, freed
// by the monitor thread after a grace period. A peer has no kfree_rcu: it defers free()
// through liburcu's call_rcu() (urcu-bp), whose thread frees after a grace period, the
// usual way userspace does it. "pending" is how many objects waited at the end (memory
// held for the grace period), "pending_kib" the same in KiB.
#if BENCH_BACKEND == BENCH_GFPLAB
void rcu_free_object(void *p) {
    gfplab::kvfree_call_rcu(*bench::the_system, static_cast<gfplab::rcu::head *>(p), p);
}
std::uint64_t rcu_pending() {
    return gfplab::kvfree_rcu_statistics(*bench::the_system).pending;
}
#else
std::atomic<std::uint64_t> urcu_pending{0};
void rcu_free_object(void *p) {
    urcu_pending.fetch_add(1, std::memory_order_relaxed);
    urcu_bp_call_rcu(static_cast<rcu_head *>(p), [](rcu_head *h) {
        bench::free_object(h);
        urcu_pending.fetch_sub(1, std::memory_order_relaxed);
    });
}
std::uint64_t rcu_pending() {
    return urcu_pending.load(std::memory_order_relaxed);
}
#endif

void BM_kfree_rcu_64(benchmark::State &state) {
    for (auto _ : state)
        rcu_free_object(object_or_die(64));
    if (state.thread_index() == 0) {
        const double pending = double(rcu_pending());
        state.counters["pending"] = pending;
        state.counters["pending_kib"] = pending * 64 / 1024;
    }
    count_items(state, state.iterations());
}

// vmalloc() and vfree() of a big table, written once per page: gfplab maps each run of
// its pages into the vmalloc space (mmap per run, munmap on vfree); a peer's malloc() and
// free() of the same size (above glibc's mmap threshold, an mmap of its own too).
void vmalloc_pair(benchmark::State &state, std::size_t size) {
    for (auto _ : state) {
#if BENCH_BACKEND == BENCH_GFPLAB
        auto *p = static_cast<unsigned char *>(gfplab::vmalloc(*bench::the_system, size));
#else
        auto *p = static_cast<unsigned char *>(bench::alloc_object(size));
#endif
        if (!p)
            std::abort();
        for (std::size_t off = 0; off < size; off += bench::page_size)
            static_cast<volatile unsigned char *>(p)[off] = 1;
#if BENCH_BACKEND == BENCH_GFPLAB
        gfplab::vfree(*bench::the_system, p);
#else
        bench::free_object(p);
#endif
    }
    count_items(state, state.iterations());
}

// Registered from main(), once the thread counts are known (thread_plan.hpp): the scaling
// benchmarks at every count of the plan, the rest at fixed counts.
void register_benchmarks(const bench::thread_plan &plan) {
    auto page = [&](const std::string &name, auto fn) {
        return bench::register_threaded(name, fn, plan)
            ->UseRealTime()
            ->Setup(setup)
            ->Teardown(teardown);
    };
    // One benchmark per order, named BM_pair_order<k>: the tables key on the name. Orders
    // 0 and 3 (the per-CPU lists' smallest and largest) at every count of the plan.
    for (unsigned order : {0u, 3u})
        page("BM_pair_order" + std::to_string(order),
             [order](benchmark::State &st) { pair(st, order); });
    page("BM_hold512_order0", BM_hold512_order0);
    page("BM_remote_free", BM_remote_free);
    page("BM_cache_pair_64", BM_cache_pair_64);
    page("BM_kmalloc_hold512_64", BM_kmalloc_hold512_64);
    page("BM_kfree_rcu_64", BM_kfree_rcu_64);
    // The LLFree paper's bulk and rand, order 0 and order 9 (a huge page's block).
    for (unsigned order : {0u, 9u}) {
        page("BM_bulk_order" + std::to_string(order),
             [order](benchmark::State &st) { alloc_then_free(st, order, false); });
        page("BM_rand_order" + std::to_string(order),
             [order](benchmark::State &st) { alloc_then_free(st, order, true); });
    }
    // One benchmark per size, named BM_kmalloc_pair_<size>: the tables key on the name.
    for (std::size_t size : {8, 64, 192, 1024, 8192})
        bench::register_threaded(
            "BM_kmalloc_pair_" + std::to_string(size),
            [size](benchmark::State &st) { kmalloc_pair(st, size); }, plan)
            ->UseRealTime()
            ->Setup(setup)
            ->Teardown(teardown);
    // vmalloc and the other orders keep their counts: one or two threads say what they
    // measure (the cost, and whether a second thread on the other core collides), up to the
    // plan's highest count.
    bench::thread_plan one_or_two = plan;
    one_or_two.counts.clear();
    for (int n : {1, 2})
        if (n == 1 || n <= plan.counts.back())
            one_or_two.counts.push_back(n);
    for (std::size_t kib : {4, 64, 1024, 4096})
        bench::register_threaded(
            "BM_vmalloc_" + std::to_string(kib) + "k",
            [kib](benchmark::State &st) { vmalloc_pair(st, kib << 10); }, one_or_two)
            ->UseRealTime()
            ->Setup(setup)
            ->Teardown(teardown);
    // Every other order of 0..10 (issue 18's comparison): 1, 2 and 4 the per-CPU lists'
    // middle and the buddy's first orders, 9 and 10 (2 and 4 MiB) with docs/design.md's
    // absolute target of 40 ns at one thread.
    for (unsigned order : {1u, 2u, 4u, 5u, 6u, 7u, 8u, 9u, 10u})
        bench::register_threaded(
            "BM_pair_order" + std::to_string(order),
            [order](benchmark::State &st) { pair(st, order); }, one_or_two)
            ->UseRealTime()
            ->Setup(setup)
            ->Teardown(teardown);
}

} // namespace

// BENCHMARK_MAIN, except that a run that measured nothing, or measured a broken allocator,
// fails.
int main(int argc, char **argv) {
    bench::thread_plan plan;
    std::string error;
    if (!bench::parse_thread_options(argc, argv, plan, error)) {
        std::fprintf(stderr, "%s: %s\n", bench::backend_name, error.c_str());
        return 2;
    }
#if BENCH_BACKEND == BENCH_GFPLAB
    if (!bench::parse_buddy_option(argc, argv, error)) {
        std::fprintf(stderr, "%s: %s\n", bench::backend_name, error.c_str());
        return 2;
    }
#endif
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--help") {
            std::fputs(bench::thread_options_help, stdout);
#if BENCH_BACKEND == BENCH_GFPLAB
            std::fputs(bench::buddy_option_help, stdout);
#endif
        }
    register_benchmarks(plan);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
#if BENCH_BACKEND == BENCH_GFPLAB
    // The tables key on "backend": gfplab-kernel and gfplab-lockfree are two columns.
    benchmark::AddCustomContext("backend", bench::gfplab_run_name());
    benchmark::AddCustomContext("buddy", bench::buddy_choice_name());
#else
    benchmark::AddCustomContext("backend", bench::backend_name);
#endif
    const std::size_t ran = benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (ran == 0) {
        std::fprintf(stderr, "%s: no benchmark matched the filter\n", bench::backend_name);
        return 1;
    }
    return broken ? 1 : 0;
}
