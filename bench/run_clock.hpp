// SPDX-License-Identifier: MIT
//
// Aggregate throughput over wall-clock time, for the suites that share one machine among
// their threads: from the end of setup until the last thread of the run is done (Google
// Benchmark averages each thread's own loop time instead; page_bench.cpp says why that
// overstates the aggregate when threads take turns on 2 cores).
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace bench {

class run_clock {
  public:
    void start() {
        items_ = 0;
        finished_ = 0;
        start_ = std::chrono::steady_clock::now();
    }
    // Every thread calls this once after its loop. The last one gets true and the run's
    // wall time in seconds, and has set items_per_second_wall.
    bool finish(benchmark::State &state, std::int64_t items, double &seconds) {
        state.SetItemsProcessed(items);
        items_.fetch_add(items, std::memory_order_relaxed);
        if (finished_.fetch_add(1, std::memory_order_acq_rel) + 1 != state.threads())
            return false;
        const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start_;
        seconds = wall.count();
        state.counters["items_per_second_wall"] =
            double(items_.load(std::memory_order_relaxed)) / seconds;
        return true;
    }

  private:
    std::chrono::steady_clock::time_point start_;
    std::atomic<std::int64_t> items_{0};
    std::atomic<int> finished_{0};
};

} // namespace bench
