// SPDX-License-Identifier: MIT
#include "ledger.hpp"

#include <fmt/format.h>

namespace gfplab::stress {

page_ledger::result page_ledger::check(System &sys, unsigned long managed, long phantom) const {
    result r;
    r.managed = managed;
    const std::uint64_t returned_before = returned_.load();
    const std::uint64_t handed_before = handed_.load();
    // Handed out read after returned: a page both entered and taken out in between counts
    // once in neither, never twice.
    r.held = long(handed_before) - long(returned_before) + phantom;
    for (int nid = 0; nid < sys.nr_nodes(); nid++)
        for (auto &z : sys.node(nid).node_zones) {
            if (!z.populated())
                continue;
            zone_lock_guard g(z, 0);
            r.free += z.page_state_snapshot(NR_FREE_PAGES);
        }
    r.returned = long(returned_.load() - returned_before);
    if (r.free + r.held - r.returned > long(managed)) {
        r.ok = false;
        r.message = fmt::format("{} pages free (NR_FREE_PAGES, exact) + {} the harness held - "
                                "{} it returned meanwhile = {} > {} managed: pages counted free "
                                "while the harness holds them, or a free count inflated",
                                r.free, r.held, r.returned, r.free + r.held - r.returned, managed);
    }
    return r;
}

} // namespace gfplab::stress
