// SPDX-License-Identifier: MIT
//
// stress/output.hpp - what a campaign prints: the live status line (status.cpp), the final
// summary and the JSON report (report.cpp).
#pragma once

#include "campaign.hpp"

#include <ostream>
#include <string>

namespace gfplab::stress {

// One line: elapsed/total, ops/s, free pages per zone against min/low/high, kswapd, direct
// reclaim, shrinker calls, OOM kills, violations so far. `total` 0: no time bound.
std::string status_line(shared_state &st, double elapsed, double total, std::uint64_t total_ops);

// last_word false: one run of several (stress/rotation.hpp), whose verdict is not the
// whole campaign's: it says "this run: ok" rather than "OK: no violation".
void print_summary(const campaign_config &c, shared_state &st, const campaign_result &r,
                   bool last_word = true);
// The JSON report (--json) of one run.
nlohmann::json report_json(const campaign_config &c, shared_state &st, const campaign_result &r);

// The stall and panic verdicts (stall.cpp): what every worker is doing, on stderr and as the
// JSON report.
void print_stall(shared_state &st, double stalled_seconds, bool panicked);
void write_stall_json(std::ostream &out, const campaign_config &c, shared_state &st,
                      double stalled_seconds, bool panicked);

// What trace_sample() saw last time: reclaim and OOM events are marked by their increase.
struct trace_sample_state {
    std::uint64_t kswapd_rounds = 0, direct_reclaim = 0, oom_kills = 0;
};
// Called from the sampler a few times a second while tracing: zone counters and marks.
void trace_sample(shared_state &st, double at, trace_sample_state &last);
// The trace-event JSON document (violations added from the oracle).
nlohmann::json trace_events_document(shared_state &st);

} // namespace gfplab::stress
