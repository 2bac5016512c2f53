/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/rcupdate.h - RCU's kernel face (Linux 6.12 include/linux/rcupdate.h), on
 * liburcu's bulletproof flavour (docs/rcu.md): readers, grace periods, call_rcu(), polled
 * grace periods, the pointer publication macros, and kvfree_rcu() in its 6.12 spellings
 * on the default System. 6.12 has one RCU flavour: the _bh and _sched readers are the same
 * reader here. Do not include liburcu's own headers in the same file: they define these
 * names as macros.
 */
#ifndef GFPLAB_LINUX_RCUPDATE_H
#define GFPLAB_LINUX_RCUPDATE_H

#include <gfplab/linux/alloc_site.h>
#include <gfplab/linux/compiler.h>
#include <gfplab/linux/rcu_head.h>

#include <stddef.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

GFPLAB_EXTERN_C_BEGIN

void rcu_read_lock(void);
void rcu_read_unlock(void);
int rcu_read_lock_held(void);
/* Waits for every reader inside rcu_read_lock() now; never call it inside one. */
void synchronize_rcu(void);
void synchronize_rcu_expedited(void); /* the same grace period here */
/* func(head) runs after a grace period, on the callback thread. */
void call_rcu(struct rcu_head *head, rcu_callback_t func);
/* Waits until every callback queued before it has run. */
void rcu_barrier(void);
unsigned long get_state_synchronize_rcu(void);
unsigned long start_poll_synchronize_rcu(void);
bool poll_state_synchronize_rcu(unsigned long oldstate);
void cond_synchronize_rcu(unsigned long oldstate);

/*
 * kvfree_rcu(): ptr goes back to its allocator after a grace period, in per-CPU batches
 * on the default System. With head (the two-argument macros) it never sleeps; without
 * (the _mightsleep forms) it may wait for a grace period itself when no batch page can be
 * had, so it must not be called inside rcu_read_lock().
 */
void kvfree_call_rcu(struct rcu_head *head, void *ptr);
/* Waits until every object queued by kvfree_rcu() before it has been freed. */
void kvfree_rcu_barrier(void);

GFPLAB_EXTERN_C_END

#define rcu_read_lock_bh()      rcu_read_lock()
#define rcu_read_unlock_bh()    rcu_read_unlock()
#define rcu_read_lock_sched()   rcu_read_lock()
#define rcu_read_unlock_sched() rcu_read_unlock()

/* Publication and subscription: release on the writer side, acquire (for consume) here. */
#define rcu_dereference(p)              __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define rcu_dereference_bh(p)           rcu_dereference(p)
#define rcu_dereference_sched(p)        rcu_dereference(p)
#define rcu_dereference_check(p, c)     rcu_dereference(p)
#define rcu_dereference_raw(p)          rcu_dereference(p)
#define rcu_dereference_protected(p, c) (p)
#define rcu_access_pointer(p)           __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define rcu_assign_pointer(p, v)                                                                   \
    do {                                                                                           \
        __typeof__(p) ___rcu_v = (v);                                                              \
        __atomic_store_n(&(p), ___rcu_v, __ATOMIC_RELEASE);                                        \
    } while (0)
#define RCU_INIT_POINTER(p, v)                                                                     \
    do {                                                                                           \
        __typeof__(p) ___rcu_v = (v);                                                              \
        __atomic_store_n(&(p), ___rcu_v, __ATOMIC_RELAXED);                                        \
    } while (0)
#define rcu_replace_pointer(rcu_ptr, ptr, c)                                                       \
    ({                                                                                             \
        __typeof__(rcu_ptr) ___rcu_old = rcu_dereference_protected((rcu_ptr), (c));                \
        rcu_assign_pointer((rcu_ptr), (ptr));                                                      \
        ___rcu_old;                                                                                \
    })

#ifdef __cplusplus
#define GFPLAB_RCU_STATIC_ASSERT(e, m) static_assert(e, m)
#else
#define GFPLAB_RCU_STATIC_ASSERT(e, m) _Static_assert(e, m)
#endif

/* kvfree_rcu_arg_2(): the rcu_head must sit in the object's first page, as in 6.12. */
#define gfplab_kvfree_rcu_arg_2(ptr, rhf)                                                          \
    do {                                                                                           \
        __typeof__(ptr) ___p = (ptr);                                                              \
        GFPLAB_RCU_STATIC_ASSERT(offsetof(__typeof__(*(ptr)), rhf) < 4096,                         \
                                 "the rcu_head must be in the first 4096 bytes");                  \
        if (___p)                                                                                  \
            kvfree_call_rcu(&((___p)->rhf), (void *)(___p));                                       \
    } while (0)
#define gfplab_kvfree_rcu_arg_1(ptr)                                                               \
    do {                                                                                           \
        __typeof__(ptr) ___p = (ptr);                                                              \
        if (___p)                                                                                  \
            kvfree_call_rcu(NULL, (void *)(___p));                                                 \
    } while (0)

#define kfree_rcu(ptr, rhf)        gfplab_kvfree_rcu_arg_2(ptr, rhf)
#define kvfree_rcu(ptr, rhf)       gfplab_kvfree_rcu_arg_2(ptr, rhf)
#define kfree_rcu_mightsleep(ptr)  gfplab_kvfree_rcu_arg_1(ptr)
#define kvfree_rcu_mightsleep(ptr) gfplab_kvfree_rcu_arg_1(ptr)

#ifdef GFPLAB_CALLER_SITES /* linux/alloc_site.h: the object is no longer the caller's */
#define kvfree_call_rcu(head, ptr)                                                                 \
    GFPLAB_SITE_FREE(ptr, kvfree_call_rcu((head), (void *)__gfplab_obj))
#endif

#endif /* GFPLAB_LINUX_RCUPDATE_H */
