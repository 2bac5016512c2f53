// SPDX-License-Identifier: MIT
//
// The 6.7+ shrinker lifetime under concurrency: shrink_slab() runs shrinkers without a
// global lock while others register and free them, shrinker_free() waits for callbacks in
// flight, and no callback ever starts after shrinker_free() returned (I15). Runs under TSan.
#include <gfplab/shrinker.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace {

using gfplab::shrinker_registry;
using gfplab::violation;

// Outlives its shrinker, so a late callback would be seen rather than crash.
struct cache {
    std::atomic<bool> freed{false}; // set by the test right after shrinker_free returns
    std::atomic<long> after_free{0};
    std::atomic<long> calls{0};
    std::atomic<long> objects{1000};
};

unsigned long count_cb(struct shrinker *s, struct shrink_control *) {
    auto *c = static_cast<cache *>(s->private_data);
    if (c->freed.load(std::memory_order_acquire))
        c->after_free.fetch_add(1, std::memory_order_relaxed);
    c->calls.fetch_add(1, std::memory_order_relaxed);
    const long n = c->objects.load(std::memory_order_relaxed);
    return n > 0 ? static_cast<unsigned long>(n) : SHRINK_EMPTY;
}

unsigned long scan_cb(struct shrinker *s, struct shrink_control *sc) {
    auto *c = static_cast<cache *>(s->private_data);
    if (c->freed.load(std::memory_order_acquire))
        c->after_free.fetch_add(1, std::memory_order_relaxed);
    // Claims half; the count stays where it is, so the caches never run dry and every
    // round costs the same.
    return sc->nr_to_scan / 2;
}

struct shrinker *make(shrinker_registry &reg, cache &c, const char *name) {
    struct shrinker *s = reg.alloc(0, name);
    s->count_objects = count_cb;
    s->scan_objects = scan_cb;
    s->private_data = &c;
    s->batch = 64;
    return s;
}

TEST(shrinker_threads, free_waits_for_callbacks_in_flight) {
    shrinker_registry reg(1);
    std::vector<violation> reports;
    reg.set_report_sink([&](violation v) { reports.push_back(std::move(v)); });

    struct blocking {
        std::atomic<bool> entered{false};
        std::atomic<bool> release{false};
        std::atomic<bool> free_returned{false};
        std::atomic<bool> returned_early{false};
    } b;
    struct shrinker *s = reg.alloc(0, "blocking");
    s->private_data = &b;
    s->count_objects = [](struct shrinker *sh, struct shrink_control *) -> unsigned long {
        auto *bp = static_cast<blocking *>(sh->private_data);
        bp->entered.store(true);
        while (!bp->release.load())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        // Still inside the callback: shrinker_free must not have returned.
        if (bp->free_returned.load())
            bp->returned_early.store(true);
        return SHRINK_EMPTY;
    };
    s->scan_objects = [](struct shrinker *, struct shrink_control *) -> unsigned long { return 0; };
    ASSERT_TRUE(reg.register_shrinker(s));

    std::thread reclaimer([&] { reg.shrink_slab(GFP_KERNEL, 0, 12); });
    while (!b.entered.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::thread freer([&] {
        reg.free(s);
        b.free_returned.store(true);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(b.free_returned.load()); // waiting for the count_objects in flight
    b.release.store(true);
    freer.join();
    reclaimer.join();
    EXPECT_TRUE(b.free_returned.load());
    EXPECT_FALSE(b.returned_early.load());
    EXPECT_EQ(reg.registered(), 0u);
    EXPECT_TRUE(reports.empty());
}

TEST(shrinker_threads, never_called_after_free_while_reclaim_runs) {
    shrinker_registry reg(2);
    std::atomic<long> reports{0};
    reg.set_report_sink([&](violation) { reports.fetch_add(1); });

    // Two long-lived shrinkers around the churn, so walks always pass entries that change.
    cache first, last;
    struct shrinker *s_first = make(reg, first, "first");
    ASSERT_TRUE(reg.register_shrinker(s_first));

    constexpr int churn_rounds = 1500;
    std::vector<std::unique_ptr<cache>> caches;
    caches.reserve(churn_rounds);
    for (int i = 0; i < churn_rounds; i++)
        caches.push_back(std::make_unique<cache>());

    std::atomic<bool> stop{false};
    std::atomic<long> rounds{0};
    std::vector<std::thread> reclaimers;
    for (int t = 0; t < 8; t++) {
        reclaimers.emplace_back([&, t] {
            while (!stop.load(std::memory_order_relaxed)) {
                reg.shrink_slab(GFP_KERNEL, t % 2, t % 13);
                rounds.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }

    std::thread churn([&] {
        bool last_registered = false;
        std::vector<struct shrinker *> live;
        for (int i = 0; i < churn_rounds; i++) {
            struct shrinker *s = make(reg, *caches[i], "churn");
            if (i % 7 != 6) {
                EXPECT_TRUE(reg.register_shrinker(s));
                live.push_back(s);
                // Let some walks start while it is on the list.
                const long now = rounds.load();
                while (rounds.load() < now + 2)
                    std::this_thread::yield();
            } else {
                // Allocated, never registered: free just frees it.
                reg.free(s);
                caches[i]->freed.store(true, std::memory_order_release);
            }
            if (!last_registered && i == churn_rounds / 3) {
                EXPECT_TRUE(reg.register_shrinker(make(reg, last, "last")));
                last_registered = true;
            }
            // Keep a few alive at once; free the oldest (not always the newest).
            if (live.size() > 4) {
                struct shrinker *victim = live.front();
                cache *c = static_cast<cache *>(victim->private_data);
                live.erase(live.begin());
                reg.free(victim);
                c->freed.store(true, std::memory_order_release);
            }
        }
        for (struct shrinker *s : live) {
            cache *c = static_cast<cache *>(s->private_data);
            reg.free(s);
            c->freed.store(true, std::memory_order_release);
        }
    });
    churn.join();
    // Let the reclaimers make a few more walks over the freed entries' old places.
    const long seen = rounds.load();
    while (rounds.load() < seen + 16)
        std::this_thread::yield();
    stop.store(true);
    for (auto &t : reclaimers)
        t.join();

    long after_free = 0;
    long called = 0;
    for (const auto &c : caches) {
        after_free += c->after_free.load();
        called += c->calls.load() > 0 ? 1 : 0;
    }
    EXPECT_EQ(after_free, 0);
    EXPECT_GT(called, 0); // the churned shrinkers did get called while they lived
    EXPECT_GT(first.calls.load(), 0);
    EXPECT_GT(last.calls.load(), 0);
    EXPECT_EQ(reg.registered(), 2u);
    EXPECT_EQ(reports.load(), 0);
    const auto st = reg.stats();
    ASSERT_EQ(st.size(), 2u);
    EXPECT_EQ(st[0].name, "first");
    EXPECT_EQ(st[1].name, "last");
}

} // namespace
