/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/array_size.h - ARRAY_SIZE() and the check behind it (Linux 6.12
 * include/linux/array_size.h; __must_be_array() is in its compiler.h).
 */
#ifndef GFPLAB_LINUX_ARRAY_SIZE_H
#define GFPLAB_LINUX_ARRAY_SIZE_H

#include <stddef.h>

/*
 * __must_be_array(a) is 0, and does not compile when a is a pointer: ARRAY_SIZE of a
 * pointer (an array parameter, say) would silently divide the pointer's size.
 */
#ifndef __must_be_array
#ifdef __cplusplus
extern "C++" {
/* Declared only: sizeof reads the array's length off its return type. */
template <typename _GfplabT, size_t _GfplabN>
char (&__gfplab_array_probe(_GfplabT (&)[_GfplabN]))[_GfplabN];
}
#define __must_be_array(a) ((int)(sizeof(__gfplab_array_probe(a)) * 0))
#else
#define __must_be_array(a)                                                                         \
    ((int)(sizeof(struct {                                                                         \
               _Static_assert(!__builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0])),   \
                              "not an array but a pointer");                                       \
               char __gfplab_unused;                                                               \
           }) *                                                                                    \
           0))
#endif
#endif

/* The number of elements of an array (not a pointer); an integer constant expression. */
#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]) + __must_be_array(arr))

#endif /* GFPLAB_LINUX_ARRAY_SIZE_H */
