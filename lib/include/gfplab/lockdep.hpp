// SPDX-License-Identifier: MIT
//
// gfplab/lockdep.hpp - lock classes, held-lock tracking and the fs_reclaim dependency
// checker (the kernel's lockdep idea reduced to what reclaim recursion needs; 6.12
// mm/page_alloc.c fs_reclaim_acquire/release, might_alloc).
//
// Every lock belongs to a class (a name). A thread records the classes it holds, whether it
// takes them through gfplab::Lock or annotates any other mutex with lock_acquire/release.
// The checker keeps a graph of "held A while taking B" edges between classes, with the
// pseudo-class fs_reclaim standing for "reclaim that may enter filesystems":
//   - an allocation that may reclaim with __GFP_FS (after the task's scopes) while holding A
//     adds A -> fs_reclaim (might_alloc: whether or not reclaim actually runs);
//   - reclaim holds fs_reclaim while it runs, so a shrinker taking B adds fs_reclaim -> B.
// A cycle (A -> fs_reclaim -> A) is a possible deadlock: reported once per pair of classes,
// naming both sides with their call sites. Inside memalloc_nofs_save() the first edge is
// never added, so the correct caller is never reported. The kernel's rules apply:
// __GFP_NOLOCKDEP and PF_MEMALLOC tasks record nothing.
#pragma once

#include <gfplab/linux/gfp_types.h>
#include <gfplab/report.hpp>
#include <gfplab/scope.hpp>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gfplab {

// What holding a lock of the class means for the holder (lockdep's wait types, reduced):
// a sleeping lock (mutex, rw_semaphore) may be held across anything; a spinning one
// (spinlock_t, rwlock_t) makes the holder atomic, so it must not sleep; a context is no lock
// at all but a state entered and left like one (preemption or interrupts off, interrupt
// context): atomic too, and never part of a dependency chain.
enum class lock_kind : std::uint8_t { sleeping, spinning, context };

class lock_class {
  public:
    explicit lock_class(std::string name, lock_kind kind = lock_kind::sleeping);
    ~lock_class();
    lock_class(const lock_class &) = delete;
    lock_class &operator=(const lock_class &) = delete;
    const std::string &name() const noexcept { return name_; }
    unsigned id() const noexcept { return id_; }
    lock_kind kind() const noexcept { return kind_; }

  private:
    std::string name_;
    unsigned id_;
    lock_kind kind_;
};

// The pseudo-lock of reclaim that may enter filesystems (lockdep's "fs_reclaim").
lock_class &fs_reclaim_class();

// Annotations for any lock: call right after taking it and right before letting it go.
void lock_acquire(const lock_class &c, srcloc at = srcloc::current());
void lock_release(const lock_class &c) noexcept;
// A lock taken by trylock: held like any other (later locks still depend on it), but its own
// acquisition adds no dependency, because a trylock never waits (lockdep's check_prevs_add
// skips trylock acquisitions the same way).
void lock_acquire_try(const lock_class &c, srcloc at = srcloc::current());

// A mutex that reports itself to the checker.
class Lock {
  public:
    explicit Lock(lock_class &c) : class_(c) {}
    void lock(srcloc at = srcloc::current()) {
        m_.lock();
        lock_acquire(class_, at);
    }
    bool try_lock(srcloc at = srcloc::current()) {
        if (!m_.try_lock())
            return false;
        lock_acquire_try(class_, at);
        return true;
    }
    void unlock() {
        lock_release(class_);
        m_.unlock();
    }
    const lock_class &klass() const noexcept { return class_; }

  private:
    std::mutex m_;
    lock_class &class_;
};

// What the calling thread holds, innermost last.
struct held_lock {
    const lock_class *cls;
    const char *file;
    unsigned line;
    std::uint64_t seq = 0; // which acquisition on this thread (a new one each time)
};
std::vector<held_lock> current_held_locks();
bool current_holds(const lock_class &c) noexcept;
// The innermost spinning lock or context the calling thread holds: while there is one, the
// thread is atomic (in_atomic()) and must not sleep. Empty when it may sleep.
std::optional<held_lock> current_atomic_holder();
// How many locks the calling thread holds (cheap: the allocation path asks on every call).
std::size_t current_held_count() noexcept;

// might_alloc(gfp): record what an allocation with this mask (narrowed by the task's
// scopes) could do while the current locks are held. Called at allocation entry.
void might_alloc(gfp_t gfp, srcloc at = srcloc::current());
// fs_reclaim_acquire/release(gfp): around reclaim. With __GFP_FS in the (scoped) mask the
// thread holds fs_reclaim for the duration, so locks taken inside record fs_reclaim -> B.
void fs_reclaim_acquire(gfp_t gfp, srcloc at = srcloc::current());
void fs_reclaim_release(gfp_t gfp) noexcept;
// The unconditional forms (6.12 __fs_reclaim_acquire/release): kswapd holds fs_reclaim for all
// of balance_pgdat although it runs with PF_MEMALLOC, which the gfp forms would refuse.
void __fs_reclaim_acquire(srcloc at = srcloc::current());
void __fs_reclaim_release() noexcept;

// Model-only opt-out, standing in for __GFP_NOLOCKDEP (0 in the model's configuration, as in
// a kernel without CONFIG_LOCKDEP): while a guard lives, the thread's might_alloc() and
// fs_reclaim_acquire() record nothing, as if every mask carried __GFP_NOLOCKDEP. Locks taken
// meanwhile are still tracked, so the held-lock stack stays balanced. Guards nest.
class lockdep_off {
  public:
    lockdep_off() noexcept;
    ~lockdep_off();
    lockdep_off(const lockdep_off &) = delete;
    lockdep_off &operator=(const lockdep_off &) = delete;
};
// Whether a lockdep_off guard is alive on the calling thread.
bool lockdep_is_off() noexcept;

// A possible deadlock: the two edges that close the cycle, with their sites.
struct lockdep_report {
    std::string message; // "possible circular locking dependency: ..."
    std::string first;   // "A -> fs_reclaim at file:line (allocation mode:0x...)"
    std::string second;  // "fs_reclaim -> A at file:line (inside reclaim)"
};

// Where reports go (process-wide; default: stderr). Each pair of classes is reported once
// until lockdep_reset().
// An empty fn puts the default back.
void set_lockdep_report_handler(std::function<void(const lockdep_report &)> fn);
// Reports made since the start (or the last lockdep_reset()), all threads.
std::uint64_t lockdep_report_count() noexcept;
// Forgets every recorded edge and report, and zeroes the count (tests; a new stress round).
// Held-lock stacks are per thread and stay as they are.
void lockdep_reset();

} // namespace gfplab
