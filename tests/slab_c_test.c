/* SPDX-License-Identifier: MIT */
/*
 * The slab allocator's C face, used as kernel C code uses it on the default System: both
 * forms of kmem_cache_create() (6.12's _Generic dispatch), KMEM_CACHE(), the kmalloc family,
 * memory pools of slab objects, kmalloc buffers and pages, and vmalloc / kvmalloc.
 */
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/mempool.h>
#include <gfplab/linux/mm.h>
#include <gfplab/linux/slab.h>
#include <gfplab/linux/vmalloc.h>

#include <stdio.h>
#include <string.h>

#include "support/check.h"

struct inode_like {
    unsigned long ino;
    char name[40];
};

static int constructed;

static void inode_ctor(void *p) {
    struct inode_like *i = p;
    i->ino = 7;
    constructed++;
}

int main(void) {
    struct kmem_cache_args args = {.align = 16, .ctor = inode_ctor};
    struct kmem_cache *new_form = kmem_cache_create("inode_like", sizeof(struct inode_like), &args,
                                                    SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT);
    struct kmem_cache *old_form = kmem_cache_create("old_form", 100, 8, SLAB_RECLAIM_ACCOUNT, NULL);
    struct kmem_cache *no_args = kmem_cache_create("no_args", 24, NULL, 0);
    struct kmem_cache *macro = KMEM_CACHE(inode_like, SLAB_PANIC);
    struct inode_like *i;
    void *o, *p, *q;
    char *str;

    CHECK(new_form && old_form && no_args && macro);
    CHECK(kmem_cache_size(new_form) == sizeof(struct inode_like));

    i = kmem_cache_alloc(new_form, GFP_KERNEL);
    CHECK(i && i->ino == 7 && constructed > 0);
    CHECK(((unsigned long)i & 15) == 0);
    kmem_cache_free(new_form, i);

    o = kmem_cache_zalloc(old_form, GFP_NOFS);
    CHECK(o && ((unsigned char *)o)[99] == 0);
    kmem_cache_free(old_form, o);

    p = kmalloc(100, GFP_KERNEL);
    CHECK(p && ksize(p) == 128);
    q = krealloc(p, 3000, GFP_KERNEL);
    CHECK(q && ksize(q) == 4096);
    kfree(q);
    str = kstrdup("ext4_inode_cache", GFP_KERNEL);
    CHECK(str && strcmp(str, "ext4_inode_cache") == 0);
    kfree(str);
    str = kstrndup("dentry-cache", 6, GFP_KERNEL);
    CHECK(str && strcmp(str, "dentry") == 0);
    kfree(str);
    p = kcalloc(10, 10, GFP_KERNEL);
    CHECK(p && ((unsigned char *)p)[99] == 0);
    kfree(p);
    CHECK(kmalloc(0, GFP_KERNEL) == ZERO_SIZE_PTR);

    {
        mempool_t embedded;
        mempool_t *buffers = mempool_create_kmalloc_pool(2, 300);
        mempool_t *pages = mempool_create_page_pool(1, 2);
        void *b, *pg, *obj;
        CHECK(mempool_init_slab_pool(&embedded, 3, no_args) == 0);
        CHECK(mempool_initialized(&embedded) && embedded.curr_nr == 3);
        obj = mempool_alloc(&embedded, GFP_NOIO);
        CHECK(obj != NULL);
        mempool_free(obj, &embedded);
        mempool_exit(&embedded);
        CHECK(!mempool_initialized(&embedded));
        CHECK(buffers && buffers->curr_nr == 2 && pages && pages->curr_nr == 1);
        b = mempool_alloc(buffers, GFP_KERNEL);
        CHECK(b && ksize(b) == 512);
        mempool_free(b, buffers);
        pg = mempool_alloc(pages, GFP_NOFS);
        CHECK(pg != NULL);
        mempool_free(pg, pages);
        mempool_destroy(buffers);
        mempool_destroy(pages);
    }

    /* vmalloc and kvmalloc: a big table, written through and looked up page by page. */
    {
        unsigned char *v = vzalloc(300 * 1024);
        void *kv = kvmalloc(100 * 1024, GFP_KERNEL);
        void *small = kvzalloc(64, GFP_NOFS);
        CHECK(v && is_vmalloc_addr(v) && v[299 * 1024] == 0);
        v[5000] = 7;
        CHECK(vmalloc_to_page(v + 5000) != NULL);
        CHECK(((unsigned char *)page_address(vmalloc_to_page(v + 5000)))[5000 - 4096] == 7);
        CHECK(kv && small && !is_vmalloc_addr(small));
        kvfree(kv);
        kvfree(small);
        vfree(v);
        v = __vmalloc(64 * 1024, GFP_NOIO);
        CHECK(v != NULL);
        kvfree(v);
    }

    kmem_cache_destroy(new_form);
    kmem_cache_destroy(old_form);
    kmem_cache_destroy(no_args);
    kmem_cache_destroy(macro);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures != 0;
}
