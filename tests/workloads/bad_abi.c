// SPDX-License-Identifier: MIT
/*
 * A plugin built against another version of the workload ABI: a host must refuse it with a
 * clear message and exit 2 before it calls anything of it.
 */
#include <gfplab/workload.h>

static int nothing(struct gfplab_workload_ctx *ctx) {
    (void)ctx;
    return 0;
}

static const struct gfplab_workload_op ops[] = {{"nothing", 1, nothing}};

const struct gfplab_workload gfplab_workload_entry = {
    GFPLAB_WORKLOAD_ABI_VERSION + 1, "bad-abi", "from the future", 0, 0, ops, 1};
