/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/interrupt.h - interrupt context (the part of Linux 6.12
 * include/linux/interrupt.h and hardirq.h a test needs).
 *
 * Userspace has no interrupts, so a test enters interrupt context on purpose:
 * gfplab_run_in_hardirq(fn, arg) runs fn on the calling thread as a hard interrupt handler
 * would run (in_interrupt() and irqs_disabled() true, atomic: a GFP_KERNEL allocation there is
 * I21), and gfplab_run_in_softirq() as a softirq (bottom halves) would.
 */
#ifndef GFPLAB_LINUX_INTERRUPT_H
#define GFPLAB_LINUX_INTERRUPT_H

#include <gfplab/linux/compiler.h>
#include <gfplab/linux/irqflags.h>
#include <gfplab/linux/preempt.h>

GFPLAB_EXTERN_C_BEGIN
void __gfplab_run_in_hardirq(void (*fn)(void *), void *arg, const char *file, unsigned int line);
void __gfplab_run_in_softirq(void (*fn)(void *), void *arg, const char *file, unsigned int line);
GFPLAB_EXTERN_C_END

/* Reports of what fn did there name this line as where the context was entered. */
#define gfplab_run_in_hardirq(fn, arg) __gfplab_run_in_hardirq((fn), (arg), __FILE__, __LINE__)
#define gfplab_run_in_softirq(fn, arg) __gfplab_run_in_softirq((fn), (arg), __FILE__, __LINE__)

#endif /* GFPLAB_LINUX_INTERRUPT_H */
