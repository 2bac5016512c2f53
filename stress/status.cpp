// SPDX-License-Identifier: MIT
#include "output.hpp"
#include "worker.hpp"

#include <gfplab/shrinker.hpp>

#include <fmt/format.h>

namespace gfplab::stress {

std::string status_line(shared_state &st, double elapsed, double total, std::uint64_t total_ops) {
    static double last_elapsed = 0;
    static std::uint64_t last_ops = 0;
    std::uint64_t ops = 0;
    for (const auto &w : st.workers)
        ops += w->ops_done();
    const double rate =
        elapsed > last_elapsed ? double(ops - last_ops) / (elapsed - last_elapsed) : 0;
    last_elapsed = elapsed;
    last_ops = ops;

    std::string s = total > 0 ? fmt::format("{:5.1f}/{:g}s", elapsed, total)
                              : fmt::format("{:5.1f}s {}/{} ops", elapsed, ops, total_ops);
    s += fmt::format(" {:6.2f}M op/s", rate / 1e6);
    // zone: free (min/low/high), the kernel's zoneinfo order.
    for (int nid = 0; nid < st.sys.nr_nodes(); nid++)
        for (const auto &z : st.sys.node(nid).node_zones)
            if (z.populated())
                s += fmt::format(" | {} {} ({}/{}/{})", z.name, z.page_state(NR_FREE_PAGES),
                                 z.min_wmark_pages(), z.low_wmark_pages(), z.high_wmark_pages());
    std::uint64_t kswapd = 0, shrinker_calls = 0;
    for (int nid = 0; nid < st.sys.nr_nodes(); nid++)
        kswapd += st.sys.kswapd_statistics(nid).rounds;
    for (const auto &sh : st.sys.shrinkers().stats())
        shrinker_calls += sh.calls;
    const auto &a = st.sys.stats();
    s += fmt::format(" | kswapd {} direct {} shrink {} oom {} | violations {}", kswapd,
                     a.allocstall_total(), shrinker_calls, a.oom_kill.load(),
                     st.orc.violation_count());
    return s;
}

} // namespace gfplab::stress
