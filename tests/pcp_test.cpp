// SPDX-License-Identifier: MIT
//
// Per-CPU page lists: sizing from the zone, refill by batch, drain past high, drain_all_pages,
// and the progress guarantee: a thread stopped anywhere in the fast path never stops another
// thread's allocations, with restartable sequences and with the per-CPU trylock.
#include <gfplab/pcp_sizing.hpp>
#include <gfplab/system.hpp>

#include "../lib/src/pcp/pcp.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <pthread.h>
#include <sched.h>
#include <thread>
#include <vector>

namespace {

using namespace gfplab;
using namespace std::chrono_literals;

system_config config(pcp_mode mode, unsigned cpus) {
    system_config c;
    c.memory_bytes = 64ull << 20;
    c.dma32_limit = 32ull << 20;
    c.cpus = cpus;
    c.pcp = mode;
    c.warn_alloc = false;
    return c;
}

void expect_clean(System &s) {
    for (const auto &v : s.verify())
        ADD_FAILURE() << format_violation(v);
}

TEST(PcpSizing, BatchAndHighComeFromTheZone) {
    System s(config(pcp_mode::virtual_cpus, 4));
    for (auto &z : s.node(0).node_zones) {
        if (!z.populated())
            continue;
        auto hb = zone_pcp_high_and_batch(z.managed_pages, z.low_wmark_pages(), 4, 4);
        EXPECT_EQ(z.pcp_batch, unsigned(hb.batch)) << z.name;
        EXPECT_EQ(z.pcp_high, unsigned(hb.high_min)) << z.name;
        EXPECT_GE(z.pcp_high, 4 * z.pcp_batch) << z.name;
    }
}

TEST(PcpSizing, AHighFractionFixesHighAtThatShareOfTheZone) {
    // vm.percpu_pagelist_high_fraction=8: high is an eighth of the zone over the node's CPUs,
    // for both bounds (no auto-tuning).
    system_config c = config(pcp_mode::virtual_cpus, 4);
    c.percpu_pagelist_high_fraction = 8;
    System s(c);
    for (auto &z : s.node(0).node_zones) {
        if (!z.populated())
            continue;
        auto hb = zone_pcp_high_and_batch(z.managed_pages, z.low_wmark_pages(), 4, 4, 8);
        EXPECT_EQ(z.pcp_high, unsigned(hb.high_min)) << z.name;
        EXPECT_EQ(z.pcp_high, z.pcp_high_max) << z.name;
        EXPECT_NE(hb.high_min,
                  zone_pcp_high_and_batch(z.managed_pages, z.low_wmark_pages(), 4, 4).high_min)
            << z.name;
    }
    c.percpu_pagelist_high_fraction = 4; // below the sysctl's minimum
    EXPECT_THROW(System{c}, std::invalid_argument);
}

TEST(PcpLists, RefillTakesABatchAndFreeStaysCached) {
    System s(config(pcp_mode::virtual_cpus, 2));
    set_current_vcpu(1);
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    const long before = z.page_state_snapshot(NR_FREE_PAGES);
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    // One page handed out, the rest of the batch cached on vCPU 1; none of them are "free".
    EXPECT_EQ(s.pcp_count(z), z.pcp_batch - 1);
    EXPECT_EQ(z.page_state_snapshot(NR_FREE_PAGES), before - long(z.pcp_batch));
    s.free_pages(p, 0);
    EXPECT_EQ(s.pcp_count(z), z.pcp_batch);
    // LIFO: the page just freed is the next one handed out (cache-hot).
    EXPECT_EQ(s.alloc_pages(GFP_KERNEL, 0), p);
    s.free_pages(p, 0);
    EXPECT_EQ(s.drain_all_pages(), 0u);
    EXPECT_EQ(s.pcp_count(z), 0u);
    EXPECT_EQ(z.page_state_snapshot(NR_FREE_PAGES), before);
    expect_clean(s);
}

TEST(PcpLists, FreeingPastHighDrainsToTheBuddy) {
    System s(config(pcp_mode::virtual_cpus, 2));
    set_current_vcpu(0);
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    std::vector<page *> held;
    for (unsigned long i = 0; i < 3 * z.pcp_high; i++)
        held.push_back(s.alloc_pages(GFP_KERNEL, 0));
    unsigned long peak = 0;
    for (page *p : held) {
        s.free_pages(p, 0);
        peak = std::max(peak, s.pcp_count(z));
    }
    // A CPU drains once it holds high pages (it notices within 8 frees: pcp.cpp sums its
    // lists every 8th free), giving back what it freed in a row but leaving at least a batch
    // (6.12 nr_pcp_free()).
    EXPECT_GE(peak + 1, z.pcp_high);
    EXPECT_LE(peak, z.pcp_high + 8);
    EXPECT_GE(s.pcp_count(z), z.pcp_batch);
    EXPECT_LT(s.pcp_count(z), z.pcp_high);
    expect_clean(s);
}

// 6.12 free_unref_page_commit(): ZONE_BELOW_HIGH is cleared only after a free that drained
// the CPU (free_pcppages_bulk) and found the zone above its high watermark again; a free
// that stays on the list leaves it set, however much is free.
TEST(PcpLists, ZoneBelowHighStaysSetAfterAFreeThatDoesNotDrain) {
    System s(config(pcp_mode::virtual_cpus, 2));
    set_current_vcpu(0);
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    page *p = s.alloc_pages(GFP_KERNEL, 0);
    ASSERT_NE(p, nullptr);
    z.flags.fetch_or(ZONE_BELOW_HIGH);
    s.free_pages(p, 0);
    EXPECT_TRUE(z.flags.load() & ZONE_BELOW_HIGH) << "no drain: the flag stays";
    // Frees in a row until the CPU drains: the zone is far above high, so the flag goes.
    std::vector<page *> held;
    for (unsigned long i = 0; i < 2 * z.pcp_high; i++)
        held.push_back(s.alloc_pages(GFP_KERNEL, 0));
    z.flags.fetch_or(ZONE_BELOW_HIGH);
    for (page *q : held)
        s.free_pages(q, 0);
    EXPECT_FALSE(z.flags.load() & ZONE_BELOW_HIGH) << "a drain above high clears it";
    expect_clean(s);
}

TEST(PcpLists, EachVirtualCpuHasItsOwnLists) {
    System s(config(pcp_mode::virtual_cpus, 3));
    zone &z = s.node(0).node_zones[ZONE_NORMAL];
    set_current_vcpu(0);
    page *a = s.alloc_pages(GFP_KERNEL, 0);
    s.free_pages(a, 0);
    set_current_vcpu(2);
    page *b = s.alloc_pages(GFP_KERNEL, 0);
    EXPECT_NE(a, b) << "vCPU 2 must not see vCPU 0's cached page";
    s.free_pages(b, 0);
    auto &area = s.pcp_area();
    EXPECT_EQ(area.cpu_count(z, 0), z.pcp_batch);
    EXPECT_EQ(area.cpu_count(z, 1), 0u);
    EXPECT_EQ(area.cpu_count(z, 2), z.pcp_batch);
    expect_clean(s);
}

// Locked mode: a thread that stops while holding its CPU's list lock (the hook below parks
// it there) leaves every other thread on that CPU free to allocate: they fail the trylock
// and use the buddy allocator, as the kernel's rmqueue_pcplist() callers do.
TEST(PcpProgress, ThreadStoppedHoldingTheCpuLockStopsNobody) {
    System s(config(pcp_mode::virtual_cpus, 2));
    std::atomic<bool> parked{false}, release{false};
    std::atomic<std::thread::id> victim{};
    s.pcp_area().set_locked_hook([&] {
        if (std::this_thread::get_id() != victim.load())
            return;
        parked = true;
        while (!release)
            std::this_thread::sleep_for(1ms);
    });
    std::thread a([&] {
        set_current_vcpu(0);
        victim = std::this_thread::get_id();
        page *p = s.alloc_pages(GFP_KERNEL, 0); // parks inside, holding vCPU 0's lock
        s.free_pages(p, 0);
    });
    while (!parked)
        std::this_thread::sleep_for(1ms);
    std::vector<page *> got;
    set_current_vcpu(0); // the same CPU as the parked thread
    for (int i = 0; i < 2000; i++) {
        page *p = s.alloc_pages(GFP_KERNEL, i % 4);
        ASSERT_NE(p, nullptr);
        got.push_back(p);
    }
    for (int i = 0; i < 2000; i++)
        s.free_pages(got[i], i % 4);
    // drain_all_pages gives up on the held CPU instead of waiting for ever.
    EXPECT_EQ(s.drain_all_pages(), 1u);
    release = true;
    a.join();
    s.pcp_area().set_locked_hook(nullptr);
    EXPECT_EQ(s.drain_all_pages(), 0u);
    expect_clean(s);
}

std::atomic<bool> signal_parked{false}, signal_release{false};

void park_handler(int) {
    signal_parked = true;
    while (!signal_release)
        sched_yield();
}

bool pin_to_cpu(unsigned cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// rseq mode: a thread interrupted (here: parked in a signal handler) anywhere in its
// allocate/free loop, inside a restartable sequence or not, holds nothing that another thread
// on the same CPU needs. The kernel restarts its sequence; the others go on.
TEST(PcpProgress, RseqThreadStoppedInTheFastPathStopsNobody) {
    System s(config(pcp_mode::automatic, 0));
    if (!s.pcp_uses_rseq())
        GTEST_SKIP() << "restartable sequences are not available here";
    signal_parked = false;
    signal_release = false;
    struct sigaction sa {};
    sa.sa_handler = park_handler;
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(sigaction(SIGUSR1, &sa, nullptr), 0);
    std::atomic<bool> stop{false};
    std::atomic<long> a_ops{0};
    // Orders 0..2 with an order-0 pair between high-order ones: two high-order frees in a
    // row would be 6.12's free_high drain (free_unref_page_commit), and the refill after it
    // takes zone->lock, which a thread parked in a signal handler would then hold. The
    // guarantee is the per-CPU lists'; the buddy allocator's lock is the kernel's spinlock.
    auto order_of = [](long op) { return op & 1 ? 0u : unsigned((op >> 1) % 3); };
    std::thread a([&] {
        pin_to_cpu(0);
        while (!stop) {
            const unsigned order = order_of(a_ops);
            page *p = s.alloc_pages(GFP_KERNEL, order);
            s.free_pages(p, order);
            a_ops++;
        }
    });
    while (a_ops < 10000)
        std::this_thread::sleep_for(1ms);
    pthread_kill(a.native_handle(), SIGUSR1);
    while (!signal_parked)
        std::this_thread::sleep_for(1ms);
    long frozen = a_ops;
    ASSERT_TRUE(pin_to_cpu(0)); // the parked thread's CPU
    std::vector<page *> got;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 2000; i++) {
            page *p = s.alloc_pages(GFP_KERNEL, i % 4);
            EXPECT_NE(p, nullptr);
            got.push_back(p);
        }
        for (int i = 0; i < 2000; i++)
            s.free_pages(got[i], i % 4);
        got.clear();
    }
    EXPECT_EQ(a_ops.load(), frozen) << "the other thread really was stopped";
    EXPECT_EQ(s.drain_all_pages(), 0u); // rseq drains never wait for a thread
    stop = true;
    signal_release = true;
    a.join();
    pin_to_cpu(1 % std::max(1u, std::thread::hardware_concurrency()));
    s.drain_all_pages();
    expect_clean(s);
}

} // namespace
