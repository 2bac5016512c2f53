// SPDX-License-Identifier: MIT
//
// The periodic fold of the per-CPU vmstat deltas (mm/vmstat.c 6.12: vmstat_update, queued
// every sysctl_stat_interval on each CPU by vmstat_shepherd, and the vm.stat_refresh
// sysctl). Without it a delta below the threshold would stay out of the zone counter for
// as long as its CPU leaves the counter alone.
#include <gfplab/system.hpp>

#include "../internal.hpp"
#include "vmstat_work.hpp"

#include <chrono>

namespace gfplab {

int System::refresh_vm_stats() {
    int changes = 0;
    for (auto &n : nodes_)
        for (zone &z : n->node_zones)
            if (z.populated())
                changes += refresh_zone_vm_stats(z);
    return changes;
}

void System::start_vmstat_work() {
    // Only where background threads run at all: a System without kswapd threads is one whose
    // runs replay exactly, and a timer would make the counters depend on the clock.
    if (!cfg_.kswapd || !cfg_.stat_interval_ms)
        return;
    vmstat_work_ = std::make_unique<vmstat_work>();
    vmstat_work *w = vmstat_work_.get();
    const auto interval = std::chrono::milliseconds(cfg_.stat_interval_ms);
    w->thread = std::thread([this, w, interval] {
        std::unique_lock<std::mutex> lk(w->lock);
        while (!w->wake.wait_for(lk, interval, [w] { return w->stop; })) {
            lk.unlock();
            refresh_vm_stats();
            lk.lock();
        }
    });
}

void System::stop_vmstat_work() {
    if (!vmstat_work_)
        return;
    {
        std::lock_guard<std::mutex> g(vmstat_work_->lock);
        vmstat_work_->stop = true;
    }
    vmstat_work_->wake.notify_one();
    vmstat_work_->thread.join();
    vmstat_work_.reset();
}

} // namespace gfplab
