// SPDX-License-Identifier: MIT
//
// gfplab/shrinker.hpp - a System's shrinker registry and shrink_slab() (6.12 mm/shrinker.c).
//
// Shrinkers run without a global lock: reclaim takes a reference on each registered
// shrinker around its calls (shrinker_try_get), and shrinker_free() drops the initial
// reference and waits for the calls in flight, so no callback runs after it returns.
// The registry also checks the shrinker contract as it calls (I15: nr_to_scan within what
// count_objects reported and the batch; after SHRINK_STOP no further call that round) and
// the context (I8: the gfp_mask a shrinker sees never has __GFP_FS inside a NOFS scope, nor
// __GFP_IO or __GFP_FS inside NOIO), reporting violations through a callback.
// The calling side holds by construction (nr_to_scan = min(batch, target); note that 6.12
// asks a cache smaller than a batch for up to twice its count at priority 0); what is
// checked is the callee (nr_scanned raised or left at 0, more freed than nr_to_scan, a bad
// count) and the caller's mask against the thread's scope.
#pragma once

#include <gfplab/linux/shrinker.h>
#include <gfplab/report.hpp>
#include <gfplab/trace.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gfplab {

class lock_class; // gfplab/lockdep.hpp

// The arithmetic of one do_shrink_slab() call, for tests and the statistics: what the
// kernel's formula asks of a shrinker with `freeable` objects and `deferred` work.
struct shrink_plan {
    unsigned long delta; // new work from this pass: (freeable >> priority) * 4 / seeks
    unsigned long total; // deferred >> priority + delta, capped at 2 * freeable
};
shrink_plan do_shrink_slab_plan(unsigned long freeable, unsigned long deferred, int priority,
                                int seeks) noexcept;

struct shrinker_stats {
    std::string name;
    std::uint64_t calls = 0;    // scan_objects calls
    std::uint64_t scanned = 0;  // objects scanned (nr_scanned summed)
    std::uint64_t freed = 0;    // objects freed (scan_objects results summed)
    std::uint64_t stops = 0;    // SHRINK_STOP answers
    std::uint64_t deferred = 0; // nr_deferred now (summed over nodes)
};

class shrinker_registry {
  public:
    // nr_node_ids: deferred counts are kept per node for NUMA-aware shrinkers.
    explicit shrinker_registry(int nr_node_ids);
    ~shrinker_registry(); // frees shrinkers still allocated
    shrinker_registry(const shrinker_registry &) = delete;
    shrinker_registry &operator=(const shrinker_registry &) = delete;

    // shrinker_alloc(): flags | SHRINKER_ALLOCATED, seeks = DEFAULT_SEEKS, a copy of name.
    struct shrinker *alloc(unsigned flags, std::string name);
    // shrinker_register(): refuses (reports, returns false) a shrinker not from alloc() or
    // already registered, or without both callbacks.
    bool register_shrinker(struct shrinker *s);
    // shrinker_free(): unregisters, waits for callbacks in flight, frees. nullptr is fine.
    void free(struct shrinker *s);

    // gfplab: the locks scan_objects takes when sc->gfp_mask has all of `when` (e.g.
    // __GFP_FS): the reclaim-recursion detector reports allocations that may reclaim in
    // that context while holding one of them (I9).
    void declare_lock(struct shrinker *s, lock_class &lock, gfp_t when = __GFP_FS);
    // Calls fn(shrinker name, lock, when) for every declared lock of a registered shrinker.
    void for_each_declared_lock(
        const std::function<void(const char *, const lock_class &, gfp_t)> &fn) const;

    // shrink_slab(): every registered shrinker in registration order, with the kernel's
    // arithmetic; returns objects freed. gfp_mask is the reclaim context
    // (current_gfp_context already applied by the caller).
    unsigned long shrink_slab(gfp_t gfp_mask, int nid, int priority);
    // drop_slab(): shrink_slab(GFP_KERNEL, nid, 0) on every node until little comes back.
    unsigned long drop_slab();

    // Where violations (I8, I15) and refusals go; default: stderr.
    void set_report_sink(std::function<void(violation)> sink);
    // The tracepoints mm_shrink_slab_start/end fire on (a System passes its own; nullptr or
    // never set: none). Set before reclaim runs.
    void set_tracepoints(const tracepoints *tp) noexcept;

    std::vector<shrinker_stats> stats() const;
    std::size_t registered() const noexcept;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace gfplab
