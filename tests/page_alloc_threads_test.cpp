// SPDX-License-Identifier: MIT
//
// Many threads allocating and freeing at random on one System, with pages handed between
// threads (remote frees). Run under ThreadSanitizer in the tsan suite. At the end the
// System must verify clean, every page must be back, and nothing may have been reported.
#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;

struct handoff {
    std::mutex lock;
    std::vector<std::pair<page *, unsigned>> pages;
};

void worker(System &s, handoff &h, unsigned id, int ops) {
    std::mt19937 rng(1234 + id);
    const gfp_t masks[] = {GFP_KERNEL,
                           GFP_ATOMIC,
                           GFP_NOWAIT,
                           GFP_NOFS,
                           GFP_KERNEL | __GFP_DMA32,
                           GFP_HIGHUSER_MOVABLE,
                           GFP_KERNEL | __GFP_COMP,
                           GFP_KERNEL | __GFP_ZERO};
    std::vector<std::pair<page *, unsigned>> mine;
    for (int i = 0; i < ops; i++) {
        unsigned r = rng() % 16;
        if (r < 8 || mine.empty()) {
            unsigned order = rng() % 8 == 0 ? rng() % (MAX_PAGE_ORDER + 1) : rng() % 4;
            // NORETRY: a full System with nothing reclaimable would otherwise livelock small
            // NOFS requests, as the kernel does ("too small to fail").
            if (page *p = s.alloc_pages(
                    masks[rng() % std::size(masks)] | __GFP_NOWARN | __GFP_NORETRY, order)) {
                // Touch the memory: the owner may write it, nobody else may.
                std::memset(s.page_address(p), int(id), PAGE_SIZE);
                mine.emplace_back(p, order);
            }
        } else if (r < 14) {
            std::swap(mine[rng() % mine.size()], mine.back());
            s.free_pages(mine.back().first, mine.back().second);
            mine.pop_back();
        } else if (r == 14) {
            std::lock_guard<std::mutex> g(h.lock);
            h.pages.push_back(mine.back());
            mine.pop_back();
        } else {
            std::pair<page *, unsigned> got{nullptr, 0};
            {
                std::lock_guard<std::mutex> g(h.lock);
                if (!h.pages.empty()) {
                    got = h.pages.back();
                    h.pages.pop_back();
                }
            }
            if (got.first)
                s.free_pages(got.first, got.second); // a remote free
        }
    }
    for (auto &[p, order] : mine)
        s.free_pages(p, order);
}

class PageAllocThreads : public ::testing::TestWithParam<std::tuple<unsigned, pcp_mode>> {};

TEST_P(PageAllocThreads, RandomAllocFreeAcrossThreads) {
    const auto [threads, mode] = GetParam();
    system_config c;
    c.memory_bytes = 64ull << 20;
    c.dma32_limit = 32ull << 20;
    c.cpus = mode == pcp_mode::virtual_cpus ? 4 : 0; // rseq serves the machine's CPUs
    c.pcp = mode;
    c.warn_alloc = false;
    c.poison = true;
    System s(c);
    handoff h;
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; t++)
        pool.emplace_back([&, t] {
            set_current_vcpu(t); // used in virtual-CPU mode only
            worker(s, h, t, 3000);
        });
    for (auto &t : pool)
        t.join();
    for (auto &[p, order] : h.pages)
        s.free_pages(p, order);
    for (const auto &v : s.verify())
        ADD_FAILURE() << format_violation(v);
    // Everything cached goes back, and the buddy allocator is whole again.
    EXPECT_EQ(s.drain_all_pages(), 0u);
    for (const auto &v : s.verify())
        ADD_FAILURE() << format_violation(v);
    EXPECT_EQ(s.report_count(), 0u);
    unsigned long free_pages = 0;
    for (auto &z : s.node(0).node_zones)
        free_pages += z.page_state_snapshot(NR_FREE_PAGES) + s.pcp_count(z);
    EXPECT_EQ(free_pages, 16384u);
    for (auto &z : s.node(0).node_zones)
        EXPECT_EQ(s.pcp_count(z), 0u);
}

INSTANTIATE_TEST_SUITE_P(Threads, PageAllocThreads,
                         ::testing::Combine(::testing::Values(2u, 4u, 8u, 16u),
                                            ::testing::Values(pcp_mode::automatic, pcp_mode::locked,
                                                              pcp_mode::virtual_cpus)));

} // namespace
