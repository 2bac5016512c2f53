/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/err.h - error codes carried in pointers (Linux 6.12 include/linux/err.h).
 *
 * The top MAX_ERRNO addresses are never handed out as objects, so a function that returns
 * a pointer can return -ENOMEM and friends in it: ERR_PTR() makes such a pointer, IS_ERR()
 * recognises one, PTR_ERR() reads the code back.
 */
#ifndef GFPLAB_LINUX_ERR_H
#define GFPLAB_LINUX_ERR_H

#include <gfplab/linux/errno.h>
#include <gfplab/linux/types.h>

#define MAX_ERRNO 4095

/*
 * Takes a pointer or an integer. An int error code is sign-extended by the conversion to
 * unsigned long, so IS_ERR_VALUE(-EINVAL) holds for an int as for a long.
 */
#define IS_ERR_VALUE(x) __builtin_expect((unsigned long)(x) >= (unsigned long)-MAX_ERRNO, 0)

/* The pointer and long round trips below need them to be the same size. */
#ifdef __cplusplus
static_assert(sizeof(long) == sizeof(void *), "err.h stores error codes in pointers");
#else
_Static_assert(sizeof(long) == sizeof(void *), "err.h stores error codes in pointers");
#endif

/* Ignoring any of these results is always a bug, hence warn_unused_result. */
#define __GFPLAB_ERR_MUST_CHECK __attribute__((__warn_unused_result__))

static inline void *__GFPLAB_ERR_MUST_CHECK ERR_PTR(long error) {
    return (void *)(uintptr_t)error;
}

static inline long __GFPLAB_ERR_MUST_CHECK PTR_ERR(const void *ptr) {
    return (long)(uintptr_t)ptr;
}

static inline bool __GFPLAB_ERR_MUST_CHECK IS_ERR(const void *ptr) {
    return IS_ERR_VALUE((uintptr_t)ptr);
}

static inline bool __GFPLAB_ERR_MUST_CHECK IS_ERR_OR_NULL(const void *ptr) {
    return __builtin_expect(ptr == NULL, 0) || IS_ERR_VALUE((uintptr_t)ptr);
}

/* Passes an error pointer on as another pointer type (and drops const, as the kernel does). */
static inline void *__GFPLAB_ERR_MUST_CHECK ERR_CAST(const void *ptr) {
    return (void *)(uintptr_t)ptr;
}

/* For the common `return PTR_ERR_OR_ZERO(p);` at the end of a function returning int. */
static inline int __GFPLAB_ERR_MUST_CHECK PTR_ERR_OR_ZERO(const void *ptr) {
    return IS_ERR(ptr) ? (int)PTR_ERR(ptr) : 0;
}

#endif /* GFPLAB_LINUX_ERR_H */
