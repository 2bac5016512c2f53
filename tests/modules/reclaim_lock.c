// SPDX-License-Identifier: MIT
/*
 * The classic reclaim recursion: the cache's mutex is held across a GFP_KERNEL allocation,
 * and the cache's own shrinker takes the same mutex (without checking __GFP_FS, without a
 * trylock). Nothing is declared: the lock checker learns both edges from what runs, once
 * memory pressure makes reclaim call the shrinker, and reports the cycle (I9).
 */
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

struct entry {
    struct list_head node;
    char payload[120];
};

static DEFINE_MUTEX(cache_lock);
static LIST_HEAD(entries);
static unsigned long nr_entries;
static struct shrinker *shrinker;
static int scanned;

static unsigned long cache_count(struct shrinker *s, struct shrink_control *sc) {
    (void)s;
    (void)sc;
    return nr_entries;
}

static unsigned long cache_scan(struct shrinker *s, struct shrink_control *sc) {
    struct entry *e, *next;
    unsigned long freed = 0;
    (void)s;
    scanned = 1;
    mutex_lock(&cache_lock); /* EXPECT I9: taken inside reclaim, held across GFP_KERNEL */
    list_for_each_entry_safe(e, next, &entries, node) {
        if (freed >= sc->nr_to_scan)
            break;
        list_del(&e->node);
        kfree(e);
        nr_entries--;
        freed++;
    }
    mutex_unlock(&cache_lock);
    return freed;
}

static int __init reclaim_lock_init(void) {
    static struct page *pressure[4096];
    int i, n = 0;

    shrinker = shrinker_alloc(0, "reclaim-lock-cache");
    if (!shrinker)
        return -ENOMEM;
    shrinker->count_objects = cache_count;
    shrinker->scan_objects = cache_scan;
    shrinker_register(shrinker);

    mutex_lock(&cache_lock);
    for (i = 0; i < 64; i++) {
        struct entry *e = kmalloc(sizeof(*e), GFP_KERNEL); /* may recurse into the shrinker */
        if (!e)
            break;
        list_add(&e->node, &entries);
        nr_entries++;
    }
    mutex_unlock(&cache_lock);

    /* Memory pressure until reclaim has called the shrinker. */
    while (!scanned && n < 4096) {
        pressure[n] = alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 3);
        if (!pressure[n])
            break;
        n++;
    }
    for (i = 0; i < n; i++)
        __free_pages(pressure[i], 3);
    pr_info("reclaim_lock: shrinker %s after %d blocks\n", scanned ? "called" : "not called", n);
    return 0;
}

static void __exit reclaim_lock_exit(void) {
    struct entry *e, *next;

    shrinker_free(shrinker);
    list_for_each_entry_safe(e, next, &entries, node) {
        list_del(&e->node);
        kfree(e);
    }
}

module_init(reclaim_lock_init);
module_exit(reclaim_lock_exit);
MODULE_LICENSE("GPL");
