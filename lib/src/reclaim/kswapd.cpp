// SPDX-License-Identifier: MIT
//
// kswapd: woken when an allocation finds a zone below its low watermark, it reclaims until
// the node is balanced (an eligible zone above high, boost included), then sleeps. A run
// that starts on a balanced node does nothing and counts nothing. A node where
// MAX_RECLAIM_RETRIES runs in a row freed nothing is hopeless: kswapd sleeps and is not
// woken for it until some reclaim, direct reclaim included, makes progress there (I14).
#include "kswapd.hpp"
#include "kvfree_rcu.hpp"

#include "vmscan.hpp"

#include "../trace/tracepoint.hpp"

#include <gfplab/lockdep.hpp>
#include <gfplab/scope.hpp>

#include <algorithm>
#include <chrono>
#include <pthread.h>
#include <string>

namespace gfplab {
namespace {

// kswapd_try_to_sleep()'s first, short sleep (HZ/10): a node that stays balanced that long
// lets kswapd sleep for good.
constexpr auto kswapd_nap = std::chrono::milliseconds(100);

bool hopeless(const kswapd_state &k) {
    return k.failures.load(std::memory_order_relaxed) >= MAX_RECLAIM_RETRIES;
}

// pgdat_watermark_boosted(): an eligible zone carries a boost (top-down, where boosts are
// likelier).
bool pgdat_watermark_boosted(System &s, int nid, zone_type highest_zoneidx) {
    for (int i = int(highest_zoneidx); i >= 0; i--) {
        const zone &z = s.node(nid).node_zones[i];
        if (z.populated() && z.watermark_boost.load(std::memory_order_relaxed))
            return true;
    }
    return false;
}

// prepare_kswapd_sleep(): kswapd may sleep once the node is balanced for what it reclaimed
// for, or hopeless (left to direct reclaim). The model has no pfmemalloc_wait throttling
// and no congestion flags: nothing to wake or clear on the way.
bool prepare_kswapd_sleep(System &s, const kswapd_state &k, unsigned order,
                          zone_type highest_zoneidx) {
    return hopeless(k) || pgdat_balanced(s, k.nid, order, highest_zoneidx);
}

// kswapd_highest_zoneidx(): the zone the wakers asked for, or the previous run's when none
// did (kswapd could not sleep, or runs for the first time).
zone_type kswapd_highest_zoneidx(const kswapd_state &k, zone_type prev) {
    const int asked = k.kswapd_highest_zoneidx.load();
    return asked < 0 ? prev : zone_type(asked);
}

// WRITE_ONCE(x, max(x, v)) of a request: wakers and kswapd race without a lock.
template <class T>
void raise_request(std::atomic<T> &x, T v) {
    T cur = x.load();
    while (cur < v && !x.compare_exchange_weak(cur, v)) {
    }
}

// The run about to start takes the recorded request.
void take_request(kswapd_state &k) {
    k.kswapd_order = 0;
    k.kswapd_highest_zoneidx = -1;
}

// update_reclaim_active(): ZONE_RECLAIM_ACTIVE on the eligible zones while kswapd works.
void update_reclaim_active(pglist_data &pgdat, zone_type highest_zoneidx, bool active) {
    for (int i = 0; i <= int(highest_zoneidx); i++) {
        zone &z = pgdat.node_zones[i];
        if (!z.populated())
            continue;
        if (active)
            z.flags.fetch_or(ZONE_RECLAIM_ACTIVE, std::memory_order_relaxed);
        else
            z.flags.fetch_and(~ZONE_RECLAIM_ACTIVE, std::memory_order_relaxed);
    }
}

// The boosts in force when the run starts are what it reclaims for (later ones wait for the
// next run); they stay on the zones meanwhile so that allocations near the watermarks
// still stall. Returns their sum.
unsigned long read_boosts(const pglist_data &pgdat, zone_type highest_zoneidx,
                          unsigned long (&zone_boosts)[MAX_NR_ZONES]) {
    unsigned long sum = 0;
    for (int i = 0; i <= int(highest_zoneidx); i++) {
        const zone &z = pgdat.node_zones[i];
        if (!z.populated())
            continue;
        zone_boosts[i] = z.watermark_boost.load(std::memory_order_relaxed);
        sum += zone_boosts[i];
    }
    return sum;
}

// The boosts seen at the start are done with, reclaimed for or not (boosts added since
// stay).
void drop_boosts(pglist_data &pgdat, zone_type highest_zoneidx,
                 const unsigned long (&zone_boosts)[MAX_NR_ZONES]) {
    for (int i = 0; i <= int(highest_zoneidx); i++) {
        if (!zone_boosts[i])
            continue;
        auto &b = pgdat.node_zones[i].watermark_boost;
        unsigned long cur = b.load(std::memory_order_relaxed);
        while (!b.compare_exchange_weak(cur, cur - std::min(cur, zone_boosts[i])))
            ;
    }
}

// kswapd_shrink_node(): one pass over the node, aiming at the eligible zones' high
// watermarks. True when it scanned (or reclaimed) that much: then balance_pgdat() needs no
// higher priority.
bool kswapd_shrink_node(System &s, int nid, scan_control &sc) {
    const unsigned long nr_reclaimed = sc.nr_reclaimed;
    sc.nr_to_reclaim = 0;
    for (int i = 0; i <= int(sc.reclaim_idx); i++) {
        const zone &z = s.node(nid).node_zones[i];
        if (z.populated())
            sc.nr_to_reclaim += std::max(z.high_wmark_pages(), SWAP_CLUSTER_MAX);
    }
    shrink_node(s, nid, sc);
    // A high-order balance is compaction's job once a compact_gap is free: check the
    // watermarks at order 0 from now on.
    if (sc.order && sc.nr_reclaimed >= compact_gap(sc.order))
        sc.order = 0;
    return std::max(sc.nr_scanned, sc.nr_reclaimed - nr_reclaimed) >= sc.nr_to_reclaim;
}

// How one priority sweep of balance_pgdat() ended.
enum class sweep_end {
    balanced, // balanced with no boost left to reclaim for: the kernel's `goto out`
    restart,  // unbalanced while boosted: the boost is dropped, the sweep starts over
    done,     // every priority tried, or a boosted pass that reclaimed nothing
};

// One sweep of balance_pgdat()'s priority loop, from DEF_PRIORITY down.
sweep_end priority_sweep(System &s, kswapd_state &k, scan_control &sc, zone_type highest_zoneidx,
                         unsigned long &nr_boost_reclaim) {
    sc.priority = DEF_PRIORITY;
    do {
        const unsigned long nr_reclaimed_before = sc.nr_reclaimed;
        bool raise_priority = true;
        sc.reclaim_idx = highest_zoneidx;
        const bool balanced = pgdat_balanced(s, k.nid, sc.order, highest_zoneidx);
        // A boost is reclaimed for only on a node otherwise balanced; an unbalanced one is
        // reclaimed for normally, from the first priority again.
        if (!balanced && nr_boost_reclaim) {
            nr_boost_reclaim = 0;
            return sweep_end::restart;
        }
        if (!nr_boost_reclaim && balanced)
            return sweep_end::balanced;
        // Boosted reclaim stays gentle: it holds at DEF_PRIORITY - 2 and neither writes
        // back nor swaps.
        if (nr_boost_reclaim && sc.priority == DEF_PRIORITY - 2)
            raise_priority = false;
        sc.may_writepage = !nr_boost_reclaim || sc.priority < DEF_PRIORITY - 2;
        sc.may_swap = !nr_boost_reclaim;
        sc.nr_scanned = 0;
        if (kswapd_shrink_node(s, k.nid, sc))
            raise_priority = false;
        k.scanned.fetch_add(sc.nr_scanned, std::memory_order_relaxed);
        const unsigned long nr_reclaimed = sc.nr_reclaimed - nr_reclaimed_before;
        nr_boost_reclaim -= std::min(nr_boost_reclaim, nr_reclaimed);
        // A boost that reclaims nothing (no writeback, no swap) would only spin.
        if (nr_boost_reclaim && !nr_reclaimed)
            break;
        // Look harder when this pass scanned too little, or freed nothing at all.
        if (raise_priority || !nr_reclaimed)
            sc.priority--;
    } while (sc.priority >= 1);
    return sweep_end::done;
}

// kswapd_try_to_sleep(), with k.lock held: a node balanced (or hopeless) for the run just
// finished lets kswapd nap; still so after the nap, kswapd sleeps until woken. Woken during
// the nap, it keeps the run's zone and order as the request. Parked, it stays here.
void kswapd_try_to_sleep(System &s, kswapd_state &k, std::unique_lock<std::mutex> &lk,
                         unsigned reclaim_order, zone_type highest_zoneidx) {
    if (k.stop)
        return;
    k.sleeping = true; // prepare_to_wait(): wake-ups from here on are caught
    k.parked_cv.notify_all();
    auto may_sleep = [&] {
        lk.unlock();
        const bool ok = prepare_kswapd_sleep(s, k, reclaim_order, highest_zoneidx);
        lk.lock();
        return ok;
    };
    auto woken = [&] { return k.stop || k.woken; };
    bool premature = false;
    if (may_sleep()) {
        premature = k.wait.wait_for(lk, kswapd_nap, woken);
        if (premature) {
            int none = -1; // no waker asked for a zone: the run's
            k.kswapd_highest_zoneidx.compare_exchange_strong(none, int(highest_zoneidx));
            raise_request(k.kswapd_order, reclaim_order);
        }
    }
    if (!premature && may_sleep()) {
        trace_mm_vmscan_kswapd_sleep(s.tracepoints(), k.nid);
        // Asleep, the node's counters fold at the normal threshold; awake, at the tighter
        // pressure one, so that kswapd's watermark checks see less drift. Without the lock:
        // the fold takes every zone lock, and a waker must not wait that long for it (the
        // wait below checks `woken` before it sleeps, so no wake-up is lost meanwhile).
        lk.unlock();
        set_pgdat_percpu_threshold(s.node(k.nid), calculate_normal_threshold);
        lk.lock();
        k.wait.wait(lk, woken);
        lk.unlock();
        set_pgdat_percpu_threshold(s.node(k.nid), calculate_pressure_threshold);
        lk.lock();
    }
    // Parked, kswapd keeps the wake-up and the request for later but does not act on them.
    k.wait.wait(lk, [&] { return k.stop || !k.parked; });
    k.woken = false;
    k.sleeping = false; // finish_wait()
}

} // namespace

void reclaim_internals::reset_kswapd_failures(System &s, int nid) {
    if (has_kswapd(s))
        kswapd(s, nid).failures.store(0, std::memory_order_relaxed);
}

balance_result reclaim_internals::balance_pgdat(System &s, int nid, unsigned order,
                                                zone_type highest_zoneidx) {
    kswapd_state &k = kswapd(s, nid);
    pglist_data &pgdat = s.node(nid);
    unsigned long zone_boosts[MAX_NR_ZONES] = {};
    unsigned long nr_boost_reclaim = read_boosts(pgdat, highest_zoneidx, zone_boosts);
    const bool boosted = nr_boost_reclaim != 0;

    scan_control sc;
    sc.gfp_mask = GFP_KERNEL; // kswapd may do anything reclaim can do
    sc.order = order;
    // kswapd holds fs_reclaim for the whole run (unconditionally: it is PF_MEMALLOC), so
    // locks its shrinkers take are reclaim locks.
    __fs_reclaim_acquire();
    k.rounds.fetch_add(1, std::memory_order_relaxed);
    sweep_end end;
    do {
        update_reclaim_active(pgdat, highest_zoneidx, true);
        end = priority_sweep(s, k, sc, highest_zoneidx, nr_boost_reclaim);
    } while (end == sweep_end::restart);
    // A run that found the node balanced did not fail: only one that tried counts.
#ifdef GFPLAB_PLANTED_BUG_KSWAPD_BALANCED_FAILS
    // Planted bug (-Dplanted_bug, the -bug- binaries only, docs/oracle.md): a run that
    // found the node balanced reclaimed nothing, so it counts as a failure too: enough
    // balanced wake-ups make kswapd give up on a healthy node.
    if (!sc.nr_reclaimed)
        k.failures.fetch_add(1, std::memory_order_relaxed);
#else
    if (end == sweep_end::done && !sc.nr_reclaimed)
        k.failures.fetch_add(1, std::memory_order_relaxed);
#endif
    update_reclaim_active(pgdat, highest_zoneidx, false);
    if (boosted)
        drop_boosts(pgdat, highest_zoneidx, zone_boosts);
    __fs_reclaim_release();
    k.reclaimed.fetch_add(sc.nr_reclaimed, std::memory_order_relaxed);
    return {sc.nr_reclaimed, sc.order};
}

void reclaim_internals::kswapd_main(System &s, kswapd_state &k) {
    // kswapd is reclaim itself: it never recurses into direct reclaim and may use reserves.
    current_task_flags_set(PF_MEMALLOC | PF_KSWAPD);
    std::unique_lock<std::mutex> lk(k.lock);
    auto highest_zoneidx = zone_type(MAX_NR_ZONES - 1);
    while (!k.stop) {
        unsigned alloc_order = k.kswapd_order, reclaim_order = alloc_order;
        highest_zoneidx = kswapd_highest_zoneidx(k, highest_zoneidx);
        // A run that fell back to order 0 tries to sleep for that order, without a new
        // request (kcompactd would see to the order asked for).
        do {
            kswapd_try_to_sleep(s, k, lk, reclaim_order, highest_zoneidx);
            alloc_order = k.kswapd_order;
            highest_zoneidx = kswapd_highest_zoneidx(k, highest_zoneidx);
            take_request(k);
            if (k.stop)
                break;
            lk.unlock();
            trace_mm_vmscan_kswapd_wake(s.tracepoints(), k.nid, int(highest_zoneidx),
                                        int(alloc_order));
            reclaim_order = balance_pgdat(s, k.nid, alloc_order, highest_zoneidx).order;
            lk.lock();
        } while (reclaim_order < alloc_order);
    }
    k.sleeping = false;
    current_task_flags_clear(PF_MEMALLOC | PF_KSWAPD);
}

void wakeup_kswapd(System &s, zone &z, gfp_t gfp, unsigned order, zone_type highest_zoneidx) {
    // No cpusets in the model: a managed zone is always allowed.
    if (!z.populated() || !reclaim_internals::has_kswapd(s))
        return;
    kswapd_state &k = reclaim_internals::kswapd(s, z.node);
    // The request is recorded whatever comes next, without a lock as the kernel's
    // WRITE_ONCE()s: kswapd finds it when it next looks. The caller may be atomic (the
    // slow path of GFP_ATOMIC wakes kswapd), so nothing here waits for kswapd's own work.
    raise_request(k.kswapd_highest_zoneidx, int(highest_zoneidx));
    raise_request(k.kswapd_order, order);
    // Awake already (not on kswapd_wait, waitqueue_active()): nothing to wake. A sequentially
    // consistent pair with kswapd's store of `sleeping` before it looks at the node, as
    // prepare_to_wait()'s barrier pairs with the waker's: either this sees it going to sleep,
    // or its look at the node comes after whatever made this caller wake it.
    if (!k.sleeping)
        return;
    // Hopeless nodes are left to direct reclaim, and balanced ones need nothing unless
    // boosted. (6.12 wakes kcompactd here for callers that cannot reclaim: no compaction
    // in the model.)
    if (hopeless(k) || (pgdat_balanced(s, z.node, order, highest_zoneidx) &&
                        !pgdat_watermark_boosted(s, z.node, highest_zoneidx)))
        return;
    (void)gfp;
    {
        // wake_up_interruptible(): a no-op if kswapd got up meanwhile. The waitqueue's lock,
        // held briefly by kswapd too (it folds the counters without it).
        std::lock_guard<std::mutex> g(k.lock);
        if (!k.sleeping)
            return;
        k.woken = true;
    }
    k.wakeups.fetch_add(1, std::memory_order_relaxed);
    k.wait.notify_one();
}

void wake_all_kswapds(System &s, unsigned order, gfp_t gfp, const alloc_context &ac) {
    int last_nid = -1;
    for (zone *const *zp = ac.zonelist; *zp; zp++) {
        if ((*zp)->idx > ac.highest_zoneidx || (*zp)->node == last_nid)
            continue;
        last_nid = (*zp)->node;
        wakeup_kswapd(s, **zp, gfp, order, ac.highest_zoneidx);
    }
}

void System::start_kswapd() {
    for (int nid = 0; nid < nr_nodes(); nid++) {
        auto k = std::make_unique<kswapd_state>();
        k->nid = nid;
        // Without the thread, kswapd sleeps on its wait queue between kswapd_run_once()
        // turns, so wakeup_kswapd() decides as it would for a sleeping thread.
        k->sleeping = !cfg_.kswapd;
        kswapd_.push_back(std::move(k));
    }
    if (!cfg_.kswapd)
        return;
    for (auto &k : kswapd_) {
        kswapd_state *kp = k.get();
        kp->thread = std::thread([this, kp] { reclaim_internals::kswapd_main(*this, *kp); });
        // The kernel's name, which traces and top show (best effort: 15 characters at most).
        const std::string name = "kswapd" + std::to_string(kp->nid);
        pthread_setname_np(kp->thread.native_handle(), name.c_str());
    }
}

void System::stop_kswapd() {
    for (auto &k : kswapd_) {
        {
            std::lock_guard<std::mutex> g(k->lock);
            k->stop = true;
        }
        k->wait.notify_one();
        if (k->thread.joinable())
            k->thread.join();
    }
}

void System::kswapd_park() {
    for (auto &k : kswapd_) {
        std::unique_lock<std::mutex> lk(k->lock);
        k->parked = true;
        if (k->thread.joinable())
            k->parked_cv.wait(lk, [&] { return k->sleeping.load(); });
    }
    kfree_rcu_of(*this).park();
}

void System::kswapd_unpark() {
    kfree_rcu_of(*this).unpark();
    for (auto &k : kswapd_) {
        {
            std::lock_guard<std::mutex> g(k->lock);
            k->parked = false;
        }
        k->wait.notify_one();
    }
}

unsigned long System::kswapd_run_once(int nid) {
    kswapd_state &k = reclaim_internals::kswapd(*this, nid);
    // kswapd()'s loop, once: kswapd_try_to_sleep() for the previous run's order and zone
    // (or the requests since, when it finished at the order asked for), then a run for the
    // recorded request, unless kswapd stays asleep.
    unsigned sleep_order;
    zone_type sleep_zoneidx;
    bool woken;
    {
        std::lock_guard<std::mutex> g(k.lock);
        sleep_order = k.order_dropped ? k.reclaim_order : k.kswapd_order.load();
        sleep_zoneidx =
            k.order_dropped ? k.highest_zoneidx : kswapd_highest_zoneidx(k, k.highest_zoneidx);
        woken = k.woken;
    }
    // Not woken, kswapd stays asleep on a node balanced or hopeless for that (each turn is
    // a kswapd_try_to_sleep() that decides to sleep, and says so).
    if (!woken && prepare_kswapd_sleep(*this, k, sleep_order, sleep_zoneidx)) {
        trace_mm_vmscan_kswapd_sleep(trace_, nid);
        return 0;
    }
    unsigned order;
    zone_type idx;
    {
        std::lock_guard<std::mutex> g(k.lock);
        k.woken = false;
        order = k.kswapd_order;
        idx = kswapd_highest_zoneidx(k, sleep_zoneidx);
        take_request(k);
    }
    unsigned saved = memalloc_flags_save(PF_MEMALLOC | PF_KSWAPD);
    // Awake for the turn, the node's counters use the pressure threshold; asleep between
    // turns, the normal one (kswapd_try_to_sleep()).
    set_pgdat_percpu_threshold(node(nid), calculate_pressure_threshold);
    trace_mm_vmscan_kswapd_wake(trace_, nid, int(idx), int(order));
    const balance_result r = reclaim_internals::balance_pgdat(*this, nid, order, idx);
    set_pgdat_percpu_threshold(node(nid), calculate_normal_threshold);
    memalloc_flags_restore(saved);
    std::lock_guard<std::mutex> g(k.lock);
    k.reclaim_order = r.order;
    k.order_dropped = r.order < order;
    k.highest_zoneidx = idx;
    return r.nr_reclaimed;
}

kswapd_stats System::kswapd_statistics(int nid) const {
    const kswapd_state &k = *kswapd_[std::size_t(nid)];
    kswapd_stats st;
    st.wakeups = k.wakeups.load();
    st.rounds = k.rounds.load();
    st.reclaimed = k.reclaimed.load();
    st.scanned = k.scanned.load();
    st.failures = k.failures.load();
    st.running = k.thread.joinable();
    st.order = k.kswapd_order;
    st.highest_zoneidx = k.kswapd_highest_zoneidx;
    return st;
}

} // namespace gfplab
