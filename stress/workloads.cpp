// SPDX-License-Identifier: MIT
#include "workloads.hpp"

#include "masks.hpp"
#include "oracle.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstring>

namespace gfplab::stress {
namespace {

unsigned long long draw_from(gfplab_workload_ctx *ctx) {
    return (*static_cast<splitmix64 *>(ctx->host))();
}

// What a host can rely on before it calls anything of the plugin.
void check_descriptor(const std::string &path, const gfplab_workload *d) {
    auto bad = [&](const std::string &why) {
        return workload_error(fmt::format("{}: {}", path, why));
    };
    if (d->abi_version != GFPLAB_WORKLOAD_ABI_VERSION)
        throw bad(fmt::format("built for workload ABI version {}, this gfplab-stress speaks "
                              "version {} (rebuild it against these headers)",
                              d->abi_version, GFPLAB_WORKLOAD_ABI_VERSION));
    if (!d->name || !*d->name)
        throw bad("the descriptor has no name");
    if (!d->ops || d->nr_ops == 0)
        throw bad("the descriptor lists no operations");
    std::uint64_t total = 0;
    for (unsigned i = 0; i < d->nr_ops; i++) {
        const gfplab_workload_op &op = d->ops[i];
        if (!op.name || !*op.name || !op.run)
            throw bad(fmt::format("operation {} has no name or no run function", i));
        total += op.weight;
    }
    if (total == 0)
        throw bad("every operation has weight 0");
}

} // namespace

workload_set::workload_set(const std::vector<std::string> &specs) {
    for (const std::string &spec : specs) {
        workload_plugin p;
        const auto comma = spec.find(',');
        p.path = spec.substr(0, comma);
        p.args = comma == std::string::npos ? "" : spec.substr(comma + 1);
        // dlopen() searches the library path for a name without a slash: a plugin is a file.
        const std::string file = p.path.find('/') == std::string::npos ? "./" + p.path : p.path;
        // RTLD_GLOBAL is not needed: the plugin's undefined symbols resolve against the
        // process, where the one libgfplab.so already is.
        p.handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!p.handle)
            throw workload_error(fmt::format("cannot load workload {}: {}", p.path, dlerror()));
        p.desc = static_cast<const gfplab_workload *>(dlsym(p.handle, GFPLAB_WORKLOAD_SYMBOL));
        if (!p.desc)
            throw workload_error(fmt::format(
                "{} is not a workload plugin: it defines no '{}' (include <gfplab/workload.h> "
                "and define the descriptor with GFPLAB_WORKLOAD(...))",
                p.path, GFPLAB_WORKLOAD_SYMBOL));
        check_descriptor(p.path, p.desc);
        for (const auto &q : plugins_)
            if (q.handle == p.handle)
                throw workload_error(fmt::format("{} is loaded twice", p.path));
        p.stats = std::make_unique<workload_op_stats[]>(p.desc->nr_ops);
        plugins_.push_back(std::move(p));
    }
    std::uint64_t upto = 0;
    for (unsigned i = 0; i < plugins_.size(); i++)
        for (unsigned j = 0; j < plugins_[i].desc->nr_ops; j++)
            if (const unsigned w = plugins_[i].desc->ops[j].weight) {
                upto += w;
                table_.push_back({{i, j}, upto});
            }
}

workload_set::~workload_set() = default;

void workload_set::init(unsigned nr_workers) {
    for (auto &p : plugins_) {
        if (op_context *c = current_op_context())
            c->workload = p.desc->name; // what init() triggers is charged to it
        if (!p.desc->init) {
            p.initialised = true;
            continue;
        }
        const gfplab_workload_env env{nr_workers, p.args.c_str()};
        if (const int rc = p.desc->init(&env); rc != 0) {
            exit();
            throw workload_error(
                fmt::format("workload {} ({}): init returned {}{}", p.desc->name, p.path, rc,
                            rc < 0 ? fmt::format(" ({})", std::strerror(-rc)) : std::string()));
        }
        p.initialised = true;
    }
}

void workload_set::exit() noexcept {
    for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it)
        if (it->initialised) {
            if (op_context *c = current_op_context())
                c->workload = it->desc->name;
            if (it->desc->exit)
                it->desc->exit();
            it->initialised = false;
        }
}

workload_set::pick workload_set::draw(std::uint64_t r) const noexcept {
    const std::uint64_t x = r % table_.back().upto;
    std::size_t lo = 0, hi = table_.size() - 1;
    while (lo < hi) { // the first entry whose cumulative weight passes x
        const std::size_t mid = (lo + hi) / 2;
        if (table_[mid].upto > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return table_[lo].p;
}

const char *workload_set::plugin_name(const pick &p) const noexcept {
    return plugins_[p.plugin].desc->name;
}

const char *workload_set::op_name(const pick &p) const noexcept {
    return plugins_[p.plugin].desc->ops[p.op].name;
}

void workload_set::run(const pick &p, unsigned worker, unsigned nr_workers, splitmix64 &r) const {
    const workload_plugin &w = plugins_[p.plugin];
    gfplab_workload_ctx ctx{worker, nr_workers, &draw_from, &r};
    const int rc = w.desc->ops[p.op].run(&ctx);
    w.stats[p.op].calls.fetch_add(1, std::memory_order_relaxed);
    if (rc < 0)
        w.stats[p.op].failures.fetch_add(1, std::memory_order_relaxed);
}

} // namespace gfplab::stress
