// SPDX-License-Identifier: MIT
//
// gfplab-run MODULE.so: boots a System as the kernel face's default, loads a kernel-style
// test module built against the kernel include root (pkg-config gfplab-kernel), runs its
// module_init() and, when that succeeded, its module_exit(), and tells what happened: the
// module's log, every report of the oracle (with the module's source lines), the warnings
// it raised, and what it left allocated once it was gone. docs/kernel-code.md.
//
// Exit status (docs/oracle.md): 0 clean; 1 a report, a warning or a leak; 2 bad usage;
// 3 the module could not be loaded or has no module_init(); 4 its init returned an error
// and nothing else was found.
#include <gfplab/alloc_sites.hpp>
#include <gfplab/kernel_log.hpp>
#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/lockdep.hpp>
#include <gfplab/memparse.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>
#include <gfplab/version.hpp>

#include <CLI/CLI.hpp>
#include <dlfcn.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {

using namespace gfplab;

enum status { clean = 0, found = 1, usage = 2, no_module = 3, init_failed = 4 };

struct options {
    std::string module;
    std::uint64_t memory = 256ull << 20;
    unsigned nodes = 1, cpus = 2;
    std::string check = "full";
    bool init_on_alloc = false, init_on_free = false, poison = true, quiet = false;
    std::string json;
};

// What the System holds once every cache has given back what it can: pages outside free
// lists and per-CPU lists, and each slab cache's objects.
struct usage_snapshot {
    long pages = 0;
    std::map<std::string, long> objects;
    std::map<std::string, long> slab_pages;
};

usage_snapshot settle(System &s) {
    kvfree_rcu_barrier(s);
    s.shrinkers().drop_slab();
    kmem_cache_shrink_all(s);
    s.drain_all_pages();
    usage_snapshot u;
    for (int nid = 0; nid < s.nr_nodes(); nid++)
        for (const auto &z : s.node(nid).node_zones)
            if (z.populated())
                u.pages += long(z.managed_pages) - z.page_state_snapshot(NR_FREE_PAGES) -
                           long(s.pcp_count(z));
    for (const auto &c : slabinfo(s)) {
        u.objects[c.name] += long(c.active_objs);
        u.slab_pages[c.name] += long(c.num_slabs << c.order);
    }
    return u;
}

struct findings {
    std::mutex m;
    std::vector<nlohmann::json> reports;
    std::vector<std::string> log;
};

template <typename T>
T symbol(void *handle, const char *name) {
    return reinterpret_cast<T>(dlsym(handle, name));
}

} // namespace

int main(int argc, char **argv) {
    options o;
    CLI::App app{"gfplab-run: run a kernel-style test module (module_init, module_exit) on a "
                 "gfplab System and report what the oracle saw.\nExit status: 0 clean, 1 a "
                 "report, a warning or a leak, 2 bad usage, 3 the module did not load or has "
                 "no module_init(), 4 its init failed. Build a module with\n  cc -shared -fPIC "
                 "mod.c -o mod.so $(pkg-config --cflags --libs gfplab-kernel)\nSee "
                 "docs/kernel-code.md and docs/oracle.md."};
    app.add_option("module", o.module, "the module (a shared object)")->required();
    std::string memory_text = "256M";
    app.add_option("-m,--memory", memory_text,
                   "physical memory (the kernel's size syntax: 64M, 1G, 0x10000000)")
        ->check([](const std::string &text) -> std::string {
            return memparse(text) ? "" : "not a size (e.g. 64M, 1G)";
        })
        ->capture_default_str();
    app.set_version_flag("--version", version_string("gfplab-run"));
    app.add_option("--nodes", o.nodes, "NUMA nodes")
        ->check(CLI::Range(1, 8))
        ->capture_default_str();
    app.add_option("--cpus", o.cpus, "CPUs")->check(CLI::Range(1, 256))->capture_default_str();
    app.add_option("--check", o.check, "checking level")
        ->check(CLI::IsMember({"off", "cheap", "full"}))
        ->capture_default_str();
    app.add_flag("--init-on-alloc", o.init_on_alloc, "zero slab objects when handed out");
    app.add_flag("--init-on-free", o.init_on_free, "zero slab objects when freed");
    app.add_flag("!--no-poison", o.poison, "do not poison freed pages (I12)");
    app.add_flag("-q,--quiet", o.quiet, "do not echo the module's log");
    app.add_option("--json", o.json, "write the findings as JSON to this file");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        const int rc = app.exit(e);
        return rc == 0 ? clean : usage;
    }

    o.memory = *memparse(memory_text);
    system_config cfg;
    cfg.memory_bytes = o.memory;
    cfg.nodes = o.nodes;
    cfg.cpus = o.cpus;
    cfg.checking = o.check == "off"     ? check_level::off
                   : o.check == "cheap" ? check_level::cheap
                                        : check_level::full;
    cfg.poison = o.poison;
    cfg.init_on_alloc = o.init_on_alloc;
    cfg.init_on_free = o.init_on_free;
    cfg.on_report = report_action::count;
    System *sys;
    try {
        sys = new System(cfg); // never freed: the module's pages may outlive everything
    } catch (const std::exception &e) {
        fmt::print(stderr, "gfplab-run: cannot boot the System: {}\n", e.what());
        return usage;
    }
    set_default_system(sys);

    findings f;
    sys->set_report_sink([&](const violation &v) {
        std::lock_guard<std::mutex> g(f.m);
        fmt::print(stderr, "{}\n", format_violation(v));
        f.reports.push_back({{"invariant", fmt::format("I{}", id(v.inv))},
                             {"what", v.what},
                             {"message", v.message},
                             {"scope_stack", v.scope_stack}});
    });
    set_lockdep_report_handler([&](const lockdep_report &r) {
        std::lock_guard<std::mutex> g(f.m);
        fmt::print(stderr, "gfplab-run: I9 {}\ngfplab-run: I9   {}\ngfplab-run: I9   {}\n",
                   r.message, r.first, r.second);
        f.reports.push_back({{"invariant", "I9"},
                             {"what", "possible circular locking dependency"},
                             {"message", r.message + "; " + r.first + "; " + r.second}});
    });
    // Scope mismatches are the calling thread's: the module's init and exit run on this one.
    set_scope_report_handler(
        [](const scope_mismatch &m, void *ctx) {
            auto &fs = *static_cast<findings *>(ctx);
            std::lock_guard<std::mutex> g(fs.m);
            fmt::print(stderr, "gfplab-run: I8 scope mismatch: {}\n", m.message);
            fs.reports.push_back(
                {{"invariant", "I8"}, {"what", "scope mismatch"}, {"message", m.message}});
        },
        &f);
    set_kernel_log_sink([&](int level, std::string_view text) {
        static const char *const names[] = {"emerg", "alert",  "crit", "err",
                                            "warn",  "notice", "info", "debug"};
        const std::string line(text);
        {
            std::lock_guard<std::mutex> g(f.m);
            f.log.push_back(line);
        }
        if (!o.quiet) {
            fmt::print("{}{}", level >= 0 ? fmt::format("[{}] ", names[level]) : "", line);
            std::fflush(stdout); // in order with the reports on stderr
        }
    });

    const usage_snapshot before = settle(*sys);
    const std::size_t reports_at_boot = f.reports.size();

    set_alloc_site_tracking(true);
    void *handle = dlopen(o.module.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        fmt::print(stderr, "gfplab-run: cannot load {}: {}\n", o.module, dlerror());
        return no_module;
    }
    auto *init = symbol<int (*const *)(void)>(handle, "gfplab_module_init");
    auto *exit_fn = symbol<void (*const *)(void)>(handle, "gfplab_module_exit");
    const auto *license = symbol<const char *>(handle, "gfplab_module_license");
    const auto *description = symbol<const char *>(handle, "gfplab_module_description");
    if (!init || !*init) {
        fmt::print(stderr,
                   "gfplab-run: {} has no module_init() (include <linux/module.h> and name "
                   "the init function with module_init(fn))\n",
                   o.module);
        return no_module;
    }
    fmt::print(stderr, "gfplab-run: {}{}, license {}\n", o.module,
               description ? fmt::format(" ({})", description) : "",
               license ? license : "unspecified (the kernel would taint itself)");

    const int rc = (*init)();
    if (rc != 0)
        fmt::print(stderr, "gfplab-run: module_init returned {} ({}); module_exit not called\n", rc,
                   rc < 0 ? std::strerror(-rc) : "not an error code");
    else if (exit_fn && *exit_fn)
        (*exit_fn)();

    // What the module left behind: pages outside the slab caches, and objects per cache.
    const usage_snapshot after = settle(*sys);
    nlohmann::json leaks = nlohmann::json::object();
    long slab_pages_left = 0;
    for (const auto &[name, n] : after.objects) {
        const auto it = before.objects.find(name);
        const long extra = n - (it == before.objects.end() ? 0 : it->second);
        if (extra > 0) {
            fmt::print(stderr, "gfplab-run: leak: {} object(s) of cache {} still allocated\n",
                       extra, name);
            leaks[name] = extra;
        }
    }
    for (const auto &[name, n] : after.slab_pages) {
        const auto it = before.slab_pages.find(name);
        slab_pages_left += n - (it == before.slab_pages.end() ? 0 : it->second);
    }
    const long pages_left = after.pages - before.pages - slab_pages_left;
    if (pages_left > 0) {
        fmt::print(stderr, "gfplab-run: leak: {} page(s) still allocated outside slab caches\n",
                   pages_left);
        leaks["pages"] = pages_left;
    }
    // Where the module allocated what it still holds (kmemleak-style), when it leaked.
    nlohmann::json sites = nlohmann::json::array();
    if (!leaks.empty())
        for (const auto &r : outstanding_alloc_sites()) {
            fmt::print(stderr, "gfplab-run: leak:   {} of {} bytes at {:#x}, allocated at {}:{}\n",
                       r.what, r.size, r.address, r.file, r.line);
            sites.push_back(
                {{"what", r.what}, {"size", r.size}, {"file", r.file}, {"line", r.line}});
        }
    sys->kswapd_park(); // quiescent for the recount
    for (const auto &v : sys->verify())
        sys->report(v);
    const std::uint64_t warnings = kernel_warning_count();
    std::size_t nreports;
    {
        std::lock_guard<std::mutex> g(f.m);
        nreports = f.reports.size() - reports_at_boot;
    }
    const bool anything = nreports || warnings || !leaks.empty();
    const int status = anything ? found : rc != 0 ? init_failed : clean;
    fmt::print(stderr, "gfplab-run: {} report(s), {} warning(s), {} leak(s): {}\n", nreports,
               warnings, leaks.size(), status == clean ? "clean" : "FAILED");
    if (!o.json.empty()) {
        nlohmann::json j{{"program", "gfplab-run"},
                         {"format_version", 1},
                         {"gfplab_version", version()},
                         {"git_revision", git_revision()},
                         {"module", o.module},
                         {"license", license ? license : ""},
                         {"init_return", rc},
                         {"reports", f.reports},
                         {"warnings", warnings},
                         {"leaks", leaks},
                         {"log", f.log},
                         {"status", status}};
        std::ofstream out(o.json);
        out << j.dump(2) << "\n";
        if (!out) {
            fmt::print(stderr, "gfplab-run: cannot write {}\n", o.json);
            return found;
        }
    }
    std::fflush(stdout);
    // The module stays loaded: its callbacks (shrinkers, RCU) may still be referenced.
    return status;
}
