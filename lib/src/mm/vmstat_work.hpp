// SPDX-License-Identifier: MIT
//
// The periodic vmstat fold's thread (vmstat_work.cpp), for System's destructor.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace gfplab {

// One thread per System standing in for every CPU's vmstat_work: each round folds every
// CPU's deltas (refresh_zone_vm_stats). Deliberate differences from 6.12: the round runs on
// a timer whether or not the last one found anything (vmstat_update stops re-arming when
// nothing changed, and the shepherd restarts it), and it does not run decay_pcp_high(): the
// model's pcp->high does not auto-tune, so there is nothing to decay, and draining another
// CPU's lists from here would need drain_all_pages()'s stop protocol in rseq mode.
struct vmstat_work {
    std::mutex lock;
    std::condition_variable wake;
    bool stop = false;
    std::thread thread;
};

} // namespace gfplab
