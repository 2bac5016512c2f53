/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/slab.h - the slab allocator's kernel face (Linux 6.12 include/linux/slab.h):
 * kmem_cache_create() in both its forms, the kmem_cache_* calls, the kmalloc family, on the
 * default System. The flag values are 6.12's for a kernel with CONFIG_FAILSLAB and
 * CONFIG_MEMCG, without CONFIG_DEBUG_OBJECTS, KASAN, KFENCE and SLUB_TINY.
 */
#ifndef GFPLAB_LINUX_SLAB_H
#define GFPLAB_LINUX_SLAB_H

#include <gfplab/linux/alloc_site.h>
#include <gfplab/linux/compiler.h>
#include <gfplab/linux/gfp_types.h>

#include <stddef.h>

typedef unsigned int slab_flags_t;

#define SLAB_CONSISTENCY_CHECKS ((slab_flags_t)1u << 0)
#define SLAB_RED_ZONE           ((slab_flags_t)1u << 1) /* red zones around each object */
#define SLAB_POISON             ((slab_flags_t)1u << 2) /* free objects hold a pattern */
#define SLAB_KMALLOC            ((slab_flags_t)1u << 3) /* a kmalloc cache (internal) */
#define SLAB_HWCACHE_ALIGN      ((slab_flags_t)1u << 4) /* objects on cache lines */
#define SLAB_CACHE_DMA          ((slab_flags_t)1u << 5) /* slabs from ZONE_DMA */
#define SLAB_CACHE_DMA32        ((slab_flags_t)1u << 6) /* slabs from ZONE_DMA32 */
#define SLAB_STORE_USER         ((slab_flags_t)1u << 7) /* accepted; no tracks are kept */
#define SLAB_PANIC              ((slab_flags_t)1u << 8) /* creation failure aborts */
#define SLAB_TYPESAFE_BY_RCU    ((slab_flags_t)1u << 9) /* see docs/slab.md */
#define SLAB_TRACE              ((slab_flags_t)1u << 10)
#define SLAB_NOLEAKTRACE        ((slab_flags_t)1u << 11)
#define SLAB_NO_MERGE           ((slab_flags_t)1u << 12) /* caches are never merged here */
#define SLAB_FAILSLAB           ((slab_flags_t)1u << 13) /* failslab may fail this cache */
#define SLAB_ACCOUNT            ((slab_flags_t)1u << 14) /* objects charged to a memcg */
#define SLAB_NO_USER_FLAGS      ((slab_flags_t)1u << 15)
#define SLAB_RECLAIM_ACCOUNT    ((slab_flags_t)1u << 16) /* slabs are MIGRATE_RECLAIMABLE */
#define SLAB_MEM_SPREAD         ((slab_flags_t)0u)       /* obsolete in 6.12: no bit */

/* kmalloc(0) returns this: not NULL, and never to be dereferenced. */
#define ZERO_SIZE_PTR          ((void *)16)
#define ZERO_OR_NULL_PTR(x)    ((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)
#define KMALLOC_SHIFT_LOW      3
#define KMALLOC_SHIFT_HIGH     13 /* PAGE_SHIFT + 1 */
#define KMALLOC_MIN_SIZE       (1u << KMALLOC_SHIFT_LOW)
#define KMALLOC_MAX_CACHE_SIZE (1u << KMALLOC_SHIFT_HIGH)
#define KMALLOC_MAX_SIZE       (1ul << (10 + 12)) /* MAX_PAGE_ORDER + PAGE_SHIFT */
#define ARCH_KMALLOC_MINALIGN  8
#define NUMA_NO_NODE           (-1)

/* 6.12's struct kmem_cache_args: everything but name, size and flags. */
struct kmem_cache_args {
    unsigned int align;
    unsigned int useroffset;
    unsigned int usersize;
    unsigned int freeptr_offset; /* with use_freeptr_offset: SLAB_TYPESAFE_BY_RCU only */
#ifdef __cplusplus
    bool use_freeptr_offset;
#else
    _Bool use_freeptr_offset;
#endif
    void (*ctor)(void *);
};

#ifdef __cplusplus
namespace gfplab {
struct kmem_cache;
}
#define GFPLAB_KMEM_CACHE gfplab::kmem_cache
#else
struct kmem_cache;
#define GFPLAB_KMEM_CACHE struct kmem_cache
#endif

GFPLAB_EXTERN_C_BEGIN
/* NULL on failure (with a report); SLAB_PANIC aborts instead. args may be NULL. */
GFPLAB_KMEM_CACHE *__kmem_cache_create_args(const char *name, unsigned int object_size,
                                            struct kmem_cache_args *args, slab_flags_t flags);
/* The pre-6.12 form: align, flags, ctor. */
GFPLAB_KMEM_CACHE *__kmem_cache_create(const char *name, unsigned int size, unsigned int align,
                                       slab_flags_t flags, void (*ctor)(void *));
void kmem_cache_destroy(GFPLAB_KMEM_CACHE *s);
int kmem_cache_shrink(GFPLAB_KMEM_CACHE *s);
unsigned int kmem_cache_size(GFPLAB_KMEM_CACHE *s);
void *kmem_cache_alloc(GFPLAB_KMEM_CACHE *s, gfp_t flags);
void *kmem_cache_alloc_node(GFPLAB_KMEM_CACHE *s, gfp_t flags, int node);
void *kmem_cache_zalloc(GFPLAB_KMEM_CACHE *s, gfp_t flags);
void kmem_cache_free(GFPLAB_KMEM_CACHE *s, void *objp);
/* All or nothing: returns size, or 0 with nothing allocated. */
int kmem_cache_alloc_bulk(GFPLAB_KMEM_CACHE *s, gfp_t flags, size_t size, void **p);
void kmem_cache_free_bulk(GFPLAB_KMEM_CACHE *s, size_t size, void **p);

void *kmalloc(size_t size, gfp_t flags);
void *kmalloc_node(size_t size, gfp_t flags, int node);
void *kzalloc(size_t size, gfp_t flags);
void *kzalloc_node(size_t size, gfp_t flags, int node);
void *kmalloc_array(size_t n, size_t size, gfp_t flags);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void *krealloc(const void *p, size_t new_size, gfp_t flags);
void kfree(const void *objp);
size_t ksize(const void *objp);
char *kstrdup(const char *s, gfp_t gfp);
char *kstrndup(const char *s, size_t max, gfp_t gfp);
void *kmemdup(const void *src, size_t len, gfp_t gfp);
/* kvmalloc(): kmalloc first, then vmalloc (6.12's rules: docs/vmalloc.md). */
void *kvmalloc_node(size_t size, gfp_t flags, int node);
void *kvmalloc(size_t size, gfp_t flags);
void *kvzalloc(size_t size, gfp_t flags);
void *kvzalloc_node(size_t size, gfp_t flags, int node);
void *kvmalloc_array(size_t n, size_t size, gfp_t flags);
void *kvcalloc(size_t n, size_t size, gfp_t flags);
void *kvrealloc(const void *p, size_t size, gfp_t flags);
void kvfree(const void *addr);
GFPLAB_EXTERN_C_END

#ifdef __cplusplus
/* C++ has no _Generic: the two forms are overloads. */
inline GFPLAB_KMEM_CACHE *kmem_cache_create(const char *name, unsigned int size,
                                            struct kmem_cache_args *args, slab_flags_t flags) {
    return __kmem_cache_create_args(name, size, args, flags);
}
inline GFPLAB_KMEM_CACHE *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
                                            slab_flags_t flags, void (*ctor)(void *)) {
    return __kmem_cache_create(name, size, align, flags, ctor);
}
#else
/* 6.12's dispatch: a struct kmem_cache_args * (or NULL) third argument is the new form. */
#define kmem_cache_create(name, size, args, ...)                                                   \
    _Generic((args),                                                                               \
        struct kmem_cache_args *: __kmem_cache_create_args,                                        \
        void *: __kmem_cache_create_args,                                                          \
        default: __kmem_cache_create)(name, size, args, __VA_ARGS__)
#endif

/* KMEM_CACHE(struct_name, flags): a cache named and sized after a struct. */
#define KMEM_CACHE(__struct, __flags)                                                              \
    __kmem_cache_create(#__struct, sizeof(struct __struct), __alignof__(struct __struct),          \
                        (__flags), NULL)

#ifdef GFPLAB_CALLER_SITES /* linux/alloc_site.h */
#define kmem_cache_alloc(s, flags)                                                                 \
    GFPLAB_SITE_ALLOC(void *, "kmem_cache_alloc", kmem_cache_alloc((s), (flags)))
#define kmem_cache_alloc_node(s, flags, node)                                                      \
    GFPLAB_SITE_ALLOC(void *, "kmem_cache_alloc", kmem_cache_alloc_node((s), (flags), (node)))
#define kmem_cache_zalloc(s, flags)                                                                \
    GFPLAB_SITE_ALLOC(void *, "kmem_cache_zalloc", kmem_cache_zalloc((s), (flags)))
#define kmem_cache_free(s, objp) GFPLAB_SITE_FREE(objp, kmem_cache_free((s), (void *)__gfplab_obj))
#define kmalloc(size, flags)     GFPLAB_SITE_ALLOC(void *, "kmalloc", kmalloc((size), (flags)))
#define kmalloc_node(size, flags, node)                                                            \
    GFPLAB_SITE_ALLOC(void *, "kmalloc", kmalloc_node((size), (flags), (node)))
#define kzalloc(size, flags) GFPLAB_SITE_ALLOC(void *, "kzalloc", kzalloc((size), (flags)))
#define kzalloc_node(size, flags, node)                                                            \
    GFPLAB_SITE_ALLOC(void *, "kzalloc", kzalloc_node((size), (flags), (node)))
#define kmalloc_array(n, size, flags)                                                              \
    GFPLAB_SITE_ALLOC(void *, "kmalloc_array", kmalloc_array((n), (size), (flags)))
#define kcalloc(n, size, flags) GFPLAB_SITE_ALLOC(void *, "kcalloc", kcalloc((n), (size), (flags)))
#define kstrdup(str, gfp)       GFPLAB_SITE_ALLOC(char *, "kstrdup", kstrdup((str), (gfp)))
#define kstrndup(str, max, gfp) GFPLAB_SITE_ALLOC(char *, "kstrndup", kstrndup((str), (max), (gfp)))
#define kmemdup(src, len, gfp)  GFPLAB_SITE_ALLOC(void *, "kmemdup", kmemdup((src), (len), (gfp)))
#define kvmalloc(size, flags)   GFPLAB_SITE_ALLOC(void *, "kvmalloc", kvmalloc((size), (flags)))
#define kvmalloc_node(size, flags, node)                                                           \
    GFPLAB_SITE_ALLOC(void *, "kvmalloc", kvmalloc_node((size), (flags), (node)))
#define kvzalloc(size, flags) GFPLAB_SITE_ALLOC(void *, "kvzalloc", kvzalloc((size), (flags)))
#define kvzalloc_node(size, flags, node)                                                           \
    GFPLAB_SITE_ALLOC(void *, "kvzalloc", kvzalloc_node((size), (flags), (node)))
#define kvmalloc_array(n, size, flags)                                                             \
    GFPLAB_SITE_ALLOC(void *, "kvmalloc_array", kvmalloc_array((n), (size), (flags)))
#define kvcalloc(n, size, flags)                                                                   \
    GFPLAB_SITE_ALLOC(void *, "kvcalloc", kvcalloc((n), (size), (flags)))
/* The old object stays the caller's until the new one exists. */
#define krealloc(p, new_size, flags)                                                               \
    ({                                                                                             \
        const void *__gfplab_old = (p);                                                            \
        __gfplab_site_enter(__FILE__, __LINE__);                                                   \
        void *__gfplab_new = krealloc(__gfplab_old, (new_size), (flags));                          \
        if (__gfplab_new && __gfplab_new != __gfplab_old)                                          \
            __gfplab_site_forget(__gfplab_old);                                                    \
        __gfplab_site_exit(__gfplab_new, "krealloc");                                              \
    })
#define kvrealloc(p, size, flags)                                                                  \
    ({                                                                                             \
        const void *__gfplab_old = (p);                                                            \
        __gfplab_site_enter(__FILE__, __LINE__);                                                   \
        void *__gfplab_new = kvrealloc(__gfplab_old, (size), (flags));                             \
        if (__gfplab_new && __gfplab_new != __gfplab_old)                                          \
            __gfplab_site_forget(__gfplab_old);                                                    \
        __gfplab_site_exit(__gfplab_new, "kvrealloc");                                             \
    })
#define kfree(objp)  GFPLAB_SITE_FREE(objp, kfree(__gfplab_obj))
#define kvfree(addr) GFPLAB_SITE_FREE(addr, kvfree(__gfplab_obj))
#endif

#endif /* GFPLAB_LINUX_SLAB_H */
