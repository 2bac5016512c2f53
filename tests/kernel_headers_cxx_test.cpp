// SPDX-License-Identifier: MIT
//
// The kernel-style support headers included from C++20: they must compile there without
// warnings, and a few of their macros must work (list walks, min/max, ERR_PTR). Standard
// C++ headers come first, as they must: libstdc++'s configuration header #undefs min and max.
#include <cstdio>

#include <gfplab/linux/err.h>
#include <gfplab/linux/errno.h>
#include <gfplab/linux/kernel.h>
#include <gfplab/linux/list.h>
#include <gfplab/linux/string.h>
#include <gfplab/linux/types.h>

namespace {

struct item {
    int value;
    struct list_head node;
};

int failures = 0;

void check(bool ok, int line) {
    if (!ok) {
        std::fprintf(stderr, "%s:%d: check failed\n", __FILE__, line);
        failures++;
    }
}

} // namespace

#define CHECK(cond) check(static_cast<bool>(cond), __LINE__)

int main() {
    LIST_HEAD(head);
    item items[4] = {};
    for (int i = 0; i < 4; i++) {
        items[i].value = i * 10;
        list_add_tail(&items[i].node, &head);
    }
    int sum = 0;
    int order = 0;
    item *it;
    list_for_each_entry(it, &head, node) {
        sum += it->value;
        order = order * 10 + it->value / 10;
    }
    CHECK(sum == 60 && order == 123);
    CHECK(list_count_nodes(&head) == 4);

    item *n;
    list_for_each_entry_safe(it, n, &head, node) {
        if (it->value == 20)
            list_del(&it->node);
    }
    CHECK(list_count_nodes(&head) == 3);
    CHECK(list_last_entry(&head, item, node) == &items[3]);
    CHECK(container_of(&items[1].node, item, node) == &items[1]);

    unsigned int u = 7;
    int a = -3;
    long l = 12;
    CHECK(min(a, l) == -3 && max(a, l) == 12);
    CHECK(min(u, 5) == 5 && max(u, 100) == 100);
    CHECK(min_t(int, u, a) == -3 && clamp(a, 0, 9) == 0);
    CHECK(DIV_ROUND_UP(10, 4) == 3 && round_up(10, 8) == 16 && GENMASK(7, 4) == 0xf0);
    CHECK(ARRAY_SIZE(items) == 4 && BIT(3) == 8);

    void *e = ERR_PTR(-ENOMEM);
    CHECK(IS_ERR(e) && PTR_ERR(e) == -ENOMEM && !IS_ERR(&items[0]));
    auto *typed = static_cast<item *>(ERR_CAST(e));
    CHECK(IS_ERR(typed) && PTR_ERR_OR_ZERO(typed) == -ENOMEM);

    char buf[4];
    CHECK(strscpy(buf, "abc") == 3 && strscpy(buf, "abcd") == -E2BIG);

    int shared = 0;
    WRITE_ONCE(shared, 9);
    CHECK(READ_ONCE(shared) == 9);

    if (failures)
        std::fprintf(stderr, "kernel_headers_cxx_test: %d failures\n", failures);
    return failures ? 1 : 0;
}
