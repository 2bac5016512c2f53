// SPDX-License-Identifier: MIT
/* Its init fails cleanly: gfplab-run exits 4, and module_exit is not called. */
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init init_fails_init(void) {
    pr_err("init_fails: no device\n");
    return -ENODEV;
}

static void __exit init_fails_exit(void) {
    pr_err("init_fails: exit must not run\n");
}

module_init(init_fails_init);
module_exit(init_fails_exit);
MODULE_LICENSE("GPL");
