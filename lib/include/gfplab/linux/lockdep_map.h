/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/lockdep_map.h - how a kernel-face lock finds its class in gfplab's lock
 * checker (the idea of 6.12 include/linux/lockdep_types.h, not its layout).
 *
 * lockdep names a class by a static key: each spin_lock_init(), mutex_init() or
 * init_rwsem() call site has its own `static struct lock_class_key`, so every lock set up
 * there shares one class; a lock defined statically (DEFINE_SPINLOCK, DEFINE_MUTEX) is its
 * own key. The class itself is made on first use and remembered in the map.
 */
#ifndef GFPLAB_LINUX_LOCKDEP_MAP_H
#define GFPLAB_LINUX_LOCKDEP_MAP_H

struct lock_class_key {
    char unused; /* only its address matters */
};

struct gfplab_lockdep_map {
    void *cls;                        /* the checker's class, once looked up */
    const char *name;                 /* the expression the lock was set up with */
    const struct lock_class_key *key; /* NULL: the lock is its own key */
};

#define GFPLAB_LOCKDEP_MAP_INIT(lockname)                                                          \
    { 0, #lockname, 0 }

#endif /* GFPLAB_LINUX_LOCKDEP_MAP_H */
