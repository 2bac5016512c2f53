// SPDX-License-Identifier: MIT
#include "worker.hpp"

#include <gfplab/gfp.hpp>
#include <gfplab/linux/sched.h>
#include <gfplab/memcontrol.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/vmalloc.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <optional>
#include <thread>

namespace gfplab::stress {
namespace {

using clock_type = std::chrono::steady_clock;

constexpr unsigned scope_flags =
    PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO | PF_MEMALLOC | PF_MEMALLOC_PIN;
constexpr unsigned max_scope_depth = 8;

double unit(splitmix64 &r) {
    return double(r() >> 11) * 0x1.0p-53;
}

// The kernel's four scope APIs, each with its own restore.
unsigned scope_save(unsigned kind) {
    switch (kind) {
    case PF_MEMALLOC_NOFS:
        return memalloc_nofs_save();
    case PF_MEMALLOC_NOIO:
        return memalloc_noio_save();
    case PF_MEMALLOC:
        return memalloc_noreclaim_save();
    default:
        return memalloc_pin_save();
    }
}

void scope_restore(unsigned kind, unsigned saved) {
    switch (kind) {
    case PF_MEMALLOC_NOFS:
        memalloc_nofs_restore(saved);
        break;
    case PF_MEMALLOC_NOIO:
        memalloc_noio_restore(saved);
        break;
    case PF_MEMALLOC:
        memalloc_noreclaim_restore(saved);
        break;
    default:
        memalloc_pin_restore(saved);
        break;
    }
}

// Takes a lock, giving up after a while: a holder may be looping in a "too small to fail"
// NOFS allocation that only other workers' frees can end, so no worker may wait on it for
// good (the kernel has the same hazard; the harness must stay live).
bool lock_for_a_while(Lock &l) {
    for (int i = 0; i < 200; i++) {
        if (l.try_lock())
            return true;
        std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    return false;
}

} // namespace

worker::worker(shared_state &st, unsigned id, std::uint64_t seed, std::uint64_t quota)
    : st_(st), id_(id), seed_(seed), quota_(quota), stream_{seed} {
    ctx_.worker = int(id);
    ctx_.seed = seed;
}

worker::~worker() = default;

unsigned long worker::budget() const noexcept {
    const auto &sc = st_.cfg.sc;
    const double share = sc.hold_share * double(st_.managed_pages) / st_.cfg.threads;
    const auto ph = phase((ops_done() / sc.phase_ops) % 3);
    return (unsigned long)(ph == phase::release ? share * 0.3 : share);
}

void worker::run_epoch(clock_type::time_point deadline, std::uint64_t epoch_ops) {
    op_context *prev_ctx = current_op_context();
    set_current_op_context(&ctx_);
    scope_report_fn prev_handler = set_scope_report_handler(&oracle::scope_handler, &st_.orc);
    const unsigned prev_memcg = set_active_memcg(st_.memcgs[id_ % st_.memcgs.size()]);
    // Virtual CPUs: each worker stays on one, so its per-CPU lists and its node are fixed
    // (oneTBB may run the epoch on any thread: set it each time).
    if (st_.cfg.sc.pcp == pcp_mode::virtual_cpus)
        set_current_vcpu(id_ % st_.sys.nr_cpus());
    clear_oom_victim();
    killed_ = false;
    // Registered from the thread that runs the epoch: the OOM mark is that thread's.
    victim_id_ = st_.sys.register_oom_victim(
        fmt::format("stress-worker-{}", id_), [this] { return held_pages_.load(); },
        [this] { return kill(); });
    thread_stats &ts = st_.stats.local();
    for (std::uint64_t n = 0;
         !quota_done() && (epoch_ops ? n < epoch_ops : (n & 31) || clock_type::now() < deadline);
         n++)
        step(ts);
    close_scopes();
    // Parked workers cannot be OOM-killed: leave room for those still running.
    trim_to(std::min(budget(), (unsigned long)(0.3 * double(st_.managed_pages) / st_.cfg.threads)));
    st_.sys.unregister_oom_victim(victim_id_);
    clear_oom_victim();
    set_active_memcg(prev_memcg);
    set_scope_report_handler(prev_handler);
    set_current_op_context(prev_ctx);
}

void worker::step(thread_stats &ts) {
    // An OOM victim that freed everything leaves the victim state (the kernel's exit path).
    if (killed_.exchange(false, std::memory_order_acquire))
        clear_oom_victim();
    const auto &sc = st_.cfg.sc;
    const std::uint64_t n = ops_.load(std::memory_order_relaxed);
    ctx_.op = n;
    const op_weights &w = sc.weights[(n / sc.phase_ops) % 3];
    unsigned total = 0;
    for (unsigned x : w)
        total += x;
    unsigned pick = unsigned(stream_() % total);
    unsigned k = 0;
    while (pick >= w[k])
        pick -= w[k++];
    // Each operation gets a stream of its own: outcomes (a failed allocation, an OOM kill)
    // never shift which operations the worker draws next.
    splitmix64 r{stream_()};
    digest_ = (digest_ ^ k ^ (r.state << 8)) * 0x100000001b3ull;
    const auto t0 = clock_type::now();
    activity_.kind.store(k, std::memory_order_relaxed);
    activity_.op.store(n, std::memory_order_relaxed);
    activity_.since_ns.store(t0.time_since_epoch().count(), std::memory_order_relaxed);
    activity_.task_flags.store(expected_flags_, std::memory_order_relaxed);
    activity_.scope_depth.store(unsigned(scopes_.size()), std::memory_order_relaxed);
    // Steps that may allocate pages the reference oracle cannot bound (slab, caches, plugin
    // code) keep its floor checks out while they run; page allocations enter with their
    // own bound (checked_alloc()); frees need no window.
    std::optional<ref::window_guard> unbounded;
    switch (op_kind(k)) {
    case op_kind::cache_fill:
    case op_kind::shrinker:
    case op_kind::slab:
    case op_kind::workload:
        unbounded.emplace(st_.ref);
        break;
    default:
        break;
    }
    switch (op_kind(k)) {
    case op_kind::alloc:
        op_alloc(r, ts);
        break;
    case op_kind::free:
        op_free(r, ts);
        break;
    case op_kind::handoff:
        op_handoff(r, ts);
        break;
    case op_kind::remote_free:
        op_remote_free(ts);
        break;
    case op_kind::touch:
        op_touch(r, ts);
        break;
    case op_kind::scope_enter:
        op_scope_enter(r, ts);
        break;
    case op_kind::scope_leave:
        op_scope_leave(r, ts);
        break;
    case op_kind::lock_section:
        op_lock_section(r, ts);
        break;
    case op_kind::cache_fill:
        op_cache_fill(r, ts);
        break;
    case op_kind::shrinker:
        op_shrinker(ts);
        break;
    case op_kind::drain:
        st_.sys.drain_all_pages();
        break;
    case op_kind::slab:
        op_slab(r, ts);
        break;
    case op_kind::workload:
        op_workload(r);
        break;
    case op_kind::count_:
        break;
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - t0);
    ts.ops[k]++;
    ts.latency[k].add(std::uint64_t(ns.count()));
    ops_.store(n + 1, std::memory_order_relaxed);
}

void worker::op_workload(splitmix64 &r) {
    const workload_set *ws = st_.cfg.workloads;
    if (!ws || ws->empty())
        return;
    const auto pick = ws->draw(r());
    ctx_.workload = ws->plugin_name(pick);
    ctx_.workload_op = ws->op_name(pick);
    activity_.workload.store(ctx_.workload, std::memory_order_relaxed);
    activity_.workload_op.store(ctx_.workload_op, std::memory_order_relaxed);
    ws->run(pick, id_, st_.cfg.threads, r);
    // The plugin's scopes must be closed again: the flags are the worker's own.
    check_task_flags();
    ctx_.workload = ctx_.workload_op = nullptr;
    activity_.workload.store(nullptr, std::memory_order_relaxed);
}

// The node a __GFP_THISNODE request must keep to, as far as the harness knows it: the one
// it named, or with virtual CPUs the node of the worker's CPU (-1: not bound, or unknown).
int worker::bound_node(int nid, gfp_t gfp) const noexcept {
    if (!(gfp & __GFP_THISNODE))
        return -1;
    if (nid >= 0)
        return nid;
    return st_.cfg.sc.pcp == pcp_mode::virtual_cpus ? st_.ref.model().cpu_node(current_vcpu()) : -1;
}

page *worker::checked_alloc(int nid, gfp_t gfp, unsigned order) {
    ref::alloc_checker::scope checked(st_.ref, {gfp, order, expected_flags_, bound_node(nid, gfp)});
    page *p =
        nid >= 0 ? st_.sys.alloc_pages_node(nid, gfp, order) : st_.sys.alloc_pages(gfp, order);
    for (const ref::finding &f : checked.finish(p))
        st_.orc.harness_violation(f.inv, f.what, f.message, gfp, int(order),
                                  static_cast<long long>(st_.sys.page_to_pfn(p)));
    return p;
}

page *worker::checked_nolock(gfp_t gfp, unsigned order) {
    ref::alloc_request rq{gfp | __GFP_NOWARN | __GFP_ZERO | __GFP_NOMEMALLOC | __GFP_COMP, order,
                          expected_flags_, -1};
    rq.nolock = true;
    ref::alloc_checker::scope checked(st_.ref, rq);
    page *p = st_.sys.alloc_pages_nolock(gfp, -1, order);
    for (const ref::finding &f : checked.finish(p))
        st_.orc.harness_violation(f.inv, f.what, f.message, rq.gfp, int(order),
                                  static_cast<long long>(st_.sys.page_to_pfn(p)));
    return p;
}

page *worker::allocate(splitmix64 &r, mask_draw &d, thread_stats &ts) {
    // The node asked for with __GFP_THISNODE, or -1 (the local node, fallback allowed).
    const auto &sc = st_.cfg.sc;
    int nid = -1;
    gfp_t gfp = d.gfp;
    if (!d.planted_invalid && !d.nolock && sc.thisnode_share > 0 && unit(r) < sc.thisnode_share) {
        nid = int(r() % unsigned(st_.sys.nr_nodes()));
        gfp = tame_nofail(gfp | __GFP_THISNODE, d.order, current_task_flags());
        d.gfp = gfp; // what was asked, for the checks that follow (NOFAIL may be gone)
    }
    ctx_.nonblocking = !(gfp & __GFP_DIRECT_RECLAIM);
    const double t0 = st_.cfg.tracing ? st_.orc.elapsed() : 0;
    activity_.order.store(int(d.order), std::memory_order_relaxed);
    activity_.gfp.store(gfp, std::memory_order_relaxed);
    // A planted invalid request is the library's to refuse (I16): no placement to check.
    page *p = d.planted_invalid ? st_.sys.alloc_pages(gfp, d.order)
              : d.nolock        ? checked_nolock(gfp, d.order)
                                : checked_alloc(nid, gfp, d.order);
    activity_.gfp.store(0, std::memory_order_relaxed);
    ctx_.nonblocking = false;
    if (st_.cfg.tracing) {
        const double dur = st_.orc.elapsed() - t0;
        if (dur * 1e9 >= double(st_.cfg.slow_alloc_ns))
            st_.trace.complete("alloc_pages", "slow-alloc", t0, dur, int(id_),
                               {{"mode", gfp_describe(gfp)},
                                {"order", d.order},
                                {"ok", p != nullptr},
                                {"op", ctx_.op}});
    }
    if (d.planted_invalid)
        return p;
    if (d.atomic)
        ts.outcomes[unsigned(p ? outcome::atomic_ok : outcome::atomic_failed)]++;
    if (d.nolock)
        ts.outcomes[unsigned(p ? outcome::nolock_ok : outcome::nolock_failed)]++;
    if (!p && (gfp & __GFP_ACCOUNT))
        ts.outcomes[unsigned(outcome::accounted_failed)]++;
    if (nid >= 0) {
        // The node itself is the reference oracle's check (I5).
        ts.outcomes[unsigned(p ? outcome::thisnode_ok : outcome::thisnode_failed)]++;
    } else if (p && sc.pcp == pcp_mode::virtual_cpus && st_.sys.nr_nodes() > 1) {
        const int local = st_.sys.cpu_to_node(current_vcpu());
        ts.outcomes[unsigned(p->node == local ? outcome::node_local : outcome::node_remote)]++;
    }
    return p;
}

void worker::op_alloc(splitmix64 &r, thread_stats &ts) {
    mask_draw d = st_.masks.draw(r);
    if (!d.planted_invalid) {
        d.gfp = tame_nofail(d.gfp, d.order, current_task_flags());
        // Inside noreclaim the reserves are open (ALLOC_NO_WATERMARKS): reclaim's own
        // allocations are small.
        if ((expected_flags_ & PF_MEMALLOC) && d.order > 0)
            d.order = 0;
        if (held_pages_.load(std::memory_order_relaxed) + (1ul << d.order) > budget()) {
            ts.outcomes[unsigned(outcome::over_budget)]++;
            op_free(r, ts);
            return;
        }
    }
    if (d.random)
        ts.outcomes[unsigned(outcome::random_masks)]++;
    if (d.planted_invalid) {
        ts.outcomes[unsigned(outcome::planted_invalid)]++;
        st_.orc.planted_invalid.fetch_add(1, std::memory_order_relaxed);
        ctx_.planting_invalid = true;
    }
    page *p = allocate(r, d, ts);
    ctx_.planting_invalid = false;
    if (d.planted_invalid) {
        // The one mistake 6.12 serves after its warning: NOFAIL from a caller that cannot
        // reclaim gets what the mask without NOFAIL would get.
        if (p && gfp_valid(d.gfp, int(d.order))) {
            st_.sys.free_pages(p, d.order);
            return;
        }
        if (p) {
            st_.orc.invalid_served.fetch_add(1, std::memory_order_relaxed);
            st_.orc.harness_violation(16, "invalid request served",
                                      fmt::format("alloc_pages(mode:{}, order:{}) returned pfn {}",
                                                  gfp_describe(d.gfp), d.order,
                                                  st_.sys.page_to_pfn(p)),
                                      d.gfp, int(d.order));
            if (d.order <= MAX_PAGE_ORDER)
                st_.sys.free_pages(p, d.order);
        }
        return;
    }
    if (!p) {
        ts.outcomes[unsigned(outcome::alloc_failed)]++;
        if (d.gfp & __GFP_NOFAIL)
            st_.orc.harness_violation(
                11, "NOFAIL returned NULL",
                fmt::format("alloc_pages(mode:{}, order:{})", gfp_describe(d.gfp), d.order), d.gfp,
                int(d.order));
        return;
    }
    ts.outcomes[unsigned(outcome::alloc_ok)]++;
    ts.outcomes[unsigned(outcome::pages_allocated)] += 1ull << d.order;
    if ((d.gfp & __GFP_ZERO) || d.nolock) { // alloc_pages_nolock() always zeroes
        ts.outcomes[unsigned(outcome::zero_blocks_checked)]++;
        if (!block_is_zero(st_.sys, p, d.order))
            st_.orc.harness_violation(
                12, "__GFP_ZERO page not zero",
                fmt::format("alloc_pages(mode:{}, order:{}) pfn {}", gfp_describe(d.gfp), d.order,
                            st_.sys.page_to_pfn(p)),
                d.gfp, int(d.order), static_cast<long long>(st_.sys.page_to_pfn(p)));
    }
    const std::uint64_t serial = ++serial_;
    st_.ledger.handed_out(d.order);
    stamp_block(st_.sys, p, d.order, id_, serial);
    std::lock_guard<std::mutex> g(lock_);
    held_.push_back({p, d.order, id_, serial});
    held_pages_.fetch_add(1ul << d.order, std::memory_order_relaxed);
}

void worker::release_block(const held_block &b, bool remote, bool nolock) {
    const long bad = check_block(st_.sys, b.p, b.order, b.owner, b.serial);
    if (bad >= 0)
        st_.orc.harness_violation(
            1, "page contents changed while held",
            fmt::format("pfn {} (page {} of an order-{} block of worker {}, freed by worker {}{}): "
                        "the owner's pattern is gone: written by another holder (I1) or "
                        "corrupted (I12)",
                        st_.sys.page_to_pfn(b.p) + (unsigned long)bad, bad, b.order, b.owner, id_,
                        remote ? ", a remote free" : ""),
            0, int(b.order), static_cast<long long>(st_.sys.page_to_pfn(b.p)));
    st_.ledger.returned(b.order); // out of the ledger before the allocator has it back
    if (nolock)
        st_.sys.free_pages_nolock(b.p, b.order);
    else
        st_.sys.free_pages(b.p, b.order);
}

void worker::op_free(splitmix64 &r, thread_stats &ts) {
    held_block b;
    {
        std::lock_guard<std::mutex> g(lock_);
        if (held_.empty()) {
            ts.outcomes[unsigned(outcome::nothing_held)]++;
            return;
        }
        std::swap(held_[r() % held_.size()], held_.back());
        b = held_.back();
        held_.pop_back();
        held_pages_.fetch_sub(1ul << b.order, std::memory_order_relaxed);
    }
    // Any block may go back through free_pages_nolock(), whoever allocated it.
    const bool nolock = st_.cfg.sc.nolock_share > 0 && unit(r) < st_.cfg.sc.nolock_share;
    release_block(b, false, nolock);
    if (nolock)
        ts.outcomes[unsigned(outcome::nolock_frees)]++;
    ts.outcomes[unsigned(outcome::pages_freed)] += 1ull << b.order;
}

void worker::op_handoff(splitmix64 &r, thread_stats &ts) {
    const unsigned n = unsigned(st_.workers.size());
    worker &to = *st_.workers[n == 1 ? id_ : (id_ + 1 + unsigned(r() % (n - 1))) % n];
    held_block b;
    {
        std::lock_guard<std::mutex> g(lock_);
        if (held_.empty()) {
            ts.outcomes[unsigned(outcome::nothing_held)]++;
            return;
        }
        std::swap(held_[r() % held_.size()], held_.back());
        b = held_.back();
        held_.pop_back();
        held_pages_.fetch_sub(1ul << b.order, std::memory_order_relaxed);
    }
    std::lock_guard<std::mutex> g(to.lock_);
    to.inbox_.push_back(b);
    to.held_pages_.fetch_add(1ul << b.order, std::memory_order_relaxed);
}

void worker::op_remote_free(thread_stats &ts) {
    std::vector<held_block> mine;
    {
        std::lock_guard<std::mutex> g(lock_);
        mine.swap(inbox_);
        for (const auto &b : mine)
            held_pages_.fetch_sub(1ul << b.order, std::memory_order_relaxed);
    }
    for (const auto &b : mine) {
        release_block(b, true);
        ts.outcomes[unsigned(outcome::remote_pages_freed)] += 1ull << b.order;
    }
}

void worker::op_touch(splitmix64 &r, thread_stats &ts) {
    // Under the lock: the OOM killer must not free the block while it is written.
    std::lock_guard<std::mutex> g(lock_);
    if (held_.empty()) {
        ts.outcomes[unsigned(outcome::nothing_held)]++;
        return;
    }
    held_block &b = held_[r() % held_.size()];
    const long bad = check_block(st_.sys, b.p, b.order, b.owner, b.serial);
    if (bad >= 0)
        st_.orc.harness_violation(
            1, "page contents changed while held",
            fmt::format("pfn {} (page {} of an order-{} block of worker {}): the owner's "
                        "pattern is gone: written by another holder (I1) or corrupted (I12)",
                        st_.sys.page_to_pfn(b.p) + (unsigned long)bad, bad, b.order, b.owner),
            0, int(b.order), static_cast<long long>(st_.sys.page_to_pfn(b.p)));
    b.serial = ++serial_;
    b.owner = id_;
    stamp_block(st_.sys, b.p, b.order, b.owner, b.serial);
}

void worker::check_task_flags() {
    const unsigned now = current_task_flags() & scope_flags;
    if (now != expected_flags_ || current_gfp_context(GFP_HIGHUSER_MOVABLE) !=
                                      gfp_context_for(expected_flags_, GFP_HIGHUSER_MOVABLE))
        st_.orc.harness_violation(8, "task flags differ from the scope stack",
                                  fmt::format("task flags {} where the saves and restores made "
                                              "{}",
                                              task_flags_name(now),
                                              task_flags_name(expected_flags_)));
}

void worker::op_scope_enter(splitmix64 &r, thread_stats &ts) {
    if (scopes_.size() >= max_scope_depth)
        return;
    // NOFS and NOIO are what filesystems and block drivers use; PIN and noreclaim are rarer.
    static constexpr unsigned kinds[] = {
        PF_MEMALLOC_NOFS, PF_MEMALLOC_NOFS, PF_MEMALLOC_NOFS, PF_MEMALLOC_NOFS, PF_MEMALLOC_NOIO,
        PF_MEMALLOC_NOIO, PF_MEMALLOC_NOIO, PF_MEMALLOC_PIN,  PF_MEMALLOC_PIN,  PF_MEMALLOC};
    const unsigned kind = kinds[r() % std::size(kinds)];
    const unsigned saved = scope_save(kind);
    if (saved != (kind & ~expected_flags_))
        st_.orc.harness_violation(8, "save returned the wrong state",
                                  fmt::format("save of {} returned {:#x}, expected {:#x}",
                                              task_flags_name(kind), saved,
                                              kind & ~expected_flags_));
    expected_flags_ |= kind;
    scopes_.push_back({kind, saved});
    ts.outcomes[unsigned(outcome::scope_saves)]++;
    auto &depth = ts.outcomes[unsigned(outcome::scope_depth_max)];
    depth = std::max<std::uint64_t>(depth, scopes_.size());
    check_task_flags();
}

void worker::op_scope_leave(splitmix64 &r, thread_stats &) {
    if (scopes_.empty())
        return;
    const std::size_t n = scopes_.size();
    // A planted bug: restore the outer save first. The kernel would not notice; the scope
    // stack must. Only where the two saves differ in kind and value, so that exactly one
    // mismatch (out of order) is the right report.
    if (n >= 2 && scopes_[n - 2].kind != scopes_[n - 1].kind &&
        scopes_[n - 2].saved != scopes_[n - 1].saved && unit(r) < st_.cfg.sc.scope_mismatch) {
        const open_scope outer = scopes_[n - 2];
        st_.orc.planted_scope.fetch_add(1, std::memory_order_relaxed);
        ctx_.planting_scope = true;
        scope_restore(outer.kind, outer.saved);
        ctx_.planting_scope = false;
        expected_flags_ &= ~outer.saved;
        scopes_.erase(scopes_.end() - 2);
    } else {
        scope_restore(scopes_.back().kind, scopes_.back().saved);
        expected_flags_ &= ~scopes_.back().saved;
        scopes_.pop_back();
    }
    check_task_flags();
}

void worker::close_scopes() {
    while (!scopes_.empty()) {
        scope_restore(scopes_.back().kind, scopes_.back().saved);
        expected_flags_ &= ~scopes_.back().saved;
        scopes_.pop_back();
    }
    check_task_flags();
}

void worker::op_lock_section(splitmix64 &r, thread_stats &ts) {
    const auto &sc = st_.cfg.sc;
    const bool driver = r() % 2;
    // The wrong caller is one worker, as a bug is one code path.
    const bool wrong = sc.wrong_caller > 0 && id_ == 0 && unit(r) < sc.wrong_caller;
    const bool by_scope = r() % 2;
    const unsigned allocations = 1 + unsigned(r() % 3);
    if (driver && !lock_for_a_while(st_.driver_lock))
        return;
    if (!lock_for_a_while(st_.fs_lock)) {
        if (driver)
            st_.driver_lock.unlock();
        return;
    }
    ts.outcomes[unsigned(outcome::locks_taken)] += driver ? 2 : 1;
    // The right caller: memalloc_nofs_save() for the section, or GFP_NOFS at each call.
    unsigned saved = 0;
    if (!wrong && by_scope) {
        saved = memalloc_nofs_save();
        expected_flags_ |= PF_MEMALLOC_NOFS;
    }
    gfp_t gfp = (wrong || by_scope ? GFP_KERNEL : GFP_NOFS) | __GFP_NOWARN;
    // The wrong call is only wrong where it may enter FS reclaim: a scope left open by an
    // earlier operation (NOFS, NOIO, noreclaim) makes it a correct one.
    const bool hazard = wrong && (gfp_context_for(expected_flags_, gfp) & __GFP_FS) &&
                        !(expected_flags_ & PF_MEMALLOC);
    ctx_.planting_i9 = hazard;
    for (unsigned i = 0; i < allocations; i++) {
        const unsigned order = unsigned(r() % 2);
        if (hazard)
            st_.orc.planted_i9.fetch_add(1, std::memory_order_relaxed);
        page *p = checked_alloc(-1, gfp, order);
        if (!p) {
            ts.outcomes[unsigned(outcome::alloc_failed)]++;
            continue;
        }
        ts.outcomes[unsigned(outcome::alloc_ok)]++;
        ts.outcomes[unsigned(outcome::pages_allocated)] += 1ull << order;
        st_.ledger.handed_out(order); // release_block() takes it out again
        // A buffer the filesystem fills and drops before it lets go of the lock.
        stamp_block(st_.sys, p, order, id_, ++serial_);
        release_block({p, order, id_, serial_}, false);
        ts.outcomes[unsigned(outcome::pages_freed)] += 1ull << order;
    }
    ctx_.planting_i9 = false;
    if (!wrong && by_scope) {
        memalloc_nofs_restore(saved);
        expected_flags_ &= ~saved;
    }
    st_.fs_lock.unlock();
    if (driver)
        st_.driver_lock.unlock();
}

void worker::op_cache_fill(splitmix64 &r, thread_stats &ts) {
    if (st_.cfg.sc.page_cache_share > 0 && unit(r) < st_.cfg.sc.page_cache_share) {
        op_page_cache(r, ts);
        return;
    }
    // Dentries come and go with lookups and unlinks; the cache keeps the unused ones.
    if (r() % 4 == 0) {
        for (int i = 0; i < 4; i++)
            if (st_.dentries->add((GFP_KERNEL & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN |
                                  __GFP_NOMEMALLOC))
                ts.outcomes[unsigned(outcome::cache_pages_added)]++;
        if (r() % 2)
            st_.dentries->remove();
        return;
    }
    // Page cache as readahead fills it, and inodes as a filesystem's slab fills them: both
    // without direct reclaim (kswapd is woken) and never from the reserves.
    const bool inode = r() % 4 == 0;
    page_cache &c = inode ? *st_.fs_cache : *st_.cache;
    const gfp_t gfp = ((inode ? (GFP_KERNEL | __GFP_RECLAIMABLE) : GFP_HIGHUSER_MOVABLE) &
                       ~__GFP_DIRECT_RECLAIM) |
                      __GFP_NOWARN | __GFP_NOMEMALLOC;
    ts.outcomes[unsigned(outcome::cache_pages_added)] += c.fill(16, gfp);
}

void worker::op_page_cache(splitmix64 &r, thread_stats &ts) {
    // The System's LRUs: file pages as reads and readahead add them (clean, or dirtied by a
    // write: reclaim must write them back, which needs __GFP_FS|__GFP_IO), anon pages as
    // faults add them (reclaim swaps them out with __GFP_IO). Reclaim takes them under the
    // mask of whoever reclaims: kswapd's GFP_KERNEL, or a worker's scoped NOFS/NOIO.
    gfplab::page_cache &pc = st_.sys.page_cache();
    const auto &sc = st_.cfg.sc;
    // A reader looks at a few of its pages again (the referenced bit), writes some, and
    // truncates the oldest once it has its share.
    for (int i = 0; i < 4 && !cached_.empty(); i++) {
        cached_next_ = (cached_next_ + 1 + r() % 7) % cached_.size();
        const cache_page_id id = cached_[cached_next_];
        const bool there = unit(r) < 0.2 ? pc.mark_dirty(id) || pc.touch(id) : pc.touch(id);
        if (!there && pc.state(id) == page_state::swapped)
            pc.swap_in(id, GFP_HIGHUSER_MOVABLE | __GFP_NORETRY | __GFP_NOWARN);
    }
    const std::size_t share = std::max<std::size_t>(16, st_.managed_pages / 8 / st_.cfg.threads);
    while (cached_.size() >= share) {
        if (!pc.remove(cached_.front()))
            ts.outcomes[unsigned(outcome::page_cache_gone)]++;
        cached_.pop_front();
    }
    for (int i = 0; i < 8; i++) {
        cache_page_id id;
        if (unit(r) < sc.anon_share)
            // A fault: it may reclaim, once (NORETRY keeps a worker from looping on memory
            // the workers themselves hold).
            id = pc.add_anon(-1, GFP_HIGHUSER_MOVABLE | __GFP_NORETRY | __GFP_NOWARN);
        else
            // Readahead: no direct reclaim, kswapd is woken.
            id = pc.add_file(unit(r) < sc.dirty_share, -1,
                             (GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN);
        if (!id)
            break;
        cached_.push_back(id);
        ts.outcomes[unsigned(outcome::page_cache_added)]++;
    }
}

void worker::op_shrinker(thread_stats &ts) {
    if (!private_cache_) {
        private_cache_ =
            std::make_unique<page_cache>(st_.sys, st_.orc, fmt::format("stress-w{}-objects", id_),
                                         nullptr, &st_.trace, &st_.ledger);
        private_cache_->fill(8, (GFP_KERNEL & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN |
                                    __GFP_NOMEMALLOC);
        ts.outcomes[unsigned(outcome::shrinkers_registered)]++;
    } else {
        private_cache_.reset(); // shrinker_free(): no callback runs after it returns
        ts.outcomes[unsigned(outcome::shrinkers_freed)]++;
    }
}

void worker::trim_to(unsigned long pages) {
    while (held_pages_.load() > pages) {
        held_block b;
        {
            std::lock_guard<std::mutex> g(lock_);
            std::vector<held_block> &from = inbox_.empty() ? held_ : inbox_;
            if (from.empty())
                return;
            b = from.back();
            from.pop_back();
            held_pages_.fetch_sub(1ul << b.order, std::memory_order_relaxed);
        }
        release_block(b, b.owner != id_);
    }
}

// --- slab objects ----------------------------------------------------------------------------

namespace {

// The masks kernel code passes to kmalloc and kmem_cache_alloc (never a highmem or DMA32
// zone: those are slab bugs, planted elsewhere).
constexpr gfp_t slab_masks[] = {
    GFP_KERNEL,
    GFP_NOFS,
    GFP_NOIO,
    GFP_ATOMIC,
    GFP_NOWAIT,
    GFP_KERNEL_ACCOUNT,
    GFP_KERNEL | __GFP_RECLAIMABLE,
    GFP_NOFS | __GFP_ZERO,
    GFP_KERNEL | __GFP_ZERO,
    GFP_KERNEL | __GFP_NORETRY,
    GFP_KERNEL | __GFP_DMA,
};
constexpr std::uint32_t shared_object_size = 120; // the "stress-objects" cache
constexpr std::size_t max_objects = 512;          // per worker
constexpr std::size_t max_exchange = 1024;

void stamp(void *p, std::uint32_t size, std::uint64_t v) {
    auto *b = static_cast<unsigned char *>(p);
    std::memcpy(b, &v, sizeof v);
    if (size >= 16)
        std::memcpy(b + size - sizeof v, &v, sizeof v);
}

bool stamped(const void *p, std::uint32_t size, std::uint64_t v) {
    const auto *b = static_cast<const unsigned char *>(p);
    std::uint64_t head, tail = v;
    std::memcpy(&head, b, sizeof head);
    if (size >= 16)
        std::memcpy(&tail, b + size - sizeof tail, sizeof tail);
    return head == v && tail == v;
}

} // namespace

void worker::check_object(const held_object &o, bool remote) {
    if (!stamped(o.p, o.size, o.stamp))
        st_.orc.harness_violation(
            17, "slab object changed while held",
            fmt::format("{}-byte {} object {} of worker {} freed by worker {}{}: its stamp is "
                        "gone: another holder wrote it (I17) or it was corrupted",
                        o.size, o.from_cache ? "stress-objects" : "kmalloc", fmt::ptr(o.p),
                        o.stamp >> 40, id_, remote ? " (remote)" : ""));
}

void worker::release_object(const held_object &o, bool remote) {
    check_object(o, remote);
    if (o.from_cache)
        kmem_cache_free(st_.objects, o.p);
    else
        kvfree(st_.sys, o.p);
}

// A published object's first two words: a non-zero value and its complement. Written
// before the object is published, never again while it is: a reader that finds them
// changed saw the object freed and reused under it.
void worker::publish_object(splitmix64 &r, const held_object &o) {
    check_object(o, false);
    auto *w = static_cast<std::uint64_t *>(o.p);
    const std::uint64_t v = o.stamp | 1;
    __atomic_store_n(&w[0], v, __ATOMIC_RELAXED);
    __atomic_store_n(&w[1], ~v, __ATOMIC_RELAXED);
    void *old = st_.published[r() % st_.published.size()].exchange(o.p, std::memory_order_acq_rel);
    // Readers may still hold the old one: its rcu_head sits past the two words they read.
    if (old)
        kvfree_call_rcu(st_.sys, reinterpret_cast<rcu::head *>(static_cast<char *>(old) + 16), old);
}

void worker::rcu_read(splitmix64 &r, thread_stats &ts) {
    rcu::read_guard g;
    const void *p = st_.published[r() % st_.published.size()].load(std::memory_order_acquire);
    if (!p)
        return;
    const auto *w = static_cast<const std::uint64_t *>(p);
    const std::uint64_t a = __atomic_load_n(&w[0], __ATOMIC_RELAXED);
    const std::uint64_t b = __atomic_load_n(&w[1], __ATOMIC_RELAXED);
    // Linger a little, as a reader walking a structure would, then look again.
    for (int i = 0; i < 64; i++)
        std::atomic_signal_fence(std::memory_order_seq_cst);
    const std::uint64_t again = __atomic_load_n(&w[0], __ATOMIC_RELAXED);
    if (b != ~a || again != a || !(a & 1))
        st_.orc.harness_violation(
            20, "RCU reader saw a freed object",
            fmt::format("published object {} changed inside rcu_read_lock(): words {:#x} {:#x} "
                        "then {:#x}; kfree_rcu() freed it before the grace period ended",
                        fmt::ptr(p), a, b, again));
    ts.outcomes[unsigned(outcome::rcu_reads)]++;
}

// kmalloc of 8 B..16 KiB (above 8 KiB: pages) or the shared cache's objects, under a mask
// kernel code uses and the worker's scopes; the object is stamped, and freed later by the
// worker or, through the exchange, by another, or published to RCU readers and freed with
// kfree_rcu() once another takes its place.
void worker::op_slab(splitmix64 &r, thread_stats &ts) {
    if (r() % 16 == 0) {
        rcu_read(r, ts);
        return;
    }
    if (r() % 8 == 0) {
        held_object o;
        {
            std::lock_guard<std::mutex> g(st_.exchange_lock);
            if (!st_.exchange.empty()) {
                o = st_.exchange.back();
                st_.exchange.pop_back();
            }
        }
        if (o.p) {
            release_object(o, true);
            ts.outcomes[unsigned(outcome::objects_remote_freed)]++;
            return;
        }
    }
    std::size_t held;
    {
        std::lock_guard<std::mutex> g(lock_);
        held = objects_.size();
    }
    const bool alloc = held == 0 || (held < 64 ? r() % 3 != 0 : held < max_objects && r() % 3 == 0);
    if (!alloc) {
        held_object o;
        {
            std::lock_guard<std::mutex> g(lock_);
            if (objects_.empty())
                return; // killed meanwhile
            std::swap(objects_[r() % objects_.size()], objects_.back());
            o = objects_.back();
            objects_.pop_back();
        }
        if (r() % 4 == 0) {
            std::lock_guard<std::mutex> g(st_.exchange_lock);
            if (st_.exchange.size() < max_exchange) {
                st_.exchange.push_back(o);
                return;
            }
        }
        if (o.size >= 32 && r() % 4 == 0) {
            publish_object(r, o);
            ts.outcomes[unsigned(outcome::objects_rcu_freed)]++;
            return;
        }
        release_object(o, false);
        ts.outcomes[unsigned(outcome::objects_freed)]++;
        return;
    }
    const gfp_t gfp = slab_masks[r() % std::size(slab_masks)] | __GFP_NOWARN;
    const bool from_cache = r() % 4 == 0;
    std::uint32_t size = shared_object_size;
    if (!from_cache) {
        const unsigned u = unsigned(r() % 100);
        size = u < 60   ? 8 + std::uint32_t(r() % 249)
               : u < 90 ? 257 + std::uint32_t(r() % 3840)
               : u < 97 ? 4097 + std::uint32_t(r() % 12288)
                        : 16385 + std::uint32_t(r() % (256 << 10)); // big tables
    }
    // Big tables come from kvmalloc() (kmalloc, then vmalloc if the mask may sleep) or,
    // when the mask may sleep, straight from vmalloc.
    const bool big = !from_cache && size > 16384;
    void *p = from_cache                                ? kmem_cache_alloc(st_.objects, gfp)
              : !big                                    ? kmalloc(st_.sys, size, gfp)
              : (gfp & __GFP_DIRECT_RECLAIM) && r() % 2 ? vmalloc_node(st_.sys, size, gfp, -1)
                                                        : kvmalloc(st_.sys, size, gfp);
    if (!p) {
        ts.outcomes[unsigned(outcome::objects_failed)]++;
        return;
    }
    ts.outcomes[unsigned(outcome::objects_allocated)]++;
    const bool vmalloced = is_vmalloc_addr(st_.sys, p);
    if (vmalloced)
        ts.outcomes[unsigned(outcome::objects_vmalloced)]++;
    if (gfp & __GFP_ZERO) {
        const auto *b = static_cast<const unsigned char *>(p);
        if (std::any_of(b, b + size, [](unsigned char c) { return c != 0; }))
            st_.orc.harness_violation(12, "slab object not zeroed",
                                      fmt::format("{}-byte object {} under __GFP_ZERO holds "
                                                  "non-zero bytes",
                                                  size, fmt::ptr(p)),
                                      gfp);
    }
    if (!from_cache && !vmalloced) {
        // kmalloc's promises: ksize() covers the request, and a power-of-two size up to
        // the largest class is aligned to itself.
        const std::size_t usable = ksize(st_.sys, p);
        const bool pow2 = (size & (size - 1)) == 0 && size <= KMALLOC_MAX_CACHE_SIZE;
        if (usable < size || (pow2 && reinterpret_cast<std::uintptr_t>(p) % size))
            st_.orc.harness_violation(
                17, "kmalloc object too small or misaligned",
                fmt::format("kmalloc({}) = {}: ksize {}", size, fmt::ptr(p), usable), gfp);
    }
    held_object o{p, size, from_cache, (std::uint64_t(id_) << 40) ^ ++serial_};
    stamp(p, size, o.stamp);
    std::lock_guard<std::mutex> g(lock_);
    objects_.push_back(o);
}

unsigned long worker::kill() {
    std::vector<held_block> a, b;
    std::vector<held_object> objects;
    {
        std::lock_guard<std::mutex> g(lock_);
        a.swap(held_);
        b.swap(inbox_);
        objects.swap(objects_);
        held_pages_.store(0);
    }
    unsigned long n = 0;
    for (const auto *v : {&a, &b})
        for (const auto &x : *v) {
            release_block(x, true);
            n += 1ul << x.order;
        }
    // Objects give pages back only as their slabs empty: counted by their bytes.
    unsigned long bytes = 0;
    for (const held_object &o : objects) {
        release_object(o, true);
        bytes += o.size;
    }
    n += bytes >> PAGE_SHIFT;
    killed_pages_.fetch_add(n);
    killed_.store(true, std::memory_order_release);
    return n;
}

void worker::release_all() {
    trim_to(0);
    std::vector<held_object> objects;
    {
        std::lock_guard<std::mutex> g(lock_);
        objects.swap(objects_);
    }
    for (const held_object &o : objects)
        release_object(o, false);
    private_cache_.reset();
    for (cache_page_id id : cached_)
        st_.sys.page_cache().remove(id);
    cached_.clear();
}

} // namespace gfplab::stress
