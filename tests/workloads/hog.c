// SPDX-License-Identifier: MIT
/*
 * A leak that exhausts memory: every call keeps another page, allocated with GFP_NOFS, which
 * is too small to fail and never invokes the OOM killer. Once memory is gone every worker
 * loops in reclaim, until a GFP_KERNEL allocation kills every victim and panics (6.12:
 * "System is deadlocked on memory"); gfplab-stress exits 5 and says what each worker did.
 */
#include <gfplab/workload.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/spinlock.h>

#define MAX_KEPT (1 << 20) /* pages: more than any System the tests boot */

static DEFINE_SPINLOCK(lock);
static struct page *kept[MAX_KEPT];
static unsigned long nr_kept;

static int leak(struct gfplab_workload_ctx *ctx) {
    struct page *page = alloc_pages(GFP_NOFS, 0);

    (void)ctx;
    if (!page)
        return -ENOMEM;
    spin_lock(&lock);
    if (nr_kept < MAX_KEPT)
        kept[nr_kept++] = page;
    spin_unlock(&lock);
    return 0;
}

static const struct gfplab_workload_op ops[] = {{.name = "leak", .weight = 1, .run = leak}};

GFPLAB_WORKLOAD(.name = "hog", .description = "keeps every page it allocates", .ops = ops,
                .nr_ops = 1);
