/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/spinlock.h - spinlock_t (Linux 6.12 include/linux/spinlock.h).
 *
 * A real lock (a word taken by compare-and-swap, spinning with a yield) registered with the
 * lock checker: its class is the definition site (see lockdep_map.h), so dependencies
 * between classes and the reclaim recursion through lockdep's fs_reclaim map (I9) are
 * learned from what the code does. Holding one makes the thread atomic (I21). Every call
 * passes its source line, which reports name.
 */
#ifndef GFPLAB_LINUX_SPINLOCK_H
#define GFPLAB_LINUX_SPINLOCK_H

#include <gfplab/linux/compiler.h>
#include <gfplab/linux/irqflags.h>
#include <gfplab/linux/lockdep_map.h>
#include <gfplab/linux/preempt.h>

#include <stdbool.h>

typedef struct spinlock {
    unsigned int locked;
    struct gfplab_lockdep_map dep_map;
} spinlock_t;

GFPLAB_EXTERN_C_BEGIN
void __gfplab_spin_lock_init(spinlock_t *lock, const char *name, struct lock_class_key *key);
void __gfplab_spin_lock(spinlock_t *lock, const char *file, unsigned int line);
int __gfplab_spin_trylock(spinlock_t *lock, const char *file, unsigned int line);
void __gfplab_spin_unlock(spinlock_t *lock);
GFPLAB_EXTERN_C_END

#define __SPIN_LOCK_UNLOCKED(lockname)                                                             \
    { 0, GFPLAB_LOCKDEP_MAP_INIT(lockname) }
#define DEFINE_SPINLOCK(x) spinlock_t x = __SPIN_LOCK_UNLOCKED(x)
#define spin_lock_init(lock)                                                                       \
    do {                                                                                           \
        static struct lock_class_key __key;                                                        \
        __gfplab_spin_lock_init((lock), #lock, &__key);                                            \
    } while (0)

#define spin_lock(lock)      __gfplab_spin_lock((lock), __FILE__, __LINE__)
#define spin_trylock(lock)   __gfplab_spin_trylock((lock), __FILE__, __LINE__)
#define spin_unlock(lock)    __gfplab_spin_unlock(lock)
#define spin_is_locked(lock) (__atomic_load_n(&(lock)->locked, __ATOMIC_RELAXED) != 0)
#define assert_spin_locked(lock)                                                                   \
    do {                                                                                           \
        if (!spin_is_locked(lock))                                                                 \
            __gfplab_assert_failed(__FILE__, __LINE__, "assert_spin_locked(" #lock ")");           \
    } while (0)

#define spin_lock_irq(lock)                                                                        \
    do {                                                                                           \
        local_irq_disable();                                                                       \
        spin_lock(lock);                                                                           \
    } while (0)
#define spin_unlock_irq(lock)                                                                      \
    do {                                                                                           \
        spin_unlock(lock);                                                                         \
        local_irq_enable();                                                                        \
    } while (0)
#define spin_lock_irqsave(lock, flags)                                                             \
    do {                                                                                           \
        local_irq_save(flags);                                                                     \
        spin_lock(lock);                                                                           \
    } while (0)
#define spin_unlock_irqrestore(lock, flags)                                                        \
    do {                                                                                           \
        spin_unlock(lock);                                                                         \
        local_irq_restore(flags);                                                                  \
    } while (0)
#define spin_lock_bh(lock)                                                                         \
    do {                                                                                           \
        local_bh_disable();                                                                        \
        spin_lock(lock);                                                                           \
    } while (0)
#define spin_unlock_bh(lock)                                                                       \
    do {                                                                                           \
        spin_unlock(lock);                                                                         \
        local_bh_enable();                                                                         \
    } while (0)

GFPLAB_EXTERN_C_BEGIN
/* A failed lock assertion (assert_spin_locked, lockdep_assert_held): reported, not fatal. */
void __gfplab_assert_failed(const char *file, unsigned int line, const char *what);
GFPLAB_EXTERN_C_END

#endif /* GFPLAB_LINUX_SPINLOCK_H */
