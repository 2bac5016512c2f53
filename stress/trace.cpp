// SPDX-License-Identifier: MIT
#include "trace.hpp"

#include "output.hpp"

#include <gfplab/shrinker.hpp>

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <stdexcept>

namespace gfplab::stress {
namespace {

// The trace format counts in microseconds.
double us(double seconds) {
    return seconds * 1e6;
}

} // namespace

void trace_log::add(nlohmann::json e) {
    // Violations and checkpoints are few (the oracle keeps at most 1000 violations) and are
    // what a reader opens the trace for: they are kept past the cap.
    const auto &cat = e.value("cat", std::string());
    const bool always = cat == "violation" || cat == "checkpoint";
    std::lock_guard<std::mutex> g(lock_);
    if (events_.size() >= cap_ && !always) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    events_.push_back(std::move(e));
}

void trace_log::complete(std::string_view name, std::string_view cat, double start, double dur,
                         int tid, nlohmann::json args) {
    if (!enabled_)
        return;
    nlohmann::json e = {{"name", name},   {"cat", cat}, {"ph", "X"},     {"ts", us(start)},
                        {"dur", us(dur)}, {"pid", 1},   {"tid", tid + 1}};
    if (!args.is_null())
        e["args"] = std::move(args);
    add(std::move(e));
}

void trace_log::instant(std::string_view name, std::string_view cat, double at, int tid,
                        nlohmann::json args) {
    if (!enabled_)
        return;
    nlohmann::json e = {{"name", name}, {"cat", cat}, {"ph", "i"},     {"s", "t"},
                        {"ts", us(at)}, {"pid", 1},   {"tid", tid + 1}};
    if (!args.is_null())
        e["args"] = std::move(args);
    add(std::move(e));
}

void trace_log::counter(std::string_view name, double at, nlohmann::json values) {
    if (!enabled_)
        return;
    add({{"name", name}, {"ph", "C"}, {"ts", us(at)}, {"pid", 1}, {"tid", 0}, {"args", values}});
}

std::size_t trace_log::size() const {
    std::lock_guard<std::mutex> g(lock_);
    return events_.size();
}

nlohmann::json trace_log::document(nlohmann::json metadata) const {
    std::lock_guard<std::mutex> g(lock_);
    nlohmann::json events = nlohmann::json::array();
    std::set<int> tids;
    for (const auto &e : events_) {
        tids.insert(e["tid"].get<int>());
        events.push_back(e);
    }
    for (int t : tids)
        events.push_back(
            {{"name", "thread_name"},
             {"ph", "M"},
             {"pid", 1},
             {"tid", t},
             {"args",
              {{"name", t == 0 ? std::string("campaign") : fmt::format("worker {}", t - 1)}}}});
    metadata["event_cap"] = cap_;
    metadata["events_dropped"] = dropped_.load();
    if (dropped_.load())
        metadata["note"] =
            fmt::format("the first {} events are kept; {} later ones were dropped (violations "
                        "and checkpoints are always kept)",
                        cap_, dropped_.load());
    return {{"traceEvents", events}, {"displayTimeUnit", "ms"}, {"metadata", metadata}};
}

void trace_sample(shared_state &st, double at, trace_sample_state &last) {
    if (!st.trace.enabled())
        return;
    for (int nid = 0; nid < st.sys.nr_nodes(); nid++)
        for (const auto &z : st.sys.node(nid).node_zones)
            if (z.populated())
                st.trace.counter(fmt::format("node {} {} free pages", nid, z.name), at,
                                 {{"free", z.page_state(NR_FREE_PAGES)},
                                  {"min", z.min_wmark_pages()},
                                  {"low", z.low_wmark_pages()},
                                  {"high", z.high_wmark_pages()}});
    std::uint64_t rounds = 0;
    for (int nid = 0; nid < st.sys.nr_nodes(); nid++)
        rounds += st.sys.kswapd_statistics(nid).rounds;
    const auto &a = st.sys.stats();
    const std::uint64_t direct = a.allocstall_total(), kills = a.oom_kill.load();
    // Rounds and passes since the last sample, one instant each sample (the library does not
    // time them).
    if (rounds > last.kswapd_rounds)
        st.trace.instant("kswapd rounds", "reclaim", at, -1,
                         {{"rounds", rounds - last.kswapd_rounds}});
    if (direct > last.direct_reclaim)
        st.trace.instant("direct reclaim", "reclaim", at, -1,
                         {{"passes", direct - last.direct_reclaim}});
    if (kills > last.oom_kills)
        st.trace.instant("OOM kill", "oom", at, -1, {{"kills", kills - last.oom_kills}});
    last = {rounds, direct, kills};
}

nlohmann::json trace_events_document(shared_state &st) {
    nlohmann::json doc;
    {
        // Violations come from the oracle's list, at the time each was recorded.
        for (const auto &v : st.orc.violations())
            st.trace.instant(fmt::format("I{} {}", id(v.v.inv), v.v.what), "violation",
                             v.at_seconds, v.worker,
                             {{"message", v.v.message}, {"thread", v.thread}, {"op", v.op}});
        doc = st.trace.document({{"program", "gfplab-stress"},
                                 {"scenario", st.cfg.sc.name},
                                 {"seed", st.cfg.seed},
                                 {"slow_alloc_ns", st.cfg.slow_alloc_ns}});
    }
    return doc;
}

} // namespace gfplab::stress
