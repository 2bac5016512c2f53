// SPDX-License-Identifier: MIT
//
// Slab objects charged to accounting groups, against 6.12 mm/memcontrol.c and mm/slub.c:
// obj_full_size(), the per-CPU byte stock (obj_cgroup_charge, consume/refill/drain_obj_stock)
// as table tests with the kernel's arithmetic, the limit and forced charges, the charge
// following the object to whoever frees it, the root group, and memory.stat's slab bytes.
#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/linux/gfp.h>
#include <gfplab/memcontrol.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmstat.hpp>

#include "support/reports.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

using namespace gfplab;

// 64 MiB; one CPU unless asked, so that every charge meets the same stock.
system_config small_config(unsigned cpus = 1) {
    system_config c;
    c.memory_bytes = 64ull << 20;
    c.dma32_limit = 32ull << 20;
    c.cpus = cpus;
    c.warn_alloc = false;
    c.kswapd = false;
    return c;
}

void expect_clean(System &s) {
    for (const auto &x : s.verify())
        ADD_FAILURE() << format_violation(x);
}

// The thread's group for a scope.
struct active_group {
    unsigned old;
    explicit active_group(unsigned id) : old(set_active_memcg(id)) {}
    ~active_group() { set_active_memcg(old); }
};

// --- obj_full_size --------------------------------------------------------------------------

// The kernel's s->size + sizeof(struct obj_cgroup *) for the kmalloc-cg caches of x86-64.
TEST(SlabMemcg, ObjFullSizeIsTheSlotAndAPointer) {
    System s(small_config());
    const struct {
        unsigned index, full;
    } table[] = {{3, 16},  {4, 24},  {5, 40},    {6, 72},    {1, 104},   {7, 136},  {2, 200},
                 {8, 264}, {9, 520}, {10, 1032}, {11, 2056}, {12, 4104}, {13, 8200}};
    for (const auto &t : table) {
        const kmem_cache *c = kmalloc_cache(s, KMALLOC_CGROUP, t.index);
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(obj_full_size(c), t.full) << kmem_cache_stats(c).name;
    }
    // A red-zoned 24-byte cache: 48-byte slots (left pad, object, right zone, padding word).
    kmem_cache *rz = kmem_cache_create(s, "rz24", 24, 0, SLAB_RED_ZONE | SLAB_ACCOUNT, nullptr);
    EXPECT_EQ(obj_full_size(rz), 56u);
    kmem_cache_destroy(rz);
}

// --- the per-CPU byte stock --------------------------------------------------------------

// 64 objects of kmalloc-cg-64 cost 64 * 72 = 4608 bytes: the first charges a page and
// leaves 4024 bytes in the stock, 55 more fit in them, the 57th charges the second page.
// Freeing them all gives a page back when the stock passes one page (the 8th free), and the
// drain gives back the last.
TEST(SlabMemcg, StockChargesWholePagesAndKeepsTheRest) {
    System s(small_config());
    const unsigned g = s.mem_cgroup_create("objs");
    const mem_cgroup &cg = *s.memcg(g);
    std::vector<void *> objs;
    {
        active_group in(g);
        for (int i = 1; i <= 64; i++) {
            objs.push_back(kmalloc(s, 64, GFP_KERNEL_ACCOUNT));
            ASSERT_NE(objs.back(), nullptr);
            const std::uint64_t want = i <= 56 ? 1 : 2;
            ASSERT_EQ(cg.usage_pages.load(), want) << "after object " << i;
        }
    }
    EXPECT_EQ(cg.usage_pages.load(), (64u * 72 + 4095) / 4096);
    EXPECT_EQ(cg.slab_unreclaimable.load(), 64u * 72);
    EXPECT_EQ(cg.slab_reclaimable.load(), 0u);
    for (void *p : objs)
        EXPECT_EQ(mem_cgroup_from_slab_obj(s, p), g);
    // Freed from the root: the charge follows the object.
    for (int i = 1; i <= 64; i++) {
        kfree(s, objs[i - 1]);
        ASSERT_EQ(cg.usage_pages.load(), i < 8 ? 2u : 1u) << "after free " << i;
    }
    EXPECT_EQ(cg.slab_unreclaimable.load(), 0u);
    drain_all_stock(s);
    EXPECT_EQ(cg.usage_pages.load(), 0u);
    EXPECT_EQ(cg.nr_charged_bytes.load(), 0u);
    EXPECT_EQ(cg.max_usage_pages.load(), 2u);
    expect_clean(s);
}

// When another group takes the stock, the bytes below a page go to the old group's
// nr_charged_bytes; the group's next stock starts from them and may give a page back.
TEST(SlabMemcg, StockChangingHandsKeepsTheRemainderInTheGroup) {
    System s(small_config());
    const unsigned a = s.mem_cgroup_create("a"), b = s.mem_cgroup_create("b");
    const mem_cgroup &ga = *s.memcg(a), &gb = *s.memcg(b);
    void *pa, *pb, *pa2;
    {
        active_group in(a);
        pa = kmalloc(s, 64, GFP_KERNEL_ACCOUNT); // a: 1 page, stock a 4024
    }
    {
        active_group in(b);
        pb = kmalloc(s, 64, GFP_KERNEL_ACCOUNT); // stock to b: a keeps 4024 bytes aside
    }
    EXPECT_EQ(ga.usage_pages.load(), 1u);
    EXPECT_EQ(ga.nr_charged_bytes.load(), 4024u);
    EXPECT_EQ(gb.usage_pages.load(), 1u);
    EXPECT_EQ(gb.nr_charged_bytes.load(), 0u);
    {
        active_group in(a);
        // No stock of a's: a new page (2), whose 4024 spare bytes and the 4024 kept aside
        // make 8048 in a's stock: one page goes back (1), 3952 stay.
        pa2 = kmalloc(s, 64, GFP_KERNEL_ACCOUNT);
    }
    EXPECT_EQ(ga.usage_pages.load(), 1u);
    EXPECT_EQ(ga.nr_charged_bytes.load(), 0u);
    EXPECT_EQ(ga.max_usage_pages.load(), 2u);
    EXPECT_EQ(gb.nr_charged_bytes.load(), 4024u);
    kfree(s, pa);
    kfree(s, pa2);
    kfree(s, pb); // the stock goes to b: a's 4096 bytes are a whole page
    EXPECT_EQ(ga.usage_pages.load(), 0u);
    drain_all_stock(s);
    EXPECT_EQ(gb.usage_pages.load(), 0u);
    EXPECT_EQ(ga.slab_unreclaimable.load() + gb.slab_unreclaimable.load(), 0u);
    expect_clean(s);
}

// An object larger than a page charges every page it needs at once.
TEST(SlabMemcg, LargeObjectsChargeSeveralPages) {
    System s(small_config());
    const unsigned g = s.mem_cgroup_create("big");
    const mem_cgroup &cg = *s.memcg(g);
    active_group in(g);
    void *p = kmalloc(s, 8192, GFP_KERNEL_ACCOUNT); // 8200 bytes: 3 pages, 4088 in stock
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(cg.usage_pages.load(), 3u);
    kfree(s, p); // 12288 bytes in the stock: three whole pages back, nothing stays
    EXPECT_EQ(cg.usage_pages.load(), 0u);
    // A charge's spare bytes never give a page back at once: two 4104-byte objects charge
    // two pages each, and the stock keeps 4088 + 4088 bytes, enough for a third.
    void *k[3];
    for (int i = 0; i < 3; i++) {
        k[i] = kmalloc(s, 4096, GFP_KERNEL_ACCOUNT);
        ASSERT_NE(k[i], nullptr);
        EXPECT_EQ(cg.usage_pages.load(), i ? 4u : 2u) << "after object " << i;
    }
    for (void *q : k)
        kfree(s, q);
    drain_all_stock(s);
    EXPECT_EQ(cg.usage_pages.load(), 0u);
}

// --- the limit -------------------------------------------------------------------------

TEST(SlabMemcg, GroupAtItsLimitFailsTheAllocationAndCountsIt) {
    System s(small_config());
    const unsigned g = s.mem_cgroup_create("tight", 1);
    const mem_cgroup &cg = *s.memcg(g);
    kmem_cache *c = kmem_cache_create(s, "acct64", 64, 0, SLAB_ACCOUNT, nullptr);
    std::vector<void *> objs;
    {
        active_group in(g);
        for (int i = 0; i < 56; i++) { // 56 * 72 bytes fit in the first page
            objs.push_back(kmem_cache_alloc(c, GFP_KERNEL));
            ASSERT_NE(objs.back(), nullptr);
        }
        EXPECT_EQ(kmem_cache_alloc(c, GFP_KERNEL), nullptr);
        EXPECT_EQ(cg.failcnt.load(), 1u);
        EXPECT_EQ(kmalloc(s, 64, GFP_KERNEL_ACCOUNT | __GFP_NOWARN), nullptr);
        EXPECT_EQ(cg.failcnt.load(), 2u);
        EXPECT_EQ(cg.usage_pages.load(), 1u);
        // A bulk allocation that cannot be charged gives back what it got.
        void *bulk[8];
        EXPECT_EQ(kmem_cache_alloc_bulk(c, GFP_KERNEL, 8, bulk), 0);
        EXPECT_EQ(cg.failcnt.load(), 3u);
        // __GFP_NOFAIL is charged past the limit.
        void *forced = kmem_cache_alloc(c, GFP_KERNEL | __GFP_NOFAIL);
        ASSERT_NE(forced, nullptr);
        EXPECT_EQ(cg.usage_pages.load(), 2u);
        EXPECT_EQ(cg.forced.load(), 1u);
        objs.push_back(forced);
    }
    EXPECT_EQ(cg.slab_unreclaimable.load(), 57u * 72);
    for (void *p : objs)
        kmem_cache_free(c, p);
    drain_all_stock(s);
    EXPECT_EQ(cg.usage_pages.load(), 0u);
    // The objects whose charge failed went back to their slabs: the cache is empty.
    test::collected col;
    col.attach(s);
    kmem_cache_destroy(c);
    EXPECT_TRUE(col.v.empty());
    expect_clean(s);
}

// --- whoever frees ------------------------------------------------------------------------

TEST(SlabMemcg, ObjectFreedByAnotherGroupsThreadUnchargesItsOwn) {
    System s(small_config(2));
    const unsigned a = s.mem_cgroup_create("a"), b = s.mem_cgroup_create("b");
    const mem_cgroup &ga = *s.memcg(a), &gb = *s.memcg(b);
    std::vector<void *> objs;
    std::thread producer([&] {
        active_group in(a);
        for (int i = 0; i < 200; i++)
            objs.push_back(kmalloc(s, 192, GFP_KERNEL_ACCOUNT));
    });
    producer.join();
    EXPECT_EQ(ga.slab_unreclaimable.load(), 200u * 200);
    EXPECT_GE(ga.usage_pages.load(), (200u * 200 + 4095) / 4096);
    std::thread consumer([&] {
        active_group in(b);
        for (void *p : objs) {
            ASSERT_EQ(mem_cgroup_from_slab_obj(s, p), a);
            kfree(s, p);
            EXPECT_EQ(mem_cgroup_from_slab_obj(s, p), root_mem_cgroup);
        }
    });
    consumer.join();
    EXPECT_EQ(ga.slab_unreclaimable.load(), 0u);
    drain_all_stock(s);
    // Each CPU's stock left its bytes below a page in a's nr_charged_bytes, and the pages
    // they fill stay charged (as in the kernel): what a is charged is exactly those bytes.
    EXPECT_EQ(ga.usage_pages.load() * 4096, ga.nr_charged_bytes.load());
    EXPECT_LT(ga.nr_charged_bytes.load(), 2u * 4096);
    EXPECT_EQ(gb.usage_pages.load(), 0u);
    EXPECT_EQ(gb.max_usage_pages.load(), 0u);
    EXPECT_EQ(gb.slab_unreclaimable.load(), 0u);
    expect_clean(s);
}

// krealloc()'s free and kvfree_rcu()'s eventual free uncharge too.
TEST(SlabMemcg, KreallocAndKvfreeRcuUncharge) {
    System s(small_config());
    const unsigned g = s.mem_cgroup_create("late");
    const mem_cgroup &cg = *s.memcg(g);
    active_group in(g);
    void *p = kmalloc(s, 32, GFP_KERNEL_ACCOUNT);
    void *q = krealloc(s, p, 1000, GFP_KERNEL_ACCOUNT); // kmalloc-cg-1k
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(cg.slab_unreclaimable.load(), 1032u);
    void *r = kmalloc(s, 100, GFP_KERNEL_ACCOUNT);
    kvfree_rcu_mightsleep(s, r);
    kvfree_rcu_mightsleep(s, q);
    kvfree_rcu_barrier(s);
    EXPECT_EQ(cg.slab_unreclaimable.load(), 0u);
    drain_all_stock(s);
    EXPECT_EQ(cg.usage_pages.load(), 0u);
}

// --- what is charged ----------------------------------------------------------------------

TEST(SlabMemcg, RootGroupIsNeverCharged) {
    System s(small_config());
    const unsigned g = s.mem_cgroup_create("idle");
    kmem_cache *c = kmem_cache_create(s, "acct", 100, 0, SLAB_ACCOUNT, nullptr);
    ASSERT_EQ(active_memcg(), root_mem_cgroup);
    void *p = kmalloc(s, 64, GFP_KERNEL_ACCOUNT);
    void *q = kmem_cache_alloc(c, GFP_KERNEL);
    EXPECT_EQ(mem_cgroup_from_slab_obj(s, p), root_mem_cgroup);
    EXPECT_EQ(mem_cgroup_from_slab_obj(s, q), root_mem_cgroup);
    // In a group, an unaccounted request from an unaccounted cache is not charged either.
    {
        active_group in(g);
        void *plain = kmalloc(s, 64, GFP_KERNEL);
        EXPECT_EQ(mem_cgroup_from_slab_obj(s, plain), root_mem_cgroup);
        kfree(s, plain);
    }
    // An id this System does not have is the root's for this System.
    {
        active_group in(77);
        void *other = kmalloc(s, 64, GFP_KERNEL_ACCOUNT);
        EXPECT_EQ(mem_cgroup_from_slab_obj(s, other), root_mem_cgroup);
        kfree(s, other);
    }
    const mem_cgroup &cg = *s.memcg(g);
    EXPECT_EQ(cg.usage_pages.load(), 0u);
    EXPECT_EQ(cg.max_usage_pages.load(), 0u);
    EXPECT_EQ(cg.slab_unreclaimable.load(), 0u);
    kfree(s, p);
    kmem_cache_free(c, q);
    kmem_cache_destroy(c);
}

TEST(SlabMemcg, GfpAccountChargesAnyCacheAndReclaimableCountsApart) {
    System s(small_config());
    const unsigned g = s.mem_cgroup_create("any");
    const mem_cgroup &cg = *s.memcg(g);
    kmem_cache *plain = kmem_cache_create(s, "plain", 40, 0, 0, nullptr);
    kmem_cache *rcl = kmem_cache_create(s, "rcl", 40, 0, SLAB_RECLAIM_ACCOUNT, nullptr);
    void *a, *b, *c;
    {
        active_group in(g);
        c = kmem_cache_alloc(plain, GFP_KERNEL); // not asked for: not charged
        a = kmem_cache_alloc(plain, GFP_KERNEL_ACCOUNT);
        b = kmem_cache_alloc(rcl, GFP_KERNEL_ACCOUNT);
    }
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(mem_cgroup_from_slab_obj(s, a), g);
    EXPECT_EQ(mem_cgroup_from_slab_obj(s, b), g);
    EXPECT_EQ(mem_cgroup_from_slab_obj(s, c), root_mem_cgroup);
    EXPECT_EQ(cg.slab_unreclaimable.load(), obj_full_size(plain));
    EXPECT_EQ(cg.slab_reclaimable.load(), obj_full_size(rcl));
    EXPECT_EQ(cg.usage_pages.load(), 1u);
    // memory.stat's lines in the vmstat snapshot.
    const vmstat_snapshot v = take_vmstat_snapshot(s);
    ASSERT_EQ(v.memcgs.size(), 1u);
    EXPECT_EQ(v.memcgs[0].slab_unreclaimable, obj_full_size(plain));
    EXPECT_EQ(v.memcgs[0].slab_reclaimable, obj_full_size(rcl));
    EXPECT_NE(format_vmstat(v).find("slab_reclaimable 48 slab_unreclaimable 48"),
              std::string::npos);
    kmem_cache_free(plain, a);
    kmem_cache_free(plain, c);
    kmem_cache_free(rcl, b);
    EXPECT_EQ(cg.slab_unreclaimable.load() + cg.slab_reclaimable.load(), 0u);
    drain_all_stock(s);
    EXPECT_EQ(cg.usage_pages.load(), 0u);
    kmem_cache_destroy(plain);
    kmem_cache_destroy(rcl);
    expect_clean(s);
}

} // namespace
