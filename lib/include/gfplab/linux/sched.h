/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/sched.h - the task flags the page allocator reads (Linux 6.12 values).
 * In the model every thread is a task; its flags live in thread-local storage.
 */
#ifndef GFPLAB_LINUX_SCHED_H
#define GFPLAB_LINUX_SCHED_H

#define PF_MEMALLOC      0x00000800u /* reclaim context: may use reserves, never reclaims */
#define PF_KSWAPD        0x00020000u /* the background reclaim thread */
#define PF_MEMALLOC_NOFS 0x00040000u /* every allocation acts as if __GFP_FS were clear */
#define PF_MEMALLOC_NOIO 0x00080000u /* ... as if __GFP_IO and __GFP_FS were clear */
#define PF_MEMALLOC_PIN  0x10000000u /* ... as if __GFP_MOVABLE were clear (long-term pins) */

/* The flags the scope API may save and restore. */
#define PF_MEMALLOC_SCOPE_MASK (PF_MEMALLOC | PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO | PF_MEMALLOC_PIN)

#endif /* GFPLAB_LINUX_SCHED_H */
