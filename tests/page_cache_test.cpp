// SPDX-License-Identifier: MIT
//
// The page-cache model under reclaim: what direct reclaim and kswapd may take from the LRU
// lists for a given context (clean file pages always, dirty ones only with __GFP_FS|__GFP_IO,
// anon pages only to free swap with __GFP_IO), second chances, and how the reclaimable
// count feeds the slow path's retry decision.
#include "../lib/src/reclaim/lru.hpp"
#include "../lib/src/reclaim/vmscan.hpp"

#include <gfplab/page_cache.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include "support/memory.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;
using namespace gfplab::test;
using namespace std::chrono_literals;

system_config config(bool kswapd = false, std::uint64_t swap = 0) {
    return reclaim_config(kswapd, 1000, swap);
}

// Filling must neither reclaim nor wake kswapd (it would take from what is being filled).
constexpr gfp_t fill_gfp = (GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) | __GFP_NOWARN;

std::vector<cache_page_id> fill_file(System &s, bool dirty, unsigned long n = ~0ul) {
    std::vector<cache_page_id> ids;
    for (unsigned long i = 0; i < n; i++) {
        cache_page_id id = s.page_cache().add_file(dirty, -1, fill_gfp);
        if (!id)
            break;
        ids.push_back(id);
    }
    return ids;
}

std::vector<cache_page_id> fill_anon(System &s) {
    std::vector<cache_page_id> ids;
    while (cache_page_id id = s.page_cache().add_anon(-1, fill_gfp))
        ids.push_back(id);
    return ids;
}

zone &normal(System &s) {
    return s.node(0).node_zones[ZONE_NORMAL];
}

TEST(PageCache, AddTouchDirtyRemove) {
    System s(config());
    page_cache &pc = s.page_cache();
    cache_page_id f = pc.add_file();
    cache_page_id a = pc.add_anon();
    ASSERT_NE(f, 0u);
    ASSERT_NE(a, 0u);
    EXPECT_EQ(pc.state(f), page_state::clean);
    EXPECT_EQ(pc.state(a), page_state::anon);
    EXPECT_TRUE(pc.mark_dirty(f));
    EXPECT_FALSE(pc.mark_dirty(a)) << "only file pages get dirty";
    EXPECT_EQ(pc.state(f), page_state::dirty);
    EXPECT_EQ(pc.nr_dirty(), 1u);
    EXPECT_TRUE(pc.touch(a));
    EXPECT_EQ(pc.lru_size(0, LRU_FILE), 1u);
    EXPECT_EQ(pc.lru_size(0, LRU_ANON), 1u);
    EXPECT_EQ(pc.zone_reclaimable_pages(0, ZONE_NORMAL), 1u) << "no swap: anon does not count";
    EXPECT_TRUE(pc.remove(f));
    EXPECT_FALSE(pc.remove(f));
    EXPECT_EQ(pc.state(f), page_state::gone);
    EXPECT_EQ(pc.nr_dirty(), 0u);
    EXPECT_TRUE(pc.remove(a));
    EXPECT_EQ(pc.nr_file_pages() + pc.nr_anon_pages(), 0u);
    expect_clean(s);
}

TEST(PageCache, DirectReclaimFreesCleanFilePagesForGfpKernel) {
    System s(config());
    page_cache &pc = s.page_cache();
    auto ids = fill_file(s, false);
    auto rest = exhaust(s);
    const unsigned long cached = pc.nr_file_pages();
    ASSERT_GT(cached, 10000u);
    EXPECT_EQ(zone_reclaimable_pages(s, normal(s)), cached);
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    EXPECT_LT(pc.nr_file_pages(), cached);
    EXPECT_GE(pc.stats().pgsteal, SWAP_CLUSTER_MAX);
    EXPECT_EQ(pc.stats().pgwriteback, 0u);
    EXPECT_GE(s.stats().direct_reclaimed.load(), SWAP_CLUSTER_MAX) << "credited once, in full";
    // The ids of reclaimed pages are gone; removing them is refused quietly.
    unsigned long gone = 0;
    for (cache_page_id id : ids)
        gone += pc.state(id) == page_state::gone;
    EXPECT_EQ(gone, cached - pc.nr_file_pages());
    s.free_pages(p, 0);
    release(s, rest);
    expect_clean(s);
    EXPECT_EQ(s.report_count(), 0u);
}

TEST(PageCache, DirtyPagesAreWrittenBackUnderGfpKernel) {
    System s(config());
    page_cache &pc = s.page_cache();
    fill_file(s, true);
    auto rest = exhaust(s);
    const unsigned long dirty = pc.nr_dirty();
    ASSERT_GT(dirty, 10000u);
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    EXPECT_GT(pc.stats().pgwriteback, 0u);
    EXPECT_EQ(pc.stats().pgwriteback, pc.stats().pgsteal) << "written back and freed";
    EXPECT_LT(pc.nr_dirty(), dirty);
    s.free_pages(p, 0);
    release(s, rest);
    expect_clean(s);
}

TEST(PageCache, DirtyPagesStayWithoutFsOrIo) {
    System s(config());
    page_cache &pc = s.page_cache();
    fill_file(s, true);
    auto rest = exhaust(s);
    const unsigned long dirty = pc.nr_dirty();
    ASSERT_GT(dirty, 10000u);
    // NORETRY: one round of reclaim, then failure (without it these loop: see below).
    EXPECT_EQ(s.alloc_pages(GFP_NOFS | __GFP_NORETRY | __GFP_NOWARN, 0), nullptr);
    EXPECT_EQ(s.alloc_pages(GFP_NOIO | __GFP_NORETRY | __GFP_NOWARN, 0), nullptr);
    {
        nofs_scope nofs;
        EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0), nullptr);
    }
    unsigned noio = memalloc_noio_save();
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0), nullptr);
    memalloc_noio_restore(noio);
    EXPECT_EQ(pc.nr_dirty(), dirty);
    EXPECT_EQ(pc.stats().pgwriteback, 0u);
    EXPECT_GT(pc.stats().pgscan, 0u) << "scanned, and put back";
    EXPECT_EQ(pc.stats().pgscan, pc.stats().pgrotated);
    release(s, rest);
    expect_clean(s);
}

TEST(PageCache, AnonGoesToSwapOnlyWithSwapAndIo) {
    System s(config(false, 64ull << 20 >> PAGE_SHIFT));
    page_cache &pc = s.page_cache();
    auto ids = fill_anon(s);
    auto rest = exhaust(s);
    const unsigned long anon = pc.nr_anon_pages();
    ASSERT_GT(anon, 10000u);
    EXPECT_EQ(zone_reclaimable_pages(s, normal(s)), anon);
    EXPECT_EQ(s.alloc_pages(GFP_NOIO | __GFP_NORETRY | __GFP_NOWARN, 0), nullptr);
    EXPECT_EQ(pc.nr_swapped(), 0u);
    EXPECT_EQ(pc.nr_anon_pages(), anon);
    // GFP_NOFS may do IO: swap is not a filesystem (may_enter_fs for swap-backed pages).
    page *p = s.alloc_pages(GFP_NOFS, 0);
    ASSERT_NE(p, nullptr);
    const unsigned long out = pc.nr_swapped();
    EXPECT_GT(out, 0u);
    EXPECT_EQ(pc.nr_anon_pages(), anon - out);
    EXPECT_EQ(pc.stats().pswpout, out);
    // Back in, and out of the cache altogether.
    cache_page_id swapped = 0;
    for (cache_page_id id : ids)
        if (pc.state(id) == page_state::swapped) {
            swapped = id;
            break;
        }
    ASSERT_NE(swapped, 0u);
    s.free_pages(p, 0);
    release(s, rest);
    // The swap-in allocation may itself reclaim (memory is still tight), swapping others out.
    EXPECT_TRUE(pc.swap_in(swapped));
    EXPECT_EQ(pc.state(swapped), page_state::anon);
    EXPECT_EQ(pc.stats().pswpin, 1u);
    for (cache_page_id id : ids)
        EXPECT_TRUE(pc.remove(id));
    EXPECT_EQ(pc.nr_swapped(), 0u);
    expect_clean(s);
}

TEST(PageCache, AnonStaysWithoutSwap) {
    System s(config());
    page_cache &pc = s.page_cache();
    fill_anon(s);
    auto rest = exhaust(s);
    const unsigned long anon = pc.nr_anon_pages();
    EXPECT_EQ(zone_reclaimable_pages(s, normal(s)), 0u);
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0), nullptr);
    EXPECT_EQ(pc.nr_anon_pages(), anon);
    EXPECT_EQ(pc.stats().pgscan, 0u) << "without swap the anon list is not even scanned";
    release(s, rest);
    expect_clean(s);
}

TEST(PageCache, ReferencedPagesSurviveOnePass) {
    System s(config());
    page_cache &pc = s.page_cache();
    auto ids = fill_file(s, false, 100);
    ASSERT_EQ(ids.size(), 100u);
    for (std::size_t i = 0; i < ids.size(); i += 2)
        pc.touch(ids[i]);
    scan_control sc;
    sc.priority = 0; // the whole list
    sc.nr_to_reclaim = ~0ul;
    shrink_lruvec(s, 0, sc);
    EXPECT_EQ(sc.nr_scanned, 100u);
    for (std::size_t i = 0; i < ids.size(); i++)
        EXPECT_EQ(pc.state(ids[i]), i % 2 ? page_state::gone : page_state::clean) << i;
    shrink_lruvec(s, 0, sc);
    EXPECT_EQ(pc.nr_file_pages(), 0u) << "the second chance is used up";
    expect_clean(s);
}

TEST(PageCache, KswapdReclaimsThePageCacheBackAboveHigh) {
    // A fallback steal while filling may boost the watermarks after kswapd balanced: the
    // allocation that sees the boost wakes kswapd again (rmqueue()), so it balances anyway.
    System s(config(true));
    page_cache &pc = s.page_cache();
    zone &z = normal(s);
    fill_file(s, false, z.managed_pages - z.low_wmark_pages() + 8);
    const unsigned long cached = pc.nr_file_pages();
    page *p = s.alloc_pages(GFP_KERNEL, 0); // below low: wakes kswapd
    ASSERT_NE(p, nullptr);
    for (int i = 0;
         i < 2500 && (z.page_state_snapshot(NR_FREE_PAGES) <= long(z.high_wmark_pages()) ||
                      !s.kswapd_statistics(0).reclaimed);
         i++)
        std::this_thread::sleep_for(2ms);
    EXPECT_GT(s.kswapd_statistics(0).reclaimed, 0u);
    EXPECT_LT(pc.nr_file_pages(), cached);
    EXPECT_GT(z.page_state_snapshot(NR_FREE_PAGES) + long(s.pcp_count(z)),
              long(z.high_wmark_pages()) - z.drift_bound());
    s.free_pages(p, 0);
}

// Dirty pages count as reclaimable (zone_reclaimable_pages), so a NOFS request that cannot
// write them keeps passing should_reclaim_retry for MAX_RECLAIM_RETRIES rounds; then the OOM
// path reports progress without killing (!__GFP_FS) and the loop starts over: as in the
// kernel, it loops until someone else frees memory. Here a helper does, once the loop has
// gone round more than MAX_RECLAIM_RETRIES times.
TEST(PageCache, NofsWithOnlyDirtyPagesLoopsUntilSomeoneFrees) {
    System s(config());
    s.set_log_sink([](const std::string &) {});
    page_cache &pc = s.page_cache();
    auto ids = fill_file(s, true);
    auto rest = exhaust(s);
    const unsigned long dirty = pc.nr_dirty();
    ASSERT_GT(zone_reclaimable_pages(s, normal(s)), 0u);
    std::atomic<unsigned long> dirty_when_freed{0};
    std::thread helper([&] {
        for (int i = 0; i < 5000 && s.stats().allocstall_total() <= MAX_RECLAIM_RETRIES + 4; i++)
            std::this_thread::sleep_for(1ms);
        dirty_when_freed = pc.nr_dirty();
        // The user truncates some files: their pages go without writeback.
        for (std::size_t i = 0; i < 256; i++)
            pc.remove(ids[i]);
        release(s, rest);
    });
    page *p = s.alloc_pages(GFP_NOFS, 0);
    helper.join();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(dirty_when_freed.load(), dirty) << "nothing written back without __GFP_FS";
    EXPECT_GT(s.stats().allocstall_total(), unsigned(MAX_RECLAIM_RETRIES));
    EXPECT_GE(s.stats().oom_nofs.load(), 1u) << "the OOM path reported progress, no kill";
    EXPECT_EQ(s.stats().oom_kill.load(), 0u);
    s.free_pages(p, 0);
    expect_clean(s);
}

} // namespace
