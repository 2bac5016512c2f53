// SPDX-License-Identifier: MIT
//
// gfplab/sync/thread_safety.hpp - clang's thread-safety annotations under short names, so
// that lock contracts are written where the kernel writes lockdep_assert_held(): on the
// data a lock guards and on the functions that need it held. -Wthread-safety (clang builds)
// checks them at compile time; other compilers see nothing.
#pragma once

#if defined(__clang__)
#define GFPLAB_TSA(x) __attribute__((x))
#else
#define GFPLAB_TSA(x)
#endif

#define GFPLAB_CAPABILITY(name)          GFPLAB_TSA(capability(name))
#define GFPLAB_SCOPED_CAPABILITY         GFPLAB_TSA(scoped_lockable)
#define GFPLAB_GUARDED_BY(l)             GFPLAB_TSA(guarded_by(l))
#define GFPLAB_REQUIRES(...)             GFPLAB_TSA(requires_capability(__VA_ARGS__))
#define GFPLAB_ACQUIRE(...)              GFPLAB_TSA(acquire_capability(__VA_ARGS__))
#define GFPLAB_TRY_ACQUIRE(...)          GFPLAB_TSA(try_acquire_capability(__VA_ARGS__))
#define GFPLAB_RELEASE(...)              GFPLAB_TSA(release_capability(__VA_ARGS__))
#define GFPLAB_EXCLUDES(...)             GFPLAB_TSA(locks_excluded(__VA_ARGS__))
// For the few reads the kernel also makes without the lock (a racy peek at a free list's
// count by the watermark check): the function says why in a comment.
#define GFPLAB_NO_THREAD_SAFETY_ANALYSIS GFPLAB_TSA(no_thread_safety_analysis)
