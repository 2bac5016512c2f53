// SPDX-License-Identifier: MIT
//
// The OOM killer (mm/oom_kill.c 6.12 out_of_memory, and the slow path's
// __alloc_pages_may_oom rules), over victims that registered themselves.
#pragma once

#include "../internal.hpp"

#include <gfplab/system.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gfplab {

struct oom_victim {
    unsigned id = 0;
    int pid = 0; // the thread that registered it (the kernel's task)
    std::string name;
    std::function<unsigned long()> badness;
    std::function<unsigned long()> kill;
    std::shared_ptr<std::atomic<bool>> marked; // the task's "is an OOM victim" mark
};

struct oom_state {
    std::mutex oom_lock;     // one OOM decision at a time (the kernel's oom_lock)
    std::mutex victims_lock; // the list below
    std::vector<oom_victim> victims;
    unsigned next_id = 1;
};

} // namespace gfplab
