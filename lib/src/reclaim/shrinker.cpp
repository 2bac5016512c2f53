// SPDX-License-Identifier: MIT
//
// The shrinker registry: shrinker_alloc/register/free and shrink_slab() with 6.12's rules
// (mm/shrinker.c, include/linux/shrinker.h), plus the checks the kernel cannot make (I8,
// I15) and the C face on the default System.
//
// Lifetime, as in 6.7+: a registered shrinker holds one reference of its own. Reclaim steps
// along the list under the registry lock (the kernel's RCU read side), takes a reference with
// inc-not-zero (shrinker_try_get) and lets the lock go while it calls the shrinker, then
// retakes the lock before dropping the reference, so neither this entry nor the next can be
// unlinked under the walk. shrinker_free() drops the initial reference, waits on the
// completion the last reference fires, and only then unlinks under the lock: no
// callback can start after the count reached zero, and none is still running.
//
// The registry lock and the reference count are sync:: types, so that in the deterministic
// library copy (fuzz_interleave) a walk can be stopped inside a shrinker while another
// thread frees it; the completion is then a flag the scheduler watches (det::block_while)
// rather than a condition variable that would put the one running thread to sleep.
#include <gfplab/gfp.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/sync/atom.hpp>
#include <gfplab/system.hpp>

#include "../check/report.hpp"
#include "../trace/tracepoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>

// The registry's private part of a struct shrinker (the kernel keeps these fields in struct
// shrinker itself; the model keeps the C struct plain and hangs them here).
struct shrinker_info_gfplab {
    struct declared_lock {
        gfplab::lock_class *lock;
        gfp_t when;
    };

    gfplab::shrinker_registry *owner = nullptr;
    std::string name; // s->name points into it

    // nr_deferred: one slot, or one per node for SHRINKER_NUMA_AWARE (shrinker_alloc).
    int nr_slots = 1;
    std::unique_ptr<std::atomic<long>[]> nr_deferred;

    // shrinker_try_get / shrinker_put / shrinker->done.
    gfplab::sync::atom<long> refcount{0};
#if GFPLAB_SYNC_DETERMINISTIC
    std::atomic<bool> pending{false}; // !done: what a waiting free is set aside on
#else
    std::mutex done_lock;
    std::condition_variable done_cv;
    bool done = false;
#endif

    // Guarded by the registry's lock.
    std::vector<declared_lock> locks;

    std::atomic<std::uint64_t> calls{0};
    std::atomic<std::uint64_t> scanned{0};
    std::atomic<std::uint64_t> freed{0};
    std::atomic<std::uint64_t> stops{0};

    // refcount_inc_not_zero(): a shrinker whose count reached zero is on its way out.
    bool try_get() noexcept {
        long r = refcount.load(std::memory_order_relaxed);
        while (r != 0) {
            if (refcount.compare_exchange_weak(r, r + 1, std::memory_order_acquire))
                return true;
        }
        return false;
    }

    // The last reference completes shrinker->done. The notify happens under the lock so the
    // waiter cannot return (and free this) before the notify is over.
    void put() noexcept {
        if (refcount.fetch_sub(1, std::memory_order_acq_rel) == 1) {
#if GFPLAB_SYNC_DETERMINISTIC
            pending.store(false);
#else
            std::lock_guard<std::mutex> guard(done_lock);
            done = true;
            done_cv.notify_all();
#endif
        }
    }

    // reinit_completion(), before the shrinker becomes visible.
    void arm_completion() {
#if GFPLAB_SYNC_DETERMINISTIC
        pending.store(true);
#else
        std::lock_guard<std::mutex> guard(done_lock);
        done = false;
#endif
    }

    void wait_for_completion() {
#if GFPLAB_SYNC_DETERMINISTIC
        while (pending.load())
            if (!gfplab::sync::det::block_while(&pending))
                std::this_thread::yield(); // not a scheduled thread
#else
        std::unique_lock<std::mutex> guard(done_lock);
        done_cv.wait(guard, [this] { return done; });
#endif
    }
};

namespace gfplab {

namespace {

constexpr unsigned user_flags = SHRINKER_NUMA_AWARE | SHRINKER_MEMCG_AWARE | SHRINKER_NONSLAB;

// The largest count the arithmetic takes: 2 * freeable and 4 * (freeable >> priority) must
// fit in a long, as they do in the kernel for any real cache.
constexpr unsigned long max_sane_count = static_cast<unsigned long>(LONG_MAX) / 4;

} // namespace

struct shrinker_registry::impl {
    explicit impl(int nodes) : nr_node_ids(nodes) {}

    const int nr_node_ids;

    // Held only for list changes, declared locks and each step of a walk (the kernel's
    // shrinker_mutex and RCU read side in one): never across a callback. A plain mutex
    // rather than a reader-writer lock: with reclaim walking all the time, a reader-preferring
    // rwlock starves shrinker_register/free, and the steps are a few loads long anyway.
    mutable sync::mutex lock;
    std::list<struct shrinker *> shrinker_list; // registered, in registration order
    std::unordered_set<struct shrinker *> allocated;
    std::atomic<std::size_t> nr_registered{0};

    // Registration and freeing waiting for the lock. Walks step under the same lock all the
    // time, and a mutex is not fair: with more reclaimers than CPUs a waiting change could
    // starve for long stretches (a lock holder preempted mid-step). New walks hold back
    // while one waits; walks already under way do not, since shrinker_free() may be waiting
    // for exactly their shrinker_put().
    std::atomic<int> changes_waiting{0};

    std::unique_lock<sync::mutex> lock_for_change() {
        changes_waiting.fetch_add(1, std::memory_order_relaxed);
        std::unique_lock<sync::mutex> guard(lock);
        changes_waiting.fetch_sub(1, std::memory_order_relaxed);
        return guard;
    }

    std::mutex sink_lock;
    std::function<void(violation)> sink;
    // The System's tracepoints (mm_shrink_slab_start/end).
    const tracepoints *trace = &tracepoints_off;

    void report(violation v) {
        std::lock_guard<std::mutex> guard(sink_lock);
        if (sink)
            sink(std::move(v));
        else
            std::fprintf(stderr, "%s\n", format_violation(v).c_str());
    }

    // Whether s came from this registry's alloc() and has not been freed. Caller holds lock.
    bool owns(struct shrinker *s) const { return allocated.count(s) != 0; }

    unsigned long do_shrink_slab(struct shrink_control &sc, struct shrinker *s, int priority);
    void check_context(gfp_t gfp_mask);
};

// The I8 check: reclaim code is meant to pass current_gfp_context(mask), so a mask with
// more than the thread's scope allows is the caller's bug; the shrinker would act on it.
void shrinker_registry::impl::check_context(gfp_t gfp_mask) {
    const unsigned pflags = current_task_flags();
    const char *scope = nullptr;
    gfp_t forbidden = 0;
    if (pflags & PF_MEMALLOC_NOIO) {
        scope = "NOIO";
        forbidden = __GFP_IO | __GFP_FS;
    } else if (pflags & PF_MEMALLOC_NOFS) {
        scope = "NOFS";
        forbidden = __GFP_FS;
    }
    if (!(gfp_mask & forbidden))
        return;
    report(make_violation(
        invariant::scope_mask, "shrinker context",
        fmt::format("shrink_slab(gfp_mask={}) inside a {} scope: shrinkers would see {} (the "
                    "caller should pass current_gfp_context(mask) = {})",
                    gfp_format(gfp_mask), scope, gfp_format(gfp_mask & forbidden),
                    gfp_format(gfp_context_for(pflags, gfp_mask))),
        gfp_mask));
}

// One shrinker, one round: do_shrink_slab() of 6.12 step by step, with the kernel's signed
// arithmetic for the loop and the deferred count.
unsigned long shrinker_registry::impl::do_shrink_slab(struct shrink_control &sc, struct shrinker *s,
                                                      int priority) {
    shrinker_info_gfplab &info = *s->info;
    const long batch_size = s->batch ? s->batch : SHRINK_BATCH;
    // The deferred slot (xchg_nr_deferred: node 0 for unaware shrinkers), chosen before the
    // callee can touch sc->nid: a slot out of range would be memory corruption here.
    const int slot = (s->flags & SHRINKER_NUMA_AWARE) ? sc.nid : 0;

    const unsigned long count = s->count_objects(s, &sc);
    if (count == 0 || count == SHRINK_EMPTY)
        return count;
    if (count > max_sane_count) {
        report(make_violation(
            invariant::shrinker_contract, "shrinker count",
            fmt::format("shrinker \"{}\": count_objects returned {}, neither a count nor "
                        "SHRINK_EMPTY; skipped",
                        info.name, count),
            sc.gfp_mask));
        return 0;
    }
    const long freeable = static_cast<long>(count);

    // Take the deferred work for ourselves so concurrent callers do not scan it too.
    std::atomic<long> &deferred = info.nr_deferred[slot];
    const long nr = deferred.exchange(0, std::memory_order_relaxed);

    const shrink_plan plan =
        do_shrink_slab_plan(count, static_cast<unsigned long>(nr), priority, s->seeks);
    const long delta = static_cast<long>(plan.delta);
    long total_scan = static_cast<long>(plan.total);
    long scanned = 0;
    unsigned long freed = 0;
    trace_mm_shrink_slab_start(*trace, s, &sc, s->name, sc.nid, sc.gfp_mask, nr, count, plan.delta,
                               plan.total, priority);

    // A cache smaller than one batch is still scanned when the target covers all of it
    // (total_scan >= freeable): under heavy pressure small caches must be emptiable too.
    while (total_scan >= batch_size || total_scan >= freeable) {
        const unsigned long nr_to_scan =
            static_cast<unsigned long>(std::min(batch_size, total_scan));
        sc.nr_to_scan = nr_to_scan;
        sc.nr_scanned = nr_to_scan;
        const unsigned long ret = s->scan_objects(s, &sc);
        info.calls.fetch_add(1, std::memory_order_relaxed);
        if (ret == SHRINK_STOP) {
            // No progress possible in this context: not called again this round.
            info.stops.fetch_add(1, std::memory_order_relaxed);
            break;
        }
        if (ret > nr_to_scan) {
            // Not fatal for the kernel (it just adds it up), but a shrinker that frees more
            // than it was asked to scan either miscounts or ignores nr_to_scan.
            report(make_violation(invariant::shrinker_contract, "shrinker scan",
                                  fmt::format("shrinker \"{}\": scan_objects freed {} with "
                                              "nr_to_scan {}",
                                              info.name, ret, nr_to_scan),
                                  sc.gfp_mask));
        }
        freed += ret;

        unsigned long nr_scanned = sc.nr_scanned;
        if (nr_scanned > nr_to_scan) {
            // The callee may only lower nr_scanned. Counting a raised one would eat the
            // target (and the deferred work) for objects that were never asked for; the
            // model counts what was asked instead.
            report(make_violation(invariant::shrinker_contract, "shrinker scan",
                                  fmt::format("shrinker \"{}\": nr_scanned raised from {} to "
                                              "{} by scan_objects",
                                              info.name, nr_to_scan, nr_scanned),
                                  sc.gfp_mask));
            nr_scanned = nr_to_scan;
        } else if (nr_scanned == 0) {
            // The kernel would call it again with the same target for ever; the model
            // reports the livelock and ends this shrinker's round.
            report(make_violation(invariant::shrinker_contract, "shrinker scan",
                                  fmt::format("shrinker \"{}\": scan_objects scanned nothing "
                                              "(nr_scanned 0) without SHRINK_STOP: reclaim "
                                              "would loop for ever",
                                              info.name),
                                  sc.gfp_mask));
            break;
        }
        info.scanned.fetch_add(nr_scanned, std::memory_order_relaxed);
        total_scan -= static_cast<long>(nr_scanned);
        scanned += static_cast<long>(nr_scanned);
    }
    info.freed.fetch_add(freed, std::memory_order_relaxed);

    // New work not done is deferred, old work done is taken off; the floor at 0 comes first,
    // then the cap at twice the cache (6.12 order), and the result is added, not stored, so
    // concurrent callers' leftovers accumulate.
    long next_deferred = std::max(nr + delta - scanned, 0L);
    next_deferred = std::min(next_deferred, 2 * freeable);
    const long new_nr =
        deferred.fetch_add(next_deferred, std::memory_order_relaxed) + next_deferred;
    trace_mm_shrink_slab_end(*trace, s, s->name, sc.nid, int(freed), nr, new_nr, total_scan);
    return freed;
}

shrinker_registry::shrinker_registry(int nr_node_ids)
    : impl_(std::make_unique<impl>(std::max(nr_node_ids, 1))) {}

shrinker_registry::~shrinker_registry() {
    // The owner tears down with no reclaim running: whatever is still allocated goes.
    for (struct shrinker *s : impl_->allocated) {
        delete s->info;
        delete s;
    }
}

struct shrinker *shrinker_registry::alloc(unsigned flags, std::string name) {
    if (flags & ~user_flags) {
        impl_->report(
            make_violation(invariant::bad_input, "shrinker_alloc",
                           fmt::format("shrinker_alloc(\"{}\"): flags {:#x} include internal or "
                                       "unknown bits {:#x}",
                                       name, flags, flags & ~user_flags)));
        return nullptr;
    }
    auto info = std::make_unique<shrinker_info_gfplab>();
    info->owner = this;
    info->name = std::move(name);
    // Memcg-aware shrinkers keep their deferred counts per memcg in the kernel; the model has
    // no per-memcg shrinking, so they count like the others.
    info->nr_slots = (flags & SHRINKER_NUMA_AWARE) ? impl_->nr_node_ids : 1;
    info->nr_deferred = std::make_unique<std::atomic<long>[]>(std::size_t(info->nr_slots));
    for (int i = 0; i < info->nr_slots; i++)
        info->nr_deferred[i].store(0, std::memory_order_relaxed);

    auto s = std::make_unique<struct shrinker>(); // zeroed, as kzalloc gives it
    s->flags = flags | SHRINKER_ALLOCATED;
    s->seeks = DEFAULT_SEEKS;
    s->name = info->name.c_str();
    s->info = info.get();

    std::unique_lock<sync::mutex> guard = impl_->lock_for_change();
    impl_->allocated.insert(s.get());
    info.release();
    return s.release();
}

bool shrinker_registry::register_shrinker(struct shrinker *s) {
    const char *why = nullptr;
    {
        std::unique_lock<sync::mutex> guard = impl_->lock_for_change();
        if (!s)
            why = "NULL shrinker";
        else if (!(s->flags & SHRINKER_ALLOCATED) || !impl_->owns(s))
            why = "must use shrinker_alloc() to allocate the shrinker";
        else if (s->flags & SHRINKER_REGISTERED)
            why = "already registered";
        else if (!s->count_objects || !s->scan_objects)
            why = "count_objects and scan_objects must both be set";
        else if (s->batch < 0 || s->seeks < 0)
            why = "batch and seeks must not be negative";
        if (!why) {
            // Fully set up before the first reference makes it visible to reclaim.
            s->info->arm_completion();
            impl_->shrinker_list.push_back(s);
            s->flags |= SHRINKER_REGISTERED;
            s->info->refcount.store(1, std::memory_order_release);
            impl_->nr_registered.fetch_add(1, std::memory_order_relaxed);
            return true;
        }
    }
    const char *name = (s && (s->flags & SHRINKER_ALLOCATED) && s->name) ? s->name : "?";
    impl_->report(make_violation(invariant::bad_input, "shrinker_register",
                                 fmt::format("shrinker_register({}, \"{}\") refused: {}",
                                             static_cast<const void *>(s), name, why)));
    return false;
}

void shrinker_registry::free(struct shrinker *s) {
    if (!s)
        return;
    {
        std::unique_lock<sync::mutex> guard = impl_->lock_for_change();
        if (!impl_->owns(s)) {
            guard.unlock();
            impl_->report(make_violation(
                invariant::bad_input, "shrinker_free",
                fmt::format("shrinker_free({}): not a live shrinker from shrinker_alloc()",
                            static_cast<const void *>(s))));
            return;
        }
    }
    shrinker_info_gfplab *info = s->info;
    // Only the freeing thread changes SHRINKER_REGISTERED from here on.
    if (s->flags & SHRINKER_REGISTERED) {
        info->put(); // the initial reference
#ifndef GFPLAB_PLANTED_BUG_SHRINKER_IN_FLIGHT
        info->wait_for_completion();
#endif
        // (GFPLAB_PLANTED_BUG_SHRINKER_IN_FLIGHT: the wait above is missing, so
        // shrinker_free() returns, and its owner frees what the shrinker scans, while a
        // walk that took a reference is still inside count_objects()/scan_objects().)
    }
    {
        std::unique_lock<sync::mutex> guard = impl_->lock_for_change();
        if (s->flags & SHRINKER_REGISTERED) {
            impl_->shrinker_list.remove(s);
            s->flags &= ~SHRINKER_REGISTERED;
            impl_->nr_registered.fetch_sub(1, std::memory_order_relaxed);
        }
        impl_->allocated.erase(s);
    }
    // The kernel frees after an RCU grace period because walkers may still look at the
    // entry; here walkers only look at it under the lock, and we had the lock after the
    // last of them, so the memory can go now.
    delete info;
    delete s;
}

void shrinker_registry::declare_lock(struct shrinker *s, lock_class &lock, gfp_t when) {
    {
        std::unique_lock<sync::mutex> guard = impl_->lock_for_change();
        if (s && impl_->owns(s)) {
            s->info->locks.push_back({&lock, when});
            return;
        }
    }
    impl_->report(make_violation(invariant::bad_input, "shrinker declare_lock",
                                 fmt::format("declare_lock({}): not a live shrinker from "
                                             "shrinker_alloc()",
                                             static_cast<const void *>(s))));
}

void shrinker_registry::for_each_declared_lock(
    const std::function<void(const char *, const lock_class &, gfp_t)> &fn) const {
    struct entry {
        std::string name;
        const lock_class *lock;
        gfp_t when;
    };
    // Copied out so fn runs without the lock (it may register or free shrinkers).
    std::vector<entry> entries;
    {
        std::unique_lock<sync::mutex> guard(impl_->lock);
        for (struct shrinker *s : impl_->shrinker_list)
            for (const auto &l : s->info->locks)
                entries.push_back({s->info->name, l.lock, l.when});
    }
    for (const auto &e : entries)
        fn(e.name.c_str(), *e.lock, e.when);
}

unsigned long shrinker_registry::shrink_slab(gfp_t gfp_mask, int nid, int priority) {
    if (nid < 0 || nid >= impl_->nr_node_ids || priority < 0 ||
        priority >= int(sizeof(long) * CHAR_BIT)) {
        impl_->report(make_violation(
            invariant::bad_input, "shrink_slab",
            fmt::format("shrink_slab(nid={}, priority={}): nid must be below {} and priority "
                        "in 0..{}",
                        nid, priority, impl_->nr_node_ids, sizeof(long) * CHAR_BIT - 1),
            gfp_mask));
        return 0;
    }

    unsigned long freed = 0;
    bool context_checked = false;
#if !GFPLAB_SYNC_DETERMINISTIC
    // (The deterministic scheduler is fair by its schedule, and a spin there would be a
    // livelock: the waiting change is set aside on the registry lock instead.)
    while (impl_->changes_waiting.load(std::memory_order_relaxed) != 0)
        std::this_thread::yield();
#endif
    std::unique_lock<sync::mutex> guard(impl_->lock);
    for (auto it = impl_->shrinker_list.begin(); it != impl_->shrinker_list.end(); ++it) {
        struct shrinker *s = *it;
        if (!s->info->try_get())
            continue; // being freed
        guard.unlock();

        if (!context_checked) {
            // Once per call, and only when a shrinker is about to see the mask.
            impl_->check_context(gfp_mask);
            context_checked = true;
        }
        // 6.12's shrink_slab() tells every shrinker the node being reclaimed (its kernel-doc
        // says node 0 for unaware ones, the code does not): a list_lru an unaware shrinker
        // walks is per node all the same. Only the deferred count is slot 0 for them
        // (do_shrink_slab()).
        struct shrink_control sc = {};
        sc.gfp_mask = gfp_mask;
        sc.nid = nid;
        sc.memcg = nullptr;
        unsigned long ret = impl_->do_shrink_slab(sc, s, priority);
        if (ret == SHRINK_EMPTY)
            ret = 0;
        freed += ret;

        // Back under the lock before the put: our entry cannot be unlinked until the
        // freeing thread gets the lock after us, so ++it stays valid.
        guard.lock();
        s->info->put();
    }
    return freed;
}

unsigned long shrinker_registry::drop_slab() {
    // 6.12 mm/vmscan.c drop_slab(): every node at priority 0, and another pass while
    // (freed >> pass) > 1, i.e. pass k must free at least 2^(k+1) objects to earn pass k+1:
    // the bar doubles, so caches that keep refilling cannot hold drop_caches for ever.
    // (Older kernels looped per node while freed > 10.)
    unsigned long total = 0;
    unsigned long freed;
    unsigned shift = 0;
    do {
        freed = 0;
        for (int nid = 0; nid < impl_->nr_node_ids; nid++)
            freed += shrink_slab(GFP_KERNEL, nid, 0);
        total += freed;
    } while (shift < sizeof(freed) * CHAR_BIT && (freed >> shift++) > 1);
    return total;
}

void shrinker_registry::set_tracepoints(const tracepoints *tp) noexcept {
    impl_->trace = tp ? tp : &tracepoints_off;
}

void shrinker_registry::set_report_sink(std::function<void(violation)> sink) {
    std::lock_guard<std::mutex> guard(impl_->sink_lock);
    impl_->sink = std::move(sink);
}

std::vector<shrinker_stats> shrinker_registry::stats() const {
    std::vector<shrinker_stats> out;
    std::unique_lock<sync::mutex> guard(impl_->lock);
    out.reserve(impl_->shrinker_list.size());
    for (struct shrinker *s : impl_->shrinker_list) {
        const shrinker_info_gfplab &info = *s->info;
        shrinker_stats st;
        st.name = info.name;
        st.calls = info.calls.load(std::memory_order_relaxed);
        st.scanned = info.scanned.load(std::memory_order_relaxed);
        st.freed = info.freed.load(std::memory_order_relaxed);
        st.stops = info.stops.load(std::memory_order_relaxed);
        for (int i = 0; i < info.nr_slots; i++)
            st.deferred += std::uint64_t(info.nr_deferred[i].load(std::memory_order_relaxed));
        out.push_back(std::move(st));
    }
    return out;
}

std::size_t shrinker_registry::registered() const noexcept {
    return impl_->nr_registered.load(std::memory_order_relaxed);
}

} // namespace gfplab

// --- the C face, on the default System ------------------------------------------------------

namespace {

// The registry a shrinker belongs to, when it says it came from one; else the default
// System's, which refuses it with a report.
gfplab::shrinker_registry &registry_of(struct shrinker *s) {
    if (s && (s->flags & SHRINKER_ALLOCATED) && s->info && s->info->owner)
        return *s->info->owner;
    return gfplab::default_system().shrinkers();
}

} // namespace

extern "C" struct shrinker *shrinker_alloc(unsigned int flags, const char *fmt, ...) {
    if (!fmt)
        return nullptr;
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    const int len = std::vsnprintf(nullptr, 0, fmt, ap);
    va_end(ap);
    std::string name;
    if (len >= 0) {
        name.resize(std::size_t(len) + 1);
        std::vsnprintf(name.data(), name.size(), fmt, ap2);
        name.resize(std::size_t(len));
    }
    va_end(ap2);
    if (len < 0)
        return nullptr;
    try {
        return gfplab::default_system().shrinkers().alloc(flags, std::move(name));
    } catch (const std::bad_alloc &) {
        return nullptr; // kzalloc failed
    }
}

extern "C" void shrinker_register(struct shrinker *shrinker) {
    registry_of(shrinker).register_shrinker(shrinker);
}

extern "C" void shrinker_free(struct shrinker *shrinker) {
    if (!shrinker)
        return;
    registry_of(shrinker).free(shrinker);
}

extern "C" unsigned long gfplab_drop_slab(void) {
    return gfplab::default_system().shrinkers().drop_slab();
}
