// SPDX-License-Identifier: MIT
/*
 * A clean test module: pages, kmalloc, a kmem_cache, a mempool, a shrinker that honours
 * __GFP_FS, locks taken inside NOFS scopes, atomic allocations under a spinlock. gfplab-run
 * must find nothing (exit 0).
 */
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/sched/mm.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

struct item {
    struct list_head node;
    int value;
};

static DEFINE_MUTEX(items_lock);
static DEFINE_SPINLOCK(stats_lock);
static LIST_HEAD(items);
static unsigned long nr_items;
static struct kmem_cache *item_cache;
static struct shrinker *item_shrinker;
static mempool_t *pool;

static unsigned long items_count(struct shrinker *s, struct shrink_control *sc) {
    (void)s;
    (void)sc;
    return READ_ONCE(nr_items);
}

static unsigned long items_scan(struct shrinker *s, struct shrink_control *sc) {
    struct item *it, *next;
    unsigned long freed = 0;
    (void)s;
    /* The items' lock is taken with GFP_KERNEL elsewhere: without __GFP_FS, stop. */
    if (!(sc->gfp_mask & __GFP_FS))
        return SHRINK_STOP;
    if (!mutex_trylock(&items_lock))
        return SHRINK_STOP;
    list_for_each_entry_safe(it, next, &items, node) {
        if (freed >= sc->nr_to_scan)
            break;
        list_del(&it->node);
        kmem_cache_free(item_cache, it);
        nr_items--;
        freed++;
    }
    mutex_unlock(&items_lock);
    return freed;
}

static int add_items(int n) {
    unsigned int nofs;
    int i;

    nofs = memalloc_nofs_save();
    mutex_lock(&items_lock);
    for (i = 0; i < n; i++) {
        struct item *it = kmem_cache_alloc(item_cache, GFP_KERNEL);
        if (!it)
            break;
        it->value = i;
        list_add_tail(&it->node, &items);
        nr_items++;
    }
    mutex_unlock(&items_lock);
    memalloc_nofs_restore(nofs);
    return i == n ? 0 : -ENOMEM;
}

static int __init clean_init(void) {
    struct page *page;
    unsigned long flags;
    void *buf, *atomic_buf, *elem;
    int ret;

    page = alloc_pages(GFP_KERNEL, 2);
    if (!page)
        return -ENOMEM;
    __free_pages(page, 2);

    buf = kzalloc(300, GFP_KERNEL);
    if (!buf)
        return -ENOMEM;
    spin_lock_irqsave(&stats_lock, flags);
    atomic_buf = kmalloc(64, GFP_ATOMIC);
    spin_unlock_irqrestore(&stats_lock, flags);
    kfree(atomic_buf);
    kfree(buf);

    item_cache =
        kmem_cache_create("clean_item", sizeof(struct item), 0, SLAB_RECLAIM_ACCOUNT, NULL);
    if (!item_cache)
        return -ENOMEM;
    item_shrinker = shrinker_alloc(0, "clean-items");
    if (!item_shrinker)
        return -ENOMEM;
    item_shrinker->count_objects = items_count;
    item_shrinker->scan_objects = items_scan;
    shrinker_register(item_shrinker);

    ret = add_items(100);
    if (ret)
        return ret;

    pool = mempool_create_kmalloc_pool(4, 128);
    if (!pool)
        return -ENOMEM;
    elem = mempool_alloc(pool, GFP_NOIO);
    mempool_free(elem, pool);
    pr_info("clean: %lu items\n", nr_items);
    return 0;
}

static void __exit clean_exit(void) {
    struct item *it, *next;

    mempool_destroy(pool);
    shrinker_free(item_shrinker);
    mutex_lock(&items_lock);
    list_for_each_entry_safe(it, next, &items, node) {
        list_del(&it->node);
        kmem_cache_free(item_cache, it);
    }
    nr_items = 0;
    mutex_unlock(&items_lock);
    kmem_cache_destroy(item_cache);
    pr_info("clean: done\n");
}

module_init(clean_init);
module_exit(clean_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("a module that keeps the GFP contract");
