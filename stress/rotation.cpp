// SPDX-License-Identifier: MIT
#include "rotation.hpp"

#include "masks.hpp"
#include "output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace gfplab::stress {
namespace {

using nlohmann::json;

// The modes in the order a rotation runs them: the default first, then the paths it skips.
constexpr pcp_mode rotation[] = {pcp_mode::rseq, pcp_mode::locked, pcp_mode::virtual_cpus};
constexpr unsigned nr_rotation = sizeof(rotation) / sizeof(rotation[0]);

// Every number of `from` (an object of numbers, or of such objects) added to `into`'s.
void add_numbers(json &into, const json &from) {
    for (auto it = from.begin(); it != from.end(); ++it) {
        if (it->is_object())
            add_numbers(into[it.key()], *it);
        else if (it->is_number_unsigned())
            into[it.key()] = into.value(it.key(), std::uint64_t(0)) + it->get<std::uint64_t>();
        else if (it->is_number())
            into[it.key()] = into.value(it.key(), 0.0) + it->get<double>();
    }
}

void append(json &into, const json &from) {
    for (const auto &e : from)
        into.push_back(e);
}

} // namespace

std::vector<pcp_phase> plan_pcp_phases(const campaign_config &c) {
    std::vector<pcp_phase> out;
    // Each run needs an operation for every worker, or a worker with none would never end.
    const bool rotate = c.sc.pcp_rotate && (c.ops == 0 || c.ops >= nr_rotation * c.threads);
    if (!rotate) {
        pcp_phase p;
        p.cfg = c;
        out.push_back(p);
        if (c.sc.pcp_rotate)
            out.back().cfg.sc.pcp = pcp_mode::automatic;
        return out;
    }
    // Not the campaign's stream of worker seeds: run 1 must not draw what worker 0 draws.
    splitmix64 seeds{c.seed ^ 0x7063702d726f7461ull};
    for (unsigned i = 0; i < nr_rotation; i++) {
        pcp_phase p;
        p.cfg = c;
        campaign_config &pc = p.cfg;
        pc.sc.pcp = rotation[i];
        // Virtual CPUs are as many as the host's unless the scenario said (as resolve() does
        // for --pcp-mode virtual).
        if (pc.sc.pcp == pcp_mode::virtual_cpus && pc.sc.cpus == 0)
            pc.sc.cpus = std::max(1u, std::thread::hardware_concurrency());
        pc.duration = c.duration / nr_rotation;
        pc.ops = c.ops ? c.ops / nr_rotation + (i < c.ops % nr_rotation) : 0;
        pc.seed = i == 0 ? c.seed : seeds();
        pc.part = true;
        out.push_back(p);
    }
    return out;
}

std::string pcp_lists_name(const campaign_config &c, System &sys) {
    const bool rseq = sys.pcp_uses_rseq();
    switch (c.sc.pcp) {
    case pcp_mode::rseq:
        return rseq ? "rseq" : "locked (no rseq here)";
    case pcp_mode::virtual_cpus:
        return "virtual";
    case pcp_mode::locked:
        return "locked";
    default:
        return rseq ? "rseq" : "locked";
    }
}

void merge_result(campaign_result &whole, const campaign_result &r, std::string_view label) {
    whole.totals.merge(r.totals);
    whole.ops += r.ops;
    whole.seconds += r.seconds;
    whole.pages_killed += r.pages_killed;
    whole.final_verify.insert(whole.final_verify.end(), r.final_verify.begin(),
                              r.final_verify.end());
    // The machine as the last run left it: each run had its own.
    whole.vmstat = r.vmstat;
    whole.vmstat_json = r.vmstat_json;
    whole.kernel_warnings += r.kernel_warnings;
    whole.reported_i9 += r.reported_i9;
    whole.workload_leaks.insert(whole.workload_leaks.end(), r.workload_leaks.begin(),
                                r.workload_leaks.end());
    for (const auto &why : r.verdict)
        whole.verdict.push_back(label.empty() ? why : fmt::format("[{}] {}", label, why));
    whole.ok = whole.verdict.empty();
}

json merge_reports(json whole, const std::vector<json> &runs,
                   const std::vector<pcp_phase> &phases) {
    // 3: pcp_phases, and config.pcp_mode may be "rotate".
    whole["format_version"] = 3;
    json planted = json::object(), page_cache = json::object(), checkpoints = json::object();
    json ref_oracle = json::object();
    json violations = json::array(), recent = json::array();
    std::uint64_t violation_count = 0, oom_kills = 0, oom_panics = 0, stalls = 0, failures = 0;
    json workers = json::array(), memcg = json::array();
    std::vector<std::uint64_t> digests;
    for (const json &r : runs) {
        add_numbers(planted, r["planted"]);
        add_numbers(page_cache, r["page_cache"]);
        add_numbers(checkpoints, r["checkpoints"]);
        add_numbers(ref_oracle, r["reference_oracle"]);
        append(violations, r["violations"]);
        append(recent, r["log"]["recent"]);
        violation_count += r["violation_count"].get<std::uint64_t>();
        oom_kills += r["oom"]["kills"].get<std::uint64_t>();
        oom_panics += r["oom"]["panics"].get<std::uint64_t>();
        stalls += r["log"]["stalls"].get<std::uint64_t>();
        failures += r["log"]["alloc_failures"].get<std::uint64_t>();
        // Worker i of every run is one line: the first run's seed (each run's is in
        // pcp_phases), its operations, and one digest over the runs' streams in order.
        const json &w = r["workers"];
        for (std::size_t i = 0; i < w.size(); i++) {
            const auto d = std::stoull(w[i]["stream_digest"].get<std::string>(), nullptr, 16);
            if (i >= workers.size()) {
                workers.push_back(w[i]);
                digests.push_back(d);
                continue;
            }
            workers[i]["ops"] =
                workers[i]["ops"].get<std::uint64_t>() + w[i]["ops"].get<std::uint64_t>();
            digests[i] = (digests[i] ^ d) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull;
        }
        const json &m = r["memcg"];
        for (std::size_t i = 0; i < m.size(); i++) {
            if (i >= memcg.size()) {
                memcg.push_back(m[i]);
                continue;
            }
            for (const char *k : {"failcnt", "forced"})
                memcg[i][k] = memcg[i][k].get<std::uint64_t>() + m[i][k].get<std::uint64_t>();
            memcg[i]["max_usage_pages"] = std::max(memcg[i]["max_usage_pages"].get<std::uint64_t>(),
                                                   m[i]["max_usage_pages"].get<std::uint64_t>());
        }
    }
    for (std::size_t i = 0; i < workers.size(); i++)
        workers[i]["stream_digest"] = fmt::format("{:016x}", digests[i]);
    whole["planted"] = planted;
    whole["page_cache"] = page_cache;
    whole["checkpoints"] = checkpoints;
    whole["reference_oracle"] = ref_oracle;
    whole["violations"] = violations;
    whole["violation_count"] = violation_count;
    whole["oom"]["kills"] = oom_kills;
    whole["oom"]["panics"] = oom_panics;
    whole["log"]["stalls"] = stalls;
    whole["log"]["alloc_failures"] = failures;
    whole["log"]["recent"] = recent;
    whole["workers"] = workers;
    whole["memcg"] = memcg;
    json list = json::array();
    for (const auto &p : phases)
        list.push_back({{"pcp_mode", pcp_mode_name(p.cfg.sc.pcp)},
                        {"ran", p.lists},
                        {"cpus", p.cpus},
                        {"seed", p.cfg.seed},
                        {"seconds", p.seconds},
                        {"ops", p.ops},
                        {"violation_count", p.violations},
                        {"ok", p.ok}});
    whole["pcp_phases"] = list;
    return whole;
}

json merge_trace_documents(const std::vector<json> &runs, const std::vector<pcp_phase> &phases) {
    if (runs.size() == 1)
        return runs.front();
    json events = json::array();
    std::uint64_t dropped = 0;
    double offset_us = 0;
    for (std::size_t i = 0; i < runs.size(); i++) {
        const int pid = int(i) + 1;
        events.push_back({{"name", "process_name"},
                          {"ph", "M"},
                          {"pid", pid},
                          {"args", {{"name", "per-CPU lists " + phases[i].lists}}}});
        for (json e : runs[i]["traceEvents"]) {
            e["pid"] = pid;
            if (e.contains("ts"))
                e["ts"] = e["ts"].get<double>() + offset_us;
            events.push_back(std::move(e));
        }
        dropped += runs[i]["metadata"].value("events_dropped", std::uint64_t(0));
        offset_us += phases[i].seconds * 1e6;
    }
    json doc = runs.back();
    doc["traceEvents"] = events;
    doc["metadata"]["events_dropped"] = dropped;
    doc["metadata"]["seed"] = phases.front().cfg.seed;
    return doc;
}

void finish_rotation(const campaign_config &c, campaign_result &whole) {
    // A run too short to plant the wrong caller passes alone; the whole must find it.
    if (c.sc.expects_i9 && !whole.reported_i9)
        whole.verdict.push_back("the wrong caller's reclaim recursion was not reported (I9) in "
                                "any run");
    whole.ok = whole.verdict.empty();
}

void print_rotation(const campaign_config &c, const std::vector<pcp_phase> &phases,
                    const campaign_result &whole) {
    std::string modes;
    for (const auto &p : phases)
        modes +=
            fmt::format("{}{} {:.1f} s ({} ops{})", modes.empty() ? "" : ", ", p.lists, p.seconds,
                        p.ops, p.violations ? fmt::format(", {} violations", p.violations) : "");
    fmt::print("gfplab-stress: scenario {}, seed {}: {} runs, one per per-CPU mode, {:.1f} s, {} "
               "operations: {}\n",
               c.sc.name, c.seed, phases.size(), whole.seconds, whole.ops, modes);
    if (whole.ok)
        fmt::print("OK: no violation{}\n",
                   c.sc.expects_i9 ? ", and the planted reclaim recursion was reported (I9)" : "");
    else
        for (const auto &why : whole.verdict)
            fmt::print("FAIL: {}\n", why);
}

} // namespace gfplab::stress
