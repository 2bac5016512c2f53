/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/preempt.h - preemption control and the context tests (Linux 6.12
 * include/linux/preempt.h).
 *
 * There is no scheduler to stop: what the calls change is what the checker knows about
 * the thread. preempt_disable(), local_irq_save(), local_bh_disable(), spin_lock() and
 * interrupt context each make the thread atomic until undone, and anything that may sleep
 * meanwhile (an allocation whose mask has __GFP_DIRECT_RECLAIM, mutex_lock(),
 * might_sleep()) is reported as I21 with the place the thread became atomic.
 */
#ifndef GFPLAB_LINUX_PREEMPT_H
#define GFPLAB_LINUX_PREEMPT_H

#include <gfplab/linux/compiler.h>

#include <stdbool.h>

GFPLAB_EXTERN_C_BEGIN
void __gfplab_preempt_disable(const char *file, unsigned int line);
void __gfplab_preempt_enable(void);
void __gfplab_local_bh_disable(const char *file, unsigned int line);
void __gfplab_local_bh_enable(void);
/* Depth of preempt_disable() nesting plus held spinlocks, and whether the thread is atomic
 * (any of the above, interrupts off, or interrupt context). */
int __gfplab_preempt_count(void);
bool __gfplab_in_atomic(void);
bool __gfplab_in_hardirq(void);
bool __gfplab_in_softirq(void);
/* might_sleep(): kernel.h's; reported as I21 in atomic context. */
void __gfplab_might_sleep(const char *file, unsigned int line);
GFPLAB_EXTERN_C_END

#define preempt_disable()           __gfplab_preempt_disable(__FILE__, __LINE__)
#define preempt_enable()            __gfplab_preempt_enable()
#define preempt_enable_no_resched() __gfplab_preempt_enable()
#define preempt_count()             __gfplab_preempt_count()
#define in_atomic()                 __gfplab_in_atomic()
#define in_hardirq()                __gfplab_in_hardirq()
#define in_irq()                    __gfplab_in_hardirq()
#define in_softirq()                __gfplab_in_softirq()
#define in_interrupt()              (__gfplab_in_hardirq() || __gfplab_in_softirq())
#define in_task()                   (!in_interrupt())
#define local_bh_disable()          __gfplab_local_bh_disable(__FILE__, __LINE__)
#define local_bh_enable()           __gfplab_local_bh_enable()

#endif /* GFPLAB_LINUX_PREEMPT_H */
