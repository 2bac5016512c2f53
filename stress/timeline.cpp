// SPDX-License-Identifier: MIT
#include "timeline.hpp"

#include "campaign.hpp"
#include "worker.hpp"

#include <gfplab/shrinker.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace gfplab::stress {
namespace {

// The columns after the zones, in order (the plot script finds them by position).
constexpr const char *tail_columns =
    "kswapd_wakeups,kswapd_rounds,kswapd_reclaimed,kswapd_failures,direct_reclaim,"
    "direct_reclaimed,shrinker_calls,shrinker_freed,oom_kills,ops,violations";
constexpr int nr_tail_columns = 11;

std::string find_in_path(const std::string &prog) {
    const char *path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    std::size_t pos = 0;
    while (pos <= dirs.size()) {
        std::size_t colon = dirs.find(':', pos);
        if (colon == std::string::npos)
            colon = dirs.size();
        const std::string candidate = dirs.substr(pos, colon - pos) + "/" + prog;
        if (access(candidate.c_str(), X_OK) == 0)
            return candidate;
        pos = colon + 1;
    }
    return "";
}

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Runs `gnuplot` with the script on its standard input; its exit status.
int run_gnuplot(const std::string &script) {
    std::FILE *p = popen("gnuplot", "w");
    if (!p)
        return -1;
    std::fwrite(script.data(), 1, script.size(), p);
    const int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool has_terminal(const std::string &name) {
    // `set terminal NAME` fails (exit 1) where gnuplot was built without it.
    const std::string cmd = "gnuplot -e 'set terminal " + name + "' </dev/null >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

} // namespace

timeline::timeline(std::string path) : path_(std::move(path)) {
    f_ = std::fopen(path_.c_str(), "w");
    if (!f_)
        throw std::runtime_error("cannot write " + path_);
}

timeline::~timeline() {
    close();
}

void timeline::close() {
    if (f_)
        std::fclose(f_);
    f_ = nullptr;
}

void timeline::sample(shared_state &st, double elapsed) {
    if (!f_)
        return;
    if (rows_ == 0) {
        std::string header = "seconds";
        for (int nid = 0; nid < st.sys.nr_nodes(); nid++)
            for (const auto &z : st.sys.node(nid).node_zones)
                if (z.populated())
                    for (const char *what : {"free", "min", "low", "high"})
                        header += fmt::format(",n{}_{}_{}", nid, z.name, what);
        fmt::print(f_, "{},{}\n", header, tail_columns);
    }
    std::string row = fmt::format("{:.3f}", elapsed);
    for (int nid = 0; nid < st.sys.nr_nodes(); nid++)
        for (const auto &z : st.sys.node(nid).node_zones)
            if (z.populated())
                row += fmt::format(",{},{},{},{}", z.page_state(NR_FREE_PAGES), z.min_wmark_pages(),
                                   z.low_wmark_pages(), z.high_wmark_pages());
    kswapd_stats k;
    for (int nid = 0; nid < st.sys.nr_nodes(); nid++) {
        const auto s = st.sys.kswapd_statistics(nid);
        k.wakeups += s.wakeups;
        k.rounds += s.rounds;
        k.reclaimed += s.reclaimed;
        k.failures = std::max(k.failures, s.failures);
    }
    std::uint64_t calls = 0, freed = 0, ops = 0;
    for (const auto &sh : st.sys.shrinkers().stats()) {
        calls += sh.calls;
        freed += sh.freed;
    }
    for (const auto &w : st.workers)
        ops += w->ops_done();
    const auto &a = st.sys.stats();
    row += fmt::format(",{},{},{},{},{},{},{},{},{},{},{}", k.wakeups, k.rounds, k.reclaimed,
                       k.failures, a.allocstall_total(), a.direct_reclaimed.load(), calls, freed,
                       a.oom_kill.load(), ops, st.orc.violation_count());
    fmt::print(f_, "{}\n", row);
    std::fflush(f_);
    rows_++;
}

std::string plot_problem(const std::string &out) {
    if (!ends_with(out, ".svg") && !ends_with(out, ".png"))
        return fmt::format("--plot {}: the file must end in .svg or .png", out);
    if (find_in_path("gnuplot").empty())
        return "--plot needs gnuplot, which is not on PATH (Debian: apt-get install gnuplot-nox)";
    return "";
}

void plot_timeline(const std::string &csv, const std::string &out, const std::string &title) {
    // The zones are the header's groups of four columns after "seconds".
    std::FILE *f = std::fopen(csv.c_str(), "r");
    if (!f)
        throw std::runtime_error("cannot read " + csv);
    char buf[8192];
    const bool got = std::fgets(buf, sizeof buf, f) != nullptr;
    std::fclose(f);
    if (!got)
        throw std::runtime_error(csv + " is empty: nothing to plot");
    std::vector<std::string> names{""};
    for (const char *c = buf; *c && *c != '\n'; c++)
        if (*c == ',')
            names.emplace_back();
        else
            names.back() += *c;
    const int columns = int(names.size());
    const int zones = (columns - 1 - nr_tail_columns) / 4;
    const int direct = 1 + zones * 4 + 5, oom = 1 + zones * 4 + 9, rounds = 1 + zones * 4 + 2;

    // Free pages run from the whole zone down to the watermarks, which are a few hundredths
    // of it: on a linear axis min, low and high lie on the floor. A log axis shows both
    // ends; an empty zone (0 free) is drawn at 1, the axis' floor. One legend for every
    // panel, in a band of its own under the title, so that it covers no data.
    const int height = 300 * zones + 125;
    const double top = 1.0 - 115.0 / height, key_y = 1.0 - 55.0 / height;
    std::string s;
    if (ends_with(out, ".svg"))
        s += fmt::format("set terminal svg size 1000,{} dynamic background rgb 'white'\n", height);
    else
        s += fmt::format("set terminal {} size 1000,{}\n",
                         has_terminal("pngcairo") ? "pngcairo" : "png", height);
    s += fmt::format("set output '{}'\n", out);
    s += "set datafile separator ','\nset grid\nset autoscale xfix\n";
    s += "set ylabel 'free pages (log scale)' offset 1,0\n"
         "set y2label 'events per sample'\n";
    s += "set ytics nomirror\nset y2tics\nset logscale y\nset yrange [1:*]\n"
         "set y2range [0:1<*]\n";
    s += fmt::format("set multiplot layout {},1 title 'gfplab-stress {}: free pages against "
                     "the watermarks' margins 0.1,0.9,{:.4f},{:.4f} spacing 0.1,{:.4f}\n",
                     zones, title, 60.0 / height, top, 75.0 / height);
    s += fmt::format("set key horizontal at screen 0.5, screen {:.4f} center center "
                     "maxrows 2 samplen 2\n",
                     key_y);
    if (zones == 1)
        s += "set xlabel 'seconds'\n";
    // Per-sample increases of the cumulative counters: reclaim and OOM as marks.
    s += "prev_d = 0; prev_o = 0; prev_k = 0\n";
    for (int z = 0; z < zones; z++) {
        const int c = 2 + z * 4;
        // "n0_Normal_free": node 0, zone Normal.
        std::string zone = names[std::size_t(c - 1)];
        zone = zone.substr(0, zone.rfind('_'));
        const auto us = zone.find('_');
        s += fmt::format("set title 'node {} zone {}'\n", zone.substr(1, us - 1),
                         zone.substr(us + 1));
        s += fmt::format(
            "plot '{0}' using 1:(column({1}) > 0 ? column({1}) : 1) with lines lw 2 "
            "title 'free', "
            "'' using 1:{2} with lines lw 2 lc rgb 'red' title 'min', "
            "'' using 1:{3} with lines lw 2 lc rgb 'orange' title 'low', "
            "'' using 1:{4} with lines lw 2 lc rgb 'dark-green' title 'high', "
            "'' using 1:(d=column({5})-prev_d, prev_d=column({5}), d) axes x1y2 with impulses "
            "lc rgb 'grey' title 'direct reclaim', "
            "'' using 1:(k=column({6})-prev_k, prev_k=column({6}), k) axes x1y2 with impulses "
            "lc rgb 'blue' title 'kswapd rounds', "
            "'' using 1:(o=column({7})-prev_o, prev_o=column({7}), o > 0 ? o : 1/0) axes x1y2 "
            "with points pt 7 ps 1.5 lc rgb 'black' title 'OOM kills'\n",
            csv, c, c + 1, c + 2, c + 3, direct, rounds, oom);
        s += "prev_d = 0; prev_o = 0; prev_k = 0\n";
        // The first panel drew the legend for all; the time axis is named under the last.
        if (z == 0)
            s += "unset key\n";
        if (z == zones - 2)
            s += "set xlabel 'seconds'\n";
    }
    s += "unset multiplot\n";
    if (run_gnuplot(s) != 0)
        throw std::runtime_error("gnuplot failed to draw " + out);
}

} // namespace gfplab::stress
