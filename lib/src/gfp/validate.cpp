// SPDX-License-Identifier: MIT
//
// What is wrong with a mask. Errors are what the kernel treats as a bug (BUG/WARN and then
// undefined or surprising behaviour): gfplab refuses such a request. Warnings are legal
// masks where one flag silently overrides another; the message says which one wins and why.
#include <gfplab/gfp.hpp>

#include <fmt/format.h>

namespace gfplab {
namespace {

struct collector {
    gfp_t gfp;
    std::vector<gfp_problem> out;

    void add(gfp_problem_kind kind, gfp_severity sev, std::string msg) {
        out.push_back({kind, sev, std::move(msg)});
    }
    // "both __GFP_NOFAIL and __GFP_NORETRY" style test.
    bool has(gfp_t bits) const { return (gfp & bits) == bits; }
};

void check_bits(collector &c) {
    if (gfp_t stray = c.gfp & ~__GFP_BITS_MASK)
        c.add(gfp_problem_kind::bits_outside_layout, gfp_severity::error,
              fmt::format("bits {:#x} are above __GFP_BITS_MASK ({:#x}): no such flags in 6.12",
                          stray, __GFP_BITS_MASK));
    // 0x200 was __GFP_ATOMIC until 6.3; since then nothing reads it, so setting it is a stale
    // caller or a layout mix-up.
    if (c.gfp & GFPLAB_BIT(___GFP_UNUSED_BIT))
        c.add(gfp_problem_kind::unused_bit, gfp_severity::error,
              "bit 0x200 is unused since 6.3 (it was __GFP_ATOMIC): a mask from an older layout?");
}

void check_zone_and_mobility(collector &c) {
    if (gfp_zone_bad(c.gfp))
        c.add(gfp_problem_kind::bad_zone_combination, gfp_severity::error,
              fmt::format("zone modifiers {} form a combination the kernel treats as a bug "
                          "(GFP_ZONE_BAD): no zone satisfies them",
                          gfp_format(c.gfp & GFP_ZONEMASK)));
    if (c.has(__GFP_RECLAIMABLE | __GFP_MOVABLE))
        c.add(gfp_problem_kind::both_mobility_hints, gfp_severity::error,
              "__GFP_RECLAIMABLE and __GFP_MOVABLE together: gfp_migratetype() warns and the "
              "request would land on the MIGRATE_HIGHATOMIC lists");
}

void check_retry_modifiers(collector &c, int order) {
    if (gfp_nofail_cannot_reclaim(c.gfp))
        c.add(gfp_problem_kind::nofail_without_reclaim, gfp_severity::warning,
              "__GFP_NOFAIL without __GFP_DIRECT_RECLAIM cannot be honoured: the allocator may "
              "not sleep or reclaim, so the request can still fail (6.12 warns once and serves "
              "it as if NOFAIL were not set)");
    if (order > 1 && (c.gfp & __GFP_NOFAIL))
        c.add(gfp_problem_kind::nofail_large_order, gfp_severity::warning,
              fmt::format("__GFP_NOFAIL at order {} (> 1): 6.12 warns, large no-fail requests "
                          "can livelock the system",
                          order));
    if (c.has(__GFP_NOFAIL | __GFP_NORETRY))
        c.add(gfp_problem_kind::nofail_with_noretry, gfp_severity::warning,
              "__GFP_NOFAIL with __GFP_NORETRY: NOFAIL wins, the request retries forever");
    if (c.has(__GFP_NOFAIL | __GFP_RETRY_MAYFAIL))
        c.add(gfp_problem_kind::nofail_with_retry_mayfail, gfp_severity::warning,
              "__GFP_NOFAIL with __GFP_RETRY_MAYFAIL: NOFAIL wins, the request never fails");
    if (c.has(__GFP_NORETRY | __GFP_RETRY_MAYFAIL))
        c.add(gfp_problem_kind::noretry_with_retry_mayfail, gfp_severity::warning,
              "__GFP_NORETRY with __GFP_RETRY_MAYFAIL: the slow path checks NORETRY first and "
              "gives up after one reclaim pass");
}

void check_reserves_and_actions(collector &c) {
    if (c.has(__GFP_MEMALLOC | __GFP_NOMEMALLOC))
        c.add(gfp_problem_kind::memalloc_with_nomemalloc, gfp_severity::warning,
              "__GFP_MEMALLOC with __GFP_NOMEMALLOC: NOMEMALLOC wins, no reserve access");
    if ((c.gfp & __GFP_ZEROTAGS) && !(c.gfp & __GFP_ZERO))
        c.add(gfp_problem_kind::zerotags_without_zero, gfp_severity::warning,
              "__GFP_ZEROTAGS without __GFP_ZERO: memory tags are only zeroed along with the "
              "data, so the flag does nothing");
}

} // namespace

std::vector<gfp_problem> gfp_validate(gfp_t gfp, int order) {
    collector c{gfp, {}};
    check_bits(c);
    check_zone_and_mobility(c);
    if (order > MAX_PAGE_ORDER)
        c.add(gfp_problem_kind::order_too_large, gfp_severity::error,
              fmt::format("order {} is above MAX_PAGE_ORDER ({})", order, MAX_PAGE_ORDER));
    check_retry_modifiers(c, order);
    check_reserves_and_actions(c);
    return std::move(c.out);
}

} // namespace gfplab
