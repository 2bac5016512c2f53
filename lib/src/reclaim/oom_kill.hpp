// SPDX-License-Identifier: MIT
//
// The OOM killer (mm/oom_kill.c 6.12 out_of_memory, and the slow path's
// __alloc_pages_may_oom rules), over victims that registered themselves.
#pragma once

#include "../page_alloc/page_allocator.hpp"

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

// __alloc_pages_may_oom(): the last attempt at the high watermark, the conditions under
// which no victim may be killed, then out_of_memory(). *did_some_progress follows the
// kernel: set when the OOM killer ran (or could not run and someone else is killing).
page *alloc_pages_may_oom(System &s, gfp_t gfp, unsigned order, const alloc_context &ac,
                          unsigned long *did_some_progress);

} // namespace gfplab
