// SPDX-License-Identifier: MIT
/* A handler in interrupt context allocates with GFP_KERNEL: I21 (the GFP_ATOMIC one is fine). */
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/slab.h>

static void handler(void *arg) {
    void **slot = arg;
    slot[0] = kmalloc(32, GFP_ATOMIC);
    slot[1] = kmalloc(32, GFP_KERNEL);
}

static int __init irq_alloc_init(void) {
    void *slot[2];

    gfplab_run_in_hardirq(handler, slot); /* EXPECT I21: GFP_KERNEL in the handler */
    kfree(slot[0]);
    kfree(slot[1]);
    return 0;
}

module_init(irq_alloc_init);
MODULE_LICENSE("GPL");
