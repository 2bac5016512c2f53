/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/kernel.h - the kernel's everyday helpers (Linux 6.12 include/linux/kernel.h
 * and what it pulls in: array_size.h, bits.h, limits.h, math.h, minmax.h, rwonce.h and the
 * compiler attribute names): ARRAY_SIZE, rounding and alignment, bit masks, integer limits,
 * branch hints, READ_ONCE / WRITE_ONCE and compiler barriers.
 */
#ifndef GFPLAB_LINUX_KERNEL_H
#define GFPLAB_LINUX_KERNEL_H

#include <gfplab/linux/array_size.h>
#include <gfplab/linux/bug.h>
#include <gfplab/linux/container_of.h>
#include <gfplab/linux/minmax.h>
#include <gfplab/linux/preempt.h>
#include <gfplab/linux/printk.h>
#include <gfplab/linux/types.h>

#include <limits.h>

/*
 * Attributes under their kernel names. glibc's <sys/cdefs.h> (already in through
 * types.h) defines __always_inline itself; its definition is kept.
 */
#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif
#ifndef __maybe_unused
#define __maybe_unused __attribute__((__unused__))
#endif
#ifndef __must_check
#define __must_check __attribute__((__warn_unused_result__))
#endif
#ifndef __printf
#define __printf(fmt_index, first_arg) __attribute__((__format__(__printf__, fmt_index, first_arg)))
#endif

/* Branch hints: the value of x is kept, only the compiler's layout guess changes. */
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Integer limits under the kernel's names, in the kernel's types. */
#define U8_MAX  ((u8)UINT8_MAX)
#define S8_MAX  ((s8)INT8_MAX)
#define S8_MIN  ((s8)INT8_MIN)
#define U16_MAX ((u16)UINT16_MAX)
#define S16_MAX ((s16)INT16_MAX)
#define S16_MIN ((s16)INT16_MIN)
#define U32_MAX ((u32)UINT32_MAX)
#define S32_MAX ((s32)INT32_MAX)
#define S32_MIN ((s32)INT32_MIN)
#define U64_MAX ((u64)UINT64_MAX)
#define S64_MAX ((s64)INT64_MAX)
#define S64_MIN ((s64)INT64_MIN)

#define PHYS_ADDR_MAX (~(phys_addr_t)0)

/* Usable in #if as well. */
#define BITS_PER_BYTE       8
#define BITS_PER_LONG       (__SIZEOF_LONG__ * BITS_PER_BYTE)
#define BITS_PER_LONG_LONG  (__SIZEOF_LONG_LONG__ * BITS_PER_BYTE)
#define BITS_PER_TYPE(type) (sizeof(type) * BITS_PER_BYTE)

#define BIT(nr)     (1UL << (nr))
#define BIT_ULL(nr) (1ULL << (nr))

/*
 * Bits h down to l set (h >= l): all ones shifted up by l, ANDed with all ones shifted
 * down so that bit h is the top. Neither shift reaches the type's width for h, l in range.
 */
#define GENMASK(h, l)     ((~0UL << (l)) & (~0UL >> (BITS_PER_LONG - 1 - (h))))
#define GENMASK_ULL(h, l) ((~0ULL << (l)) & (~0ULL >> (BITS_PER_LONG_LONG - 1 - (h))))

/* n / d rounded up; n + d - 1 must not overflow. */
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))

/* y must be a power of two for the next four; the result has x's type. */
#define __gfplab_low_mask(x, y) ((__typeof__(x))((y)-1))
#define round_up(x, y)          (((x) + __gfplab_low_mask(x, y)) & ~__gfplab_low_mask(x, y))
#define round_down(x, y)        ((x) & ~__gfplab_low_mask(x, y))
#define ALIGN(x, a)             round_up(x, a)
#define ALIGN_DOWN(x, a)        round_down(x, a)
#define IS_ALIGNED(x, a)        (((x)&__gfplab_low_mask(x, a)) == 0)

/*
 * READ_ONCE / WRITE_ONCE: one access of the object's full width, which the compiler may not
 * split, merge, repeat or drop. That holds only for sizes the machine accesses in one go,
 * hence the size check (a negative array size when it fails).
 */
#define __gfplab_once_size_ok(x)                                                                   \
    ((void)sizeof(                                                                                 \
        char[(sizeof(x) == 1 || sizeof(x) == 2 || sizeof(x) == 4 || sizeof(x) == 8) ? 1 : -1]))
#define READ_ONCE(x) (__gfplab_once_size_ok(x), *(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val)                                                                         \
    do {                                                                                           \
        __gfplab_once_size_ok(x);                                                                  \
        *(volatile __typeof__(x) *)&(x) = (val);                                                   \
    } while (0)

/* Keeps the compiler from moving memory accesses across it or caching them in registers
 * over it; orders nothing between CPUs. */
#define barrier() __asm__ __volatile__("" : : : "memory")

/* The body of a busy-wait loop: tells the CPU so (x86 PAUSE, arm64 YIELD) and forces the
 * loop to reload what it waits on. */
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
    barrier();
}

/* Anything that may sleep says so: in atomic context it is reported as I21 (preempt.h). */
#define might_sleep() __gfplab_might_sleep(__FILE__, __LINE__)
#define might_sleep_if(cond)                                                                       \
    do {                                                                                           \
        if (cond)                                                                                  \
            might_sleep();                                                                         \
    } while (0)
#define cond_resched()                                                                             \
    ({                                                                                             \
        might_sleep();                                                                             \
        0;                                                                                         \
    })

#endif /* GFPLAB_LINUX_KERNEL_H */
