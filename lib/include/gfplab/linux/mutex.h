/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/mutex.h - struct mutex (Linux 6.12 include/linux/mutex.h).
 *
 * A real sleeping lock registered with the lock checker like spinlock_t (its class is the
 * definition site). Taking one may sleep: in atomic context that is reported as I21.
 * mutex_lock_nested()'s subclass is accepted and not told apart from the class (the
 * checker has no subclasses); the interruptible and killable forms never fail (there are no
 * signals to wait for).
 */
#ifndef GFPLAB_LINUX_MUTEX_H
#define GFPLAB_LINUX_MUTEX_H

#include <gfplab/linux/compiler.h>
#include <gfplab/linux/lockdep_map.h>

#include <stdbool.h>

struct mutex {
    unsigned int locked;
    struct gfplab_lockdep_map dep_map;
};

GFPLAB_EXTERN_C_BEGIN
void __gfplab_mutex_init(struct mutex *lock, const char *name, struct lock_class_key *key);
void __gfplab_mutex_lock(struct mutex *lock, const char *file, unsigned int line);
int __gfplab_mutex_trylock(struct mutex *lock, const char *file, unsigned int line);
void __gfplab_mutex_unlock(struct mutex *lock);
GFPLAB_EXTERN_C_END

#define __MUTEX_INITIALIZER(lockname)                                                              \
    { 0, GFPLAB_LOCKDEP_MAP_INIT(lockname) }
#define DEFINE_MUTEX(mutexname) struct mutex mutexname = __MUTEX_INITIALIZER(mutexname)
#define mutex_init(mutex)                                                                          \
    do {                                                                                           \
        static struct lock_class_key __key;                                                        \
        __gfplab_mutex_init((mutex), #mutex, &__key);                                              \
    } while (0)
#define mutex_destroy(mutex) ((void)(mutex))

#define mutex_lock(lock)                  __gfplab_mutex_lock((lock), __FILE__, __LINE__)
#define mutex_lock_nested(lock, subclass) ((void)(subclass), mutex_lock(lock))
#define mutex_lock_interruptible(lock)    (mutex_lock(lock), 0)
#define mutex_lock_killable(lock)         (mutex_lock(lock), 0)
#define mutex_trylock(lock)               __gfplab_mutex_trylock((lock), __FILE__, __LINE__)
#define mutex_unlock(lock)                __gfplab_mutex_unlock(lock)
#define mutex_is_locked(lock)             (__atomic_load_n(&(lock)->locked, __ATOMIC_RELAXED) != 0)

#endif /* GFPLAB_LINUX_MUTEX_H */
