// SPDX-License-Identifier: MIT
//
// gfplab/fault_inject.hpp - fail_page_alloc (Linux 6.12 mm/fail_page_alloc.c on top of
// lib/fault-inject.c should_fail_ex()): forced allocation failures for testing callers'
// error paths, with the kernel's knobs, defaults and order of checks.
//
// Model differences: randomness comes from a generator owned by the object and seeded by the
// caller (reproducible runs); there is no task filter, no stack-trace filter and no
// ratelimit; verbose defaults to 0 (the kernel's default is 2) so tests stay quiet.
#pragma once

#include <gfplab/linux/gfp_types.h>

#include <atomic>
#include <cstdint>
#include <string_view>

namespace gfplab {

// The per-thread /proc/<pid>/task/<tid>/fail-nth countdown: when n > 0, the n-th fault
// injection point this thread reaches fails (whatever the other knobs say) and the countdown
// stops at 0. Like the kernel's task field, one value serves every fault-injection object.
void set_current_fail_nth(unsigned int n) noexcept;
unsigned int current_fail_nth() noexcept;

class fail_page_alloc {
  public:
    // FAULT_ATTR_INITIALIZER plus fail_page_alloc's own defaults: interval 1, times 1,
    // probability 0 (off), space 0, ignore-gfp-wait and ignore-gfp-highmem on, min-order 1.
    explicit fail_page_alloc(std::uint64_t seed = 0) noexcept;

    // 6.12 should_fail_alloc_page(): order < min_order, __GFP_NOFAIL, __GFP_HIGHMEM (when
    // ignored), __GFP_DIRECT_RECLAIM (when ignored), then should_fail_ex() with size
    // 1 << order: fail_nth, probability 0, times 0, space, interval, random < probability;
    // a failure decrements times unless it is -1. __GFP_NOWARN only silences the report.
    // When probability is 0 and this thread has no fail_nth it costs one relaxed load.
    bool should_fail_alloc_page(gfp_t gfp, unsigned int order) noexcept;
    // Whether a probability is set (the thread's fail_nth aside): the allocation fast path
    // tests this and the countdown before it calls should_fail_alloc_page().
    bool armed() const noexcept { return probability_.load(std::memory_order_relaxed) != 0; }

    // Boot parameter fail_page_alloc=<interval>,<probability>,<space>,<times>. Returns false
    // (and changes nothing) unless all four numbers parse; the kernel then logs
    // "FAULT_INJECTION: failed to parse arguments".
    bool setup(std::string_view str) noexcept;

    // debugfs knobs, under their debugfs names.
    void set_probability(unsigned long percent) noexcept { probability_.store(percent); }
    void set_interval(unsigned long n) noexcept { interval_.store(n); }
    void set_times(int n) noexcept { times_.store(n); } // -1: no limit
    void set_space(int n) noexcept { space_.store(n); } // in units of the size (pages here)
    void set_verbose(int v) noexcept { verbose_.store(v); }
    void set_ignore_gfp_wait(bool on) noexcept { ignore_gfp_reclaim_.store(on); }
    void set_ignore_gfp_highmem(bool on) noexcept { ignore_gfp_highmem_.store(on); }
    void set_min_order(unsigned int order) noexcept { min_order_.store(order); }
    void seed(std::uint64_t s) noexcept { rng_state_.store(s); }

    unsigned long probability() const noexcept { return probability_.load(); }
    unsigned long interval() const noexcept { return interval_.load(); }
    int times() const noexcept { return times_.load(); }
    int space() const noexcept { return space_.load(); }
    int verbose() const noexcept { return verbose_.load(); }
    bool ignore_gfp_wait() const noexcept { return ignore_gfp_reclaim_.load(); }
    bool ignore_gfp_highmem() const noexcept { return ignore_gfp_highmem_.load(); }
    unsigned int min_order() const noexcept { return min_order_.load(); }

    // How many failures were forced, and how many of them were reported (verbose > 0 and no
    // __GFP_NOWARN).
    std::uint64_t injected() const noexcept { return injected_.load(); }
    std::uint64_t reported() const noexcept { return reported_.load(); }

  private:
    bool should_fail_ex(long size, bool nowarn) noexcept;
    unsigned int random_below_100() noexcept;

    std::atomic<unsigned long> probability_{0};
    std::atomic<unsigned long> interval_{1};
    std::atomic<int> times_{1};
    std::atomic<int> space_{0};
    std::atomic<int> verbose_{0};
    std::atomic<bool> ignore_gfp_reclaim_{true};
    std::atomic<bool> ignore_gfp_highmem_{true};
    std::atomic<unsigned int> min_order_{1};
    std::atomic<unsigned long> count_{0}; // calls that reached the interval test
    std::atomic<std::uint64_t> rng_state_;
    std::atomic<std::uint64_t> injected_{0};
    std::atomic<std::uint64_t> reported_{0};
};

} // namespace gfplab
