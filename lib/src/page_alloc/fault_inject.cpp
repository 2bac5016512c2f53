// SPDX-License-Identifier: MIT
//
// fail_page_alloc (Linux 6.12 mm/fail_page_alloc.c, lib/fault-inject.c). The order of the
// checks is the kernel's, because it decides which counters a call consumes: fail_nth counts
// only calls that passed the gfp/order filters, space only calls that passed the times test,
// the interval counter only calls that passed space.
#include <gfplab/fault_inject.hpp>
#include <gfplab/linux/gfp.h>

#include "fail_nth.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>

namespace gfplab {

// current->fail_nth. Every thread of the model is a task, so in_task() always holds.
__thread unsigned int detail::t_fail_nth = 0;
using detail::t_fail_nth;

namespace {

// splitmix64's output function: a well-mixed 64-bit value per state step.
constexpr std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

template <class T>
bool parse_field(std::string_view &s, T &out, bool last) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc{} || p == s.data())
        return false;
    s.remove_prefix(static_cast<std::size_t>(p - s.data()));
    if (last)
        return true;
    if (s.empty() || s.front() != ',')
        return false;
    s.remove_prefix(1);
    return true;
}

} // namespace

void set_current_fail_nth(unsigned int n) noexcept {
    t_fail_nth = n;
}
unsigned int current_fail_nth() noexcept {
    return t_fail_nth;
}

fault_attr::fault_attr(const char *name, std::uint64_t seed) noexcept
    : name_(name), rng_state_(seed) {}

fail_page_alloc::fail_page_alloc(std::uint64_t seed) noexcept
    : fault_attr("fail_page_alloc", seed) {}

failslab::failslab(std::uint64_t seed) noexcept : fault_attr("failslab", seed) {}

bool fault_attr::disabled() const noexcept {
    return probability_.load(std::memory_order_relaxed) == 0 && t_fail_nth == 0;
}

unsigned int fault_attr::random_below_100() noexcept {
    // One atomic step of splitmix64 per draw: lock-free, and the same sequence for the same
    // seed when calls are sequential. The multiply-shift maps 32 random bits onto [0, 100)
    // (bias below 1e-7, where the kernel's get_random_u32_below() rejects to be exact).
    const std::uint64_t s = rng_state_.fetch_add(0x9e3779b97f4a7c15ull, std::memory_order_relaxed);
    const auto r = static_cast<std::uint32_t>(mix64(s + 0x9e3779b97f4a7c15ull) >> 32);
    return static_cast<unsigned int>((std::uint64_t(r) * 100) >> 32);
}

bool fail_page_alloc::should_fail_alloc_page(gfp_t gfp, unsigned int order) noexcept {
    // Disabled: nothing below could fail or change state without a probability or a
    // countdown, so skip the filters.
    if (disabled())
        return false;

    // mm/fail_page_alloc.c filters, in order. Order-0 requests are spared by default.
    if (order < min_order_.load(std::memory_order_relaxed))
        return false;
    // A caller that cannot handle failure is never failed.
    if (gfp & __GFP_NOFAIL)
        return false;
    if (ignore_gfp_highmem_.load(std::memory_order_relaxed) && (gfp & __GFP_HIGHMEM))
        return false;
    // Callers that may sleep are usually well tested; by default only atomic ones are hit.
    if (ignore_gfp_reclaim_.load(std::memory_order_relaxed) && (gfp & __GFP_DIRECT_RECLAIM))
        return false;
    // The "size" of a page allocation is its page count, not bytes.
    return should_fail_ex(1l << order, gfp & __GFP_NOWARN);
}

bool failslab::should_failslab(gfp_t gfp, bool cache_failslab, unsigned int object_size) noexcept {
    if (disabled())
        return false;
    // mm/failslab.c, in order.
    if (gfp & __GFP_NOFAIL)
        return false;
    if (ignore_gfp_reclaim_.load(std::memory_order_relaxed) && (gfp & __GFP_DIRECT_RECLAIM))
        return false;
    if (cache_filter_.load(std::memory_order_relaxed) && !cache_failslab)
        return false;
    return should_fail_ex(long(object_size), gfp & __GFP_NOWARN);
}

bool fault_attr::should_fail_ex(long size, bool nowarn) noexcept {
    bool fail = false;
    if (t_fail_nth) {
        // fail_nth overrides every other knob: count down, fail exactly at zero.
        fail = --t_fail_nth == 0;
        if (!fail)
            return false;
    } else {
        // Nothing else to check when the probability is 0.
        const unsigned long probability = probability_.load(std::memory_order_relaxed);
        if (probability == 0)
            return false;
        if (times_.load(std::memory_order_relaxed) == 0)
            return false;
        // space: let allocations through while the remaining space exceeds their size.
        int space = space_.load(std::memory_order_relaxed);
        while (space > size) {
            if (space_.compare_exchange_weak(space, static_cast<int>(space - size),
                                             std::memory_order_relaxed))
                return false;
        }
        // interval: only every interval-th call that got this far may fail.
        const unsigned long interval = interval_.load(std::memory_order_relaxed);
        if (interval > 1) {
            const unsigned long count = count_.fetch_add(1, std::memory_order_relaxed) + 1;
            if (count % interval)
                return false;
        }
        if (probability <= random_below_100())
            return false;
    }

    // The failure path, also taken by fail_nth: report, then consume one of `times` unless
    // it is unlimited (-1) or already 0 (atomic_dec_not_zero).
    injected_.fetch_add(1, std::memory_order_relaxed);
    const int verbose = verbose_.load(std::memory_order_relaxed);
    if (!nowarn && verbose > 0) {
        reported_.fetch_add(1, std::memory_order_relaxed);
        // fail_dump()'s report (the dentry name is the point's debugfs directory).
        fmt::print(stderr,
                   "FAULT_INJECTION: forcing a failure.\nname {}, interval {}, probability {}, "
                   "space {}, times {}\n",
                   name_, interval_.load(), probability_.load(), space_.load(), times_.load());
    }
    int times = times_.load(std::memory_order_relaxed);
    while (times != -1 && times != 0 &&
           !times_.compare_exchange_weak(times, times - 1, std::memory_order_relaxed)) {
    }
    return true;
}

bool fault_attr::setup(std::string_view str) noexcept {
    // setup_fault_attr(): "%lu,%lu,%lu,%d" = interval, probability, space, times.
    unsigned long interval = 0, probability = 0, space = 0;
    int times = 0;
    if (!parse_field(str, interval, false) || !parse_field(str, probability, false) ||
        !parse_field(str, space, false) || !parse_field(str, times, true))
        return false;
    probability_.store(probability);
    interval_.store(interval);
    times_.store(times);
    space_.store(static_cast<int>(space));
    return true;
}

} // namespace gfplab
