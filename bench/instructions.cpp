// SPDX-License-Identifier: MIT
//
// instr-*: one workload, run so that callgrind can count the instructions it takes per
// operation (bench/instructions drives these under valgrind and prints the table).
//
// usage: instr-BACKEND WORKLOAD [ITERATIONS [WARMUP]]
//   pair0    allocate and free one order-0 block          ITERATIONS pairs   (100000)
//   pair3    the same at order 3                          ITERATIONS pairs   (100000)
//   hold512  512 order-0 blocks allocated, then all freed  ITERATIONS rounds  (200)
//   pair9    allocate and free one order-9 block          ITERATIONS pairs   (10000)
//   remote   order-0 blocks allocated on one thread and freed on another, in batches of 64
//                                                         ITERATIONS blocks  (100000)
//   kmalloc64  kmalloc(64, GFP_KERNEL) and kfree() (peers: malloc/free)
//                                                         ITERATIONS pairs   (100000)
//   cache64  kmem_cache_alloc/free of a 64-byte cache (peers: malloc(64)/free)
//                                                         ITERATIONS pairs   (100000)
//   pair0_ftrace  pair0 with the System's trace sink writing trace_pipe lines to /dev/null
//                 (gfplab only: what tracing costs when it is on)
//                                                         ITERATIONS pairs   (20000)
//
// The measured iterations run inside instr_measured_loop() and nowhere else, so that
// `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=instr_measured_loop`
// counts exactly them (with everything they call); the warm-up (WARMUP iterations, default
// a tenth) runs the same code outside it. Like page_bench.cpp, one byte of every block is
// written. On stdout, one line that bench/instructions reads:
//   instr: backend=B workload=W iterations=N operations=M unit=U pcp=MODE cpus=C0,C1
// Exit status: 0; 1 when an allocation failed or the gfplab System reported or does not
// recount clean; 2 on bad usage.
//
// Built once per backend (backend.hpp): instr-gfplab (the C++ API, static library),
// instr-gfplab-kernel (the kernel face, shared library), instr-gfplab-kernel-static (the
// kernel face, static library) and instr-<peer>.
#include "backend.hpp"

#if BENCH_BACKEND == BENCH_GFPLAB || BENCH_BACKEND == BENCH_GFPLAB_KERNEL
#include <gfplab/report.hpp>
#include <gfplab/system.hpp>
#include <gfplab/trace.hpp>
#endif

#include <fcntl.h>
#include <memory>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// gcc may clone a noinline function for constant arguments (instr_measured_loop.constprop.0)
// and callgrind would then not find it by name; noipa forbids that. clang has no noipa and
// clones nothing with external linkage.
#if defined(__clang__)
#define INSTR_MEASURED [[gnu::noinline, gnu::used]]
#else
#define INSTR_MEASURED [[gnu::noipa, gnu::used]]
#endif

namespace {

using bench::block;

enum class step : int {
    pair,    // n pairs of the given order
    hold512, // n rounds of 512 order-0 blocks held, then freed
    produce, // allocate n order-0 blocks into the buffer (remote, first thread)
    consume, // free the n blocks in the buffer (remote, second thread)
    kpair,   // n kmalloc/kfree pairs of `order` bytes (the parameter is a size here)
    cpair,   // n kmem_cache_alloc/free pairs of the 64-byte cache
};

constexpr std::size_t held = 512;
constexpr std::size_t remote_batch = 64;

[[gnu::cold, gnu::noinline]] void allocation_failed(unsigned order) {
    std::fprintf(stderr, "instr-%s: order-%u allocation failed\n", bench::backend_name, order);
    std::exit(1);
}

[[gnu::always_inline]] inline block alloc_touched(unsigned order) {
    block b = bench::alloc_block(order);
    if (!b) [[unlikely]]
        allocation_failed(order);
    bench::touch(b);
    return b;
}

// The loops, inlined both into the measured function and into the warm-up, so that both run
// the same code.
[[gnu::always_inline]] inline void run_step(step what, unsigned order, std::uint64_t n,
                                            block *blocks) {
    switch (what) {
    case step::pair:
        for (std::uint64_t i = 0; i < n; i++)
            bench::free_block(alloc_touched(order), order);
        break;
    case step::hold512:
        for (std::uint64_t r = 0; r < n; r++) {
            for (std::size_t i = 0; i < held; i++)
                blocks[i] = alloc_touched(0);
            for (std::size_t i = 0; i < held; i++)
                bench::free_block(blocks[i], 0);
        }
        break;
    case step::produce:
        for (std::uint64_t i = 0; i < n; i++)
            blocks[i] = alloc_touched(0);
        break;
    case step::consume:
        for (std::uint64_t i = 0; i < n; i++)
            bench::free_block(blocks[i], 0);
        break;
    case step::kpair:
        for (std::uint64_t i = 0; i < n; i++) {
            void *p = bench::alloc_object(order);
            if (!p) [[unlikely]]
                allocation_failed(0);
            bench::touch_object(p);
            bench::free_object(p);
        }
        break;
    case step::cpair:
        for (std::uint64_t i = 0; i < n; i++) {
            void *p = bench::cache_alloc();
            if (!p) [[unlikely]]
                allocation_failed(0);
            bench::touch_object(p);
            bench::cache_free(p);
        }
        break;
    }
}

} // namespace

// What callgrind counts: --toggle-collect=instr_measured_loop. Only measured iterations
// come through here. External and unmangled, so that callgrind finds it by that name.
extern "C" INSTR_MEASURED void instr_measured_loop(int what, unsigned order, std::uint64_t n,
                                                   block *blocks);
extern "C" INSTR_MEASURED void instr_measured_loop(int what, unsigned order, std::uint64_t n,
                                                   block *blocks) {
    run_step(step(what), order, n, blocks);
}

namespace {

void measured(step what, unsigned order, std::uint64_t n, block *blocks) {
    instr_measured_loop(int(what), order, n, blocks);
}

// --- CPUs -----------------------------------------------------------------------------------
// gfplab's per-CPU lists are chosen by sched_getcpu() modulo the System's CPUs (2) in its
// locked mode, which is what runs under valgrind (no rseq there). Pinning makes the choice
// the same in every run: the first thread on the first CPU it may use, the second thread of
// `remote` on one that falls on the other gfplab CPU where there is such a CPU.

struct cpu_pair {
    int first = -1;
    int second = -1;
};

cpu_pair pick_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    cpu_pair p;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return p;
    std::vector<int> allowed;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            allowed.push_back(c);
    if (allowed.empty())
        return p;
    p.first = allowed[0];
    for (int c : allowed)
        if (c % 2 != p.first % 2) {
            p.second = c;
            return p;
        }
    p.second = allowed.size() > 1 ? allowed[1] : p.first;
    return p;
}

void pin(int cpu) {
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    // Best effort: an unpinned run still counts, it is only less reproducible.
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// --- remote ---------------------------------------------------------------------------------
// The first thread fills a batch, hands it over and waits until the second thread has freed
// it: strict turns, so that no thread spins inside the measured function and the count does
// not depend on scheduling.
class remote_run {
  public:
    explicit remote_run(int consumer_cpu)
        : consumer_([this, consumer_cpu] { consume(consumer_cpu); }) {}
    ~remote_run() {
        {
            std::lock_guard<std::mutex> l(m_);
            done_ = true;
            full_ = true;
        }
        cv_.notify_all();
        consumer_.join();
    }
    remote_run(const remote_run &) = delete;
    remote_run &operator=(const remote_run &) = delete;

    // n blocks through the hand-over, counted by callgrind when is_measured.
    void blocks(std::uint64_t n, bool is_measured) {
        while (n) {
            const std::uint64_t k = n < remote_batch ? n : remote_batch;
            if (is_measured)
                measured(step::produce, 0, k, buf_.data());
            else
                run_step(step::produce, 0, k, buf_.data());
            std::unique_lock<std::mutex> l(m_);
            count_ = k;
            measured_ = is_measured;
            full_ = true;
            cv_.notify_all();
            cv_.wait(l, [this] { return !full_; });
            n -= k;
        }
    }

  private:
    void consume(int cpu) {
        pin(cpu);
        std::unique_lock<std::mutex> l(m_);
        for (;;) {
            cv_.wait(l, [this] { return full_; });
            if (done_)
                return;
            if (measured_)
                measured(step::consume, 0, count_, buf_.data());
            else
                run_step(step::consume, 0, count_, buf_.data());
            full_ = false;
            cv_.notify_all();
        }
    }

    std::array<block, remote_batch> buf_{};
    std::mutex m_;
    std::condition_variable cv_;
    std::uint64_t count_ = 0;
    bool full_ = false;
    bool measured_ = false;
    bool done_ = false;
    std::thread consumer_; // last: starts once everything above is built
};

// --- the gfplab System ------------------------------------------------------------------------

#if BENCH_BACKEND == BENCH_GFPLAB
void setup_system() {
    // Fixed, so that counts are the same on every machine: 1 GiB, ZONE_DMA32 ending at
    // 256 MiB (GFP_KERNEL is served from ZONE_NORMAL), 2 CPUs, no warn_alloc printing. The
    // kernel-face binaries get the same from the environment (bench/instructions sets it).
    gfplab::system_config cfg;
    cfg.memory_bytes = 1ull << 30;
    cfg.dma32_limit = 256ull << 20;
    cfg.cpus = 2;
    cfg.warn_alloc = false;
    bench::the_system = std::make_unique<gfplab::System>(cfg);
    bench::the_cache = gfplab::kmem_cache_create(*bench::the_system, "bench-64", 64, nullptr, 0);
}
gfplab::System &gfplab_system() {
    return *bench::the_system;
}
#elif BENCH_BACKEND == BENCH_GFPLAB_KERNEL
void setup_system() {}
gfplab::System &gfplab_system() {
    return gfplab::default_system();
}
#endif

#if BENCH_BACKEND == BENCH_GFPLAB || BENCH_BACKEND == BENCH_GFPLAB_KERNEL
const char *pcp_mode() {
    return gfplab_system().pcp_uses_rseq() ? "rseq" : "locked";
}

// Nothing reported, everything recounts (I2): a count of a broken allocator is no count.
bool system_clean() {
    gfplab::System &s = gfplab_system();
    bool ok = true;
    if (s.report_count()) {
        std::fprintf(stderr, "instr-%s: the System reported %llu violation(s)\n",
                     bench::backend_name, static_cast<unsigned long long>(s.report_count()));
        ok = false;
    }
    for (const gfplab::violation &v : s.verify()) {
        std::fprintf(stderr, "instr-%s: after the run: %s\n", bench::backend_name,
                     gfplab::format_violation(v).c_str());
        ok = false;
    }
    return ok;
}

// The kernel face's System is sized by the environment: say what it got.
std::string system_shape() {
    gfplab::System &s = gfplab_system();
    return " memory_mib=" + std::to_string(s.config().memory_bytes >> 20) +
           " dma32_limit_mib=" + std::to_string(s.config().dma32_limit >> 20) +
           " nr_cpus=" + std::to_string(s.nr_cpus());
}

// The tracepoints on: every event formatted as trace_pipe prints it and written to
// /dev/null, as `gfplab-stress --trace` would write it to a file.
struct ftrace_on {
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    gfplab::ftrace_text_sink sink{fd};
    ftrace_on() { gfplab_system().set_trace_sink(&sink); }
    ~ftrace_on() {
        gfplab_system().set_trace_sink(nullptr);
        sink.finish();
        close(fd);
    }
};
constexpr bool can_trace = true;
#else
void setup_system() {}
const char *pcp_mode() {
    return "-";
}
bool system_clean() {
    return true;
}
std::string system_shape() {
    return "";
}
struct ftrace_on {};
constexpr bool can_trace = false;
#endif

struct workload {
    const char *name;
    step what;
    unsigned order;
    std::uint64_t iterations; // default
    std::uint64_t ops_per_iteration;
    const char *unit;
    bool ftrace = false; // the System's tracepoints on (gfplab only)
};

constexpr std::array<workload, 8> workloads{{
    {"pair0", step::pair, 0, 100000, 1, "pair"},
    {"pair3", step::pair, 3, 100000, 1, "pair"},
    {"hold512", step::hold512, 0, 200, held, "page"},
    {"pair9", step::pair, 9, 10000, 1, "pair"},
    {"remote", step::produce, 0, 100000, 1, "block"},
    {"kmalloc64", step::kpair, 64, 100000, 1, "pair"},
    {"cache64", step::cpair, 0, 100000, 1, "pair"},
    {"pair0_ftrace", step::pair, 0, 20000, 1, "pair", true},
}};

int usage() {
    std::fprintf(
        stderr, "usage: instr-%s WORKLOAD [ITERATIONS [WARMUP]]\n  WORKLOAD:", bench::backend_name);
    for (const workload &w : workloads)
        std::fprintf(stderr, " %s", w.name);
    std::fprintf(stderr, "\n  (see bench/instructions; run it under callgrind with "
                         "--toggle-collect=instr_measured_loop)\n");
    return 2;
}

bool parse_count(const char *s, std::uint64_t &out) {
    char *end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    out = v;
    return true;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2 || argc > 4)
        return usage();
    const workload *w = nullptr;
    for (const workload &c : workloads)
        if (std::strcmp(argv[1], c.name) == 0)
            w = &c;
    if (!w || (w->ftrace && !can_trace))
        return usage();
    std::uint64_t iterations = w->iterations;
    if (argc > 2 && !parse_count(argv[2], iterations))
        return usage();
    std::uint64_t warmup = iterations / 10;
    if (argc > 3 && !parse_count(argv[3], warmup))
        return usage();

    const cpu_pair cpus = pick_cpus();
    pin(cpus.first);
    setup_system();
    std::unique_ptr<ftrace_on> tracing;
    if (w->ftrace)
        tracing = std::make_unique<ftrace_on>();
    if (w->what == step::produce) {
        remote_run r(cpus.second);
        r.blocks(warmup, false);
        r.blocks(iterations, true);
    } else {
        std::vector<block> blocks(held);
        run_step(w->what, w->order, warmup, blocks.data());
        measured(w->what, w->order, iterations, blocks.data());
    }

    std::printf("instr: backend=%s workload=%s iterations=%llu operations=%llu unit=%s pcp=%s "
                "cpus=%d,%d%s\n",
                bench::backend_name, w->name, static_cast<unsigned long long>(iterations),
                static_cast<unsigned long long>(iterations * w->ops_per_iteration), w->unit,
                pcp_mode(), cpus.first, cpus.second, system_shape().c_str());
    tracing.reset();
    const bool ok = system_clean();
#if BENCH_BACKEND == BENCH_GFPLAB
    kmem_cache_destroy(bench::the_cache);
    bench::the_system.reset();
#endif
    return ok ? 0 : 1;
}
