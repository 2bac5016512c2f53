// SPDX-License-Identifier: MIT
/* A plugin whose init() fails: the host stops with its error code, exit 2. */
#include <gfplab/workload.h>
#include <linux/errno.h>

static int fails(const struct gfplab_workload_env *env) {
    (void)env;
    return -ENODEV;
}

static int nothing(struct gfplab_workload_ctx *ctx) {
    (void)ctx;
    return 0;
}

static const struct gfplab_workload_op ops[] = {{.name = "nothing", .weight = 1, .run = nothing}};

GFPLAB_WORKLOAD(.name = "init-fails", .description = "init returns -ENODEV", .init = fails,
                .ops = ops, .nr_ops = 1);
