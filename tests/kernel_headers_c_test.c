/* SPDX-License-Identifier: MIT */
/*
 * The kernel-style support headers used from C as kernel code uses them: types.h, errno.h,
 * err.h, string.h, list.h and kernel.h. Header-only: no library call is made.
 */
#include <gfplab/linux/types.h>
#include <gfplab/workload.h>

#include <gfplab/linux/err.h>
#include <gfplab/linux/errno.h>
#include <gfplab/linux/kernel.h>
#include <gfplab/linux/list.h>
#include <gfplab/linux/string.h>

#include <gfplab/linux/gfp_types.h> /* after types.h: both define gfp_t */

#include "support/check.h"

struct item {
    int value;
    struct list_head node;
};

struct hitem {
    int key;
    struct hlist_node hnode;
};

/* Both are integer constant expressions, usable at file scope. */
static const int table[] = {1, 2, 3};
_Static_assert(ARRAY_SIZE(table) == 3, "ARRAY_SIZE is a constant");
_Static_assert(GENMASK(7, 4) == 0xf0, "GENMASK is a constant");

/* Compares a list's values, walked front to back and back to front, with want[0..n). */
static int list_is(struct list_head *head, const int *want, size_t n) {
    struct item *it;
    size_t i = 0;

    list_for_each_entry(it, head, node) {
        if (i >= n || it->value != want[i])
            return 0;
        i++;
    }
    if (i != n || list_count_nodes(head) != n)
        return 0;
    list_for_each_entry_reverse(it, head, node) {
        if (i == 0 || it->value != want[--i])
            return 0;
    }
    return i == 0;
}

static void init_items(struct item *items, int n) {
    for (int i = 0; i < n; i++) {
        items[i].value = i;
        INIT_LIST_HEAD(&items[i].node);
    }
}

static void test_types(void) {
    CHECK(sizeof(u8) == 1 && sizeof(s8) == 1 && sizeof(__u8) == 1 && sizeof(__s8) == 1);
    CHECK(sizeof(u16) == 2 && sizeof(s16) == 2 && sizeof(__u16) == 2 && sizeof(__s16) == 2);
    CHECK(sizeof(u32) == 4 && sizeof(s32) == 4 && sizeof(__u32) == 4 && sizeof(__s32) == 4);
    CHECK(sizeof(u64) == 8 && sizeof(s64) == 8 && sizeof(__u64) == 8 && sizeof(__s64) == 8);
    CHECK((s8)-1 < 0 && (u8)-1 == 255);
    CHECK(sizeof(phys_addr_t) == 8 && sizeof(dma_addr_t) == 8);
    CHECK(sizeof(ssize_t) == sizeof(size_t));
    gfp_t gfp = __GFP_IO | __GFP_FS;
    CHECK(gfp == (___GFP_IO | ___GFP_FS));
    atomic_t a = {5};
    atomic64_t b = {-(1LL << 40)};
    CHECK(a.counter == 5 && b.counter == -(1LL << 40));
    struct rcu_head rh = {NULL, NULL};
    CHECK(rh.next == NULL);
    bool t = true;
    CHECK(t && !false);
    char buf[32];
    u64 big = 1ULL << 40;
    snprintf(buf, sizeof(buf), "%llu", big); /* -Wformat agrees: u64 is long long */
    CHECK(strcmp(buf, "1099511627776") == 0);
}

static void test_list_add_del(void) {
    LIST_HEAD(head);
    struct item items[5];
    init_items(items, 5);

    CHECK(list_empty(&head));
    CHECK(list_first_entry_or_null(&head, struct item, node) == NULL);
    CHECK(list_count_nodes(&head) == 0);

    for (int i = 0; i < 3; i++)
        list_add_tail(&items[i].node, &head);
    CHECK(list_is(&head, (const int[]){0, 1, 2}, 3));
    list_add(&items[3].node, &head);
    CHECK(list_is(&head, (const int[]){3, 0, 1, 2}, 4));
    CHECK(list_first_entry(&head, struct item, node) == &items[3]);
    CHECK(list_last_entry(&head, struct item, node) == &items[2]);
    CHECK(list_first_entry_or_null(&head, struct item, node) == &items[3]);
    CHECK(list_next_entry(&items[3], node) == &items[0]);
    CHECK(list_prev_entry(&items[0], node) == &items[3]);
    CHECK(list_is_first(&items[3].node, &head) && !list_is_first(&items[0].node, &head));
    CHECK(list_is_last(&items[2].node, &head) && !list_is_last(&items[1].node, &head));
    CHECK(!list_is_singular(&head));

    /* list_del leaves the poison values behind. */
    list_del(&items[0].node);
    CHECK(list_is(&head, (const int[]){3, 1, 2}, 3));
    CHECK(items[0].node.next == LIST_POISON1 && items[0].node.prev == LIST_POISON2);
    CHECK(LIST_POISON1 != NULL && LIST_POISON2 != NULL && LIST_POISON1 != LIST_POISON2);

    list_del_init(&items[1].node);
    CHECK(list_empty(&items[1].node));
    CHECK(list_is(&head, (const int[]){3, 2}, 2));

    /* items[4] takes items[3]'s place. */
    list_replace(&items[3].node, &items[4].node);
    CHECK(list_is(&head, (const int[]){4, 2}, 2));
    list_replace_init(&items[4].node, &items[3].node);
    CHECK(list_empty(&items[4].node));
    CHECK(list_is(&head, (const int[]){3, 2}, 2));

    list_del(&items[3].node);
    CHECK(list_is_singular(&head));
    list_del(&items[2].node);
    CHECK(list_empty(&head) && !list_is_singular(&head));
}

static void test_list_move_splice(void) {
    LIST_HEAD(a);
    LIST_HEAD(b);
    struct item items[6];
    init_items(items, 6);

    for (int i = 0; i < 3; i++)
        list_add_tail(&items[i].node, &a);
    for (int i = 3; i < 6; i++)
        list_add_tail(&items[i].node, &b);

    list_move(&items[2].node, &a); /* within a list: to the front */
    CHECK(list_is(&a, (const int[]){2, 0, 1}, 3));
    list_move_tail(&items[2].node, &a);
    CHECK(list_is(&a, (const int[]){0, 1, 2}, 3));
    list_move(&items[4].node, &a); /* across lists */
    CHECK(list_is(&a, (const int[]){4, 0, 1, 2}, 4));
    CHECK(list_is(&b, (const int[]){3, 5}, 2));
    list_move_tail(&items[4].node, &b);
    CHECK(list_is(&a, (const int[]){0, 1, 2}, 3));
    CHECK(list_is(&b, (const int[]){3, 5, 4}, 3));

    list_splice_init(&b, &a);
    CHECK(list_is(&a, (const int[]){3, 5, 4, 0, 1, 2}, 6));
    CHECK(list_empty(&b));

    /* Splicing an empty list changes nothing. */
    list_splice(&b, &a);
    list_splice_tail(&b, &a);
    CHECK(list_is(&a, (const int[]){3, 5, 4, 0, 1, 2}, 6));

    list_move_tail(&items[3].node, &b);
    list_move_tail(&items[5].node, &b);
    list_splice_tail_init(&b, &a);
    CHECK(list_is(&a, (const int[]){4, 0, 1, 2, 3, 5}, 6));
    CHECK(list_empty(&b));

    /* The non-_init forms leave the source stale: re-initialise it before reuse. */
    list_move_tail(&items[4].node, &b);
    list_move_tail(&items[0].node, &b);
    list_splice(&b, &a);
    INIT_LIST_HEAD(&b);
    CHECK(list_is(&a, (const int[]){4, 0, 1, 2, 3, 5}, 6));
    list_move_tail(&items[1].node, &b);
    list_move_tail(&items[2].node, &b);
    list_splice_tail(&b, &a);
    INIT_LIST_HEAD(&b);
    CHECK(list_is(&a, (const int[]){4, 0, 3, 5, 1, 2}, 6));
    CHECK(list_empty(&b));
}

static void test_list_walks(void) {
    LIST_HEAD(head);
    struct item items[6];
    init_items(items, 6);
    for (int i = 0; i < 6; i++)
        list_add_tail(&items[i].node, &head);

    /* Deleting the current entry is what the _safe walk allows. */
    struct item *it, *next;
    int seen = 0;
    list_for_each_entry_safe(it, next, &head, node) {
        seen++;
        if (it->value % 2 == 0)
            list_del(&it->node);
    }
    CHECK(seen == 6);
    CHECK(list_is(&head, (const int[]){1, 3, 5}, 3));

    struct list_head *pos, *n;
    int sum = 0;
    list_for_each(pos, &head) sum += list_entry(pos, struct item, node)->value;
    CHECK(sum == 9);
    int order = 0;
    list_for_each_prev(pos, &head) order = order * 10 + list_entry(pos, struct item, node)->value;
    CHECK(order == 531);
    list_for_each_safe(pos, n, &head) list_del_init(pos);
    CHECK(list_empty(&head));
    CHECK(list_empty(&items[1].node) && list_empty(&items[5].node));

    /* Walking an empty list runs no body. */
    seen = 0;
    list_for_each_entry(it, &head, node) seen++;
    list_for_each_entry_safe(it, next, &head, node) seen++;
    CHECK(seen == 0);
}

static void test_hlist(void) {
    struct hlist_head head;
    struct hitem items[4];
    struct hitem *pos, *found;
    struct hlist_node *tmp;
    INIT_HLIST_HEAD(&head);
    CHECK(hlist_empty(&head));

    for (int i = 0; i < 4; i++) {
        items[i].key = i;
        INIT_HLIST_NODE(&items[i].hnode);
        CHECK(hlist_unhashed(&items[i].hnode));
    }
    for (int i = 0; i < 3; i++)
        hlist_add_head(&items[i].hnode, &head);
    CHECK(!hlist_empty(&head) && !hlist_unhashed(&items[1].hnode));

    int order = 0;
    hlist_for_each_entry(pos, &head, hnode) order = order * 10 + pos->key + 1;
    CHECK(order == 321); /* newest first */

    /* The middle node, then the first, then the last. */
    hlist_del(&items[1].hnode);
    CHECK(items[1].hnode.next == LIST_POISON1);
    CHECK((void *)items[1].hnode.pprev == LIST_POISON2);
    order = 0;
    hlist_for_each_entry(pos, &head, hnode) order = order * 10 + pos->key + 1;
    CHECK(order == 31);
    hlist_del_init(&items[2].hnode);
    CHECK(hlist_unhashed(&items[2].hnode));
    hlist_del_init(&items[2].hnode); /* unhashed: nothing to do */
    CHECK(hlist_entry(head.first, struct hitem, hnode) == &items[0]);
    CHECK(items[0].hnode.pprev == &head.first);

    hlist_add_head(&items[3].hnode, &head);
    hlist_add_head(&items[2].hnode, &head);
    struct hlist_node *node;
    int count = 0;
    hlist_for_each(node, &head) count++;
    CHECK(count == 3);

    found = NULL;
    hlist_for_each_entry(pos, &head, hnode) {
        if (pos->key == 3)
            found = pos;
    }
    CHECK(found == &items[3]);

    count = 0;
    hlist_for_each_entry_safe(pos, tmp, &head, hnode) {
        hlist_del_init(&pos->hnode);
        count++;
    }
    CHECK(count == 3 && hlist_empty(&head));
    CHECK(hlist_unhashed(&items[0].hnode) && hlist_unhashed(&items[3].hnode));
    hlist_for_each_entry_safe(pos, tmp, &head, hnode) count++;
    CHECK(count == 3);
}

static void test_err(void) {
    int x = 0;
    void *p = ERR_PTR(-1);
    CHECK(IS_ERR(p) && IS_ERR_OR_NULL(p) && PTR_ERR(p) == -1);
    p = ERR_PTR(-MAX_ERRNO);
    CHECK(MAX_ERRNO == 4095);
    CHECK(IS_ERR(p) && PTR_ERR(p) == -4095 && PTR_ERR_OR_ZERO(p) == -4095);
    p = ERR_PTR(-ENOMEM);
    CHECK(IS_ERR(p) && PTR_ERR(p) == -ENOMEM && PTR_ERR_OR_ZERO(p) == -ENOMEM);
    CHECK(!IS_ERR(ERR_PTR(-MAX_ERRNO - 1))); /* just outside the reserved range */
    CHECK(!IS_ERR(&x) && !IS_ERR_OR_NULL(&x) && PTR_ERR_OR_ZERO(&x) == 0);
    CHECK(!IS_ERR(NULL) && IS_ERR_OR_NULL(NULL) && PTR_ERR_OR_ZERO(NULL) == 0);
    const struct item *cp = ERR_PTR(-EINVAL);
    struct hitem *hp = ERR_CAST(cp);
    CHECK(IS_ERR(hp) && PTR_ERR(hp) == -EINVAL);
    int ret = -EINVAL;
    unsigned long uret = (unsigned long)-EIO;
    CHECK(IS_ERR_VALUE(ret) && IS_ERR_VALUE(uret) && !IS_ERR_VALUE(0) && !IS_ERR_VALUE(4095));
}

static void test_errno(void) {
    CHECK(EPERM == 1 && ENOMEM == 12 && EINVAL == 22 && E2BIG == 7 && ERANGE == 34);
    CHECK(ERESTARTSYS == 512 && ERESTARTNOINTR == 513 && EPROBE_DEFER == 517);
    CHECK(ENOTSUPP == 524 && ENOTSUPP != EOPNOTSUPP && EIOCBQUEUED == 529);
}

static void test_string(void) {
    char buf[8];

    memset(buf, 'x', sizeof(buf));
    CHECK(strscpy(buf, "abc", 4) == 3 && strcmp(buf, "abc") == 0);
    CHECK(buf[4] == 'x'); /* nothing beyond the terminator is touched */
    CHECK(strscpy(buf, "abcdefg", sizeof(buf)) == 7 && strcmp(buf, "abcdefg") == 0);
    CHECK(strscpy(buf, "abcdefgh", sizeof(buf)) == -E2BIG && strcmp(buf, "abcdefg") == 0);
    CHECK(strscpy(buf, "abcd", 3) == -E2BIG && strcmp(buf, "ab") == 0);
    CHECK(strscpy(buf, "", 1) == 0 && buf[0] == '\0');
    CHECK(strscpy(buf, "z", 1) == -E2BIG && buf[0] == '\0');
    buf[0] = 'q';
    CHECK(strscpy(buf, "abc", 0) == -E2BIG && buf[0] == 'q'); /* size 0: no write at all */

    /* The two-argument form takes the array's size. */
    CHECK(strscpy(buf, "hello") == 5 && strcmp(buf, "hello") == 0);
    CHECK(strscpy(buf, "too long for it") == -E2BIG && strcmp(buf, "too lon") == 0);

    memzero_explicit(buf, sizeof(buf));
    int zero = 1;
    for (size_t i = 0; i < sizeof(buf); i++)
        zero &= buf[i] == 0;
    CHECK(zero);
}

static int calls;
static int counted(int v) {
    calls++;
    return v;
}

static void test_minmax(void) {
    int a = -5, b = 3;
    unsigned int u = 7;
    long l = -10;
    u8 c = 200;
    CHECK(min(a, b) == -5 && max(a, b) == 3);
    CHECK(min(a, l) == -10 && max(a, l) == -5);    /* mixed widths, same signedness */
    CHECK(min(u, 10) == 7 && max(u, 10) == 10);    /* a non-negative constant meets unsigned */
    CHECK(min(c, 100) == 100 && max(c, a) == 200); /* u8 promotes to int */
    CHECK(min(min(a, b), 0) == -5 && max(max(a, b), max(10, 2)) == 10);
    CHECK(min_t(int, u, a) == -5 && max_t(unsigned int, u, 3) == 7);
    CHECK(min_t(u8, 300, 50) == 44); /* both cut to u8 first: 300 is 44 */

    calls = 0;
    CHECK(min(counted(4), counted(2)) == 2 && calls == 2); /* each argument once */
    calls = 0;
    CHECK(clamp(counted(20), 0, 10) == 10 && calls == 1);

    CHECK(clamp(a, 0, 10) == 0 && clamp(b, 0, 10) == 3 && clamp(42, 0, 10) == 10);
    CHECK(clamp(u, 0, 5) == 5);
    CHECK(clamp_t(int, u, -1, 6) == 6 && clamp_val(c, 10, 150) == 150);

    int x = 1, y = 2;
    swap(x, y);
    CHECK(x == 2 && y == 1);
    struct item p = {1, {NULL, NULL}}, q = {2, {NULL, NULL}};
    swap(p, q);
    CHECK(p.value == 2 && q.value == 1);
}

static void test_kernel_macros(void) {
    CHECK(DIV_ROUND_UP(0, 4) == 0 && DIV_ROUND_UP(1, 4) == 1 && DIV_ROUND_UP(8, 4) == 2);
    CHECK(DIV_ROUND_UP(9, 4) == 3);
    CHECK(round_up(0, 8) == 0 && round_up(1, 8) == 8 && round_up(8, 8) == 8);
    CHECK(round_up(4097UL, 4096) == 8192UL);
    CHECK(round_down(15, 8) == 8 && round_down(16, 8) == 16 && round_down(7, 8) == 0);
    CHECK(ALIGN(13, 4) == 16 && ALIGN(16, 4) == 16 && ALIGN_DOWN(13, 4) == 12);
    u64 big = (1ULL << 40) + 1;
    CHECK(ALIGN(big, 1ULL << 12) == (1ULL << 40) + 4096); /* mask in x's 64-bit type */
    CHECK(IS_ALIGNED(4096, 4096) && !IS_ALIGNED(4097, 4096) && IS_ALIGNED(0, 8));

    CHECK(BIT(0) == 1 && BIT(5) == 32 && BIT(63) == 0x8000000000000000UL);
    CHECK(BIT_ULL(40) == 0x10000000000ULL);
    CHECK(GENMASK(3, 0) == 0xf && GENMASK(7, 4) == 0xf0 && GENMASK(0, 0) == 1);
    CHECK(GENMASK(63, 0) == ~0UL && GENMASK(63, 63) == BIT(63));
    CHECK(GENMASK_ULL(39, 21) == 0x000000ffffe00000ULL);
    CHECK(BITS_PER_LONG == 64 && BITS_PER_TYPE(u32) == 32);

    CHECK(U8_MAX == 255 && S8_MAX == 127 && S8_MIN == -128);
    CHECK(U16_MAX == 65535 && S16_MIN == -32768);
    CHECK(U32_MAX == 4294967295U && S32_MAX == 2147483647 && S32_MIN == -2147483647 - 1);
    CHECK(U64_MAX == 18446744073709551615ULL && S64_MAX == 9223372036854775807LL);
    CHECK(S64_MIN == -S64_MAX - 1 && INT_MAX == S32_MAX && ULONG_MAX == U64_MAX);
    CHECK(PHYS_ADDR_MAX == U64_MAX);

    int arr[5];
    CHECK(ARRAY_SIZE(arr) == 5 && ARRAY_SIZE(table) == 3 && table[2] == 3);

    struct item it = {42, {NULL, NULL}};
    struct list_head *lh = &it.node;
    CHECK(container_of(lh, struct item, node) == &it);
    CHECK(container_of(&it.value, struct item, value) == &it);
    const struct list_head *clh = lh;
    CHECK(container_of(clh, struct item, node)->value == 42);
    void *vp = lh;
    CHECK(container_of(vp, struct item, node) == &it);

    int shared = 1;
    WRITE_ONCE(shared, 5);
    CHECK(READ_ONCE(shared) == 5);
    struct list_head *first = READ_ONCE(it.node.next);
    CHECK(first == NULL);
    barrier();
    cpu_relax();

    CHECK(likely(1) == 1 && unlikely(0) == 0 && likely(42) == 1);
}

static __printf(1, 2) __maybe_unused int fmt_check(const char *fmt, ...) {
    return fmt != NULL;
}

static __always_inline __must_check int always_two(void) {
    return 2;
}

/* The plugin ABI from C: a descriptor through the macro, draws through a host's stream. */
static int wl_op(struct gfplab_workload_ctx *ctx) {
    return (int)gfplab_workload_below(ctx, 10);
}
static const struct gfplab_workload_op wl_ops[] = {{.name = "op", .weight = 3, .run = wl_op}};
GFPLAB_WORKLOAD(.name = "c-test", .ops = wl_ops, .nr_ops = ARRAY_SIZE(wl_ops));

static unsigned long long wl_counter(struct gfplab_workload_ctx *ctx) {
    return ++*(unsigned long long *)ctx->host;
}

static void test_workload_abi(void) {
    unsigned long long n = 40;
    struct gfplab_workload_ctx ctx = {
        .worker = 0, .nr_workers = 1, .random = wl_counter, .host = &n};
    CHECK(gfplab_workload_entry.abi_version == GFPLAB_WORKLOAD_ABI_VERSION);
    CHECK(gfplab_workload_entry.nr_ops == 1 && gfplab_workload_entry.init == NULL);
    CHECK(gfplab_workload_entry.ops[0].run(&ctx) == 1); /* 41 % 10 */
    CHECK(gfplab_workload_chance(&ctx, 100) && !gfplab_workload_chance(&ctx, 0));
    CHECK(gfplab_workload_below(&ctx, 0) == 0);
    for (int i = 0; i < 64; i++) {
        gfp_t gfp = gfplab_workload_gfp(&ctx);
        CHECK(!(gfp & __GFP_NOFAIL) && (gfp & (__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)));
    }
}

int main(void) {
    test_workload_abi();
    test_types();
    test_list_add_del();
    test_list_move_splice();
    test_list_walks();
    test_hlist();
    test_err();
    test_errno();
    test_string();
    test_minmax();
    test_kernel_macros();
    CHECK(always_two() == 2);
    if (failures)
        fprintf(stderr, "kernel_headers_c_test: %d failures\n", failures);
    return failures ? 1 : 0;
}
