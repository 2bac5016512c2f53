// SPDX-License-Identifier: MIT
#include "masks.hpp"

#include <gfplab/linux/sched.h>

#include <iterator>

namespace gfplab::stress {
namespace {

struct weighted_mask {
    gfp_t gfp;
    unsigned weight;
    int order; // -1: from the scenario's order distribution
};

// Roughly how often a busy kernel asks for each (slab refills and page tables as
// GFP_KERNEL, page cache and anonymous memory as GFP_HIGHUSER_MOVABLE, filesystems NOFS,
// network receive ATOMIC/NOWAIT, THP at order 9).
constexpr weighted_mask composites[] = {
    {GFP_KERNEL, 300, -1},
    {GFP_KERNEL_ACCOUNT, 60, -1},
    {GFP_NOFS, 100, -1},
    {GFP_NOIO, 30, -1},
    {GFP_ATOMIC, 70, -1},
    {GFP_NOWAIT, 50, -1},
    {GFP_USER, 50, -1},
    {GFP_HIGHUSER_MOVABLE, 250, 0},
    {GFP_TRANSHUGE, 10, 9},
    {GFP_TRANSHUGE_LIGHT, 20, 9},
    {GFP_KERNEL | GFP_DMA32, 15, -1},
};

struct modifier {
    gfp_t flag;
    unsigned per_mille;
};

constexpr modifier modifiers[] = {
    {__GFP_ZERO, 150},         {__GFP_COMP, 100},   {__GFP_NOWARN, 300},    {__GFP_NORETRY, 60},
    {__GFP_RETRY_MAYFAIL, 40}, {__GFP_NOFAIL, 10},  {__GFP_ACCOUNT, 50},    {__GFP_THISNODE, 30},
    {__GFP_HIGH, 30},          {__GFP_MEMALLOC, 5}, {__GFP_NOMEMALLOC, 20},
};

unsigned pick(rng_type &rng, unsigned total) {
    return unsigned(rng() % total);
}

} // namespace

gfp_t tame_nofail(gfp_t gfp, unsigned order, unsigned task_flags) noexcept {
    // NOFAIL waits for memory for ever. Where the OOM killer may not help (lowmem-only,
    // __GFP_THISNODE or __GFP_RETRY_MAYFAIL requests: the kernel's rules) it waits until
    // someone frees by hand; when the workers themselves hold it all, the campaign deadlocks
    // exactly as a kernel would. Keep NOFAIL only where an OOM kill can serve it.
    const bool oom_cannot_help = gfp_zone_bad(gfp) || gfp_zone(gfp) < ZONE_NORMAL ||
                                 (gfp & (__GFP_THISNODE | __GFP_RETRY_MAYFAIL));
    if ((gfp & __GFP_NOFAIL) && (order > 1 || (task_flags & PF_MEMALLOC) || oom_cannot_help))
        gfp &= ~__GFP_NOFAIL;
    return gfp;
}

unsigned mask_mix::order(rng_type &rng) const {
    unsigned total = 0;
    for (unsigned w : sc_.orders)
        total += w;
    unsigned r = pick(rng, total);
    for (unsigned o = 0; o < sc_.orders.size(); o++) {
        if (r < sc_.orders[o])
            return o;
        r -= sc_.orders[o];
    }
    return 0;
}

mask_draw mask_mix::composite(rng_type &rng) const {
    unsigned total = 0;
    for (const auto &c : composites)
        total += c.weight;
    unsigned r = pick(rng, total);
    const weighted_mask *chosen = &composites[0];
    for (const auto &c : composites) {
        if (r < c.weight) {
            chosen = &c;
            break;
        }
        r -= c.weight;
    }
    mask_draw d;
    d.gfp = chosen->gfp;
    d.order = chosen->order >= 0 ? unsigned(chosen->order) : order(rng);
    for (const auto &m : modifiers)
        if (pick(rng, 1000) < m.per_mille)
            d.gfp |= m.flag;
    // A caller that cannot sleep cannot ask for NOFAIL: that would be a planted bug, and
    // planted bugs come from invalid() where they are counted.
    if (!(d.gfp & __GFP_DIRECT_RECLAIM))
        d.gfp &= ~__GFP_NOFAIL;
    // Reserves are for small requests made to free memory (swap over NFS and the like).
    if (d.gfp & __GFP_MEMALLOC)
        d.order = d.order > 1 ? 1 : d.order;
    return d;
}

mask_draw mask_mix::uniform_valid(rng_type &rng) const {
    mask_draw d;
    d.random = true;
    d.order = unsigned(rng() % (MAX_PAGE_ORDER + 1));
    do
        d.gfp = gfp_t(rng()) & __GFP_BITS_MASK;
    while (!gfp_valid(d.gfp, int(d.order)) || gfp_nofail_cannot_reclaim(d.gfp));
    if (d.gfp & __GFP_MEMALLOC)
        d.order = d.order > 1 ? 1 : d.order;
    return d;
}

mask_draw mask_mix::invalid(rng_type &rng) const {
    // One of each kind of error gfp_validate() knows, as real callers get them wrong.
    static constexpr gfp_t bad[] = {
        GFP_KERNEL | __GFP_DMA | __GFP_DMA32,           // two zone modifiers
        GFP_KERNEL | __GFP_RECLAIMABLE | __GFP_MOVABLE, // two mobility hints
        GFP_ATOMIC | __GFP_NOFAIL,                      // NOFAIL that cannot block (served)
        GFP_KERNEL | GFPLAB_BIT(___GFP_UNUSED_BIT),     // the bit __GFP_ATOMIC left
        GFP_KERNEL | gfp_t(1u << __GFP_BITS_SHIFT),     // beyond the layout
    };
    mask_draw d;
    d.planted_invalid = true;
    unsigned k = unsigned(rng() % (std::size(bad) + 1));
    if (k == std::size(bad)) {
        d.gfp = GFP_KERNEL; // a valid mask with an order past MAX_PAGE_ORDER
        d.order = MAX_PAGE_ORDER + 1 + unsigned(rng() % 3);
    } else {
        d.gfp = bad[k];
        d.order = unsigned(rng() % 4);
    }
    return d;
}

mask_draw mask_mix::atomic(rng_type &rng) const {
    // Interrupt and softirq context: network receive buffers (often __GFP_NOWARN, they have
    // a fallback), timers and drivers' refills. GFP_ATOMIC may take from the reserves,
    // GFP_NOWAIT may not; neither may reclaim.
    mask_draw d;
    d.atomic = true;
    d.gfp = rng() % 3 ? GFP_ATOMIC : GFP_NOWAIT;
    d.order = order(rng);
    if (pick(rng, 1000) < 500)
        d.gfp |= __GFP_NOWARN;
    if (pick(rng, 1000) < 100)
        d.gfp |= __GFP_ZERO;
    if (d.order > 0 && pick(rng, 1000) < 300)
        d.gfp |= __GFP_COMP;
    return d;
}

mask_draw mask_mix::nolock(rng_type &rng) const {
    // BPF's allocations: a page for a map or an arena, sometimes charged to a group; only
    // the per-CPU lists' orders are possible.
    mask_draw d;
    d.nolock = true;
    d.gfp = pick(rng, 1000) < 200 ? __GFP_ACCOUNT : 0;
    d.order = order(rng) % (PAGE_ALLOC_COSTLY_ORDER + 1);
    return d;
}

mask_draw mask_mix::draw(rng_type &rng) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    if (u < sc_.invalid_masks)
        return invalid(rng);
    if (u < sc_.invalid_masks + sc_.random_masks)
        return uniform_valid(rng);
    if (u < sc_.invalid_masks + sc_.random_masks + sc_.atomic_share)
        return atomic(rng);
    if (u < sc_.invalid_masks + sc_.random_masks + sc_.atomic_share + sc_.nolock_share)
        return nolock(rng);
    return composite(rng);
}

} // namespace gfplab::stress
