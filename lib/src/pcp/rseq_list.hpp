// SPDX-License-Identifier: MIT
//
// Per-CPU list operations inside restartable sequences (rseq, registered by glibc >= 2.35),
// x86-64 only. Each sequence reads the CPU number, finds that CPU's block, checks that the
// block is not stopped, reads the list word and commits the change with one store. If the
// thread is preempted, migrated or signalled before the commit, the kernel restarts it at
// the abort handler and the sequence is simply tried again: no lock is taken, no atomic
// read-modify-write is issued, and a stopped thread blocks nobody.
//
// The asm follows the kernel ABI (include/uapi/linux/rseq.h): a struct rseq_cs descriptor
// {version, flags, start_ip, post_commit_offset, abort_ip} in section __rseq_cs, its address
// stored in rseq->rseq_cs before the first instruction of the sequence, and the 32-bit
// signature glibc registered (RSEQ_SIG, 0x53053053 on x86) just before the abort handler.
#pragma once

#include "list_word.hpp"

// The deterministic library copy (sync/atom.hpp) goes without: the scheduler cannot
// interpose on the asm's loads and stores.
#if defined(__x86_64__) && defined(__linux__) && !GFPLAB_SYNC_DETERMINISTIC
#include <sys/rseq.h>
#define GFPLAB_HAVE_RSEQ 1
#else
#define GFPLAB_HAVE_RSEQ 0
#endif

namespace gfplab::pcp {

// Whether this thread can run the sequences: x86-64, glibc registered rseq, and not under
// ThreadSanitizer (it cannot see through the asm).
bool rseq_usable() noexcept;

// Restarts any sequence running on `cpu` (membarrier's rseq fence), so that after a
// stopped flag is set no sequence that missed it can still commit. False if unavailable.
bool rseq_fence_cpu(unsigned cpu) noexcept;

#if GFPLAB_HAVE_RSEQ

// The calling thread's struct rseq (glibc keeps it at a fixed offset from the thread
// pointer).
inline struct rseq *current_rseq() noexcept {
    return reinterpret_cast<struct rseq *>(static_cast<char *>(__builtin_thread_pointer()) +
                                           __rseq_offset);
}

static_assert(sizeof(page) == 24 && offsetof(page, lru) == 12,
              "the rseq sequences hard-code struct page's size and lru.next offset");

// rseq->rseq_cs is at offset 8, rseq->cpu_id at offset 4.
#define GFPLAB_RSEQ_CS(start, commit, abort_)                                                      \
    ".pushsection __rseq_cs, \"aw\"\n\t"                                                           \
    ".balign 32\n\t"                                                                               \
    "3:\n\t"                                                                                       \
    ".long 0x0, 0x0\n\t"                                                                           \
    ".quad " #start ", (" #commit " - " #start "), " #abort_ "\n\t"                                \
    ".popsection\n\t"                                                                              \
    "leaq 3b(%%rip), %%rax\n\t"                                                                    \
    "movq %%rax, 8(%[rs])\n\t"

#define GFPLAB_RSEQ_ABORT(label, target)                                                           \
    ".pushsection __rseq_failure, \"ax\"\n\t"                                                      \
    ".byte 0x0f, 0xb9, 0x3d\n\t"                                                                   \
    ".long 0x53053053\n\t" #label ":\n\t"                                                          \
    "jmp %l[" #target "]\n\t"                                                                      \
    ".popsection\n\t"

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

#undef GFPLAB_RSEQ_CS
#undef GFPLAB_RSEQ_ABORT

#endif // GFPLAB_HAVE_RSEQ

} // namespace gfplab::pcp
