/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/workqueue.h - deferred work in process context (Linux 6.12
 * include/linux/workqueue.h), for what kernel code needs: work items, delayed work, the
 * system workqueues and workqueues of its own.
 *
 * A workqueue is one worker thread running its items in order (max_active is accepted and
 * treated as 1; WQ_UNBOUND, WQ_HIGHPRI and WQ_FREEZABLE change nothing). Items run in
 * process context: they may sleep and allocate with GFP_KERNEL. WQ_MEM_RECLAIM is recorded
 * but needs no rescuer here (the worker never waits for memory to start an item).
 * Delays are in jiffies of HZ per second.
 */
#ifndef GFPLAB_LINUX_WORKQUEUE_H
#define GFPLAB_LINUX_WORKQUEUE_H

#include <gfplab/linux/compiler.h>
#include <gfplab/linux/container_of.h>
#include <gfplab/linux/list.h>

#include <stdbool.h>

#define HZ 1000

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);

struct work_struct {
    unsigned long data; /* pending and running bits, for the library */
    struct list_head entry;
    work_func_t func;
};

struct delayed_work {
    struct work_struct work;
    unsigned long timer_due; /* jiffies; the library's timer list */
    struct workqueue_struct *wq;
    struct list_head timer_entry;
};

struct workqueue_struct;

enum {
    WQ_UNBOUND = 1 << 1,
    WQ_FREEZABLE = 1 << 2,
    WQ_MEM_RECLAIM = 1 << 3,
    WQ_HIGHPRI = 1 << 4,
    WQ_CPU_INTENSIVE = 1 << 5,
};

GFPLAB_EXTERN_C_BEGIN
extern struct workqueue_struct *system_wq;
extern struct workqueue_struct *system_unbound_wq;
extern struct workqueue_struct *system_long_wq;

struct workqueue_struct *alloc_workqueue(const char *fmt, unsigned int flags, int max_active, ...)
    __attribute__((format(printf, 1, 4)));
void destroy_workqueue(struct workqueue_struct *wq);
bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
bool queue_delayed_work(struct workqueue_struct *wq, struct delayed_work *dwork,
                        unsigned long delay);
bool mod_delayed_work(struct workqueue_struct *wq, struct delayed_work *dwork, unsigned long delay);
bool flush_work(struct work_struct *work);
bool flush_delayed_work(struct delayed_work *dwork);
void flush_workqueue(struct workqueue_struct *wq);
bool cancel_work_sync(struct work_struct *work);
bool cancel_delayed_work(struct delayed_work *dwork);
bool cancel_delayed_work_sync(struct delayed_work *dwork);
bool work_pending(const struct work_struct *work);
bool current_is_workqueue_worker(void);
unsigned long msecs_to_jiffies(unsigned int m);
unsigned int jiffies_to_msecs(unsigned long j);
unsigned long __gfplab_jiffies(void);
GFPLAB_EXTERN_C_END

#define jiffies __gfplab_jiffies()

#define INIT_WORK(_work, _func)                                                                    \
    do {                                                                                           \
        (_work)->data = 0;                                                                         \
        INIT_LIST_HEAD(&(_work)->entry);                                                           \
        (_work)->func = (_func);                                                                   \
    } while (0)
#define __WORK_INITIALIZER(n, f)                                                                   \
    { 0, LIST_HEAD_INIT((n).entry), (f) }
#define DECLARE_WORK(n, f) struct work_struct n = __WORK_INITIALIZER(n, f)
#define INIT_DELAYED_WORK(_dwork, _func)                                                           \
    do {                                                                                           \
        INIT_WORK(&(_dwork)->work, (_func));                                                       \
        (_dwork)->timer_due = 0;                                                                   \
        (_dwork)->wq = 0;                                                                          \
        INIT_LIST_HEAD(&(_dwork)->timer_entry);                                                    \
    } while (0)
#define to_delayed_work(w) container_of((w), struct delayed_work, work)

#define create_workqueue(name)              alloc_workqueue("%s", WQ_MEM_RECLAIM, 1, (name))
#define create_singlethread_workqueue(name) alloc_workqueue("%s", WQ_MEM_RECLAIM, 1, (name))
#define alloc_ordered_workqueue(fmt, flags, ...)                                                   \
    alloc_workqueue(fmt, (flags) | WQ_UNBOUND, 1, ##__VA_ARGS__)

#define schedule_work(work)                 queue_work(system_wq, (work))
#define schedule_delayed_work(dwork, delay) queue_delayed_work(system_wq, (dwork), (delay))
#define flush_scheduled_work()              flush_workqueue(system_wq)
#define delayed_work_pending(dw)            work_pending(&(dw)->work)

#endif /* GFPLAB_LINUX_WORKQUEUE_H */
