// SPDX-License-Identifier: MIT
//
// gfplab/alloc_flags.hpp - the page allocator's internal ALLOC_* flags (Linux 6.12,
// mm/internal.h) and the rules that derive them from a gfp mask and the calling task.
//
// The functions are pure: the caller passes in what the kernel would read from `current`
// (task flags, RT policy, OOM-victim state, interrupt context). The model has no interrupts,
// so the engine passes false for in_interrupt/in_serving_softirq; tests exercise both.
//
// Model differences, written down where they matter:
//  - No CMA: ALLOC_CMA is defined for completeness but never set by these functions
//    (gfp_to_alloc_flags_cma() is a no-op without CONFIG_CMA).
//  - No cpusets: cpusets_enabled() is false, so the fast path never adds ALLOC_CPUSET or
//    __GFP_HARDWALL; the slow path still sets and clears ALLOC_CPUSET as bookkeeping.
#pragma once

#include <gfplab/linux/gfp.h>
#include <gfplab/linux/mmzone.h>

#include <string>

namespace gfplab {

// The low two bits index zone->_watermark[] (enum zone_watermarks); they are a value, not bits.
inline constexpr unsigned int ALLOC_WMARK_MIN = WMARK_MIN;
inline constexpr unsigned int ALLOC_WMARK_LOW = WMARK_LOW;
inline constexpr unsigned int ALLOC_WMARK_HIGH = WMARK_HIGH;
inline constexpr unsigned int ALLOC_NO_WATERMARKS = 0x04; // skip the watermark check entirely
inline constexpr unsigned int ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1;

inline constexpr unsigned int ALLOC_OOM = 0x08;         // OOM victim: min halved again
inline constexpr unsigned int ALLOC_NON_BLOCK = 0x10;   // caller cannot reclaim
inline constexpr unsigned int ALLOC_MIN_RESERVE = 0x20; // __GFP_HIGH: min halved
inline constexpr unsigned int ALLOC_CPUSET = 0x40;      // honour the cpuset's mems_allowed
inline constexpr unsigned int ALLOC_CMA = 0x80;         // may use CMA areas (never set here)
// 6.12 defines ALLOC_NOFRAGMENT as 0 without CONFIG_ZONE_DMA32; the model always has DMA32.
inline constexpr unsigned int ALLOC_NOFRAGMENT = 0x100;
inline constexpr unsigned int ALLOC_HIGHATOMIC = 0x200; // may reserve/use highatomic blocks
// A step past 6.12 (6.15's try_alloc_pages(), alloc_pages_nolock() since 6.16, where it was
// renamed ALLOC_NOLOCK later): only trylock zone->lock, and fail when it is busy.
inline constexpr unsigned int ALLOC_TRYLOCK = 0x400;
inline constexpr unsigned int ALLOC_KSWAPD = 0x800; // may wake kswapd (from the gfp bit)

// Any of these lets a request dip below the plain watermark or into highatomic reserves.
inline constexpr unsigned int ALLOC_RESERVES =
    ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM;

// The identities the kernel asserts with BUILD_BUG_ON in gfp_to_alloc_flags(): both flags are
// copied straight from the gfp mask without a branch.
static_assert(ALLOC_MIN_RESERVE == __GFP_HIGH, "ALLOC_MIN_RESERVE must equal __GFP_HIGH");
static_assert(ALLOC_KSWAPD == __GFP_KSWAPD_RECLAIM, "ALLOC_KSWAPD must equal __GFP_KSWAPD_RECLAIM");
// The watermark index must fit under ALLOC_NO_WATERMARKS (mm/internal.h relies on it).
static_assert(ALLOC_WMARK_HIGH < ALLOC_NO_WATERMARKS && ALLOC_WMARK_MASK == 0x3);

// The slow path's flags (6.12 gfp_to_alloc_flags). rt_task is rt_or_dl_task(current) &&
// in_task(): a realtime or deadline task allocating from task context.
unsigned int gfp_to_alloc_flags(gfp_t gfp, unsigned int order, bool rt_task = false) noexcept;

// Reserve access (6.12 __gfp_pfmemalloc_flags): ALLOC_NO_WATERMARKS, ALLOC_OOM or 0.
// task_flags are current->flags (PF_*); oom_victim is tsk_is_oom_victim(current).
unsigned int gfp_pfmemalloc_flags(gfp_t gfp, unsigned int task_flags, bool oom_victim,
                                  bool in_interrupt = false,
                                  bool in_serving_softirq = false) noexcept;

// 6.12 gfp_pfmemalloc_allowed(): may this request use reserves below the min watermark
// (all of them, or an OOM victim's share)?
inline bool gfp_pfmemalloc_allowed(gfp_t gfp, unsigned int task_flags, bool oom_victim = false,
                                   bool in_interrupt = false,
                                   bool in_serving_softirq = false) noexcept {
    return gfp_pfmemalloc_flags(gfp, task_flags, oom_victim, in_interrupt, in_serving_softirq) != 0;
}

// What the slow path does with non-zero reserve flags: they replace alloc_flags, keeping only
// ALLOC_KSWAPD (so ALLOC_CPUSET is dropped and the zonelist is rescanned unrestricted).
inline constexpr unsigned int alloc_flags_with_reserves(unsigned int alloc_flags,
                                                        unsigned int reserve_flags) noexcept {
    return reserve_flags ? reserve_flags | (alloc_flags & ALLOC_KSWAPD) : alloc_flags;
}

// 6.12 alloc_flags_nofragment(): ALLOC_KSWAPD copied from the mask, plus ALLOC_NOFRAGMENT when
// the preferred zone is ZONE_NORMAL and a ZONE_DMA32 exists below it (on multi-node machines
// the kernel also requires that local DMA32 to be populated: pass that as has_dma32_zone).
unsigned int alloc_flags_nofragment(gfp_t gfp, bool preferred_zone_is_normal,
                                    bool has_dma32_zone) noexcept;

// The flags of the first, fast-path attempt (6.12 __alloc_pages_noprof: ALLOC_WMARK_LOW,
// prepare_alloc_pages() and alloc_flags_nofragment()). No reserve access here.
unsigned int fastpath_alloc_flags(gfp_t gfp, bool preferred_zone_is_normal,
                                  bool has_dma32_zone) noexcept;

// "ALLOC_WMARK_MIN|ALLOC_NON_BLOCK|ALLOC_MIN_RESERVE|...": the watermark index first (always
// named, as it is a value), then each set bit in ascending order; unknown bits as one hex
// number at the end.
std::string alloc_flags_name(unsigned int alloc_flags);

} // namespace gfplab
