// SPDX-License-Identifier: MIT
//
// stress/rotation.hpp - the per-CPU mode rotation. How threads reach their per-CPU lists is
// one System's for its life, and each mode has paths the others never run: rseq's restarts
// and fences, the trylock's remote drain of a CPU another thread may be on, virtual CPUs
// shared by several workers. A campaign whose scenario says pcp_rotate (every preset but
// numa, unless --pcp-mode chose) is run as one campaign per mode, rseq, locked, virtual, each
// on a fresh System with an equal share of the time or operations and a seed of its own;
// one summary and one JSON report then cover the whole, with a `pcp_phases` list saying
// which mode ran how long.
#pragma once

#include "campaign.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gfplab::stress {

struct pcp_phase {
    campaign_config cfg; // its mode, its share of the time or operations, its seed
    // After the run.
    std::string lists; // what the System ran: "rseq", "locked", "virtual", or the fallback
    unsigned cpus = 0; // the System's
    double seconds = 0;
    std::uint64_t ops = 0;
    std::uint64_t violations = 0;
    bool ok = false;
};

// The runs a campaign is made of: one per mode when it rotates (fewer operations than three
// per worker per mode: one run, automatic), else the campaign itself. Run i > 0 draws from a
// seed derived from the campaign's; run 0 keeps it, so that `--pcp-mode rseq --seed S` is
// the first run of a rotation with seed S.
std::vector<pcp_phase> plan_pcp_phases(const campaign_config &c);
// What a run's System did with the mode it was given ("locked (no rseq here)" where rseq
// was asked for and is unavailable: under TSan, valgrind, or --cpus other than the host's).
std::string pcp_lists_name(const campaign_config &c, System &sys);

// Adds one run's result to the whole's; label names the run in the verdict.
void merge_result(campaign_result &whole, const campaign_result &r, std::string_view label);
// After the last run: what the scenario expects of the whole (the planted I9 found in some
// run, when a run too short to plant it passed alone).
void finish_rotation(const campaign_config &c, campaign_result &whole);
// The whole's JSON report: `whole` is report_json() of the last run's state with the merged
// result (so op counts, latencies, outcomes, vmstat and verdict are right); what the runs'
// oracles and Systems counted (planted mistakes, violations, OOM kills, checkpoints, workers'
// streams ...) is summed from their own reports here, and `pcp_phases` added.
nlohmann::json merge_reports(nlohmann::json whole, const std::vector<nlohmann::json> &runs,
                             const std::vector<pcp_phase> &phases);
// One trace-event document from the runs' documents: each run a process of its own ("per-CPU
// lists rseq" ...), its times shifted by the seconds the runs before it took.
nlohmann::json merge_trace_documents(const std::vector<nlohmann::json> &runs,
                                     const std::vector<pcp_phase> &phases);
// The rotation's lines of the summary, after each run's own: the modes and their times,
// then the whole's verdict ("OK: no violation" or a FAIL line per reason).
void print_rotation(const campaign_config &c, const std::vector<pcp_phase> &phases,
                    const campaign_result &whole);

} // namespace gfplab::stress
