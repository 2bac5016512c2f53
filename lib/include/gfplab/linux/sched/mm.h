/* SPDX-License-Identifier: MIT */
/*
 * gfplab/linux/sched/mm.h - the memalloc scope API in the kernel's spelling, for C and C++.
 *
 * In C the save/restore calls are macros so that the library learns the call site and can
 * name it when a restore does not match the innermost save. In C++ they are the functions
 * of gfplab/scope.hpp, which take the call site from a default argument (gfplab::srcloc).
 */
#ifndef GFPLAB_LINUX_SCHED_MM_H
#define GFPLAB_LINUX_SCHED_MM_H

#include <gfplab/linux/compiler.h>
#include <gfplab/linux/gfp_types.h>
#include <gfplab/linux/sched.h>

/*
 * The library's C entry points. Declared for C++ too, so that their definitions are checked
 * against this header; to C++ they promise not to throw, since nothing may unwind into C.
 */
#ifdef __cplusplus
#define GFPLAB_SCOPE_NOEXCEPT noexcept
#else
#define GFPLAB_SCOPE_NOEXCEPT
#endif

GFPLAB_EXTERN_C_BEGIN
unsigned int gfplab_scope_save(unsigned int flags, const char *file,
                               unsigned int line) GFPLAB_SCOPE_NOEXCEPT;
void gfplab_scope_restore(unsigned int kind, unsigned int saved, const char *file,
                          unsigned int line) GFPLAB_SCOPE_NOEXCEPT;
gfp_t gfplab_current_gfp_context(gfp_t flags) GFPLAB_SCOPE_NOEXCEPT;
unsigned int gfplab_current_task_flags(void) GFPLAB_SCOPE_NOEXCEPT;
/* Restores on this thread that did not match the innermost save (see gfplab/scope.hpp). */
unsigned long long gfplab_scope_mismatch_count(void) GFPLAB_SCOPE_NOEXCEPT;
/* How many saves are open on the calling thread. */
unsigned int gfplab_scope_depth(void) GFPLAB_SCOPE_NOEXCEPT;
GFPLAB_EXTERN_C_END

#ifdef __cplusplus
#include <gfplab/scope.hpp>

using gfplab::current_gfp_context;
using gfplab::memalloc_flags_restore;
using gfplab::memalloc_flags_save;
using gfplab::memalloc_nofs_restore;
using gfplab::memalloc_nofs_save;
using gfplab::memalloc_noio_restore;
using gfplab::memalloc_noio_save;
using gfplab::memalloc_noreclaim_restore;
using gfplab::memalloc_noreclaim_save;
using gfplab::memalloc_pin_restore;
using gfplab::memalloc_pin_save;

#else

#define memalloc_flags_save(f)        gfplab_scope_save((f), __FILE__, __LINE__)
#define memalloc_flags_restore(s)     gfplab_scope_restore(0, (s), __FILE__, __LINE__)
#define memalloc_nofs_save()          gfplab_scope_save(PF_MEMALLOC_NOFS, __FILE__, __LINE__)
#define memalloc_nofs_restore(s)      gfplab_scope_restore(PF_MEMALLOC_NOFS, (s), __FILE__, __LINE__)
#define memalloc_noio_save()          gfplab_scope_save(PF_MEMALLOC_NOIO, __FILE__, __LINE__)
#define memalloc_noio_restore(s)      gfplab_scope_restore(PF_MEMALLOC_NOIO, (s), __FILE__, __LINE__)
#define memalloc_noreclaim_save()     gfplab_scope_save(PF_MEMALLOC, __FILE__, __LINE__)
#define memalloc_noreclaim_restore(s) gfplab_scope_restore(PF_MEMALLOC, (s), __FILE__, __LINE__)
#define memalloc_pin_save()           gfplab_scope_save(PF_MEMALLOC_PIN, __FILE__, __LINE__)
#define memalloc_pin_restore(s)       gfplab_scope_restore(PF_MEMALLOC_PIN, (s), __FILE__, __LINE__)
#define current_gfp_context(f)        gfplab_current_gfp_context(f)

#endif

#endif /* GFPLAB_LINUX_SCHED_MM_H */
