// SPDX-License-Identifier: MIT
//
// fuzz_scopes: random nestings of every scope kind through every face of the scope API (the
// named C++ calls, the C face, the general memalloc_flags_save, RAII guards nested by
// recursion), interleaved with allocations, shrinker passes and a declared lock.
//
// Input: a byte string; each op is two bytes, an op byte and an argument byte.
// Properties checked after every op:
//  - a save sets exactly the flags it asked for on top of what was there; a restore brings
//    back exactly the flags its save found (I8, "restore brings back exactly");
//  - a shrinker never sees a mask the open scopes forbid (I8, checked by the shrinker
//    itself and by the registry);
//  - an allocation that may enter FS reclaim while holding the lock the shrinker declares is
//    counted as a recursion hazard, and no other allocation is (I9);
//  - an allocation's page comes from a zone the scoped mask allows (PIN drops MOVABLE, I5);
//  - a planted out-of-order restore is reported exactly once and changes the flags as the
//    kernel would (it clears what that save set), nothing else is reported.
#include "fuzz_shrinker.hpp"
#include "fuzz_target.hpp"

#include <alloc_check.hpp>

#include <gfplab/linux/sched/mm.h>
#include <gfplab/lockdep.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/system.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace gfplab;

const unsigned kinds[] = {PF_MEMALLOC_NOFS, PF_MEMALLOC_NOIO, PF_MEMALLOC, PF_MEMALLOC_PIN};
const gfp_t masks[] = {GFP_KERNEL,           GFP_NOFS,   GFP_NOIO,
                       GFP_HIGHUSER_MOVABLE, GFP_ATOMIC, GFP_KERNEL | __GFP_MOVABLE};
constexpr unsigned max_guard_depth = 16;

enum class face { named, c_face, flags, guard };

struct open_scope {
    face how;
    unsigned kind;   // the PF_* flags saved
    unsigned saved;  // what the save returned
    unsigned before; // the flags the save found
};

System &shared_system() {
    // One System for the process: scopes are per thread, and building a System per input
    // would cost more than the input.
    static System *s = [] {
        system_config c;
        c.memory_bytes = 16ull << 20;
        c.nodes = 1;
        c.cpus = 1;
        c.dma_limit = 4ull << 20;
        c.dma32_limit = 8ull << 20;
        c.pcp = pcp_mode::virtual_cpus;
        c.on_report = report_action::count;
        c.warn_alloc = false;
        c.kswapd = false;
        return new System(c);
    }();
    return *s;
}

lock_class &declared_class() {
    static lock_class *c = new lock_class("fuzz_scopes-inode->i_rwsem");
    return *c;
}

void count_mismatch(const scope_mismatch &, void *ctx) {
    ++*static_cast<unsigned *>(ctx);
}

ref::alloc_checker &checker() {
    static ref::alloc_checker c(shared_system(), true);
    return c;
}

class run {
  public:
    run(const std::uint8_t *data, std::size_t size)
        : sys_(shared_system()), p_(data), end_(data + size),
          shrinker_(sys_.shrinkers(), "fuzz_scopes", 64, &declared_class()) {
        sys_.set_report_sink([this](const violation &v) { reports_.push_back(v); });
        set_scope_report_handler(count_mismatch, &mismatches_);
        lockdep_reset();
        set_lockdep_report_handler([](const lockdep_report &) {});
    }
    ~run() {
        if (held_)
            lock_.unlock();
        reset_task_scope();
        set_scope_report_handler(nullptr);
        set_lockdep_report_handler({});
        sys_.set_report_sink({});
    }
    run(const run &) = delete;
    run &operator=(const run &) = delete;

    void go() {
        level(0);
        check_clean("at the end");
    }

  private:
    [[noreturn]] void fail(int inv, const std::string &what) {
        std::fprintf(stderr, "fuzz_scopes: op %zu: I%d: %s (flags %s, stack %s)\n", op_index_, inv,
                     what.c_str(), task_flags_name(current_task_flags()).c_str(),
                     format_scope_stack().c_str());
        for (const auto &v : reports_)
            std::fprintf(stderr, "  report: %s\n", format_violation(v).c_str());
        std::abort();
    }

    bool next(std::uint8_t &op, std::uint8_t &arg) {
        if (end_ - p_ < 2)
            return false;
        op = p_[0];
        arg = p_[1];
        p_ += 2;
        op_index_++;
        return true;
    }

    // Runs ops until the input ends or, inside a guard, a close op; restores what this level
    // opened before returning so that the guard above closes over its own state.
    void level(unsigned depth) {
        std::vector<open_scope> mine;
        std::uint8_t op, arg;
        while (next(op, arg)) {
            switch (op % 10) {
            case 0:
            case 1:
            case 2:
                save(mine, face(op % 10), arg);
                break;
            case 3:
                if (!mine.empty())
                    restore(mine);
                break;
            case 4:
                if (depth < max_guard_depth)
                    guard(depth, arg);
                break;
            case 5:
                if (depth > 0) {
                    close_all(mine);
                    return;
                }
                break;
            case 6:
                alloc(arg);
                break;
            case 7:
                shrink(arg);
                break;
            case 8:
                if (held_)
                    lock_.unlock();
                else
                    lock_.lock();
                held_ = !held_;
                break;
            case 9:
                if (depth == 0 && mine.size() >= 2)
                    planted_out_of_order(mine, arg);
                break;
            }
            check_clean("after the op");
        }
        close_all(mine);
    }

    void close_all(std::vector<open_scope> &mine) {
        while (!mine.empty())
            restore(mine);
    }

    void save(std::vector<open_scope> &mine, face how, std::uint8_t arg) {
        unsigned kind = kinds[arg % 4];
        const unsigned before = current_task_flags();
        unsigned saved = 0;
        switch (how) {
        case face::named:
            saved = arg % 4 == 0   ? memalloc_nofs_save()
                    : arg % 4 == 1 ? memalloc_noio_save()
                    : arg % 4 == 2 ? memalloc_noreclaim_save()
                                   : memalloc_pin_save();
            break;
        case face::c_face:
            saved = gfplab_scope_save(kind, __FILE__, __LINE__);
            break;
        case face::flags:
            // Any combination at once, as memalloc_flags_save() allows.
            kind = 0;
            for (unsigned i = 0; i < 4; i++)
                if (arg >> (4 + i) & 1)
                    kind |= kinds[i];
            saved = memalloc_flags_save(kind);
            break;
        case face::guard:
            break;
        }
        if (current_task_flags() != (before | kind))
            fail(8, fmt::format("save of {} from {} left {}", task_flags_name(kind),
                                task_flags_name(before), task_flags_name(current_task_flags())));
        if (saved != (kind & ~before))
            fail(8, fmt::format("save of {} from {} returned {:#x}", task_flags_name(kind),
                                task_flags_name(before), saved));
        mine.push_back({how, kind, saved, before});
    }

    void call_restore(const open_scope &s) {
        switch (s.how) {
        case face::named:
            if (s.kind == PF_MEMALLOC_NOFS)
                memalloc_nofs_restore(s.saved);
            else if (s.kind == PF_MEMALLOC_NOIO)
                memalloc_noio_restore(s.saved);
            else if (s.kind == PF_MEMALLOC)
                memalloc_noreclaim_restore(s.saved);
            else
                memalloc_pin_restore(s.saved);
            break;
        case face::c_face:
            gfplab_scope_restore(s.kind, s.saved, __FILE__, __LINE__);
            break;
        case face::flags:
        case face::guard:
            memalloc_flags_restore(s.saved);
            break;
        }
    }

    void restore(std::vector<open_scope> &mine) {
        const open_scope s = mine.back();
        mine.pop_back();
        call_restore(s);
        if (current_task_flags() != s.before)
            fail(8, fmt::format("restore of {} left {}, its save found {}", task_flags_name(s.kind),
                                task_flags_name(current_task_flags()), task_flags_name(s.before)));
    }

    template <unsigned Kind>
    void guarded(unsigned depth) {
        const unsigned before = current_task_flags();
        {
            memalloc_scope_guard<Kind> g;
            if (current_task_flags() != (before | Kind))
                fail(8, "a guard did not set its flag");
            level(depth + 1);
        }
        if (current_task_flags() != before)
            fail(8, fmt::format("a {} guard's end left {}, it found {}", task_flags_name(Kind),
                                task_flags_name(current_task_flags()), task_flags_name(before)));
    }

    void guard(unsigned depth, std::uint8_t arg) {
        switch (arg % 4) {
        case 0:
            return guarded<PF_MEMALLOC_NOFS>(depth);
        case 1:
            return guarded<PF_MEMALLOC_NOIO>(depth);
        case 2:
            return guarded<PF_MEMALLOC>(depth);
        default:
            return guarded<PF_MEMALLOC_PIN>(depth);
        }
    }

    void alloc(std::uint8_t arg) {
        gfp_t gfp = masks[arg % std::size(masks)];
        if (gfp & __GFP_DIRECT_RECLAIM)
            gfp |= __GFP_NORETRY; // one thread: nothing else would ever free memory
        const gfp_t eff = current_gfp_context(gfp);
        const bool hazard = held_ && (eff & __GFP_DIRECT_RECLAIM) && (eff & __GFP_FS) &&
                            !(current_task_flags() & PF_MEMALLOC);
        const std::uint64_t hazards = sys_.stats().recursion_hazards.load();
        page *p = sys_.alloc_pages(gfp, 0);
        const std::uint64_t counted = sys_.stats().recursion_hazards.load() - hazards;
        if (counted != (hazard ? 1u : 0u))
            fail(9, fmt::format("allocation {} (scoped {}) holding the lock: {}, counted {} "
                                "recursion hazards",
                                gfp_describe(gfp), gfp_describe(eff), held_, counted));
        hazard_ok_ = hazard;
        if (!p)
            return;
        // Placement by the reference oracle: its own zone rules, the task's flags as this
        // run has just checked them against its own record.
        for (const ref::finding &f :
             checker().check_placement({gfp, 0, current_task_flags(), -1}, p))
            fail(f.inv, fmt::format("{} (scoped {}): {}: {}", gfp_describe(gfp), gfp_describe(eff),
                                    f.what, f.message));
        sys_.free_pages(p, 0);
    }

    void shrink(std::uint8_t arg) {
        shrinker_.add(64);
        sys_.shrinkers().shrink_slab(current_gfp_context(GFP_KERNEL), 0, arg % 13);
        if (!shrinker_.context_error().empty())
            fail(8, shrinker_.context_error());
    }

    void planted_out_of_order(std::vector<open_scope> &mine, std::uint8_t arg) {
        const unsigned flags_before = current_task_flags();
        const std::size_t j = arg % (mine.size() - 1); // never the innermost
        if (mine[j].saved == mine.back().saved)
            return; // it would rightly pass for the innermost's restore
        const unsigned mismatches = mismatches_;
        const std::uint64_t counted = scope_mismatch_count();
        call_restore(mine[j]);
        if (mismatches_ - mismatches != 1 || scope_mismatch_count() - counted != 1)
            fail(8, fmt::format("an out-of-order restore was reported {} time(s)",
                                mismatches_ - mismatches));
        if (current_task_flags() != (flags_before & ~mine[j].saved))
            fail(8, fmt::format("an out-of-order restore left {}, the kernel would leave {}",
                                task_flags_name(current_task_flags()),
                                task_flags_name(flags_before & ~mine[j].saved)));
        // The stack is now knowingly wrong: start this level again from nothing.
        reset_task_scope();
        mismatches_ = 0;
        mine.clear();
    }

    void check_clean(const char *when) {
        if (mismatches_)
            fail(8, fmt::format("{}: {} unplanned scope mismatch report(s)", when, mismatches_));
        for (const auto &v : reports_)
            if (!(id(v.inv) == 9 && hazard_ok_))
                fail(id(v.inv),
                     fmt::format("{}: unexpected report: {}", when, format_violation(v)));
        reports_.clear();
        hazard_ok_ = false;
    }

    System &sys_;
    const std::uint8_t *p_;
    const std::uint8_t *end_;
    std::size_t op_index_ = 0;
    fuzz::fuzz_shrinker shrinker_;
    Lock lock_{declared_class()};
    bool held_ = false;
    bool hazard_ok_ = false; // the last op's I9 report was expected
    unsigned mismatches_ = 0;
    std::vector<violation> reports_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    run r(data, size);
    r.go();
    return 0;
}
