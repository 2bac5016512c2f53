/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/shrinker.h - shrinkers with the kernel's 6.7+ interface (include/linux/
 * shrinker.h, mm/shrinker.c), on the default System, usable from C and C++.
 *
 *     struct shrinker *s = shrinker_alloc(SHRINKER_NUMA_AWARE, "my-cache-%d", id);
 *     s->count_objects = my_count;
 *     s->scan_objects = my_scan;
 *     s->private_data = cache;
 *     shrinker_register(s);
 *     ...
 *     shrinker_free(s);   // after it returns, the callbacks are never called again
 */
#ifndef GFPLAB_LINUX_SHRINKER_H
#define GFPLAB_LINUX_SHRINKER_H

#include <gfplab/linux/compiler.h>
#include <gfplab/linux/gfp_types.h>

/* count_objects: nothing to free right now (the kernel's ~0UL - 1). */
#define SHRINK_EMPTY (~0UL - 1)
/* scan_objects: no progress is possible in this context; do not call again this round. */
#define SHRINK_STOP  (~0UL)

#define DEFAULT_SEEKS 2 /* a typical object costs two seeks to recreate */
#define SHRINK_BATCH  128

/* Internal flags, then the ones callers pass to shrinker_alloc(). */
#define SHRINKER_REGISTERED  (1u << 0)
#define SHRINKER_ALLOCATED   (1u << 1)
#define SHRINKER_NUMA_AWARE  (1u << 2)
#define SHRINKER_MEMCG_AWARE (1u << 3) /* accepted; the model has no per-memcg shrinking */
#define SHRINKER_NONSLAB     (1u << 4)

struct shrink_control {
    gfp_t gfp_mask;           /* the reclaim context: what the shrinker may do */
    int nid;                  /* the node being reclaimed, NUMA aware or not */
    unsigned long nr_to_scan; /* how many objects to scan this call */
    unsigned long nr_scanned; /* preset to nr_to_scan; lower it to what was really scanned */
    void *memcg;              /* always NULL in the model */
};

struct shrinker_info_gfplab; /* the registry's private part */

struct shrinker {
    unsigned long (*count_objects)(struct shrinker *, struct shrink_control *sc);
    unsigned long (*scan_objects)(struct shrinker *, struct shrink_control *sc);
    long batch; /* objects per scan_objects call; 0: SHRINK_BATCH */
    int seeks;  /* cost to recreate an object; 0: free to recreate */
    unsigned flags;
    void *private_data;
    /* gfplab */
    const char *name;                  /* "name" from shrinker_alloc(), formatted */
    struct shrinker_info_gfplab *info; /* deferred counts, refcount, declared locks */
};

GFPLAB_EXTERN_C_BEGIN
/* NULL on failure (no memory, or a name that does not format). */
struct shrinker *shrinker_alloc(unsigned int flags, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void shrinker_register(struct shrinker *shrinker);
void shrinker_free(struct shrinker *shrinker);

/* gfplab extension: drop_slab() on the default System (what "echo 2 > drop_caches" does to
 * slab caches); returns the objects freed over all passes. */
unsigned long gfplab_drop_slab(void);
GFPLAB_EXTERN_C_END

#endif /* GFPLAB_LINUX_SHRINKER_H */
