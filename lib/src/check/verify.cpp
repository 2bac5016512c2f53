// SPDX-License-Identifier: MIT
//
// System::verify(): a quiescent recount of every zone. With no allocation in flight:
//   I1   no two free blocks, per-CPU pages or allocations overlap; every allocation holds a
//        reference.
//   I2   the free and per-CPU lists are well formed (every block aligned, in its zone,
//        flagged as free or per-CPU with its order; the page-frame backend checks its own
//        structures, frames/backend.hpp); NR_FREE_PAGES, the free-list counts and
//        the highatomic counts equal a recount of the lists and pageblocks; every page is
//        free, cached or allocated, and buddy free + per-CPU cached + allocated = managed.
//   I3   NR_FREE_PAGES as cheaply read is within the per-CPU drift bound of the truth.
//   I6   every free block is on the list of its pageblock's migratetype.
//   I13  compound pages have consistent head and tail metadata.
#include <gfplab/system.hpp>

#include "../frames/backend.hpp"
#include "../pcp/pcp.hpp"
#include "../reclaim/kvfree_rcu.hpp"

#include <fmt/format.h>

#include <vector>

namespace gfplab {
namespace {

struct zone_checker final : free_frame_walker {
    zone &z;
    std::vector<violation> &out;
    std::vector<bool> covered; // pages already accounted for by a free block or allocation

    zone_checker(zone &zz, std::vector<violation> &o) : z(zz), out(o) {}

    void bad(invariant inv, const char *what, std::string msg, long long pfn = -1) override {
        out.push_back({inv, what,
                       fmt::format("node {} zone {}: {}", z.node, z.name, std::move(msg)), 0, -1,
                       pfn, ""});
    }

    // Marks [pfn, pfn + n) as accounted for; false (and a report) on overlap.
    bool cover(unsigned long pfn, unsigned long n, const char *what) override {
        for (unsigned long i = 0; i < n; i++) {
            unsigned long off = pfn - z.zone_start_pfn + i;
            if (covered[off]) {
                bad(invariant::single_owner, "overlap",
                    fmt::format("pfn {:#x} belongs to two blocks (found again as {})", pfn + i,
                                what),
                    (long long)(pfn + i));
                return false;
            }
            covered[off] = true;
        }
        return true;
    }

    unsigned long walk_pcp_lists(const pcp::area &a) {
        unsigned long cached = 0;
        a.for_each_cached(z, [&](std::uint32_t pfn, unsigned order, unsigned list) {
            const page &p = z.mem_map[pfn];
            if (!z.contains(pfn) || !(p.flags.load() & PG_pcp) || p.order != order ||
                (pfn & ((1u << order) - 1)))
                bad(invariant::counters, "corrupt per-CPU list",
                    fmt::format("pfn {:#x} on per-CPU list {} (order {}) has flags {:#x}, "
                                "order {}",
                                pfn, list, order, p.flags.load(), p.order),
                    pfn);
            else if (cover(pfn, 1ul << order, "per-CPU page"))
                cached += 1ul << order;
        });
        return cached;
    }

    unsigned long walk_allocations() {
        unsigned long allocated = 0;
        for (unsigned long pfn = z.zone_start_pfn; pfn < z.end_pfn();) {
            const page &p = z.mem_map[pfn];
            std::uint32_t f = p.flags.load();
            unsigned long off = pfn - z.zone_start_pfn;
            if (f & (PG_buddy | PG_pcp)) {
                pfn += 1ul << p.order;
                continue;
            }
            if (!(f & PG_owned)) {
                if (!covered[off])
                    bad(invariant::counters, "lost page",
                        fmt::format("pfn {:#x} is neither free nor allocated", pfn), pfn);
                pfn++;
                continue;
            }
            const unsigned long n = 1ul << p.order;
            if (p.refcount.load() <= 0)
                bad(invariant::single_owner, "allocated page without a reference",
                    fmt::format("pfn {:#x} (order {}) has refcount {}", pfn, p.order,
                                p.refcount.load()),
                    pfn);
            for (unsigned long i = 1; (f & PG_head) && i < n; i++) {
                const page &t = z.mem_map[pfn + i];
                if (!(t.flags.load() & PG_tail) || t.lru.next != pfn)
                    bad(invariant::compound, "corrupt compound page",
                        fmt::format("tail {} of the compound page at pfn {:#x} has flags {:#x}, "
                                    "head {:#x}",
                                    i, pfn, t.flags.load(), t.lru.next),
                        (long long)(pfn + i));
            }
            cover(pfn, n, "allocation");
            allocated += n;
            pfn += n;
        }
        return allocated;
    }

    void run(const pcp::area &a) {
        zone_lock_guard guard(z, 0);
        covered.assign(z.spanned_pages, false);
        unsigned long highatomic = 0;
        const unsigned long free_pages = z.frames->verify_free(*this, &highatomic);
        const unsigned long cached = walk_pcp_lists(a);
        const unsigned long allocated = walk_allocations();
        auto expect = [&](const char *name, long counter, unsigned long recount) {
            if (counter != long(recount))
                bad(invariant::counters, "counter drift",
                    fmt::format("{} is {} but a recount finds {}", name, counter, recount));
        };
        expect("NR_FREE_PAGES", z.page_state_snapshot(NR_FREE_PAGES), free_pages);
        // I3: the cheap read may be off, but never by more than the exported bound.
        const long drift = z.vm_stat[NR_FREE_PAGES].load() - long(free_pages);
        if (drift > z.drift_bound() || -drift > z.drift_bound())
            bad(invariant::drift, "counter drift beyond the bound",
                fmt::format("NR_FREE_PAGES reads {} but is {}: off by {}, bound {} ({} CPUs x "
                            "threshold {})",
                            z.vm_stat[NR_FREE_PAGES].load(), free_pages, drift, z.drift_bound(),
                            z.stat_cpus, z.normal_stat_threshold));
        expect("nr_free_highatomic", z.nr_free_highatomic.load(), highatomic);
        if (free_pages + cached + allocated != z.managed_pages)
            bad(invariant::counters, "pages unaccounted",
                fmt::format("buddy free {} + per-CPU {} + allocated {} != managed {}", free_pages,
                            cached, allocated, z.managed_pages));
        unsigned long highatomic_blocks = 0;
        for (unsigned long b = 0; b < (z.spanned_pages >> pageblock_order); b++)
            highatomic_blocks += z.pageblock_mt[b].load() == MIGRATE_HIGHATOMIC;
        if (highatomic_blocks * pageblock_nr_pages != z.nr_reserved_highatomic.load())
            bad(invariant::counters, "highatomic reserve",
                fmt::format("nr_reserved_highatomic is {} but {} pageblocks are HIGHATOMIC",
                            z.nr_reserved_highatomic.load(), highatomic_blocks));
    }
};

} // namespace

std::vector<violation> System::verify() {
    std::vector<violation> out;
    for (auto &n : nodes_)
        for (auto &z : n->node_zones)
            if (z.populated())
                zone_checker(z, out).run(*pcp_);
    // I20: every pointer kvfree_rcu() took is freed or still held in a batch.
    kfree_rcu_->verify(out);
    return out;
}

} // namespace gfplab
