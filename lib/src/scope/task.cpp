// SPDX-License-Identifier: MIT
//
// The task context of the calling thread: current->flags, the memalloc scope stack that the
// kernel does not keep and we do, and the reports of restores that break LIFO order.
#include <gfplab/scope.hpp>

#include "task_flags.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <utility>

namespace gfplab {

__thread unsigned int detail::t_task_flags = 0;

namespace {

// The rest of the per-thread state is off the fast path.
thread_local scope_report_fn report_fn = nullptr;
thread_local void *report_ctx = nullptr;
thread_local std::uint64_t mismatches = 0;

// Open saves, outermost first. Kept apart from the flags word so that it stays
// trivially constructible.
thread_local std::vector<scope_frame> scope_stack;

struct flag_name {
    unsigned int flag;
    const char *task_name;  // task_flags_name(): the PF_* suffix
    const char *scope_name; // format_scope_stack(): the scope API's name (memalloc_<x>_save)
};

// The order task_flags_name() prints them in.
constexpr flag_name flag_names[] = {
    {PF_MEMALLOC_NOFS, "NOFS", "nofs"},     {PF_MEMALLOC_NOIO, "NOIO", "noio"},
    {PF_MEMALLOC, "MEMALLOC", "noreclaim"}, {PF_MEMALLOC_PIN, "PIN", "pin"},
    {PF_KSWAPD, "KSWAPD", "kswapd"},
};

std::string join_flag_names(unsigned int pflags, bool scope_names) {
    if (pflags == 0)
        return "0";
    std::string out;
    for (const auto &n : flag_names) {
        if (!(pflags & n.flag))
            continue;
        if (!out.empty())
            out += '|';
        out += scope_names ? n.scope_name : n.task_name;
        pflags &= ~n.flag;
    }
    // Bits the model does not name are still shown, as the kernel's printers do.
    if (pflags) {
        if (!out.empty())
            out += '|';
        out += fmt::format("{:#x}", pflags);
    }
    return out;
}

const char *base_name(const char *file) noexcept {
    if (!file)
        return "?";
    const char *slash = std::strrchr(file, '/');
    return slash ? slash + 1 : file;
}

// The scope API function a single-flag kind belongs to, or nullptr.
const char *api_name(unsigned int kind) noexcept {
    switch (kind) {
    case PF_MEMALLOC_NOFS:
        return "nofs";
    case PF_MEMALLOC_NOIO:
        return "noio";
    case PF_MEMALLOC:
        return "noreclaim";
    case PF_MEMALLOC_PIN:
        return "pin";
    default:
        return nullptr;
    }
}

// "memalloc_nofs_save() = NOFS at a.c:10": the save as the caller wrote it, and what it
// returned (0 when the flag was already set).
std::string describe_save(const scope_frame &f) {
    const char *api = api_name(f.requested);
    std::string call = api ? fmt::format("memalloc_{}_save()", api)
                           : fmt::format("memalloc_flags_save({})", task_flags_name(f.requested));
    return fmt::format("{} = {} at {}:{}", call, task_flags_name(f.saved), base_name(f.file),
                       f.line);
}

// "memalloc_nofs_restore(NOFS) at a.c:20"; kind 0 is memalloc_flags_restore().
std::string describe_restore(const scope_frame &r) {
    const char *api = api_name(r.requested);
    std::string where = fmt::format("at {}:{}", base_name(r.file), r.line);
    if (api)
        return fmt::format("memalloc_{}_restore({}) {}", api, task_flags_name(r.saved), where);
    if (r.requested == 0)
        return fmt::format("memalloc_flags_restore({}) {}", task_flags_name(r.saved), where);
    return fmt::format("restore({}) of a {} scope {}", task_flags_name(r.saved),
                       task_flags_name(r.requested), where);
}

std::string format_frames(const std::vector<scope_frame> &frames) {
    if (frames.empty())
        return "-";
    std::string out;
    for (const auto &f : frames) {
        if (!out.empty())
            out += " > ";
        out +=
            fmt::format("{}@{}:{}", join_flag_names(f.requested, true), base_name(f.file), f.line);
    }
    return out;
}

void default_report(const scope_mismatch &report, void *) {
    std::fprintf(stderr, "gfplab: %s\n", report.message.c_str());
}

// A restore of `kind` (0 = any) with value `saved` against a frame: the kernel needs the
// value the matching save returned, and a typed restore must close a save of its own kind.
bool restore_matches(const scope_frame &f, unsigned int kind, unsigned int saved) noexcept {
    return (kind == 0 || f.requested == kind) && f.saved == saved;
}

// The slow path of scope_restore(): classify, repair the stack, apply the kernel's effect,
// report. `restore` carries the kind in `requested` and the value in `saved`.
void mismatched_restore(const scope_frame &restore) {
    auto &stack = scope_stack;
    scope_mismatch report{};
    report.restore = restore;
    report.has_innermost = !stack.empty();
    if (report.has_innermost)
        report.innermost = stack.back();
    // The message shows the stack as the faulty restore found it.
    const std::string stack_before = format_frames(stack);

    std::string detail;
    std::size_t deeper = stack.size();
    // Search inward-out below the innermost frame: the nearest deeper save that this restore
    // belongs to.
    for (std::size_t i = stack.size(); i-- > 1;) {
        if (restore_matches(stack[i - 1], restore.requested, restore.saved)) {
            deeper = i - 1;
            break;
        }
    }
    if (deeper < stack.size()) {
        report.kind = scope_mismatch::what::out_of_order;
        detail = fmt::format("out-of-order restore: {} closes {} while the innermost open save is "
                             "{}",
                             describe_restore(restore), describe_save(stack[deeper]),
                             describe_save(report.innermost));
        // That save is closed now; the inner ones stay open so that their own restores
        // still match.
        stack.erase(stack.begin() + static_cast<std::ptrdiff_t>(deeper));
    } else if (report.has_innermost &&
               (restore.requested == 0 || report.innermost.requested == restore.requested)) {
        // The restore belongs to the innermost save (same kind, or kind unknown) but passes
        // another value: it closes that scope, with the wrong effect.
        report.kind = scope_mismatch::what::value_mismatch;
        detail = fmt::format("restore with the wrong value: {} but the innermost save is {}",
                             describe_restore(restore), describe_save(report.innermost));
        stack.pop_back();
    } else {
        report.kind = scope_mismatch::what::without_save;
        detail = fmt::format("restore without a save: {} matches no open save; innermost save: "
                             "{}",
                             describe_restore(restore),
                             report.has_innermost ? describe_save(report.innermost) : "none");
    }

    // Whatever the bug, the flags change as the kernel's memalloc_flags_restore() changes
    // them, so that callers observe the damage the bug does in a real kernel.
    detail::t_task_flags &= ~restore.saved;

    report.message = fmt::format("{}; task flags now {}; scope stack: {}", detail,
                                 task_flags_name(detail::t_task_flags), stack_before);
    ++mismatches;
    (report_fn ? report_fn : default_report)(report, report_ctx);
}

} // namespace

// --- task flags ---------------------------------------------------------------------------

unsigned int current_task_flags() noexcept {
    return detail::t_task_flags;
}

void current_task_flags_set(unsigned int flags) noexcept {
    detail::t_task_flags |= flags;
}

void current_task_flags_clear(unsigned int flags) noexcept {
    detail::t_task_flags &= ~flags;
}

gfp_t current_gfp_context(gfp_t flags) noexcept {
    // One load of the flags word; the rule itself is 6.12's current_gfp_context().
    return gfp_context_for(detail::t_task_flags, flags);
}

// --- save / restore ---------------------------------------------------------------------

unsigned int scope_save(unsigned int flags, const char *file, unsigned int line) {
    // 6.12 memalloc_flags_save(): the caller gets back only the flags it newly set, so that
    // a nested save of a flag that is already set restores to "still set".
    const unsigned int newly_set = ~detail::t_task_flags & flags;
    // Push first: if the stack cannot grow, the flags are untouched.
    scope_stack.push_back(scope_frame{flags, newly_set, file, line});
    detail::t_task_flags |= flags;
    return newly_set;
}

void scope_restore(unsigned int kind, unsigned int saved, const char *file, unsigned int line) {
    auto &stack = scope_stack;
    if (!stack.empty() && restore_matches(stack.back(), kind, saved)) [[likely]] {
        stack.pop_back();
        // 6.12 memalloc_flags_restore(): clear exactly what the save set.
        detail::t_task_flags &= ~saved;
#ifdef GFPLAB_PLANTED_BUG_RESTORE_NOIO
        // Planted bug (fuzz builds only, fuzz/meson.build): closing a NOFS scope also drops
        // an outer NOIO scope's flag.
        if (kind == PF_MEMALLOC_NOFS)
            detail::t_task_flags &= ~PF_MEMALLOC_NOIO;
#endif
        return;
    }
    mismatched_restore(scope_frame{kind, saved, file, line});
}

unsigned int memalloc_flags_save(unsigned int flags, srcloc at) {
    return scope_save(flags, at.file_name(), at.line_no());
}
void memalloc_flags_restore(unsigned int saved, srcloc at) {
    // The kernel's general restore does not say which scope it closes.
    scope_restore(0, saved, at.file_name(), at.line_no());
}

unsigned int memalloc_nofs_save(srcloc at) {
    return scope_save(PF_MEMALLOC_NOFS, at.file_name(), at.line_no());
}
void memalloc_nofs_restore(unsigned int saved, srcloc at) {
    scope_restore(PF_MEMALLOC_NOFS, saved, at.file_name(), at.line_no());
}

unsigned int memalloc_noio_save(srcloc at) {
    return scope_save(PF_MEMALLOC_NOIO, at.file_name(), at.line_no());
}
void memalloc_noio_restore(unsigned int saved, srcloc at) {
    scope_restore(PF_MEMALLOC_NOIO, saved, at.file_name(), at.line_no());
}

unsigned int memalloc_noreclaim_save(srcloc at) {
    return scope_save(PF_MEMALLOC, at.file_name(), at.line_no());
}
void memalloc_noreclaim_restore(unsigned int saved, srcloc at) {
    scope_restore(PF_MEMALLOC, saved, at.file_name(), at.line_no());
}

unsigned int memalloc_pin_save(srcloc at) {
    return scope_save(PF_MEMALLOC_PIN, at.file_name(), at.line_no());
}
void memalloc_pin_restore(unsigned int saved, srcloc at) {
    scope_restore(PF_MEMALLOC_PIN, saved, at.file_name(), at.line_no());
}

// --- introspection and reports --------------------------------------------------------------

std::vector<scope_frame> current_scope_stack() {
    return scope_stack;
}

std::size_t current_scope_depth() noexcept {
    return scope_stack.size();
}

std::string format_scope_stack() {
    return format_frames(scope_stack);
}

std::string task_flags_name(unsigned int pflags) {
    return join_flag_names(pflags, false);
}

scope_report_fn set_scope_report_handler(scope_report_fn fn, void *ctx) noexcept {
    // nullptr stands for the default both ways, so a saved handler can always be put back.
    scope_report_fn previous = report_fn;
    report_fn = fn;
    report_ctx = fn ? ctx : nullptr;
    return previous;
}

std::uint64_t scope_mismatch_count() noexcept {
    return mismatches;
}

void reset_task_scope() noexcept {
    scope_stack.clear();
    detail::t_task_flags &= ~PF_MEMALLOC_SCOPE_MASK;
}

} // namespace gfplab
