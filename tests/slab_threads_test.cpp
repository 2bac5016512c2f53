// SPDX-License-Identifier: MIT
//
// The slab layer under threads (run under ThreadSanitizer in the tsan suite): objects freed
// on other threads than the one that allocated them, several threads sharing one CPU's
// freelist (the slow path's lock and the tid word), and every slab back once all is freed.
#include <gfplab/linux/gfp.h>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <sched.h>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;

system_config threads_config() {
    system_config c;
    c.memory_bytes = 64ull << 20;
    c.dma32_limit = 32ull << 20;
    c.cpus = 2;
    c.pcp = pcp_mode::virtual_cpus;
    c.warn_alloc = false;
    c.kswapd = false;
    return c;
}

struct held {
    unsigned char *p;
    std::size_t size;
    unsigned char tag;
};

// Producers allocate and fill; consumers check and kfree: every object dies on another
// thread (and often another CPU) than the one that made it.
TEST(SlabThreads, CrossThreadKfree) {
    System s(threads_config());
    std::mutex m;
    std::deque<held> queue;
    std::atomic<int> producers_left{2};
    std::atomic<unsigned long> bad{0};
    constexpr int per_producer = 6000;
    auto producer = [&](unsigned cpu, unsigned seed) {
        set_current_vcpu(cpu);
        std::mt19937 rng(seed);
        for (int i = 0; i < per_producer; i++) {
            const std::size_t size = 1 + rng() % 700;
            auto *p = static_cast<unsigned char *>(kmalloc(s, size, GFP_KERNEL));
            if (!p) {
                bad++;
                continue;
            }
            const auto tag = static_cast<unsigned char>(rng());
            std::memset(p, tag, size);
            std::lock_guard g(m);
            queue.push_back({p, size, tag});
        }
        producers_left--;
    };
    auto consumer = [&](unsigned cpu) {
        set_current_vcpu(cpu);
        for (;;) {
            held h{};
            {
                std::lock_guard g(m);
                if (queue.empty()) {
                    if (producers_left.load() == 0)
                        return;
                } else {
                    h = queue.front();
                    queue.pop_front();
                }
            }
            if (!h.p) {
                std::this_thread::yield();
                continue;
            }
            for (std::size_t i = 0; i < h.size; i++)
                if (h.p[i] != h.tag) {
                    bad++;
                    break;
                }
            kfree(s, h.p);
        }
    };
    std::vector<std::thread> t;
    t.emplace_back(producer, 0, 1);
    t.emplace_back(producer, 1, 2);
    t.emplace_back(consumer, 1);
    t.emplace_back(consumer, 0);
    for (auto &x : t)
        x.join();
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_EQ(s.report_count(), 0u);
    EXPECT_GT(kmem_cache_shrink_all(s), 0u);
    EXPECT_EQ(slab_statistics(s).slabs, 0u);
    s.drain_all_pages();
    for (const auto &v : s.verify())
        ADD_FAILURE() << format_violation(v);
}

// One worker's random allocations and frees of objects of c, at most `cap` held, each
// marked with `id` while held (a second holder would overwrite the mark); `every64` runs
// before every 64th step. Wrong marks and failed allocations count in `bad`.
template <class F>
void churn(kmem_cache *c, unsigned id, int steps, std::size_t cap, std::atomic<unsigned long> &bad,
           std::mt19937 &rng, F &&every64) {
    std::vector<unsigned long *> mine;
    for (int i = 0; i < steps; i++) {
        if (i % 64 == 0)
            every64();
        if (mine.size() < cap && (mine.empty() || rng() % 2)) {
            auto *p = static_cast<unsigned long *>(kmem_cache_alloc(c, GFP_KERNEL));
            if (!p) {
                bad++;
                continue;
            }
            p[0] = id;
            p[4] = id;
            mine.push_back(p);
        } else {
            const std::size_t k = rng() % mine.size();
            unsigned long *p = mine[k];
            if (p[0] != id || p[4] != id)
                bad++;
            mine[k] = mine.back();
            mine.pop_back();
            kmem_cache_free(c, p);
        }
    }
    for (unsigned long *p : mine)
        kmem_cache_free(c, p);
}

// Four threads on one CPU: their fast paths race on one freelist word and their slow paths
// take turns on its lock. Each object holds its thread's mark while held: a second holder
// would overwrite it (and the oracle would report the object handed out twice).
TEST(SlabThreads, ThreadsSharingOneCpu) {
    System s(threads_config());
    kmem_cache *c = kmem_cache_create(s, "shared", 40, nullptr, 0);
    std::atomic<unsigned long> bad{0};
    auto worker = [&](unsigned id) {
        set_current_vcpu(0);
        std::mt19937 rng(id);
        churn(c, id, 20000, 64, bad, rng, [] {});
    };
    std::vector<std::thread> t;
    for (unsigned i = 0; i < 4; i++)
        t.emplace_back(worker, i + 1);
    for (auto &x : t)
        x.join();
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_EQ(s.report_count(), 0u);
    kmem_cache_destroy(c);
    EXPECT_EQ(s.report_count(), 0u); // nothing live: destroyed
}

// The CPU freelists in rseq mode (restartable sequences, slab/rseq_freelist.hpp): four
// threads on a cache keep moving between the CPUs they may use, so that sequences abort
// and slow paths find themselves on another CPU than the one whose word they lock, while
// a fifth flushes every CPU's slab again and again (a remote lock: compare-and-swap, then
// membarrier's fence). A lost update would hand an object out twice: the marks and the
// oracle see it.
TEST(SlabThreads, RseqFreelistsUnderMigrationAndRemoteFlushes) {
    system_config cfg = threads_config();
    cfg.cpus = 0;
    cfg.pcp = pcp_mode::rseq;
    System s(cfg);
    kmem_cache *c = kmem_cache_create(s, "migrating", 40, nullptr, 0);
    if (!s.pcp_uses_rseq())
        GTEST_SKIP() << "no restartable sequences here (the tests above cover the other modes)";
    ASSERT_TRUE(kmem_cache_stats(c).rseq);
    EXPECT_TRUE(kmem_cache_stats(kmalloc_cache(s, KMALLOC_NORMAL, 6)).rseq);
    cpu_set_t allowed;
    ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    std::vector<int> cpus;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &allowed))
            cpus.push_back(i);
    std::atomic<unsigned long> bad{0};
    std::atomic<bool> done{false};
    auto worker = [&](unsigned id) {
        std::mt19937 rng(id);
        churn(c, id, 40000, 100, bad, rng, [&] {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpus[rng() % cpus.size()], &one);
            sched_setaffinity(0, sizeof one, &one);
        });
    };
    std::thread flusher([&] {
        while (!done.load())
            kmem_cache_shrink(c);
    });
    std::vector<std::thread> t;
    for (unsigned i = 0; i < 4; i++)
        t.emplace_back(worker, i + 1);
    for (auto &x : t)
        x.join();
    done = true;
    flusher.join();
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_EQ(s.report_count(), 0u);
    kmem_cache_destroy(c);
    EXPECT_EQ(s.report_count(), 0u);
}

} // namespace
