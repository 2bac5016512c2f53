// SPDX-License-Identifier: MIT
//
// The fs_reclaim dependency checker (oracle I9): lock classes, the per-thread held-lock
// stack, and a graph of "held A while taking B" edges in which a cycle is a possible
// deadlock. The kernel's lockdep does far more (irq states, read locks, subclasses, chain
// hashing); reclaim recursion needs only the ordering graph and the fs_reclaim pseudo-lock,
// whose rules follow 6.12 mm/page_alloc.c (__need_reclaim, fs_reclaim_acquire/release) and
// include/linux/sched/mm.h (might_alloc).
//
// The graph is shared by all threads behind one mutex: this is a checker, not the fast path,
// and the graph stays tiny (one node per lock class). Held-lock stacks are thread_local, so
// might_alloc() on a thread that holds nothing returns before touching anything shared.
#include <gfplab/gfp.hpp>
#include <gfplab/lockdep.hpp>
#include <gfplab/lockdep_assert.hpp>

#include "../scope/caller.hpp"
#include "held_count.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <set>
#include <unordered_map>
#include <utility>

namespace gfplab {

__thread unsigned detail::t_held_count = 0;

namespace {

// One entry of the calling thread's held-lock stack.
struct held_entry {
    const lock_class *cls;
    unsigned id; // the class's id when it was taken (the class may die while held: a bug of
                 // the caller's, tolerated)
    const char *file;
    unsigned line;
    lock_kind kind;
    std::uint64_t seq;
};

// Innermost last. Any depth.
thread_local std::vector<held_entry> held;
thread_local std::uint64_t acquisitions = 0;
// Live lockdep_off guards on this thread.
thread_local unsigned off_depth = 0;

// How an edge came about; decides the words of its description.
enum class edge_kind {
    lock,    // an ordinary acquisition while other locks were held
    alloc,   // might_alloc(): an allocation that may enter fs reclaim
    reclaim, // fs_reclaim_acquire(): entering reclaim
};

struct edge_info {
    std::string file; // copied: the C face may pass sites that do not outlive the call
    unsigned line;
    std::string how;
};

struct lockdep_graph {
    std::mutex m;
    // By class id; a dead class leaves an empty, reusable slot.
    std::vector<std::string> names;
    std::vector<bool> live;
    std::vector<unsigned> free_ids;
    std::vector<std::vector<unsigned>> succ;
    std::unordered_map<std::uint64_t, edge_info> edges; // key: from << 32 | to
    std::set<std::uint64_t> reported;                   // key: min << 32 | max
};

// Never destroyed: lock classes with static storage (fs_reclaim among them) may outlive any
// other static, and their destructors still unregister.
lockdep_graph &graph() {
    static auto *g = new lockdep_graph;
    return *g;
}

struct report_sink {
    std::mutex m;
    std::function<void(const lockdep_report &)> fn;
};

report_sink &sink() {
    static auto *s = new report_sink;
    return *s;
}

std::atomic<std::uint64_t> report_count{0};

constexpr std::uint64_t edge_key(unsigned from, unsigned to) noexcept {
    return (std::uint64_t{from} << 32) | to;
}

constexpr std::uint64_t pair_key(unsigned a, unsigned b) noexcept {
    return a < b ? edge_key(a, b) : edge_key(b, a);
}

const char *base_name(const char *file) noexcept {
    if (!file)
        return "?";
    const char *slash = std::strrchr(file, '/');
    return slash ? slash + 1 : file;
}

std::string describe(edge_kind kind, gfp_t gfp, bool from_reclaim) {
    switch (kind) {
    case edge_kind::alloc:
        return fmt::format("allocation {} may enter fs reclaim", gfp_describe(gfp));
    case edge_kind::reclaim:
        return fmt::format("entering reclaim with {}", gfp_describe(gfp));
    case edge_kind::lock:
        break;
    }
    return from_reclaim ? "taken inside reclaim" : "taken while held";
}

std::string format_edge(const lockdep_graph &g, unsigned from, unsigned to, const edge_info &e) {
    return fmt::format("{} -> {} at {}:{} ({})", g.names[from], g.names[to], e.file, e.line, e.how);
}

// "fs lock@inode.c:12 > fs_reclaim@vmscan.c:40": the calling thread's stack, outermost first.
// Names come from the graph (g.m held), not from the classes: a class may have died while
// held.
std::string format_held(const lockdep_graph &g) {
    if (held.empty())
        return "-";
    std::string out;
    for (const auto &h : held) {
        if (!out.empty())
            out += " > ";
        const bool live = h.id < g.live.size() && g.live[h.id];
        out += fmt::format("{}@{}:{}", live ? g.names[h.id] : "(dead class)", base_name(h.file),
                           h.line);
    }
    return out;
}

// The path from `start` to `goal` over recorded edges, as the list of nodes, or empty.
// Breadth first, so the chain a report prints is a shortest one.
std::vector<unsigned> find_path(const lockdep_graph &g, unsigned start, unsigned goal) {
    constexpr unsigned none = ~0u;
    std::vector<unsigned> parent(g.succ.size(), none);
    std::deque<unsigned> queue{start};
    parent[start] = start;
    while (!queue.empty()) {
        unsigned n = queue.front();
        queue.pop_front();
        if (n == goal) {
            std::vector<unsigned> path{n};
            while (n != start) {
                n = parent[n];
                path.push_back(n);
            }
            std::reverse(path.begin(), path.end());
            return path;
        }
        for (unsigned s : g.succ[n]) {
            if (parent[s] == none) {
                parent[s] = n;
                queue.push_back(s);
            }
        }
    }
    return {};
}

// Records from -> to if it is new; if `to` already reaches `from`, the new edge closes a
// cycle: that is a report, once per pair of classes. Called with g.m held; the report, if
// any, is handed back to be delivered after the lock is dropped.
bool add_edge(lockdep_graph &g, unsigned from, unsigned to, unsigned reclaim_id, const srcloc &at,
              edge_kind kind, gfp_t gfp, lockdep_report &out) {
    // from == to: a second lock of a class already held (two inodes). The kernel reports it
    // as recursive locking unless annotated with a subclass; the model has no subclasses and
    // records nothing. A class that died while held records nothing either.
    if (from == to || from >= g.live.size() || to >= g.live.size() || !g.live[from] || !g.live[to])
        return false;
    const std::uint64_t key = edge_key(from, to);
    if (g.edges.count(key))
        return false; // checked when it was first seen
    edge_info info{base_name(at.file), at.line, describe(kind, gfp, from == reclaim_id)};

    bool report = false;
    const std::vector<unsigned> back = find_path(g, to, from);
    if (!back.empty() && g.reported.insert(pair_key(from, to)).second) {
        std::string chain;
        for (std::size_t i = 0; i + 1 < back.size(); ++i) {
            if (!chain.empty())
                chain += "; ";
            chain +=
                format_edge(g, back[i], back[i + 1], g.edges.at(edge_key(back[i], back[i + 1])));
        }
        std::string cycle;
        for (unsigned n : back)
            cycle += g.names[n] + " -> ";
        cycle += g.names[to];
        const bool recursion = std::find(back.begin(), back.end(), reclaim_id) != back.end();
        out.message = fmt::format("possible circular locking dependency{}: {} -> {} closes the "
                                  "cycle {} [held by this thread: {}]",
                                  recursion ? " (reclaim recursion)" : "", g.names[from],
                                  g.names[to], cycle, format_held(g));
        out.first = std::move(chain);
        out.second = format_edge(g, from, to, info);
        report = true;
    }
    g.succ[from].push_back(to);
    g.edges.emplace(key, std::move(info));
    return report;
}

void deliver(const lockdep_report &r) {
    report_count.fetch_add(1, std::memory_order_relaxed);
    std::function<void(const lockdep_report &)> fn;
    {
        std::lock_guard<std::mutex> guard(sink().m);
        fn = sink().fn;
    }
    // Outside every checker lock: a handler may look at the checker (counts, held locks).
    if (fn) {
        fn(r);
        return;
    }
    std::fprintf(stderr, "gfplab: I9 %s\ngfplab: I9   existing: %s\ngfplab: I9   new:      %s\n",
                 r.message.c_str(), r.first.c_str(), r.second.c_str());
}

// Edges from every class this thread holds to `to`. The kernel adds only the innermost
// (plus trylocked ones below it) and lets transitivity do the rest; with a graph this small,
// direct edges cost nothing and give each report its own site.
void add_dependencies(unsigned to, const srcloc &at, edge_kind kind, gfp_t gfp) {
    if (held.empty())
        return;
    // Outside g.m: the first call constructs the class, which registers under g.m.
    const unsigned reclaim_id = fs_reclaim_class().id();
    std::vector<lockdep_report> reports;
    {
        auto &g = graph();
        std::lock_guard<std::mutex> guard(g.m);
        for (const auto &h : held) {
            if (h.kind == lock_kind::context) // no lock: nothing can wait on it
                continue;
            lockdep_report r;
            if (add_edge(g, h.id, to, reclaim_id, at, kind, gfp, r))
                reports.push_back(std::move(r));
        }
    }
    for (const auto &r : reports)
        deliver(r);
}

void push_held(const lock_class &c, const srcloc &at) {
    held.push_back(held_entry{&c, c.id(), at.file, at.line, c.kind(), ++acquisitions});
    detail::t_held_count = unsigned(held.size());
}

// Whether an allocation or reclaim with `gfp` takes fs_reclaim on this thread (6.12
// fs_reclaim_acquire: current_gfp_context(), then __need_reclaim(), then __GFP_FS). The
// 6.12 mmu_notifier_invalidate_range_start map, which fs_reclaim_acquire also touches when
// reclaim is possible, is not modelled: the model has no MMU notifiers.
bool takes_fs_reclaim(gfp_t gfp) noexcept {
    // Scopes first: inside memalloc_nofs_save() a GFP_KERNEL allocation is GFP_NOFS, which is
    // the whole point of the scope API.
    gfp = current_gfp_context(gfp);
    // __need_reclaim: no reclaim without waiting on it.
    if (!(gfp & __GFP_DIRECT_RECLAIM))
        return false;
    // __need_reclaim: a PF_MEMALLOC task (already reclaiming, or kswapd) never enters
    // direct reclaim.
    if (current_task_flags() & PF_MEMALLOC)
        return false;
    // __need_reclaim: the caller opted out. __GFP_NOLOCKDEP is 0 in the model's layout, so
    // the lockdep_off guard stands in for it.
    if ((gfp & __GFP_NOLOCKDEP) || off_depth != 0)
        return false;
    // fs_reclaim_acquire: only reclaim that may enter filesystems takes the map (4.19's
    // __need_fs_reclaim folded this test into the predicate; same result).
    return (gfp & __GFP_FS) != 0;
}

unsigned register_class(const std::string &name) {
    auto &g = graph();
    std::lock_guard<std::mutex> guard(g.m);
    unsigned id;
    if (!g.free_ids.empty()) {
        id = g.free_ids.back();
        g.free_ids.pop_back();
    } else {
        id = static_cast<unsigned>(g.names.size());
        g.names.emplace_back();
        g.live.push_back(false);
        g.succ.emplace_back();
    }
    g.names[id] = name;
    g.live[id] = true;
    return id;
}

// A dead class's edges and reports go with it, so that a class created later in its slot
// inherits nothing.
void unregister_class(unsigned id) {
    auto &g = graph();
    std::lock_guard<std::mutex> guard(g.m);
    for (auto it = g.edges.begin(); it != g.edges.end();) {
        if ((it->first >> 32) == id || (it->first & 0xffffffffu) == id)
            it = g.edges.erase(it);
        else
            ++it;
    }
    for (auto &s : g.succ)
        s.erase(std::remove(s.begin(), s.end(), id), s.end());
    g.succ[id].clear();
    for (auto it = g.reported.begin(); it != g.reported.end();) {
        if ((*it >> 32) == id || (*it & 0xffffffffu) == id)
            it = g.reported.erase(it);
        else
            ++it;
    }
    g.names[id].clear();
    g.live[id] = false;
    g.free_ids.push_back(id);
}

} // namespace

lock_class::lock_class(std::string name, lock_kind kind)
    : name_(std::move(name)), id_(register_class(name_)), kind_(kind) {}

lock_class::~lock_class() {
    unregister_class(id_);
}

lock_class &fs_reclaim_class() {
    // Leaked on purpose: allocations and reclaim may run in other statics' destructors.
    static auto *c = new lock_class("fs_reclaim");
    return *c;
}

void lock_acquire(const lock_class &c, srcloc at) {
    if (c.kind() != lock_kind::context)
        add_dependencies(c.id(), at, edge_kind::lock, 0);
    push_held(c, at);
}

void lock_acquire_try(const lock_class &c, srcloc at) {
    push_held(c, at);
}

void lock_release(const lock_class &c) noexcept {
    // The innermost matching entry: out-of-order release is legal for mutexes, and a release
    // of something not held is the caller's imbalance, not a deadlock.
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
        if (it->cls == &c) {
            held.erase(std::next(it).base());
            detail::t_held_count = unsigned(held.size());
            return;
        }
    }
}

std::vector<held_lock> current_held_locks() {
    std::vector<held_lock> out;
    out.reserve(held.size());
    for (const auto &h : held)
        out.push_back(held_lock{h.cls, h.file, h.line});
    return out;
}

std::optional<held_lock> current_atomic_holder() {
    for (auto it = held.rbegin(); it != held.rend(); ++it)
        if (it->kind != lock_kind::sleeping)
            return held_lock{it->cls, it->file, it->line, it->seq};
    return std::nullopt;
}

std::size_t current_held_count() noexcept {
    return held.size();
}

bool current_holds(const lock_class &c) noexcept {
    return std::any_of(held.begin(), held.end(), [&](const held_entry &h) { return h.cls == &c; });
}

void might_alloc(gfp_t gfp, srcloc at) {
    // Nothing held, no dependency to record: the common case costs a TLS load.
    if (held.empty())
        return;
    if (!takes_fs_reclaim(gfp))
        return;
    // include/linux/sched/mm.h might_alloc: fs_reclaim_acquire + fs_reclaim_release, so the
    // dependency is recorded even when this allocation is served without reclaim. Its
    // might_sleep_if() half is I21 (check/might_sleep.cpp), checked by the callers. The
    // site is kernel code's line when it called through the include root.
    add_dependencies(fs_reclaim_class().id(), caller_or(at), edge_kind::alloc, gfp);
}

void fs_reclaim_acquire(gfp_t gfp, srcloc at) {
    if (!takes_fs_reclaim(gfp))
        return;
    lock_class &fr = fs_reclaim_class();
    add_dependencies(fr.id(), at, edge_kind::reclaim, gfp);
    push_held(fr, at);
}

void fs_reclaim_release(gfp_t gfp) noexcept {
    // 6.12 mirrors the acquire's test; a scope that changed in between leaves fs_reclaim as
    // the kernel would (a release of a class not held is tolerated).
    if (takes_fs_reclaim(gfp))
        lock_release(fs_reclaim_class());
}

void __fs_reclaim_acquire(srcloc at) {
    lock_acquire(fs_reclaim_class(), at);
}

void __fs_reclaim_release() noexcept {
    lock_release(fs_reclaim_class());
}

lockdep_off::lockdep_off() noexcept {
    ++off_depth;
}

lockdep_off::~lockdep_off() {
    --off_depth;
}

bool lockdep_is_off() noexcept {
    return off_depth != 0;
}

void set_lockdep_report_handler(std::function<void(const lockdep_report &)> fn) {
    std::lock_guard<std::mutex> guard(sink().m);
    sink().fn = std::move(fn);
}

std::uint64_t lockdep_report_count() noexcept {
    return report_count.load(std::memory_order_relaxed);
}

void lockdep_reset() {
    auto &g = graph();
    std::lock_guard<std::mutex> guard(g.m);
    g.edges.clear();
    for (auto &s : g.succ)
        s.clear();
    g.reported.clear();
    report_count.store(0, std::memory_order_relaxed);
}

} // namespace gfplab

namespace gfplab {

void lockdep_assert_held_failed(const char *lock, const char *file, int line) noexcept {
    std::fprintf(stderr,
                 "gfplab: lockdep_assert_held(%s) failed at %s:%d: not held by this "
                 "thread\n",
                 lock, file, line);
    std::abort();
}

} // namespace gfplab
