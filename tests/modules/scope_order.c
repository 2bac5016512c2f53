// SPDX-License-Identifier: MIT
/* An error path restores the outer scope before the inner one: I8. */
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

static int setup(void) {
    unsigned int nofs, noio;
    void *p;

    nofs = memalloc_nofs_save();
    noio = memalloc_noio_save();
    p = kmalloc(64, GFP_KERNEL);
    if (p) {
        kfree(p);
        memalloc_nofs_restore(nofs); /* EXPECT I8: the error path's wrong order */
        memalloc_noio_restore(noio);
        return -EIO;
    }
    memalloc_noio_restore(noio);
    memalloc_nofs_restore(nofs);
    return 0;
}

static int __init scope_order_init(void) {
    return setup() == -EIO ? 0 : -EINVAL;
}

module_init(scope_order_init);
MODULE_LICENSE("GPL");
