// SPDX-License-Identifier: MIT
//
// kswapd: one background reclaim thread per node (mm/vmscan.c 6.12 kswapd, balance_pgdat,
// wakeup_kswapd, prepare_kswapd_sleep), reduced to the model: no compaction, no LRU aging.
#pragma once

#include <gfplab/system.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace gfplab {

struct kswapd_state {
    int nid = 0;
    mutable std::mutex lock;         // the kswapd_wait queue and the requests below
    std::condition_variable wait;    // pgdat->kswapd_wait
    unsigned kswapd_order = 0;       // the largest order asked for since the last run
    int kswapd_highest_zoneidx = -1; // the highest zone asked for (-1: no request)
    bool sleeping = false;           // waiting on `wait` (waitqueue_active)
    bool stop = false;
    bool parked = false;               // kswapd_park(): finish the run, then wait
    std::condition_variable parked_cv; // signalled whenever kswapd goes back to waiting
    std::atomic<int> failures{0};      // pgdat->kswapd_failures
    std::thread thread;

    std::atomic<std::uint64_t> wakeups{0}, rounds{0}, reclaimed{0}, scanned{0};
};

struct reclaim_internals {
    static kswapd_state &kswapd(System &s, int nid) { return *s.kswapd_[std::size_t(nid)]; }
    static oom_state &oom(System &s) { return *s.oom_; }
    static bool has_kswapd(const System &s) { return !s.kswapd_.empty(); }
    static void reset_kswapd_failures(System &s, int nid);
    // balance_pgdat(): reclaim on node nid until an eligible zone is above its high
    // watermark (boost included) or every priority was tried. Returns pages reclaimed.
    static unsigned long balance_pgdat(System &s, int nid, unsigned order,
                                       zone_type highest_zoneidx);
    static void kswapd_main(System &s, kswapd_state &k);
};

} // namespace gfplab
