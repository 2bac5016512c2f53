// SPDX-License-Identifier: MIT
//
// The one way a report is built: (invariant, what, mask, order, page, message). Everything
// here is cold and out of line, so that a fast path that may report pays a test and a call,
// never the formatting. Private to the library.
#pragma once

#include <gfplab/report.hpp>
#include <gfplab/system.hpp>

#include <fmt/format.h>

#include <string>
#include <utility>

namespace gfplab {

// A violation with the calling thread's scope stack.
[[gnu::cold]] violation make_violation(invariant inv, const char *what, std::string message,
                                       gfp_t gfp = 0, int order = -1, long long pfn = -1);

// Reports to s (per its report_action); p may be null. The message is formatted here, in
// the cold instance of this template, not at the call site.
template <class... Args>
[[gnu::cold, gnu::noinline]] void report(System &s, invariant inv, const char *what, gfp_t gfp,
                                         int order, const page *p, fmt::format_string<Args...> f,
                                         Args &&...args) {
    s.report(make_violation(inv, what, fmt::format(f, std::forward<Args>(args)...), gfp, order,
                            p && s.owns(p) ? (long long)s.page_to_pfn(p) : -1));
}

// The same, counted as refused bad input (I16 and the misuse kinds of I1/I13).
template <class... Args>
[[gnu::cold, gnu::noinline]] void refuse(System &s, invariant inv, const char *what, gfp_t gfp,
                                         int order, const page *p, fmt::format_string<Args...> f,
                                         Args &&...args) {
    s.stats().refused.fetch_add(1, std::memory_order_relaxed);
    report(s, inv, what, gfp, order, p, f, std::forward<Args>(args)...);
}

} // namespace gfplab
