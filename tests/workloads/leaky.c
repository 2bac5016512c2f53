// SPDX-License-Identifier: MIT
/*
 * A plugin that forgets one buffer in a hundred: gfplab-stress must report what it left after
 * exit() with the line that allocated it (the one marked LEAK), and fail the run.
 */
#include <gfplab/workload.h>
#include <linux/errno.h>
#include <linux/slab.h>

static int fill(struct gfplab_workload_ctx *ctx) {
    void *buf = kmalloc(100, GFP_KERNEL); /* LEAK */

    if (!buf)
        return -ENOMEM;
    if (gfplab_workload_chance(ctx, 99))
        kfree(buf);
    return 0;
}

static const struct gfplab_workload_op ops[] = {{.name = "fill", .weight = 1, .run = fill}};

GFPLAB_WORKLOAD(.name = "leaky", .description = "forgets one buffer in a hundred", .ops = ops,
                .nr_ops = 1);
