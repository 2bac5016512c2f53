// SPDX-License-Identifier: MIT
//
// Outcome tests: a System prepared into a state (fragmented, below min, nothing to reclaim,
// no OOM victim, a highatomic reserve) and a request; the test asserts what 6.12's slow path
// decides for it (success, failure after so many rounds, the OOM killer, a panic) and names
// the kernel function and rule it follows. last_slowpath_trace() says how the slow path got
// there.
#include <gfplab/alloc_flags.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmstat.hpp>

#include <gtest/gtest.h>

#include "../lib/src/internal.hpp"
#include "support/memory.hpp"
#include "support/page_shrinker.hpp"
#include "support/reports.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace gfplab;
using namespace gfplab::test;

// compact_result and compact_priority values (mm/compaction.h), as the trace records them.
constexpr int COMPACT_COMPLETE = 5;
constexpr int MIN_COMPACT_PRIORITY = 0;

system_config config() {
    return reclaim_config(false, 60000);
}

// Half of ZONE_NORMAL free, all of it in order-0 blocks whose buddies are held: every page is
// taken (__GFP_MEMALLOC ignores the watermarks), then those with an odd pfn are given back.
// Compaction would find plenty of order-0 pages and nothing it may move.
struct fragmented {
    System &s;
    std::vector<page *> held; // even pfns

    explicit fragmented(System &sys) : s(sys) {
        auto all = exhaust(s, GFP_NOWAIT | __GFP_MEMALLOC);
        for (page *p : all)
            if (s.page_to_pfn(p) & 1)
                s.free_pages(p, 0);
            else
                held.push_back(p);
        s.drain_all_pages();
    }
    ~fragmented() { release(s, held); }
    // Hands the held pages with pfn % 4 == 0 to `out`: freeing them later makes order-1
    // blocks, never an order-2 one (their order-1 buddies stay held).
    void give_quarter(std::vector<page *> &out) {
        auto keep = std::stable_partition(held.begin(), held.end(),
                                          [&](page *p) { return s.page_to_pfn(p) % 4 != 0; });
        out.assign(keep, held.end());
        held.erase(keep, held.end());
    }
};

// __alloc_pages_slowpath() with CONFIG_COMPACTION: memory that cannot be compacted and
// nothing to reclaim. A non-costly __GFP_RETRY_MAYFAIL request compacts (asynchronously
// first, then at DEF_COMPACT_PRIORITY), reclaims nothing, and should_reclaim_retry() finds no
// order-2 block even counting what could be reclaimed; without progress
// should_compact_retry() is not asked, and __alloc_pages_may_oom() does not kill for
// RETRY_MAYFAIL: it fails in one round.
TEST(SlowPathOutcome, RetryMayfailOnUncompactableMemoryFailsInOneRound) {
    System s(config());
    fragmented f(s);
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN, 2), nullptr);
    const slowpath_trace &t = last_slowpath_trace();
    EXPECT_TRUE(t.failed);
    EXPECT_EQ(t.rounds, 1u);
    EXPECT_EQ(t.compaction_runs, 2u); // the early async attempt, then the one after reclaim
    EXPECT_EQ(t.compaction, COMPACT_COMPLETE) << compact_result_name(t.compaction);
    EXPECT_EQ(t.compact_retries, 0u);
    EXPECT_EQ(s.stats().oom_kill.load() + s.stats().oom_panics.load(), 0u);
    EXPECT_EQ(s.stats().compact_stall.load(), 2u);
    EXPECT_EQ(s.stats().compact_fail.load(), 2u);
    // The synchronous run that found nothing deferred compaction in the zone.
    EXPECT_EQ(s.node(0).node_zones[ZONE_NORMAL].compact_defer_shift.load(), 1u);
}

// should_compact_retry(): while reclaim makes progress (a shrinker frees pages, none of which
// can make an order-2 block), a failed compaction is retried once per priority level left:
// DEF_COMPACT_PRIORITY, then MIN_COMPACT_PRIORITY, then the request fails. The model without
// compaction used to loop for as long as the shrinker had pages.
TEST(SlowPathOutcome, CompactionRetriesEscalatePriorityOnceThenTheRequestFails) {
    System s(config());
    fragmented f(s);
    std::vector<page *> quarter;
    f.give_quarter(quarter);
    page_shrinker cache(s, "outcome-test", std::move(quarter));
    const std::size_t cached = cache.size();
    ASSERT_GT(cached, 1000u);
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN, 2), nullptr);
    const slowpath_trace &t = last_slowpath_trace();
    EXPECT_TRUE(t.failed);
    EXPECT_EQ(t.rounds, 2u);
    EXPECT_EQ(t.compact_retries, 1u);
    EXPECT_EQ(t.reclaim_retries, 0u);
    EXPECT_EQ(t.compact_priority, MIN_COMPACT_PRIORITY);
    EXPECT_EQ(t.compaction, COMPACT_COMPLETE) << compact_result_name(t.compaction);
    EXPECT_GT(cache.size(), 0u) << "bounded retries leave the shrinker pages to give";
    EXPECT_EQ(s.stats().oom_invocations.load(), 0u);
}

// __alloc_pages_slowpath(): a costly __GFP_NORETRY request (the THP fault's kind) tries
// compaction first; when compaction is skipped (too few order-0 pages above the low
// watermark plus compact_gap()) it fails at once, without reclaim.
TEST(SlowPathOutcome, CostlyNoretryGivesUpWhenCompactionIsSkipped) {
    System s(config());
    auto held = exhaust(s, GFP_KERNEL | __GFP_NORETRY);
    const auto reclaims = s.stats().allocstall_total();
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 4), nullptr);
    const slowpath_trace &t = last_slowpath_trace();
    EXPECT_TRUE(t.failed);
    EXPECT_EQ(t.rounds, 0u);
    EXPECT_EQ(t.compaction_runs, 1u);
    EXPECT_EQ(s.stats().allocstall_total(), reclaims) << "no reclaim for it";
    EXPECT_EQ(s.stats().compact_stall.load(), 0u) << "a skipped compaction is no stall";
    release(s, held);
}

// should_reclaim_retry(): before giving up (and going OOM), the highatomic reserves are
// released (unreserve_highatomic_pageblock(ac, true)), and each release is worth another
// round. Here the reserve's free pages are all that stands between the request and min.
TEST(SlowPathOutcome, HighatomicReserveIsReleasedBeforeOom) {
    auto c = config();
    c.memory_bytes = 256ull << 20; // a reserve needs 100 pageblocks in the zone
    System s(c);
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    auto held = exhaust(s, GFP_KERNEL | __GFP_NORETRY);
    // A non-blocking order-2 request below the watermarks sets a pageblock aside.
    release(s, held);
    while (z.page_state_snapshot(NR_FREE_PAGES) > long(z.low_wmark_pages()))
        held.push_back(s.alloc_pages(GFP_KERNEL | __GFP_NORETRY, 0));
    page *atomic = s.alloc_pages(GFP_ATOMIC, 2);
    ASSERT_NE(atomic, nullptr);
    ASSERT_EQ(z.nr_reserved_highatomic.load(), pageblock_nr_pages);
    // Everything else a GFP_KERNEL request may take.
    auto rest = exhaust(s, GFP_KERNEL | __GFP_NORETRY);
    ASSERT_GT(z.nr_free_highatomic.load(), 0);
    page *p = s.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0);
    ASSERT_NE(p, nullptr) << "served from the released reserve";
    const slowpath_trace &t = last_slowpath_trace();
    EXPECT_EQ(t.reclaim_retries, 1u);
    EXPECT_EQ(t.oom_calls, 0u);
    EXPECT_EQ(z.nr_reserved_highatomic.load(), 0u);
    s.free_pages(p, 0);
    s.free_pages(atomic, 2);
    release(s, rest);
    release(s, held);
    expect_clean(s);
}

// out_of_memory(): with nothing to kill, 6.12 panics ("System is deadlocked on memory"). The
// model counts and logs the panic and fails the request.
TEST(SlowPathOutcome, OomWithNoVictimIsAPanic) {
    System s(config());
    std::vector<std::string> log;
    s.set_log_sink([&](const std::string &l) { log.push_back(l); });
    fragmented f(s);
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 2), nullptr);
    EXPECT_EQ(last_slowpath_trace().oom_calls, 1u);
    EXPECT_EQ(s.stats().oom_panics.load(), 1u);
    EXPECT_EQ(s.stats().oom_kill.load(), 0u);
    ASSERT_FALSE(log.empty());
    EXPECT_NE(log.back().find("System is deadlocked on memory"), std::string::npos) << log.back();
}

// __alloc_pages_slowpath(): __GFP_NOFAIL without __GFP_DIRECT_RECLAIM is a caller's bug 6.12
// warns about, then serves as the same mask without NOFAIL: below min it fails (no I11), and
// the mistake is reported (I16) without being refused.
TEST(SlowPathOutcome, NofailThatCannotReclaimFailsLikeAtomic) {
    System s(config());
    collected r;
    r.attach(s);
    auto held = exhaust(s, GFP_ATOMIC);
    EXPECT_EQ(s.alloc_pages(GFP_ATOMIC | __GFP_NOFAIL | __GFP_NOWARN, 0), nullptr);
    EXPECT_TRUE(r.has(invariant::bad_input, "NOFAIL that cannot reclaim"));
    EXPECT_FALSE(r.has(invariant::retry_rules, "NOFAIL failed"));
    EXPECT_EQ(s.stats().refused.load(), 0u);
    release(s, held);
}

// alloc_flags_nofragment() looks at the preferred zone (the zonelist's first eligible one),
// not at the zone bound: a movable request whose preferred zone is ZONE_MOVABLE does not
// avoid fragmenting, a GFP_KERNEL one preferring ZONE_NORMAL does, and one bounded by
// DMA32 does not.
TEST(AllocFlagsOutcome, NofragmentFollowsThePreferredZone) {
    auto c = config();
    c.memory_bytes = 128ull << 20;
    c.dma32_limit = 32ull << 20;
    c.movable_bytes_per_node = 32ull << 20;
    System s(c);
    ASSERT_TRUE(s.node(0).node_zones[ZONE_MOVABLE].populated());
    auto flags = [&](gfp_t gfp) {
        alloc_context ac;
        ac.highest_zoneidx = gfp_zone(gfp);
        ac.zonelist = s.node(0).zonelists[gfp_zonelist(gfp)].data();
        return preferred_zone_alloc_flags(s, ac, gfp);
    };
    EXPECT_FALSE(flags(GFP_HIGHUSER_MOVABLE) & ALLOC_NOFRAGMENT) << "preferred: ZONE_MOVABLE";
    EXPECT_TRUE(flags(GFP_KERNEL) & ALLOC_NOFRAGMENT) << "preferred: ZONE_NORMAL";
    EXPECT_FALSE(flags(GFP_DMA32) & ALLOC_NOFRAGMENT) << "preferred: ZONE_DMA32";
    EXPECT_EQ(flags(GFP_KERNEL) & ALLOC_WMARK_MASK, ALLOC_WMARK_LOW);
}

// The statistics name direct reclaim entries as 6.12's vmstat does (allocstall_<zone>, by
// the request's highest zone), and count compaction's stalls and failures ("compact_stall",
// "compact_fail") as it does; gfplab's own counters say so in their names.
TEST(SlowPathOutcome, CountersUseTheKernelsNames) {
    System s(config());
    fragmented f(s);
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN, 2), nullptr);
    std::map<std::string, std::uint64_t> counters;
    for (const auto &[name, value] : take_vmstat_snapshot(s).counters)
        counters[name] = value;
    EXPECT_EQ(counters.at("allocstall_normal"), s.stats().allocstall_total());
    EXPECT_EQ(counters.at("allocstall_normal"), 1u);
    EXPECT_EQ(counters.at("allocstall_dma32") + counters.at("allocstall_dma") +
                  counters.at("allocstall_movable"),
              0u);
    EXPECT_EQ(counters.count("allocstall"), 0u) << "6.12 has one per zone, no total";
    EXPECT_EQ(counters.at("compact_stall"), 2u);
    EXPECT_EQ(counters.at("compact_fail"), 2u);
    EXPECT_EQ(counters.at("compact_success"), 0u);
    EXPECT_EQ(counters.at("gfplab_slowpath_entries"), s.stats().slowpath.load());
    EXPECT_EQ(counters.count("slowpath_entries"), 0u);
}

// build_all_zonelists() would set page_group_by_mobility_disabled below
// pageblock_nr_pages * MIGRATE_TYPES pages; the model keeps grouping on for every System
// (a deliberate choice, docs/fidelity.md): a movable page of a 4 MiB System still comes
// from a MOVABLE pageblock and an unmovable one makes its own.
TEST(ModelChoice, TinySystemStillGroupsByMobility) {
    auto c = config();
    c.memory_bytes = 4ull << 20;
    System s(c);
    ASSERT_LT(s.max_pfn(), pageblock_nr_pages * MIGRATE_TYPES);
    zone &z = s.page_zone(s.pfn_to_page(0));
    page *movable = s.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    page *unmovable = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(movable, nullptr);
    ASSERT_NE(unmovable, nullptr);
    EXPECT_EQ(z.pageblock_migratetype(s.page_to_pfn(movable)), MIGRATE_MOVABLE);
    EXPECT_EQ(z.pageblock_migratetype(s.page_to_pfn(unmovable)), MIGRATE_UNMOVABLE);
    s.free_pages(movable, 0);
    s.free_pages(unmovable, 0);
}

} // namespace
