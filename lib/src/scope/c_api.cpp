// SPDX-License-Identifier: MIT
//
// The C face of the scope API (gfplab/linux/sched/mm.h): kernel-style C code reaches the
// task context through these, with the call site passed in by the header's macros.
#include <gfplab/linux/sched/mm.h>

// No exception may cross into C: the only one possible is std::bad_alloc from a scope stack
// that cannot grow, and a kernel save cannot fail either, so noexcept turns it into a
// terminate at the faulty site.
extern "C" unsigned int gfplab_scope_save(unsigned int flags, const char *file,
                                          unsigned int line) noexcept {
    return gfplab::scope_save(flags, file, line);
}

extern "C" void gfplab_scope_restore(unsigned int kind, unsigned int saved, const char *file,
                                     unsigned int line) noexcept {
    gfplab::scope_restore(kind, saved, file, line);
}

extern "C" gfp_t gfplab_current_gfp_context(gfp_t flags) noexcept {
    return gfplab::current_gfp_context(flags);
}

extern "C" unsigned int gfplab_current_task_flags(void) noexcept {
    return gfplab::current_task_flags();
}

extern "C" unsigned long long gfplab_scope_mismatch_count(void) noexcept {
    return gfplab::scope_mismatch_count();
}

extern "C" unsigned int gfplab_scope_depth(void) noexcept {
    return static_cast<unsigned int>(gfplab::current_scope_depth());
}
