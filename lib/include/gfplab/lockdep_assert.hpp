// SPDX-License-Identifier: MIT
//
// gfplab/lockdep_assert.hpp - the run-time half of a lock contract (the compile-time half
// is sync/thread_safety.hpp): who is the calling thread, and what happens when it does not
// hold a lock it must hold.
#pragma once

namespace gfplab {

// A tag unique to the calling thread while it lives (the address of a thread-local).
inline const void *lockdep_thread_tag() noexcept {
    static constinit thread_local char tag = 0;
    return &tag;
}

// Prints "lockdep_assert_held(LOCK) failed at FILE:LINE" and aborts.
[[noreturn, gnu::cold]] void lockdep_assert_held_failed(const char *lock, const char *file,
                                                        int line) noexcept;

} // namespace gfplab
