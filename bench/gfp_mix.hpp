// SPDX-License-Identifier: MIT
//
// The mix of requests a busy kernel makes, for the GFP-mix suite: the same idea as the
// stress harness's mask mix (stress/masks.cpp), kept here in a few lines so that the
// benchmark does not move when the stress harness is retuned. No __GFP_NOFAIL: a benchmark
// must not wait for ever when the machine is full, and no planted bugs.
#pragma once

#include <gfplab/gfp.hpp>
#include <gfplab/linux/gfp_types.h>
#include <gfplab/scope.hpp>

#include <cstdint>
#include <random>

namespace bench {

enum class mix_scope { none, nofs, noio };

struct mix_draw {
    gfp_t gfp;
    unsigned order;
    mix_scope scope;
};

// Weights in parts per thousand, roughly: slab refills and page tables (GFP_KERNEL), user
// and page cache memory (HIGHUSER_MOVABLE), filesystems (NOFS), block I/O (NOIO), network
// receive (ATOMIC, NOWAIT), a few compound pages and transparent huge pages.
struct mix_entry {
    gfp_t gfp;
    unsigned weight;
    unsigned order;
};
inline constexpr mix_entry gfp_mix[] = {
    {GFP_KERNEL, 280, 0},
    {GFP_KERNEL_ACCOUNT, 60, 0},
    {GFP_KERNEL | __GFP_COMP, 30, 2},
    {GFP_NOFS, 100, 0},
    {GFP_NOIO, 30, 0},
    {GFP_ATOMIC, 70, 0},
    {GFP_NOWAIT | __GFP_NOWARN, 50, 0},
    {GFP_USER, 50, 0},
    {GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 100, 0},
    {GFP_HIGHUSER_MOVABLE, 200, 0},
    {GFP_TRANSHUGE_LIGHT, 5, 9},
    {GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 25, 1},
};

inline mix_draw draw_gfp_mix(std::minstd_rand &rng) {
    unsigned total = 0;
    for (const mix_entry &e : gfp_mix)
        total += e.weight;
    unsigned r = unsigned(rng() % total);
    const mix_entry *pick = &gfp_mix[0];
    for (const mix_entry &e : gfp_mix) {
        if (r < e.weight) {
            pick = &e;
            break;
        }
        r -= e.weight;
    }
    // Callers that cannot recurse into the filesystem or the block layer mark a whole
    // section (memalloc_nofs_save) rather than each mask: one request in eight runs so.
    const unsigned s = unsigned(rng() % 16);
    const mix_scope scope = s < 2 ? mix_scope::nofs : s < 3 ? mix_scope::noio : mix_scope::none;
    return {pick->gfp, pick->order, scope};
}

// Enters the draw's scope for the lifetime of the object, as a caller's section would.
class mix_scope_guard {
  public:
    explicit mix_scope_guard(mix_scope s) : scope_(s) {
        if (s == mix_scope::nofs)
            saved_ = gfplab::memalloc_nofs_save();
        else if (s == mix_scope::noio)
            saved_ = gfplab::memalloc_noio_save();
    }
    ~mix_scope_guard() {
        if (scope_ == mix_scope::nofs)
            gfplab::memalloc_nofs_restore(saved_);
        else if (scope_ == mix_scope::noio)
            gfplab::memalloc_noio_restore(saved_);
    }
    mix_scope_guard(const mix_scope_guard &) = delete;
    mix_scope_guard &operator=(const mix_scope_guard &) = delete;

  private:
    mix_scope scope_;
    unsigned saved_ = 0;
};

} // namespace bench
