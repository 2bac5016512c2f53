// SPDX-License-Identifier: MIT
//
// stress/trace.hpp - Chrome trace-event JSON (what Perfetto and chrome://tracing open):
// slow allocations, shrinker calls, checkpoints as spans; reclaim, kswapd rounds, OOM kills
// and violations as instants; free pages per zone as counters. Bounded: past `cap` events
// the log only counts what it dropped (violations and checkpoints are kept regardless), and
// the file says so in its metadata.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gfplab::stress {

class trace_log {
  public:
    static constexpr std::size_t default_cap = 200000;
    explicit trace_log(bool enabled, std::size_t cap = default_cap)
        : enabled_(enabled), cap_(cap) {}
    bool enabled() const noexcept { return enabled_; }

    // Times in seconds since the campaign started; tid: the worker, or -1 for the harness
    // and library threads.
    void complete(std::string_view name, std::string_view cat, double start, double dur, int tid,
                  nlohmann::json args = {});
    void instant(std::string_view name, std::string_view cat, double at, int tid,
                 nlohmann::json args = {});
    void counter(std::string_view name, double at, nlohmann::json values);

    // The document: every event kept, thread names, and metadata with the cap and the number
    // of events dropped past it.
    nlohmann::json document(nlohmann::json metadata) const;
    std::size_t size() const;
    std::uint64_t dropped() const noexcept { return dropped_.load(); }

  private:
    void add(nlohmann::json e);
    const bool enabled_;
    const std::size_t cap_;
    mutable std::mutex lock_;
    std::vector<nlohmann::json> events_;
    std::atomic<std::uint64_t> dropped_{0};
};

} // namespace gfplab::stress
