/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/rwsem.h - struct rw_semaphore (Linux 6.12 include/linux/rwsem.h).
 *
 * A real reader-writer lock (a count: readers above zero, a writer at -1), registered with
 * the lock checker like struct mutex; readers and writers share the class, so a shrinker's
 * down_read_trylock() and a writer's down_write() are one lock to the reclaim-recursion
 * check, as they are to lockdep. Taking it may sleep (I21); the trylocks never do.
 */
#ifndef GFPLAB_LINUX_RWSEM_H
#define GFPLAB_LINUX_RWSEM_H

#include <gfplab/linux/compiler.h>
#include <gfplab/linux/lockdep_map.h>

struct rw_semaphore {
    int count;
    struct gfplab_lockdep_map dep_map;
};

GFPLAB_EXTERN_C_BEGIN
void __gfplab_init_rwsem(struct rw_semaphore *sem, const char *name, struct lock_class_key *key);
void __gfplab_down_read(struct rw_semaphore *sem, const char *file, unsigned int line);
int __gfplab_down_read_trylock(struct rw_semaphore *sem, const char *file, unsigned int line);
void __gfplab_up_read(struct rw_semaphore *sem);
void __gfplab_down_write(struct rw_semaphore *sem, const char *file, unsigned int line);
int __gfplab_down_write_trylock(struct rw_semaphore *sem, const char *file, unsigned int line);
void __gfplab_up_write(struct rw_semaphore *sem);
void __gfplab_downgrade_write(struct rw_semaphore *sem);
GFPLAB_EXTERN_C_END

#define __RWSEM_INITIALIZER(name)                                                                  \
    { 0, GFPLAB_LOCKDEP_MAP_INIT(name) }
#define DECLARE_RWSEM(name) struct rw_semaphore name = __RWSEM_INITIALIZER(name)
#define init_rwsem(sem)                                                                            \
    do {                                                                                           \
        static struct lock_class_key __key;                                                        \
        __gfplab_init_rwsem((sem), #sem, &__key);                                                  \
    } while (0)

#define down_read(sem)              __gfplab_down_read((sem), __FILE__, __LINE__)
#define down_read_nested(sem, sub)  ((void)(sub), down_read(sem))
#define down_read_killable(sem)     (down_read(sem), 0)
#define down_read_trylock(sem)      __gfplab_down_read_trylock((sem), __FILE__, __LINE__)
#define up_read(sem)                __gfplab_up_read(sem)
#define down_write(sem)             __gfplab_down_write((sem), __FILE__, __LINE__)
#define down_write_nested(sem, sub) ((void)(sub), down_write(sem))
#define down_write_killable(sem)    (down_write(sem), 0)
#define down_write_trylock(sem)     __gfplab_down_write_trylock((sem), __FILE__, __LINE__)
#define up_write(sem)               __gfplab_up_write(sem)
#define downgrade_write(sem)        __gfplab_downgrade_write(sem)
#define rwsem_is_locked(sem)        (__atomic_load_n(&(sem)->count, __ATOMIC_RELAXED) != 0)

#endif /* GFPLAB_LINUX_RWSEM_H */
