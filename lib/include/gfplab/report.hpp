// SPDX-License-Identifier: MIT
//
// gfplab/report.hpp - violations of the oracle (docs/oracle.md, I1-I21) and reports of bad
// input.
#pragma once

#include <gfplab/linux/gfp_types.h>

#include <cstdint>
#include <string>

namespace gfplab {

// What a System does when it reports something (per System: fuzzers abort, stress counts).
enum class report_action {
    count, // record it, return an error to the caller, carry on
    abort, // print it and abort the process
};

// The oracle's invariants; the value is the id reports print ("I9"). docs/oracle.md is the
// registry: a new invariant takes the next free id there.
enum class invariant : std::uint8_t {
    none = 0,
    single_owner = 1,       // I1: a page has at most one holder
    counters = 2,           // I2: free + cached + allocated = managed, counters = recount
    drift = 3,              // I3: counters within the per-CPU drift bound
    watermark_floor = 4,    // I4: no zone below its allocation class's floor
    placement = 5,          // I5: zone and node allowed by mask and task
    migratetype = 6,        // I6: requested migratetype or a counted fallback
    nonblocking = 7,        // I7: no sleep, reclaim or shrinker without DIRECT_RECLAIM
    scope_mask = 8,         // I8: NOFS/NOIO scopes seen by shrinkers; exact restore
    reclaim_recursion = 9,  // I9: no shrinker under a lock it takes
    reserves = 10,          // I10: no reclaim inside reclaim; reserves only where allowed
    retry_rules = 11,       // I11: NOFAIL, NORETRY, costly orders and OOM rules
    page_contents = 12,     // I12: __GFP_ZERO and poison
    compound = 13,          // I13: compound metadata and free order
    kswapd = 14,            // I14: kswapd wakes, balances and gives up by the rules
    shrinker_contract = 15, // I15: shrinkers called by the contract
    bad_input = 16,         // I16: bad input refused, allocator intact
    slab_object = 17,       // I17: a slab object has one holder, is freed once, whole, to its cache
    slab_page = 18,         // I18: slab pages come from the zone and mobility the cache asks
    mempool = 19,           // I19: a memory pool never fails a request that may sleep
    rcu_free = 20,          // I20: kvfree_rcu() frees after a grace period, and never loses
    sleep_in_atomic = 21,   // I21: nothing that may sleep runs in atomic context
};

// The number after the "I".
constexpr int id(invariant i) noexcept {
    return int(i);
}
// The invariant with that id, or invariant::none.
constexpr invariant invariant_from_id(int n) noexcept {
    return n >= 1 && n <= int(invariant::sleep_in_atomic) ? invariant(n) : invariant::none;
}

struct violation {
    invariant inv = invariant::none;
    std::string what;        // short kind: "double free", "invalid mask", ...
    std::string message;     // one line: decoded mask, pfn, order, what was expected
    gfp_t gfp = 0;           // the mask involved, if any
    int order = -1;          // the order involved, if any
    long long pfn = -1;      // the page involved, if any
    std::string scope_stack; // the reporting thread's scope stack
};

// "I16 invalid mask: ..." as printed by the default sink.
std::string format_violation(const violation &v);

} // namespace gfplab
