// SPDX-License-Identifier: MIT
//
// kswapd: one background reclaim thread per node (mm/vmscan.c 6.12 kswapd,
// kswapd_try_to_sleep, prepare_kswapd_sleep, balance_pgdat, kswapd_shrink_node,
// wakeup_kswapd), reduced to the model: no compaction, no LRU aging, no memcg.
#pragma once

#include <gfplab/system.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace gfplab {

struct kswapd_state {
    int nid = 0;
    mutable std::mutex lock;      // the kswapd_wait queue
    std::condition_variable wait; // pgdat->kswapd_wait
    // The largest order and the highest zone asked for since the last run (-1: none): the
    // kernel's pgdat->kswapd_order and kswapd_highest_zoneidx, which wakers write without a
    // lock (wakeup_kswapd() runs in atomic context), hence atomic.
    std::atomic<unsigned> kswapd_order{0};
    std::atomic<int> kswapd_highest_zoneidx{-1};
    // On kswapd_wait (waitqueue_active): from kswapd_try_to_sleep()'s prepare_to_wait() to
    // its finish_wait(). A System without the thread keeps its kswapd asleep there between
    // kswapd_run_once() turns. Written under `lock`, read by wakers without it first.
    std::atomic<bool> sleeping{false};
    bool woken = false; // a wake_up() that kswapd has not yet come out of its sleep for
    bool stop = false;
    bool parked = false;               // kswapd_park(): finish the run, then wait
    std::condition_variable parked_cv; // signalled whenever kswapd goes back to waiting
    std::atomic<int> failures{0};      // pgdat->kswapd_failures
    // What kswapd()'s loop keeps in locals, kept here between kswapd_run_once() turns: the
    // order the last run finished at, whether it fell back from the order asked for, and
    // the zone it ran for.
    unsigned reclaim_order = 0;
    bool order_dropped = false;
    zone_type highest_zoneidx = zone_type(MAX_NR_ZONES - 1);
    std::thread thread;

    std::atomic<std::uint64_t> wakeups{0}, rounds{0}, reclaimed{0}, scanned{0};
};

// What one balance_pgdat() run did: pages reclaimed, and the order it finished at (0 when
// a high-order run fell back to order 0).
struct balance_result {
    unsigned long nr_reclaimed = 0;
    unsigned order = 0;
};

struct reclaim_internals {
    static kswapd_state &kswapd(System &s, int nid) { return *s.kswapd_[std::size_t(nid)]; }
    static oom_state &oom(System &s) { return *s.oom_; }
    static bool has_kswapd(const System &s) { return !s.kswapd_.empty(); }
    static void reset_kswapd_failures(System &s, int nid);
    // balance_pgdat(): reclaim on node nid until an eligible zone is above its high
    // watermark (boost included) and the boosts are reclaimed for, or every priority was
    // tried.
    static balance_result balance_pgdat(System &s, int nid, unsigned order,
                                        zone_type highest_zoneidx);
    static void kswapd_main(System &s, kswapd_state &k);
};

} // namespace gfplab
