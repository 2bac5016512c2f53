// SPDX-License-Identifier: MIT
//
// vmalloc and kvmalloc against 6.12's mm/vmalloc.c and mm/util.c: areas are virtually
// contiguous over pages that need not be physically contiguous, vmalloc_to_page() finds
// each page, GFP_NOFS/GFP_NOIO reach the page-table allocations through the scope API,
// kvmalloc() falls back by 6.12's rules, and misuse is refused (I16).
#include <gfplab/caches.hpp>
#include <gfplab/fault_inject.hpp>
#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/page.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmalloc.hpp>

#include "support/memory.hpp"
#include "support/reports.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace {

using namespace gfplab;
using test::expect_clean;

system_config small_config() {
    system_config c;
    c.memory_bytes = 64ull << 20;
    c.dma32_limit = 32ull << 20;
    c.cpus = 2;
    c.warn_alloc = false;
    c.kswapd = false;
    return c;
}

using test::collected;

TEST(Vmalloc, AnAreaIsContiguousOverScatteredPages) {
    System s(small_config());
    // Scatter the free pages: take 64, give back every other one.
    std::vector<page *> held;
    for (int i = 0; i < 64; i++)
        held.push_back(s.alloc_pages(GFP_KERNEL, 0));
    for (std::size_t i = 0; i < held.size(); i += 2)
        s.free_pages(held[i], 0);
    const std::size_t size = 1 << 20;
    auto *v = static_cast<unsigned char *>(vmalloc(s, size));
    ASSERT_NE(v, nullptr);
    EXPECT_TRUE(is_vmalloc_addr(s, v));
    EXPECT_FALSE(is_vmalloc_addr(s, s.page_address(held[1])));
    for (std::size_t i = 0; i < size; i++)
        v[i] = static_cast<unsigned char>(i * 7);
    // Every page of the area is a page of the System holding what was written through it.
    bool scattered = false;
    for (std::size_t off = 0; off < size; off += PAGE_SIZE) {
        page *p = vmalloc_to_page(s, v + off + 100);
        ASSERT_NE(p, nullptr);
        const auto *alias = static_cast<const unsigned char *>(s.page_address(p));
        ASSERT_EQ(std::memcmp(alias, v + off, PAGE_SIZE), 0) << "offset " << off;
        if (off && s.page_to_pfn(p) != s.page_to_pfn(vmalloc_to_page(s, v + off - 1)) + 1)
            scattered = true;
    }
    EXPECT_TRUE(scattered) << "the pages were all contiguous: the test proves nothing";
    EXPECT_EQ(vmalloc_to_page(s, v + size), nullptr) << "the guard page maps nothing";
    auto st = vmalloc_statistics(s);
    EXPECT_EQ(st.areas, 1u);
    EXPECT_EQ(st.pages, size / PAGE_SIZE);
    EXPECT_GE(st.pagetables, 1u);
    EXPECT_GT(st.mappings, 1u);
    vfree(s, v);
    st = vmalloc_statistics(s);
    EXPECT_EQ(st.areas, 0u);
    EXPECT_EQ(st.pages, 0u);
    EXPECT_EQ(st.mappings, 0u);
    for (std::size_t i = 1; i < held.size(); i += 2)
        s.free_pages(held[i], 0);
    EXPECT_EQ(s.report_count(), 0u);
    expect_clean(s);
}

TEST(Vmalloc, VzallocZeroesAndSizesFrom4KiBTo4MiB) {
    System s(small_config());
    for (std::size_t size = 4096; size <= (4u << 20); size *= 4) {
        auto *v = static_cast<unsigned char *>(vzalloc(s, size));
        ASSERT_NE(v, nullptr) << size;
        EXPECT_TRUE(std::all_of(v, v + size, [](unsigned char c) { return c == 0; }));
        std::memset(v, 0xab, size);
        EXPECT_EQ(vmalloc_size(s, v), size);
        vfree(s, v);
    }
    EXPECT_EQ(vmalloc(s, 0), nullptr);
    EXPECT_EQ(vmalloc(s, 128ull << 20), nullptr) << "more than the System's memory";
    expect_clean(s);
}

TEST(Vmalloc, GfpNofsReachesThePageTablesThroughTheScope) {
    System s(small_config());
    collected c;
    c.attach(s);
    object_cache fs(s, "vmfs"); // its lock is taken by its shrinker under __GFP_FS reclaim
    fs.fs_lock().lock();
    void *v = vmalloc_node(s, 256 << 10, GFP_NOFS, -1);
    fs.fs_lock().unlock();
    ASSERT_NE(v, nullptr);
    EXPECT_TRUE(c.v.empty()) << "page tables allocated with __GFP_FS under the fs lock: "
                             << format_violation(c.v.front());
    vfree(s, v);
    // The control: GFP_KERNEL under the same lock is the hazard the scope avoided (I9).
    fs.fs_lock().lock();
    v = vmalloc(s, 64 << 10);
    fs.fs_lock().unlock();
    EXPECT_TRUE(c.has(invariant::reclaim_recursion, "possible reclaim recursion deadlock"));
    vfree(s, v);
}

TEST(Kvmalloc, TheKmallocAttemptIsQuietAndBriefAboveAPage) {
    // 6.12 kmalloc_gfp_adjust(), row by row.
    EXPECT_EQ(kmalloc_gfp_adjust(GFP_KERNEL, 4096), GFP_KERNEL);
    EXPECT_EQ(kmalloc_gfp_adjust(GFP_KERNEL, 4097), GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY);
    EXPECT_EQ(kmalloc_gfp_adjust(GFP_KERNEL | __GFP_RETRY_MAYFAIL, 8192),
              GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
    EXPECT_EQ(kmalloc_gfp_adjust(GFP_KERNEL | __GFP_NOFAIL, 8192),
              GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY);
    EXPECT_EQ(kmalloc_gfp_adjust(GFP_KERNEL | __GFP_NOFAIL, 100), GFP_KERNEL | __GFP_NOFAIL);
    EXPECT_EQ(kmalloc_gfp_adjust(GFP_NOFS, 1 << 20), GFP_NOFS | __GFP_NOWARN | __GFP_NORETRY);
}

TEST(Kvmalloc, FallsBackToVmallocByTheRules) {
    System s(small_config());
    auto &f = s.fault_injection(); // every page allocation of order >= 1 fails
    f.set_min_order(1);
    f.set_ignore_gfp_wait(false);
    f.set_times(-1);
    f.set_probability(100);
    struct row {
        gfp_t gfp;
        std::size_t size;
        bool served, vmalloced;
    };
    const row rows[] = {
        {GFP_KERNEL, 64 << 10, true, true}, // kmalloc fails: vmalloc
        {GFP_NOFS, 64 << 10, true, true},   // NOFS may use vmalloc since 5.17
        {GFP_NOIO, 64 << 10, true, true},   // so may NOIO
        {GFP_KERNEL | __GFP_NOFAIL, 64 << 10, true, true},
        {GFP_KERNEL | __GFP_RETRY_MAYFAIL, 64 << 10, true, true},
        {GFP_ATOMIC, 64 << 10, false, false}, // may not sleep: no vmalloc
        {GFP_NOWAIT, 64 << 10, false, false},
        {GFP_KERNEL, 4096, true, false}, // a page: kmalloc's order-0 slab
        {GFP_KERNEL, 2000, true, false},
    };
    for (const row &r : rows) {
        void *p = kvmalloc(s, r.size, r.gfp);
        EXPECT_EQ(p != nullptr, r.served) << gfp_describe(r.gfp) << " " << r.size;
        EXPECT_EQ(is_vmalloc_addr(s, p), r.vmalloced) << gfp_describe(r.gfp) << " " << r.size;
        kvfree(s, p);
    }
    f.set_probability(0);
    void *k = kvmalloc(s, 64 << 10, GFP_KERNEL); // no failure: a large kmalloc
    EXPECT_NE(k, nullptr);
    EXPECT_FALSE(is_vmalloc_addr(s, k));
    // kvrealloc(): grown past what kmalloc can give (failing again), it moves to vmalloc
    std::memset(k, 0x3c, 64 << 10);
    f.set_probability(100);
    auto *g = static_cast<unsigned char *>(kvrealloc(s, k, 256 << 10, GFP_KERNEL));
    f.set_probability(0);
    ASSERT_NE(g, nullptr);
    EXPECT_TRUE(is_vmalloc_addr(s, g));
    EXPECT_TRUE(std::all_of(g, g + (64 << 10), [](unsigned char c) { return c == 0x3c; }));
    g = static_cast<unsigned char *>(kvrealloc(s, g, 300 << 10, GFP_KERNEL)); // vrealloc
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(g[1000], 0x3c);
    kvfree(s, g);
    EXPECT_EQ(kvmalloc_array(s, ~0ul / 2, 4, GFP_KERNEL), nullptr) << "overflow";
    EXPECT_EQ(s.report_count(), 0u);
    expect_clean(s);
}

TEST(Vmalloc, MisuseIsRefusedAndTheAllocatorStaysIntact) {
    System s(small_config());
    collected c;
    c.attach(s);
    void *k = kmalloc(s, 128, GFP_KERNEL);
    vfree(s, k); // a kmalloc pointer
    EXPECT_TRUE(c.has(invariant::bad_input, "vfree of a bad address"));
    kfree(s, k);
    void *v = vmalloc(s, 3 * PAGE_SIZE);
    ASSERT_NE(v, nullptr);
    c.v.clear();
    kfree(s, v); // a vmalloc pointer
    EXPECT_TRUE(c.has(invariant::bad_input, "kfree of a vmalloc address"));
    c.v.clear();
    vfree(s, static_cast<char *>(v) + PAGE_SIZE); // inside an area
    EXPECT_TRUE(c.has(invariant::bad_input, "vfree of a bad address"));
    vfree(s, v);
    c.v.clear();
    vfree(s, v); // twice
    EXPECT_TRUE(c.has(invariant::bad_input, "vfree of a bad address"));
    EXPECT_EQ(vmalloc_statistics(s).areas, 0u);
    vfree(s, nullptr); // a no-op
    expect_clean(s);
}

TEST(Vmalloc, KvfreeRcuTakesVmallocAreasToo) {
    system_config cfg = small_config();
    cfg.kfree_rcu_thread = false;
    System s(cfg);
    void *v = vmalloc(s, 40 << 10);
    ASSERT_NE(v, nullptr);
    kvfree_rcu_mightsleep(s, v);
    EXPECT_EQ(vmalloc_statistics(s).areas, 1u) << "still waiting for its grace period";
    kvfree_rcu_barrier(s);
    EXPECT_EQ(vmalloc_statistics(s).areas, 0u);
    EXPECT_EQ(s.report_count(), 0u);
}

} // namespace
