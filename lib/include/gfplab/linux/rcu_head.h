/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/rcu_head.h - struct rcu_head as 6.12's include/linux/types.h has it: two
 * words inside an object that waits for a grace period. Shared by the kernel face
 * (linux/rcupdate.h) and the C++ API (gfplab/rcu.hpp), so both speak of one type.
 */
#ifndef GFPLAB_LINUX_RCU_HEAD_H
#define GFPLAB_LINUX_RCU_HEAD_H

struct callback_head {
    struct callback_head *next;
    void (*func)(struct callback_head *head);
};
#define rcu_head callback_head
typedef void (*rcu_callback_t)(struct rcu_head *head);

#endif /* GFPLAB_LINUX_RCU_HEAD_H */
