/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/container_of.h - from a pointer to a member back to the structure that
 * holds it (Linux 6.12 include/linux/container_of.h). list.h and kernel.h both need it,
 * and it needs neither of them.
 */
#ifndef GFPLAB_LINUX_CONTAINER_OF_H
#define GFPLAB_LINUX_CONTAINER_OF_H

#include <stddef.h>

/*
 * A pointer to the wrong member (another structure's list_head, say) must not compile: it
 * would yield a pointer into the middle of some other object. A void pointer is accepted,
 * as in the kernel. Neither check evaluates anything.
 */
#ifdef __cplusplus
/* C++ has no __builtin_types_compatible_p, but ?: refuses to merge unrelated pointer
 * types, which is the same test. */
#define __GFPLAB_CONTAINER_OF_CHECK(ptr, type, member)                                             \
    ((void)sizeof(0 ? (ptr) : &((type *)0)->member))
#else
#define __GFPLAB_CONTAINER_OF_CHECK(ptr, type, member)                                             \
    ((void)sizeof(struct {                                                                         \
        _Static_assert(                                                                            \
            __builtin_types_compatible_p(__typeof__(*(ptr)), __typeof__(((type *)0)->member)) ||   \
                __builtin_types_compatible_p(__typeof__(*(ptr)), void),                            \
            "container_of(): the pointer's type is not the member's type");                        \
        char __gfplab_unused;                                                                      \
    }))
#endif

/* ptr points at member inside a type; yields the type's address. const is not kept. */
#define container_of(ptr, type, member)                                                            \
    (__GFPLAB_CONTAINER_OF_CHECK(ptr, type, member),                                               \
     (type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif /* GFPLAB_LINUX_CONTAINER_OF_H */
