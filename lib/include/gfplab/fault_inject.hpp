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

// lib/fault-inject.c's struct fault_attr and should_fail_ex(): the knobs every fault
// injection point shares, under their debugfs names.
class fault_attr {
  public:
    // Boot parameter <name>=<interval>,<probability>,<space>,<times>. Returns false (and
    // changes nothing) unless all four numbers parse; the kernel then logs
    // "FAULT_INJECTION: failed to parse arguments".
    bool setup(std::string_view str) noexcept;

    void set_probability(unsigned long percent) noexcept { probability_.store(percent); }
    void set_interval(unsigned long n) noexcept { interval_.store(n); }
    void set_times(int n) noexcept { times_.store(n); } // -1: no limit
    void set_space(int n) noexcept { space_.store(n); } // in units of the point's size
    void set_verbose(int v) noexcept { verbose_.store(v); }
    void seed(std::uint64_t s) noexcept { rng_state_.store(s); }

    unsigned long probability() const noexcept { return probability_.load(); }
    unsigned long interval() const noexcept { return interval_.load(); }
    int times() const noexcept { return times_.load(); }
    int space() const noexcept { return space_.load(); }
    int verbose() const noexcept { return verbose_.load(); }
    // Whether a probability is set (the thread's fail_nth aside): fast paths test this and
    // the countdown before they call the point's filter.
    bool armed() const noexcept { return probability_.load(std::memory_order_relaxed) != 0; }

    // How many failures were forced, and how many of them were reported (verbose > 0 and no
    // __GFP_NOWARN).
    std::uint64_t injected() const noexcept { return injected_.load(); }
    std::uint64_t reported() const noexcept { return reported_.load(); }

  protected:
    // FAULT_ATTR_INITIALIZER: interval 1, times 1, probability 0 (off), space 0; verbose 0
    // here (the kernel's is 2) so tests stay quiet. name is the debugfs directory.
    fault_attr(const char *name, std::uint64_t seed) noexcept;
    // fail_nth, probability 0, times 0, space, interval, random < probability; a failure
    // decrements times unless it is -1.
    bool should_fail_ex(long size, bool nowarn) noexcept;
    // Off: no probability and no countdown on this thread (one relaxed load and a TLS read).
    bool disabled() const noexcept;

  private:
    unsigned int random_below_100() noexcept;

    const char *name_;
    std::atomic<unsigned long> probability_{0};
    std::atomic<unsigned long> interval_{1};
    std::atomic<int> times_{1};
    std::atomic<int> space_{0};
    std::atomic<int> verbose_{0};
    std::atomic<unsigned long> count_{0}; // calls that reached the interval test
    std::atomic<std::uint64_t> rng_state_;
    std::atomic<std::uint64_t> injected_{0};
    std::atomic<std::uint64_t> reported_{0};
};

class fail_page_alloc : public fault_attr {
  public:
    // fail_page_alloc's own defaults: ignore-gfp-wait and ignore-gfp-highmem on, min-order 1.
    explicit fail_page_alloc(std::uint64_t seed = 0) noexcept;
    // 6.12 should_fail_alloc_page(): order < min_order, __GFP_NOFAIL, __GFP_HIGHMEM (when
    // ignored), __GFP_DIRECT_RECLAIM (when ignored), then should_fail_ex() with size
    // 1 << order. __GFP_NOWARN only silences the report.
    bool should_fail_alloc_page(gfp_t gfp, unsigned int order) noexcept;

    void set_ignore_gfp_wait(bool on) noexcept { ignore_gfp_reclaim_.store(on); }
    void set_ignore_gfp_highmem(bool on) noexcept { ignore_gfp_highmem_.store(on); }
    void set_min_order(unsigned int order) noexcept { min_order_.store(order); }
    bool ignore_gfp_wait() const noexcept { return ignore_gfp_reclaim_.load(); }
    bool ignore_gfp_highmem() const noexcept { return ignore_gfp_highmem_.load(); }
    unsigned int min_order() const noexcept { return min_order_.load(); }

  private:
    std::atomic<bool> ignore_gfp_reclaim_{true};
    std::atomic<bool> ignore_gfp_highmem_{true};
    std::atomic<unsigned int> min_order_{1};
};

// failslab (6.12 mm/failslab.c): forced failures of slab allocations, beside
// fail_page_alloc, consulted where the kernel does (slab_pre_alloc_hook(), before the
// object is looked for).
class failslab : public fault_attr {
  public:
    // failslab's own defaults: ignore-gfp-wait on, cache-filter off.
    explicit failslab(std::uint64_t seed = 0) noexcept;
    // __should_failslab(): never __GFP_NOFAIL; __GFP_DIRECT_RECLAIM requests when ignored;
    // with cache-filter only caches created with SLAB_FAILSLAB (cache_failslab); then
    // should_fail_ex() with the object size. __GFP_NOWARN only silences the report.
    bool should_failslab(gfp_t gfp, bool cache_failslab, unsigned int object_size) noexcept;

    void set_ignore_gfp_wait(bool on) noexcept { ignore_gfp_reclaim_.store(on); }
    void set_cache_filter(bool on) noexcept { cache_filter_.store(on); }
    bool ignore_gfp_wait() const noexcept { return ignore_gfp_reclaim_.load(); }
    bool cache_filter() const noexcept { return cache_filter_.load(); }

  private:
    std::atomic<bool> ignore_gfp_reclaim_{true};
    std::atomic<bool> cache_filter_{false};
};

} // namespace gfplab
