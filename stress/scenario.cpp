// SPDX-License-Identifier: MIT
#include "scenario.hpp"

namespace gfplab::stress {

std::string_view op_name(op_kind k) noexcept {
    static constexpr std::string_view names[] = {
        "alloc",       "free",        "handoff",      "remote_free", "touch",
        "scope_enter", "scope_leave", "lock_section", "cache_fill",  "shrinker",
        "drain",       "slab",        "workload",
    };
    return unsigned(k) < nr_op_kinds ? names[unsigned(k)] : "?";
}

std::string_view phase_name(phase p) noexcept {
    switch (p) {
    case phase::fill:
        return "fill";
    case phase::hold:
        return "hold";
    case phase::release:
        return "release";
    default:
        return "?";
    }
}

namespace {

// alloc, free, handoff, remote_free, touch, scope_enter, scope_leave, lock_section,
// cache_fill, shrinker, drain, slab (workload: 0, set by --workload, with_workloads())
constexpr op_weights mix_fill{400, 150, 40, 40, 60, 60, 60, 20, 80, 2, 1, 80};
constexpr op_weights mix_hold{300, 280, 40, 40, 60, 60, 60, 20, 40, 2, 1, 80};
constexpr op_weights mix_release{120, 500, 40, 60, 60, 60, 60, 20, 10, 2, 1, 80};

scenario make_default() {
    scenario s;
    s.name = "default";
    s.summary = "the mix: every operation, masks as a kernel uses them, gentle pressure phases";
    s.weights = {mix_fill, mix_hold, mix_release};
    return s;
}

std::vector<scenario> make_all() {
    std::vector<scenario> v;
    v.push_back(make_default());

    scenario p = make_default();
    p.name = "pressure";
    p.summary = "phases dominate: fill to the watermarks, hold near min, release; kswapd, "
                "direct reclaim, shrinkers and OOM kills all run";
    p.weights = {op_weights{600, 60, 20, 20, 20, 10, 10, 5, 150, 1, 1, 40},
                 op_weights{350, 330, 20, 20, 20, 10, 10, 5, 60, 1, 1, 40},
                 op_weights{60, 700, 20, 60, 20, 10, 10, 5, 10, 1, 1, 40}};
    p.phase_ops = 4000;
    p.hold_share = 1.0; // everything: only reclaim and the OOM killer get memory back
    v.push_back(p);

    scenario s = make_default();
    s.name = "scopes";
    s.summary = "scope and lock heavy: deep nofs/noio/noreclaim/pin nestings, declared locks, "
                "allocations under them";
    for (auto &w : s.weights) {
        w[unsigned(op_kind::scope_enter)] = 300;
        w[unsigned(op_kind::scope_leave)] = 280;
        w[unsigned(op_kind::lock_section)] = 150;
    }
    v.push_back(s);

    scenario b = make_default();
    b.name = "bad-input";
    b.summary = "a higher share of planted invalid masks and out-of-order scope restores, each "
                "of which must be reported";
    b.invalid_masks = 0.05;
    b.scope_mismatch = 0.10;
    v.push_back(b);

    scenario w = make_default();
    w.name = "nofs-deadlock";
    w.summary = "a filesystem allocates GFP_KERNEL while holding the lock its shrinker takes: "
                "the reclaim recursion must be reported as I9 (exit 1, I9 and nothing else)";
    for (auto &x : w.weights) {
        x[unsigned(op_kind::lock_section)] = 80;
        x[unsigned(op_kind::slab)] = 0; // the stream of the lock sections, undiluted
    }
    w.wrong_caller = 0.05;
    w.expects_i9 = true;
    v.push_back(w);

    scenario a = p;
    a.name = "atomic-storm";
    a.summary = "GFP_ATOMIC/GFP_NOWAIT heavy under pressure: they dip into the reserves and "
                "fail, and never enter direct reclaim or a shrinker (I7)";
    a.atomic_share = 0.6;
    // The any-context pair beside them: with the kernel buddy it fails (or defers a free)
    // whenever zone->lock is busy.
    a.nolock_share = 0.1;
    // Network receive: mostly single pages and order-3 fragments.
    a.orders = {700, 80, 40, 120, 10, 5, 5, 5, 5, 5, 5};
    v.push_back(a);

    scenario n = make_default();
    n.name = "numa";
    n.summary = "two nodes, four virtual CPUs: __GFP_THISNODE requests stay on their node (I5), "
                "node-local placement counted, remote frees cross nodes";
    n.nodes = 2;
    n.cpus = 4;
    n.pcp = pcp_mode::virtual_cpus; // its point is four CPUs on two nodes: one mode
    n.pcp_rotate = false;
    n.thisnode_share = 0.15;
    v.push_back(n);

    scenario sl = make_default();
    sl.name = "slab";
    sl.summary = "slab heavy: kmalloc of 8 B..16 KiB and kmem_cache objects under every mask, "
                 "freed by their owner or another worker, beside a dentry cache that reclaim "
                 "shrinks (I17, I18 online; stamps and zeroing checked by the harness)";
    sl.weights = {op_weights{150, 60, 20, 20, 20, 40, 40, 10, 150, 1, 1, 600},
                  op_weights{120, 120, 20, 20, 20, 40, 40, 10, 100, 1, 1, 600},
                  op_weights{60, 300, 20, 40, 20, 40, 40, 10, 20, 1, 2, 600}};
    v.push_back(sl);

    scenario o = make_default();
    o.name = "oversubscribed";
    o.summary = "the default mix on 4 workers per core (preemption inside the fast path)";
    o.threads_per_core = 4;
    v.push_back(o);
    return v;
}

} // namespace

const std::vector<scenario> &scenarios() {
    static const std::vector<scenario> all = make_all();
    return all;
}

std::optional<scenario> find_scenario(std::string_view name) {
    if (name == "wrong-caller")
        name = "nofs-deadlock";
    for (const auto &s : scenarios())
        if (s.name == name)
            return s;
    return std::nullopt;
}

void with_workloads(scenario &s, bool only) {
    // Alone, the plugins' operations are the point: the workers' own pages may take all of
    // memory, so that reclaim (kswapd's and direct) runs the plugins' shrinkers.
    if (only)
        s.hold_share = 1.0;
    for (op_weights &w : s.weights) {
        if (only)
            for (unsigned k = 0; k < nr_op_kinds; k++)
                switch (op_kind(k)) {
                case op_kind::alloc:
                case op_kind::free:
                case op_kind::scope_enter:
                case op_kind::scope_leave:
                case op_kind::workload:
                    break;
                default:
                    w[k] = 0;
                }
        unsigned builtin = 0;
        for (unsigned k = 0; k < nr_op_kinds; k++)
            builtin += op_kind(k) == op_kind::workload ? 0 : w[k];
        unsigned &mine = w[unsigned(op_kind::workload)];
        if (mine == 0)
            mine = only ? 2 * builtin : builtin; // two thirds, or half, of the draws
    }
}

std::optional<op_kind> find_op(std::string_view name) noexcept {
    for (unsigned k = 0; k < nr_op_kinds; k++)
        if (op_name(op_kind(k)) == name)
            return op_kind(k);
    return std::nullopt;
}

std::string_view pcp_mode_name(pcp_mode m) noexcept {
    switch (m) {
    case pcp_mode::rseq:
        return "rseq";
    case pcp_mode::locked:
        return "locked";
    case pcp_mode::virtual_cpus:
        return "virtual";
    default:
        return "automatic";
    }
}

std::optional<pcp_mode> find_pcp_mode(std::string_view name) noexcept {
    for (auto m : {pcp_mode::automatic, pcp_mode::rseq, pcp_mode::locked, pcp_mode::virtual_cpus})
        if (pcp_mode_name(m) == name)
            return m;
    return std::nullopt;
}

std::string_view pcp_mode_text(const scenario &s) noexcept {
    return s.pcp_rotate ? "rotate" : pcp_mode_name(s.pcp);
}

bool set_pcp_mode(scenario &s, std::string_view text) noexcept {
    if (text == "rotate") {
        s.pcp_rotate = true;
        return true;
    }
    const auto m = find_pcp_mode(text);
    if (!m)
        return false;
    s.pcp = *m;
    s.pcp_rotate = false;
    return true;
}

} // namespace gfplab::stress
