/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/irqflags.h - interrupts off and on (Linux 6.12 include/linux/irqflags.h).
 * No interrupt can arrive in userspace: the state is the thread's, and while interrupts are
 * off the thread is atomic (see preempt.h). The saved flags are the previous state.
 */
#ifndef GFPLAB_LINUX_IRQFLAGS_H
#define GFPLAB_LINUX_IRQFLAGS_H

#include <gfplab/linux/compiler.h>

#include <stdbool.h>

GFPLAB_EXTERN_C_BEGIN
unsigned long __gfplab_local_irq_save(const char *file, unsigned int line);
void __gfplab_local_irq_restore(unsigned long flags);
bool __gfplab_irqs_disabled(void);
GFPLAB_EXTERN_C_END

#define local_irq_save(flags)    ((flags) = __gfplab_local_irq_save(__FILE__, __LINE__))
#define local_irq_restore(flags) __gfplab_local_irq_restore(flags)
#define local_irq_disable()      ((void)__gfplab_local_irq_save(__FILE__, __LINE__))
#define local_irq_enable()       __gfplab_local_irq_restore(0)
#define irqs_disabled()          __gfplab_irqs_disabled()

#endif /* GFPLAB_LINUX_IRQFLAGS_H */
