// SPDX-License-Identifier: MIT
/* A GFP_KERNEL allocation under a spinlock: I21, naming the spin_lock() line. */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

static DEFINE_SPINLOCK(dev_lock);

static int __init atomic_sleep_init(void) {
    void *p;

    spin_lock(&dev_lock); /* EXPECT I21 */
    p = kmalloc(128, GFP_KERNEL);
    spin_unlock(&dev_lock);
    kfree(p);
    return 0;
}

module_init(atomic_sleep_init);
MODULE_LICENSE("GPL");
