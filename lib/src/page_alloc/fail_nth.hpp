// SPDX-License-Identifier: MIT
//
// current->fail_nth of the calling thread (fault_inject.hpp), in static TLS: the allocation
// fast path tests it on every call. Private to the library.
#pragma once

namespace gfplab::detail {
extern __thread unsigned int t_fail_nth;
} // namespace gfplab::detail
