// SPDX-License-Identifier: MIT
//
// alloc_pages_nolock() and free_pages_nolock() (6.15's ALLOC_TRYLOCK and FPI_TRYLOCK, a
// step past 6.12) on both page-frame backends: what they hand out (zeroed, compound, orders
// 0..3 only), that they never wait for zone->lock (the kernel backend fails or defers
// instead; the lock-free one has no lock to wait for), and that they never reclaim, wake
// kswapd or go below the min watermark.
#include "support/backends.hpp"
#include "support/memory.hpp"
#include "support/reports.hpp"

#include <gfplab/memcontrol.hpp>
#include <gfplab/system.hpp>

#include "../lib/src/frames/backend.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;

using test::expect_clean;
using test::free_pages;

system_config config(buddy_backend b) {
    return test::backend_config(b);
}

// Another thread holds every zone's lock until released: what a zone->lock holder that was
// interrupted (the kernel's NMI case) looks like to the interrupting code.
class zone_locks_held {
  public:
    explicit zone_locks_held(System &s) {
        t_ = std::thread([&s, this] { hold(s); });
        while (!held_.load())
            std::this_thread::yield();
    }
    void release() {
        if (t_.joinable()) {
            release_.store(true);
            t_.join();
        }
    }
    ~zone_locks_held() { release(); }

  private:
    // A loop of locks taken and a loop of locks released: more than the analysis follows.
    void hold(System &s) GFPLAB_NO_THREAD_SAFETY_ANALYSIS {
        std::vector<zone *> zs;
        for (auto &z : s.node(0).node_zones)
            if (z.populated())
                zs.push_back(&z);
        for (zone *z : zs)
            z->lock.lock();
        held_.store(true);
        while (!release_.load())
            std::this_thread::yield();
        for (zone *z : zs)
            z->lock.unlock();
    }

    std::atomic<bool> held_{false}, release_{false};
    std::thread t_;
};

class Nolock : public ::testing::TestWithParam<buddy_backend> {};

INSTANTIATE_TEST_SUITE_P(Both, Nolock, test::both_backends, test::backend_param_name);

TEST_P(Nolock, HandsOutZeroedCompoundBlocksOfTheListOrdersOnly) {
    System s(config(GetParam()));
    test::collected r;
    r.attach(s);
    const unsigned long start = free_pages(s);
    for (unsigned order = 0; order <= 3; order++) {
        // Dirty a block and give it back to this CPU's list, where the next request of its
        // order finds it.
        page *dirty = s.alloc_pages(GFP_KERNEL, order);
        ASSERT_NE(dirty, nullptr);
        std::memset(s.page_address(dirty), 0x5a, PAGE_SIZE << order);
        s.free_pages(dirty, order);
        page *p = s.alloc_pages_nolock(0, -1, order);
        ASSERT_NE(p, nullptr) << "order " << order;
        const auto *b = static_cast<const unsigned char *>(s.page_address(p));
        for (std::size_t i = 0; i < (PAGE_SIZE << order); i++)
            ASSERT_EQ(b[i], 0) << "order " << order << " byte " << i;
        // GFP_KERNEL's zone, unmovable, compound above order 0.
        EXPECT_EQ(zone_type(p->zone), ZONE_NORMAL);
        EXPECT_EQ(p->alloc_mt.load(), MIGRATE_UNMOVABLE);
        EXPECT_EQ(bool(p->flags.load() & PG_head), order > 0);
        s.free_pages_nolock(p, order);
    }
    // Above the per-CPU lists' orders it fails at once: no lock, no compaction.
    const auto failures = s.stats().failures.load();
    EXPECT_EQ(s.alloc_pages_nolock(0, -1, 4), nullptr);
    EXPECT_EQ(s.alloc_pages_nolock(0, -1, 9), nullptr);
    EXPECT_EQ(s.stats().failures.load(), failures + 2);
    EXPECT_TRUE(r.v.empty());
    s.drain_all_pages();
    EXPECT_EQ(free_pages(s), start);
    expect_clean(s);
}

TEST_P(Nolock, OnlyAccountMayBeAskedForAndTheNodeMustExist) {
    System s(config(GetParam()));
    test::collected r;
    r.attach(s);
    // Reported, then served as the kernel serves it (a warning there, not a refusal).
    page *p = s.alloc_pages_nolock(GFP_KERNEL, -1, 0);
    EXPECT_TRUE(r.has(invariant::bad_input, "alloc_pages_nolock flags"));
    ASSERT_NE(p, nullptr);
    s.free_pages_nolock(p, 0);
    EXPECT_EQ(s.alloc_pages_nolock(0, 5, 0), nullptr);
    EXPECT_TRUE(r.has(invariant::bad_input, "invalid request"));
    expect_clean(s);
}

TEST_P(Nolock, AccountChargesTheActiveGroup) {
    System s(config(GetParam()));
    const unsigned g = s.mem_cgroup_create("bpf", 4);
    const unsigned old = set_active_memcg(g);
    page *a = s.alloc_pages_nolock(__GFP_ACCOUNT, -1, 1);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(s.memcg(g)->usage_pages.load(), 2u);
    // Over the limit: the page goes straight back (free_pages_nolock in the kernel).
    EXPECT_EQ(s.alloc_pages_nolock(__GFP_ACCOUNT, -1, 2), nullptr);
    EXPECT_EQ(s.memcg(g)->failcnt.load(), 1u);
    s.free_pages_nolock(a, 1);
    EXPECT_EQ(s.memcg(g)->usage_pages.load(), 0u);
    set_active_memcg(old);
    expect_clean(s);
}

// The contract that tells the backends apart: with zone->lock held elsewhere and this
// CPU's lists empty, the kernel backend fails (it may only trylock), the lock-free one
// serves. A request that waited would hang the test.
TEST_P(Nolock, NeverWaitsForZoneLock) {
    System s(config(GetParam()));
    const bool lockfree = GetParam() == buddy_backend::lockfree;
    s.drain_all_pages();
    std::vector<std::pair<page *, unsigned>> got;
    const auto busy = s.stats().nolock_busy.load(), failed = s.stats().nolock_failures.load();
    {
        zone_locks_held locks(s);
        for (unsigned order = 0; order <= 3; order++) {
            page *p = s.alloc_pages_nolock(0, -1, order);
            EXPECT_EQ(p != nullptr, lockfree) << "order " << order;
            if (p)
                got.emplace_back(p, order);
        }
    }
    // Each failure is counted as one that found a lock busy (gfplab_alloc_nolock_busy).
    EXPECT_EQ(s.stats().nolock_failures.load(), failed + (lockfree ? 0 : 4));
    EXPECT_EQ(s.stats().nolock_busy.load(), busy + (lockfree ? 0 : 4));
    // Free again: nothing is left behind.
    for (auto [p, order] : got)
        s.free_pages_nolock(p, order);
    // With the lock free again, the kernel backend serves too.
    page *p = s.alloc_pages_nolock(0, -1, 2);
    ASSERT_NE(p, nullptr);
    s.free_pages_nolock(p, 2);
    expect_clean(s);
}

// A free that finds zone->lock busy is deferred (zone->trylock_free_pages), neither free nor
// held, and the next free that takes the lock puts it back; verify() does the same.
TEST_P(Nolock, AFreeThatFindsZoneLockBusyIsDeferredToTheNextLockedFree) {
    System s(config(GetParam()));
    const bool lockfree = GetParam() == buddy_backend::lockfree;
    const unsigned long start = free_pages(s);
    // Orders above the lists go straight below them.
    page *a = s.alloc_pages(GFP_KERNEL, 5);
    page *b = s.alloc_pages(GFP_KERNEL, 4);
    page *c = s.alloc_pages(GFP_KERNEL, 4);
    ASSERT_TRUE(a && b && c);
    const unsigned long held = free_pages(s);
    {
        zone_locks_held locks(s);
        s.free_pages_nolock(a, 5);
        s.free_pages_nolock(b, 4);
        // The kernel backend could not take the lock: not free yet. The lock-free backend
        // freed them.
        EXPECT_EQ(free_pages(s), lockfree ? held + 32 + 16 : held);
    }
    EXPECT_EQ(free_pages(s), lockfree ? held + 48 : held);
    // An ordinary free holds the lock and takes the deferred blocks with it.
    s.free_pages(c, 4);
    EXPECT_EQ(free_pages(s), held + 64);
    EXPECT_EQ(free_pages(s), start);
    expect_clean(s);

    // verify() frees what is still deferred before it recounts.
    page *d = s.alloc_pages(GFP_KERNEL, 6);
    ASSERT_NE(d, nullptr);
    {
        zone_locks_held locks(s);
        s.free_pages_nolock(d, 6);
    }
    expect_clean(s);
    EXPECT_EQ(free_pages(s), start);
}

// free_unref_page_commit() with FPI_TRYLOCK: the list grows past high rather than drain
// (a drain takes zone->lock); the next ordinary free drains it again.
TEST_P(Nolock, AFreeNeverDrainsTheListPastHigh) {
    System s(config(GetParam()));
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    set_current_vcpu(0);
    s.drain_all_pages();
    std::vector<page *> held;
    for (unsigned long i = 0; i < 2 * z.pcp_high + 4 * z.pcp_batch; i++) {
        page *p = s.alloc_pages(GFP_KERNEL, 0);
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(&s.page_zone(p), &z);
        held.push_back(p);
    }
    // The ordinary frees that follow: high is checked every few frees (pcp.hpp).
    std::vector<page *> last(held.end() - 16, held.end());
    held.resize(held.size() - 16);
    s.drain_all_pages();
    for (page *p : held)
        s.free_pages_nolock(p, 0);
    const unsigned long grown = s.pcp_count(z);
    EXPECT_EQ(grown, held.size()) << "high " << z.pcp_high << ", batch " << z.pcp_batch;
    EXPECT_GT(grown, z.pcp_high);
    for (page *p : last)
        s.free_pages(p, 0);
    EXPECT_LT(s.pcp_count(z), grown) << "an ordinary free drains past high";
    expect_clean(s);
}

// No reclaim, no kswapd, no reserves: a request fails once the zones are at their min
// watermark, where GFP_ATOMIC would still be served.
TEST_P(Nolock, StopsAtTheMinWatermarkWithoutReclaim) {
    system_config c = config(GetParam());
    c.kswapd = true;
    System s(c);
    s.kswapd_park();
    std::vector<page *> held;
    // GFP_NOWAIT stops at the min watermark and wakes kswapd (parked: it stays asleep).
    while (page *p = s.alloc_pages(GFP_NOWAIT | __GFP_NOWARN, 0))
        held.push_back(p);
    s.drain_all_pages();
    const auto wakeups = s.kswapd_statistics(0).wakeups;
    const auto stalls = s.stats().allocstall_total();
    std::vector<page *> nolock;
    const auto busy = s.stats().nolock_busy.load(), failed = s.stats().nolock_failures.load();
    while (page *p = s.alloc_pages_nolock(0, -1, 0))
        nolock.push_back(p);
    // The one that failed found memory short, no lock busy.
    EXPECT_EQ(s.stats().nolock_failures.load(), failed + 1);
    EXPECT_EQ(s.stats().nolock_busy.load(), busy);
    for (auto &z : s.node(0).node_zones)
        if (z.populated() && z.idx <= ZONE_NORMAL) {
            // A refill may take the lists' batch from below the mark, as in the kernel.
            EXPECT_GE(z.page_state_snapshot(NR_FREE_PAGES) + long(z.pcp_batch) * 4,
                      long(z.min_wmark_pages()))
                << z.name;
        }
    EXPECT_EQ(s.kswapd_statistics(0).wakeups, wakeups);
    EXPECT_EQ(s.stats().allocstall_total(), stalls);
    // GFP_ATOMIC may still dip below min.
    page *atomic = s.alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0);
    EXPECT_NE(atomic, nullptr);
    if (atomic)
        s.free_pages(atomic, 0);
    for (page *p : nolock)
        s.free_pages_nolock(p, 0);
    for (page *p : held)
        s.free_pages(p, 0);
    s.kswapd_unpark();
    expect_clean(s);
}

// Two threads of nolock pairs against one of ordinary allocations and frees at every list
// order, while a fourth holds and drops zone->lock: every block comes back, every counter
// agrees (TSan: no data race on the deferred list).
TEST_P(Nolock, ConcurrentWithOrdinaryAllocationsAndABusyLock) {
    System s(config(GetParam()));
    const unsigned long start = free_pages(s);
    std::atomic<bool> stop{false};
    std::atomic<unsigned long> served{0}, failed{0};
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < 2; t++)
        ts.emplace_back([&, t] {
            set_current_vcpu(t);
            for (unsigned i = 0; i < 3000; i++) {
                const unsigned order = (i + t) % 4;
                if (page *p = s.alloc_pages_nolock(0, -1, order)) {
                    served.fetch_add(1);
                    s.free_pages_nolock(p, order);
                } else {
                    failed.fetch_add(1);
                }
                // Blocks above the lists' orders take the deferred path when the lock is busy.
                if (i % 16 == 0)
                    if (page *q = s.alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 4 + i % 3))
                        s.free_pages_nolock(q, 4 + i % 3);
            }
        });
    ts.emplace_back([&] {
        set_current_vcpu(1);
        for (unsigned i = 0; i < 3000; i++)
            if (page *p = s.alloc_pages(GFP_KERNEL, i % 6))
                s.free_pages(p, i % 6);
    });
    std::thread locker([&] {
        auto &z = s.node(0).node_zones[ZONE_NORMAL];
        while (!stop.load()) {
            z.lock.lock();
            std::this_thread::yield();
            z.lock.unlock();
            std::this_thread::yield();
        }
    });
    for (auto &t : ts)
        t.join();
    stop.store(true);
    locker.join();
    EXPECT_GT(served.load(), 0u);
    if (GetParam() == buddy_backend::lockfree) { // never short of memory: never fails
        EXPECT_EQ(failed.load(), 0u);
    }
    s.drain_all_pages();
    expect_clean(s);
    EXPECT_EQ(free_pages(s), start);
}

} // namespace
