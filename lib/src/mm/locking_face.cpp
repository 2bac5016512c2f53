// SPDX-License-Identifier: MIT
//
// The kernel face of locking and atomic context (linux/spinlock.h, mutex.h, rwsem.h,
// preempt.h, irqflags.h, interrupt.h): real locks whose acquisitions the lock checker sees,
// and the thread's atomic state kept as held "context" classes, so that one question,
// current_atomic_holder(), answers in_atomic() and names where the thread became atomic
// (I21, check/might_sleep.cpp).
#include "../check/held_count.hpp"
#include "../internal.hpp"
#include "default_system.hpp"

#include <gfplab/linux/interrupt.h>
#include <gfplab/linux/irqflags.h>
#include <gfplab/linux/mutex.h>
#include <gfplab/linux/preempt.h>
#include <gfplab/linux/rwsem.h>
#include <gfplab/linux/spinlock.h>
#include <gfplab/lockdep.hpp>

#include <atomic>
#include <mutex>
#include <sched.h>
#include <string>
#include <unordered_map>

namespace gfplab {
namespace {

// The contexts: held like locks while the thread is in them, never part of a dependency.
lock_class &context_class(int which) {
    static lock_class *const classes[] = {
        new lock_class("preempt_disable", lock_kind::context),
        new lock_class("local_irq_disable", lock_kind::context),
        new lock_class("local_bh_disable", lock_kind::context),
        new lock_class("hardirq context", lock_kind::context),
        new lock_class("softirq context", lock_kind::context),
    };
    return *classes[which];
}
enum { ctx_preempt, ctx_irqs_off, ctx_bh_off, ctx_hardirq, ctx_softirq };

struct context_state {
    int preempt = 0; // preempt_disable() depth
    int spins = 0;   // spinning locks held
    int bh = 0;      // local_bh_disable() depth
    bool irqs_off = false;
    int hardirq = 0, softirq = 0;
};
thread_local context_state ctx;

// Classes by key, for the life of the process (lockdep's keys are static too): a module's
// classes stay valid however often its locks are set up.
lock_class &class_of(gfplab_lockdep_map &map, const void *self, lock_kind kind) {
    if (void *c = __atomic_load_n(&map.cls, __ATOMIC_ACQUIRE))
        return *static_cast<lock_class *>(c);
    static std::mutex m;
    static auto *classes = new std::unordered_map<const void *, lock_class *>();
    const void *key = map.key ? static_cast<const void *>(map.key) : self;
    lock_class *c;
    {
        std::lock_guard<std::mutex> g(m);
        auto &slot = (*classes)[key];
        if (!slot)
            slot = new lock_class(map.name ? map.name : "(unnamed lock)", kind);
        c = slot;
    }
    __atomic_store_n(&map.cls, c, __ATOMIC_RELEASE);
    return *c;
}

void init_map(gfplab_lockdep_map &map, const char *name, lock_class_key *key) {
    map.cls = nullptr;
    map.name = name;
    map.key = key;
}

srcloc at(const char *file, unsigned line) {
    return srcloc{file, line};
}

void might_sleep_at(const char *what, const char *file, unsigned line) {
    if (detail::t_held_count)
        check_might_sleep(current_default_system(), what, 0, -1, at(file, line));
}

// A word taken by compare-and-swap from `from` to `to`; spins briefly, then yields (no
// scheduler to hand the CPU to but the host's).
template <typename T, typename Pred, typename Next>
void take_word(T *w, Pred can, Next next) {
    for (unsigned n = 0;; n++) {
        T cur = __atomic_load_n(w, __ATOMIC_RELAXED);
        if (can(cur) && __atomic_compare_exchange_n(w, &cur, next(cur), true, __ATOMIC_ACQUIRE,
                                                    __ATOMIC_RELAXED))
            return;
        if (n > 32)
            sched_yield();
    }
}

template <typename T, typename Pred, typename Next>
bool try_word(T *w, Pred can, Next next) {
    T cur = __atomic_load_n(w, __ATOMIC_RELAXED);
    while (can(cur))
        if (__atomic_compare_exchange_n(w, &cur, next(cur), true, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return true;
    return false;
}

auto is_free = [](auto v) { return v == 0; };
auto to_one = [](auto) { return decltype(0u)(1); };

} // namespace
} // namespace gfplab

using namespace gfplab;

extern "C" {

// --- preemption, bottom halves, interrupts ----------------------------------------------
void __gfplab_preempt_disable(const char *file, unsigned int line) {
    ctx.preempt++;
    lock_acquire(context_class(ctx_preempt), at(file, line));
}

void __gfplab_preempt_enable(void) {
    if (ctx.preempt == 0)
        return; // unbalanced: the kernel would warn; nothing held to drop
    ctx.preempt--;
    lock_release(context_class(ctx_preempt));
}

void __gfplab_local_bh_disable(const char *file, unsigned int line) {
    ctx.bh++;
    lock_acquire(context_class(ctx_bh_off), at(file, line));
}

void __gfplab_local_bh_enable(void) {
    if (ctx.bh == 0)
        return;
    ctx.bh--;
    lock_release(context_class(ctx_bh_off));
}

int __gfplab_preempt_count(void) {
    return ctx.preempt + ctx.spins + ctx.bh + ctx.hardirq + ctx.softirq;
}

bool __gfplab_in_atomic(void) {
    return current_atomic_holder().has_value();
}

bool __gfplab_in_hardirq(void) {
    return ctx.hardirq != 0;
}

bool __gfplab_in_softirq(void) {
    return ctx.softirq != 0 || ctx.bh != 0;
}

unsigned long __gfplab_local_irq_save(const char *file, unsigned int line) {
    const unsigned long was = ctx.irqs_off;
    if (!ctx.irqs_off) {
        ctx.irqs_off = true;
        lock_acquire(context_class(ctx_irqs_off), at(file, line));
    }
    return was;
}

void __gfplab_local_irq_restore(unsigned long flags) {
    if (!flags && ctx.irqs_off) {
        ctx.irqs_off = false;
        lock_release(context_class(ctx_irqs_off));
    }
}

bool __gfplab_irqs_disabled(void) {
    return ctx.irqs_off;
}

void __gfplab_run_in_hardirq(void (*fn)(void *), void *arg, const char *file, unsigned int line) {
    const unsigned long flags = __gfplab_local_irq_save(file, line);
    ctx.hardirq++;
    lock_acquire(context_class(ctx_hardirq), at(file, line));
    fn(arg);
    lock_release(context_class(ctx_hardirq));
    ctx.hardirq--;
    __gfplab_local_irq_restore(flags);
}

void __gfplab_run_in_softirq(void (*fn)(void *), void *arg, const char *file, unsigned int line) {
    ctx.softirq++;
    lock_acquire(context_class(ctx_softirq), at(file, line));
    fn(arg);
    lock_release(context_class(ctx_softirq));
    ctx.softirq--;
}

void __gfplab_might_sleep(const char *file, unsigned int line) {
    might_sleep_at("might_sleep()", file, line);
}

// --- spinlock_t ------------------------------------------------------------------------------
void __gfplab_spin_lock_init(spinlock_t *lock, const char *name, struct lock_class_key *key) {
    lock->locked = 0;
    init_map(lock->dep_map, name, key);
}

void __gfplab_spin_lock(spinlock_t *lock, const char *file, unsigned int line) {
    lock_class &c = class_of(lock->dep_map, lock, lock_kind::spinning);
    take_word(&lock->locked, is_free, to_one);
    ctx.spins++;
    lock_acquire(c, at(file, line));
}

int __gfplab_spin_trylock(spinlock_t *lock, const char *file, unsigned int line) {
    lock_class &c = class_of(lock->dep_map, lock, lock_kind::spinning);
    if (!try_word(&lock->locked, is_free, to_one))
        return 0;
    ctx.spins++;
    lock_acquire_try(c, at(file, line));
    return 1;
}

void __gfplab_spin_unlock(spinlock_t *lock) {
    lock_release(class_of(lock->dep_map, lock, lock_kind::spinning));
    ctx.spins--;
    __atomic_store_n(&lock->locked, 0u, __ATOMIC_RELEASE);
}

// --- struct mutex -------------------------------------------------------------------------
void __gfplab_mutex_init(struct mutex *lock, const char *name, struct lock_class_key *key) {
    lock->locked = 0;
    init_map(lock->dep_map, name, key);
}

void __gfplab_mutex_lock(struct mutex *lock, const char *file, unsigned int line) {
    might_sleep_at("mutex_lock()", file, line);
    lock_class &c = class_of(lock->dep_map, lock, lock_kind::sleeping);
    take_word(&lock->locked, is_free, to_one);
    lock_acquire(c, at(file, line));
}

int __gfplab_mutex_trylock(struct mutex *lock, const char *file, unsigned int line) {
    lock_class &c = class_of(lock->dep_map, lock, lock_kind::sleeping);
    if (!try_word(&lock->locked, is_free, to_one))
        return 0;
    lock_acquire_try(c, at(file, line));
    return 1;
}

void __gfplab_mutex_unlock(struct mutex *lock) {
    lock_release(class_of(lock->dep_map, lock, lock_kind::sleeping));
    __atomic_store_n(&lock->locked, 0u, __ATOMIC_RELEASE);
}

// --- struct rw_semaphore ------------------------------------------------------------------
void __gfplab_init_rwsem(struct rw_semaphore *sem, const char *name, struct lock_class_key *key) {
    sem->count = 0;
    init_map(sem->dep_map, name, key);
}

void __gfplab_down_read(struct rw_semaphore *sem, const char *file, unsigned int line) {
    might_sleep_at("down_read()", file, line);
    lock_class &c = class_of(sem->dep_map, sem, lock_kind::sleeping);
    take_word(
        &sem->count, [](int v) { return v >= 0; }, [](int v) { return v + 1; });
    lock_acquire(c, at(file, line));
}

int __gfplab_down_read_trylock(struct rw_semaphore *sem, const char *file, unsigned int line) {
    lock_class &c = class_of(sem->dep_map, sem, lock_kind::sleeping);
    if (!try_word(
            &sem->count, [](int v) { return v >= 0; }, [](int v) { return v + 1; }))
        return 0;
    lock_acquire_try(c, at(file, line));
    return 1;
}

void __gfplab_up_read(struct rw_semaphore *sem) {
    lock_release(class_of(sem->dep_map, sem, lock_kind::sleeping));
    __atomic_fetch_sub(&sem->count, 1, __ATOMIC_RELEASE);
}

void __gfplab_down_write(struct rw_semaphore *sem, const char *file, unsigned int line) {
    might_sleep_at("down_write()", file, line);
    lock_class &c = class_of(sem->dep_map, sem, lock_kind::sleeping);
    take_word(
        &sem->count, [](int v) { return v == 0; }, [](int) { return -1; });
    lock_acquire(c, at(file, line));
}

int __gfplab_down_write_trylock(struct rw_semaphore *sem, const char *file, unsigned int line) {
    lock_class &c = class_of(sem->dep_map, sem, lock_kind::sleeping);
    if (!try_word(
            &sem->count, [](int v) { return v == 0; }, [](int) { return -1; }))
        return 0;
    lock_acquire_try(c, at(file, line));
    return 1;
}

void __gfplab_up_write(struct rw_semaphore *sem) {
    lock_release(class_of(sem->dep_map, sem, lock_kind::sleeping));
    __atomic_store_n(&sem->count, 0, __ATOMIC_RELEASE);
}

void __gfplab_downgrade_write(struct rw_semaphore *sem) {
    // The writer becomes one reader: the class stays held.
    __atomic_store_n(&sem->count, 1, __ATOMIC_RELEASE);
}

} // extern "C"
