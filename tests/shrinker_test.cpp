// SPDX-License-Identifier: MIT
//
// The shrinker registry against 6.12 mm/shrinker.c: do_shrink_slab()'s arithmetic worked by
// hand from the kernel's formula, the exact nr_to_scan sequences it produces, SHRINK_STOP and
// SHRINK_EMPTY, NUMA-aware deferral, registration rules, and the I8 and I15 checks.
#include <gfplab/scope.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using gfplab::do_shrink_slab_plan;
using gfplab::shrinker_registry;
using gfplab::violation;

// A scripted cache: count_objects answers `count` (fixed unless `objects_mode`), scan_objects
// records what it was asked and answers per the script.
struct script {
    unsigned long count = 0;
    bool objects_mode = false;       // count = objects left; scans free from them
    unsigned long refill = 0;        // objects_mode: refill to this when found empty
    unsigned long stop_after = ~0ul; // SHRINK_STOP from this call (0-based) on
    long lower_scanned_to = -1;      // >= 0: set nr_scanned to this
    long raise_scanned_by = 0;       // > 0: set nr_scanned above nr_to_scan
    unsigned long extra_freed = 0;   // return nr_to_scan + this
    std::vector<unsigned long> nr_to_scan;
    std::vector<int> nids;
    std::vector<gfp_t> masks;
    unsigned counts = 0;
};

unsigned long count_cb(struct shrinker *s, struct shrink_control *sc) {
    auto *sp = static_cast<script *>(s->private_data);
    sp->counts++;
    sp->nids.push_back(sc->nid);
    sp->masks.push_back(sc->gfp_mask);
    if (sp->objects_mode) {
        if (sp->count == 0 && sp->refill)
            sp->count = sp->refill;
        return sp->count ? sp->count : SHRINK_EMPTY;
    }
    return sp->count;
}

unsigned long scan_cb(struct shrinker *s, struct shrink_control *sc) {
    auto *sp = static_cast<script *>(s->private_data);
    const std::size_t call = sp->nr_to_scan.size();
    sp->nr_to_scan.push_back(sc->nr_to_scan);
    if (call >= sp->stop_after)
        return SHRINK_STOP;
    if (sp->lower_scanned_to >= 0)
        sc->nr_scanned = static_cast<unsigned long>(sp->lower_scanned_to);
    if (sp->raise_scanned_by > 0)
        sc->nr_scanned = sc->nr_to_scan + static_cast<unsigned long>(sp->raise_scanned_by);
    if (sp->objects_mode) {
        const unsigned long n = std::min(sc->nr_to_scan, sp->count);
        sp->count -= n;
        return n;
    }
    return sc->nr_to_scan + sp->extra_freed;
}

struct fixture : ::testing::Test {
    explicit fixture(int nodes = 1) : reg(nodes) {
        reg.set_report_sink([this](violation v) { reports.push_back(std::move(v)); });
    }
    struct shrinker *make(script &sp, unsigned flags = 0, std::string name = "test", long batch = 0,
                          int seeks = DEFAULT_SEEKS) {
        struct shrinker *s = reg.alloc(flags, std::move(name));
        EXPECT_NE(s, nullptr);
        s->count_objects = count_cb;
        s->scan_objects = scan_cb;
        s->private_data = &sp;
        s->batch = batch;
        s->seeks = seeks;
        EXPECT_TRUE(reg.register_shrinker(s));
        return s;
    }
    std::uint64_t deferred(std::size_t i) const { return reg.stats().at(i).deferred; }
    int count_reports(int invariant) const {
        return int(std::count_if(reports.begin(), reports.end(),
                                 [&](const violation &v) { return id(v.inv) == invariant; }));
    }

    shrinker_registry reg;
    std::vector<violation> reports;
};

struct numa_fixture : fixture {
    numa_fixture() : fixture(2) {}
};

std::vector<unsigned long> repeat(unsigned long v, std::size_t n) {
    return std::vector<unsigned long>(n, v);
}

// --- do_shrink_slab_plan: the formula, worked by hand ---------------------------------------

TEST(shrink_plan, priority_12_default_seeks) {
    // 1000 >> 12 = 0: a small cache gets no new work at the gentlest priority.
    EXPECT_EQ(do_shrink_slab_plan(1000, 0, 12, 2).delta, 0u);
    EXPECT_EQ(do_shrink_slab_plan(1000, 0, 12, 2).total, 0u);
    // 1000000 >> 12 = 244 (4096 * 244 = 999424); * 4 / 2 = 488.
    EXPECT_EQ(do_shrink_slab_plan(1000000, 0, 12, 2).delta, 488u);
    EXPECT_EQ(do_shrink_slab_plan(1000000, 0, 12, 2).total, 488u);
    // A backlog below 4096 shifts out entirely at priority 12: 104 >> 12 = 0.
    EXPECT_EQ(do_shrink_slab_plan(1000000, 104, 12, 2).total, 488u);
    // 8192 >> 12 = 2 of it counts.
    EXPECT_EQ(do_shrink_slab_plan(1000000, 8192, 12, 2).total, 490u);
}

TEST(shrink_plan, deferred_is_shifted_by_priority) {
    // priority 2: delta = (1000000 >> 2) * 4 / 2 = 250000 * 2 = 500000;
    // total = (10000 >> 2) + 500000 = 2500 + 500000 = 502500 (cap 2000000 not reached).
    const auto p = do_shrink_slab_plan(1000000, 10000, 2, 2);
    EXPECT_EQ(p.delta, 500000u);
    EXPECT_EQ(p.total, 502500u);
    // priority 3, freeable 1000, deferred 2000: delta = 125 * 4 / 2 = 250, total = 250 + 250.
    EXPECT_EQ(do_shrink_slab_plan(1000, 2000, 3, 2).delta, 250u);
    EXPECT_EQ(do_shrink_slab_plan(1000, 2000, 3, 2).total, 500u);
}

TEST(shrink_plan, priority_0_hits_the_cap) {
    // delta = 100 * 4 / 2 = 200 = exactly 2 * freeable.
    EXPECT_EQ(do_shrink_slab_plan(100, 0, 0, 2).delta, 200u);
    EXPECT_EQ(do_shrink_slab_plan(100, 0, 0, 2).total, 200u);
    // 50 deferred + 200 = 250, capped at 200.
    EXPECT_EQ(do_shrink_slab_plan(100, 50, 0, 2).total, 200u);
    // freeable 10, deferred 1000: min(1000 + 20, 20) = 20.
    EXPECT_EQ(do_shrink_slab_plan(10, 1000, 0, 2).total, 20u);
}

TEST(shrink_plan, seeks_zero_and_other_seeks) {
    // seeks 0: half the cache whatever the priority.
    EXPECT_EQ(do_shrink_slab_plan(1000, 0, 12, 0).delta, 500u);
    EXPECT_EQ(do_shrink_slab_plan(1000, 0, 12, 0).total, 500u);
    // ... plus the shifted backlog: 8192 >> 12 = 2.
    EXPECT_EQ(do_shrink_slab_plan(1000, 8192, 12, 0).total, 502u);
    // seeks 1: (8192 >> 10) * 4 / 1 = 32.
    EXPECT_EQ(do_shrink_slab_plan(8192, 0, 10, 1).delta, 32u);
    // seeks 3 truncates: (20480 >> 12) * 4 / 3 = 20 / 3 = 6.
    EXPECT_EQ(do_shrink_slab_plan(20480, 0, 12, 3).delta, 6u);
}

// --- the nr_to_scan sequences a shrinker receives --------------------------------------------

TEST_F(fixture, batches_of_128_and_the_remainder_deferred) {
    // freeable 300, priority 0: total = min(600, 600) = 600. Scans of 128 while total >= 128:
    // 600 -> 472 -> 344 -> 216 -> 88; 88 < 128 and 88 < 300 ends it.
    // Deferred: max(0 + 600 - 512, 0) = 88, under the cap 600.
    script sp;
    sp.count = 300;
    make(sp);
    EXPECT_EQ(reg.shrink_slab(GFP_KERNEL, 0, 0), 512u);
    EXPECT_EQ(sp.nr_to_scan, repeat(128, 4));
    EXPECT_EQ(deferred(0), 88u);
}

TEST_F(fixture, custom_batch) {
    // batch 100, freeable 1000000, priority 12: total 488 -> 388 -> 288 -> 188 -> 88.
    script sp;
    sp.count = 1000000;
    make(sp, 0, "b100", 100);
    reg.shrink_slab(GFP_KERNEL, 0, 12);
    EXPECT_EQ(sp.nr_to_scan, repeat(100, 4));
    // 0 + 488 - 400 = 88.
    EXPECT_EQ(deferred(0), 88u);
}

TEST_F(fixture, deferred_work_carries_over_between_calls) {
    // freeable 1000000 at priority 12: 488 each time, three scans of 128 (384), 104 left.
    script sp;
    sp.count = 1000000;
    make(sp);
    reg.shrink_slab(GFP_KERNEL, 0, 12);
    EXPECT_EQ(sp.nr_to_scan, repeat(128, 3));
    EXPECT_EQ(deferred(0), 104u);
    // Second call: nr = 104, 104 >> 12 = 0, so the same 488, the same three scans, and the
    // new deferral is 104 + 488 - 384 = 208.
    sp.nr_to_scan.clear();
    reg.shrink_slab(GFP_KERNEL, 0, 12);
    EXPECT_EQ(sp.nr_to_scan, repeat(128, 3));
    EXPECT_EQ(deferred(0), 208u);
}

TEST_F(fixture, deferred_from_a_stop_is_scanned_later_shifted_by_priority) {
    // freeable 1000, priority 0: total 2000, the first scan answers SHRINK_STOP, so nothing
    // was scanned: deferred = min(max(0 + 2000 - 0, 0), 2000) = 2000.
    script sp;
    sp.count = 1000;
    sp.stop_after = 0;
    make(sp);
    EXPECT_EQ(reg.shrink_slab(GFP_KERNEL, 0, 0), 0u);
    EXPECT_EQ(sp.nr_to_scan, repeat(128, 1));
    EXPECT_EQ(deferred(0), 2000u);

    // Again at priority 0 with another stop: 2000 + 2000 - 0 capped at 2 * 1000.
    sp.nr_to_scan.clear();
    reg.shrink_slab(GFP_KERNEL, 0, 0);
    EXPECT_EQ(deferred(0), 2000u);

    // Priority 3, scanning allowed: nr = 2000, delta = (1000 >> 3) * 4 / 2 = 250,
    // total = (2000 >> 3) + 250 = 500 -> 372 -> 244 -> 116; 116 < 128, 116 < 1000.
    // Deferred: 2000 + 250 - 384 = 1866.
    sp.stop_after = ~0ul;
    sp.nr_to_scan.clear();
    EXPECT_EQ(reg.shrink_slab(GFP_KERNEL, 0, 3), 384u);
    EXPECT_EQ(sp.nr_to_scan, repeat(128, 3));
    EXPECT_EQ(deferred(0), 1866u);

    // Priority 0: total = min(1866 + 2000, 2000) = 2000 = 15 * 128 + 80: fifteen scans.
    // Deferred: min(max(1866 + 2000 - 1920, 0), 2000) = 1946.
    sp.nr_to_scan.clear();
    EXPECT_EQ(reg.shrink_slab(GFP_KERNEL, 0, 0), 1920u);
    EXPECT_EQ(sp.nr_to_scan, repeat(128, 15));
    EXPECT_EQ(deferred(0), 1946u);

    const auto st = reg.stats().at(0);
    EXPECT_EQ(st.stops, 2u);
    EXPECT_EQ(st.calls, 2u + 3u + 15u);
    EXPECT_EQ(st.scanned, 384u + 1920u);
    EXPECT_EQ(st.freed, 384u + 1920u);
}

TEST_F(fixture, small_cache_is_emptied_under_pressure) {
    // freeable 10 < batch at priority 0: total = 20 >= freeable, one call asks for
    // min(128, 20) = 20 (the kernel asks for up to twice what was counted).
    script sp;
    sp.count = 10;
    make(sp);
    reg.shrink_slab(GFP_KERNEL, 0, 0);
    EXPECT_EQ(sp.nr_to_scan, std::vector<unsigned long>{20});
    EXPECT_EQ(deferred(0), 0u); // 0 + 20 - 20
    EXPECT_EQ(count_reports(15), 0);
}

TEST_F(fixture, small_cache_callee_lowering_nr_scanned) {
    // Same, but the callee reports the 10 it really scanned: total 20 -> 10, and 10 >= 10
    // asks once more for 10; then 0 ends it. Deferred 0 + 20 - 20 = 0.
    script sp;
    sp.count = 10;
    sp.lower_scanned_to = 10;
    make(sp);
    reg.shrink_slab(GFP_KERNEL, 0, 0);
    EXPECT_EQ(sp.nr_to_scan, (std::vector<unsigned long>{20, 10}));
    EXPECT_EQ(deferred(0), 0u);
}

TEST_F(fixture, small_cache_at_priority_12_only_defers) {
    // seeks 2: delta 0, total 0: no scan, nothing deferred.
    script a;
    a.count = 10;
    make(a, 0, "seeks2");
    // seeks 0: delta = 10 / 2 = 5, total 5 < 10 and < 128: no scan, 5 deferred per call,
    // (5 >> 12 = 0 adds nothing to the target) until the cap 2 * 10 = 20.
    script b;
    b.count = 10;
    make(b, 0, "seeks0", 0, 0);
    const std::uint64_t expect[] = {5, 10, 15, 20, 20};
    for (std::uint64_t e : expect) {
        reg.shrink_slab(GFP_KERNEL, 0, 12);
        EXPECT_EQ(deferred(1), e);
    }
    EXPECT_TRUE(a.nr_to_scan.empty());
    EXPECT_TRUE(b.nr_to_scan.empty());
    EXPECT_EQ(deferred(0), 0u);
    // Priority 0: total = min(20 + 5, 20) = 20 >= 10: one scan of 20;
    // deferred = max(20 + 5 - 20, 0) = 5.
    reg.shrink_slab(GFP_KERNEL, 0, 0);
    EXPECT_EQ(b.nr_to_scan, std::vector<unsigned long>{20});
    EXPECT_EQ(deferred(1), 5u);
    // seeks 2 at priority 0: delta = 10 * 4 / 2 = 20, one scan of 20.
    EXPECT_EQ(a.nr_to_scan, std::vector<unsigned long>{20});
}

// --- SHRINK_STOP, SHRINK_EMPTY, 0 ------------------------------------------------------------

TEST_F(fixture, stop_ends_only_that_shrinkers_round) {
    script a, b, c;
    a.count = b.count = c.count = 300;
    b.stop_after = 1; // one scan, then SHRINK_STOP
    make(a, 0, "a");
    make(b, 0, "b");
    make(c, 0, "c");
    EXPECT_EQ(reg.shrink_slab(GFP_KERNEL, 0, 0), 512u + 128u + 512u);
    EXPECT_EQ(a.nr_to_scan, repeat(128, 4));
    EXPECT_EQ(b.nr_to_scan, repeat(128, 2)); // the second answered SHRINK_STOP
    EXPECT_EQ(c.nr_to_scan, repeat(128, 4));
    // b: 0 + 600 - 128 = 472 deferred.
    EXPECT_EQ(deferred(1), 472u);
    EXPECT_EQ(reg.stats().at(1).stops, 1u);
    // The next round calls b again.
    b.nr_to_scan.clear();
    b.stop_after = ~0ul;
    reg.shrink_slab(GFP_KERNEL, 0, 0);
    EXPECT_FALSE(b.nr_to_scan.empty());
}

TEST_F(fixture, empty_and_zero_counts_skip_scan) {
    script empty, zero, full;
    empty.count = SHRINK_EMPTY;
    zero.count = 0;
    full.count = 300;
    make(empty, 0, "empty");
    make(zero, 0, "zero");
    make(full, 0, "full");
    // SHRINK_EMPTY counts as nothing freed, not as ~0UL - 1.
    EXPECT_EQ(reg.shrink_slab(GFP_KERNEL, 0, 0), 512u);
    EXPECT_EQ(empty.counts, 1u);
    EXPECT_EQ(zero.counts, 1u);
    EXPECT_TRUE(empty.nr_to_scan.empty());
    EXPECT_TRUE(zero.nr_to_scan.empty());
    EXPECT_EQ(deferred(0), 0u);
    EXPECT_EQ(deferred(1), 0u);
}

// --- NUMA --------------------------------------------------------------------------------

TEST_F(numa_fixture, numa_aware_gets_nid_and_per_node_deferred) {
    script aware, unaware;
    aware.count = unaware.count = 1000;
    aware.stop_after = unaware.stop_after = 0;
    make(aware, SHRINKER_NUMA_AWARE, "aware");
    make(unaware, 0, "unaware");
    // Node 1 at priority 0, stopped: 2000 deferred on node 1's slot for the aware one, on the
    // only slot for the other. Both are told the node reclaimed (6.12 shrink_slab() sets
    // sc.nid for every shrinker; only the deferred slot is 0 for the unaware one).
    reg.shrink_slab(GFP_KERNEL, 1, 0);
    EXPECT_EQ(aware.nids, std::vector<int>{1});
    EXPECT_EQ(unaware.nids, std::vector<int>{1});
    EXPECT_EQ(deferred(0), 2000u);
    EXPECT_EQ(deferred(1), 2000u);

    // Node 0 at priority 3: the aware shrinker's node-0 slot is empty, total = 250:
    // one scan of 128 (122 left defers). The unaware one shares its slot across nodes:
    // total = (2000 >> 3) + 250 = 500: three scans.
    aware.stop_after = unaware.stop_after = ~0ul;
    aware.nr_to_scan.clear();
    unaware.nr_to_scan.clear();
    reg.shrink_slab(GFP_KERNEL, 0, 3);
    EXPECT_EQ(aware.nr_to_scan, repeat(128, 1));
    EXPECT_EQ(unaware.nr_to_scan, repeat(128, 3));
    EXPECT_EQ(aware.nids.back(), 0);
    // aware: node 1 still 2000, node 0 now 0 + 250 - 128 = 122.
    EXPECT_EQ(deferred(0), 2000u + 122u);
    // unaware: 2000 + 250 - 384 = 1866.
    EXPECT_EQ(deferred(1), 1866u);

    // Node 1 at priority 3 for the aware one: (2000 >> 3) + 250 = 500: three scans.
    aware.nr_to_scan.clear();
    reg.shrink_slab(GFP_KERNEL, 1, 3);
    EXPECT_EQ(aware.nr_to_scan, repeat(128, 3));
    EXPECT_EQ(aware.nids.back(), 1);
    EXPECT_EQ(unaware.nids.back(), 1);
}

TEST_F(numa_fixture, drop_slab_empties_every_node) {
    // Pass 0, node 0: each cache is counted whole; priority 0 asks for 2 * count, so both
    // empty (1000 + 500 freed). Node 1 and pass 1 find them empty: (0 >> 1) > 1 fails.
    script single, aware;
    single.objects_mode = aware.objects_mode = true;
    single.count = 1000;
    aware.count = 500;
    make(single, 0, "single"); // not NUMA aware: called for every node, told that node
    make(aware, SHRINKER_NUMA_AWARE, "aware");
    EXPECT_EQ(reg.drop_slab(), 1500u);
    EXPECT_EQ(single.count, 0u);
    EXPECT_EQ(aware.count, 0u);
    // Two passes over two nodes.
    EXPECT_EQ(single.nids, (std::vector<int>{0, 1, 0, 1}));
    EXPECT_EQ(aware.nids, (std::vector<int>{0, 1, 0, 1}));
}

TEST_F(fixture, drop_slab_stops_when_the_bar_doubles_past_a_refilling_cache) {
    // The cache refills to 1000 whenever found empty, so every pass frees 1000. Pass k
    // continues while 1000 >> k > 1: k = 0..8 continue (1000 >> 8 = 3), pass 9 gives
    // 1000 >> 9 = 1 and ends it: ten passes, 10000 objects.
    script sp;
    sp.objects_mode = true;
    sp.count = 1000;
    sp.refill = 1000;
    make(sp);
    EXPECT_EQ(reg.drop_slab(), 10000u);
    EXPECT_EQ(sp.counts, 10u);
}

// --- registration ------------------------------------------------------------------------

TEST_F(fixture, alloc_defaults) {
    struct shrinker *s = reg.alloc(SHRINKER_NUMA_AWARE, "sb-test");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->flags, SHRINKER_NUMA_AWARE | SHRINKER_ALLOCATED);
    EXPECT_EQ(s->seeks, DEFAULT_SEEKS);
    EXPECT_EQ(s->batch, 0);
    EXPECT_STREQ(s->name, "sb-test");
    EXPECT_NE(s->info, nullptr);
    EXPECT_EQ(reg.registered(), 0u);
    reg.free(s); // never registered: just freed
    EXPECT_TRUE(reports.empty());
}

TEST_F(fixture, register_refusals) {
    struct shrinker on_stack = {};
    on_stack.count_objects = count_cb;
    on_stack.scan_objects = scan_cb;
    EXPECT_FALSE(reg.register_shrinker(&on_stack)); // not from shrinker_alloc
    EXPECT_FALSE(reg.register_shrinker(nullptr));

    struct shrinker *no_scan = reg.alloc(0, "no-scan");
    no_scan->count_objects = count_cb;
    EXPECT_FALSE(reg.register_shrinker(no_scan));

    struct shrinker *neg = reg.alloc(0, "negative-batch");
    neg->count_objects = count_cb;
    neg->scan_objects = scan_cb;
    neg->batch = -1;
    EXPECT_FALSE(reg.register_shrinker(neg));

    shrinker_registry other(1);
    other.set_report_sink([](violation) {});
    struct shrinker *foreign = other.alloc(0, "foreign");
    foreign->count_objects = count_cb;
    foreign->scan_objects = scan_cb;
    EXPECT_FALSE(reg.register_shrinker(foreign));

    script sp;
    struct shrinker *twice = make(sp, 0, "twice");
    EXPECT_FALSE(reg.register_shrinker(twice));

    EXPECT_EQ(reg.alloc(SHRINKER_REGISTERED, "internal-flag"), nullptr);

    EXPECT_EQ(count_reports(16), 7);
    EXPECT_EQ(reg.registered(), 1u);
    for (const auto &v : reports)
        EXPECT_NE(gfplab::format_violation(v).find("I16"), std::string::npos);

    reg.free(no_scan);
    reg.free(neg);
    reg.free(twice);
    reg.free(nullptr);
    reg.free(&on_stack); // not a live shrinker: reported, untouched
    EXPECT_EQ(count_reports(16), 8);
    EXPECT_EQ(reg.registered(), 0u);
}

TEST_F(fixture, registration_order_and_stats) {
    script a, b, c;
    a.count = 300;
    b.count = SHRINK_EMPTY;
    c.count = 10;
    make(a, 0, "first");
    struct shrinker *sb = make(b, 0, "second");
    make(c, 0, "third");
    reg.shrink_slab(GFP_KERNEL, 0, 0);
    auto st = reg.stats();
    ASSERT_EQ(st.size(), 3u);
    EXPECT_EQ(st[0].name, "first");
    EXPECT_EQ(st[1].name, "second");
    EXPECT_EQ(st[2].name, "third");
    EXPECT_EQ(st[0].calls, 4u);
    EXPECT_EQ(st[0].scanned, 512u);
    EXPECT_EQ(st[0].freed, 512u);
    EXPECT_EQ(st[0].deferred, 88u);
    EXPECT_EQ(st[1].calls, 0u);
    EXPECT_EQ(st[2].calls, 1u);
    EXPECT_EQ(st[2].scanned, 20u);
    reg.free(sb);
    st = reg.stats();
    ASSERT_EQ(st.size(), 2u);
    EXPECT_EQ(st[1].name, "third");
    EXPECT_EQ(reg.registered(), 2u);
}

TEST_F(fixture, bad_nid_and_priority_are_refused) {
    script sp;
    sp.count = 300;
    make(sp);
    EXPECT_EQ(reg.shrink_slab(GFP_KERNEL, 1, 0), 0u);
    EXPECT_EQ(reg.shrink_slab(GFP_KERNEL, -1, 0), 0u);
    EXPECT_EQ(reg.shrink_slab(GFP_KERNEL, 0, -1), 0u);
    EXPECT_EQ(sp.counts, 0u);
    EXPECT_EQ(count_reports(16), 3);
}

// --- I15: what the callee does -------------------------------------------------------------

TEST_F(fixture, raised_nr_scanned_is_reported_and_counted_as_asked) {
    script sp;
    sp.count = 300;
    sp.raise_scanned_by = 1000;
    make(sp);
    reg.shrink_slab(GFP_KERNEL, 0, 0);
    // Counted as 128 each, so the round is the usual four scans.
    EXPECT_EQ(sp.nr_to_scan, repeat(128, 4));
    EXPECT_EQ(count_reports(15), 4);
    EXPECT_NE(reports.at(0).message.find("nr_scanned raised"), std::string::npos);
}

TEST_F(fixture, freeing_more_than_asked_is_reported_and_carried_on) {
    script sp;
    sp.count = 300;
    sp.extra_freed = 1;
    make(sp);
    EXPECT_EQ(reg.shrink_slab(GFP_KERNEL, 0, 0), 4u * 129u);
    EXPECT_EQ(sp.nr_to_scan, repeat(128, 4));
    EXPECT_EQ(count_reports(15), 4);
}

TEST_F(fixture, zero_nr_scanned_would_livelock_and_is_reported) {
    script sp;
    sp.count = 300;
    sp.lower_scanned_to = 0;
    make(sp);
    reg.shrink_slab(GFP_KERNEL, 0, 0);
    EXPECT_EQ(sp.nr_to_scan, repeat(128, 1));
    EXPECT_EQ(count_reports(15), 1);
    // Nothing scanned: 0 + 600 - 0 deferred, at the cap 600.
    EXPECT_EQ(deferred(0), 600u);
}

// --- I8: the context the shrinkers see ------------------------------------------------------

TEST_F(fixture, nofs_scope_with_fs_mask_is_reported) {
    script sp;
    sp.count = 300;
    make(sp);
    const unsigned saved = gfplab::memalloc_nofs_save();
    reg.shrink_slab(GFP_KERNEL, 0, 12);
    EXPECT_EQ(count_reports(8), 1);
    EXPECT_EQ(reports.at(0).gfp, GFP_KERNEL);
    EXPECT_NE(reports.at(0).scope_stack.find("nofs"), std::string::npos);
    // The shrinker sees exactly what was passed: the registry reports, it does not fix.
    EXPECT_EQ(sp.masks.back(), GFP_KERNEL);

    reports.clear();
    reg.shrink_slab(gfplab::current_gfp_context(GFP_KERNEL), 0, 12);
    EXPECT_TRUE(reports.empty());
    EXPECT_EQ(sp.masks.back(), GFP_NOFS);
    gfplab::memalloc_nofs_restore(saved);

    reg.shrink_slab(GFP_KERNEL, 0, 12); // no scope: fine
    EXPECT_TRUE(reports.empty());
    EXPECT_EQ(sp.masks.back(), GFP_KERNEL);
}

TEST_F(fixture, noio_scope_forbids_io_and_fs) {
    script sp;
    sp.count = 300;
    make(sp);
    const unsigned saved = gfplab::memalloc_noio_save();
    reg.shrink_slab(GFP_NOFS, 0, 12); // has __GFP_IO
    EXPECT_EQ(count_reports(8), 1);
    reports.clear();
    reg.shrink_slab(gfplab::current_gfp_context(GFP_KERNEL), 0, 12);
    EXPECT_TRUE(reports.empty());
    EXPECT_EQ(sp.masks.back(), GFP_NOIO);
    gfplab::memalloc_noio_restore(saved);
}

TEST_F(fixture, nested_scopes) {
    script sp;
    sp.count = 300;
    make(sp);
    const unsigned nofs = gfplab::memalloc_nofs_save();
    reg.shrink_slab(gfplab::current_gfp_context(GFP_KERNEL), 0, 12);
    EXPECT_EQ(sp.masks.back(), GFP_NOFS);
    const unsigned noio = gfplab::memalloc_noio_save();
    reg.shrink_slab(gfplab::current_gfp_context(GFP_KERNEL), 0, 12);
    EXPECT_EQ(sp.masks.back(), GFP_NOIO);
    reg.shrink_slab(GFP_NOFS, 0, 12); // NOIO wins over the outer NOFS: reported
    EXPECT_EQ(count_reports(8), 1);
    gfplab::memalloc_noio_restore(noio);
    reg.shrink_slab(gfplab::current_gfp_context(GFP_KERNEL), 0, 12);
    EXPECT_EQ(sp.masks.back(), GFP_NOFS);
    reg.shrink_slab(GFP_NOFS, 0, 12); // fine again under NOFS alone
    gfplab::memalloc_nofs_restore(nofs);
    EXPECT_EQ(count_reports(8), 1);
}

TEST_F(fixture, no_report_without_a_shrinker_to_see_the_mask) {
    const unsigned saved = gfplab::memalloc_nofs_save();
    reg.shrink_slab(GFP_KERNEL, 0, 12);
    gfplab::memalloc_nofs_restore(saved);
    EXPECT_TRUE(reports.empty());
}

// --- the System's registry -----------------------------------------------------------------

TEST(system_shrinkers, reports_reach_the_system) {
    gfplab::system_config cfg;
    cfg.memory_bytes = 64ull << 20;
    cfg.dma32_limit = 32ull << 20;
    cfg.cpus = 2;
    gfplab::System sys(cfg);
    std::vector<violation> got;
    sys.set_report_sink([&](const violation &v) { got.push_back(v); });
    struct shrinker on_stack = {};
    EXPECT_FALSE(sys.shrinkers().register_shrinker(&on_stack));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(id(got[0].inv), 16);
    EXPECT_EQ(sys.report_count(), 1u);

    script sp;
    sp.objects_mode = true;
    sp.count = 42;
    struct shrinker *s = sys.shrinkers().alloc(0, "sys");
    s->count_objects = count_cb;
    s->scan_objects = scan_cb;
    s->private_data = &sp;
    EXPECT_TRUE(sys.shrinkers().register_shrinker(s));
    EXPECT_EQ(sys.shrinkers().drop_slab(), 42u);
    sys.shrinkers().free(s);
}

} // namespace
