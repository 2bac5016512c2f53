// SPDX-License-Identifier: MIT
//
// Memory pools against Linux 6.12 mm/mempool.c: the masks of the two rounds, the reserve
// used only after the allocator failed, a sleeping mask never failing (I19) but waiting for
// a free, frees refilling the reserve first, resize, and bad input.
#include <gfplab/fault_inject.hpp>
#include <gfplab/linux/gfp.h>
#include <gfplab/mempool.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;

system_config small_config() {
    system_config c;
    c.memory_bytes = 32ull << 20;
    c.dma32_limit = 16ull << 20;
    c.cpus = 2;
    c.warn_alloc = false;
    c.kswapd = false;
    return c;
}

// An allocator that records the masks it is asked with and fails while `failing` is set.
struct recording {
    System *s = nullptr;
    kmem_cache *cache = nullptr;
    std::vector<gfp_t> masks;
    bool failing = false;
    static void *alloc(gfp_t gfp, void *data) {
        auto *r = static_cast<recording *>(data);
        r->masks.push_back(gfp);
        return r->failing ? nullptr : kmem_cache_alloc(r->cache, gfp);
    }
    static void free(void *element, void *data) {
        kmem_cache_free(static_cast<recording *>(data)->cache, element);
    }
};

TEST(Mempool, FirstRoundNeitherReclaimsNorDoesIo) {
    System s(small_config());
    recording r;
    r.s = &s;
    r.cache = kmem_cache_create(s, "rec", 64, nullptr, 0);
    mempool_t *pool =
        mempool_create_node(s, 2, recording::alloc, recording::free, &r, GFP_KERNEL, NUMA_NO_NODE);
    ASSERT_NE(pool, nullptr);
    EXPECT_EQ(pool->curr_nr, 2);
    ASSERT_EQ(r.masks.size(), 2u);
    EXPECT_EQ(r.masks[0], GFP_KERNEL); // the reserve is filled with the creator's mask
    r.masks.clear();
    r.failing = true;
    void *e = mempool_alloc(pool, GFP_KERNEL);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(pool->curr_nr, 1); // from the reserve, after one failed round
    ASSERT_EQ(r.masks.size(), 1u);
    const gfp_t first = r.masks[0];
    EXPECT_FALSE(first & (__GFP_DIRECT_RECLAIM | __GFP_IO));
    EXPECT_TRUE(first & __GFP_FS);
    EXPECT_EQ(first & (__GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN),
              __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN);
    // Frees refill the reserve before anything goes back to the allocator.
    mempool_free(e, pool);
    EXPECT_EQ(pool->curr_nr, 2);
    r.failing = false;
    void *a = mempool_alloc(pool, GFP_KERNEL);
    EXPECT_EQ(pool->curr_nr, 2); // the allocator served it
    mempool_free(a, pool);
    EXPECT_EQ(pool->curr_nr, 2);
    EXPECT_EQ(kmem_cache_stats(r.cache).active_objs >= 2, true);
    mempool_destroy(pool);
    kmem_cache_destroy(r.cache);
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(Mempool, EmptyReserveRetriesWithTheFullMaskThenFailsOnlyWhenItMayNotSleep) {
    System s(small_config());
    recording r;
    r.s = &s;
    r.cache = kmem_cache_create(s, "rec", 64, nullptr, 0);
    mempool_t *pool =
        mempool_create_node(s, 1, recording::alloc, recording::free, &r, GFP_KERNEL, NUMA_NO_NODE);
    r.failing = true;
    void *reserved = mempool_alloc(pool, GFP_NOIO);
    ASSERT_NE(reserved, nullptr);
    r.masks.clear();
    EXPECT_EQ(mempool_alloc(pool, GFP_NOWAIT), nullptr);
    EXPECT_EQ(r.masks.size(), 1u); // nothing to drop from GFP_NOWAIT: one round
    r.masks.clear();
    const gfp_t no_sleep_io = GFP_KERNEL & ~__GFP_DIRECT_RECLAIM;
    EXPECT_EQ(mempool_alloc(pool, no_sleep_io), nullptr);
    ASSERT_EQ(r.masks.size(), 2u); // the reduced mask, then the caller's
    EXPECT_FALSE(r.masks[0] & __GFP_IO);
    EXPECT_EQ(r.masks[1], no_sleep_io | __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN);
    EXPECT_EQ(mempool_alloc_preallocated(pool), nullptr);
    mempool_free(reserved, pool);
    EXPECT_EQ(mempool_alloc_preallocated(pool), reserved);
    mempool_free(reserved, pool);
    r.failing = false;
    mempool_destroy(pool);
    kmem_cache_destroy(r.cache);
}

// The scenario: memory exhausted, a GFP_NOIO caller (a block driver in writeback)
// gets the reserve, and the next one waits for a free instead of failing (I19).
TEST(Mempool, NoioCallerGetsTheReserveThenWaitsForAFree) {
    System s(small_config());
    kmem_cache *bios = kmem_cache_create(s, "bio", 256, nullptr, 0);
    mempool_t *pool = mempool_create_node(s, 4, mempool_alloc_slab, mempool_free_slab, bios,
                                          GFP_KERNEL, NUMA_NO_NODE);
    ASSERT_NE(pool, nullptr);
    // Exhaust memory: nothing is reclaimable (no page cache), so only frees give pages back.
    std::vector<page *> hog;
    while (page *p = s.alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0))
        hog.push_back(p);
    // And the cache's free objects, so the first round finds nothing either.
    std::vector<void *> objects;
    while (void *o = kmem_cache_alloc(bios, GFP_NOWAIT | __GFP_NOWARN))
        objects.push_back(o);
    std::vector<void *> got;
    for (int i = 0; i < 4; i++) {
        void *e = mempool_alloc(pool, GFP_NOIO);
        ASSERT_NE(e, nullptr) << "a sleeping mask never fails (I19)";
        got.push_back(e);
    }
    EXPECT_EQ(pool->curr_nr, 0);
    std::atomic<void *> late{nullptr};
    std::atomic<bool> done{false};
    std::thread waiter([&] {
        late = mempool_alloc(pool, GFP_NOIO);
        done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(done.load()) << "no element anywhere: it must wait, not fail";
    void *given = got.back();
    got.pop_back();
    mempool_free(given, pool); // refills the reserve and wakes the waiter
    waiter.join();
    EXPECT_EQ(late.load(), given);
    got.push_back(late.load());
    for (void *e : got)
        mempool_free(e, pool);
    EXPECT_EQ(pool->curr_nr, 4);
    for (page *p : hog)
        s.free_pages(p, 0);
    for (void *o : objects)
        kmem_cache_free(bios, o);
    mempool_destroy(pool);
    kmem_cache_destroy(bios);
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(Mempool, ResizeGrowsAndShrinksTheReserve) {
    System s(small_config());
    kmem_cache *c = kmem_cache_create(s, "rs", 32, nullptr, 0);
    mempool_t *pool = mempool_create_node(s, 2, mempool_alloc_slab, mempool_free_slab, c,
                                          GFP_KERNEL, NUMA_NO_NODE);
    EXPECT_EQ(mempool_resize(pool, 8), 0);
    EXPECT_EQ(pool->min_nr, 8);
    EXPECT_EQ(pool->curr_nr, 8);
    EXPECT_EQ(mempool_resize(pool, 3), 0);
    EXPECT_EQ(pool->curr_nr, 3);
    kmem_cache_shrink(c);
    EXPECT_EQ(kmem_cache_stats(c).active_objs, 3u);
    s.set_report_sink([](const violation &) {});
    EXPECT_EQ(mempool_resize(pool, 0), -EINVAL);
    mempool_destroy(pool);
    kmem_cache_destroy(c);
    EXPECT_EQ(s.report_count(), 1u);
}

TEST(Mempool, ZeroedElementsAreAReportedMistake) {
    System s(small_config());
    std::vector<violation> got;
    s.set_report_sink([&](const violation &v) { got.push_back(v); });
    kmem_cache *c = kmem_cache_create(s, "z", 32, nullptr, 0);
    mempool_t *pool = mempool_create_node(s, 1, mempool_alloc_slab, mempool_free_slab, c,
                                          GFP_KERNEL, NUMA_NO_NODE);
    void *e = mempool_alloc(pool, GFP_KERNEL | __GFP_ZERO);
    EXPECT_NE(e, nullptr);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].what, "mempool __GFP_ZERO");
    mempool_free(e, pool);
    mempool_destroy(pool);
    kmem_cache_destroy(c);
}

} // namespace
