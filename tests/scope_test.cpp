// SPDX-License-Identifier: MIT
//
// The memalloc scope API against Linux 6.12's rules (include/linux/sched/mm.h) and the
// mismatch detection gfplab adds on top.
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/sched/mm.h>
#include <gfplab/scope.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace {

using gfplab::scope_mismatch;

constexpr unsigned int scope_flags[] = {PF_MEMALLOC_NOFS, PF_MEMALLOC_NOIO, PF_MEMALLOC,
                                        PF_MEMALLOC_PIN};

// Every test starts and ends on a clean task: flags, stack and handler.
class Scope : public ::testing::Test {
  protected:
    void SetUp() override {
        gfplab::reset_task_scope();
        gfplab::current_task_flags_clear(~0u);
        base_mismatches_ = gfplab::scope_mismatch_count();
        gfplab::set_scope_report_handler(&Scope::record, this);
    }
    void TearDown() override {
        gfplab::set_scope_report_handler(nullptr);
        gfplab::reset_task_scope();
        gfplab::current_task_flags_clear(~0u);
    }
    static void record(const scope_mismatch &r, void *ctx) {
        static_cast<Scope *>(ctx)->reports_.push_back(r);
    }
    std::uint64_t mismatches() const { return gfplab::scope_mismatch_count() - base_mismatches_; }

    std::vector<scope_mismatch> reports_;
    std::uint64_t base_mismatches_ = 0;
};

// The reference model: written from the kernel's rule, not from the library. With every
// restore in LIFO order and nothing set before, a flag is set exactly while some open scope
// asked for it.
struct model_frame {
    unsigned int requested;
    unsigned int saved;
    bool general; // opened with memalloc_flags_save(), closed with memalloc_flags_restore()
};

unsigned int model_flags(const std::vector<model_frame> &stack) {
    unsigned int f = 0;
    for (const auto &fr : stack)
        f |= fr.requested;
    return f;
}

// current_gfp_context() spelled out once more, one flag at a time.
gfp_t model_context(unsigned int pflags, gfp_t gfp) {
    if (pflags & PF_MEMALLOC_NOIO)
        gfp &= ~(__GFP_IO | __GFP_FS); // NOIO means neither IO nor FS
    else if (pflags & PF_MEMALLOC_NOFS)
        gfp &= ~__GFP_FS;
    if (pflags & PF_MEMALLOC_PIN)
        gfp &= ~__GFP_MOVABLE; // long-term pins must not land in movable memory
    return gfp;
}

constexpr gfp_t probe_masks[] = {GFP_KERNEL,
                                 GFP_NOFS,
                                 GFP_NOIO,
                                 GFP_ATOMIC,
                                 GFP_HIGHUSER_MOVABLE,
                                 GFP_TRANSHUGE,
                                 GFP_USER | __GFP_MOVABLE};

unsigned int open_scope(unsigned int kind) {
    switch (kind) {
    case PF_MEMALLOC_NOFS:
        return memalloc_nofs_save();
    case PF_MEMALLOC_NOIO:
        return memalloc_noio_save();
    case PF_MEMALLOC:
        return memalloc_noreclaim_save();
    default:
        return memalloc_pin_save();
    }
}

void close_scope(unsigned int kind, unsigned int saved) {
    switch (kind) {
    case PF_MEMALLOC_NOFS:
        return memalloc_nofs_restore(saved);
    case PF_MEMALLOC_NOIO:
        return memalloc_noio_restore(saved);
    case PF_MEMALLOC:
        return memalloc_noreclaim_restore(saved);
    default:
        return memalloc_pin_restore(saved);
    }
}

TEST_F(Scope, RandomLifoNestingsFollowTheModel) {
    for (unsigned seed = 1; seed <= 500; ++seed) {
        std::mt19937 rng(seed);
        std::vector<model_frame> model;
        for (int step = 0; step < 200; ++step) {
            const bool open = model.empty() || (model.size() < 8 && rng() % 2 == 0);
            if (open) {
                const unsigned int before = model_flags(model);
                model_frame fr{};
                if (rng() % 5 == 0) {
                    // The general form, with one or several flags at once.
                    fr.requested = scope_flags[rng() % 4] | scope_flags[rng() % 4];
                    fr.general = true;
                    fr.saved = memalloc_flags_save(fr.requested);
                } else {
                    fr.requested = scope_flags[rng() % 4];
                    fr.saved = open_scope(fr.requested);
                }
                // 6.12: the save returns what it newly set.
                ASSERT_EQ(fr.saved, fr.requested & ~before) << "seed " << seed;
                model.push_back(fr);
            } else {
                const model_frame fr = model.back();
                model.pop_back();
                if (fr.general)
                    memalloc_flags_restore(fr.saved);
                else
                    close_scope(fr.requested, fr.saved);
            }
            const unsigned int expect = model_flags(model);
            ASSERT_EQ(gfplab::current_task_flags(), expect) << "seed " << seed << " step " << step;
            ASSERT_EQ(gfplab::current_scope_depth(), model.size());
            for (gfp_t gfp : probe_masks)
                ASSERT_EQ(current_gfp_context(gfp), model_context(expect, gfp));
            if (model.empty()) {
                ASSERT_EQ(gfplab::current_task_flags() & PF_MEMALLOC_SCOPE_MASK, 0u);
            }
        }
        while (!model.empty()) {
            const model_frame fr = model.back();
            model.pop_back();
            if (fr.general)
                memalloc_flags_restore(fr.saved);
            else
                close_scope(fr.requested, fr.saved);
            ASSERT_EQ(gfplab::current_task_flags(), model_flags(model));
        }
        ASSERT_EQ(gfplab::current_task_flags(), 0u);
        ASSERT_EQ(gfplab::current_scope_depth(), 0u);
    }
    EXPECT_EQ(mismatches(), 0u);
    EXPECT_TRUE(reports_.empty());
}

TEST_F(Scope, NestedSaveOfASetFlagReturnsZeroAndKeepsItSet) {
    const unsigned int outer = memalloc_nofs_save();
    const unsigned int inner = memalloc_nofs_save();
    EXPECT_EQ(outer, PF_MEMALLOC_NOFS);
    EXPECT_EQ(inner, 0u);
    memalloc_nofs_restore(inner);
    EXPECT_EQ(gfplab::current_task_flags(), PF_MEMALLOC_NOFS);
    memalloc_nofs_restore(outer);
    EXPECT_EQ(gfplab::current_task_flags(), 0u);
    EXPECT_EQ(mismatches(), 0u);
}

TEST_F(Scope, FlagsSetOutsideAScopeSurviveIt) {
    // kswapd holds PF_MEMALLOC for its whole life; a noreclaim scope inside must not end it.
    gfplab::current_task_flags_set(PF_KSWAPD | PF_MEMALLOC);
    const unsigned int saved = memalloc_noreclaim_save();
    EXPECT_EQ(saved, 0u);
    memalloc_noreclaim_restore(saved);
    EXPECT_EQ(gfplab::current_task_flags(), PF_KSWAPD | PF_MEMALLOC);
    EXPECT_EQ(mismatches(), 0u);
}

// --- mismatches -----------------------------------------------------------------------------

TEST_F(Scope, OutOfOrderRestoreIsReportedWithBothSites) {
    const unsigned int fs_line = __LINE__ + 1;
    const unsigned int fs = memalloc_nofs_save();
    const unsigned int io_line = __LINE__ + 1;
    const unsigned int io = memalloc_noio_save();
    const unsigned int bad_line = __LINE__ + 1;
    memalloc_nofs_restore(fs); // the noio scope is still open

    ASSERT_EQ(mismatches(), 1u);
    ASSERT_EQ(reports_.size(), 1u);
    const scope_mismatch &r = reports_[0];
    EXPECT_EQ(r.kind, scope_mismatch::what::out_of_order);
    ASSERT_TRUE(r.has_innermost);
    EXPECT_EQ(r.innermost.requested, PF_MEMALLOC_NOIO);
    EXPECT_EQ(r.innermost.line, io_line);
    EXPECT_EQ(r.restore.requested, PF_MEMALLOC_NOFS);
    EXPECT_EQ(r.restore.saved, PF_MEMALLOC_NOFS);
    EXPECT_EQ(r.restore.line, bad_line);
    const std::string site = "scope_test.cpp:";
    EXPECT_NE(r.message.find(site + std::to_string(bad_line)), std::string::npos) << r.message;
    EXPECT_NE(r.message.find(site + std::to_string(io_line)), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("nofs@" + site + std::to_string(fs_line) + " > noio@" + site +
                             std::to_string(io_line)),
              std::string::npos)
        << r.message;
    EXPECT_EQ(r.message.find('\n'), std::string::npos);

    // The kernel clears NOFS even though the noio scope is still open.
    EXPECT_EQ(gfplab::current_task_flags(), PF_MEMALLOC_NOIO);
    // The nofs frame is gone; the noio frame still matches its own restore.
    EXPECT_EQ(gfplab::current_scope_depth(), 1u);
    memalloc_noio_restore(io);
    EXPECT_EQ(mismatches(), 1u);
    EXPECT_EQ(gfplab::current_task_flags(), 0u);
    EXPECT_EQ(gfplab::current_scope_depth(), 0u);
}

TEST_F(Scope, SwappedValuesAreOutOfOrderAndLeaveTheKernelsDamage) {
    const unsigned int outer = memalloc_nofs_save(); // NOFS
    const unsigned int inner = memalloc_nofs_save(); // 0
    memalloc_nofs_restore(outer);                    // should have been `inner`
    ASSERT_EQ(reports_.size(), 1u);
    EXPECT_EQ(reports_[0].kind, scope_mismatch::what::out_of_order);
    // The kernel has already ended the NOFS scope although the outer one is still open:
    // exactly the bug a user needs to see.
    EXPECT_EQ(gfplab::current_task_flags(), 0u);
    EXPECT_EQ(current_gfp_context(GFP_KERNEL), GFP_KERNEL);
    memalloc_nofs_restore(inner);
    EXPECT_EQ(mismatches(), 1u);
    EXPECT_EQ(gfplab::current_scope_depth(), 0u);
}

TEST_F(Scope, WrongValueForTheInnermostSaveIsAValueMismatch) {
    const unsigned int save_line = __LINE__ + 1;
    const unsigned int saved = memalloc_pin_save();
    ASSERT_EQ(saved, PF_MEMALLOC_PIN);
    const unsigned int bad_line = __LINE__ + 1;
    memalloc_pin_restore(0);

    ASSERT_EQ(reports_.size(), 1u);
    const scope_mismatch &r = reports_[0];
    EXPECT_EQ(r.kind, scope_mismatch::what::value_mismatch);
    ASSERT_TRUE(r.has_innermost);
    EXPECT_EQ(r.innermost.line, save_line);
    EXPECT_EQ(r.innermost.saved, PF_MEMALLOC_PIN);
    EXPECT_EQ(r.restore.saved, 0u);
    EXPECT_NE(r.message.find("scope_test.cpp:" + std::to_string(save_line)), std::string::npos)
        << r.message;
    EXPECT_NE(r.message.find("scope_test.cpp:" + std::to_string(bad_line)), std::string::npos)
        << r.message;
    // Restoring 0 clears nothing: in a kernel the pin scope would leak past its end.
    EXPECT_EQ(gfplab::current_task_flags(), PF_MEMALLOC_PIN);
    // The restore closed the innermost scope, wrongly.
    EXPECT_EQ(gfplab::current_scope_depth(), 0u);
    EXPECT_EQ(mismatches(), 1u);
}

TEST_F(Scope, RestoreWithoutASaveIsReported) {
    const unsigned int bad_line = __LINE__ + 1;
    memalloc_noio_restore(PF_MEMALLOC_NOIO);
    ASSERT_EQ(reports_.size(), 1u);
    EXPECT_EQ(reports_[0].kind, scope_mismatch::what::without_save);
    EXPECT_FALSE(reports_[0].has_innermost);
    EXPECT_NE(reports_[0].message.find("scope_test.cpp:" + std::to_string(bad_line)),
              std::string::npos);
    EXPECT_NE(reports_[0].message.find("scope stack: -"), std::string::npos) << reports_[0].message;

    // With another kind of scope open, a restore that matches nothing is still without_save,
    // and it names the innermost save.
    const unsigned int save_line = __LINE__ + 1;
    const unsigned int fs = memalloc_nofs_save();
    gfplab::current_task_flags_set(PF_MEMALLOC_PIN); // set outside any scope
    memalloc_pin_restore(PF_MEMALLOC_PIN);
    ASSERT_EQ(reports_.size(), 2u);
    EXPECT_EQ(reports_[1].kind, scope_mismatch::what::without_save);
    ASSERT_TRUE(reports_[1].has_innermost);
    EXPECT_EQ(reports_[1].innermost.line, save_line);
    EXPECT_NE(reports_[1].message.find("scope_test.cpp:" + std::to_string(save_line)),
              std::string::npos)
        << reports_[1].message;
    // The kernel clears what it is told to clear; the nofs scope is untouched.
    EXPECT_EQ(gfplab::current_task_flags(), PF_MEMALLOC_NOFS);
    EXPECT_EQ(gfplab::current_scope_depth(), 1u);
    memalloc_nofs_restore(fs);
    EXPECT_EQ(mismatches(), 2u);
    EXPECT_EQ(gfplab::current_task_flags(), 0u);
}

TEST_F(Scope, GeneralRestoreMatchesAnyKindByValue) {
    // memalloc_flags_restore() does not say which scope it closes; it matches by value.
    const unsigned int fs = memalloc_nofs_save();
    const unsigned int pin = memalloc_flags_save(PF_MEMALLOC_PIN | PF_MEMALLOC_NOFS);
    EXPECT_EQ(pin, PF_MEMALLOC_PIN);
    memalloc_flags_restore(pin);
    memalloc_flags_restore(fs);
    EXPECT_EQ(mismatches(), 0u);
    EXPECT_EQ(gfplab::current_task_flags(), 0u);
}

TEST_F(Scope, GeneralRestoreMismatchesAreDetected) {
    const unsigned int io = memalloc_noio_save();
    const unsigned int fs = memalloc_nofs_save();
    ASSERT_EQ(fs, PF_MEMALLOC_NOFS);

    // Out of order: closes the noio save under the open nofs one.
    memalloc_flags_restore(io);
    ASSERT_EQ(reports_.size(), 1u);
    EXPECT_EQ(reports_[0].kind, scope_mismatch::what::out_of_order);
    EXPECT_EQ(reports_[0].restore.requested, 0u);
    EXPECT_NE(reports_[0].message.find("memalloc_flags_restore(NOIO)"), std::string::npos)
        << reports_[0].message;
    EXPECT_EQ(gfplab::current_task_flags(), PF_MEMALLOC_NOFS);

    // A value no open save returned: with kind unknown, it is taken as closing the innermost.
    memalloc_flags_restore(PF_MEMALLOC_PIN);
    ASSERT_EQ(reports_.size(), 2u);
    EXPECT_EQ(reports_[1].kind, scope_mismatch::what::value_mismatch);
    EXPECT_EQ(gfplab::current_task_flags(), PF_MEMALLOC_NOFS);
    EXPECT_EQ(gfplab::current_scope_depth(), 0u);

    // And with nothing open at all, it is a restore without a save.
    memalloc_flags_restore(PF_MEMALLOC_NOFS);
    ASSERT_EQ(reports_.size(), 3u);
    EXPECT_EQ(reports_[2].kind, scope_mismatch::what::without_save);
    EXPECT_EQ(gfplab::current_task_flags(), 0u);
    EXPECT_EQ(mismatches(), 3u);
}

TEST_F(Scope, DefaultHandlerPrintsOneLineWithPrefix) {
    gfplab::set_scope_report_handler(nullptr);
    ::testing::internal::CaptureStderr();
    memalloc_nofs_restore(PF_MEMALLOC_NOFS);
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(err.rfind("gfplab: ", 0), 0u) << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
    EXPECT_NE(err.find("memalloc_nofs_restore(NOFS)"), std::string::npos) << err;
    EXPECT_EQ(mismatches(), 1u);
}

TEST_F(Scope, HandlerIsReturnedAndReplaced) {
    auto prev = gfplab::set_scope_report_handler(nullptr);
    EXPECT_EQ(prev, &Scope::record);
    EXPECT_EQ(gfplab::set_scope_report_handler(prev, this), nullptr);
}

// --- current_gfp_context table ----------------------------------------------------------------

// Written by hand from the 6.12 rule: NOIO clears IO and FS, else NOFS clears FS; PIN clears
// MOVABLE; PF_MEMALLOC changes nothing here; nothing is ever added. Columns are indexed by
// (NOFS ? 1 : 0) | (NOIO ? 2 : 0) | (PIN ? 4 : 0).
struct context_row {
    gfp_t gfp;
    gfp_t expect[8];
};

constexpr gfp_t HUM = GFP_HIGHUSER_MOVABLE;
constexpr gfp_t UM = GFP_USER | __GFP_MOVABLE;
constexpr gfp_t IOFS = __GFP_IO | __GFP_FS;
constexpr gfp_t MOV = __GFP_MOVABLE;

const context_row context_table[] = {
    {GFP_KERNEL,
     {GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_NOIO, GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_NOIO}},
    {GFP_NOFS, {GFP_NOFS, GFP_NOFS, GFP_NOIO, GFP_NOIO, GFP_NOFS, GFP_NOFS, GFP_NOIO, GFP_NOIO}},
    {GFP_NOIO, {GFP_NOIO, GFP_NOIO, GFP_NOIO, GFP_NOIO, GFP_NOIO, GFP_NOIO, GFP_NOIO, GFP_NOIO}},
    {GFP_ATOMIC,
     {GFP_ATOMIC, GFP_ATOMIC, GFP_ATOMIC, GFP_ATOMIC, GFP_ATOMIC, GFP_ATOMIC, GFP_ATOMIC,
      GFP_ATOMIC}},
    {HUM,
     {HUM, HUM & ~__GFP_FS, HUM & ~IOFS, HUM & ~IOFS, HUM & ~MOV, HUM & ~(__GFP_FS | MOV),
      HUM & ~(IOFS | MOV), HUM & ~(IOFS | MOV)}},
    {GFP_TRANSHUGE,
     {GFP_TRANSHUGE, GFP_TRANSHUGE & ~__GFP_FS, GFP_TRANSHUGE & ~IOFS, GFP_TRANSHUGE & ~IOFS,
      GFP_TRANSHUGE & ~MOV, GFP_TRANSHUGE & ~(__GFP_FS | MOV), GFP_TRANSHUGE & ~(IOFS | MOV),
      GFP_TRANSHUGE & ~(IOFS | MOV)}},
    {UM,
     {UM, (GFP_USER & ~__GFP_FS) | MOV, (GFP_USER & ~IOFS) | MOV, (GFP_USER & ~IOFS) | MOV,
      GFP_USER, GFP_USER & ~__GFP_FS, GFP_USER & ~IOFS, GFP_USER & ~IOFS}},
};

TEST_F(Scope, GfpContextUnderEveryScopeCombination) {
    for (unsigned int combo = 0; combo < 16; ++combo) {
        unsigned int pflags = 0;
        if (combo & 1)
            pflags |= PF_MEMALLOC_NOFS;
        if (combo & 2)
            pflags |= PF_MEMALLOC_NOIO;
        if (combo & 4)
            pflags |= PF_MEMALLOC_PIN;
        if (combo & 8)
            pflags |= PF_MEMALLOC;
        // Enter the combination through real scopes, in a fixed order.
        std::vector<std::pair<unsigned int, unsigned int>> open;
        for (unsigned int f : scope_flags)
            if (pflags & f)
                open.emplace_back(f, open_scope(f));
        ASSERT_EQ(gfplab::current_task_flags(), pflags);
        for (const auto &row : context_table) {
            const gfp_t want = row.expect[combo & 7];
            EXPECT_EQ(current_gfp_context(row.gfp), want)
                << "gfp " << std::hex << row.gfp << " task " << gfplab::task_flags_name(pflags);
            EXPECT_EQ(gfplab::gfp_context_for(pflags, row.gfp), want);
            // Nothing is ever added.
            EXPECT_EQ(current_gfp_context(row.gfp) & ~row.gfp, 0u);
        }
        for (auto it = open.rbegin(); it != open.rend(); ++it)
            close_scope(it->first, it->second);
        ASSERT_EQ(gfplab::current_task_flags(), 0u);
    }
    EXPECT_EQ(mismatches(), 0u);
}

TEST_F(Scope, GfpContextMatchesTheGfpNames) {
    // The two named cases the C face also checks.
    {
        gfplab::nofs_scope s;
        EXPECT_EQ(current_gfp_context(GFP_KERNEL), GFP_NOFS);
    }
    {
        gfplab::noio_scope s;
        EXPECT_EQ(current_gfp_context(GFP_KERNEL), GFP_NOIO);
    }
}

// --- RAII guards and introspection --------------------------------------------------------------

TEST_F(Scope, GuardsNestAndRestore) {
    {
        const unsigned int fs_line = __LINE__ + 1;
        gfplab::nofs_scope fs;
        EXPECT_EQ(gfplab::current_task_flags(), PF_MEMALLOC_NOFS);
        {
            gfplab::noio_scope io;
            gfplab::nofs_scope fs_again; // already set: its restore must not end the outer one
            EXPECT_EQ(gfplab::current_scope_depth(), 3u);
            {
                gfplab::pin_scope pin;
                gfplab::noreclaim_scope nr;
                EXPECT_EQ(gfplab::current_task_flags(),
                          PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO | PF_MEMALLOC_PIN | PF_MEMALLOC);
                EXPECT_EQ(current_gfp_context(GFP_HIGHUSER_MOVABLE),
                          GFP_HIGHUSER_MOVABLE & ~(__GFP_IO | __GFP_FS | __GFP_MOVABLE));
            }
            EXPECT_EQ(gfplab::current_task_flags(), PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO);
        }
        EXPECT_EQ(gfplab::current_task_flags(), PF_MEMALLOC_NOFS);
        EXPECT_EQ(gfplab::current_scope_depth(), 1u);
        EXPECT_EQ(gfplab::format_scope_stack(), "nofs@scope_test.cpp:" + std::to_string(fs_line));
    }
    EXPECT_EQ(gfplab::current_task_flags(), 0u);
    EXPECT_EQ(gfplab::current_scope_depth(), 0u);
    EXPECT_EQ(mismatches(), 0u);
}

TEST_F(Scope, FormatScopeStack) {
    EXPECT_EQ(gfplab::format_scope_stack(), "-");
    const auto a = gfplab::scope_save(PF_MEMALLOC_NOFS, "fs/inode.c", 120);
    const auto b = gfplab::scope_save(PF_MEMALLOC_NOIO, "block/dev.c", 40);
    const auto c = gfplab::scope_save(PF_MEMALLOC, "mm/vmscan.c", 7);
    const auto d = gfplab::scope_save(PF_MEMALLOC_PIN | PF_MEMALLOC_NOFS, "mm/gup.c", 9);
    EXPECT_EQ(gfplab::format_scope_stack(),
              "nofs@inode.c:120 > noio@dev.c:40 > noreclaim@vmscan.c:7 > nofs|pin@gup.c:9");
    const auto stack = gfplab::current_scope_stack();
    ASSERT_EQ(stack.size(), 4u);
    EXPECT_EQ(stack[0].requested, PF_MEMALLOC_NOFS);
    EXPECT_EQ(stack[0].saved, PF_MEMALLOC_NOFS);
    EXPECT_EQ(stack[0].line, 120u);
    EXPECT_EQ(stack[3].requested, PF_MEMALLOC_PIN | PF_MEMALLOC_NOFS);
    EXPECT_EQ(stack[3].saved, PF_MEMALLOC_PIN);
    gfplab::scope_restore(PF_MEMALLOC_PIN | PF_MEMALLOC_NOFS, d, "mm/gup.c", 10);
    gfplab::scope_restore(PF_MEMALLOC, c, "mm/vmscan.c", 8);
    gfplab::scope_restore(PF_MEMALLOC_NOIO, b, "block/dev.c", 41);
    gfplab::scope_restore(PF_MEMALLOC_NOFS, a, "fs/inode.c", 121);
    EXPECT_EQ(gfplab::format_scope_stack(), "-");
    EXPECT_EQ(mismatches(), 0u);
}

TEST_F(Scope, TaskFlagsName) {
    EXPECT_EQ(gfplab::task_flags_name(PF_MEMALLOC_NOFS), "NOFS");
    EXPECT_EQ(gfplab::task_flags_name(PF_MEMALLOC_NOIO | PF_MEMALLOC_NOFS), "NOFS|NOIO");
    EXPECT_EQ(gfplab::task_flags_name(PF_MEMALLOC_SCOPE_MASK | PF_KSWAPD),
              "NOFS|NOIO|MEMALLOC|PIN|KSWAPD");
    EXPECT_EQ(gfplab::task_flags_name(0), "0");
    EXPECT_EQ(gfplab::task_flags_name(PF_MEMALLOC_PIN | 0x4u), "PIN|0x4");
}

TEST_F(Scope, ResetForgetsScopesButNotOtherFlags) {
    gfplab::current_task_flags_set(PF_KSWAPD);
    memalloc_nofs_save();
    memalloc_pin_save();
    gfplab::reset_task_scope();
    EXPECT_EQ(gfplab::current_scope_depth(), 0u);
    EXPECT_EQ(gfplab::current_task_flags(), PF_KSWAPD);
    EXPECT_EQ(mismatches(), 0u);
}

} // namespace
