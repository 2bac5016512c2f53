// SPDX-License-Identifier: MIT
#include "output.hpp"
#include "worker.hpp"

#include <gfplab/gfp.hpp>
#include <gfplab/memcontrol.hpp>
#include <gfplab/page_cache.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/version.hpp>
#include <gfplab/vmalloc.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

namespace gfplab::stress {
namespace {

std::string zone_layout(System &s) {
    std::string out;
    for (int nid = 0; nid < s.nr_nodes(); nid++)
        for (const auto &z : s.node(nid).node_zones)
            if (z.populated())
                out += fmt::format("{}{} {} MiB", out.empty() ? "" : ", ", z.name,
                                   (z.managed_pages << PAGE_SHIFT) >> 20);
    return out;
}

nlohmann::json violation_json(const recorded_violation &r) {
    return {
        {"id", fmt::format("I{}", id(r.v.inv))},
        {"what", r.v.what},
        {"message", r.v.message},
        {"mask", r.v.gfp ? gfp_describe(r.v.gfp) : ""},
        {"order", r.v.order},
        {"pfn", r.v.pfn},
        {"scope_stack", r.v.scope_stack},
        {"source", r.source},
        {"thread", r.thread},
        {"worker", r.worker},
        {"op", r.op},
        {"seed", r.seed},
        {"at_seconds", r.at_seconds},
        {"workload", r.workload},
    };
}

// Per plugin and operation: calls and expected failures (a negative errno returned).
nlohmann::json workloads_json(const campaign_config &c) {
    nlohmann::json out = nlohmann::json::array();
    if (!c.workloads)
        return out;
    for (const auto &p : c.workloads->plugins()) {
        nlohmann::json ops = nlohmann::json::object();
        for (unsigned i = 0; i < p.desc->nr_ops; i++)
            ops[p.desc->ops[i].name] = {{"weight", p.desc->ops[i].weight},
                                        {"calls", p.stats[i].calls.load()},
                                        {"failures", p.stats[i].failures.load()}};
        out.push_back({{"name", p.desc->name}, {"path", p.path}, {"args", p.args}, {"ops", ops}});
    }
    return out;
}

} // namespace

void print_summary(const campaign_config &c, shared_state &st, const campaign_result &r,
                   bool last_word) {
    const auto &o = st.orc;
    const auto &a = st.sys.stats();
    fmt::print("gfplab-stress: scenario {}, {} workers, {:.1f} s, seed {}, {} MiB ({}), "
               "{} CPUs, per-CPU lists {}, {} buddy\n",
               c.sc.name, c.threads, r.seconds, c.seed, c.memory >> 20, zone_layout(st.sys),
               st.sys.nr_cpus(),
               c.sc.pcp == pcp_mode::virtual_cpus ? "on virtual CPUs (trylock)"
               : st.sys.pcp_uses_rseq()           ? "in rseq"
                                                  : "behind a trylock",
               buddy_backend_name(st.sys.buddy()));
    fmt::print("  operations {} ({:.2f} M/s)\n", r.ops, double(r.ops) / r.seconds / 1e6);
    fmt::print("  {:<13} {:>10} {:>9} {:>9} {:>11}\n", "op", "count", "p50 ns", "p99 ns", "max ns");
    for (unsigned k = 0; k < nr_op_kinds; k++) {
        const auto &h = r.totals.latency[k];
        fmt::print("  {:<13} {:>10} {:>9} {:>9} {:>11}\n", op_name(op_kind(k)), r.totals.ops[k],
                   h.percentile(0.5), h.percentile(0.99), h.max_ns);
    }
    if (c.workloads)
        for (const auto &p : c.workloads->plugins()) {
            std::string line;
            for (unsigned i = 0; i < p.desc->nr_ops; i++)
                line += fmt::format("{}{} {} ({} failed)", i ? ", " : "", p.desc->ops[i].name,
                                    p.stats[i].calls.load(), p.stats[i].failures.load());
            fmt::print("  workload {}: {}\n", p.desc->name, line);
        }
    const auto &out = r.totals.outcomes;
    auto get = [&](outcome x) { return out[unsigned(x)]; };
    fmt::print("  allocations {} ok ({} pages), {} failed, {} over budget; pages freed {}, "
               "remote {}; random masks {}\n",
               get(outcome::alloc_ok), get(outcome::pages_allocated), get(outcome::alloc_failed),
               get(outcome::over_budget), get(outcome::pages_freed),
               get(outcome::remote_pages_freed), get(outcome::random_masks));
    fmt::print("  scopes {} saves (deepest {}), locks taken {}, cache pages added {}, private "
               "shrinkers {} registered / {} freed\n",
               get(outcome::scope_saves), get(outcome::scope_depth_max), get(outcome::locks_taken),
               get(outcome::cache_pages_added), get(outcome::shrinkers_registered),
               get(outcome::shrinkers_freed));
    if (get(outcome::objects_allocated) || get(outcome::objects_failed)) {
        const slab_totals t = slab_statistics(st.sys);
        fmt::print("  slab: {} objects allocated, {} failed (non-sleeping masks), freed {} by "
                   "their owner and {} by another worker; {} caches, {} slabs ({} pages) and {} "
                   "large-kmalloc pages left after every holder let go\n",
                   get(outcome::objects_allocated), get(outcome::objects_failed),
                   get(outcome::objects_freed), get(outcome::objects_remote_freed), t.caches,
                   t.slabs, t.slab_pages, t.large_kmalloc_pages);
        const vmalloc_stats v = vmalloc_statistics(st.sys);
        fmt::print("  vmalloc: {} big tables from vmalloc or kvmalloc's fallback ({} vmalloc "
                   "failures); {} areas left after every holder let go\n",
                   get(outcome::objects_vmalloced), v.failures, v.areas);
        const kvfree_rcu_stats k = kvfree_rcu_statistics(st.sys);
        fmt::print("  kvfree_rcu: {} objects published to {} RCU reads and freed by kfree_rcu(): "
                   "{} queued ({} chained, {} waited inline), {} freed in {} batches, {} given "
                   "back by the shrinker\n",
                   get(outcome::objects_rcu_freed), get(outcome::rcu_reads), k.queued, k.chained,
                   k.synchronous, k.freed, k.batches, k.shrinker_freed);
    }
    if (c.sc.atomic_share > 0)
        fmt::print("  atomic share: {} GFP_ATOMIC/GFP_NOWAIT served, {} failed (expected: no "
                   "reclaim); reserve allocations {}\n",
                   get(outcome::atomic_ok), get(outcome::atomic_failed), a.reserve_allocs.load());
    if (c.sc.nolock_share > 0)
        fmt::print("  nolock share: alloc_pages_nolock() {} served, {} failed (never reclaims; "
                   "in the System {} failures, {} of them finding a zone->lock busy, the rest "
                   "memory short); {} frees by free_pages_nolock()\n",
                   get(outcome::nolock_ok), get(outcome::nolock_failed), a.nolock_failures.load(),
                   a.nolock_busy.load(), get(outcome::nolock_frees));
    if (st.sys.nr_nodes() > 1 || c.sc.thisnode_share > 0)
        fmt::print("  nodes {}: __GFP_THISNODE {} served on their node, {} failed; other "
                   "allocations {} node-local, {} remote\n",
                   st.sys.nr_nodes(), get(outcome::thisnode_ok), get(outcome::thisnode_failed),
                   get(outcome::node_local), get(outcome::node_remote));
    for (unsigned id : st.memcgs)
        if (const mem_cgroup *g = st.sys.memcg(id))
            fmt::print("  memcg {}: limit {}, max usage {} pages, {} charges refused at the limit "
                       "(expected), {} forced (NOFAIL); slab objects still charged: {} bytes "
                       "reclaimable, {} unreclaimable\n",
                       g->name, g->limit_pages ? fmt::format("{} pages", g->limit_pages) : "none",
                       g->max_usage_pages.load(), g->failcnt.load(), g->forced.load(),
                       g->slab_reclaimable.load(), g->slab_unreclaimable.load());
    {
        const auto pcs = st.sys.page_cache().stats();
        fmt::print("  page cache: {} pages added, {} taken by reclaim first; reclaim scanned {}, "
                   "stole {}, wrote back {} dirty, swapped out {} / in {}\n",
                   get(outcome::page_cache_added), get(outcome::page_cache_gone), pcs.pgscan,
                   pcs.pgsteal, pcs.pgwriteback, pcs.pswpout, pcs.pswpin);
    }
    std::uint64_t kw = 0, kr = 0, krec = 0;
    for (const auto &k : r.vmstat.kswapd) {
        kw += k.wakeups;
        kr += k.rounds;
        krec += k.reclaimed;
    }
    fmt::print("  reclaim: kswapd {} wakeups, {} rounds, {} pages; direct reclaim {} calls, {} "
               "pages; compaction {} stalls, {} failed; slow path {}; OOM {} invocations, {} kills "
               "({} pages), {} without a kill (!__GFP_FS), {} panics (nothing to kill)\n",
               kw, kr, krec, a.allocstall_total(), a.direct_reclaimed.load(),
               a.compact_stall.load(), a.compact_fail.load(), a.slowpath.load(),
               a.oom_invocations.load(), a.oom_kill.load(), r.pages_killed, a.oom_nofs.load(),
               a.oom_panics.load());
    std::uint64_t private_calls = 0, private_freed = 0;
    for (const auto &sh : r.vmstat.shrinkers)
        if (sh.name.starts_with("stress-w")) {
            private_calls += sh.calls;
            private_freed += sh.freed;
        } else
            fmt::print("  shrinker {:<22} {} calls, {} freed, {} SHRINK_STOP\n", sh.name, sh.calls,
                       sh.freed, sh.stops);
    fmt::print("  shrinker {:<22} {} calls, {} freed (private shrinkers registered at the end)\n",
               "stress-w*-objects", private_calls, private_freed);
    fmt::print("  log: {} allocation stalls, {} allocation failure warnings (not violations); "
               "watchdog GFP_KERNEL allocations {} (workers all stuck in NOFS/NOIO loops)\n",
               o.stalls.load(), o.alloc_failure_logs.load(), o.watchdog_allocations.load());
    fmt::print("  reference oracle: {} placements checked (I5); {} watermark floors checked (I4), "
               "{} of them with nothing else allocating; {} floors skipped (another step that may "
               "allocate without a bound ran meanwhile)\n",
               st.ref.placement_checks(), st.ref.floor_checks(), st.ref.floor_exact(),
               st.ref.floor_skipped());
    fmt::print("  planted: invalid requests {} / {} reported (I16); scope mismatches {} / {} "
               "reported",
               o.planted_invalid.load(), o.reported_invalid.load(), o.planted_scope.load(),
               o.reported_scope.load());
    if (c.sc.expects_i9)
        fmt::print("; wrong-caller allocations {}, I9 reports {} (expected), hazards counted {}",
                   o.planted_i9.load(), o.reported_i9.load(), a.recursion_hazards.load());
    fmt::print("\n  checkpoints {} (System::verify with workers and kswapd parked)\n",
               o.checkpoints.load());
    const auto list = o.violations();
    fmt::print("  violations {}\n", o.violation_count());
    for (std::size_t i = 0; i < list.size() && i < 20; i++)
        fmt::print("    {} [{}{}, op {}, seed {}]\n", format_violation(list[i].v), list[i].thread,
                   list[i].workload.empty() ? "" : ", in workload " + list[i].workload, list[i].op,
                   list[i].seed);
    if (list.size() > 20)
        fmt::print("    ... {} more in --json\n", o.violation_count() - 20);
    if (c.sc.expects_i9 && o.reported_i9)
        fmt::print("  the planted reclaim recursion, as reported first:\n    {}\n",
                   o.first_expected());
    // One run of several (the per-CPU mode rotation): the whole's verdict comes last.
    if (!last_word)
        fmt::print("  this run: {}\n",
                   r.ok ? "ok" : fmt::format("FAIL ({})", fmt::join(r.verdict, "; ")));
    else if (r.ok)
        fmt::print("OK: no violation{}\n",
                   c.sc.expects_i9 ? ", and the planted reclaim recursion was reported (I9)" : "");
    else
        for (const auto &why : r.verdict)
            fmt::print("FAIL: {}\n", why);
}

nlohmann::json report_json(const campaign_config &c, shared_state &st, const campaign_result &r) {
    using nlohmann::json;
    const auto &o = st.orc;
    json ops = json::object(), latency = json::object(), outcomes = json::object();
    for (unsigned k = 0; k < nr_op_kinds; k++) {
        const auto name = std::string(op_name(op_kind(k)));
        const auto &h = r.totals.latency[k];
        ops[name] = r.totals.ops[k];
        latency[name] = {{"count", h.count},
                         {"mean_ns", h.count ? h.sum_ns / h.count : 0},
                         {"p50_ns", h.percentile(0.5)},
                         {"p90_ns", h.percentile(0.9)},
                         {"p99_ns", h.percentile(0.99)},
                         {"p999_ns", h.percentile(0.999)},
                         {"max_ns", h.max_ns}};
    }
    for (unsigned i = 0; i < nr_outcomes; i++)
        outcomes[std::string(outcome_name(outcome(i)))] = r.totals.outcomes[i];
    json workers = json::array();
    for (const auto &w : st.workers)
        workers.push_back({{"seed", w->seed()},
                           {"ops", w->ops_done()},
                           {"stream_digest", fmt::format("{:016x}", w->stream_digest())}});
    json memcgs = json::array();
    for (unsigned id : st.memcgs)
        if (const mem_cgroup *g = st.sys.memcg(id))
            memcgs.push_back({{"name", g->name},
                              {"limit_pages", g->limit_pages},
                              {"max_usage_pages", g->max_usage_pages.load()},
                              {"failcnt", g->failcnt.load()},
                              {"forced", g->forced.load()},
                              {"slab_reclaimable", g->slab_reclaimable.load()},
                              {"slab_unreclaimable", g->slab_unreclaimable.load()}});
    const auto pcs = st.sys.page_cache().stats();
    json violations = json::array();
    for (const auto &v : o.violations())
        violations.push_back(violation_json(v));
    json log = o.recent_log();
    json doc = {
        {"program", "gfplab-stress"},
        // 2: workloads, kernel_warnings and the versions were added.
        {"format_version", 2},
        {"gfplab_version", version()},
        {"git_revision", git_revision()},
        {"config",
         {{"scenario", c.sc.name},
          {"threads", c.threads},
          {"duration", c.duration},
          {"ops", c.ops},
          {"seed", c.seed},
          {"memory_bytes", c.memory},
          {"checkpoint_every", c.checkpoint_every},
          {"checkpoint_ops", c.checkpoint_ops},
          {"invalid_mask_share", c.sc.invalid_masks},
          {"random_mask_share", c.sc.random_masks},
          {"scope_mismatch_share", c.sc.scope_mismatch},
          {"hold_share", c.sc.hold_share},
          {"phase_ops", c.sc.phase_ops},
          {"atomic_share", c.sc.atomic_share},
          {"thisnode_share", c.sc.thisnode_share},
          {"nolock_share", c.sc.nolock_share},
          {"nodes", st.sys.nr_nodes()},
          {"cpus", st.sys.nr_cpus()},
          {"pcp_mode", pcp_mode_text(c.sc)},
          {"buddy", buddy_backend_name(st.sys.buddy())},
          {"memcg_limit_bytes", c.sc.memcg_limit},
          {"page_cache_share", c.sc.page_cache_share},
          {"orders", c.sc.orders},
          {"vm",
           [&] {
               nlohmann::json vm = nlohmann::json::object();
               for (const auto &[name, value] : list_sysctls(c.sc.vm))
                   vm[name] = value;
               return vm;
           }()}}},
        {"seed", c.seed},
        {"seconds", r.seconds},
        {"total_ops", r.ops},
        {"ops", ops},
        {"latency", latency},
        {"outcomes", outcomes},
        {"workers", workers},
        {"workloads", workloads_json(c)},
        {"kernel_warnings", r.kernel_warnings},
        {"workload_leaks",
         [&] {
             nlohmann::json leaks = nlohmann::json::array();
             for (const auto &l : r.workload_leaks)
                 leaks.push_back(
                     {{"what", l.what}, {"size", l.size}, {"file", l.file}, {"line", l.line}});
             return leaks;
         }()},
        {"planted",
         {{"invalid_requests", o.planted_invalid.load()},
          {"invalid_reported", o.reported_invalid.load()},
          {"invalid_served", o.invalid_served.load()},
          {"scope_mismatches", o.planted_scope.load()},
          {"scope_reported", o.reported_scope.load()},
          {"wrong_caller", o.planted_i9.load()},
          {"i9_reported", o.reported_i9.load()}}},
        {"memcg", memcgs},
        {"page_cache",
         {{"pgscan", pcs.pgscan},
          {"pgsteal", pcs.pgsteal},
          {"pgrotated", pcs.pgrotated},
          {"pgwriteback", pcs.pgwriteback},
          {"pswpout", pcs.pswpout},
          {"pswpin", pcs.pswpin}}},
        {"oom",
         {{"kills", st.sys.stats().oom_kill.load()},
          {"pages_killed", r.pages_killed},
          {"panics", st.sys.stats().oom_panics.load()}}},
        {"log",
         {{"stalls", o.stalls.load()},
          {"alloc_failures", o.alloc_failure_logs.load()},
          {"recent", log}}},
        {"checkpoints", {{"count", o.checkpoints.load()}}},
        {"reference_oracle",
         {{"placements", st.ref.placement_checks()},
          {"floors", st.ref.floor_checks()},
          {"floors_alone", st.ref.floor_exact()},
          {"floors_skipped", st.ref.floor_skipped()}}},
        {"vmstat", json::parse(r.vmstat_json)},
        {"violation_count", o.violation_count()},
        {"violations", violations},
        {"ok", r.ok},
        {"verdict", r.verdict},
    };
    return doc;
}

} // namespace gfplab::stress
