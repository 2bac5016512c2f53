/* SPDX-License-Identifier: MIT */
/*
 * The C face of the scope API, used as kernel-style C code uses it: the memalloc_* macros of
 * <gfplab/linux/sched/mm.h> with the masks of <gfplab/linux/gfp.h>.
 */
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/sched/mm.h>

#include <stdio.h>

#include "support/check.h"

int main(void) {
    unsigned int fs, io, nested, pin, nr, outer, inner;
    unsigned long long bad;

    CHECK(gfplab_current_task_flags() == 0);
    CHECK(current_gfp_context(GFP_KERNEL) == GFP_KERNEL);

    fs = memalloc_nofs_save();
    CHECK(fs == PF_MEMALLOC_NOFS);
    CHECK(current_gfp_context(GFP_KERNEL) == GFP_NOFS);

    /* NOIO inside NOFS: NOIO wins. */
    io = memalloc_noio_save();
    CHECK(current_gfp_context(GFP_KERNEL) == GFP_NOIO);

    /* A nested save of a set flag returns 0 and its restore keeps the flag. */
    nested = memalloc_nofs_save();
    CHECK(nested == 0);
    memalloc_nofs_restore(nested);
    CHECK(gfplab_current_task_flags() == (PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO));

    pin = memalloc_pin_save();
    CHECK(current_gfp_context(GFP_HIGHUSER_MOVABLE) ==
          (GFP_HIGHUSER_MOVABLE & ~(__GFP_IO | __GFP_FS | __GFP_MOVABLE)));
    nr = memalloc_noreclaim_save();
    CHECK(gfplab_scope_depth() == 4);
    memalloc_noreclaim_restore(nr);
    memalloc_pin_restore(pin);

    memalloc_noio_restore(io);
    CHECK(current_gfp_context(GFP_KERNEL) == GFP_NOFS);
    memalloc_nofs_restore(fs);
    CHECK(current_gfp_context(GFP_KERNEL) == GFP_KERNEL);
    CHECK(gfplab_current_task_flags() == 0);
    CHECK(gfplab_scope_mismatch_count() == 0);

    /* The general form. */
    outer = memalloc_flags_save(PF_MEMALLOC_NOIO);
    CHECK(current_gfp_context(GFP_KERNEL) == GFP_NOIO);
    memalloc_flags_restore(outer);
    CHECK(gfplab_current_task_flags() == 0);

    /* One out-of-order restore: counted, and the flags change as the kernel's would. */
    outer = memalloc_nofs_save();
    inner = memalloc_noio_save();
    fprintf(stderr, "scope_c_test: one mismatch report expected below\n");
    bad = gfplab_scope_mismatch_count();
    memalloc_nofs_restore(outer);
    CHECK(gfplab_scope_mismatch_count() == bad + 1);
    CHECK(gfplab_current_task_flags() == PF_MEMALLOC_NOIO);
    memalloc_noio_restore(inner);
    CHECK(gfplab_scope_mismatch_count() == bad + 1);
    CHECK(gfplab_current_task_flags() == 0);
    CHECK(gfplab_scope_depth() == 0);

    if (failures) {
        fprintf(stderr, "scope_c_test: %d check(s) failed\n", failures);
        return 1;
    }
    return 0;
}
