// SPDX-License-Identifier: MIT
//
// Whether restartable sequences can be used, and membarrier's rseq fence.
#include "rseq_cs.hpp"

#include <linux/membarrier.h>
#include <mutex>
#include <sys/syscall.h>
#include <unistd.h>

namespace gfplab::pcp {

namespace {

[[maybe_unused]] bool under_tsan() noexcept {
#if defined(__SANITIZE_THREAD__)
    return true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
    return true;
#endif
#endif
    return false;
}

bool membarrier_rseq_registered() noexcept {
    static const bool ok = [] {
        long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
        if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ))
            return false;
        return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) == 0;
    }();
    return ok;
}

} // namespace

bool rseq_usable() noexcept {
#if GFPLAB_HAVE_RSEQ
    // glibc registers rseq for every thread unless told not to (glibc.pthread.rseq=0) or
    // the kernel refused (valgrind, old kernels): then __rseq_size is 0.
    return !under_tsan() && __rseq_size >= 8 && current_rseq()->cpu_id < 0xfffffff0u &&
           membarrier_rseq_registered();
#else
    return false;
#endif
}

bool rseq_fence_cpu(unsigned cpu) noexcept {
    if (!membarrier_rseq_registered())
        return false;
    return syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU,
                   int(cpu)) == 0;
}

} // namespace gfplab::pcp
