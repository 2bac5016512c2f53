// SPDX-License-Identifier: MIT
//
// list_lru for kernel code (linux/list_lru.h; 6.12 mm/list_lru.c without memcg lists): a
// list per node under a kernel-face spinlock, walked with the caller's isolate callback.
#include "default_system.hpp"

#include <gfplab/linux/list_lru.h>
#include <gfplab/linux/slab.h>
#include <gfplab/system.hpp>

namespace {

using gfplab::System;

// The node of the memory the item lives in (6.12: page_to_nid(virt_to_page(item))); an
// item outside the System's memory (a module's static) counts as node 0.
int node_of(const void *item) {
    System &s = gfplab::current_default_system();
    if (const gfplab::page *p = s.virt_to_page(item))
        return p->node;
    return 0;
}

list_lru_node *node_at(list_lru *lru, int nid) {
    return nid >= 0 && nid < lru->nr_nodes ? &lru->node[nid] : nullptr;
}

} // namespace

extern "C" {

int __gfplab_list_lru_init(struct list_lru *lru, struct shrinker *) {
    const int nodes = gfplab::current_default_system().nr_nodes();
    lru->node = static_cast<list_lru_node *>(
        kcalloc(std::size_t(nodes), sizeof(list_lru_node), GFP_KERNEL));
    if (!lru->node)
        return -12; // -ENOMEM
    lru->nr_nodes = nodes;
    for (int i = 0; i < nodes; i++) {
        spin_lock_init(&lru->node[i].lock);
        INIT_LIST_HEAD(&lru->node[i].lru.list);
    }
    return 0;
}

void list_lru_destroy(struct list_lru *lru) {
    kfree(lru->node);
    lru->node = nullptr;
    lru->nr_nodes = 0;
}

bool list_lru_add(struct list_lru *lru, struct list_head *item, int nid, struct mem_cgroup *) {
    list_lru_node *n = node_at(lru, nid);
    if (!n)
        return false;
    spin_lock(&n->lock);
    const bool added = list_empty(item);
    if (added) {
        list_add_tail(item, &n->lru.list);
        n->lru.nr_items++;
    }
    spin_unlock(&n->lock);
    return added;
}

bool list_lru_add_obj(struct list_lru *lru, struct list_head *item) {
    return list_lru_add(lru, item, node_of(item), nullptr);
}

bool list_lru_del(struct list_lru *lru, struct list_head *item, int nid, struct mem_cgroup *) {
    list_lru_node *n = node_at(lru, nid);
    if (!n)
        return false;
    spin_lock(&n->lock);
    const bool removed = !list_empty(item);
    if (removed) {
        list_del_init(item);
        n->lru.nr_items--;
    }
    spin_unlock(&n->lock);
    return removed;
}

bool list_lru_del_obj(struct list_lru *lru, struct list_head *item) {
    return list_lru_del(lru, item, node_of(item), nullptr);
}

unsigned long list_lru_count_one(struct list_lru *lru, int nid, struct mem_cgroup *) {
    const list_lru_node *n = node_at(lru, nid);
    // Read without the lock, as 6.12 does: a count is a hint for the shrinker.
    const long v = n ? __atomic_load_n(&n->lru.nr_items, __ATOMIC_RELAXED) : 0;
    return v > 0 ? static_cast<unsigned long>(v) : 0;
}

unsigned long list_lru_count_node(struct list_lru *lru, int nid) {
    return list_lru_count_one(lru, nid, nullptr);
}

void list_lru_isolate(struct list_lru_one *list, struct list_head *item) {
    list_del_init(item);
    list->nr_items--;
}

void list_lru_isolate_move(struct list_lru_one *list, struct list_head *item,
                           struct list_head *head) {
    list_move(item, head);
    list->nr_items--;
}

unsigned long list_lru_walk_one(struct list_lru *lru, int nid, struct mem_cgroup *,
                                list_lru_walk_cb isolate, void *cb_arg, unsigned long *nr_to_walk) {
    list_lru_node *n = node_at(lru, nid);
    if (!n)
        return 0;
    unsigned long isolated = 0;
    spin_lock(&n->lock);
restart:
    for (list_head *item = n->lru.list.next, *next = item->next; item != &n->lru.list;
         item = next, next = item->next) {
        // Every item looked at counts, whatever the callback decides (6.12 __list_lru_walk_one).
        if (*nr_to_walk == 0)
            break;
        --*nr_to_walk;
        switch (isolate(item, &n->lru, &n->lock, cb_arg)) {
        case LRU_REMOVED_RETRY:
            isolated++;
            goto restart; // the callback dropped and retook the lock: the list may have moved
        case LRU_REMOVED:
            isolated++;
            break;
        case LRU_ROTATE:
            list_move_tail(item, &n->lru.list);
            break;
        case LRU_SKIP:
            break;
        case LRU_RETRY:
            goto restart;
        case LRU_STOP:
            goto out;
        }
    }
out:
    spin_unlock(&n->lock);
    return isolated;
}

unsigned long list_lru_walk_node(struct list_lru *lru, int nid, list_lru_walk_cb isolate,
                                 void *cb_arg, unsigned long *nr_to_walk) {
    return list_lru_walk_one(lru, nid, nullptr, isolate, cb_arg, nr_to_walk);
}

} // extern "C"
