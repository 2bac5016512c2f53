// SPDX-License-Identifier: MIT
//
// The CPU freelist's fast paths inside restartable sequences: SLUB's this_cpu_cmpxchg,
// which on x86 is a cmpxchg without the lock prefix, safe because only the CPU's own code
// runs it and preemption is off. A sequence is the userspace form of that: it reads the
// CPU number, that CPU's freelist word, and commits the new word with one plain store; a
// thread preempted, migrated or signalled before the commit restarts at the abort handler.
// No atomic read-modify-write, so an allocation and a free cost a few nanoseconds where a
// locked compare-and-swap costs about seven each on the reference VM.
//
// Who else writes a CPU's word (slab.hpp): the slow path of a thread running on that CPU
// locks it with rseq_lock_cpu_word() below, a sequence too, so the CPU's fast paths are
// serialised with it as they are with each other; anyone else (a remote flush, a thread
// that migrated while it waited for the CPU's slow-path lock) uses a compare-and-swap and
// then membarrier's rseq fence (slub.cpp: lock_cpu_word). Once the word is LOCKED no
// sequence commits, so its holder may store the unlocked word plainly.
//
// A cache uses them only when every possible CPU number has a kmem_cache_cpu of its own
// (kmem_cache::rseq): a compare-and-swap path sharing a word with the sequences would lose
// updates to their plain stores. x86-64 only, never under ThreadSanitizer or in the
// deterministic library copy (rseq_cs.hpp). Always inlined, and only into the slab
// layer's non-inline functions (rseq_cs.hpp says why).
#pragma once

#include "../pcp/rseq_cs.hpp"
#include "slab.hpp"

#include <cstddef>

namespace gfplab::slab_rseq {

#if GFPLAB_HAVE_RSEQ

static_assert(offsetof(kmem_cache_cpu, word) == 0 && offsetof(kmem_cache_cpu, cpu_slab) == 8,
              "the sequences hard-code the word's and the CPU slab's offsets");

inline constexpr std::uint64_t TID_ONE = std::uint64_t(1) << OBJREF_BITS;

// The CPU's freelist head, popped: the word becomes (next, tid + 1). Returns the object's
// reference, or OBJ_NIL when the freelist is empty or the slow path holds the word (then
// nothing changed). The next pointer is masked to 36 bits, so a stray write into a free
// object cannot reach the tid.
GFPLAB_ALWAYS_INLINE objref pop(const kmem_cache &c) noexcept {
    struct rseq *rs = pcp::current_rseq();
    // The free pointer of object r is at arena + (r - 1) * 8 + offset.
    const std::uint8_t *fp_base = c.mem.arena - 8 + c.offset;
    objref head;
retry:
    asm goto(
        GFPLAB_RSEQ_CS(1f, 2f, 4f) "1:\n\t"
                                   "movl 4(%[rs]), %%eax\n\t" // cpu_id
                                   "imulq %[stride], %%rax, %%rax\n\t"
                                   "addq %[base], %%rax\n\t" // this CPU's kmem_cache_cpu
                                   "movq (%%rax), %%rdx\n\t" // the word
                                   "movq %%rdx, %[head]\n\t"
                                   "andq %[mask], %[head]\n\t"
                                   "jz %l[none]\n\t"
                                   "cmpq %[mask], %[head]\n\t" // LOCKED
                                   "je %l[none]\n\t"
                                   "movq (%[fp],%[head],8), %%r8\n\t"
                                   "xorq %[random], %%r8\n\t"
                                   "andq %[mask], %%r8\n\t" // next
                                   "subq %[head], %%rdx\n\t"
                                   "addq %%r8, %%rdx\n\t"
                                   "addq %[tid], %%rdx\n\t"
                                   "movq %%rdx, (%%rax)\n\t" // commit
                                   "2:\n\t" GFPLAB_RSEQ_ABORT(4, abort_)
        : [head] "=&r"(head)
        : [rs] "r"(rs), [stride] "i"(sizeof(kmem_cache_cpu)), [base] "r"(c.cpu.get()),
          [mask] "r"(OBJREF_MASK), [fp] "r"(fp_base), [random] "r"(c.random), [tid] "r"(TID_ONE)
        : "rax", "rdx", "r8", "cc", "memory"
        : none, abort_);
    return head;
none:
    return OBJ_NIL;
abort_:
    goto retry;
}

// Pushes object r (of slab sl; its free pointer at fp) on the CPU's freelist if sl is the
// CPU's slab and the word is not LOCKED. False: nothing changed, the object goes back to
// its slab (__slab_free).
GFPLAB_ALWAYS_INLINE bool push(const kmem_cache &c, const slab *sl, void *fp, objref r) noexcept {
    struct rseq *rs = pcp::current_rseq();
retry:
    asm goto(GFPLAB_RSEQ_CS(1f, 2f, 4f) "1:\n\t"
                                        "movl 4(%[rs]), %%eax\n\t"
                                        "imulq %[stride], %%rax, %%rax\n\t"
                                        "addq %[base], %%rax\n\t"
                                        "movq (%%rax), %%rdx\n\t"
                                        "movq %%rdx, %%rcx\n\t"
                                        "andq %[mask], %%rcx\n\t"
                                        "cmpq %[mask], %%rcx\n\t" // LOCKED
                                        "je %l[other]\n\t"
                                        "cmpq %[sl], 8(%%rax)\n\t" // the CPU's slab?
                                        "jne %l[other]\n\t"
                                        "movq %%rcx, %%r8\n\t"
                                        "xorq %[random], %%r8\n\t"
                                        "movq %%r8, (%[fp])\n\t" // the object's next = head
                                        "subq %%rcx, %%rdx\n\t"
                                        "addq %[r], %%rdx\n\t"
                                        "addq %[tid], %%rdx\n\t"
                                        "movq %%rdx, (%%rax)\n\t" // commit
                                        "2:\n\t" GFPLAB_RSEQ_ABORT(4, abort_)
             :
             : [rs] "r"(rs), [stride] "i"(sizeof(kmem_cache_cpu)), [base] "r"(c.cpu.get()),
               [mask] "r"(OBJREF_MASK), [sl] "r"(sl), [fp] "r"(fp), [random] "r"(c.random),
               [r] "r"(r), [tid] "r"(TID_ONE)
             : "rax", "rcx", "rdx", "r8", "cc", "memory"
             : other, abort_);
    return true;
other:
    return false;
abort_:
    goto retry;
}

// The slow path's lock of CPU cpu's word, if the thread runs on cpu: the word becomes
// (LOCKED, tid + 1) and *old receives what it was. False if the thread runs elsewhere
// (nothing changed; the caller locks the word as a remote CPU does).
GFPLAB_ALWAYS_INLINE bool lock_word(const kmem_cache &c, unsigned cpu,
                                    std::uint64_t *old) noexcept {
    struct rseq *rs = pcp::current_rseq();
retry:
    asm goto(GFPLAB_RSEQ_CS(1f, 2f, 4f) "1:\n\t"
                                        "movl 4(%[rs]), %%eax\n\t"
                                        "cmpl %[cpu], %%eax\n\t"
                                        "jne %l[elsewhere]\n\t"
                                        "imulq %[stride], %%rax, %%rax\n\t"
                                        "addq %[base], %%rax\n\t"
                                        "movq (%%rax), %%rdx\n\t"
                                        "movq %%rdx, %%r8\n\t"
                                        "movq %%rdx, %%rcx\n\t"
                                        "andq %[mask], %%rcx\n\t"
                                        "subq %%rcx, %%rdx\n\t"
                                        "addq %[mask], %%rdx\n\t"
                                        "addq %[tid], %%rdx\n\t"
                                        "movq %%rdx, (%%rax)\n\t" // commit
                                        "2:\n\t"
                                        "movq %%r8, (%[out])\n\t" GFPLAB_RSEQ_ABORT(4, abort_)
             :
             : [rs] "r"(rs), [cpu] "r"(cpu), [stride] "i"(sizeof(kmem_cache_cpu)),
               [base] "r"(c.cpu.get()), [mask] "r"(OBJREF_MASK), [tid] "r"(TID_ONE), [out] "r"(old)
             : "rax", "rcx", "rdx", "r8", "cc", "memory"
             : elsewhere, abort_);
    return true;
elsewhere:
    return false;
abort_:
    goto retry;
}

#endif // GFPLAB_HAVE_RSEQ

} // namespace gfplab::slab_rseq
