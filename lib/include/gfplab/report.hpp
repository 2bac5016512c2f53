// SPDX-License-Identifier: MIT
//
// gfplab/report.hpp - violations of the oracle (DESIGN.md, I1-I16) and reports of bad input.
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

struct violation {
    int invariant = 0;       // the oracle's id: 1 for I1 ... 16 for I16
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
