/* SPDX-License-Identifier: MIT */
/* A C program outside the tree, built against an installed gfplab with pkg-config. */
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/sched/mm.h>

#include <stdio.h>

int main(void) {
    unsigned int nofs = memalloc_nofs_save();
    gfp_t inside = current_gfp_context(GFP_KERNEL);
    memalloc_nofs_restore(nofs);
    if (inside != GFP_NOFS || current_gfp_context(GFP_KERNEL) != GFP_KERNEL ||
        gfp_zone(GFP_DMA32) != ZONE_DMA32) {
        fprintf(stderr, "consumer.c: unexpected context %#x\n", inside);
        return 1;
    }
    puts("consumer.c ok");
    return 0;
}
