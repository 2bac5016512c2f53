// SPDX-License-Identifier: MIT
//
// executor.hpp - runs one operation stream (op_stream.hpp) against a fresh small System and
// checks it after every op against a reference model of who holds which pages.
//
// One executor serves every consumer of the format: the fuzz_ops target (aborts on a
// failure, so libFuzzer saves the input), gfplab-replay (prints each op and its outcome) and
// gfplab-stress --replay. A crash file from any of them therefore means the same thing in
// all of them.
//
// Properties checked:
//  - a mask gfp_valid() rejects returns NULL with exactly one report (I16);
//  - a successful allocation is aligned, inside the map, overlaps no held allocation (I1),
//    comes from a zone gfp_zone() allows for the effective mask (I5) and, with
//    __GFP_THISNODE, from the preferred node; __GFP_ZERO pages read zero (I12);
//  - a slot's pattern survives until its owner frees it (I1 again, seen from the data);
//  - a kmalloc'd object lies in the System, ksize() covers the request, a power-of-two size
//    is aligned, __GFP_ZERO objects read zero, no held object shares a byte with it, its
//    pattern survives until kfree() (I17, I12); a slab bug mask is reported once and served;
//  - planted misuse (wrong-order free, double free, double kfree) is reported once and
//    refused, and verify() stays clean after it (I13, I1, I16, I17);
//  - verify() is clean after drain, kswapd, shrink and reclaim (I2 with allocations held);
//  - a shrinker never sees a mask the thread's scopes forbid (I8), nor runs while its
//    declared lock is held (I9);
//  - nothing else is ever reported;
//  - at the end, with everything freed and drained, verify() is clean and every zone's
//    free + per-CPU pages equal its managed pages (I2).
#pragma once

#include "op_stream.hpp"

#include <gfplab/report.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gfplab::fuzz {

// What one op did, as an observer sees it.
struct op_result {
    std::size_t index;              // the record's number in the input
    op o;                           // the decoded op
    std::string outcome;            // "pfn 0x1200", "NULL", "empty slot", ...
    std::vector<violation> reports; // what the System reported during the op (planted ones)
};

// Why a stream failed: the first property that did not hold.
struct failure {
    bool at_end = false;            // while cleaning up after the last op
    std::size_t index = 0;          // the record's number (unless at_end)
    std::string op;                 // describe() of the op (unless at_end)
    std::string what;               // one line: what was expected and what happened
    int invariant = 0;              // the oracle's id (docs/oracle.md): 1 for I1, 17 for I17
    std::vector<violation> reports; // everything the System reported in this run
};

// One line: "op 12 (alloc slot 3 ...): I1: ..." or "end of input: I2: ...".
std::string format_failure(const failure &f);

using op_observer = std::function<void(const op_result &)>;

// Runs the stream on a fresh System on the calling thread and leaves the thread as it found
// it (no scope, no fail_nth, vCPU 0, no held lock). Returns the first failure, if any.
std::optional<failure> execute_ops(const std::uint8_t *data, std::size_t size,
                                   const op_observer &observe = {});

} // namespace gfplab::fuzz
