// SPDX-License-Identifier: MIT
//
// The kernel code's call site of the allocation or free in progress on this thread, set by
// the kernel include root's macros around each call (linux/alloc_site.h) and cleared when
// it returns: reports made meanwhile name the caller's line rather than the library's.
// Static TLS, as the task flags. Private to the library.
#pragma once

#include <gfplab/scope.hpp>

namespace gfplab::detail {
extern __thread const char *t_site_file;
extern __thread unsigned t_site_line;
} // namespace gfplab::detail

namespace gfplab {
// The caller's site while a kernel-code call is in progress, else `at`.
inline srcloc caller_or(srcloc at) noexcept {
    return detail::t_site_file ? srcloc{detail::t_site_file, detail::t_site_line} : at;
}
} // namespace gfplab
