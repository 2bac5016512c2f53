// SPDX-License-Identifier: MIT
//
// The tracepoints (gfplab/trace.hpp): each event's trace_pipe line against the shape the
// 6.12 kernel prints, and each event fired where the kernel fires it with the fields the
// request had (an order-2 GFP_KERNEL allocation, a per-CPU drain, a refill, a shrinker call,
// direct reclaim, kswapd, an OOM kill); no event without a sink; the text sink's output and
// its write errors.
#include <gfplab/shrinker.hpp>
#include <gfplab/system.hpp>
#include <gfplab/trace.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/memory.hpp"
#include "support/page_shrinker.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace gfplab;
using namespace gfplab::test;
using namespace std::chrono_literals;

// Every event, with its line formatted while its strings were valid.
struct recording_sink final : trace_sink {
    std::mutex lock;
    std::vector<trace_event> events;
    std::vector<std::string> lines;
    void event(const trace_event &e) override {
        std::lock_guard<std::mutex> g(lock);
        events.push_back(e);
        lines.push_back(format_trace_line(e));
    }
    std::vector<std::size_t> of(trace_event_id id) {
        std::lock_guard<std::mutex> g(lock);
        std::vector<std::size_t> idx;
        for (std::size_t i = 0; i < events.size(); i++)
            if (events[i].id == id)
                idx.push_back(i);
        return idx;
    }
    void clear() {
        std::lock_guard<std::mutex> g(lock);
        events.clear();
        lines.clear();
    }
};

// trace_print_context() of 6.12 with the default options: "%16s-%-7d [%03d] ", the five
// latency flags, " %5lu.%06lu: ", then "name: " and the event's TP_printk().
const std::string context =
    R"(^ *\S.{0,15}-\d+ +\[\d{3}\] [.dDbX][.nNp][.hHsZz][.1-9a-f][.1-9a-f] +\d+\.\d{6}: )";
const std::string ptr = "[0-9a-f]{16}";
const std::string gfp =
    R"((none|(GFP_|__GFP_)[A-Z0-9_]+(\|(GFP_|__GFP_)[A-Z0-9_]+)*(\|0x[0-9a-f]+)?|0x[0-9a-f]+))";

// One regex per event: include/trace/events/{kmem,vmscan,oom}.h's TP_printk() formats.
std::regex shape(trace_event_id id) {
    std::string body;
    switch (id) {
    case trace_event_id::mm_page_alloc:
        body = "mm_page_alloc: page=" + ptr +
               R"( pfn=0x[0-9a-f]+ order=\d+ migratetype=\d+ gfp_flags=)" + gfp;
        break;
    case trace_event_id::mm_page_free:
        body = "mm_page_free: page=" + ptr + R"( pfn=0x[0-9a-f]+ order=\d+)";
        break;
    case trace_event_id::mm_page_pcpu_drain:
        body = "mm_page_pcpu_drain: page=" + ptr + R"( pfn=0x[0-9a-f]+ order=\d+ migratetype=\d+)";
        break;
    case trace_event_id::mm_page_alloc_zone_locked:
        body = "mm_page_alloc_zone_locked: page=" + ptr +
               R"( pfn=0x[0-9a-f]+ order=\d+ migratetype=\d+ percpu_refill=[01])";
        break;
    case trace_event_id::mm_vmscan_direct_reclaim_begin:
        body = R"(mm_vmscan_direct_reclaim_begin: order=\d+ gfp_flags=)" + gfp;
        break;
    case trace_event_id::mm_vmscan_direct_reclaim_end:
        body = R"(mm_vmscan_direct_reclaim_end: nr_reclaimed=\d+)";
        break;
    case trace_event_id::mm_vmscan_kswapd_wake:
        body = R"(mm_vmscan_kswapd_wake: nid=\d+ order=\d+)";
        break;
    case trace_event_id::mm_vmscan_kswapd_sleep:
        body = R"(mm_vmscan_kswapd_sleep: nid=\d+)";
        break;
    case trace_event_id::mm_shrink_slab_start:
        body = R"(mm_shrink_slab_start: \S+ )" + ptr +
               R"(: nid: \d+ objects to shrink -?\d+ gfp_flags )" + gfp +
               R"( cache items -?\d+ delta -?\d+ total_scan -?\d+ priority \d+)";
        break;
    case trace_event_id::mm_shrink_slab_end:
        body =
            R"(mm_shrink_slab_end: \S+ )" + ptr +
            R"(: nid: \d+ unused scan count -?\d+ new scan count -?\d+ total_scan -?\d+ last shrinker return val -?\d+)";
        break;
    case trace_event_id::mark_victim:
        body =
            R"(mark_victim: pid=\d+ comm=\S+ total-vm=\d+kB anon-rss=\d+kB file-rss:\d+kB shmem-rss:\d+kB uid=\d+ pgtables=\d+kB oom_score_adj=-?\d+)";
        break;
    }
    return std::regex(context + body + "$");
}

// Every recorded line against its event's shape (each regex compiled once: there may be
// thousands of lines).
void expect_shape(const recording_sink &r) {
    std::vector<std::regex> shapes;
    for (unsigned id = 0; id < nr_trace_events; id++)
        shapes.push_back(shape(trace_event_id(id)));
    for (std::size_t i = 0; i < r.events.size(); i++)
        EXPECT_TRUE(std::regex_match(r.lines[i], shapes[unsigned(r.events[i].id)])) << r.lines[i];
}

trace_event base_event(trace_event_id id) {
    trace_event e{};
    e.id = id;
    e.ts_ns = 12345678901234ull; // 12345.678901 s
    e.pid = 4242;
    e.cpu = 1;
    std::snprintf(e.comm, sizeof e.comm, "%s", "gfplab-stress");
    return e;
}

system_config small_config() {
    system_config c = reclaim_config(false, 1000);
    c.memory_bytes = 32ull << 20;
    return c;
}

TEST(TraceFormat, LinesHaveTheKernelsShapes) {
    const page *pg = reinterpret_cast<const page *>(std::uintptr_t(0xffffea0004a3b1c0));
    const struct shrinker *shr =
        reinterpret_cast<const struct shrinker *>(std::uintptr_t(0xffff8881));
    std::vector<trace_event> all;
    trace_event e = base_event(trace_event_id::mm_page_alloc);
    e.mm_page_alloc = {pg, 0x128ec7, 2, GFP_KERNEL, MIGRATE_UNMOVABLE};
    EXPECT_EQ(format_trace_line(e),
              "   gfplab-stress-4242    [001] ..... 12345.678901: mm_page_alloc: "
              "page=ffffea0004a3b1c0 pfn=0x128ec7 order=2 migratetype=0 gfp_flags=GFP_KERNEL");
    all.push_back(e);
    // A failed allocation: NULL page, pfn printed 0 (the entry holds -1UL).
    e.mm_page_alloc = {nullptr, ~0ul, 3, GFP_NOWAIT | __GFP_ZERO | __GFP_NOWARN, MIGRATE_MOVABLE};
    EXPECT_NE(format_trace_line(e).find("page=0000000000000000 pfn=0x0 order=3 migratetype=1 "
                                        "gfp_flags=GFP_NOWAIT|__GFP_ZERO"),
              std::string::npos)
        << format_trace_line(e);
    all.push_back(e);
    e.mm_page_alloc.gfp_flags = 0;
    EXPECT_TRUE(format_trace_line(e).ends_with("gfp_flags=none")) << format_trace_line(e);
    all.push_back(e);

    e = base_event(trace_event_id::mm_page_free);
    e.mm_page_free = {pg, 0x1, 0};
    EXPECT_TRUE(
        format_trace_line(e).ends_with(": mm_page_free: page=ffffea0004a3b1c0 pfn=0x1 order=0"));
    all.push_back(e);

    e = base_event(trace_event_id::mm_page_pcpu_drain);
    e.irqs_off = true;
    e.preempt_count = 1;
    e.mm_page_pcpu_drain = {pg, 0xabc, 1, MIGRATE_RECLAIMABLE};
    EXPECT_EQ(format_trace_line(e),
              "   gfplab-stress-4242    [001] d..1. 12345.678901: mm_page_pcpu_drain: "
              "page=ffffea0004a3b1c0 pfn=0xabc order=1 migratetype=2");
    all.push_back(e);

    e = base_event(trace_event_id::mm_page_alloc_zone_locked);
    e.mm_page_alloc_zone_locked = {pg, 0x10, 9, MIGRATE_HIGHATOMIC, 0};
    EXPECT_TRUE(format_trace_line(e).ends_with("pfn=0x10 order=9 migratetype=3 percpu_refill=0"));
    all.push_back(e);

    e = base_event(trace_event_id::mm_vmscan_direct_reclaim_begin);
    e.mm_vmscan_direct_reclaim_begin = {0, GFP_NOFS | __GFP_HIGHMEM};
    EXPECT_TRUE(format_trace_line(e).ends_with(
        "mm_vmscan_direct_reclaim_begin: order=0 gfp_flags=GFP_NOFS|__GFP_HIGHMEM"))
        << format_trace_line(e);
    all.push_back(e);
    e = base_event(trace_event_id::mm_vmscan_direct_reclaim_end);
    e.mm_vmscan_direct_reclaim_end = {32};
    EXPECT_TRUE(format_trace_line(e).ends_with("mm_vmscan_direct_reclaim_end: nr_reclaimed=32"));
    all.push_back(e);
    e = base_event(trace_event_id::mm_vmscan_kswapd_wake);
    e.mm_vmscan_kswapd_wake = {0, 2, 3};
    EXPECT_TRUE(format_trace_line(e).ends_with("mm_vmscan_kswapd_wake: nid=0 order=3"));
    all.push_back(e);
    e = base_event(trace_event_id::mm_vmscan_kswapd_sleep);
    e.mm_vmscan_kswapd_sleep = {1};
    EXPECT_TRUE(format_trace_line(e).ends_with("mm_vmscan_kswapd_sleep: nid=1"));
    all.push_back(e);

    e = base_event(trace_event_id::mm_shrink_slab_start);
    e.mm_shrink_slab_start = {shr, "sb-ext4", 0, 12, GFP_KERNEL, 1000, 83, 83, 12};
    EXPECT_TRUE(format_trace_line(e).ends_with(
        "mm_shrink_slab_start: sb-ext4 00000000ffff8881: nid: 0 objects to shrink 12 gfp_flags "
        "GFP_KERNEL cache items 1000 delta 83 total_scan 83 priority 12"))
        << format_trace_line(e);
    all.push_back(e);
    e = base_event(trace_event_id::mm_shrink_slab_end);
    e.mm_shrink_slab_end = {shr, "sb-ext4", 0, 12, 0, 83, -45};
    EXPECT_TRUE(format_trace_line(e).ends_with(
        "mm_shrink_slab_end: sb-ext4 00000000ffff8881: nid: 0 unused scan count 12 new scan count "
        "0 total_scan -45 last shrinker return val 83"))
        << format_trace_line(e);
    all.push_back(e);

    e = base_event(trace_event_id::mark_victim);
    e.mark_victim = {77, "big", 400, 400, 0, 0, 1000, 0, 0};
    EXPECT_TRUE(format_trace_line(e).ends_with(
        "mark_victim: pid=77 comm=big total-vm=400kB anon-rss=400kB file-rss:0kB shmem-rss:0kB "
        "uid=1000 pgtables=0kB oom_score_adj=0"));
    all.push_back(e);

    // A long name fills the 16 columns; pids pad to 7.
    e = base_event(trace_event_id::mm_vmscan_kswapd_sleep);
    std::snprintf(e.comm, sizeof e.comm, "%s", "kswapd0");
    e.mm_vmscan_kswapd_sleep = {1};
    e.pid = 5;
    e.cpu = 12;
    e.ts_ns = 999;
    EXPECT_EQ(format_trace_line(e),
              "         kswapd0-5       [012] .....     0.000000: mm_vmscan_kswapd_sleep: nid=1");
    all.push_back(e);

    for (const trace_event &ev : all)
        EXPECT_TRUE(std::regex_match(format_trace_line(ev), shape(ev.id))) << format_trace_line(ev);
    std::string text;
    for (const trace_event &ev : all)
        append_trace_line(text, ev);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), long(all.size()));
    EXPECT_STREQ(trace_event_system(trace_event_id::mm_page_alloc), "kmem");
    EXPECT_STREQ(trace_event_system(trace_event_id::mm_shrink_slab_end), "vmscan");
    EXPECT_STREQ(trace_event_system(trace_event_id::mark_victim), "oom");
}

TEST(Tracepoints, AnOrderTwoAllocationAndItsFree) {
    System s(small_config());
    recording_sink r;
    s.set_trace_sink(&r);
    EXPECT_EQ(s.trace_sink(), &r);
    page *p = s.alloc_pages(GFP_KERNEL, 2);
    ASSERT_NE(p, nullptr);
    auto allocs = r.of(trace_event_id::mm_page_alloc);
    ASSERT_EQ(allocs.size(), 1u) << "one request, one mm_page_alloc";
    {
        const auto &f = r.events[allocs[0]].mm_page_alloc;
        EXPECT_EQ(f.page, p);
        EXPECT_EQ(f.pfn, s.page_to_pfn(p));
        EXPECT_EQ(f.order, 2u);
        EXPECT_EQ(f.gfp_flags, GFP_KERNEL);
        EXPECT_EQ(f.migratetype, MIGRATE_UNMOVABLE);
        EXPECT_FALSE(r.events[allocs[0]].irqs_off);
        EXPECT_LT(r.events[allocs[0]].cpu, s.nr_cpus());
        EXPECT_EQ(r.events[allocs[0]].pid, int(gettid()));
        EXPECT_NE(r.lines[allocs[0]].find(fmt::format(": mm_page_alloc: page={:016x} pfn={:#x} "
                                                      "order=2 migratetype=0 gfp_flags=GFP_KERNEL",
                                                      std::uintptr_t(p), s.page_to_pfn(p))),
                  std::string::npos)
            << r.lines[allocs[0]];
    }
    // Another one: between them, the per-CPU list of this CPU was refilled from the buddy
    // (the System's batch at order 2 is one block). Refills are zone_locked events of order 2
    // under zone->lock, except a block taken by fallback from a movable pageblock, which
    // __rmqueue_fallback() does not trace as zone_locked (the boot pageblocks are movable,
    // so the first refill is one).
    page *q = s.alloc_pages(GFP_KERNEL | __GFP_ZERO, 2);
    ASSERT_NE(q, nullptr);
    allocs = r.of(trace_event_id::mm_page_alloc);
    ASSERT_EQ(allocs.size(), 2u);
    EXPECT_EQ(r.events[allocs[1]].mm_page_alloc.page, q);
    EXPECT_EQ(r.events[allocs[1]].mm_page_alloc.gfp_flags, GFP_KERNEL | __GFP_ZERO);
    auto locked = r.of(trace_event_id::mm_page_alloc_zone_locked);
    ASSERT_FALSE(locked.empty());
    for (std::size_t i : locked) {
        const auto &f = r.events[i].mm_page_alloc_zone_locked;
        EXPECT_EQ(f.order, 2u);
        EXPECT_EQ(f.migratetype, MIGRATE_UNMOVABLE);
        EXPECT_EQ(f.percpu_refill, 1);
        EXPECT_TRUE(r.events[i].irqs_off);
    }
    EXPECT_LT(locked.back(), allocs[1]) << "the refill comes before the request's event";
    r.clear();
    s.free_pages(p, 2);
    s.free_pages(q, 2);
    auto frees = r.of(trace_event_id::mm_page_free);
    ASSERT_EQ(frees.size(), 2u);
    EXPECT_EQ(r.events[frees[0]].mm_page_free.pfn, s.page_to_pfn(p));
    EXPECT_EQ(r.events[frees[0]].mm_page_free.order, 2u);
    EXPECT_EQ(r.events[frees[1]].mm_page_free.page, q);
    expect_shape(r);
    s.set_trace_sink(nullptr);
}

TEST(Tracepoints, ScopesNarrowTheTracedMaskAndMovableRequestsSayMovable) {
    System s(small_config());
    recording_sink r;
    s.set_trace_sink(&r);
    unsigned flags = memalloc_nofs_save();
    page *p = s.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    memalloc_nofs_restore(flags);
    ASSERT_NE(p, nullptr);
    auto allocs = r.of(trace_event_id::mm_page_alloc);
    ASSERT_EQ(allocs.size(), 1u);
    // __alloc_pages() traces alloc_gfp, the mask after current_gfp_context().
    EXPECT_EQ(r.events[allocs[0]].mm_page_alloc.gfp_flags, GFP_HIGHUSER_MOVABLE & ~__GFP_FS);
    EXPECT_EQ(r.events[allocs[0]].mm_page_alloc.migratetype, MIGRATE_MOVABLE);
    s.free_pages(p, 0);
    s.set_trace_sink(nullptr);
}

TEST(Tracepoints, NoSinkNoEvents) {
    System s(small_config());
    recording_sink r;
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    s.set_trace_sink(&r);
    s.set_trace_sink(nullptr);
    s.free_pages(p, 0);
    p = s.alloc_pages(GFP_KERNEL, 1);
    s.free_pages(p, 1);
    s.drain_all_pages();
    EXPECT_TRUE(r.events.empty());
}

TEST(Tracepoints, AHighOrderRequestComesStraightFromTheBuddy) {
    System s(small_config());
    recording_sink r;
    s.set_trace_sink(&r);
    // Movable: the boot pageblocks' type, so __rmqueue_smallest() serves it.
    page *p = s.alloc_pages(GFP_HIGHUSER_MOVABLE, 9);
    ASSERT_NE(p, nullptr);
    auto locked = r.of(trace_event_id::mm_page_alloc_zone_locked);
    ASSERT_EQ(locked.size(), 1u);
    EXPECT_EQ(r.events[locked[0]].mm_page_alloc_zone_locked.pfn, s.page_to_pfn(p));
    EXPECT_EQ(r.events[locked[0]].mm_page_alloc_zone_locked.percpu_refill, 0)
        << "order 9 is no per-CPU order";
    ASSERT_EQ(r.of(trace_event_id::mm_page_alloc).size(), 1u);
    EXPECT_LT(locked[0], r.of(trace_event_id::mm_page_alloc)[0]) << "taken, then handed out";
    s.free_pages(p, 9);
    EXPECT_EQ(r.of(trace_event_id::mm_page_free).size(), 1u);
    EXPECT_TRUE(r.of(trace_event_id::mm_page_pcpu_drain).empty());
    expect_shape(r);
    s.set_trace_sink(nullptr);
}

// The buddy's and the per-CPU lists' events know only their zone: with two Systems, each
// System's events reach its own sink and no other.
TEST(Tracepoints, ZoneEventsGoToTheirOwnSystem) {
    System a(small_config()), b(small_config());
    recording_sink ra;
    a.set_trace_sink(&ra);
    page *pb = b.alloc_pages(GFP_HIGHUSER_MOVABLE, 9);
    ASSERT_NE(pb, nullptr);
    b.free_pages(pb, 9);
    EXPECT_TRUE(ra.events.empty()) << ra.lines.front();
    page *pa = a.alloc_pages(GFP_HIGHUSER_MOVABLE, 9);
    ASSERT_NE(pa, nullptr);
    auto locked = ra.of(trace_event_id::mm_page_alloc_zone_locked);
    ASSERT_EQ(locked.size(), 1u);
    EXPECT_EQ(ra.events[locked[0]].mm_page_alloc_zone_locked.pfn, a.page_to_pfn(pa));
    a.free_pages(pa, 9);
    recording_sink rb;
    b.set_trace_sink(&rb);
    a.set_trace_sink(nullptr);
    pb = b.alloc_pages(GFP_HIGHUSER_MOVABLE, 9);
    EXPECT_EQ(rb.of(trace_event_id::mm_page_alloc_zone_locked).size(), 1u);
    b.free_pages(pb, 9);
    b.set_trace_sink(nullptr);
}

TEST(Tracepoints, ADrainTracesEveryPageItGivesBack) {
    System s(small_config());
    recording_sink r;
    std::vector<page *> held;
    for (int i = 0; i < 40; i++)
        held.push_back(s.alloc_pages(GFP_KERNEL, 0));
    for (page *p : held)
        s.free_pages(p, 0);
    zone &z = s.page_zone(held.front());
    const unsigned long cached = s.pcp_count(z);
    ASSERT_GT(cached, 0u);
    s.set_trace_sink(&r);
    s.drain_all_pages();
    auto drained = r.of(trace_event_id::mm_page_pcpu_drain);
    EXPECT_EQ(drained.size(), cached) << "one line per page the per-CPU lists held";
    for (std::size_t i : drained) {
        const auto &f = r.events[i].mm_page_pcpu_drain;
        EXPECT_EQ(f.order, 0u);
        EXPECT_EQ(f.migratetype, z.pageblock_migratetype(f.pfn));
        EXPECT_EQ(f.page, s.pfn_to_page(f.pfn));
        EXPECT_TRUE(r.events[i].irqs_off);
        EXPECT_NE(r.lines[i].find(" d..1. "), std::string::npos) << r.lines[i];
    }
    expect_shape(r);
    s.set_trace_sink(nullptr);
}

TEST(Tracepoints, ShrinkSlabStartAndEnd) {
    System s(small_config());
    page_shrinker cache(s, "trace-cache");
    cache.fill(300);
    recording_sink r;
    s.set_trace_sink(&r);
    const unsigned long freed = s.shrinkers().shrink_slab(GFP_KERNEL, 0, 0);
    EXPECT_EQ(freed, 300u);
    // The System's own shrinkers have nothing and trace nothing (count 0: no event, as in
    // the kernel); ours one start and one end.
    auto start = r.of(trace_event_id::mm_shrink_slab_start);
    auto end = r.of(trace_event_id::mm_shrink_slab_end);
    ASSERT_EQ(start.size(), 1u);
    ASSERT_EQ(end.size(), 1u);
    EXPECT_LT(start[0], end[0]);
    const auto &a = r.events[start[0]].mm_shrink_slab_start;
    EXPECT_EQ(a.shr, cache.shr);
    EXPECT_EQ(a.nid, 0);
    EXPECT_EQ(a.gfp_flags, GFP_KERNEL);
    EXPECT_EQ(a.cache_items, 300u);
    EXPECT_EQ(a.priority, 0);
    EXPECT_EQ(a.nr_objects_to_shrink, 0);
    const shrink_plan plan = do_shrink_slab_plan(300, 0, 0, DEFAULT_SEEKS);
    EXPECT_EQ(a.delta, plan.delta);
    EXPECT_EQ(a.total_scan, plan.total);
    const auto &b = r.events[end[0]].mm_shrink_slab_end;
    EXPECT_EQ(b.retval, 300);
    EXPECT_EQ(b.nid, 0);
    EXPECT_EQ(b.shr, cache.shr);
    EXPECT_EQ(b.total_scan, long(plan.total) - long(cache.scans) * SHRINK_BATCH);
    EXPECT_EQ(b.unused_scan, 0);
    EXPECT_NE(r.lines[start[0]].find("mm_shrink_slab_start: trace-cache "), std::string::npos)
        << r.lines[start[0]];
    expect_shape(r);
    s.set_trace_sink(nullptr);
}

TEST(Tracepoints, DirectReclaimBeginAndEnd) {
    System s(small_config());
    page_shrinker cache(s, "trace-cache");
    cache.fill(100000);
    auto rest = exhaust(s);
    recording_sink r;
    s.set_trace_sink(&r);
    page *p = s.alloc_pages(GFP_NOFS, 0);
    ASSERT_NE(p, nullptr);
    s.set_trace_sink(nullptr);
    auto begin = r.of(trace_event_id::mm_vmscan_direct_reclaim_begin);
    auto end = r.of(trace_event_id::mm_vmscan_direct_reclaim_end);
    ASSERT_GE(begin.size(), 1u);
    ASSERT_EQ(begin.size(), end.size());
    EXPECT_EQ(r.events[begin[0]].mm_vmscan_direct_reclaim_begin.gfp_flags, GFP_NOFS);
    EXPECT_EQ(r.events[begin[0]].mm_vmscan_direct_reclaim_begin.order, 0);
    EXPECT_LT(begin[0], end[0]);
    EXPECT_GT(r.events[end.back()].mm_vmscan_direct_reclaim_end.nr_reclaimed, 0u);
    // Between them, the shrinkers; after them, the request's own event with its page.
    auto shrinks = r.of(trace_event_id::mm_shrink_slab_start);
    ASSERT_FALSE(shrinks.empty());
    EXPECT_GT(shrinks[0], begin[0]);
    EXPECT_EQ(r.events[shrinks[0]].mm_shrink_slab_start.gfp_flags, GFP_NOFS);
    auto allocs = r.of(trace_event_id::mm_page_alloc);
    ASSERT_FALSE(allocs.empty());
    EXPECT_EQ(r.events[allocs.back()].mm_page_alloc.page, p);
    EXPECT_GT(allocs.back(), end.back());
    expect_shape(r);
    s.free_pages(p, 0);
    release(s, rest);
}

TEST(Tracepoints, KswapdWakesAndSleeps) {
    System s(small_config());
    page_shrinker cache(s, "trace-cache");
    recording_sink r;
    s.set_trace_sink(&r);
    // A balanced node: a turn of kswapd's loop goes back to sleep.
    EXPECT_EQ(s.kswapd_run_once(0), 0u);
    auto sleeps = r.of(trace_event_id::mm_vmscan_kswapd_sleep);
    ASSERT_EQ(sleeps.size(), 1u);
    EXPECT_EQ(r.events[sleeps[0]].mm_vmscan_kswapd_sleep.nid, 0);
    EXPECT_TRUE(r.of(trace_event_id::mm_vmscan_kswapd_wake).empty());
    // Below low an allocation wakes it: the next turn reclaims, and says for what.
    s.set_trace_sink(nullptr);
    cache.fill(100000);
    auto rest = exhaust(s);
    release(s, rest);
    rest = exhaust(s, GFP_KERNEL & ~__GFP_DIRECT_RECLAIM); // wakes kswapd, no direct reclaim
    r.clear();
    s.set_trace_sink(&r);
    EXPECT_GT(s.kswapd_run_once(0), 0u);
    auto wakes = r.of(trace_event_id::mm_vmscan_kswapd_wake);
    ASSERT_EQ(wakes.size(), 1u);
    EXPECT_EQ(r.events[wakes[0]].mm_vmscan_kswapd_wake.nid, 0);
    EXPECT_EQ(r.events[wakes[0]].mm_vmscan_kswapd_wake.order, 0);
    EXPECT_EQ(r.events[wakes[0]].mm_vmscan_kswapd_wake.zid, int(ZONE_NORMAL));
    EXPECT_FALSE(r.of(trace_event_id::mm_shrink_slab_start).empty());
    expect_shape(r);
    s.set_trace_sink(nullptr);
    release(s, rest);
}

TEST(Tracepoints, MarkVictim) {
    System s(small_config());
    std::vector<page *> held;
    std::mutex lock;
    s.set_log_sink([](const std::string &) {});
    held = exhaust(s, GFP_KERNEL | __GFP_NORETRY);
    ASSERT_FALSE(held.empty());
    std::atomic<unsigned> id{0};
    std::atomic<int> victim_tid{0};
    std::atomic<bool> done{false};
    std::thread victim([&] {
        victim_tid = int(gettid());
        id = s.register_oom_victim(
            "hog", [&] { return (unsigned long)held.size(); },
            [&] {
                std::lock_guard<std::mutex> g(lock);
                unsigned long n = held.size();
                release(s, held);
                return n;
            });
        while (!done)
            std::this_thread::sleep_for(1ms);
        clear_oom_victim();
    });
    while (!id)
        std::this_thread::sleep_for(1ms);
    const unsigned long pages = held.size();
    recording_sink r;
    s.set_trace_sink(&r);
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    s.set_trace_sink(nullptr);
    done = true;
    victim.join();
    ASSERT_NE(p, nullptr);
    auto marks = r.of(trace_event_id::mark_victim);
    ASSERT_EQ(marks.size(), 1u);
    const auto &f = r.events[marks[0]].mark_victim;
    EXPECT_EQ(f.pid, victim_tid.load());
    EXPECT_EQ(f.anon_rss, pages * 4);
    EXPECT_NE(r.lines[marks[0]].find(fmt::format("mark_victim: pid={} comm=hog total-vm={}kB",
                                                 victim_tid.load(), pages * 4)),
              std::string::npos)
        << r.lines[marks[0]];
    expect_shape(r);
    s.unregister_oom_victim(id);
    s.free_pages(p, 0);
}

TEST(FtraceTextSink, WritesLinesAndKeepsTheFirstError) {
    System s(small_config());
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    {
        ftrace_text_sink sink(fds[1]);
        s.set_trace_sink(&sink);
        page *p = s.alloc_pages(GFP_KERNEL, 1);
        s.free_pages(p, 1);
        s.set_trace_sink(nullptr);
        EXPECT_TRUE(sink.flush());
        EXPECT_EQ(sink.error(), 0);
        EXPECT_GE(sink.lines(), 2u);
        EXPECT_TRUE(sink.finish());
    }
    close(fds[1]);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
        text.append(buf, std::size_t(n));
    close(fds[0]);
    std::size_t lines = 0, allocs = 0;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t nl = text.find('\n', at);
        ASSERT_NE(nl, std::string::npos);
        const std::string line = text.substr(at, nl - at);
        lines++;
        if (line.find(": mm_page_alloc: ") != std::string::npos) {
            allocs++;
            EXPECT_TRUE(std::regex_match(line, shape(trace_event_id::mm_page_alloc))) << line;
        }
        at = nl + 1;
    }
    EXPECT_GE(lines, 2u);
    EXPECT_EQ(allocs, 1u);

    // A descriptor that cannot be written: the error is kept, the output stops.
    ftrace_text_sink bad(-1, 0);
    s.set_trace_sink(&bad);
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    s.free_pages(p, 0);
    s.set_trace_sink(nullptr);
    EXPECT_FALSE(bad.flush());
    EXPECT_EQ(bad.error(), EBADF);
    EXPECT_EQ(bad.lines(), 1u) << "nothing queued after the failure";
}

} // namespace
