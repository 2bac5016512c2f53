/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/list.h - intrusive circular doubly linked lists and hash lists (Linux 6.12
 * include/linux/list.h).
 *
 * A list is a struct list_head that heads a ring of list_heads embedded in the objects on
 * the list; an empty list points at itself. Nothing here allocates or locks: the caller
 * serialises changes to one list.
 */
#ifndef GFPLAB_LINUX_LIST_H
#define GFPLAB_LINUX_LIST_H

#include <gfplab/linux/container_of.h>
#include <gfplab/linux/types.h>

/*
 * list_del() and hlist_del() leave these in the removed node, so a use after removal
 * faults on an address in the never-mapped first page instead of walking a stale list. The
 * values are the kernel's without its POISON_POINTER_DELTA, which is 0 in user space.
 */
#ifndef LIST_POISON1
#define LIST_POISON1 ((void *)0x100)
#endif
#ifndef LIST_POISON2
#define LIST_POISON2 ((void *)0x122)
#endif

/*
 * list_empty() and hlist_empty() are allowed to peek without the list's lock. The stores
 * they can race with are made single volatile stores (the kernel's WRITE_ONCE) and the
 * peeks single volatile loads, so the compiler neither tears nor re-reads them.
 */
#define __GFPLAB_LIST_STORE(field, value) (*(__typeof__(field) volatile *)&(field) = (value))
#define __GFPLAB_LIST_LOAD(field)         (*(__typeof__(field) const volatile *)&(field))

#define LIST_HEAD_INIT(name)                                                                       \
    { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *list) {
    __GFPLAB_LIST_STORE(list->next, list);
    list->prev = list;
}

/* Links entry in between prev and next, which are adjacent. */
static inline void __list_add(struct list_head *entry, struct list_head *prev,
                              struct list_head *next) {
    next->prev = entry;
    entry->next = next;
    entry->prev = prev;
    __GFPLAB_LIST_STORE(prev->next, entry);
}

/* Adds entry right after head: a stack when used alone. */
static inline void list_add(struct list_head *entry, struct list_head *head) {
    __list_add(entry, head, head->next);
}

/* Adds entry right before head, i.e. at the end: a queue. */
static inline void list_add_tail(struct list_head *entry, struct list_head *head) {
    __list_add(entry, head->prev, head);
}

/* Makes prev and next neighbours, dropping whatever was between them. */
static inline void __list_del(struct list_head *prev, struct list_head *next) {
    next->prev = prev;
    __GFPLAB_LIST_STORE(prev->next, next);
}

/* Unlinks entry and leaves its own pointers as they were. */
static inline void __list_del_entry(struct list_head *entry) {
    __list_del(entry->prev, entry->next);
}

static inline void list_del(struct list_head *entry) {
    __list_del_entry(entry);
    entry->next = (struct list_head *)LIST_POISON1;
    entry->prev = (struct list_head *)LIST_POISON2;
}

/* Unlinks entry and makes it an empty list, so list_empty(entry) tells it is off-list. */
static inline void list_del_init(struct list_head *entry) {
    __list_del_entry(entry);
    INIT_LIST_HEAD(entry);
}

/* entry takes old's place; old's own pointers are left stale. */
static inline void list_replace(struct list_head *old, struct list_head *entry) {
    entry->next = old->next;
    entry->next->prev = entry;
    entry->prev = old->prev;
    entry->prev->next = entry;
}

static inline void list_replace_init(struct list_head *old, struct list_head *entry) {
    list_replace(old, entry);
    INIT_LIST_HEAD(old);
}

/* Takes list off its list and puts it first on head's. */
static inline void list_move(struct list_head *list, struct list_head *head) {
    __list_del_entry(list);
    list_add(list, head);
}

/* Takes list off its list and puts it last on head's. */
static inline void list_move_tail(struct list_head *list, struct list_head *head) {
    __list_del_entry(list);
    list_add_tail(list, head);
}

static inline int list_is_head(const struct list_head *list, const struct list_head *head) {
    return list == head;
}

static inline int list_is_first(const struct list_head *list, const struct list_head *head) {
    return list->prev == head;
}

static inline int list_is_last(const struct list_head *list, const struct list_head *head) {
    return list->next == head;
}

static inline int list_empty(const struct list_head *head) {
    return __GFPLAB_LIST_LOAD(head->next) == head;
}

/* Exactly one entry. */
static inline int list_is_singular(const struct list_head *head) {
    return !list_empty(head) && head->next == head->prev;
}

/* Links all of list's entries in between prev and next; list itself is left stale. */
static inline void __list_splice(const struct list_head *list, struct list_head *prev,
                                 struct list_head *next) {
    struct list_head *first = list->next;
    struct list_head *last = list->prev;

    first->prev = prev;
    prev->next = first;
    last->next = next;
    next->prev = last;
}

/* list's entries go to the front of head, in their order; list is left stale. */
static inline void list_splice(const struct list_head *list, struct list_head *head) {
    if (!list_empty(list))
        __list_splice(list, head, head->next);
}

/* list's entries go to the end of head, in their order; list is left stale. */
static inline void list_splice_tail(const struct list_head *list, struct list_head *head) {
    if (!list_empty(list))
        __list_splice(list, head->prev, head);
}

/* As list_splice(), and list is then empty and usable again. */
static inline void list_splice_init(struct list_head *list, struct list_head *head) {
    if (!list_empty(list)) {
        __list_splice(list, head, head->next);
        INIT_LIST_HEAD(list);
    }
}

/* As list_splice_tail(), and list is then empty and usable again. */
static inline void list_splice_tail_init(struct list_head *list, struct list_head *head) {
    if (!list_empty(list)) {
        __list_splice(list, head->prev, head);
        INIT_LIST_HEAD(list);
    }
}

/* Walks the whole list: O(n), for checks and statistics rather than hot paths. */
static inline size_t list_count_nodes(const struct list_head *head) {
    size_t n = 0;
    const struct list_head *pos;

    for (pos = head->next; pos != head; pos = pos->next)
        n++;
    return n;
}

#define list_entry(ptr, type, member)       container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) list_entry((ptr)->next, type, member)
#define list_last_entry(ptr, type, member)  list_entry((ptr)->prev, type, member)

/* NULL for an empty list; head->next is read once, so this too may peek without the lock. */
#define list_first_entry_or_null(ptr, type, member)                                                \
    ({                                                                                             \
        struct list_head *__gfplab_lh = (ptr);                                                     \
        struct list_head *__gfplab_lf = __GFPLAB_LIST_LOAD(__gfplab_lh->next);                     \
        __gfplab_lf != __gfplab_lh ? list_entry(__gfplab_lf, type, member) : NULL;                 \
    })

#define list_next_entry(pos, member) list_entry((pos)->member.next, __typeof__(*(pos)), member)
#define list_prev_entry(pos, member) list_entry((pos)->member.prev, __typeof__(*(pos)), member)

/* Whether an entry cursor has come round to the head (which is no entry at all). */
#define list_entry_is_head(pos, head, member) (&(pos)->member == (head))

/* The loops below must not have the current entry removed under them, except the _safe
 * ones, which fetch the next entry before the body runs. */
#define list_for_each(pos, head)                                                                   \
    for (pos = (head)->next; !list_is_head(pos, (head)); pos = pos->next)

#define list_for_each_prev(pos, head)                                                              \
    for (pos = (head)->prev; !list_is_head(pos, (head)); pos = pos->prev)

#define list_for_each_safe(pos, n, head)                                                           \
    for (pos = (head)->next, n = pos->next; !list_is_head(pos, (head)); pos = n, n = pos->next)

#define list_for_each_entry(pos, head, member)                                                     \
    for (pos = list_first_entry(head, __typeof__(*(pos)), member);                                 \
         !list_entry_is_head(pos, head, member); pos = list_next_entry(pos, member))

#define list_for_each_entry_reverse(pos, head, member)                                             \
    for (pos = list_last_entry(head, __typeof__(*(pos)), member);                                  \
         !list_entry_is_head(pos, head, member); pos = list_prev_entry(pos, member))

#define list_for_each_entry_safe(pos, n, head, member)                                             \
    for (pos = list_first_entry(head, __typeof__(*(pos)), member),                                 \
        n = list_next_entry(pos, member);                                                          \
         !list_entry_is_head(pos, head, member); pos = n, n = list_next_entry(n, member))

/* Hash lists: NULL-terminated, with a one-pointer head (see struct hlist_node). */

#define HLIST_HEAD_INIT                                                                            \
    { .first = NULL }
#define HLIST_HEAD(name)     struct hlist_head name = HLIST_HEAD_INIT
#define INIT_HLIST_HEAD(ptr) ((ptr)->first = NULL)

static inline void INIT_HLIST_NODE(struct hlist_node *node) {
    node->next = NULL;
    node->pprev = NULL;
}

/* A node on no hash list: never added, or taken off with hlist_del_init(). */
static inline int hlist_unhashed(const struct hlist_node *node) {
    return !node->pprev;
}

static inline int hlist_empty(const struct hlist_head *head) {
    return !__GFPLAB_LIST_LOAD(head->first);
}

/* Unlinks node through whatever points at it; node's own pointers are left as they were. */
static inline void __hlist_del(struct hlist_node *node) {
    struct hlist_node *next = node->next;
    struct hlist_node **pprev = node->pprev;

    __GFPLAB_LIST_STORE(*pprev, next);
    if (next)
        next->pprev = pprev;
}

static inline void hlist_del(struct hlist_node *node) {
    __hlist_del(node);
    node->next = (struct hlist_node *)LIST_POISON1;
    node->pprev = (struct hlist_node **)LIST_POISON2;
}

/* Unlinks node if it is on a list, and marks it unhashed either way. */
static inline void hlist_del_init(struct hlist_node *node) {
    if (!hlist_unhashed(node)) {
        __hlist_del(node);
        INIT_HLIST_NODE(node);
    }
}

/* Adds node at the front of head's chain. */
static inline void hlist_add_head(struct hlist_node *node, struct hlist_head *head) {
    struct hlist_node *first = head->first;

    node->next = first;
    if (first)
        first->pprev = &node->next;
    __GFPLAB_LIST_STORE(head->first, node);
    node->pprev = &head->first;
}

#define hlist_entry(ptr, type, member) container_of(ptr, type, member)

/* hlist_entry() that maps the chain's terminating NULL to NULL; ptr is evaluated once. */
#define hlist_entry_safe(ptr, type, member)                                                        \
    ({                                                                                             \
        __typeof__(ptr) __gfplab_hn = (ptr);                                                       \
        __gfplab_hn ? hlist_entry(__gfplab_hn, type, member) : NULL;                               \
    })

#define hlist_for_each(pos, head) for (pos = (head)->first; pos; pos = pos->next)

#define hlist_for_each_entry(pos, head, member)                                                    \
    for (pos = hlist_entry_safe((head)->first, __typeof__(*(pos)), member); pos;                   \
         pos = hlist_entry_safe((pos)->member.next, __typeof__(*(pos)), member))

/* n (a struct hlist_node *) holds the next node, so the body may delete pos. */
#define hlist_for_each_entry_safe(pos, n, head, member)                                            \
    for (pos = hlist_entry_safe((head)->first, __typeof__(*(pos)), member),                        \
        n = pos ? (pos)->member.next : NULL;                                                       \
         pos; pos = hlist_entry_safe(n, __typeof__(*(pos)), member),                               \
        n = pos ? (pos)->member.next : NULL)

#endif /* GFPLAB_LINUX_LIST_H */
