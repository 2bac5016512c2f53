// SPDX-License-Identifier: MIT
//
// linux/list_lru.h: per-node counts, the isolate callback's verdicts as 6.12 applies them,
// and the callback runs under the node's spinlock (atomic: a GFP_KERNEL allocation there is
// I21).
#include "support/reports.hpp"

#include <gfplab/system.hpp>

#include <gtest/gtest.h>
#include <vector>

// The kernel headers last (kernel.h's min/max/swap are macros).
#include <gfplab/linux/list_lru.h>
#include <gfplab/linux/preempt.h>
#include <gfplab/linux/slab.h>

namespace gfplab {
namespace {

struct item {
    list_head lru;
    int value;
};

class ListLru : public ::testing::Test {
  protected:
    void SetUp() override {
        system_config c;
        c.memory_bytes = 32ull << 20;
        c.nodes = 2;
        c.cpus = 2;
        c.warn_alloc = false;
        sys_ = std::make_unique<System>(c);
        reports_.attach(*sys_);
        set_default_system(sys_.get());
        ASSERT_EQ(list_lru_init(&lru_), 0);
    }
    void TearDown() override {
        list_lru_destroy(&lru_);
        set_default_system(nullptr);
    }
    item *add(int value) {
        auto *it = static_cast<item *>(kmalloc(sizeof(item), GFP_KERNEL));
        it->value = value;
        INIT_LIST_HEAD(&it->lru);
        EXPECT_TRUE(list_lru_add_obj(&lru_, &it->lru));
        return it;
    }

    std::unique_ptr<System> sys_;
    test::collected reports_;
    list_lru lru_{};
};

TEST_F(ListLru, AddDelAndCountsPerNode) {
    std::vector<item *> items;
    for (int i = 0; i < 10; i++)
        items.push_back(add(i));
    EXPECT_EQ(lru_.nr_nodes, 2);
    EXPECT_EQ(list_lru_count(&lru_), 10u);
    EXPECT_FALSE(list_lru_add_obj(&lru_, &items[0]->lru)); // already on it
    EXPECT_TRUE(list_lru_del_obj(&lru_, &items[3]->lru));
    EXPECT_FALSE(list_lru_del_obj(&lru_, &items[3]->lru));
    EXPECT_EQ(list_lru_count(&lru_), 9u);
    unsigned long per_node = 0;
    for (int nid = 0; nid < 2; nid++)
        per_node += list_lru_count_node(&lru_, nid);
    EXPECT_EQ(per_node, 9u);
    for (item *it : items) {
        list_lru_del_obj(&lru_, &it->lru);
        kfree(it);
    }
    EXPECT_EQ(list_lru_count(&lru_), 0u);
}

// Odd values are isolated, multiples of 4 rotated, the rest skipped; the walk stops at its
// budget. The callback sees the node's lock held and the thread atomic.
TEST_F(ListLru, WalkAppliesEachVerdict) {
    std::vector<item *> items;
    for (int i = 0; i < 12; i++)
        items.push_back(add(i));
    struct ctx {
        std::vector<item *> freed;
        bool atomic = true;
    } c;
    auto isolate = [](list_head *li, list_lru_one *one, spinlock_t *lock, void *arg) {
        auto &x = *static_cast<ctx *>(arg);
        x.atomic = x.atomic && in_atomic() && spin_is_locked(lock);
        item *it = container_of(li, item, lru);
        if (it->value % 2) {
            list_lru_isolate(one, li);
            x.freed.push_back(it);
            return LRU_REMOVED;
        }
        return it->value % 4 == 0 ? LRU_ROTATE : LRU_SKIP;
    };
    unsigned long isolated = list_lru_walk(&lru_, isolate, &c, 1000);
    EXPECT_EQ(isolated, 6u);
    EXPECT_EQ(c.freed.size(), 6u);
    EXPECT_TRUE(c.atomic);
    EXPECT_EQ(list_lru_count(&lru_), 6u);
    unsigned long budget = 2;
    EXPECT_EQ(list_lru_walk(&lru_, isolate, &c, budget), 0u); // evens only: nothing to take
    for (item *it : c.freed)
        kfree(it);
    for (item *it : items)
        if (!list_empty(&it->lru)) {
            list_lru_del_obj(&lru_, &it->lru);
            kfree(it);
        }
    EXPECT_TRUE(reports_.v.empty());
}

TEST_F(ListLru, SleepingInTheIsolateCallbackIsI21) {
    item *it = add(1);
    auto isolate = [](list_head *, list_lru_one *, spinlock_t *, void *) {
        kfree(kmalloc(16, GFP_KERNEL));
        return LRU_SKIP;
    };
    list_lru_walk(&lru_, isolate, nullptr, 10);
    EXPECT_TRUE(reports_.has(invariant::sleep_in_atomic, "sleeping allocation in atomic context"));
    list_lru_del_obj(&lru_, &it->lru);
    kfree(it);
}

} // namespace
} // namespace gfplab
