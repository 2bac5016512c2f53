// SPDX-License-Identifier: MIT
#include "shrinker_liveness.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

namespace gfplab::fuzz {

struct liveness_token {
    std::string name;
    liveness_reporter report;
    std::atomic<bool> retired{false};
    std::atomic<long> in_flight{0};
};

namespace {

// The table outlives every System (a function-local static: callbacks may run from
// library threads until the very end), and its lock is held only for the lookup: never
// across a callback or a report, so a reporter may arm and retire in turn.
struct table {
    std::mutex lock;
    std::unordered_map<const struct shrinker *, std::shared_ptr<liveness_token>> tokens;
    std::deque<std::pair<const struct shrinker *, std::shared_ptr<liveness_token>>> retired;
    liveness_reporter last_reporter;
};

table &the_table() {
    static table *t = new table; // never destroyed: late calls may come during exit
    return *t;
}

void report_unknown(const struct shrinker *s, const char *callback) {
    liveness_reporter r;
    {
        std::lock_guard<std::mutex> g(the_table().lock);
        r = the_table().last_reporter;
    }
    const std::string what = "shrinker called after shrinker_free()";
    const std::string msg = fmt::format(
        "{} of shrinker {} called, and no harness shrinker lives at that address: it was "
        "freed (and retired) long ago, or never registered through the harness",
        callback, static_cast<const void *>(s));
    if (r)
        return r(what, msg);
    std::fprintf(stderr, "I15 %s: %s\n", what.c_str(), msg.c_str());
    std::abort();
}

} // namespace

void shrinker_liveness::arm(const struct shrinker *s, std::string name, liveness_reporter report) {
    auto t = std::make_shared<liveness_token>();
    t->name = std::move(name);
    t->report = report;
    table &tab = the_table();
    std::lock_guard<std::mutex> g(tab.lock);
    tab.tokens[s] = std::move(t);
    tab.last_reporter = std::move(report);
}

void shrinker_liveness::retire(const struct shrinker *s) {
    table &tab = the_table();
    std::shared_ptr<liveness_token> t;
    {
        std::lock_guard<std::mutex> g(tab.lock);
        auto it = tab.tokens.find(s);
        if (it == tab.tokens.end() || it->second->retired.load())
            return;
        t = it->second;
        tab.retired.emplace_back(s, t);
        if (tab.retired.size() > max_retired) {
            // Forget the oldest retirement unless its address was armed again since.
            auto [old, old_token] = std::move(tab.retired.front());
            tab.retired.pop_front();
            auto o = tab.tokens.find(old);
            if (o != tab.tokens.end() && o->second == old_token)
                tab.tokens.erase(o);
        }
    }
    t->retired.store(true);
    const long n = t->in_flight.load();
    if (n == 0)
        return;
    t->report("shrinker_free() returned during a call",
              fmt::format("shrinker \"{}\": shrinker_free() returned while {} call(s) of its "
                          "callbacks still ran; the owner waits for them before freeing its "
                          "data",
                          t->name, n));
    while (t->in_flight.load() != 0)
        std::this_thread::yield();
}

shrinker_call::shrinker_call(const struct shrinker *s, const char *callback) {
    std::shared_ptr<liveness_token> t;
    {
        table &tab = the_table();
        std::lock_guard<std::mutex> g(tab.lock);
        auto it = tab.tokens.find(s);
        if (it != tab.tokens.end())
            t = it->second;
    }
    if (!t) {
        report_unknown(s, callback);
        return;
    }
    t->in_flight.fetch_add(1);
    if (!t->retired.load()) {
        token_ = std::move(t);
        return;
    }
    t->in_flight.fetch_sub(1);
    t->report("shrinker called after shrinker_free()",
              fmt::format("{} of shrinker \"{}\" called after shrinker_free() returned; the "
                          "harness did not touch the freed shrinker",
                          callback, t->name));
}

shrinker_call::~shrinker_call() {
    if (token_)
        token_->in_flight.fetch_sub(1);
}

} // namespace gfplab::fuzz
