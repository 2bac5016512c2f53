// SPDX-License-Identifier: MIT
//
// fuzz/plugin/fuzz_plugin.cpp - the libFuzzer driver of a workload plugin
// (<gfplab/workload.h>, docs/plugins.md). gfplab-build-fuzzer compiles it with the plugin's
// source into one fuzzer on the instrumented library: the plugin is linked in, so it
// defines gfplab_workload_entry itself.
//
// An input is a sequence of 10-byte records: [what][context][8 bytes the operation draws
// from]. `what` picks an operation of the plugin (by weight) or one of the harness's own:
// memory pressure (page allocations that push the zones to their watermarks and into
// direct reclaim), its release, and reclaim as kswapd or a NOFS allocator runs it (the
// plugin's shrinkers under fs_reclaim; every input also ends with one). `context` picks the worker
// (the plugin's per-worker state) and the memalloc scopes the operation runs inside. The
// operation's first two random draws are the record's bytes, later ones a stream seeded from them,
// so a mutation of one record changes one operation.
//
// Each input boots its own System, runs the plugin's init, the records and its exit, and
// checks after every record what the stress campaign checks online: the System's reports
// (I1-I21), scope mismatches (I8), lock cycles (I9) and WARN*(); then, at the end, that
// exit gave every page back and System::verify() is clean. A finding is printed with the
// plugin's operation and source line and aborts, which libFuzzer saves as a crash input.
#include <gfplab/workload.h>

#include <gfplab/kernel_log.hpp>
#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/lockdep.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace gfplab;

constexpr unsigned nr_workers = 2;
constexpr std::size_t record_size = 10;
constexpr unsigned harness_slots = 32; // `what` below this is the harness's
constexpr unsigned max_pressure_pages = 4096;

const gfplab_workload &plugin = gfplab_workload_entry;
std::string plugin_args;
std::vector<unsigned> weight_table; // cumulative weights of the plugin's operations

// The random numbers of one operation: the record's two 32-bit words, then splitmix64.
struct draws {
    const std::uint8_t *bytes;
    unsigned used = 0;
    std::uint64_t state = 0;
};

unsigned long long draw(gfplab_workload_ctx *ctx) {
    auto *d = static_cast<draws *>(ctx->host);
    if (d->used < 2) {
        std::uint32_t v;
        std::memcpy(&v, d->bytes + 4 * d->used++, sizeof v);
        return v;
    }
    std::uint64_t z = (d->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// What the oracle saw during the current record.
struct findings {
    std::vector<std::string> lines;
    std::string where = "init"; // the operation running
};
findings *current = nullptr;

void found(const std::string &line) {
    if (current)
        current->lines.push_back(line + " [during " + current->where + "]");
}

void on_scope_mismatch(const scope_mismatch &m, void *) {
    found("I8 unbalanced scope restore: " + m.message);
}

[[noreturn]] void fail(const findings &f, const char *stage) {
    std::fprintf(stderr, "gfplab-fuzz-plugin: %s: %zu finding(s) in workload %s\n", stage,
                 f.lines.size(), plugin.name);
    for (const auto &l : f.lines)
        std::fprintf(stderr, "gfplab-fuzz-plugin: %s\n", l.c_str());
    std::fflush(stderr);
    std::abort();
}

system_config make_config() {
    system_config c;
    c.memory_bytes = 32ull << 20;
    c.dma_limit = 4ull << 20;
    c.dma32_limit = 16ull << 20;
    c.cpus = 2;
    c.pcp = pcp_mode::virtual_cpus;
    c.checking = check_level::full;
    c.poison = true;
    c.on_report = report_action::count;
    c.warn_alloc = false;
    c.kswapd = false; // the reclaim record runs it on this thread: an input is one thread
    c.kfree_rcu_thread = false;
    return c;
}

// The harness's records: pressure, its release, reclaim under fs_reclaim.
struct pressure {
    std::vector<page *> held;
    void push(System &s, unsigned pages) {
        const gfp_t gfp = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN;
        for (unsigned i = 0; i < pages && held.size() < max_pressure_pages; i++) {
            page *p = s.alloc_pages(gfp, 0);
            if (!p)
                break;
            held.push_back(p);
        }
    }
    void release(System &s, unsigned pages) {
        for (unsigned i = 0; i < pages && !held.empty(); i++) {
            s.free_pages(held.back(), 0);
            held.pop_back();
        }
    }
};

// Reclaim's slab pass, as direct reclaim makes it: under fs_reclaim (so the locks the
// shrinkers take depend on it) and repeated while it frees something, up to four rounds (an
// lru's referenced objects are rotated once before they go).
void reclaim(System &s, gfp_t gfp, int priority) {
    fs_reclaim_acquire(gfp);
    for (int round = 0; round < 4 && s.shrinkers().shrink_slab(gfp, 0, priority) > 0; round++) {
    }
    fs_reclaim_release(gfp);
}

void run_plugin_op(unsigned slot, std::uint8_t context, const std::uint8_t *bytes, findings &f) {
    const unsigned total = weight_table.back();
    const unsigned x = (slot - harness_slots) * total / (256 - harness_slots);
    unsigned op = 0;
    while (weight_table[op] <= x)
        op++;
    draws d{bytes, 0, 0};
    std::memcpy(&d.state, bytes, sizeof d.state);
    gfplab_workload_ctx ctx{context % nr_workers, nr_workers, &draw, &d};
    f.where = std::string(plugin.ops[op].name) + " (worker " + std::to_string(ctx.worker) + ")";
    // The scopes a caller may have open around the plugin's code: none, NOFS, NOIO, both.
    const unsigned scopes = (context >> 1) & 3;
    unsigned nofs = 0, noio = 0;
    if (scopes & 1)
        nofs = scope_save(PF_MEMALLOC_NOFS, "fuzz-harness", 1);
    if (scopes & 2)
        noio = scope_save(PF_MEMALLOC_NOIO, "fuzz-harness", 2);
    plugin.ops[op].run(&ctx);
    if (scopes & 2)
        scope_restore(PF_MEMALLOC_NOIO, noio, "fuzz-harness", 2);
    if (scopes & 1)
        scope_restore(PF_MEMALLOC_NOFS, nofs, "fuzz-harness", 1);
    if (const unsigned left = current_task_flags() &
                              (PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO | PF_MEMALLOC | PF_MEMALLOC_PIN))
        found("I8 task flags left set after the operation: " + task_flags_name(left));
}

// The `what` byte that selects operation op (the first of its slots).
std::uint8_t slot_of(unsigned op) {
    const unsigned total = weight_table.back();
    for (unsigned what = harness_slots; what < 256; what++) {
        const unsigned x = (what - harness_slots) * total / (256 - harness_slots);
        if (x >= (op ? weight_table[op - 1] : 0) && x < weight_table[op])
            return std::uint8_t(what);
    }
    return 0; // weight 0: never drawn
}

void put_record(std::string &out, std::uint8_t what, std::uint8_t context, std::uint32_t a,
                std::uint32_t b) {
    out.push_back(char(what));
    out.push_back(char(context));
    out.append(reinterpret_cast<const char *>(&a), 4);
    out.append(reinterpret_cast<const char *>(&b), 4);
}

// GFPLAB_FUZZ_SEEDS=DIR: a starting corpus any plugin can use, written before fuzzing
// starts. Every seed draws the same numbers in every operation (0, then 99), so that the
// operations meet the same object (a plugin that picks a name or a slot with its first draw
// picks the same one each time) and the second draw clears percent chances below 100.
void write_seeds(const std::string &dir) {
    std::vector<std::pair<std::string, std::string>> seeds;
    std::string all, twice;
    for (unsigned op = 0; op < plugin.nr_ops; op++)
        if (plugin.ops[op].weight) {
            std::string one;
            for (int i = 0; i < 3; i++)
                put_record(one, slot_of(op), 0, 0, 99);
            seeds.emplace_back(std::string("op-") + plugin.ops[op].name, one);
            put_record(all, slot_of(op), 0, 0, 99);
        }
    seeds.emplace_back("all-ops", all);
    // Twice, the second time in NOFS then NOIO scopes and under pressure, then reclaim.
    twice = all;
    put_record(twice, 0, 0, 0xffffffffu, 0); // pressure: as many pages as it may take
    for (std::size_t at = 0; at < all.size(); at += record_size)
        put_record(twice, std::uint8_t(all[at]), std::uint8_t(2 + 2 * (at / record_size % 2)), 0,
                   99);
    put_record(twice, 2, 0, 0, 0); // reclaim, GFP_KERNEL, priority 0
    seeds.emplace_back("all-ops-twice", twice);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        std::fprintf(stderr, "gfplab-fuzz-plugin: cannot create %s\n", dir.c_str());
        std::exit(2);
    }
    for (const auto &[name, bytes] : seeds) {
        std::ofstream f(dir + "/seed-" + name, std::ios::binary);
        f.write(bytes.data(), std::streamsize(bytes.size()));
        if (!f) {
            std::fprintf(stderr, "gfplab-fuzz-plugin: cannot write %s/seed-%s\n", dir.c_str(),
                         name.c_str());
            std::exit(2);
        }
    }
    std::fprintf(stderr, "gfplab-fuzz-plugin: %zu seeds written to %s\n", seeds.size(),
                 dir.c_str());
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv);
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size);

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    if (plugin.abi_version != GFPLAB_WORKLOAD_ABI_VERSION || !plugin.ops || !plugin.nr_ops) {
        std::fprintf(stderr,
                     "gfplab-fuzz-plugin: the descriptor is not ABI version %u or "
                     "lists no operations\n",
                     GFPLAB_WORKLOAD_ABI_VERSION);
        std::exit(2);
    }
    unsigned total = 0;
    for (unsigned i = 0; i < plugin.nr_ops; i++)
        weight_table.push_back(total += plugin.ops[i].weight);
    if (total == 0) {
        std::fprintf(stderr, "gfplab-fuzz-plugin: every operation has weight 0\n");
        std::exit(2);
    }
    if (const char *a = std::getenv("GFPLAB_WORKLOAD_ARGS"))
        plugin_args = a;
    if (const char *d = std::getenv("GFPLAB_FUZZ_SEEDS"); d && *d)
        write_seeds(d);
    set_kernel_log_sink([](int level, std::string_view text) {
        // Errors and warnings only: a fuzzer prints nothing per input.
        if (level >= 0 && level <= 4)
            std::fprintf(stderr, "%.*s", int(text.size()), text.data());
    });
    set_lockdep_report_handler([](const lockdep_report &r) {
        found("I9 " + r.message + "; " + r.first + "; " + r.second);
    });
    std::fprintf(stderr, "gfplab-fuzz-plugin: workload %s%s%s\n", plugin.name,
                 plugin_args.empty() ? "" : ", args ", plugin_args.c_str());
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    findings f;
    current = &f;
    lockdep_reset(); // an input's cycles are its own
    auto sys = std::make_unique<System>(make_config());
    sys->set_report_sink([](const violation &v) { found(format_violation(v)); });
    set_default_system(sys.get());
    const scope_report_fn prev = set_scope_report_handler(&on_scope_mismatch, nullptr);
    const std::uint64_t warnings = kernel_warning_count();
    auto check = [&](const char *stage) {
        if (kernel_warning_count() != warnings)
            f.lines.push_back("WARN*() fired [during " + f.where + "]");
        if (!f.lines.empty())
            fail(f, stage);
    };

    const gfplab_workload_env env{nr_workers, plugin_args.c_str()};
    if (plugin.init && plugin.init(&env) != 0) {
        std::fprintf(stderr, "gfplab-fuzz-plugin: init of %s failed (args '%s')\n", plugin.name,
                     plugin_args.c_str());
        std::exit(2);
    }
    check("init");
    pressure ballast;
    for (std::size_t at = 0; at + record_size <= size; at += record_size) {
        const std::uint8_t what = data[at], context = data[at + 1];
        const std::uint8_t *bytes = data + at + 2;
        if (what >= harness_slots) {
            run_plugin_op(what, context, bytes, f);
        } else {
            const unsigned amount = 1u + (bytes[0] | unsigned(bytes[1]) << 8) % max_pressure_pages;
            switch (what % 4) {
            case 0:
                f.where = "harness pressure";
                ballast.push(*sys, amount);
                break;
            case 1:
                f.where = "harness release";
                ballast.release(*sys, amount);
                break;
            case 2:
                f.where = "harness reclaim (GFP_KERNEL)";
                reclaim(*sys, GFP_KERNEL, bytes[2] % 13);
                break;
            default:
                f.where = "harness reclaim (GFP_NOFS)";
                reclaim(*sys, GFP_NOFS, bytes[2] % 13);
                break;
            }
        }
        check("operation");
    }
    ballast.release(*sys, max_pressure_pages);
    // Every input ends as memory pressure would end it: the shrinkers run under fs_reclaim,
    // so what the plugin left on its lrus meets reclaim whatever the records did.
    f.where = "harness reclaim at the end (GFP_KERNEL)";
    reclaim(*sys, GFP_KERNEL, 0);
    check("final reclaim");
    f.where = "exit";
    if (plugin.exit)
        plugin.exit();
    check("exit");

    // Everything the plugin had must be back once the caches let go.
    kvfree_rcu_barrier(*sys);
    sys->shrinkers().drop_slab();
    kmem_cache_shrink_all(*sys);
    sys->drain_all_pages();
    long missing = 0;
    for (int nid = 0; nid < sys->nr_nodes(); nid++)
        for (const auto &z : sys->node(nid).node_zones)
            if (z.populated())
                missing += long(z.managed_pages) - z.page_state_snapshot(NR_FREE_PAGES);
    if (missing > 0)
        f.lines.push_back("leak: " + std::to_string(missing) +
                          " page(s) still allocated after exit [during exit]");
    f.where = "the final recount";
    for (const auto &v : sys->verify())
        found(format_violation(v));
    check("end");

    set_scope_report_handler(prev);
    set_default_system(nullptr);
    sys.reset();
    current = nullptr;
    return 0;
}
