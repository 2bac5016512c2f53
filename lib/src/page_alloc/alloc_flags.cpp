// SPDX-License-Identifier: MIT
//
// ALLOC_* derivation (Linux 6.12 mm/page_alloc.c). Each rule names the kernel function whose
// behaviour it reproduces.
#include <gfplab/alloc_flags.hpp>
#include <gfplab/linux/sched.h>

#include <fmt/format.h>

#include <array>

namespace gfplab {

unsigned int gfp_to_alloc_flags(gfp_t gfp, unsigned int order, bool rt_task) noexcept {
    // Every slow-path attempt starts at the min watermark and inside the cpuset.
    unsigned int flags = ALLOC_WMARK_MIN | ALLOC_CPUSET;

    // __GFP_HIGH -> ALLOC_MIN_RESERVE and __GFP_KSWAPD_RECLAIM -> ALLOC_KSWAPD are plain bit
    // copies (the static_asserts in the header hold the values together).
    flags |= gfp & (__GFP_HIGH | __GFP_KSWAPD_RECLAIM);

    if (!(gfp & __GFP_DIRECT_RECLAIM)) {
        // A caller that cannot reclaim gets the non-blocking treatment unless it explicitly
        // refused reserves; high-order atomic requests may also use highatomic pageblocks.
        if (!(gfp & __GFP_NOMEMALLOC)) {
            flags |= ALLOC_NON_BLOCK;
            if (order > 0)
                flags |= ALLOC_HIGHATOMIC;
        }
        // GFP_ATOMIC-like requests (non-blocking and __GFP_HIGH) ignore the cpuset: failing
        // them is worse than breaking memory placement.
        if (flags & ALLOC_MIN_RESERVE)
            flags &= ~ALLOC_CPUSET;
    } else if (rt_task) {
        // Blocking realtime/deadline tasks in task context get __GFP_HIGH's reserve share.
        flags |= ALLOC_MIN_RESERVE;
    }

    // gfp_to_alloc_flags_cma(): without CONFIG_CMA nothing is added.
    return flags;
}

unsigned int gfp_pfmemalloc_flags(gfp_t gfp, unsigned int task_flags, bool oom_victim,
                                  bool in_interrupt, bool in_serving_softirq) noexcept {
    // The order of these tests is the kernel's: NOMEMALLOC vetoes everything, MEMALLOC grants
    // everything, then the task's own state is consulted only where `current` means something.
    if (gfp & __GFP_NOMEMALLOC)
        return 0;
    if (gfp & __GFP_MEMALLOC)
        return ALLOC_NO_WATERMARKS;
    // A softirq running on behalf of a PF_MEMALLOC task (e.g. swap over network) may use the
    // reserves even though it is interrupt context.
    if (in_serving_softirq && (task_flags & PF_MEMALLOC))
        return ALLOC_NO_WATERMARKS;
    if (!in_interrupt) {
        if (task_flags & PF_MEMALLOC)
            return ALLOC_NO_WATERMARKS;
        // oom_reserves_allowed(): with an MMU every thread of an OOM victim qualifies.
        if (oom_victim)
            return ALLOC_OOM;
    }
    return 0;
}

unsigned int alloc_flags_nofragment(gfp_t gfp, bool preferred_zone_is_normal,
                                    bool has_dma32_zone) noexcept {
    // Waking kswapd is allowed exactly when the mask says so, on the fast path too.
    unsigned int flags = gfp & __GFP_KSWAPD_RECLAIM;
    // With a DMA32 zone under NORMAL, avoid fragmenting NORMAL by stealing pageblocks of other
    // migratetypes; the fragmentation would be cheaper to take in DMA32 than in NORMAL.
    if (preferred_zone_is_normal && has_dma32_zone)
        flags |= ALLOC_NOFRAGMENT;
    return flags;
}

unsigned int fastpath_alloc_flags(gfp_t gfp, bool preferred_zone_is_normal,
                                  bool has_dma32_zone) noexcept {
    // __alloc_pages_noprof() starts at the low watermark so that kswapd is woken before the
    // slow path's min watermark is reached. prepare_alloc_pages() would add ALLOC_CPUSET only
    // with cpusets enabled and ALLOC_CMA only with CMA: neither exists in the model.
    return ALLOC_WMARK_LOW | alloc_flags_nofragment(gfp, preferred_zone_is_normal, has_dma32_zone);
}

std::string alloc_flags_name(unsigned int alloc_flags) {
    static constexpr std::array<const char *, 3> wmark_names = {
        "ALLOC_WMARK_MIN", "ALLOC_WMARK_LOW", "ALLOC_WMARK_HIGH"};
    struct bit_name {
        unsigned int bit;
        const char *name;
    };
    static constexpr std::array<bit_name, 10> bits = {{
        {ALLOC_NO_WATERMARKS, "ALLOC_NO_WATERMARKS"},
        {ALLOC_OOM, "ALLOC_OOM"},
        {ALLOC_NON_BLOCK, "ALLOC_NON_BLOCK"},
        {ALLOC_MIN_RESERVE, "ALLOC_MIN_RESERVE"},
        {ALLOC_CPUSET, "ALLOC_CPUSET"},
        {ALLOC_CMA, "ALLOC_CMA"},
        {ALLOC_NOFRAGMENT, "ALLOC_NOFRAGMENT"},
        {ALLOC_HIGHATOMIC, "ALLOC_HIGHATOMIC"},
        {ALLOC_TRYLOCK, "ALLOC_TRYLOCK"},
        {ALLOC_KSWAPD, "ALLOC_KSWAPD"},
    }};

    std::string out;
    unsigned int idx = alloc_flags & ALLOC_WMARK_MASK;
    // Index 3 is not a watermark (NR_WMARK counts WMARK_PROMO, which has no ALLOC_ value).
    out = idx < wmark_names.size() ? wmark_names[idx] : fmt::format("ALLOC_WMARK_{:#x}", idx);

    unsigned int rest = alloc_flags & ~ALLOC_WMARK_MASK;
    for (const auto &b : bits) {
        if (rest & b.bit) {
            out += '|';
            out += b.name;
            rest &= ~b.bit;
        }
    }
    if (rest)
        out += fmt::format("|{:#x}", rest);
    return out;
}

} // namespace gfplab
