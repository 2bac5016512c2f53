// SPDX-License-Identifier: MIT
/* Forgets a kmalloc'd buffer and two pages at exit: reported as leaks. */
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/slab.h>

static void *table;
static unsigned long pages;

static int __init leak_init(void) {
    table = kmalloc(200, GFP_KERNEL); /* EXPECT leak: listed with this line */
    pages = __get_free_pages(GFP_KERNEL, 1);
    return table && pages ? 0 : -ENOMEM;
}

static void __exit leak_exit(void) {
    /* neither table nor pages is freed */
}

module_init(leak_init);
module_exit(leak_exit);
MODULE_LICENSE("GPL");
