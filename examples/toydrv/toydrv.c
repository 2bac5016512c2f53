// SPDX-License-Identifier: MIT
/*
 * toydrv - a network-style driver written as kernel code, driven as a gfplab workload.
 *
 * The allocation contexts of a driver, each with the mask it allows:
 *
 *   interrupt handler  hard irq, atomic: rx buffers with GFP_ATOMIC, under the ring's
 *                      spinlock; a full ring or a failed allocation drops the packet (and
 *                      counts it), as a NIC driver does
 *   ring               the handler's and the bottom half's meeting point; its lock is
 *                      taken with spin_lock_irqsave() everywhere, since the handler takes it
 *   rx work            process context on the driver's workqueue: drains the ring and
 *                      builds one request per packet from a mempool with GFP_NOIO, since
 *                      the requests go to the block layer, which must not recurse into I/O
 *   ioctl              plain process context: GFP_KERNEL
 *
 * No mistakes: gfplab must find nothing.
 */
#define pr_fmt(fmt) "toydrv: " fmt

#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/interrupt.h>
#include <linux/kernel.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include <gfplab/workload.h>

#define TOYDRV_RING_SIZE 64 /* packets the ring holds; more are dropped */
#define TOYDRV_MAX_BURST 4  /* packets per interrupt */
#define TOYDRV_MAX_LEN   1536
#define TOYDRV_POOL_MIN  8 /* requests the mempool keeps in reserve */
#define TOYDRV_IOCTL_MAX 4096

struct toydrv_slot {
    void *buf;
    unsigned int len;
};

/* One request to the "block layer" per received packet. */
struct toydrv_req {
    void *buf;
    unsigned int len;
    u32 csum;
};

struct toydrv_dev {
    spinlock_t ring_lock; /* the ring and the counters below */
    struct toydrv_slot ring[TOYDRV_RING_SIZE];
    unsigned int head, tail; /* free-running; head - tail packets wait */
    unsigned long rx_packets, rx_dropped, rx_nomem, rx_done;
    struct work_struct rx_work;
    struct workqueue_struct *wq;
    struct kmem_cache *req_cache;
    mempool_t *req_pool;
    struct mutex cfg_lock; /* cfg_gen: ioctls are serialized, as by a driver's own mutex */
    unsigned long cfg_gen;
};

/* What one interrupt brings, drawn in process context before it is raised. */
struct toydrv_irq {
    struct toydrv_dev *dev;
    unsigned int nr;
    unsigned int len[TOYDRV_MAX_BURST];
    bool schedule; /* the handler schedules the bottom half itself */
};

static struct toydrv_dev *toydrv;

/* Hard interrupt context: nothing here may sleep. */
static void toydrv_interrupt(void *arg) {
    struct toydrv_irq *irq = arg;
    struct toydrv_dev *dev = irq->dev;
    unsigned long flags;
    unsigned int i;

    for (i = 0; i < irq->nr; i++) {
        void *buf;

        spin_lock_irqsave(&dev->ring_lock, flags);
        if (dev->head - dev->tail == TOYDRV_RING_SIZE) {
            dev->rx_dropped++; /* the bottom half is behind: no room, no buffer */
        } else {
            /* Atomic: never sleeps, may fail. NOWARN: a dropped packet is no news. */
            buf = kmalloc(irq->len[i], GFP_ATOMIC | __GFP_NOWARN);
            if (buf) {
                memset(buf, (int)i, irq->len[i]);
                dev->ring[dev->head % TOYDRV_RING_SIZE].buf = buf;
                dev->ring[dev->head % TOYDRV_RING_SIZE].len = irq->len[i];
                dev->head++;
                dev->rx_packets++;
            } else {
                dev->rx_nomem++;
            }
        }
        spin_unlock_irqrestore(&dev->ring_lock, flags);
    }
    if (irq->schedule)
        queue_work(dev->wq, &dev->rx_work);
}

/* The bottom half: process context on dev->wq, one run at a time. */
static void toydrv_rx_work(struct work_struct *work) {
    struct toydrv_dev *dev = container_of(work, struct toydrv_dev, rx_work);
    unsigned int budget = TOYDRV_RING_SIZE, i;
    struct toydrv_slot slot;
    struct toydrv_req *req;
    unsigned long flags;

    while (budget--) {
        spin_lock_irqsave(&dev->ring_lock, flags);
        if (dev->head == dev->tail) {
            spin_unlock_irqrestore(&dev->ring_lock, flags);
            break;
        }
        slot = dev->ring[dev->tail % TOYDRV_RING_SIZE];
        dev->tail++;
        spin_unlock_irqrestore(&dev->ring_lock, flags);

        /*
         * The request goes down to the block layer: GFP_NOIO, so reclaim cannot issue I/O
         * that waits on us. The mempool's reserve guarantees forward progress; it does not
         * return NULL with a mask that may sleep, but a driver checks anyway.
         */
        req = mempool_alloc(dev->req_pool, GFP_NOIO);
        if (!req) {
            kfree(slot.buf);
            spin_lock_irqsave(&dev->ring_lock, flags);
            dev->rx_nomem++;
            spin_unlock_irqrestore(&dev->ring_lock, flags);
            continue;
        }
        req->buf = slot.buf;
        req->len = slot.len;
        req->csum = 0;
        for (i = 0; i < req->len; i++)
            req->csum += ((u8 *)req->buf)[i];
        kfree(req->buf);
        mempool_free(req, dev->req_pool);

        spin_lock_irqsave(&dev->ring_lock, flags);
        dev->rx_done++;
        spin_unlock_irqrestore(&dev->ring_lock, flags);
    }
}

static int toydrv_irq_op(struct gfplab_workload_ctx *ctx) {
    struct toydrv_irq irq = {.dev = toydrv};
    unsigned int i;

    irq.nr = 1 + (unsigned int)gfplab_workload_below(ctx, TOYDRV_MAX_BURST);
    for (i = 0; i < irq.nr; i++)
        irq.len[i] = 64 + (unsigned int)gfplab_workload_below(ctx, TOYDRV_MAX_LEN - 63);
    irq.schedule = gfplab_workload_chance(ctx, 50);
    gfplab_run_in_hardirq(toydrv_interrupt, &irq);
    return 0;
}

static int toydrv_kick(struct gfplab_workload_ctx *ctx) {
    (void)ctx;
    queue_work(toydrv->wq, &toydrv->rx_work);
    return 0;
}

static int toydrv_flush(struct gfplab_workload_ctx *ctx) {
    (void)ctx;
    flush_work(&toydrv->rx_work);
    return 0;
}

/* An ioctl: copy the argument in, apply it under the config mutex, report the stats. */
static int toydrv_ioctl(struct gfplab_workload_ctx *ctx) {
    struct toydrv_dev *dev = toydrv;
    size_t len = 16 + gfplab_workload_below(ctx, TOYDRV_IOCTL_MAX - 15);
    unsigned long *arg, flags;

    /* Process context, no lock held: anything goes, GFP_KERNEL included. */
    arg = kmalloc(len, GFP_KERNEL);
    if (!arg)
        return -ENOMEM;
    memset(arg, 0, len); /* copy_from_user() */
    mutex_lock(&dev->cfg_lock);
    dev->cfg_gen++;
    spin_lock_irqsave(&dev->ring_lock, flags);
    arg[0] = dev->rx_packets;
    arg[1] = dev->rx_dropped + dev->rx_nomem;
    spin_unlock_irqrestore(&dev->ring_lock, flags);
    mutex_unlock(&dev->cfg_lock);
    kfree(arg);
    return 0;
}

static void toydrv_exit(void);

static int toydrv_init(const struct gfplab_workload_env *env) {
    struct toydrv_dev *dev;

    if (env->args && env->args[0]) {
        pr_err("takes no arguments (got '%s')\n", env->args);
        return -EINVAL;
    }
    dev = kzalloc(sizeof(*dev), GFP_KERNEL);
    if (!dev)
        return -ENOMEM;
    toydrv = dev;
    spin_lock_init(&dev->ring_lock);
    mutex_init(&dev->cfg_lock);
    INIT_WORK(&dev->rx_work, toydrv_rx_work);
    /* WQ_MEM_RECLAIM: the work completes I/O, which reclaim may be waiting for. */
    dev->wq = alloc_workqueue("toydrv_rx", WQ_MEM_RECLAIM, 1);
    dev->req_cache = kmem_cache_create("toydrv_req", sizeof(struct toydrv_req), 0, 0, NULL);
    if (dev->req_cache)
        dev->req_pool = mempool_create_slab_pool(TOYDRV_POOL_MIN, dev->req_cache);
    if (!dev->wq || !dev->req_pool) {
        toydrv_exit();
        return -ENOMEM;
    }
    return 0;
}

/* After the last operation, on one thread: stop the bottom half, then free everything. */
static void toydrv_exit(void) {
    struct toydrv_dev *dev = toydrv;

    if (!dev)
        return;
    if (dev->wq) {
        cancel_work_sync(&dev->rx_work);
        destroy_workqueue(dev->wq);
    }
    /* Nothing runs any more: what the ring still holds was never processed. */
    while (dev->head != dev->tail) {
        kfree(dev->ring[dev->tail % TOYDRV_RING_SIZE].buf);
        dev->tail++;
    }
    pr_info("%lu packets, %lu done, %lu dropped, %lu without memory\n", dev->rx_packets,
            dev->rx_done, dev->rx_dropped, dev->rx_nomem);
    if (dev->req_pool)
        mempool_destroy(dev->req_pool);
    if (dev->req_cache)
        kmem_cache_destroy(dev->req_cache);
    kfree(dev);
    toydrv = NULL;
}

static const struct gfplab_workload_op toydrv_ops[] = {
    {.name = "irq", .weight = 8, .run = toydrv_irq_op},
    {.name = "kick", .weight = 3, .run = toydrv_kick},
    {.name = "flush", .weight = 1, .run = toydrv_flush},
    {.name = "ioctl", .weight = 2, .run = toydrv_ioctl},
};

GFPLAB_WORKLOAD(.name = "toydrv",
                .description = "a driver: GFP_ATOMIC rx buffers in a hard irq handler, a work "
                               "item draining the ring with GFP_NOIO mempool requests",
                .init = toydrv_init, .exit = toydrv_exit, .ops = toydrv_ops,
                .nr_ops = ARRAY_SIZE(toydrv_ops));
