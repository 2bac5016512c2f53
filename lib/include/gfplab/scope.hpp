// SPDX-License-Identifier: MIT
//
// gfplab/scope.hpp - the task context: per-thread task flags and the memalloc scope API.
//
// memalloc_nofs_save() and friends set a task flag that current_gfp_context() applies to
// every allocation the thread makes until the matching restore, so that code deep below a
// filesystem lock cannot recurse into filesystem reclaim. Semantics are Linux 6.12's
// (include/linux/sched/mm.h): save(F) sets F and returns the part of F that was not already
// set; restore(saved) clears exactly that part, which gives correct LIFO nesting.
//
// What the kernel cannot do and we do: every save is remembered on a per-thread scope stack
// with its source location, so a restore that does not match the innermost save is detected
// and reported (with both sites). The flags still change exactly as the kernel would change
// them, so the damage of such a bug is what a caller observes.
#pragma once

#include <gfplab/linux/gfp_types.h>
#include <gfplab/linux/sched.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gfplab {

// One save that has not been restored yet.
struct scope_frame {
    unsigned int requested; // the PF_* flags the save asked for
    unsigned int saved;     // what the save returned: the part that was newly set
    const char *file;
    unsigned int line;
};

// A restore that did not match the innermost save.
struct scope_mismatch {
    enum class what {
        out_of_order,   // it matches a save deeper in the stack
        value_mismatch, // it names the innermost save's kind with a different value
        without_save,   // no save on this thread matches it
    };
    what kind;
    scope_frame innermost; // the save a correct restore would have matched (if any)
    bool has_innermost;
    scope_frame restore; // the offending restore: requested kind (0 = any), value, site
    std::string message; // one line, names both sites and the scope stack
};

using scope_report_fn = void (*)(const scope_mismatch &report, void *ctx);

// --- task flags ---------------------------------------------------------------------------

// current->flags of the calling thread (the PF_* bits the model uses).
unsigned int current_task_flags() noexcept;

// Sets or clears task flags directly, bypassing the scope stack; for kswapd (PF_KSWAPD |
// PF_MEMALLOC for its whole life) and tests. Not a scope: nothing is checked.
void current_task_flags_set(unsigned int flags) noexcept;
void current_task_flags_clear(unsigned int flags) noexcept;

// The mask an allocation of `flags` really uses on this thread (6.12): NOIO clears IO and
// FS, else NOFS clears FS; PIN clears MOVABLE. Nothing is ever added.
gfp_t current_gfp_context(gfp_t flags) noexcept;

// The same computation for a given set of task flags.
constexpr gfp_t gfp_context_for(unsigned int pflags, gfp_t flags) noexcept {
    if (pflags & (PF_MEMALLOC_NOIO | PF_MEMALLOC_NOFS | PF_MEMALLOC_PIN)) {
        if (pflags & PF_MEMALLOC_NOIO)
            flags &= ~(__GFP_IO | __GFP_FS);
        else if (pflags & PF_MEMALLOC_NOFS)
            flags &= ~__GFP_FS;
        if (pflags & PF_MEMALLOC_PIN)
            flags &= ~__GFP_MOVABLE;
    }
    return flags;
}

// --- save / restore ---------------------------------------------------------------------

// The caller's file and line, taken as a default argument. std::source_location would do,
// but clang 14 cannot compile libstdc++ 12's <source_location>; both compilers have these
// builtins.
struct srcloc {
    const char *file = "?";
    unsigned int line = 0;
    static constexpr srcloc current(const char *f = __builtin_FILE(),
                                    unsigned int l = __builtin_LINE()) noexcept {
        return srcloc{f, l};
    }
    constexpr const char *file_name() const noexcept { return file; }
    constexpr unsigned int line_no() const noexcept { return line; }
};

unsigned int memalloc_flags_save(unsigned int flags, srcloc at = srcloc::current());
void memalloc_flags_restore(unsigned int saved, srcloc at = srcloc::current());

unsigned int memalloc_nofs_save(srcloc at = srcloc::current());
void memalloc_nofs_restore(unsigned int saved, srcloc at = srcloc::current());
unsigned int memalloc_noio_save(srcloc at = srcloc::current());
void memalloc_noio_restore(unsigned int saved, srcloc at = srcloc::current());
unsigned int memalloc_noreclaim_save(srcloc at = srcloc::current());
void memalloc_noreclaim_restore(unsigned int saved, srcloc at = srcloc::current());
unsigned int memalloc_pin_save(srcloc at = srcloc::current());
void memalloc_pin_restore(unsigned int saved, srcloc at = srcloc::current());

// The general forms behind the ones above, for the C face: `kind` is the PF_* flag the
// restore belongs to, or 0 when the caller does not say (memalloc_flags_restore).
unsigned int scope_save(unsigned int flags, const char *file, unsigned int line);
void scope_restore(unsigned int kind, unsigned int saved, const char *file, unsigned int line);

// --- RAII guards --------------------------------------------------------------------------

template <unsigned int Flags>
class memalloc_scope_guard {
  public:
    explicit memalloc_scope_guard(srcloc at = srcloc::current())
        : saved_(scope_save(Flags, at.file_name(), at.line_no())), at_(at) {}
    ~memalloc_scope_guard() { scope_restore(Flags, saved_, at_.file_name(), at_.line_no()); }
    memalloc_scope_guard(const memalloc_scope_guard &) = delete;
    memalloc_scope_guard &operator=(const memalloc_scope_guard &) = delete;

  private:
    unsigned int saved_;
    srcloc at_;
};

using nofs_scope = memalloc_scope_guard<PF_MEMALLOC_NOFS>;
using noio_scope = memalloc_scope_guard<PF_MEMALLOC_NOIO>;
using noreclaim_scope = memalloc_scope_guard<PF_MEMALLOC>;
using pin_scope = memalloc_scope_guard<PF_MEMALLOC_PIN>;

// --- introspection and reports --------------------------------------------------------------

// This thread's open saves, outermost first.
std::vector<scope_frame> current_scope_stack();
std::size_t current_scope_depth() noexcept;
// "nofs@fs/inode.c:120 > noio@block/dev.c:40", or "-" when empty.
std::string format_scope_stack();
// "NOFS", "NOIO", "MEMALLOC", "PIN", joined with '|' for several.
std::string task_flags_name(unsigned int pflags);

// Where this thread's mismatch reports go. nullptr restores the default, which prints the
// report on stderr. Returns the previous handler (nullptr for the default, so it can be put
// back as it was).
scope_report_fn set_scope_report_handler(scope_report_fn fn, void *ctx = nullptr) noexcept;
// Mismatched restores seen on this thread.
std::uint64_t scope_mismatch_count() noexcept;

// Forgets this thread's scope stack and clears its scope flags (a worker between runs).
void reset_task_scope() noexcept;

} // namespace gfplab
