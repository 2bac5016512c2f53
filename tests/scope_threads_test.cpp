// SPDX-License-Identifier: MIT
//
// The task context is per thread, as current->flags is per task: scopes, stacks, handlers
// and mismatch counters of one thread must never show on another. Runs under TSan too.
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/sched/mm.h>
#include <gfplab/scope.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr unsigned int scope_flags[] = {PF_MEMALLOC_NOFS, PF_MEMALLOC_NOIO, PF_MEMALLOC,
                                        PF_MEMALLOC_PIN};

// What one thread saw; read by the main thread only after join().
struct thread_result {
    unsigned int id = 0;
    std::uint64_t reports = 0;      // reports delivered to this thread's handler
    std::uint64_t foreign = 0;      // reports whose restore site was not this thread's
    std::uint64_t expected_bad = 0; // mismatches this thread provoked on purpose
    std::uint64_t counted_bad = 0;  // scope_mismatch_count() at the end
    std::uint64_t flag_errors = 0;  // flags differed from this thread's model
    std::uint64_t depth_errors = 0; // scope depth differed from this thread's model
    unsigned int initial_flags = ~0u;
    std::size_t initial_depth = ~std::size_t{0};
    unsigned int final_flags = ~0u;
    std::string first_error;
};

// Each thread restores from a distinct line number range, so a report reaching the wrong
// thread's handler is visible by its site.
void handler(const gfplab::scope_mismatch &r, void *ctx) {
    auto *res = static_cast<thread_result *>(ctx);
    ++res->reports;
    if (r.restore.line != 1000 + res->id)
        ++res->foreign;
}

void worker(thread_result &res, std::atomic<bool> &go) {
    res.initial_flags = gfplab::current_task_flags();
    res.initial_depth = gfplab::current_scope_depth();
    gfplab::set_scope_report_handler(&handler, &res);
    while (!go.load(std::memory_order_acquire))
        std::this_thread::yield();

    std::mt19937 rng(res.id * 7919u + 1);
    const char *file = "thread.c";
    const unsigned int line = 1000 + res.id;
    struct frame {
        unsigned int kind, saved;
    };
    std::vector<frame> model;
    unsigned int model_flags = 0;

    auto check = [&](int round) {
        if (gfplab::current_task_flags() != model_flags) {
            if (res.first_error.empty())
                res.first_error = "round " + std::to_string(round) + ": flags " +
                                  gfplab::task_flags_name(gfplab::current_task_flags()) + " want " +
                                  gfplab::task_flags_name(model_flags);
            ++res.flag_errors;
        }
        if (gfplab::current_scope_depth() != model.size())
            ++res.depth_errors;
        if (current_gfp_context(GFP_KERNEL) != gfplab::gfp_context_for(model_flags, GFP_KERNEL))
            ++res.flag_errors;
    };

    for (int round = 0; round < 3000; ++round) {
        // A random LIFO nesting up to depth 8.
        const unsigned depth = 1 + rng() % 8;
        for (unsigned d = 0; d < depth; ++d) {
            const unsigned int kind = scope_flags[rng() % 4];
            const unsigned int saved = gfplab::scope_save(kind, file, line);
            model.push_back({kind, saved});
            model_flags |= kind;
            check(round);
        }
        while (!model.empty()) {
            const frame f = model.back();
            model.pop_back();
            gfplab::scope_restore(f.kind, f.saved, file, line);
            model_flags = 0;
            for (const frame &o : model)
                model_flags |= o.kind;
            check(round);
        }
        // Every thread provokes its own number of mismatches: thread i one in every i+2
        // rounds. Nothing is open, so the kernel's restore clears nothing that is set.
        if (round % (res.id + 2) == 0) {
            gfplab::scope_restore(PF_MEMALLOC_NOFS, PF_MEMALLOC_NOFS, file, line);
            ++res.expected_bad;
            check(round);
        }
    }
    res.counted_bad = gfplab::scope_mismatch_count();
    res.final_flags = gfplab::current_task_flags();
    gfplab::set_scope_report_handler(nullptr);
}

TEST(ScopeThreads, TaskContextIsPerThread) {
    // The main thread sits inside scopes of its own, and leaves a handler, while the workers
    // run: none of it may reach them.
    gfplab::reset_task_scope();
    struct main_ctx {
        int reports = 0;
    } main_reports;
    gfplab::set_scope_report_handler(
        [](const gfplab::scope_mismatch &, void *ctx) { ++static_cast<main_ctx *>(ctx)->reports; },
        &main_reports);
    const std::uint64_t main_count = gfplab::scope_mismatch_count();
    const unsigned int fs = memalloc_nofs_save();
    const unsigned int pin = memalloc_pin_save();

    constexpr unsigned kThreads = 8;
    std::vector<thread_result> results(kThreads);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < kThreads; ++i) {
        results[i].id = i;
        threads.emplace_back(worker, std::ref(results[i]), std::ref(go));
    }
    go.store(true, std::memory_order_release);
    for (auto &t : threads)
        t.join();

    for (const auto &r : results) {
        SCOPED_TRACE("thread " + std::to_string(r.id));
        EXPECT_EQ(r.initial_flags, 0u);
        EXPECT_EQ(r.initial_depth, 0u);
        EXPECT_EQ(r.flag_errors, 0u) << r.first_error;
        EXPECT_EQ(r.depth_errors, 0u);
        EXPECT_GT(r.expected_bad, 0u);
        EXPECT_EQ(r.counted_bad, r.expected_bad);
        EXPECT_EQ(r.reports, r.expected_bad);
        EXPECT_EQ(r.foreign, 0u);
        EXPECT_EQ(r.final_flags, 0u);
    }

    // The main thread's scopes, stack, counter and handler are as it left them.
    EXPECT_EQ(gfplab::current_task_flags(), PF_MEMALLOC_NOFS | PF_MEMALLOC_PIN);
    EXPECT_EQ(gfplab::current_scope_depth(), 2u);
    EXPECT_EQ(gfplab::scope_mismatch_count(), main_count);
    EXPECT_EQ(main_reports.reports, 0);
    memalloc_pin_restore(pin);
    memalloc_nofs_restore(fs);
    EXPECT_EQ(gfplab::current_task_flags(), 0u);
    EXPECT_EQ(gfplab::scope_mismatch_count(), main_count);
    gfplab::set_scope_report_handler(nullptr);
}

TEST(ScopeThreads, NewThreadStartsWithACleanTask) {
    gfplab::current_task_flags_set(PF_KSWAPD | PF_MEMALLOC);
    unsigned int seen = ~0u;
    std::size_t depth = ~std::size_t{0};
    std::thread([&] {
        seen = gfplab::current_task_flags();
        depth = gfplab::current_scope_depth();
    }).join();
    EXPECT_EQ(seen, 0u);
    EXPECT_EQ(depth, 0u);
    gfplab::current_task_flags_clear(PF_KSWAPD | PF_MEMALLOC);
}

} // namespace
