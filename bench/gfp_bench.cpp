// SPDX-License-Identifier: MIT
//
// What the GFP vocabulary costs on the allocation path. current_gfp_context() and
// gfp_valid() run on every allocation, so they must stay a few instructions; the scope
// save/restore pair is what a NOFS section costs its caller.
#include <gfplab/gfp.hpp>
#include <gfplab/scope.hpp>

#include <benchmark/benchmark.h>

namespace {

using namespace gfplab;

const gfp_t masks[] = {GFP_KERNEL,           GFP_NOFS,          GFP_ATOMIC,
                       GFP_HIGHUSER_MOVABLE, GFP_TRANSHUGE,     GFP_DMA32 | GFP_KERNEL,
                       GFP_NOWAIT,           GFP_KERNEL_ACCOUNT};

void BM_current_gfp_context(benchmark::State &state) {
    unsigned saved = state.range(0) ? memalloc_nofs_save() : 0;
    unsigned i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(current_gfp_context(masks[i++ & 7]));
    if (state.range(0))
        memalloc_nofs_restore(saved);
}
BENCHMARK(BM_current_gfp_context)->Arg(0)->Arg(1)->ArgName("nofs");

void BM_gfp_zone_and_valid(benchmark::State &state) {
    unsigned i = 0;
    for (auto _ : state) {
        gfp_t m = masks[i++ & 7];
        benchmark::DoNotOptimize(gfp_valid(m, 0));
        benchmark::DoNotOptimize(gfp_zone(m));
        benchmark::DoNotOptimize(gfp_migratetype(m));
    }
}
BENCHMARK(BM_gfp_zone_and_valid);

void BM_nofs_save_restore(benchmark::State &state) {
    for (auto _ : state) {
        unsigned s = memalloc_nofs_save();
        benchmark::DoNotOptimize(s);
        memalloc_nofs_restore(s);
    }
}
BENCHMARK(BM_nofs_save_restore);

void BM_gfp_describe(benchmark::State &state) {
    unsigned i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(gfp_describe(masks[i++ & 7] | __GFP_ZERO));
}
BENCHMARK(BM_gfp_describe);

void BM_gfp_parse(benchmark::State &state) {
    for (auto _ : state)
        benchmark::DoNotOptimize(gfp_parse("GFP_KERNEL|__GFP_ZERO|__GFP_COMP"));
}
BENCHMARK(BM_gfp_parse);

} // namespace

BENCHMARK_MAIN();
