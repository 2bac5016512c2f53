// SPDX-License-Identifier: MIT
//
// The pieces every restartable sequence (rseq) needs, x86-64 only: whether the build can
// have them, the calling thread's struct rseq, and the asm that declares a sequence and
// its abort handler. The per-CPU page lists (rseq_list.hpp) and the slab layer's CPU
// freelists (slab/rseq_freelist.hpp) write their sequences with them.
//
// The asm follows the kernel ABI (include/uapi/linux/rseq.h): a struct rseq_cs descriptor
// {version, flags, start_ip, post_commit_offset, abort_ip} in section __rseq_cs, its address
// stored in rseq->rseq_cs before the first instruction of the sequence, and the 32-bit
// signature glibc registered (RSEQ_SIG, 0x53053053 on x86) just before the abort handler.
//
// A descriptor points into the text of the function whose asm emitted it, so a sequence
// must only be inlined into functions that are not themselves inline (emitted once): the
// linker keeps one copy of an inline function and would leave the descriptors of the
// copies it drops pointing at nothing.
#pragma once

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

#endif // GFPLAB_HAVE_RSEQ

} // namespace gfplab::pcp
