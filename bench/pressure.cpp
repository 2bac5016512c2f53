// SPDX-License-Identifier: MIT
#include "pressure.hpp"

#include "buddy_option.hpp"

#include <gfplab/linux/gfp_types.h>

#include <cstdio>
#include <string>

namespace bench {

pressure_machine make_pressure_machine(std::uint64_t bytes, gfplab::pcp_mode pcp) {
    gfplab::system_config cfg;
    cfg.memory_bytes = bytes;
    cfg.pcp = pcp;
    cfg.buddy = buddy_choice;
    cfg.warn_alloc = false;
    cfg.kswapd = true;
    pressure_machine m;
    m.sys = std::make_unique<gfplab::System>(cfg);
    // Under this much pressure the OOM killer is called and finds no victim, often; its
    // messages would flood the console. oom_per_second counts them instead.
    m.sys->set_log_sink([](const std::string &) {});
    m.pool = std::make_unique<page_pool>(*m.sys);
    return m;
}

void fill_to_min(pressure_machine &m) {
    // GFP_NOWAIT wakes kswapd but never reclaims itself, so it fails at the min watermark;
    // kswapd then works against the filling, which is the steady state we want to start in.
    for (int misses = 0; misses < 4;) {
        gfplab::page *p = m.sys->alloc_pages(GFP_NOWAIT | __GFP_NOWARN, 0);
        if (p)
            m.pool->put(p, 0);
        else
            misses++;
    }
}

bool retire_pressure_machine(pressure_machine &m, const char *who) {
    m.pool.reset();
    gfplab::System &s = *m.sys;
    bool ok = true;
    if (s.report_count()) {
        std::fprintf(stderr, "%s: the System reported %llu violation(s)\n", who,
                     static_cast<unsigned long long>(s.report_count()));
        for (const gfplab::violation &v : s.recent_reports())
            std::fprintf(stderr, "%s:   %s\n", who, gfplab::format_violation(v).c_str());
        ok = false;
    }
    // kswapd may still be finishing a round the last frees woke it for.
    s.kswapd_park();
    for (const gfplab::violation &v : s.verify()) {
        std::fprintf(stderr, "%s: after the run: %s\n", who, gfplab::format_violation(v).c_str());
        ok = false;
    }
    s.kswapd_unpark();
    m.sys.reset();
    return ok;
}

reclaim_counters read_reclaim_counters(pressure_machine &m) {
    gfplab::System &s = *m.sys;
    reclaim_counters c;
    for (int nid = 0; nid < s.nr_nodes(); nid++)
        c.kswapd_rounds += s.kswapd_statistics(nid).rounds;
    c.direct_reclaim = s.stats().allocstall_total();
    c.failures = s.stats().failures.load(std::memory_order_relaxed);
    c.oom = s.stats().oom_invocations.load(std::memory_order_relaxed);
    c.shrinker_calls = m.pool ? m.pool->scans() : 0;
    return c;
}

} // namespace bench
