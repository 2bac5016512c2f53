/* SPDX-License-Identifier: MIT */
/*
 * The kernel face from C: alloc_pages() and friends on the default System, which boots on
 * first use from the environment (this test runs with GFPLAB_MEMORY=64M and
 * GFPLAB_DMA32_LIMIT=32M so that every zone exists).
 */
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/mm.h>
#include <gfplab/linux/sched/mm.h>

#include <stdio.h>
#include <string.h>

#include "support/check.h"

int main(void) {
    struct page *p = alloc_pages(GFP_KERNEL, 2);
    CHECK(p != NULL);
    if (p) {
        char *a = page_address(p);
        memset(a, 0x5a, 4 * PAGE_SIZE);
        CHECK(virt_to_page(a + PAGE_SIZE) == pfn_to_page(page_to_pfn(p) + 1));
        CHECK(page_zonenum(p) == ZONE_NORMAL);
        CHECK(strcmp(zone_name(page_zone(p)), "Normal") == 0);
        CHECK(page_to_nid(p) == 0);
        __free_pages(p, 2);
    }

    struct page *d = alloc_page(GFP_KERNEL | __GFP_DMA);
    CHECK(d && page_zonenum(d) == ZONE_DMA && zone_idx(page_zone(d)) == ZONE_DMA);
    if (d)
        __free_page(d);

    unsigned long z = get_zeroed_page(GFP_KERNEL);
    CHECK(z != 0);
    for (unsigned long i = 0; z && i < PAGE_SIZE; i++)
        if (((const unsigned char *)z)[i] != 0) {
            CHECK(!"get_zeroed_page returned a dirty page");
            break;
        }
    free_page(z);

    /* Inside a NOIO scope an allocation still succeeds; the scope narrows the mask. */
    unsigned int noio = memalloc_noio_save();
    unsigned long f = __get_free_pages(GFP_KERNEL, 1);
    CHECK(f != 0);
    free_pages(f, 1);
    memalloc_noio_restore(noio);

    /* The any-context pair (6.16's names, and 6.15's try_alloc_pages()): zeroed blocks of
     * the per-CPU lists' orders, nothing larger. */
    struct page *n = alloc_pages_nolock(0, NUMA_NO_NODE, 1);
    CHECK(n != NULL);
    if (n) {
        const unsigned char *b = page_address(n);
        for (unsigned long i = 0; i < 2 * PAGE_SIZE; i++)
            if (b[i]) {
                CHECK(!"alloc_pages_nolock returned a dirty page");
                break;
            }
        free_pages_nolock(n, 1);
    }
    struct page *t = try_alloc_pages(NUMA_NO_NODE, 3);
    CHECK(t != NULL);
    if (t)
        free_pages_nolock(t, 3);
    CHECK(alloc_pages_nolock(0, NUMA_NO_NODE, 4) == NULL);

    /* An invalid mask is refused, not honoured. */
    CHECK(alloc_pages(GFP_KERNEL | __GFP_DMA | __GFP_DMA32, 0) == NULL);

    if (failures)
        fprintf(stderr, "%d checks failed\n", failures);
    else
        puts("kernel face from C: ok");
    return failures ? 1 : 0;
}
