// SPDX-License-Identifier: MIT
#include "campaign.hpp"

#include "output.hpp"
#include "worker.hpp"

#include <gfplab/alloc_sites.hpp>
#include <gfplab/kernel_log.hpp>
#include <gfplab/vmstat.hpp>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <thread>

namespace gfplab::stress {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::uint64_t four_mib = 4ull << 20;

} // namespace

shared_state::shared_state(const campaign_config &c, const system_config &scfg)
    : cfg(c), sys(scfg), orc(sys, c.sc.expects_i9, c.seed), masks(c.sc), trace(c.tracing) {
    sys.set_trace_sink(c.tracepoint_sink);
    orc.attach();
    for (int nid = 0; nid < sys.nr_nodes(); nid++)
        for (const auto &z : sys.node(nid).node_zones)
            managed_pages += z.managed_pages;
    // Named groups, as a machine's services each have theirs; with a limit, charges past it
    // fail (the model has no memcg reclaim) and that is an expected outcome.
    const unsigned groups = c.sc.memcg_limit ? std::min(c.threads, 4u) : 1;
    for (unsigned i = 0; i < groups; i++)
        memcgs.push_back(
            sys.mem_cgroup_create(groups == 1 ? "stress" : fmt::format("stress-{}", char('a' + i)),
                                  (c.sc.memcg_limit + PAGE_SIZE - 1) >> PAGE_SHIFT));
    cache = std::make_unique<page_cache>(sys, orc, "stress-pagecache", nullptr, &trace, &ledger);
    fs_cache = std::make_unique<page_cache>(sys, orc, "sb-stressfs", &fs_lock, &trace, &ledger);
    dentries = std::make_unique<object_cache>(sys, "stressfs2");
    objects = kmem_cache_create(sys, "stress-objects", 120, nullptr, SLAB_HWCACHE_ALIGN);
    if (c.workloads && !c.workloads->empty())
        foreign_code.emplace(ref);
}

void shared_state::free_exchange() {
    std::vector<held_object> left;
    {
        std::lock_guard<std::mutex> g(exchange_lock);
        left.swap(exchange);
    }
    for (const held_object &o : left)
        o.from_cache ? kmem_cache_free(objects, o.p) : kvfree(sys, o.p);
    for (auto &slot : published)
        kvfree(sys, slot.exchange(nullptr));
    kvfree_rcu_barrier(sys);
}

shared_state::~shared_state() {
    if (cfg.workloads && !cfg.workloads->empty())
        set_default_system(nullptr); // the plugins' kernel face no longer reaches this one
    workers.clear();
    free_exchange();
    kmem_cache_destroy(objects);
    dentries.reset();
    fs_cache.reset();
    cache.reset();
    sys.set_report_sink({});
    sys.set_log_sink({});
    sys.set_trace_sink(nullptr); // the sink may go before this System does
}

system_config make_system_config(const campaign_config &c) {
    system_config s;
    s.memory_bytes = c.memory;
    s.nodes = c.sc.nodes;
    s.cpus = c.sc.cpus;
    s.pcp = c.sc.pcp;
    s.buddy = c.sc.buddy;
    configure(c.sc.vm, s);
    // Anon pages in the page cache go to swap under reclaim.
    s.kswapd = c.sc.kswapd;
    // Without kswapd nothing should move on its own, so that a one-worker run replays
    // exactly: kvfree_rcu()'s monitor thread would free batches when its timer says (its
    // batches are then freed by the shrinker and at the end).
    s.kfree_rcu_thread = c.sc.kswapd;
    s.swap_pages = c.sc.swap_pages ? c.sc.swap_pages : (c.memory >> PAGE_SHIFT) / 4;
    // All three zones, as on a small x86-64 machine scaled down: DMA a sixteenth, DMA32 up
    // to a quarter, on pageblock-friendly 4 MiB boundaries.
    s.dma_limit = std::max(four_mib, c.memory / 16 / four_mib * four_mib);
    s.dma32_limit = std::max(s.dma_limit + four_mib, c.memory / 4 / four_mib * four_mib);
    s.poison = true;     // I12: a freed page's poison must be intact when it is reused
    s.warn_alloc = true; // counted through the log sink
    s.stall_warn_ms = 1000;
    s.on_report = report_action::count;
    return s;
}

campaign_result run_campaign(const campaign_config &c, const progress_fn &progress,
                             const stall_fn &on_stall, std::unique_ptr<shared_state> &state_out) {
    state_out = std::make_unique<shared_state>(c, make_system_config(c));
    shared_state &st = *state_out;
    // Plugins reach the System through the kernel face: make it the campaign's before their
    // init() runs (on this thread, charged to "init" in the reports).
    const std::uint64_t warnings_before = kernel_warning_count();
    workload_set *ws = c.workloads && !c.workloads->empty() ? c.workloads : nullptr;
    op_context main_ctx;
    main_ctx.seed = c.seed;
    if (ws) {
        set_default_system(&st.sys);
        // Every allocation the plugins' code makes is remembered with its line until it is
        // freed: what is left after exit() is a leak, named by the line that allocated it.
        set_alloc_site_tracking(true);
        set_current_op_context(&main_ctx);
        main_ctx.workload_op = "init";
        try {
            ws->init(c.threads);
        } catch (...) { // workload_error: main_ctx goes, and so must this thread's pointer
            set_current_op_context(nullptr);
            throw;
        }
        set_current_op_context(nullptr);
    }
    splitmix64 seeds{c.seed};
    for (unsigned i = 0; i < c.threads; i++) {
        const std::uint64_t quota = c.ops ? c.ops / c.threads + (i < c.ops % c.threads) : 0;
        st.workers.push_back(std::make_unique<worker>(st, i, seeds(), quota));
    }

    // More workers than cores is allowed (oversubscribed): the arena is as wide as asked.
    tbb::global_control width(tbb::global_control::max_allowed_parallelism, c.threads + 1);
    tbb::task_arena arena(int(c.threads), 1);

    const auto start = clock_type::now();
    const auto end = c.duration > 0 ? start + std::chrono::duration_cast<clock_type::duration>(
                                                  std::chrono::duration<double>(c.duration))
                                    : clock_type::time_point::max();
    const auto every = std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(c.checkpoint_every));
    // Held by the checkpoint and by the watchdog's allocation: no allocation in flight while
    // verify() recounts.
    std::mutex quiesce;
    bool in_epoch = false;
    std::mutex done_lock;
    std::condition_variable done_cv;
    bool done = false;
    std::thread runner([&] {
        for (;;) {
            const auto now = clock_type::now();
            const auto deadline = end - now > every ? now + every : end;
            {
                std::lock_guard<std::mutex> g(quiesce);
                in_epoch = true;
            }
            arena.execute([&] {
                tbb::parallel_for(
                    tbb::blocked_range<unsigned>(0, c.threads, 1),
                    [&](const tbb::blocked_range<unsigned> &r) {
                        for (unsigned i = r.begin(); i != r.end(); i++)
                            st.workers[i]->run_epoch(deadline, c.checkpoint_ops);
                    },
                    tbb::simple_partitioner());
            });
            // Every worker is parked here: the quiescent checkpoint.
            {
                std::lock_guard<std::mutex> g(quiesce);
                in_epoch = false;
                const double t0 = st.orc.elapsed();
                st.orc.checkpoint();
                st.trace.complete("checkpoint", "checkpoint", t0, st.orc.elapsed() - t0, -1);
            }
            const bool quota_done =
                c.ops && std::all_of(st.workers.begin(), st.workers.end(),
                                     [](const auto &w) { return w->quota_done(); });
            if (quota_done || clock_type::now() >= end)
                break;
        }
        std::lock_guard<std::mutex> g(done_lock);
        done = true;
        done_cv.notify_all();
    });
    {
        std::uint64_t last_ops = 0;
        int still = 0;
        // The last time an operation completed, or the workers were parked (a checkpoint
        // is not a stall).
        auto last_progress = clock_type::now();
        bool stall_reported = false;
        trace_sample_state traced;
        // The online ledger check (I2): a few times a second, off the workers' paths.
        // GFPLAB_STRESS_LEDGER_PHANTOM=N unbalances it by N pages (the stress-ledger test).
        const char *phantom_env = std::getenv("GFPLAB_STRESS_LEDGER_PHANTOM");
        const long phantom = phantom_env ? std::atol(phantom_env) : 0;
        bool ledger_reported = false;
        std::unique_lock<std::mutex> g(done_lock);
        while (!done_cv.wait_for(g, std::chrono::milliseconds(250), [&] { return done; })) {
            const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
            if (c.tracing)
                trace_sample(st, st.orc.elapsed(), traced);
            if (progress)
                progress(st, elapsed);
            if (!ledger_reported) {
                const page_ledger::result lr = st.ledger.check(st.sys, st.managed_pages, phantom);
                if (!lr.ok) {
                    // Once: the first disagreement says it all.
                    ledger_reported = true;
                    set_current_op_context(&main_ctx); // reported as the main thread's
                    st.orc.harness_violation(2, "free pages and the harness's ledger disagree",
                                             lr.message);
                    set_current_op_context(nullptr);
                }
            }
            std::uint64_t ops = 0;
            for (const auto &w : st.workers)
                ops += w->ops_done();
            still = ops == last_ops ? still + 1 : 0;
            last_ops = ops;
            {
                std::lock_guard<std::mutex> q(quiesce);
                if (still == 0 || !in_epoch)
                    last_progress = clock_type::now();
            }
            const double stalled =
                std::chrono::duration<double>(clock_type::now() - last_progress).count();
            const bool panicked = st.sys.stats().oom_panics.load(std::memory_order_relaxed);
            if ((panicked || (c.stall_timeout > 0 && stalled >= c.stall_timeout)) &&
                !stall_reported && on_stall) {
                stall_reported = true;
                g.unlock();
                on_stall(st, stalled, panicked); // normally ends the process
                g.lock();
            }
            if (still < 2)
                continue;
            // Half a second without an operation: every worker loops in a small NOFS or NOIO
            // allocation (too small to fail; such requests never OOM-kill) while the workers
            // themselves hold the memory. On a real machine some other task's GFP_KERNEL
            // allocation would invoke the OOM killer; the watchdog is that task.
            still = 0;
            g.unlock();
            {
                std::lock_guard<std::mutex> q(quiesce);
                if (in_epoch) {
                    st.orc.watchdog_allocations.fetch_add(1, std::memory_order_relaxed);
                    // The largest order the workers loop on (no compaction in the model:
                    // fragmentation ends only with frees).
                    const ref::window_guard unbounded(st.ref);
                    if (page *p =
                            st.sys.alloc_pages(GFP_KERNEL | __GFP_NOWARN, PAGE_ALLOC_COSTLY_ORDER))
                        st.sys.free_pages(p, PAGE_ALLOC_COSTLY_ORDER);
                }
            }
            g.lock();
        }
    }
    runner.join();

    campaign_result res;
    res.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    for (const auto &t : st.stats)
        res.totals.merge(t);
    for (const auto &w : st.workers) {
        res.ops += w->ops_done();
        res.pages_killed += w->pages_killed();
    }
    res.vmstat = take_vmstat_snapshot(st.sys);
    res.vmstat_json = vmstat_json(res.vmstat);

    // The plugins first: they free what they hold while the workers still hold theirs.
    if (ws) {
        set_current_op_context(&main_ctx);
        main_ctx.workload_op = "exit";
        ws->exit();
        set_current_op_context(nullptr);
        kvfree_rcu_barrier(st.sys); // objects they gave kfree_rcu() are freed, not leaked
        res.workload_leaks = outstanding_alloc_sites();
        set_alloc_site_tracking(false);
    }
    res.kernel_warnings = kernel_warning_count() - warnings_before;

    // Everything back, then the last recount: nothing may be missing.
    for (const auto &w : st.workers)
        w->release_all();
    st.free_exchange();
    kmem_cache_destroy(st.objects); // reports (I16) objects nobody freed
    st.objects = nullptr;
    st.dentries.reset();
    st.fs_cache.reset();
    st.cache.reset();
    // kvfree_rcu() keeps spare blocks and slab caches keep empty slabs for the next
    // allocation: give them all back (echo 2 > drop_caches).
    st.sys.shrinkers().drop_slab();
    kmem_cache_shrink_all(st.sys);
    // kswapd may be half-way through a batch of page-cache pages it took off an LRU before
    // the workers removed the rest: they reach a per-CPU list when it frees them. Wait for
    // that run to end (park), then drain, so that every page is back in the buddy lists.
    st.sys.kswapd_park();
    st.sys.kswapd_unpark();
    st.sys.drain_all_pages();
    st.orc.checkpoint();
    for (int nid = 0; nid < st.sys.nr_nodes(); nid++)
        for (const auto &z : st.sys.node(nid).node_zones) {
            const long free = z.page_state_snapshot(NR_FREE_PAGES);
            // Pages the plugins leaked are missing too: their leak report says where.
            if (z.populated() && free != long(z.managed_pages) && res.workload_leaks.empty())
                st.orc.harness_violation(
                    2, "pages missing after the campaign",
                    fmt::format("node {} zone {}: {} of {} pages free after every holder let go",
                                z.node, z.name, free, z.managed_pages));
        }

    auto &o = st.orc;
    if (o.violation_count())
        res.verdict.push_back(fmt::format("{} violations", o.violation_count()));
    if (!res.workload_leaks.empty()) {
        std::size_t bytes = 0;
        for (const auto &l : res.workload_leaks)
            bytes += l.size;
        res.verdict.push_back(
            fmt::format("the workloads left {} allocation(s), {} bytes, after "
                        "their exit(): first at {}:{} ({})",
                        res.workload_leaks.size(), bytes, res.workload_leaks.front().file,
                        res.workload_leaks.front().line, res.workload_leaks.front().what));
    }
    if (res.kernel_warnings)
        res.verdict.push_back(fmt::format("{} WARN*() fired in kernel-style code (the "
                                          "workloads')",
                                          res.kernel_warnings));
    if (o.reported_invalid != o.planted_invalid)
        res.verdict.push_back(fmt::format("planted invalid requests {} but {} reported (I16)",
                                          o.planted_invalid.load(), o.reported_invalid.load()));
    if (o.reported_scope != o.planted_scope)
        res.verdict.push_back(fmt::format("planted scope mismatches {} but {} reported",
                                          o.planted_scope.load(), o.reported_scope.load()));
    // The deadlock the wrong caller plants must be found: its I9 reports are expected, like
    // every planted mistake's, and a run without them missed it (exit 1).
    res.reported_i9 = o.reported_i9;
    if (c.sc.expects_i9 && !o.reported_i9 && (!c.part || o.planted_i9))
        res.verdict.push_back(fmt::format("the wrong caller allocated GFP_KERNEL under the fs "
                                          "lock {} times and no I9 was reported",
                                          o.planted_i9.load()));
    // Every wrong call must have been seen by the detector (it reports once per lock and
    // shrinker, and counts every time).
    if (c.sc.expects_i9 && st.sys.stats().recursion_hazards.load() != o.planted_i9.load())
        res.verdict.push_back(fmt::format("wrong-caller allocations {} but {} hazards counted",
                                          o.planted_i9.load(),
                                          st.sys.stats().recursion_hazards.load()));
    res.ok = res.verdict.empty();
    return res;
}

} // namespace gfplab::stress
