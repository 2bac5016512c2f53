// SPDX-License-Identifier: MIT
//
// gfplab/gfp.hpp - the GFP vocabulary of the model (Linux 6.12) for C++ callers.
//
// The flag values and the kernel's small helpers live in the C headers under linux/ (one
// definition serves C and C++; in C++ they are constexpr). This header adds what the kernel
// does not have: names for zones and migratetypes, a validator that explains what is wrong
// with a mask, and %pGg formatting and parsing for the model's own layout. Other kernels'
// layouts are in gfp_layout.hpp.
#pragma once

#include <gfplab/gfp_layout.hpp>
#include <gfplab/linux/gfp.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gfplab {

using ::gfp_compaction_allowed;
using ::gfp_has_io_fs;
using ::gfp_migratetype;
using ::gfp_nested_mask;
using ::gfp_t;
using ::gfp_zone;
using ::gfp_zone_bad;
using ::gfp_zonelist;
using ::gfpflags_allow_blocking;
using ::gfpflags_normal_context;
using ::migratetype;
using ::zone_type;

// The kernel's zone_names[] and migratetype_names[] spellings.
std::string_view zone_name(zone_type z) noexcept;
std::string_view migratetype_name(migratetype mt) noexcept;

// gfp_zone() that refuses the combinations the kernel treats as a bug (VM_BUG_ON) instead of
// handing out ZONE_DMA as a kernel without CONFIG_DEBUG_VM does.
constexpr std::optional<zone_type> gfp_zone_checked(gfp_t gfp) noexcept {
    if (gfp_zone_bad(gfp))
        return std::nullopt;
    return gfp_zone(gfp);
}

// --- validation ------------------------------------------------------------------------

enum class gfp_severity {
    error,   // the kernel would BUG/WARN and misbehave: gfplab refuses the request
    warning, // legal but contradictory or pointless: one flag silently wins
};

enum class gfp_problem_kind {
    bits_outside_layout,        // bits above __GFP_BITS_MASK
    unused_bit,                 // 0x200, free since __GFP_ATOMIC was removed in 6.3
    bad_zone_combination,       // GFP_ZONE_BAD
    both_mobility_hints,        // __GFP_RECLAIMABLE|__GFP_MOVABLE (VM_WARN_ON in gfp_migratetype)
    nofail_without_reclaim,     // __GFP_NOFAIL that cannot block cannot be honoured (6.12 WARN)
    order_too_large,            // order > MAX_PAGE_ORDER (WARN_ON_ONCE_GFP, NULL)
    nofail_large_order,         // __GFP_NOFAIL with order > 1 (6.12 WARN_ON_ONCE)
    nofail_with_noretry,        // NOFAIL wins over NORETRY
    nofail_with_retry_mayfail,  // NOFAIL wins over RETRY_MAYFAIL
    noretry_with_retry_mayfail, // NORETRY wins
    memalloc_with_nomemalloc,   // NOMEMALLOC wins
    zerotags_without_zero,      // __GFP_ZEROTAGS means nothing without __GFP_ZERO
};

struct gfp_problem {
    gfp_problem_kind kind;
    gfp_severity severity;
    std::string message; // names the offending flags the way %pGg prints them
};

// Every problem with a mask (and, when order >= 0, with that order). Empty means clean.
std::vector<gfp_problem> gfp_validate(gfp_t gfp, int order = -1);

// No problem of severity error: the allocator's cheap admission test (no strings, no
// allocation). tests/gfp_test.cpp checks that it agrees with gfp_validate().
constexpr bool gfp_valid(gfp_t gfp, int order = -1) noexcept {
    return !(gfp & ~__GFP_BITS_MASK) && !(gfp & GFPLAB_BIT(___GFP_UNUSED_BIT)) &&
           !gfp_zone_bad(gfp) && (gfp & GFP_MOVABLE_MASK) != GFP_MOVABLE_MASK &&
           order <= MAX_PAGE_ORDER;
}

// __GFP_NOFAIL from a caller that may not reclaim: 6.12 warns (WARN_ON_ONCE) and serves the
// request as if NOFAIL were not there, so it can fail. The allocator reports it every time.
constexpr bool gfp_nofail_cannot_reclaim(gfp_t gfp) noexcept {
    return (gfp & __GFP_NOFAIL) && !(gfp & __GFP_DIRECT_RECLAIM);
}

// --- printing and parsing (model layout: 6.12, SLAB_OBJ_EXT on) ---------------------------

// Exactly what %pGg prints: composites first in the kernel's table order, then single
// flags, then leftover bits as lowercase hex; 0 prints as an empty string.
std::string gfp_format(gfp_t gfp);

// The kernel's "%#x(%pGg)" form, e.g. "0xcc0(GFP_KERNEL)"; 0 prints "0x0()".
std::string gfp_describe(gfp_t gfp);

// Parses "GFP_NOFS|__GFP_ZERO", "0xc40", "c40", "0xcc0(GFP_KERNEL)" or "" (0).
gfp_parse_result gfp_parse(std::string_view text);

} // namespace gfplab
