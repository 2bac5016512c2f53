// SPDX-License-Identifier: MIT
//
// A cache of pages that reclaim can take back: the benchmarks under pressure park what they
// allocate here, and a shrinker registered on the System frees the oldest blocks when
// kswapd or direct reclaim asks. Memory stays full, yet every page is reclaimable, so the
// workloads reach a steady state below the low watermark instead of running out.
#pragma once

#include <gfplab/system.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>

struct shrinker;
struct shrink_control;

namespace bench {

class page_pool {
  public:
    // Registers the shrinker "bench-page-pool" on s.
    explicit page_pool(gfplab::System &s);
    // Unregisters the shrinker (waiting for reclaim in flight), then frees every block.
    ~page_pool();
    page_pool(const page_pool &) = delete;
    page_pool &operator=(const page_pool &) = delete;

    // The caller must not hold any lock reclaim could need: put() never allocates.
    void put(gfplab::page *p, unsigned order);
    // Frees up to nr blocks, oldest first; returns how many.
    unsigned long release(unsigned long nr);
    unsigned long blocks() const noexcept { return nr_blocks_.load(std::memory_order_relaxed); }
    // scan_objects calls so far (what the shrinker registry counts, read without its lock).
    std::uint64_t scans() const noexcept { return scans_.load(std::memory_order_relaxed); }

  private:
    static unsigned long count_objects(struct shrinker *s, struct shrink_control *sc);
    static unsigned long scan_objects(struct shrinker *s, struct shrink_control *sc);

    gfplab::System &sys_;
    struct shrinker *shrinker_ = nullptr;
    std::mutex lock_;
    std::deque<std::pair<gfplab::page *, unsigned>> held_;
    std::atomic<unsigned long> nr_blocks_{0};
    std::atomic<std::uint64_t> scans_{0};
};

} // namespace bench
