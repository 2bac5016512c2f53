// SPDX-License-Identifier: MIT
//
// kswapd: woken when an allocation finds a zone below its low watermark, it reclaims until
// the node is balanced (an eligible zone above high, boost included), then sleeps. A node
// where MAX_RECLAIM_RETRIES runs in a row freed nothing is hopeless: kswapd is not woken for
// it until some reclaim makes progress there again (I14).
#include "kswapd.hpp"
#include "kvfree_rcu.hpp"

#include "vmscan.hpp"

#include <gfplab/lockdep.hpp>
#include <gfplab/scope.hpp>

#include <algorithm>

namespace gfplab {

void reclaim_internals::reset_kswapd_failures(System &s, int nid) {
    if (has_kswapd(s))
        kswapd(s, nid).failures.store(0, std::memory_order_relaxed);
}

unsigned long reclaim_internals::balance_pgdat(System &s, int nid, unsigned order,
                                               zone_type highest_zoneidx) {
    kswapd_state &k = kswapd(s, nid);
    pglist_data &pgdat = s.node(nid);
    // The boosts in force now are what this run works off; later ones wait for the next.
    unsigned long zone_boosts[MAX_NR_ZONES] = {};
    unsigned long nr_boost_reclaim = 0;
    for (int i = 0; i <= int(highest_zoneidx); i++) {
        zone_boosts[i] = pgdat.node_zones[i].watermark_boost.load(std::memory_order_relaxed);
        nr_boost_reclaim += zone_boosts[i];
    }
    const bool boosted = nr_boost_reclaim != 0;

    scan_control sc;
    sc.gfp_mask = GFP_KERNEL; // kswapd may do anything reclaim can do
    sc.order = order;
    sc.reclaim_idx = highest_zoneidx;
    sc.priority = DEF_PRIORITY;
    // kswapd holds fs_reclaim for the whole run (unconditionally: it is PF_MEMALLOC), so
    // locks its shrinkers take are reclaim locks.
    __fs_reclaim_acquire();
    k.rounds.fetch_add(1, std::memory_order_relaxed);
    do {
        const bool balanced = pgdat_balanced(s, nid, sc.order, highest_zoneidx);
        // A boost is only worth reclaiming for while the node is balanced otherwise.
        if (!balanced && nr_boost_reclaim)
            nr_boost_reclaim = 0;
        if (!nr_boost_reclaim && balanced)
            break;
        // Boost reclaim stays gentle: no writeback, and never below DEF_PRIORITY - 2.
        sc.may_writepage = !nr_boost_reclaim;
        unsigned long target = 0;
        for (int i = 0; i <= int(highest_zoneidx); i++) {
            const zone &z = pgdat.node_zones[i];
            if (z.populated())
                target += std::max(z.high_wmark_pages(), SWAP_CLUSTER_MAX);
        }
        sc.nr_to_reclaim = target;
        const unsigned long before = sc.nr_reclaimed;
        shrink_node(s, nid, sc);
        const unsigned long got = sc.nr_reclaimed - before;
        nr_boost_reclaim -= std::min(nr_boost_reclaim, got);
        // Order > 0 balancing is compaction's job once enough was freed (no compaction in
        // the model: drop to order 0 once a compact_gap worth came back).
        if (sc.order && sc.nr_reclaimed >= (2ul << sc.order))
            sc.order = 0;
        // Look harder only when this pass brought back less than the target.
        if (got < target)
            sc.priority--;
        if (nr_boost_reclaim && sc.priority < DEF_PRIORITY - 2)
            break;
    } while (sc.priority >= 1);
    __fs_reclaim_release();

    if (!sc.nr_reclaimed)
        k.failures.fetch_add(1, std::memory_order_relaxed);
    // The boosts seen at the start are done with, reclaimed for or not.
    if (boosted)
        for (int i = 0; i <= int(highest_zoneidx); i++) {
            auto &b = pgdat.node_zones[i].watermark_boost;
            unsigned long cur = b.load(std::memory_order_relaxed);
            while (!b.compare_exchange_weak(cur, cur - std::min(cur, zone_boosts[i])))
                ;
        }
    k.reclaimed.fetch_add(sc.nr_reclaimed, std::memory_order_relaxed);
    k.scanned.fetch_add(sc.nr_scanned, std::memory_order_relaxed);
    return sc.nr_reclaimed;
}

void reclaim_internals::kswapd_main(System &s, kswapd_state &k) {
    // kswapd is reclaim itself: it never recurses into direct reclaim and may use reserves.
    current_task_flags_set(PF_MEMALLOC | PF_KSWAPD);
    std::unique_lock<std::mutex> lk(k.lock);
    for (;;) {
        k.sleeping = true;
        k.parked_cv.notify_all();
        // Parked, kswapd keeps the requests for later but does not act on them.
        k.wait.wait(lk, [&] { return k.stop || (!k.parked && k.kswapd_highest_zoneidx >= 0); });
        k.sleeping = false;
        if (k.stop)
            break;
        const unsigned order = k.kswapd_order;
        const auto idx = zone_type(k.kswapd_highest_zoneidx);
        k.kswapd_order = 0;
        k.kswapd_highest_zoneidx = -1;
        lk.unlock();
        // kswapd_try_to_sleep(): awake, the node's counters use the pressure threshold.
        set_pgdat_percpu_threshold(s.node(k.nid), calculate_pressure_threshold);
        balance_pgdat(s, k.nid, order, idx);
        set_pgdat_percpu_threshold(s.node(k.nid), calculate_normal_threshold); // to sleep
        lk.lock();
    }
    current_task_flags_clear(PF_MEMALLOC | PF_KSWAPD);
}

void wakeup_kswapd(System &s, zone &z, gfp_t gfp, unsigned order, zone_type highest_zoneidx) {
    if (!z.populated() || !reclaim_internals::has_kswapd(s))
        return;
    kswapd_state &k = reclaim_internals::kswapd(s, z.node);
    {
        std::lock_guard<std::mutex> g(k.lock);
        k.kswapd_highest_zoneidx = std::max(k.kswapd_highest_zoneidx, int(highest_zoneidx));
        k.kswapd_order = std::max(k.kswapd_order, order);
        // Awake already: it picks the request up when it next looks.
        if (!k.sleeping)
            return;
    }
    // Hopeless nodes are left alone, and balanced ones need nothing (unless boosted).
    if (k.failures.load(std::memory_order_relaxed) >= MAX_RECLAIM_RETRIES)
        return;
    bool boosted = false;
    for (int i = 0; i <= int(highest_zoneidx); i++)
        boosted |= s.node(z.node).node_zones[i].watermark_boost.load(std::memory_order_relaxed);
    if (!boosted && pgdat_balanced(s, z.node, order, highest_zoneidx))
        return;
    (void)gfp; // kcompactd for callers that cannot reclaim: no compaction in the model
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
        kswapd_.push_back(std::move(k));
    }
    if (!cfg_.kswapd)
        return;
    for (auto &k : kswapd_) {
        kswapd_state *kp = k.get();
        kp->thread = std::thread([this, kp] { reclaim_internals::kswapd_main(*this, *kp); });
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
            k->parked_cv.wait(lk, [&] { return k->sleeping; });
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
    unsigned order;
    int idx;
    {
        std::lock_guard<std::mutex> g(k.lock);
        order = k.kswapd_order;
        idx = k.kswapd_highest_zoneidx < 0 ? MAX_NR_ZONES - 1 : k.kswapd_highest_zoneidx;
        k.kswapd_order = 0;
        k.kswapd_highest_zoneidx = -1;
    }
    unsigned saved = memalloc_flags_save(PF_MEMALLOC | PF_KSWAPD);
    set_pgdat_percpu_threshold(node(nid), calculate_pressure_threshold); // as kswapd_main
    unsigned long got = reclaim_internals::balance_pgdat(*this, nid, order, zone_type(idx));
    set_pgdat_percpu_threshold(node(nid), calculate_normal_threshold);
    memalloc_flags_restore(saved);
    return got;
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
    return st;
}

} // namespace gfplab
