// SPDX-License-Identifier: MIT
//
// gfplab/sync/atom.hpp - the atomic and lock types of the lock-free cores (per-CPU list
// words and trylocks, vmstat deltas and zone counters, the buddy's free counters and zone
// lock), swappable at build time.
//
// Why an alias chosen by a macro rather than templates over `template <class> class Atom`
// everywhere (folly's idiom): struct zone is public and shared by every part of the
// library, and templating it would turn most of the library into headers. So the library
// is compiled once per atomic flavour instead:
//  - default: std::atomic and std::mutex, so the production build is the code it always
//    was (same types, same instructions; see the bench numbers in the commit log);
//  - GFPLAB_SYNC_DETERMINISTIC=1 (only the fuzz/ library copy defines it): every operation
//    is a scheduling point of the deterministic scheduler (sync/det.hpp, fuzz/sched/).
// The small algorithms that carry the memory-order reasoning (pcp/list_ops.hpp,
// gfplab/vmstat_delta.hpp) are additionally templates over the atomic object's type, so the
// Relacy model checks in tests/relacy/ run the very same code on Relacy's atomics.
//
// What cannot be swapped: the rseq sequences (pcp/rseq_list.hpp) are x86-64 asm that the
// kernel restarts; no scheduler or model checker can interpose on their loads and stores,
// so the deterministic build leaves rseq out (GFPLAB_HAVE_RSEQ is 0 there).
#pragma once

#include <gfplab/sync/thread_safety.hpp>

#if GFPLAB_SYNC_DETERMINISTIC
#include <gfplab/sync/det.hpp>
#else
#include <atomic>
#include <mutex>
#endif

namespace gfplab::sync {

#if GFPLAB_SYNC_DETERMINISTIC
template <class T>
using atom = det::atomic<T>;
using raw_mutex = det::mutex;
#else
template <class T>
using atom = std::atomic<T>;
using raw_mutex = std::mutex;
#endif

// The chosen mutex, declared a capability so that clang's -Wthread-safety can check what
// it guards (neither std::mutex in libstdc++ nor det::mutex carries the attribute).
class GFPLAB_CAPABILITY("mutex") mutex {
  public:
    void lock() GFPLAB_ACQUIRE() { m_.lock(); }
    bool try_lock() GFPLAB_TRY_ACQUIRE(true) { return m_.try_lock(); }
    void unlock() GFPLAB_RELEASE() { m_.unlock(); }

  private:
    raw_mutex m_;
};

// std::lock_guard for sync::mutex, visible to the analysis.
class GFPLAB_SCOPED_CAPABILITY lock_guard {
  public:
    explicit lock_guard(mutex &m) GFPLAB_ACQUIRE(m) : m_(m) { m_.lock(); }
    ~lock_guard() GFPLAB_RELEASE() { m_.unlock(); }
    lock_guard(const lock_guard &) = delete;
    lock_guard &operator=(const lock_guard &) = delete;

  private:
    mutex &m_;
};

} // namespace gfplab::sync
