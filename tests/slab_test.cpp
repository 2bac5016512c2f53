// SPDX-License-Identifier: MIT
//
// The slab layer against Linux 6.12 mm/slub.c and mm/slab_common.c: the order and layout
// arithmetic and the kmalloc classes as table tests against the kernel's values, the
// kmalloc family's behaviour, and a failing test for every check of I17, I18 and the bad
// input the slab layer refuses (I16).
#include <gfplab/fault_inject.hpp>
#include <gfplab/linux/gfp.h>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmstat.hpp>

#include "support/reports.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

namespace {

using namespace gfplab;

// 64 MiB with every zone: DMA [0,16M), DMA32 [16M,32M), NORMAL [32M,64M).
system_config small_config(unsigned cpus = 2) {
    system_config c;
    c.memory_bytes = 64ull << 20;
    c.dma32_limit = 32ull << 20;
    c.cpus = cpus;
    c.warn_alloc = false;
    c.kswapd = false;
    return c;
}

using test::collected;

void expect_clean(System &s) {
    for (const auto &x : s.verify())
        ADD_FAILURE() << format_violation(x);
}

// --- the arithmetic ------------------------------------------------------------------------

// /proc/slabinfo of a 6.12 kernel on an 8-CPU x86-64 machine: pages per slab and objects.
TEST(SlabArithmetic, KmallocOrdersMatchTheKernelOnEightCpus) {
    struct row {
        unsigned size, order, objects;
    };
    const row rows[] = {{8, 0, 512},   {16, 0, 256}, {32, 0, 128}, {64, 0, 64},  {96, 0, 42},
                        {128, 0, 32},  {192, 0, 21}, {256, 1, 32}, {512, 2, 32}, {1024, 3, 32},
                        {2048, 3, 16}, {4096, 3, 8}, {8192, 3, 4}};
    for (const row &r : rows) {
        const int order = calculate_order(r.size, 8);
        EXPECT_EQ(order, int(r.order)) << "size " << r.size;
        EXPECT_EQ((PAGE_SIZE << order) / r.size, r.objects) << "size " << r.size;
    }
}

TEST(SlabArithmetic, OrderFollowsTheCpuCountAndTheWasteFractions) {
    // min_objects = 4 * (fls(cpus) + 1): 12 on two CPUs, so kmalloc-1k takes order 2.
    EXPECT_EQ(calculate_order(1024, 2), 2);
    EXPECT_EQ(calculate_order(1024, 1), 1); // fls(1) + 1: 8 objects, 8 KiB
    EXPECT_EQ(calculate_order(1024, 64), 3);
    // 700 bytes: 20 objects want 14000 bytes (order 2); 284 bytes left over is < 1/16.
    EXPECT_EQ(calculate_order(700, 8), 2);
    // 5000 bytes: order 3 wastes 2768 bytes, more than 1/16 but within 1/8.
    EXPECT_EQ(calculate_order(5000, 8), 3);
    // Beyond slab_max_order: the smallest order that holds one object.
    EXPECT_EQ(calculate_order(100000, 8), 5);
    EXPECT_EQ(calculate_order(unsigned(PAGE_SIZE << MAX_PAGE_ORDER) + 8, 8), -1);
}

// /sys/kernel/slab/*/cpu_partial of a 6.12 kernel (CONFIG_SLUB_CPU_PARTIAL=y) on 8 CPUs,
// and the slab limit slub_set_cpu_partial() derives from it at half-full slabs.
TEST(SlabArithmetic, CpuPartialMatchesTheKernel) {
    struct row {
        unsigned size, objects, cpu_partial, slabs;
    };
    const row rows[] = {{8, 512, 120, 1},  {64, 64, 120, 4}, {192, 21, 120, 12},
                        {256, 32, 52, 4},  {512, 32, 52, 4}, {1024, 32, 24, 2},
                        {2048, 16, 24, 3}, {4096, 8, 6, 2},  {8192, 4, 6, 3}};
    for (const row &r : rows) {
        const cpu_partial_limits l = set_cpu_partial(0, r.size, r.objects);
        EXPECT_EQ(l.objects, r.cpu_partial) << "size " << r.size;
        EXPECT_EQ(l.slabs, r.slabs) << "size " << r.size;
    }
    // Debug caches keep none.
    for (slab_flags_t f :
         {SLAB_RED_ZONE, SLAB_POISON, SLAB_STORE_USER, SLAB_TRACE, SLAB_CONSISTENCY_CHECKS})
        EXPECT_EQ(set_cpu_partial(f, 64, 64).slabs, 0u) << f;
    System s(small_config());
    kmem_cache_info k = kmem_cache_stats(kmalloc_cache(s, KMALLOC_NORMAL, 6));
    EXPECT_EQ(k.cpu_partial.objects, 120u);
    EXPECT_EQ(k.cpu_partial.slabs, 4u);
}

TEST(SlabArithmetic, AlignmentHalvesTheCacheLineForSmallObjects) {
    EXPECT_EQ(calculate_alignment(SLAB_HWCACHE_ALIGN, 0, 24), 32u);
    EXPECT_EQ(calculate_alignment(SLAB_HWCACHE_ALIGN, 0, 8), 8u);
    EXPECT_EQ(calculate_alignment(SLAB_HWCACHE_ALIGN, 0, 100), 64u);
    EXPECT_EQ(calculate_alignment(0, 0, 100), 8u);
    EXPECT_EQ(calculate_alignment(0, 128, 100), 128u);
    EXPECT_EQ(calculate_alignment(0, 4, 100), 8u);
}

TEST(SlabArithmetic, KmallocIndexAndSizes) {
    const std::pair<std::size_t, int> rows[] = {
        {0, 0},   {1, 3},   {8, 3},     {9, 4},     {16, 4},    {17, 5},
        {64, 6},  {65, 1},  {96, 1},    {97, 7},    {128, 7},   {129, 2},
        {192, 2}, {193, 8}, {4096, 12}, {4097, 13}, {8192, 13}, {8193, -1}};
    for (auto [size, index] : rows)
        EXPECT_EQ(kmalloc_index(size), index) << "size " << size;
    EXPECT_EQ(kmalloc_size(1), 96u);
    EXPECT_EQ(kmalloc_size(2), 192u);
    EXPECT_EQ(kmalloc_size(3), 8u);
    EXPECT_EQ(kmalloc_size(13), 8192u);
}

TEST(SlabArithmetic, KmallocTypeRanksDmaThenReclaimableThenAccount) {
    EXPECT_EQ(kmalloc_type(GFP_KERNEL), KMALLOC_NORMAL);
    EXPECT_EQ(kmalloc_type(GFP_KERNEL | __GFP_RECLAIMABLE), KMALLOC_RECLAIM);
    EXPECT_EQ(kmalloc_type(GFP_KERNEL_ACCOUNT), KMALLOC_CGROUP);
    EXPECT_EQ(kmalloc_type(GFP_KERNEL | __GFP_DMA | __GFP_RECLAIMABLE), KMALLOC_DMA);
    EXPECT_EQ(kmalloc_type(GFP_KERNEL_ACCOUNT | __GFP_RECLAIMABLE), KMALLOC_RECLAIM);
}

// --- caches ------------------------------------------------------------------------------

TEST(SlabCaches, KmallocCachesAreNamedAndFlaggedPerType) {
    System s(small_config());
    const auto normal = kmem_cache_stats(kmalloc_cache(s, KMALLOC_NORMAL, 6));
    EXPECT_EQ(normal.name, "kmalloc-64");
    EXPECT_EQ(normal.align, 64u);
    EXPECT_EQ(kmem_cache_stats(kmalloc_cache(s, KMALLOC_RECLAIM, 10)).name, "kmalloc-rcl-1k");
    EXPECT_TRUE(kmem_cache_stats(kmalloc_cache(s, KMALLOC_RECLAIM, 10)).flags &
                SLAB_RECLAIM_ACCOUNT);
    EXPECT_EQ(kmem_cache_stats(kmalloc_cache(s, KMALLOC_DMA, 1)).name, "dma-kmalloc-96");
    EXPECT_EQ(kmem_cache_stats(kmalloc_cache(s, KMALLOC_CGROUP, 13)).name, "kmalloc-cg-8k");
    EXPECT_EQ(kmem_cache_stats(kmalloc_cache(s, KMALLOC_DMA, 1)).allocflags, __GFP_COMP | GFP_DMA);
}

TEST(SlabCaches, LayoutPutsTheFreePointerWhereItHarmsNothing) {
    System s(small_config());
    kmem_cache *plain = kmem_cache_create(s, "plain", 24, nullptr, 0);
    auto i = kmem_cache_stats(plain);
    EXPECT_EQ(i.size, 24u);
    EXPECT_EQ(i.offset, 8u); // the middle of the object, word aligned
    EXPECT_EQ(i.min_partial, 5u);
    kmem_cache *hw = kmem_cache_create(s, "hw", 24, nullptr, SLAB_HWCACHE_ALIGN);
    EXPECT_EQ(kmem_cache_stats(hw).size, 32u);
    kmem_cache_args args{};
    args.ctor = [](void *) {};
    kmem_cache *ctor = kmem_cache_create(s, "ctor", 24, &args, 0);
    EXPECT_EQ(kmem_cache_stats(ctor).offset, 24u); // after the object: the ctor's state stays
    EXPECT_EQ(kmem_cache_stats(ctor).size, 32u);
    kmem_cache *debug = kmem_cache_create(s, "debug", 24, nullptr, SLAB_POISON | SLAB_RED_ZONE);
    i = kmem_cache_stats(debug);
    EXPECT_EQ(i.inuse, 32u);
    EXPECT_EQ(i.offset, 32u);
    EXPECT_EQ(i.red_left_pad, 8u);
    EXPECT_EQ(i.size, 56u);
    for (kmem_cache *c : {plain, hw, ctor, debug})
        kmem_cache_destroy(c);
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(SlabCaches, ConstructorRunsOncePerObjectWhenTheSlabIsMade) {
    System s(small_config());
    static std::atomic<int> constructed{0};
    constructed = 0;
    kmem_cache *c = kmem_cache_create(s, "ctor", 100, 0, 0, [](void *p) {
        constructed++;
        std::memset(p, 0x5a, 100);
    });
    const unsigned per_slab = kmem_cache_stats(c).objects;
    std::vector<void *> objs;
    for (unsigned i = 0; i < per_slab; i++)
        objs.push_back(kmem_cache_alloc(c, GFP_KERNEL));
    EXPECT_EQ(constructed.load(), int(per_slab));
    for (void *p : objs) {
        EXPECT_EQ(static_cast<unsigned char *>(p)[99], 0x5a);
        kmem_cache_free(c, p);
    }
    objs.clear();
    for (unsigned i = 0; i < per_slab; i++)
        objs.push_back(kmem_cache_alloc(c, GFP_KERNEL));
    EXPECT_EQ(constructed.load(), int(per_slab)); // reused, not constructed again
    for (void *p : objs)
        kmem_cache_free(c, p);
    kmem_cache_destroy(c);
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(SlabCaches, DestroyGivesEveryPageBack) {
    System s(small_config());
    kmem_cache *c = kmem_cache_create(s, "many", 200, nullptr, 0);
    std::vector<void *> objs;
    for (int i = 0; i < 5000; i++)
        objs.push_back(kmem_cache_alloc(c, GFP_KERNEL));
    std::set<void *> distinct(objs.begin(), objs.end());
    EXPECT_EQ(distinct.size(), objs.size());
    EXPECT_GT(kmem_cache_stats(c).num_slabs, 200u);
    EXPECT_EQ(kmem_cache_stats(c).active_objs, 5000u);
    for (void *p : objs)
        kmem_cache_free(c, p);
    kmem_cache_shrink(c);
    EXPECT_EQ(kmem_cache_stats(c).num_slabs, 0u);
    kmem_cache_destroy(c);
    s.drain_all_pages();
    expect_clean(s);
    EXPECT_EQ(s.report_count(), 0u);
}

// CONFIG_SLUB_CPU_PARTIAL: a full slab that gets an object back goes on the freeing CPU's
// partial list, not the node's; the CPU takes from that list first when its slab runs out;
// a list at its limit goes to the node when the next one comes; a shrink empties it.
TEST(SlabCaches, FullSlabsGetAnObjectBackOntoTheCpusPartialList) {
    system_config cfg = small_config(1);
    cfg.pcp = pcp_mode::virtual_cpus;
    System s(cfg);
    kmem_cache *c = kmem_cache_create(s, "partials", 64, nullptr, 0);
    const kmem_cache_info k0 = kmem_cache_stats(c);
    const unsigned per = k0.objects, limit = k0.cpu_partial.slabs;
    ASSERT_GT(limit, 0u);
    // limit + 2 full slabs (each slab's objects are allocated in a row), then one object
    // of a last slab that stays the CPU's.
    const unsigned full = limit + 2;
    std::vector<std::vector<void *>> slabs(full);
    for (auto &v : slabs)
        for (unsigned i = 0; i < per; i++)
            v.push_back(kmem_cache_alloc(c, GFP_KERNEL));
    void *last = kmem_cache_alloc(c, GFP_KERNEL);
    EXPECT_EQ(kmem_cache_stats(c).partial_slabs, 0u);
    EXPECT_EQ(kmem_cache_stats(c).slabs_cpu_partial, 0u);
    // One object back into each of the first `limit` full slabs: all on the CPU's list.
    for (unsigned i = 0; i < limit; i++) {
        kmem_cache_free(c, slabs[i].back());
        slabs[i].pop_back();
        EXPECT_EQ(kmem_cache_stats(c).slabs_cpu_partial, i + 1);
        EXPECT_EQ(kmem_cache_stats(c).partial_slabs, 0u);
    }
    // The list is at its limit: the next slab sends the list to the node and starts anew.
    void *freed_last = slabs[limit].back();
    kmem_cache_free(c, freed_last);
    slabs[limit].pop_back();
    EXPECT_EQ(kmem_cache_stats(c).slabs_cpu_partial, 1u);
    EXPECT_EQ(kmem_cache_stats(c).partial_slabs, limit);
    // The CPU's slab runs out: its next slab is the one on its own list, not a node's.
    for (unsigned i = 1; i < per; i++)
        slabs.back().push_back(kmem_cache_alloc(c, GFP_KERNEL));
    void *from_list = kmem_cache_alloc(c, GFP_KERNEL);
    EXPECT_EQ(kmem_cache_stats(c).slabs_cpu_partial, 0u);
    EXPECT_EQ(kmem_cache_stats(c).partial_slabs, limit);
    // The object handed out is the one freed into slab `limit` (its only free one).
    EXPECT_EQ(from_list, freed_last);
    // SLUB's counters saw the same (/sys/kernel/slab/<cache>/cpu_partial_* ...).
    const kmem_cache_info k1 = kmem_cache_stats(c);
    EXPECT_EQ(k1.stat[CPU_PARTIAL_FREE], limit + 1);
    EXPECT_EQ(k1.stat[CPU_PARTIAL_DRAIN], 1u);
    EXPECT_EQ(k1.stat[CPU_PARTIAL_ALLOC], 1u);
    EXPECT_EQ(k1.stat[ALLOC_SLAB], full + 1);
    EXPECT_EQ(k1.stat[ALLOC_FROM_PARTIAL], 0u);
    EXPECT_EQ(k1.stat[FREE_ADD_PARTIAL], 0u);
    EXPECT_STREQ(slub_stat_name(CPU_PARTIAL_DRAIN), "cpu_partial_drain");
    kmem_cache_free(c, from_list);
    kmem_cache_free(c, last);
    for (auto &v : slabs)
        for (void *p : v)
            kmem_cache_free(c, p);
    kmem_cache_shrink(c);
    EXPECT_EQ(kmem_cache_stats(c).slabs_cpu_partial, 0u);
    EXPECT_EQ(kmem_cache_stats(c).num_slabs, 0u);
    kmem_cache_destroy(c);
    EXPECT_EQ(s.report_count(), 0u);
    expect_clean(s);
}

// A debug cache keeps no CPU partial list: the slab goes to the node's list at once.
TEST(SlabCaches, DebugCachesPutPartialSlabsOnTheNodeList) {
    system_config cfg = small_config(1);
    cfg.pcp = pcp_mode::virtual_cpus;
    System s(cfg);
    kmem_cache *c = kmem_cache_create(s, "debug", 64, nullptr, SLAB_RED_ZONE);
    const unsigned per = kmem_cache_stats(c).objects;
    EXPECT_EQ(kmem_cache_stats(c).cpu_partial.slabs, 0u);
    std::vector<void *> v;
    for (unsigned i = 0; i <= per; i++)
        v.push_back(kmem_cache_alloc(c, GFP_KERNEL));
    kmem_cache_free(c, v.front());
    EXPECT_EQ(kmem_cache_stats(c).partial_slabs, 1u);
    EXPECT_EQ(kmem_cache_stats(c).slabs_cpu_partial, 0u);
    EXPECT_EQ(kmem_cache_stats(c).stat[FREE_ADD_PARTIAL], 1u);
    EXPECT_EQ(kmem_cache_stats(c).stat[CPU_PARTIAL_FREE], 0u);
    for (std::size_t i = 1; i < v.size(); i++)
        kmem_cache_free(c, v[i]);
    kmem_cache_destroy(c);
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(SlabCaches, BulkIsAllOrNothing) {
    System s(small_config());
    kmem_cache *c = kmem_cache_create(s, "bulk", 64, nullptr, 0);
    void *p[100];
    ASSERT_EQ(kmem_cache_alloc_bulk(c, GFP_KERNEL, 100, p), 100);
    // Like /proc/slabinfo, free objects of a CPU's slab count as active until it is flushed.
    EXPECT_GE(kmem_cache_stats(c).active_objs, 100u);
    kmem_cache_shrink(c);
    EXPECT_EQ(kmem_cache_stats(c).active_objs, 100u);
    kmem_cache_free_bulk(c, 100, p);
    kmem_cache_shrink(c);
    EXPECT_EQ(kmem_cache_stats(c).active_objs, 0u);
    EXPECT_EQ(kmem_cache_stats(c).num_slabs, 0u);
    kmem_cache_destroy(c);
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(SlabCaches, BadArgumentsAreRefused) {
    System s(small_config());
    collected got;
    got.attach(s);
    EXPECT_EQ(kmem_cache_create(s, "zero", 0, nullptr, 0), nullptr);
    EXPECT_EQ(kmem_cache_create(s, nullptr, 8, nullptr, 0), nullptr);
    EXPECT_EQ(kmem_cache_create(s, "flags", 8, nullptr, 1u << 25), nullptr);
    EXPECT_EQ(kmem_cache_create(s, "dma", 8, nullptr, SLAB_CACHE_DMA | SLAB_CACHE_DMA32), nullptr);
    kmem_cache_args args{};
    args.use_freeptr_offset = true;
    args.freeptr_offset = 8;
    EXPECT_EQ(kmem_cache_create(s, "freeptr", 64, &args, 0), nullptr); // needs TYPESAFE_BY_RCU
    kmem_cache *rcu = kmem_cache_create(s, "freeptr", 64, &args, SLAB_TYPESAFE_BY_RCU);
    ASSERT_NE(rcu, nullptr);
    EXPECT_EQ(kmem_cache_stats(rcu).offset, 8u);
    EXPECT_EQ(got.v.size(), 5u);
    EXPECT_TRUE(got.has(invariant::bad_input, "kmem_cache_create failed"));
    EXPECT_EQ(s.stats().refused.load(), 5u);
    kmem_cache_destroy(rcu);
}

TEST(SlabCachesDeathTest, PanicFlagAbortsOnFailure) {
    EXPECT_DEATH(
        {
            System s(small_config());
            kmem_cache_create(s, "panic", 0, nullptr, SLAB_PANIC);
        },
        "Kernel panic");
}

// --- kmalloc -----------------------------------------------------------------------------

TEST(Kmalloc, ClassesAlignmentKsizeAndZeroing) {
    System s(small_config());
    void *a = kmalloc(s, 64, GFP_KERNEL);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 64, 0u);
    EXPECT_EQ(ksize(s, a), 64u);
    void *b = kmalloc(s, 65, GFP_KERNEL);
    EXPECT_EQ(ksize(s, b), 96u);
    std::memset(b, 0xff, 96);
    kfree(s, b);
    auto *z = static_cast<unsigned char *>(kzalloc(s, 96, GFP_KERNEL));
    EXPECT_EQ(static_cast<void *>(z), b); // the CPU's freelist is LIFO
    EXPECT_TRUE(std::all_of(z, z + 96, [](unsigned char x) { return x == 0; }));
    EXPECT_EQ(kmalloc(s, 0, GFP_KERNEL), ZERO_SIZE_PTR);
    kfree(s, ZERO_SIZE_PTR);
    kfree(s, nullptr);
    EXPECT_EQ(ksize(s, ZERO_SIZE_PTR), 0u);
    kfree(s, a);
    kfree(s, z);
    EXPECT_EQ(kcalloc(s, std::size_t(1) << 62, 8, GFP_KERNEL), nullptr); // overflow
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(Kmalloc, TypesPlaceSlabsByMobilityAndZone) {
    System s(small_config());
    void *rcl = kmalloc(s, 100, GFP_KERNEL | __GFP_RECLAIMABLE);
    void *dma = kmalloc(s, 100, GFP_KERNEL | __GFP_DMA);
    void *normal = kmalloc(s, 100, GFP_KERNEL);
    const page *pr = s.virt_to_page(rcl);
    const page *pd = s.virt_to_page(dma);
    const page *pn = s.virt_to_page(normal);
    EXPECT_EQ(pr->alloc_mt.load(), MIGRATE_RECLAIMABLE);
    EXPECT_EQ(pn->alloc_mt.load(), MIGRATE_UNMOVABLE);
    EXPECT_EQ(pd->zone, ZONE_DMA);
    EXPECT_TRUE(pn->flags.load() & PG_slab);
    for (void *p : {rcl, dma, normal})
        kfree(s, p);
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(Kmalloc, VmstatCountsSlabPagesAndShowsSlabinfo) {
    System s(small_config());
    void *rcl = kmalloc(s, 100, GFP_KERNEL | __GFP_RECLAIMABLE);
    void *normal = kmalloc(s, 100, GFP_KERNEL);
    void *large = kmalloc(s, 10000, GFP_KERNEL);
    const vmstat_snapshot v = take_vmstat_snapshot(s);
    auto counter = [&](const std::string &name) {
        for (const auto &[n, value] : v.counters)
            if (n == name)
                return value;
        return std::uint64_t(~0ull);
    };
    EXPECT_EQ(counter("nr_slab_reclaimable"), 1u);       // one order-0 kmalloc-rcl-128 slab
    EXPECT_EQ(counter("nr_slab_unreclaimable"), 1u + 4); // kmalloc-128, and 4 large pages
    ASSERT_EQ(v.slabinfo.size(), 2u);
    EXPECT_EQ(v.slabinfo[0].name, "kmalloc-128");
    EXPECT_EQ(v.slabinfo[0].objects_per_slab, 32u);
    EXPECT_TRUE(v.slabinfo[1].reclaimable);
    EXPECT_NE(format_vmstat(v).find("kmalloc-rcl-128"), std::string::npos);
    EXPECT_NE(vmstat_json(v).find("\"slabinfo\""), std::string::npos);
    for (void *p : {rcl, normal, large})
        kfree(s, p);
}

TEST(Kmalloc, LargeRequestsGoToThePageAllocator) {
    System s(small_config());
    s.drain_all_pages();
    void *p = kmalloc(s, 10000, GFP_KERNEL);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % PAGE_SIZE, 0u);
    EXPECT_EQ(ksize(s, p), 16384u);
    EXPECT_EQ(slab_statistics(s).large_kmalloc_pages, 4u);
    kfree(s, p);
    EXPECT_EQ(slab_statistics(s).large_kmalloc_pages, 0u);
    EXPECT_EQ(kmalloc(s, KMALLOC_MAX_SIZE * 2, GFP_KERNEL | __GFP_NOWARN), nullptr);
    expect_clean(s);
}

TEST(Kmalloc, KreallocKeepsGrowsAndFrees) {
    System s(small_config());
    auto *p = static_cast<char *>(kmalloc(s, 40, GFP_KERNEL));
    std::strcpy(p, "kernel");
    EXPECT_EQ(krealloc(s, p, 60, GFP_KERNEL), p); // still fits kmalloc-64
    auto *q = static_cast<char *>(krealloc(s, p, 1000, GFP_KERNEL));
    ASSERT_NE(q, p);
    EXPECT_STREQ(q, "kernel");
    EXPECT_EQ(krealloc(s, q, 0, GFP_KERNEL), ZERO_SIZE_PTR);
    char *d = kstrdup(s, "dentry", GFP_KERNEL);
    EXPECT_STREQ(d, "dentry");
    EXPECT_EQ(ksize(s, d), 8u);
    kfree(s, d);
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(Kmalloc, SlabBugMaskIsReportedFixedAndServed) {
    System s(small_config());
    collected got;
    got.attach(s);
    void *p = kmalloc(s, 64, GFP_KERNEL | __GFP_HIGHMEM);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(got.has(invariant::bad_input, "invalid slab mask"));
    EXPECT_EQ(s.virt_to_page(p)->zone, ZONE_NORMAL);
    kfree(s, p);
    void *big = kmalloc(s, 20000, GFP_KERNEL | __GFP_DMA32);
    ASSERT_NE(big, nullptr);
    EXPECT_EQ(got.v.size(), 2u);
    kfree(s, big);
}

// --- init_on_alloc / init_on_free ---------------------------------------------------------

bool all_zero(const void *p, std::size_t n) {
    const auto *b = static_cast<const unsigned char *>(p);
    return std::all_of(b, b + n, [](unsigned char x) { return x == 0; });
}

TEST(SlabInit, InitOnAllocZeroesAllButConstructedAndPoisonedCaches) {
    system_config cfg = small_config();
    cfg.init_on_alloc = true;
    System s(cfg);
    void *p = kmalloc(s, 200, GFP_KERNEL);
    std::memset(p, 0xee, 200);
    kfree(s, p);
    void *q = kmalloc(s, 200, GFP_KERNEL);
    ASSERT_EQ(q, p);
    EXPECT_TRUE(all_zero(q, 200));
    kfree(s, q);
    kmem_cache *ctor =
        kmem_cache_create(s, "ctor", 64, 0, 0, [](void *o) { std::memset(o, 0x11, 64); });
    auto *o = static_cast<unsigned char *>(kmem_cache_alloc(ctor, GFP_KERNEL | __GFP_ZERO));
    EXPECT_EQ(o[0], 0x11) << "init_on_alloc: a constructed object is never zeroed";
    kmem_cache_free(ctor, o);
    kmem_cache *poison = kmem_cache_create(s, "poison", 64, nullptr, SLAB_POISON);
    auto *x = static_cast<unsigned char *>(kmem_cache_alloc(poison, GFP_KERNEL));
    EXPECT_EQ(x[0], 0x6b);
    kmem_cache_free(poison, x);
    x = static_cast<unsigned char *>(kmem_cache_alloc(poison, GFP_KERNEL | __GFP_ZERO));
    EXPECT_TRUE(all_zero(x, 64));
    kmem_cache_free(poison, x);
    kmem_cache_destroy(ctor);
    kmem_cache_destroy(poison);
    // new_slab()'s WARN for __GFP_ZERO on a cache with a constructor.
    EXPECT_EQ(s.report_count(), 1u);
}

TEST(SlabInit, InitOnFreeZeroesOnFreeAndWipesTheFreePointer) {
    system_config cfg = small_config();
    cfg.init_on_free = true;
    System s(cfg);
    kmem_cache *c = kmem_cache_create(s, "wiped", 64, nullptr, 0);
    auto *p = static_cast<unsigned char *>(kmem_cache_alloc(c, GFP_KERNEL));
    std::memset(p, 0xee, 64);
    kmem_cache_free(c, p);
    const unsigned offset = kmem_cache_stats(c).offset; // the free pointer's word
    EXPECT_TRUE(all_zero(p, offset));
    EXPECT_TRUE(all_zero(p + offset + 8, 64 - offset - 8));
    auto *q = static_cast<unsigned char *>(kmem_cache_alloc(c, GFP_KERNEL));
    ASSERT_EQ(q, p);
    EXPECT_TRUE(all_zero(q, 64));
    kmem_cache_free(c, q);
    kmem_cache_destroy(c);
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(SlabInit, EnvironmentSetsBoth) {
    setenv("GFPLAB_INIT_ON_ALLOC", "1", 1);
    setenv("GFPLAB_INIT_ON_FREE", "1", 1);
    const system_config c = config_from_env();
    unsetenv("GFPLAB_INIT_ON_ALLOC");
    unsetenv("GFPLAB_INIT_ON_FREE");
    EXPECT_TRUE(c.init_on_alloc);
    EXPECT_TRUE(c.init_on_free);
    EXPECT_FALSE(config_from_env().init_on_alloc);
}

// --- failslab (6.12 mm/failslab.c) ----------------------------------------------------------

TEST(Failslab, DefaultsFiltersAndCacheFilter) {
    System s(small_config());
    failslab &f = s.failslab();
    EXPECT_TRUE(f.ignore_gfp_wait());
    EXPECT_FALSE(f.cache_filter());
    EXPECT_EQ(f.probability(), 0ul);
    f.set_probability(100);
    f.set_times(-1);
    EXPECT_EQ(kmalloc(s, 64, GFP_ATOMIC | __GFP_NOWARN), nullptr);
    void *sleeping = kmalloc(s, 64, GFP_KERNEL); // may sleep: spared by default
    EXPECT_NE(sleeping, nullptr);
    EXPECT_NE(kmalloc(s, 64, GFP_ATOMIC | __GFP_NOFAIL), nullptr) << "NOFAIL is never failed";
    void *large = kmalloc(s, 20000, GFP_ATOMIC); // a page allocation: not failslab's
    EXPECT_NE(large, nullptr);
    f.set_ignore_gfp_wait(false);
    EXPECT_EQ(kmalloc(s, 64, GFP_KERNEL), nullptr);
    // cache-filter: only caches created with SLAB_FAILSLAB.
    f.set_cache_filter(true);
    kmem_cache *marked = kmem_cache_create(s, "marked", 32, nullptr, SLAB_FAILSLAB);
    kmem_cache *plain = kmem_cache_create(s, "plain", 32, nullptr, 0);
    EXPECT_EQ(kmem_cache_alloc(marked, GFP_KERNEL), nullptr);
    void *p = kmem_cache_alloc(plain, GFP_KERNEL);
    EXPECT_NE(p, nullptr);
    EXPECT_EQ(f.injected(), 3u);
    f.set_probability(0);
    kmem_cache_free(plain, p);
    kfree(s, sleeping);
    kfree(s, large);
    kmem_cache_destroy(marked);
    kmem_cache_destroy(plain);
}

TEST(Failslab, FailNthCountsOnlyCallsPastTheFilters) {
    System s(small_config());
    set_current_fail_nth(2);
    void *a = kmalloc(s, 64, GFP_KERNEL);                // ignore-gfp-wait: filtered, not counted
    void *b = kmalloc(s, 64, GFP_ATOMIC);                // counted: 1
    void *c = kmalloc(s, 64, GFP_ATOMIC | __GFP_NOWARN); // counted: 2, fails
    EXPECT_NE(a, nullptr);
    EXPECT_NE(b, nullptr);
    EXPECT_EQ(c, nullptr);
    EXPECT_EQ(current_fail_nth(), 0u);
    set_current_fail_nth(0);
    kfree(s, a);
    kfree(s, b);
}

// --- the oracle: I17, I18 and bad input ----------------------------------------------------

TEST(SlabOracle, DoubleFreeIsRefused) {
    System s(small_config());
    collected got;
    got.attach(s);
    void *p = kmalloc(s, 32, GFP_KERNEL);
    kfree(s, p);
    kfree(s, p);
    EXPECT_TRUE(got.has(invariant::slab_object, "double free"));
    EXPECT_EQ(got.v.size(), 1u);
    // The freelist is intact: two allocations give two objects.
    void *a = kmalloc(s, 32, GFP_KERNEL);
    void *b = kmalloc(s, 32, GFP_KERNEL);
    EXPECT_NE(a, b);
    kfree(s, a);
    kfree(s, b);
    EXPECT_EQ(got.v.size(), 1u);
}

TEST(SlabOracle, WrongCacheAndInteriorPointersAreRefused) {
    System s(small_config());
    collected got;
    got.attach(s);
    kmem_cache *a = kmem_cache_create(s, "a", 48, nullptr, 0);
    kmem_cache *b = kmem_cache_create(s, "b", 48, nullptr, 0);
    void *obj = kmem_cache_alloc(a, GFP_KERNEL);
    kmem_cache_free(b, obj);
    EXPECT_TRUE(got.has(invariant::slab_object, "wrong cache"));
    kmem_cache_free(a, static_cast<char *>(obj) + 8);
    EXPECT_TRUE(got.has(invariant::slab_object, "not an object start"));
    kmem_cache_free(a, obj); // the real free still works
    EXPECT_EQ(got.v.size(), 2u);
    kmem_cache_destroy(a);
    kmem_cache_destroy(b);
    EXPECT_EQ(got.v.size(), 2u);
}

TEST(SlabOracle, PagesAndSlabsAreNotInterchangeable) {
    System s(small_config());
    collected got;
    got.attach(s);
    page *pg = s.alloc_pages(GFP_KERNEL, 0);
    kfree(s, s.page_address(pg));
    EXPECT_TRUE(got.has(invariant::bad_input, "kfree of a page"));
    s.free_pages(pg, 0);
    void *obj = kmalloc(s, 64, GFP_KERNEL);
    s.free_pages(s.virt_to_page(obj), 0);
    EXPECT_TRUE(got.has(invariant::bad_input, "free of a slab page"));
    int on_stack = 0;
    kfree(s, &on_stack);
    EXPECT_TRUE(got.has(invariant::bad_input, "foreign pointer"));
    kfree(s, obj);
    EXPECT_EQ(got.v.size(), 3u);
    expect_clean(s);
}

TEST(SlabOracle, NodesMustExist) {
    System s(small_config());
    collected got;
    got.attach(s);
    EXPECT_EQ(kmalloc(s, 64, GFP_KERNEL, 3), nullptr);
    EXPECT_TRUE(got.has(invariant::bad_input, "invalid node"));
    void *p = kmalloc(s, 64, GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(s.virt_to_page(p)->node, 0);
    kfree(s, p);
    EXPECT_EQ(got.v.size(), 1u);
}

TEST(SlabOracle, DestroyWithLiveObjectsIsRefusedAndKeepsTheCache) {
    System s(small_config());
    collected got;
    got.attach(s);
    kmem_cache *c = kmem_cache_create(s, "leaky", 128, nullptr, 0);
    void *live = kmem_cache_alloc(c, GFP_KERNEL);
    kmem_cache_destroy(c);
    ASSERT_TRUE(got.has(invariant::bad_input, "destroy with live objects"));
    EXPECT_NE(got.v[0].message.find("1 objects"), std::string::npos) << got.v[0].message;
    kmem_cache_free(c, live); // the cache is still there
    kmem_cache_destroy(c);
    EXPECT_EQ(got.v.size(), 1u);
}

TEST(SlabOracle, RedZoneOverwriteIsCaughtOnFree) {
    System s(small_config());
    collected got;
    got.attach(s);
    kmem_cache *c = kmem_cache_create(s, "rz", 24, nullptr, SLAB_RED_ZONE);
    auto *p = static_cast<unsigned char *>(kmem_cache_alloc(c, GFP_KERNEL));
    p[24] = 0; // one byte past the object
    kmem_cache_free(c, p);
    EXPECT_TRUE(got.has(invariant::slab_object, "red zone overwritten"));
    auto *q = static_cast<unsigned char *>(kmem_cache_alloc(c, GFP_KERNEL));
    q[-1] = 0; // one byte before
    kmem_cache_free(c, q);
    EXPECT_EQ(got.v.size(), 2u);
    kmem_cache_destroy(c);
}

TEST(SlabOracle, PoisonCatchesAWriteAfterFree) {
    System s(small_config());
    collected got;
    got.attach(s);
    kmem_cache *c = kmem_cache_create(s, "poison", 64, nullptr, SLAB_POISON);
    auto *p = static_cast<unsigned char *>(kmem_cache_alloc(c, GFP_KERNEL));
    EXPECT_TRUE(got.v.empty());
    kmem_cache_free(c, p);
    EXPECT_EQ(p[10], 0x6b);
    p[10] = 1; // use after free
    auto *q = static_cast<unsigned char *>(kmem_cache_alloc(c, GFP_KERNEL));
    EXPECT_EQ(q, p);
    EXPECT_TRUE(got.has(invariant::slab_object, "use after free"));
    kmem_cache_free(c, q);
    kmem_cache_destroy(c);
}

TEST(SlabOracle, SlabPagesHaveTheirCachesMobility) {
    System s(small_config());
    kmem_cache *rcl = kmem_cache_create(s, "dentry", 192, nullptr, SLAB_RECLAIM_ACCOUNT);
    kmem_cache *dma32 = kmem_cache_create(s, "dma32", 512, nullptr, SLAB_CACHE_DMA32);
    std::vector<void *> a, b;
    for (int i = 0; i < 300; i++) {
        a.push_back(kmem_cache_alloc(rcl, GFP_KERNEL));
        b.push_back(kmem_cache_alloc(dma32, GFP_KERNEL));
    }
    for (void *p : a)
        EXPECT_EQ(s.virt_to_page(p)->alloc_mt.load(), MIGRATE_RECLAIMABLE);
    for (void *p : b)
        EXPECT_LE(s.virt_to_page(p)->zone, ZONE_DMA32);
    for (void *p : a)
        kmem_cache_free(rcl, p);
    for (void *p : b)
        kmem_cache_free(dma32, p);
    kmem_cache_destroy(rcl);
    kmem_cache_destroy(dma32);
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(SlabOracle, OffLevelSkipsObjectTracking) {
    system_config cfg = small_config();
    cfg.checking = check_level::off;
    System s(cfg);
    void *p = kmalloc(s, 64, GFP_KERNEL);
    kfree(s, p);
    void *q = kmalloc(s, 64, GFP_KERNEL);
    EXPECT_EQ(p, q);
    kfree(s, q);
    EXPECT_EQ(s.report_count(), 0u);
}

} // namespace
