// SPDX-License-Identifier: MIT
//
// RCU's kernel face (gfplab/linux/rcupdate.h) on gfplab/rcu.hpp.
#include <gfplab/linux/rcupdate.h>
#include <gfplab/rcu.hpp>

extern "C" {

void rcu_read_lock(void) {
    gfplab::rcu::read_lock();
}
void rcu_read_unlock(void) {
    gfplab::rcu::read_unlock();
}
int rcu_read_lock_held(void) {
    return gfplab::rcu::read_lock_held();
}
void synchronize_rcu(void) {
    gfplab::rcu::synchronize();
}
void synchronize_rcu_expedited(void) {
    gfplab::rcu::synchronize();
}
void call_rcu(struct rcu_head *h, rcu_callback_t func) {
    gfplab::rcu::call(h, func);
}
void rcu_barrier(void) {
    gfplab::rcu::barrier();
}
unsigned long get_state_synchronize_rcu(void) {
    return gfplab::rcu::get_state();
}
unsigned long start_poll_synchronize_rcu(void) {
    return gfplab::rcu::start_poll();
}
bool poll_state_synchronize_rcu(unsigned long oldstate) {
    return gfplab::rcu::poll_state(oldstate);
}
void cond_synchronize_rcu(unsigned long oldstate) {
    gfplab::rcu::cond_synchronize(oldstate);
}

} // extern "C"
