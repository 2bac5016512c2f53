// SPDX-License-Identifier: MIT
//
// How many declared locks the calling thread holds (lockdep's held-lock depth), as a word
// in static TLS: the allocation fast path tests it on every call (might_alloc() and the I9
// check run only when it is not zero). Private to the library.
#pragma once

namespace gfplab::detail {
extern __thread unsigned t_held_count;
} // namespace gfplab::detail
