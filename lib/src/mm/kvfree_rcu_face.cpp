// SPDX-License-Identifier: MIT
//
// kvfree_rcu()'s kernel face (gfplab/linux/rcupdate.h) on the default System. The RCU
// primitives themselves are process-wide (lib/src/rcu/kernel_face.cpp).
#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/linux/rcupdate.h>
#include <gfplab/system.hpp>

#include "default_system.hpp"

extern "C" {

void kvfree_call_rcu(struct rcu_head *head, void *ptr) {
    gfplab::kvfree_call_rcu(gfplab::current_default_system(), head, ptr);
}

void kvfree_rcu_barrier(void) {
    gfplab::kvfree_rcu_barrier(gfplab::current_default_system());
}

} // extern "C"
