/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/string.h - the C library's <string.h> plus the kernel's helpers it lacks
 * (Linux 6.12 include/linux/string.h): strscpy() and memzero_explicit().
 */
#ifndef GFPLAB_LINUX_STRING_H
#define GFPLAB_LINUX_STRING_H

#include <gfplab/linux/array_size.h>
#include <gfplab/linux/errno.h>
#include <gfplab/linux/types.h>

#include <limits.h>
#include <string.h>

/*
 * Copies the string src into dst, a buffer of size bytes, and always NUL-terminates it
 * when size > 0. Returns the length copied, or -E2BIG when src did not fit (dst then holds
 * its first size - 1 characters) or size is 0 or beyond INT_MAX (nothing is written; such
 * a size is a caller's bug). src is not read beyond size bytes.
 */
static inline ssize_t sized_strscpy(char *dst, const char *src, size_t size) {
    size_t i;

    if (size == 0 || size > INT_MAX)
        return -E2BIG;
    for (i = 0; i < size; i++) {
        dst[i] = src[i];
        if (src[i] == '\0')
            return (ssize_t)i;
    }
    dst[size - 1] = '\0';
    return -E2BIG;
}

/*
 * strscpy(dst, src, size), or strscpy(dst, src) when dst is an array, whose size is then
 * taken (6.12 accepts both). The third argument selects the macro.
 */
#define strscpy(...)                                                                               \
    __gfplab_strscpy_pick(__VA_ARGS__, __gfplab_strscpy3, __gfplab_strscpy2, _)(__VA_ARGS__)
#define __gfplab_strscpy_pick(_1, _2, _3, name, ...) name
#define __gfplab_strscpy3(dst, src, size)            sized_strscpy(dst, src, size)

#define __gfplab_strscpy2(dst, src) sized_strscpy(dst, src, sizeof(dst) + __must_be_array(dst))

/* memset() to zero that the compiler may not drop as a dead store (as it may drop one on
 * memory about to be freed): for clearing keys and other secrets. */
static inline void memzero_explicit(void *s, size_t count) {
    memset(s, 0, count);
    /* An empty asm that may read s and any memory: the zeroing has to happen before it. */
    __asm__ __volatile__("" : : "r"(s) : "memory");
}

#endif /* GFPLAB_LINUX_STRING_H */
