/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/types.h - the kernel's basic type names (Linux 6.12 include/linux/types.h):
 * u8..u64 and their __ and signed forms, bool, size_t / ssize_t, the address types, gfp_t,
 * atomic_t / atomic64_t, and the list and hash list nodes. struct rcu_head comes from
 * gfplab/linux/rcu_head.h, as the kernel has it in this header too.
 */
#ifndef GFPLAB_LINUX_TYPES_H
#define GFPLAB_LINUX_TYPES_H

#include <gfplab/linux/rcu_head.h>

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

/*
 * The 64-bit names are long long, not the long <stdint.h> uses on x86-64: every Linux
 * architecture builds the kernel with long long u64 (asm-generic/int-ll64.h), so kernel
 * code prints a u64 with "%llu" and -Wformat must agree. The spelling also matches the
 * system's UAPI <linux/types.h>, so a file may include both.
 */
typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef signed short __s16;
typedef unsigned int __u32;
typedef signed int __s32;
typedef unsigned long long __u64;
typedef signed long long __s64;

typedef __u8 u8;
typedef __s8 s8;
typedef __u16 u16;
typedef __s16 s16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;

/* A 64-bit kernel has 64-bit physical and bus addresses (CONFIG_PHYS_ADDR_T_64BIT and
 * CONFIG_ARCH_DMA_ADDR_T_64BIT are on for all of them). */
typedef u64 phys_addr_t;
typedef phys_addr_t resource_size_t;
typedef u64 dma_addr_t;

/*
 * gfplab/linux/gfp_types.h defines gfp_t too and may come first or second; an identical
 * typedef may be repeated in C11 and C++, and a different one would not compile, so the two
 * cannot drift apart. Likewise slab_flags_t with gfplab/linux/slab.h.
 */
typedef unsigned int gfp_t;
typedef unsigned int slab_flags_t;
typedef unsigned long pgoff_t;

/* Wrapped in structs, as the kernel wraps them, so that a plain ++ or = does not compile
 * and every access goes through the atomic_* operations. */
typedef struct {
    int counter;
} atomic_t;

typedef struct {
    s64 counter;
} atomic64_t;

/* A node of a circular doubly linked list (gfplab/linux/list.h); the list's head is one too. */
struct list_head {
    struct list_head *next, *prev;
};

/*
 * Hash table buckets: the head is a single pointer to keep big tables small, so a node
 * keeps the address of whatever points at it (the head's first or the previous node's
 * next) instead of a pointer to the previous node.
 */
struct hlist_node {
    struct hlist_node *next, **pprev;
};

struct hlist_head {
    struct hlist_node *first;
};

#endif /* GFPLAB_LINUX_TYPES_H */
