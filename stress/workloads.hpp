// SPDX-License-Identifier: MIT
//
// stress/workloads.hpp - workload plugins (<gfplab/workload.h>, docs/plugins.md): shared
// objects of kernel-style code loaded with --workload PATH.so[,ARGS], whose weighted
// operations the workers draw beside (or instead of) the built-in mix. A plugin binds to the
// same shared library as gfplab-stress, so its kernel-face calls reach the campaign's
// System, and everything the oracle sees while one of its operations runs is charged to it.
#pragma once

#include <gfplab/workload.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace gfplab::stress {

struct splitmix64;

// A plugin that cannot be used: the message says why (gfplab-stress exits 2).
struct workload_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct workload_op_stats {
    std::atomic<std::uint64_t> calls{0}, failures{0};
};

struct workload_plugin {
    std::string path, args;
    void *handle = nullptr;
    const gfplab_workload *desc = nullptr;
    std::unique_ptr<workload_op_stats[]> stats; // one per operation
    bool initialised = false;
};

class workload_set {
  public:
    // Loads each "PATH.so[,ARGS]" and checks its descriptor; throws workload_error.
    explicit workload_set(const std::vector<std::string> &specs);
    ~workload_set(); // the shared objects stay loaded (callbacks may still be referenced)
    workload_set(const workload_set &) = delete;
    workload_set &operator=(const workload_set &) = delete;

    bool empty() const noexcept { return plugins_.empty(); }
    const std::vector<workload_plugin> &plugins() const noexcept { return plugins_; }

    // Calls every init() in load order on the calling thread (the kernel face's default
    // System must be the campaign's); throws workload_error naming the one that failed,
    // after the ones before it were torn down again.
    void init(unsigned nr_workers);
    // Calls exit() of every initialised plugin, last loaded first.
    void exit() noexcept;

    struct pick {
        unsigned plugin = 0, op = 0;
    };
    // An operation by weight over every plugin's operations.
    pick draw(std::uint64_t r) const noexcept;
    const char *plugin_name(const pick &p) const noexcept;
    const char *op_name(const pick &p) const noexcept;
    // Runs one operation; its random numbers come from r.
    void run(const pick &p, unsigned worker, unsigned nr_workers, splitmix64 &r) const;

  private:
    struct entry {
        pick p;
        std::uint64_t upto; // cumulative weight
    };
    std::vector<workload_plugin> plugins_;
    std::vector<entry> table_;
};

} // namespace gfplab::stress
