/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/list_lru.h - per-node lists of reclaimable objects for shrinkers (Linux
 * 6.12 include/linux/list_lru.h, mm/list_lru.c).
 *
 * One list per node, each under its own spinlock_t (a kernel-face lock: the checker sees it,
 * and an isolate callback runs in atomic context, as in the kernel). An object's node is
 * the node of the memory it lives in. Not modelled: per-memcg lists (a memcg-aware lru
 * keeps one list per node like any other, and `memcg` arguments are ignored).
 */
#ifndef GFPLAB_LINUX_LIST_LRU_H
#define GFPLAB_LINUX_LIST_LRU_H

#include <gfplab/linux/compiler.h>
#include <gfplab/linux/list.h>
#include <gfplab/linux/shrinker.h>
#include <gfplab/linux/spinlock.h>

#include <stdbool.h>

struct mem_cgroup;

/* What an isolate callback did with the item it was given. */
enum lru_status {
    LRU_REMOVED,       /* isolated (list_lru_isolate()); the lock is still held */
    LRU_REMOVED_RETRY, /* isolated, but the lock was dropped: the walk starts over */
    LRU_ROTATE,        /* referenced: moved to the tail */
    LRU_SKIP,          /* left where it is */
    LRU_RETRY,         /* not isolated, and the lock was dropped: the walk starts over */
    LRU_STOP,          /* the walk ends here; the lock is still held */
};

struct list_lru_one {
    struct list_head list;
    long nr_items;
};

struct list_lru_node {
    spinlock_t lock;
    struct list_lru_one lru;
};

struct list_lru {
    struct list_lru_node *node; /* one per node of the System */
    int nr_nodes;
};

typedef enum lru_status (*list_lru_walk_cb)(struct list_head *item, struct list_lru_one *list,
                                            spinlock_t *lock, void *cb_arg);

GFPLAB_EXTERN_C_BEGIN
int __gfplab_list_lru_init(struct list_lru *lru, struct shrinker *shrinker);
void list_lru_destroy(struct list_lru *lru);
bool list_lru_add(struct list_lru *lru, struct list_head *item, int nid, struct mem_cgroup *memcg);
bool list_lru_add_obj(struct list_lru *lru, struct list_head *item);
bool list_lru_del(struct list_lru *lru, struct list_head *item, int nid, struct mem_cgroup *memcg);
bool list_lru_del_obj(struct list_lru *lru, struct list_head *item);
unsigned long list_lru_count_one(struct list_lru *lru, int nid, struct mem_cgroup *memcg);
unsigned long list_lru_count_node(struct list_lru *lru, int nid);
void list_lru_isolate(struct list_lru_one *list, struct list_head *item);
void list_lru_isolate_move(struct list_lru_one *list, struct list_head *item,
                           struct list_head *head);
unsigned long list_lru_walk_one(struct list_lru *lru, int nid, struct mem_cgroup *memcg,
                                list_lru_walk_cb isolate, void *cb_arg, unsigned long *nr_to_walk);
unsigned long list_lru_walk_node(struct list_lru *lru, int nid, list_lru_walk_cb isolate,
                                 void *cb_arg, unsigned long *nr_to_walk);
GFPLAB_EXTERN_C_END

#define list_lru_init(lru)                 __gfplab_list_lru_init((lru), 0)
#define list_lru_init_memcg(lru, shrinker) __gfplab_list_lru_init((lru), (shrinker))

static inline unsigned long list_lru_shrink_count(struct list_lru *lru, struct shrink_control *sc) {
    return list_lru_count_one(lru, sc->nid, (struct mem_cgroup *)sc->memcg);
}

static inline unsigned long list_lru_count(struct list_lru *lru) {
    unsigned long count = 0;
    int nid;
    for (nid = 0; nid < lru->nr_nodes; nid++)
        count += list_lru_count_node(lru, nid);
    return count;
}

static inline unsigned long list_lru_shrink_walk(struct list_lru *lru, struct shrink_control *sc,
                                                 list_lru_walk_cb isolate, void *cb_arg) {
    return list_lru_walk_one(lru, sc->nid, (struct mem_cgroup *)sc->memcg, isolate, cb_arg,
                             &sc->nr_to_scan);
}

static inline unsigned long list_lru_walk(struct list_lru *lru, list_lru_walk_cb isolate,
                                          void *cb_arg, unsigned long nr_to_walk) {
    unsigned long isolated = 0;
    int nid;
    for (nid = 0; nid < lru->nr_nodes && nr_to_walk > 0; nid++)
        isolated += list_lru_walk_node(lru, nid, isolate, cb_arg, &nr_to_walk);
    return isolated;
}

#endif /* GFPLAB_LINUX_LIST_LRU_H */
