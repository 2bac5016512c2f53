// SPDX-License-Identifier: MIT
//
// gfplab-demo: the foundation at work until the stress harness exists.
//
// 1. Decodes masks taken from real kernel logs of several eras, as each kernel printed them.
// 2. Runs worker threads that nest memalloc scopes at random for a while. After every step
//    each worker checks current_gfp_context() against its own independent computation of
//    the task flags, and now and then restores out of order on purpose to show that the
//    scope stack catches it.
// 3. Runs worker threads against one System: random orders and masks, inside random scopes,
//    pages written and handed between threads, a few invalid masks planted on purpose;
//    then frees everything and verifies the System (I1, I2, I6, I13).
// Exit status 0 when every check held and every planted mistake was reported, 1 otherwise,
// 2 for bad usage.
#include <gfplab/gfp.hpp>
#include <gfplab/gfp_layout.hpp>
#include <gfplab/memparse.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/system.hpp>
#include <gfplab/version.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace gfplab;
using clock_type = std::chrono::steady_clock;

struct log_sample {
    const char *kernel;
    gfp_t mask;
    const char *where;
};

// Masks as they appear in real reports (page allocation failures, OOM headers).
const log_sample samples[] = {
    {"3.10", 0xd0, "page allocation failure: order:2, mode:0xd0"},
    {"4.9", 0x24201ca, "invoked oom-killer: gfp_mask=0x24201ca(GFP_HIGHUSER_MOVABLE|__GFP_COLD)"},
    {"4.19", 0x6000c0, "page allocation failure: order:4, mode:0x6000c0(GFP_KERNEL)"},
    {"5.10", 0x100cca, "invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE)"},
    {"6.1", 0xa20, "page allocation failure: order:0, mode:0xa20(GFP_ATOMIC)"},
    {"6.12", 0x140dc2, "gfp_mask=0x140dc2(GFP_HIGHUSER|__GFP_COMP|__GFP_ZERO)"},
    {"6.15", 0x40dc0, "mode:0x40dc0(GFP_KERNEL|__GFP_ZERO|__GFP_COMP)"},
};

void decode_samples() {
    fmt::print("== masks from real logs, decoded by each kernel's own layout\n");
    for (const auto &s : samples) {
        auto v = kernel_version::parse(s.kernel);
        const gfp_layout *l = v ? find_gfp_layout(*v) : nullptr;
        if (!l) {
            fmt::print("  {:>5}  (no layout)\n", s.kernel);
            continue;
        }
        std::string names = l->format(s.mask);
        fmt::print("  {:>5}  {:<44} log: {}\n", s.kernel, l->format_mask(s.mask), s.where);
        if (l->print_style() == gfp_print_style::hex_only)
            fmt::print("  {:>5}  {:<44} (printk showed bare hex; tracepoint names)\n", "", names);
    }
    fmt::print("  the same mask under each scope in 6.12: {} -> nofs {} -> noio {}\n",
               gfp_describe(GFP_KERNEL),
               gfp_describe(gfp_context_for(PF_MEMALLOC_NOFS, GFP_KERNEL)),
               gfp_describe(gfp_context_for(PF_MEMALLOC_NOIO, GFP_KERNEL)));
}

struct totals {
    std::atomic<std::uint64_t> steps{0}, saves{0}, checks{0}, planted{0}, reported{0}, wrong{0};
};

void count_report(const scope_mismatch &, void *ctx) {
    ++*static_cast<std::uint64_t *>(ctx);
}

const unsigned scope_kinds[] = {PF_MEMALLOC_NOFS, PF_MEMALLOC_NOIO, PF_MEMALLOC, PF_MEMALLOC_PIN};
const gfp_t masks[] = {GFP_KERNEL,    GFP_NOFS,
                       GFP_NOIO,      GFP_ATOMIC,
                       GFP_NOWAIT,    GFP_HIGHUSER_MOVABLE,
                       GFP_TRANSHUGE, GFP_KERNEL_ACCOUNT | __GFP_ZERO};

// One worker: a random walk over scope nestings, with its own record of the flags.
void worker(unsigned id, std::uint64_t seed, clock_type::time_point end, totals &t) {
    std::mt19937_64 rng(seed + id);
    std::uint64_t reported = 0;
    set_scope_report_handler(count_report, &reported);
    struct open_save {
        unsigned kind, saved;
    };
    std::vector<open_save> stack;
    unsigned flags = 0; // what the task flags must be, computed independently
    std::uint64_t steps = 0, saves = 0, checks = 0, planted = 0, wrong = 0;
    while ((steps & 255) || clock_type::now() < end) {
        steps++;
        bool push = stack.empty() || (stack.size() < 12 && rng() % 2);
        if (push) {
            unsigned kind = scope_kinds[rng() % 4];
            unsigned saved = memalloc_flags_save(kind);
            wrong += saved != (kind & ~flags);
            flags |= kind;
            stack.push_back({kind, saved});
            saves++;
        } else if (stack.size() >= 2 && stack[stack.size() - 2].saved != stack.back().saved &&
                   rng() % 1000 == 0) {
            // Planted bug: restore the outer save first. The kernel would not notice. (Two
            // saves that returned the same value are interchangeable, so never planted.)
            auto outer = stack[stack.size() - 2];
            memalloc_flags_restore(outer.saved);
            flags &= ~outer.saved;
            stack.erase(stack.end() - 2);
            planted++;
        } else {
            memalloc_flags_restore(stack.back().saved);
            flags &= ~stack.back().saved;
            stack.pop_back();
        }
        gfp_t m = masks[rng() % std::size(masks)];
        wrong += current_gfp_context(m) != gfp_context_for(flags, m);
        wrong += current_task_flags() != flags;
        checks++;
    }
    while (!stack.empty()) {
        memalloc_flags_restore(stack.back().saved);
        stack.pop_back();
    }
    reset_task_scope();
    t.steps += steps;
    t.saves += saves;
    t.checks += checks;
    t.planted += planted;
    t.reported += reported;
    t.wrong += wrong;
}

struct alloc_totals {
    std::atomic<std::uint64_t> allocs{0}, failed{0}, frees{0}, remote{0}, planted{0};
};

// One allocator worker: random orders and masks inside random scopes, memory written, some
// pages handed to the next worker, and a planted invalid mask now and then.
void alloc_worker(System &sys, unsigned id, std::uint64_t seed, clock_type::time_point end,
                  std::vector<std::vector<std::pair<page *, unsigned>>> &handoff,
                  std::vector<std::mutex> &locks, alloc_totals &t) {
    std::mt19937_64 rng(seed * 31 + id);
    const gfp_t mix[] = {GFP_KERNEL,
                         GFP_KERNEL,
                         GFP_NOFS,
                         GFP_NOIO,
                         GFP_ATOMIC,
                         GFP_NOWAIT,
                         GFP_USER,
                         GFP_HIGHUSER_MOVABLE,
                         GFP_DMA32,
                         GFP_KERNEL_ACCOUNT | __GFP_ZERO,
                         GFP_KERNEL | __GFP_COMP};
    std::vector<std::pair<page *, unsigned>> held;
    std::uint64_t allocs = 0, failed = 0, frees = 0, remote = 0, planted = 0, step = 0;
    const unsigned n = unsigned(handoff.size());
    while ((step++ & 63) || clock_type::now() < end) {
        unsigned r = unsigned(rng() % 100);
        if (r < 50 && held.size() < 512) {
            unsigned order = rng() % 16 == 0 ? unsigned(rng() % 6) : unsigned(rng() % 2);
            gfp_t m = mix[rng() % std::size(mix)] | __GFP_NOWARN;
            if (rng() % 2000 == 0) {
                m |= __GFP_DMA | __GFP_DMA32; // a caller bug: refused and reported (I16)
                planted++;
            }
            unsigned saved = rng() % 4 == 0 ? memalloc_flags_save(scope_kinds[rng() % 4]) : 0;
            page *p = sys.alloc_pages(m, order);
            if (saved)
                memalloc_flags_restore(saved);
            if (!p) {
                failed++;
                continue;
            }
            allocs++;
            std::memset(sys.page_address(p), int(id), 64);
            held.emplace_back(p, order);
        } else if (r < 90 && !held.empty()) {
            std::swap(held[rng() % held.size()], held.back());
            sys.free_pages(held.back().first, held.back().second);
            held.pop_back();
            frees++;
        } else if (!held.empty()) {
            unsigned to = (id + 1) % n;
            std::lock_guard<std::mutex> g(locks[to]);
            handoff[to].push_back(held.back());
            held.pop_back();
        } else {
            std::vector<std::pair<page *, unsigned>> mine;
            {
                std::lock_guard<std::mutex> g(locks[id]);
                mine.swap(handoff[id]);
            }
            for (auto &[p, order] : mine)
                sys.free_pages(p, order);
            remote += mine.size();
        }
    }
    for (auto &[p, order] : held)
        sys.free_pages(p, order);
    t.allocs += allocs;
    t.failed += failed;
    t.frees += frees + held.size();
    t.remote += remote;
    t.planted += planted;
}

bool run_allocator(unsigned threads, double seconds, std::uint64_t seed, std::uint64_t memory) {
    system_config cfg;
    cfg.memory_bytes = memory;
    cfg.dma32_limit = std::min<std::uint64_t>(memory / 4, 4ull << 30) & ~((4ull << 20) - 1);
    cfg.warn_alloc = false;
    cfg.poison = true;
    System sys(cfg);
    std::atomic<std::uint64_t> invalid{0};
    sys.set_report_sink([&](const violation &v) {
        if (id(v.inv) == 16 && v.what == "invalid request")
            invalid++;
        else
            fmt::print(stderr, "{}\n", format_violation(v));
    });
    fmt::print("== allocator: {} threads, {:.1f} s, {} MiB, per-CPU lists {}\n", threads, seconds,
               memory >> 20, sys.pcp_uses_rseq() ? "in rseq" : "behind a trylock");
    std::fflush(stdout);
    std::vector<std::vector<std::pair<page *, unsigned>>> handoff(threads);
    std::vector<std::mutex> locks(threads);
    alloc_totals t;
    auto start = clock_type::now();
    auto end = start + std::chrono::duration_cast<clock_type::duration>(
                           std::chrono::duration<double>(seconds));
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < threads; i++)
        pool.emplace_back(alloc_worker, std::ref(sys), i, seed, end, std::ref(handoff),
                          std::ref(locks), std::ref(t));
    for (auto &th : pool)
        th.join();
    for (auto &h : handoff)
        for (auto &[p, order] : h)
            sys.free_pages(p, order);
    double el = std::chrono::duration<double>(clock_type::now() - start).count();
    sys.drain_all_pages();
    auto problems = sys.verify();
    for (const auto &v : problems)
        fmt::print(stderr, "{}\n", format_violation(v));
    fmt::print("  allocations {} ({:.2f} M/s)  failed {}  remote frees {}  slow path {}\n",
               t.allocs.load(), t.allocs / el / 1e6, t.failed.load(), t.remote.load(),
               sys.stats().slowpath.load());
    fmt::print("  planted invalid masks {}  refused and reported {}  verify: {} problems\n",
               t.planted.load(), invalid.load(), problems.size());
    return problems.empty() && t.planted == invalid && sys.report_count() == invalid.load();
}

} // namespace

int main(int argc, char **argv) {
    CLI::App app{"gfplab-demo: decode real-log GFP masks, then stress the memalloc scope API"};
    unsigned threads = std::max(2u, std::thread::hardware_concurrency());
    double seconds = 5;
    std::uint64_t seed = std::random_device{}();
    app.add_option("-t,--threads", threads, "worker threads")->check(CLI::Range(1u, 1024u));
    app.add_option("-d,--duration", seconds, "seconds of scope stress")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("-s,--seed", seed, "seed (printed; rerun with it to repeat the streams)");
    std::string memory_text = "256M";
    app.add_option("-m,--memory", memory_text,
                   "simulated memory for the allocator phase (the kernel's size syntax: 64M, 1G, "
                   "0x10000000; at least 16M)")
        ->check([](const std::string &text) -> std::string {
            const auto v = gfplab::memparse(text);
            return v && *v >= (16ull << 20) ? "" : "not a size of at least 16M";
        })
        ->capture_default_str();
    app.set_version_flag("--version", gfplab::version_string("gfplab-demo"));
    CLI11_PARSE(app, argc, argv);
    const std::uint64_t memory = *gfplab::memparse(memory_text);

    decode_samples();
    fmt::print("== scope stress: {} threads, {:.1f} s, seed {}\n", threads, seconds, seed);
    std::fflush(stdout);

    totals t;
    auto start = clock_type::now();
    auto end = start + std::chrono::duration_cast<clock_type::duration>(
                           std::chrono::duration<double>(seconds));
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < threads; i++)
        pool.emplace_back(worker, i, seed, end, std::ref(t));
    bool tty = isatty(STDOUT_FILENO);
    while (tty && clock_type::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        double el = std::chrono::duration<double>(clock_type::now() - start).count();
        fmt::print("\r  {:5.1f}/{:.1f} s", std::min(el, seconds), seconds);
        std::fflush(stdout);
    }
    for (auto &th : pool)
        th.join();
    double el = std::chrono::duration<double>(clock_type::now() - start).count();
    if (tty)
        fmt::print("\r");
    fmt::print("  steps {}  ({:.2f} M/s)  saves {}  context checks {}\n", t.steps.load(),
               t.steps / el / 1e6, t.saves.load(), t.checks.load());
    fmt::print("  planted out-of-order restores {}  reported {}  wrong results {}\n",
               t.planted.load(), t.reported.load(), t.wrong.load());
    bool ok = t.wrong == 0 && t.planted == t.reported;
    ok &= run_allocator(threads, seconds, seed, memory & ~((4ull << 20) - 1));
    fmt::print("{}\n", ok ? "OK: every check held and every planted mistake was reported"
                          : "FAIL: see the counts above");
    return ok ? 0 : 1;
}
