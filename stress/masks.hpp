// SPDX-License-Identifier: MIT
//
// stress/masks.hpp - the masks a campaign allocates with: the kernel's composite masks
// weighted roughly as a running kernel uses them, with the usual modifiers; uniformly random
// valid masks; and a share of invalid requests planted on purpose (each must be refused
// with an I16 report).
#pragma once

#include "scenario.hpp"

#include <gfplab/gfp.hpp>

#include <cstdint>
#include <random>

namespace gfplab::stress {

// splitmix64: a small, fast generator; each operation draws its own stream from the
// worker's, so that what one operation does never changes which operations come next.
struct splitmix64 {
    using result_type = std::uint64_t;
    std::uint64_t state;
    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return ~result_type(0); }
    result_type operator()() noexcept {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
};

using rng_type = splitmix64;

struct mask_draw {
    gfp_t gfp = 0;
    unsigned order = 0;
    bool planted_invalid = false; // the request is a bug on purpose: NULL and I16 expected
    bool random = false;          // from the uniform valid masks
    bool atomic = false;          // from the scenario's atomic share (GFP_ATOMIC/GFP_NOWAIT)
    bool nolock = false;          // alloc_pages_nolock(gfp, order): gfp is 0 or __GFP_ACCOUNT
};

class mask_mix {
  public:
    explicit mask_mix(const scenario &s) : sc_(s) {}
    mask_draw draw(rng_type &rng) const;

  private:
    mask_draw composite(rng_type &rng) const;
    mask_draw uniform_valid(rng_type &rng) const;
    mask_draw invalid(rng_type &rng) const;
    mask_draw atomic(rng_type &rng) const;
    mask_draw nolock(rng_type &rng) const;
    unsigned order(rng_type &rng) const;
    const scenario &sc_;
};

// A mask may not keep __GFP_NOFAIL where it would loop for good in this harness (orders
// above 1 are a 6.12 warning; under PF_MEMALLOC reclaim cannot help it).
gfp_t tame_nofail(gfp_t gfp, unsigned order, unsigned task_flags) noexcept;

} // namespace gfplab::stress
