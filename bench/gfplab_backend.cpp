// SPDX-License-Identifier: MIT
//
// The gfplab System a benchmark run allocates from: one per run, shared by all its threads,
// and checked when the run is over.
#include "backend.hpp"
#include "buddy_option.hpp"

#include <cstdio>

namespace bench {

void setup_backend() {
    gfplab::system_config cfg;
    // 1 GiB: the biggest workload (16 threads x 512 pages held, or one order-10 block) stays
    // far above the low watermark, so the fast path is what gets measured, never the slow
    // path. ZONE_DMA32 ends at 256 MiB so that GFP_KERNEL is served from ZONE_NORMAL as on a
    // real x86-64 machine, rather than falling back to DMA32 because NORMAL is empty.
    cfg.memory_bytes = 1ull << 30;
    cfg.dma32_limit = 256ull << 20;
    // A failure is caught by the benchmark itself (it aborts); no rate-limited printing.
    cfg.warn_alloc = false;
    // --buddy (or GFPLAB_BUDDY): bench/run measures both backends, one run each.
    cfg.buddy = buddy_choice;
    // Everything else is System's default (checking: cheap, poisoning off, CPUs: the
    // machine's): the benchmark measures the allocator as a user gets it.
    the_system = std::make_unique<gfplab::System>(cfg);
    the_cache = gfplab::kmem_cache_create(*the_system, "bench-64", 64, nullptr, 0);
}

bool teardown_backend() {
    bool ok = true;
    gfplab::System &s = *the_system;
    // Every object went back: destroy would report live objects (I16) otherwise.
    kmem_cache_destroy(the_cache);
    if (s.report_count()) {
        std::fprintf(stderr, "gfplab-bench: the System reported %llu violation(s)\n",
                     static_cast<unsigned long long>(s.report_count()));
        ok = false;
    }
    // Every block went back: the recount (I2) must come out exact (kvfree_rcu's monitor
    // parked meanwhile).
    s.kswapd_park();
    const auto found = s.verify();
    s.kswapd_unpark();
    for (const gfplab::violation &v : found) {
        std::fprintf(stderr, "gfplab-bench: after the run: %s\n",
                     gfplab::format_violation(v).c_str());
        ok = false;
    }
    the_system.reset();
    return ok;
}

} // namespace bench
