// SPDX-License-Identifier: MIT
//
// I21: the kernel's "sleeping function called from invalid context" (6.12 __might_sleep(),
// reached from might_alloc() for every mask that may block, and from mutex_lock(),
// down_read() and the like). The atomic state is what the thread holds in the lock checker:
// spinning locks and the contexts (preemption off, interrupts off, interrupt context) are
// held like locks, so the innermost one names where the thread became atomic.
#include "../internal.hpp"
#include "../scope/caller.hpp"
#include "report.hpp"

#include <gfplab/lockdep.hpp>

namespace gfplab {

namespace {
// The atomic section last reported on this thread: one report per section, as one mistake
// (a kmalloc under a spinlock) reaches here again from the page allocator below it.
thread_local std::uint64_t reported_seq = 0;
} // namespace

void check_might_sleep(System &s, const char *what, gfp_t gfp, int order, srcloc at) {
    const auto holder = current_atomic_holder();
    if (!holder || holder->seq == reported_seq)
        return;
    reported_seq = holder->seq;
    at = caller_or(at); // kernel code's own line, when it called through the include root
    const std::string kind = holder->cls->kind() == lock_kind::context ? "is in" : "holds spinlock";
    if (order >= 0)
        report(s, invariant::sleep_in_atomic, "sleeping allocation in atomic context", gfp, order,
               nullptr,
               "{}(mode:{}, order:{}) at {}:{} may sleep, but the thread {} {} (from {}:{})", what,
               gfp_describe(gfp), order, at.file_name(), at.line_no(), kind, holder->cls->name(),
               holder->file, holder->line);
    else
        report(s, invariant::sleep_in_atomic, "sleeping function in atomic context", 0, -1, nullptr,
               "{} at {}:{} may sleep, but the thread {} {} (from {}:{})", what, at.file_name(),
               at.line_no(), kind, holder->cls->name(), holder->file, holder->line);
}

} // namespace gfplab
