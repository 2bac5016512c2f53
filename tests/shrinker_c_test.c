/* SPDX-License-Identifier: MIT */
/*
 * A shrinker from C, registered as kernel code does since 6.7 (shrinker_alloc, set the
 * callbacks, shrinker_register, shrinker_free), on the default System booted from the
 * environment; gfplab_drop_slab() plays "echo 2 > /proc/sys/vm/drop_caches".
 */
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/shrinker.h>

#include <stdio.h>
#include <string.h>

#include "support/check.h"

struct my_cache {
    unsigned long objects;
    unsigned long scans;
    unsigned long counts;
    gfp_t last_mask;
};

static unsigned long my_count(struct shrinker *s, struct shrink_control *sc) {
    struct my_cache *c = s->private_data;
    c->counts++;
    c->last_mask = sc->gfp_mask;
    return c->objects ? c->objects : SHRINK_EMPTY;
}

static unsigned long my_scan(struct shrinker *s, struct shrink_control *sc) {
    struct my_cache *c = s->private_data;
    unsigned long n = sc->nr_to_scan < c->objects ? sc->nr_to_scan : c->objects;
    c->scans++;
    if (!(sc->gfp_mask & __GFP_FS))
        return SHRINK_STOP; /* like super_cache_scan */
    c->objects -= n;
    return n;
}

int main(void) {
    struct my_cache cache = {.objects = 500};
    struct shrinker *s = shrinker_alloc(0, "my-cache-%d", 7);
    CHECK(s != NULL);
    if (!s)
        return 1;
    CHECK(strcmp(s->name, "my-cache-7") == 0);
    CHECK(s->seeks == DEFAULT_SEEKS);
    CHECK(s->flags & SHRINKER_ALLOCATED);
    s->count_objects = my_count;
    s->scan_objects = my_scan;
    s->private_data = &cache;
    shrinker_register(s);
    CHECK(s->flags & SHRINKER_REGISTERED);

    /* Priority 0 asks for 2 * 500, more than the cache holds: it empties in one pass. */
    unsigned long freed = gfplab_drop_slab();
    CHECK(freed == 500);
    CHECK(cache.objects == 0);
    CHECK(cache.scans > 0);
    CHECK(cache.last_mask == GFP_KERNEL);

    cache.objects = 100;
    shrinker_free(s);
    unsigned long counts = cache.counts;
    unsigned long scans = cache.scans;
    CHECK(gfplab_drop_slab() == 0);
    CHECK(cache.counts == counts && cache.scans == scans); /* never again after free */
    CHECK(cache.objects == 100);
    shrinker_free(NULL);

    /* A shrinker not from shrinker_alloc() is refused with a report (on stderr). */
    static struct shrinker embedded;
    embedded.count_objects = my_count;
    embedded.scan_objects = my_scan;
    shrinker_register(&embedded);
    CHECK(!(embedded.flags & SHRINKER_REGISTERED));

    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
