/* SPDX-License-Identifier: MIT */
/* A C program outside the tree, built against an installed gfplab with pkg-config. */
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/mm.h>
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
    /* No setup call: the default System boots on first use. */
    struct page *p = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
    if (!p || ((const char *)page_address(p))[PAGE_SIZE + 5] != 0) {
        fprintf(stderr, "consumer.c: alloc_pages failed\n");
        return 1;
    }
    __free_pages(p, 1);
    puts("consumer.c ok");
    return 0;
}
