// SPDX-License-Identifier: MIT
//
// Per-CPU list operations inside restartable sequences (rseq, registered by glibc >= 2.35),
// x86-64 only. Each sequence reads the CPU number, finds that CPU's block, checks that the
// block is not stopped, reads the list word and commits the change with one store. If the
// thread is preempted, migrated or signalled before the commit, the kernel restarts it at
// the abort handler and the sequence is simply tried again: no lock is taken, no atomic
// read-modify-write is issued, and a stopped thread blocks nobody.
//
// The descriptor and abort-handler asm is rseq_cs.hpp's.
#pragma once

#include "list_word.hpp"
#include "rseq_cs.hpp"

namespace gfplab::pcp {

#if GFPLAB_HAVE_RSEQ

static_assert(sizeof(page) == 24 && offsetof(page, lru) == 12,
              "the rseq sequences hard-code struct page's size and lru.next offset");

// Pops the head of the list at byte offset `off` of the current CPU's block into *pfn.
inline outcome rseq_pop(const percpu_region &r, std::size_t off, page *mem_map,
                        std::uint32_t *pfn) noexcept {
    struct rseq *rs = current_rseq();
retry:
    asm goto(GFPLAB_RSEQ_CS(
                 1f, 2f, 4f) "1:\n\t"
                             "movl 4(%[rs]), %%eax\n\t" // cpu_id
                             "imulq %[stride], %%rax\n\t"
                             "addq %[base], %%rax\n\t" // this CPU's block
                             "cmpl $0, (%%rax)\n\t"    // stopped?
                             "jnz %l[busy]\n\t"
                             "addq %[off], %%rax\n\t"
                             "movq (%%rax), %%rdx\n\t" // the list word
                             "cmpl $-1, %%edx\n\t"
                             "je %l[empty]\n\t"
                             "movl %%edx, %%ecx\n\t"
                             "leaq (%%rcx,%%rcx,2), %%rcx\n\t"
                             "movl 12(%[map],%%rcx,8), %%ecx\n\t" // next = mem_map[head].lru.next
                             "movq %%rdx, %%r8\n\t"
                             "shrq $32, %%r8\n\t"
                             "subq $1, %%r8\n\t"
                             "shlq $32, %%r8\n\t"
                             "orq %%rcx, %%r8\n\t"
                             "movq %%r8, (%%rax)\n\t" // commit: head = next, count - 1
                             "2:\n\t"
                             "movl %%edx, (%[out])\n\t" GFPLAB_RSEQ_ABORT(4, abort_)
             :
             : [rs] "r"(rs), [stride] "r"(r.stride), [base] "r"(r.base), [off] "r"(off),
               [map] "r"(mem_map), [out] "r"(pfn)
             : "rax", "rcx", "rdx", "r8", "cc", "memory"
             : busy, empty, abort_);
    return outcome::ok;
busy:
    return outcome::busy;
empty:
    return outcome::empty;
abort_:
    goto retry;
}

// Pushes the chain head..tail (n pages linked through lru.next) onto the list at `off` of
// the current CPU's block; *count receives the list's new length.
inline outcome rseq_push(const percpu_region &r, std::size_t off, page *mem_map, std::uint32_t head,
                         std::uint32_t tail, std::uint32_t n, std::uint32_t *count) noexcept {
    struct rseq *rs = current_rseq();
    const std::uint64_t tail_index = std::uint64_t(tail) * 3;
retry:
    asm goto(
        GFPLAB_RSEQ_CS(
            1f, 2f, 4f) "1:\n\t"
                        "movl 4(%[rs]), %%eax\n\t"
                        "imulq %[stride], %%rax\n\t"
                        "addq %[base], %%rax\n\t"
                        "cmpl $0, (%%rax)\n\t"
                        "jnz %l[busy]\n\t"
                        "addq %[off], %%rax\n\t"
                        "movq (%%rax), %%rdx\n\t"
                        "movl %%edx, 12(%[map],%[ti],8)\n\t" // tail.lru.next = old head (our page)
                        "movq %%rdx, %%rcx\n\t"
                        "shrq $32, %%rcx\n\t"
                        "addq %q[n], %%rcx\n\t"
                        "movq %%rcx, %%r8\n\t"
                        "shlq $32, %%rcx\n\t"
                        "orq %q[head], %%rcx\n\t"
                        "movq %%rcx, (%%rax)\n\t" // commit: head = chain head, count + n
                        "2:\n\t"
                        "movl %%r8d, (%[out])\n\t" GFPLAB_RSEQ_ABORT(4, abort_)
        :
        : [rs] "r"(rs), [stride] "r"(r.stride), [base] "r"(r.base), [off] "r"(off),
          [map] "r"(mem_map), [ti] "r"(tail_index), [n] "r"(std::uint64_t(n)),
          [head] "r"(std::uint64_t(head)), [out] "r"(count)
        : "rax", "rcx", "rdx", "r8", "cc", "memory"
        : busy, abort_);
    return outcome::ok;
busy:
    return outcome::busy;
abort_:
    goto retry;
}

// Empties the list at `off` of the current CPU's block; *word receives what it held.
inline outcome rseq_steal(const percpu_region &r, std::size_t off, std::uint64_t *word) noexcept {
    struct rseq *rs = current_rseq();
    const std::uint64_t empty = empty_word;
retry:
    asm goto(GFPLAB_RSEQ_CS(1f, 2f, 4f) "1:\n\t"
                                        "movl 4(%[rs]), %%eax\n\t"
                                        "imulq %[stride], %%rax\n\t"
                                        "addq %[base], %%rax\n\t"
                                        "cmpl $0, (%%rax)\n\t"
                                        "jnz %l[busy]\n\t"
                                        "addq %[off], %%rax\n\t"
                                        "movq (%%rax), %%rdx\n\t"
                                        "movq %[empty], (%%rax)\n\t" // commit
                                        "2:\n\t"
                                        "movq %%rdx, (%[out])\n\t" GFPLAB_RSEQ_ABORT(4, abort_)
             :
             : [rs] "r"(rs), [stride] "r"(r.stride), [base] "r"(r.base), [off] "r"(off),
               [empty] "r"(empty), [out] "r"(word)
             : "rax", "rdx", "cc", "memory"
             : busy, abort_);
    return outcome::ok;
busy:
    return outcome::busy;
abort_:
    goto retry;
}

// this_cpu_inc() of the counter at byte offset `off` of the current CPU's block, as a
// sequence of its own whose commit is the increment itself: one instruction, so preemption
// or migration either restarts the sequence before it (nothing counted, counted again on
// the CPU it resumes on) or comes after it. Only threads running on a CPU write that CPU's
// counters, so a plain add is exact; readers on other CPUs load the aligned word whole.
// Adding to the counter inside the list's sequence, before its commit, would count twice
// after an abort; after the commit, outside any sequence, a migrated thread could race the
// CPU's next owner and lose an update; a locked add would be exact but is a read-modify-
// write on every hit, which the rseq mode is there to avoid.
inline void rseq_count(const percpu_region &r, std::size_t off) noexcept {
    struct rseq *rs = current_rseq();
retry:
    asm goto(GFPLAB_RSEQ_CS(1f, 2f, 4f) "1:\n\t"
                                        "movl 4(%[rs]), %%eax\n\t"
                                        "imulq %[stride], %%rax\n\t"
                                        "addq %[base], %%rax\n\t"
                                        "addq $1, (%%rax,%[off])\n\t" // commit: the count
                                        "2:\n\t" GFPLAB_RSEQ_ABORT(4, abort_)
             :
             : [rs] "r"(rs), [stride] "r"(r.stride), [base] "r"(r.base), [off] "r"(off)
             : "rax", "cc", "memory"
             : abort_);
    return;
abort_:
    goto retry;
}

#endif // GFPLAB_HAVE_RSEQ

} // namespace gfplab::pcp
