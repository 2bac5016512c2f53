// SPDX-License-Identifier: MIT
//
// The only file that includes liburcu: its struct rcu_head is not the kernel's, and its
// headers define the kernel's RCU names as macros. The reader side and the grace-period
// wait of gfplab/rcu.hpp are liburcu-bp's own calls.
#include "urcu_glue.hpp"

#include <urcu/urcu-bp.h>

namespace gfplab::rcu::detail {

void urcu_read_lock() noexcept {
    urcu_bp_read_lock();
}

void urcu_read_unlock() noexcept {
    urcu_bp_read_unlock();
}

bool urcu_read_ongoing() noexcept {
    return urcu_bp_read_ongoing() != 0;
}

void urcu_synchronize() noexcept {
    urcu_bp_synchronize_rcu();
}

} // namespace gfplab::rcu::detail
