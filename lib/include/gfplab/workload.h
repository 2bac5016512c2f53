/* SPDX-License-Identifier: MIT */
/*
 * <gfplab/workload.h> - the workload plugin ABI (docs/plugins.md).
 *
 * A workload is kernel-style code (built against the kernel include root, pkg-config
 * gfplab-kernel) that gfplab's harnesses drive: gfplab-stress loads it as a shared object
 * (--workload PATH.so) and calls its operations from every worker thread, inside random
 * memalloc scopes and under memory pressure, with the oracle online; gfplab-fuzz-plugin
 * links the same source into a libFuzzer target whose input picks the operations, the
 * random numbers they draw and the scopes around them.
 *
 * A plugin defines exactly one descriptor with GFPLAB_WORKLOAD():
 *
 *     static int create(struct gfplab_workload_ctx *ctx) { ... return 0; }
 *     static const struct gfplab_workload_op ops[] = {
 *         { .name = "create", .weight = 4, .run = create },
 *     };
 *     GFPLAB_WORKLOAD(.name = "toyfs", .ops = ops, .nr_ops = ARRAY_SIZE(ops),
 *                     .init = toyfs_init, .exit = toyfs_exit);
 *
 * The ABI is C and versioned: a host refuses a descriptor whose abi_version is not its own.
 * Everything here is plain data and inline functions; the plugin calls nothing of the host
 * but the kernel face it is built against, so one plugin binary serves every host.
 */
#ifndef GFPLAB_WORKLOAD_H
#define GFPLAB_WORKLOAD_H

#include <gfplab/linux/gfp_types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a structure below changes shape or meaning. */
#define GFPLAB_WORKLOAD_ABI_VERSION 1u

/* What an operation is called with: the host fills it in, the plugin reads it. */
struct gfplab_workload_ctx {
    /* Which of the host's workers runs the operation, 0 .. nr_workers-1. A worker runs one
     * operation at a time, so per-worker state needs no lock; under stress each worker's
     * operations may run on any thread (never two at once), and the fuzzer runs every
     * worker on one thread. */
    unsigned int worker;
    unsigned int nr_workers;
    /* The host's random stream (use gfplab_workload_random()): seeded per worker and
     * operation under stress, read from the input under fuzzing, so a plugin that draws
     * every choice from it is replayed exactly. */
    unsigned long long (*random)(struct gfplab_workload_ctx *ctx);
    void *host; /* the host's own; never touched by the plugin */
};

/* The environment init() is given. */
struct gfplab_workload_env {
    unsigned int nr_workers;
    /* The text after the first ',' of --workload PATH.so,ARGS (stress) or the
     * GFPLAB_WORKLOAD_ARGS environment variable (fuzzer); "" when none. */
    const char *args;
};

struct gfplab_workload_op {
    const char *name;
    /* Relative share among this plugin's operations; 0 leaves it out. */
    unsigned int weight;
    /* Returns 0, or a negative errno for an expected failure (-ENOMEM under pressure is
     * one): counted per operation, never a violation. Everything the oracle sees while it
     * runs (reports, WARN*(), scope mismatches, lock cycles) is charged to it. */
    int (*run)(struct gfplab_workload_ctx *ctx);
};

struct gfplab_workload {
    unsigned int abi_version; /* GFPLAB_WORKLOAD_ABI_VERSION */
    const char *name;
    const char *description;
    /* Once, on the host's System, before any operation; 0 or a negative errno (the host
     * then stops with an error). May be NULL. */
    int (*init)(const struct gfplab_workload_env *env);
    /* Once, after the last operation, on one thread: free everything (the host checks what
     * is left). May be NULL. */
    void (*exit)(void);
    const struct gfplab_workload_op *ops;
    unsigned int nr_ops;
};

/* The descriptor's symbol: hosts look it up by this name. */
#define GFPLAB_WORKLOAD_SYMBOL "gfplab_workload_entry"
extern __attribute__((visibility("default"))) const struct gfplab_workload gfplab_workload_entry;

#ifdef __cplusplus
}
#endif

/* Defines the plugin's descriptor (designated initializers, in the members' order). */
#define GFPLAB_WORKLOAD(...)                                                                       \
    const struct gfplab_workload gfplab_workload_entry = {                                         \
        .abi_version = GFPLAB_WORKLOAD_ABI_VERSION, __VA_ARGS__}

/* A uniform 64-bit draw from the host's stream. */
static inline unsigned long long gfplab_workload_random(struct gfplab_workload_ctx *ctx) {
    return ctx->random(ctx);
}

/* A draw in [0, n) (0 when n is 0). */
static inline unsigned long gfplab_workload_below(struct gfplab_workload_ctx *ctx,
                                                  unsigned long n) {
    return n ? (unsigned long)(gfplab_workload_random(ctx) % n) : 0;
}

/* True with probability percent/100. */
static inline int gfplab_workload_chance(struct gfplab_workload_ctx *ctx, unsigned int percent) {
    return gfplab_workload_below(ctx, 100) < percent;
}

/*
 * A mask such as callers of the plugin's API pass, drawn from the host's stream: for the
 * entry points that take their caller's gfp_t (a mapping's gfp mask, a driver's submit
 * path). Sleeping masks with and without __GFP_FS and __GFP_IO, the retry modifiers, and the
 * atomic ones; __GFP_NOWARN a quarter of the time. Never __GFP_NOFAIL.
 */
static inline gfp_t gfplab_workload_gfp(struct gfplab_workload_ctx *ctx) {
    static const gfp_t masks[] = {
        GFP_KERNEL,
        GFP_KERNEL,
        GFP_NOFS,
        GFP_NOFS,
        GFP_NOIO,
        GFP_NOWAIT,
        GFP_ATOMIC,
        GFP_KERNEL | __GFP_NORETRY,
        GFP_KERNEL | __GFP_RETRY_MAYFAIL,
        GFP_USER,
    };
    const unsigned long long r = gfplab_workload_random(ctx);
    return masks[r % (sizeof(masks) / sizeof(masks[0]))] | ((r / 16) % 4 == 0 ? __GFP_NOWARN : 0);
}

#endif /* GFPLAB_WORKLOAD_H */
