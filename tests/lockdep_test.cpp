// SPDX-License-Identifier: MIT
//
// The fs_reclaim checker (I9): reclaim recursion is reported with both sides whichever edge
// comes first, the scope API and the kernel's opt-outs keep the correct caller quiet, plain
// AB-BA inversions are reported, each pair once, and the held-lock stack tolerates what real
// code does (nesting, out-of-order release, trylock).
#include <gfplab/gfp.hpp>
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/sched/mm.h>
#include <gfplab/lockdep.hpp>
#include <gfplab/scope.hpp>

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace {

using gfplab::srcloc;

// Fixed sites, so a report can be checked for both of them.
constexpr srcloc alloc_site{"fs/inode.c", 120};
constexpr srcloc lock_site{"fs/inode.c", 118};
constexpr srcloc reclaim_site{"mm/vmscan.c", 6500};
constexpr srcloc shrinker_site{"fs/super.c", 77};

class LockdepTest : public ::testing::Test {
  protected:
    void SetUp() override {
        gfplab::lockdep_reset();
        gfplab::set_lockdep_report_handler(
            [this](const gfplab::lockdep_report &r) { reports.push_back(r); });
    }
    void TearDown() override {
        gfplab::set_lockdep_report_handler(nullptr);
        gfplab::lockdep_reset();
        EXPECT_TRUE(gfplab::current_held_locks().empty()) << "a test left locks held";
    }

    // The fs side: hold L across an allocation of `gfp`.
    static void alloc_under(gfplab::Lock &l, gfp_t gfp) {
        l.lock(lock_site);
        gfplab::might_alloc(gfp, alloc_site);
        l.unlock();
    }
    // The reclaim side: a shrinker entered with `gfp` takes L.
    static void reclaim_takes(gfplab::Lock &l, gfp_t gfp) {
        gfplab::fs_reclaim_acquire(gfp, reclaim_site);
        l.lock(shrinker_site);
        l.unlock();
        gfplab::fs_reclaim_release(gfp);
    }

    std::vector<gfplab::lockdep_report> reports;
};

bool contains(const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
}

TEST_F(LockdepTest, ReclaimRecursionAllocationFirst) {
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    alloc_under(l, GFP_KERNEL);
    EXPECT_EQ(gfplab::lockdep_report_count(), 0u);
    reclaim_takes(l, GFP_KERNEL);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(gfplab::lockdep_report_count(), 1u);
    const auto &r = reports[0];
    EXPECT_TRUE(contains(r.message, "possible circular locking dependency")) << r.message;
    EXPECT_TRUE(contains(r.message, "reclaim recursion")) << r.message;
    // The existing side: L -> fs_reclaim from the allocation, with its site and mask.
    EXPECT_TRUE(contains(r.first, "fs lock -> fs_reclaim at inode.c:120")) << r.first;
    EXPECT_TRUE(contains(r.first, "GFP_KERNEL")) << r.first;
    // The new side: fs_reclaim -> L inside reclaim, at the shrinker's site.
    EXPECT_TRUE(contains(r.second, "fs_reclaim -> fs lock at super.c:77")) << r.second;
    EXPECT_TRUE(contains(r.second, "inside reclaim")) << r.second;
}

TEST_F(LockdepTest, ReclaimRecursionReclaimFirst) {
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    reclaim_takes(l, GFP_KERNEL);
    EXPECT_EQ(gfplab::lockdep_report_count(), 0u);
    alloc_under(l, GFP_KERNEL);
    ASSERT_EQ(reports.size(), 1u);
    const auto &r = reports[0];
    EXPECT_TRUE(contains(r.first, "fs_reclaim -> fs lock at super.c:77")) << r.first;
    EXPECT_TRUE(contains(r.second, "fs lock -> fs_reclaim at inode.c:120")) << r.second;
    EXPECT_TRUE(contains(r.second, "GFP_KERNEL")) << r.second;
}

TEST_F(LockdepTest, ReclaimRecursionThroughAChain) {
    // A -> B -> fs_reclaim, then a shrinker takes A: the chain is printed hop by hop.
    gfplab::lock_class ca("outer"), cb("inner");
    gfplab::Lock a(ca), b(cb);
    a.lock(srcloc{"a.c", 1});
    b.lock(srcloc{"a.c", 2});
    b.unlock();
    a.unlock();
    alloc_under(b, GFP_KERNEL);
    reclaim_takes(a, GFP_KERNEL);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_TRUE(contains(reports[0].first, "outer -> inner at a.c:2")) << reports[0].first;
    EXPECT_TRUE(contains(reports[0].first, "inner -> fs_reclaim at inode.c:120"))
        << reports[0].first;
    EXPECT_TRUE(contains(reports[0].second, "fs_reclaim -> outer")) << reports[0].second;
}

TEST_F(LockdepTest, HeldStackNamedInTheReport) {
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    reclaim_takes(l, GFP_KERNEL);
    alloc_under(l, GFP_KERNEL);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_TRUE(contains(reports[0].message, "held by this thread: fs lock@inode.c:118"))
        << reports[0].message;
}

// The correct caller: every way the kernel keeps an allocation under L out of fs reclaim.
TEST_F(LockdepTest, NofsScopeAddsNoEdge) {
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    unsigned int nofs = memalloc_nofs_save();
    alloc_under(l, GFP_KERNEL);
    memalloc_nofs_restore(nofs);
    reclaim_takes(l, GFP_KERNEL);
    EXPECT_EQ(reports.size(), 0u);
    EXPECT_EQ(gfplab::lockdep_report_count(), 0u);
}

TEST_F(LockdepTest, NoioScopeAddsNoEdge) {
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    {
        gfplab::noio_scope noio;
        alloc_under(l, GFP_KERNEL);
    }
    reclaim_takes(l, GFP_KERNEL);
    EXPECT_EQ(reports.size(), 0u);
}

TEST_F(LockdepTest, MasksWithoutFsReclaimAddNoEdge) {
    for (gfp_t gfp : {GFP_NOFS, GFP_NOIO, GFP_ATOMIC, GFP_NOWAIT, gfp_t(__GFP_FS)}) {
        gfplab::lockdep_reset();
        gfplab::lock_class cls("fs lock");
        gfplab::Lock l(cls);
        alloc_under(l, gfp);
        reclaim_takes(l, GFP_KERNEL);
        EXPECT_EQ(reports.size(), 0u) << gfplab::gfp_describe(gfp);
    }
}

TEST_F(LockdepTest, PfMemallocTaskAddsNoEdge) {
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    unsigned int noreclaim = memalloc_noreclaim_save();
    alloc_under(l, GFP_KERNEL);
    // A PF_MEMALLOC task never enters direct reclaim, so it does not take fs_reclaim either.
    gfplab::fs_reclaim_acquire(GFP_KERNEL, reclaim_site);
    EXPECT_FALSE(gfplab::current_holds(gfplab::fs_reclaim_class()));
    gfplab::fs_reclaim_release(GFP_KERNEL);
    memalloc_noreclaim_restore(noreclaim);
    reclaim_takes(l, GFP_KERNEL);
    EXPECT_EQ(reports.size(), 0u);
}

TEST_F(LockdepTest, LockdepOffGuardAddsNoEdge) {
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    EXPECT_FALSE(gfplab::lockdep_is_off());
    {
        gfplab::lockdep_off off;
        {
            gfplab::lockdep_off nested;
            EXPECT_TRUE(gfplab::lockdep_is_off());
        }
        EXPECT_TRUE(gfplab::lockdep_is_off());
        alloc_under(l, GFP_KERNEL);
        // Locks are still tracked under the guard: the stack stays balanced.
        l.lock(lock_site);
        EXPECT_TRUE(gfplab::current_holds(cls));
        l.unlock();
    }
    EXPECT_FALSE(gfplab::lockdep_is_off());
    reclaim_takes(l, GFP_KERNEL);
    EXPECT_EQ(reports.size(), 0u);
}

TEST_F(LockdepTest, NofsReclaimContextDoesNotHoldFsReclaim) {
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    gfplab::fs_reclaim_acquire(GFP_NOFS, reclaim_site);
    EXPECT_FALSE(gfplab::current_holds(gfplab::fs_reclaim_class()));
    l.lock(shrinker_site);
    l.unlock();
    gfplab::fs_reclaim_release(GFP_NOFS);
    // Reclaim entered inside a NOFS scope is the same.
    {
        gfplab::nofs_scope nofs;
        reclaim_takes(l, GFP_KERNEL);
    }
    alloc_under(l, GFP_KERNEL);
    EXPECT_EQ(reports.size(), 0u);
}

TEST_F(LockdepTest, FsReclaimHeldForTheDurationOfReclaim) {
    gfplab::fs_reclaim_acquire(GFP_KERNEL, reclaim_site);
    auto h = gfplab::current_held_locks();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].cls, &gfplab::fs_reclaim_class());
    EXPECT_EQ(h[0].line, reclaim_site.line);
    gfplab::fs_reclaim_release(GFP_KERNEL);
    EXPECT_FALSE(gfplab::current_holds(gfplab::fs_reclaim_class()));
    // kswapd's form holds it regardless of PF_MEMALLOC.
    gfplab::noreclaim_scope kswapd_like;
    gfplab::__fs_reclaim_acquire(reclaim_site);
    EXPECT_TRUE(gfplab::current_holds(gfplab::fs_reclaim_class()));
    gfplab::__fs_reclaim_release();
    EXPECT_FALSE(gfplab::current_holds(gfplab::fs_reclaim_class()));
}

TEST_F(LockdepTest, MightAllocWithNothingHeldRecordsNothing) {
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    gfplab::might_alloc(GFP_KERNEL, alloc_site);
    reclaim_takes(l, GFP_KERNEL);
    gfplab::might_alloc(GFP_KERNEL, alloc_site);
    EXPECT_EQ(reports.size(), 0u);
}

// The inverted order takes other locks of the same classes (lockdep orders classes, not
// instances), so that TSan's own detector, which orders mutex instances, stays quiet when
// this file runs under it.
TEST_F(LockdepTest, AbBaInversionReportedOnce) {
    gfplab::lock_class ca("A"), cb("B");
    gfplab::Lock a(ca), b(cb), a2(ca), b2(cb);
    a.lock(srcloc{"ab.c", 10});
    b.lock(srcloc{"ab.c", 11});
    b.unlock();
    a.unlock();
    EXPECT_EQ(reports.size(), 0u);
    for (int i = 0; i < 3; ++i) {
        b2.lock(srcloc{"ab.c", 20});
        a2.lock(srcloc{"ab.c", 21});
        a2.unlock();
        b2.unlock();
    }
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(gfplab::lockdep_report_count(), 1u);
    EXPECT_FALSE(contains(reports[0].message, "reclaim recursion")) << reports[0].message;
    EXPECT_TRUE(contains(reports[0].first, "A -> B at ab.c:11")) << reports[0].first;
    EXPECT_TRUE(contains(reports[0].second, "B -> A at ab.c:21")) << reports[0].second;
}

TEST_F(LockdepTest, EachPairOnceUntilReset) {
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    alloc_under(l, GFP_KERNEL);
    reclaim_takes(l, GFP_KERNEL);
    alloc_under(l, GFP_KERNEL);
    reclaim_takes(l, GFP_KERNEL);
    EXPECT_EQ(reports.size(), 1u);
    gfplab::lockdep_reset();
    EXPECT_EQ(gfplab::lockdep_report_count(), 0u);
    // Edges are forgotten too: one side alone is not a cycle any more.
    reclaim_takes(l, GFP_KERNEL);
    EXPECT_EQ(reports.size(), 1u);
    alloc_under(l, GFP_KERNEL);
    EXPECT_EQ(reports.size(), 2u);
    EXPECT_EQ(gfplab::lockdep_report_count(), 1u);
}

TEST_F(LockdepTest, DestroyedClassForgetsItsEdges) {
    // Annotations only: the two short-lived classes would be locks at one stack address, which
    // TSan takes for one mutex.
    gfplab::lock_class keep("keep");
    {
        gfplab::lock_class gone("gone");
        gfplab::lock_acquire(gone);
        gfplab::lock_acquire(keep);
        gfplab::lock_release(keep);
        gfplab::lock_release(gone);
    }
    // A class born in the dead one's slot inherits nothing: keep -> fresh is no inversion.
    gfplab::lock_class fresh("fresh");
    gfplab::lock_acquire(keep);
    gfplab::lock_acquire(fresh);
    gfplab::lock_release(fresh);
    gfplab::lock_release(keep);
    EXPECT_EQ(reports.size(), 0u);
}

TEST_F(LockdepTest, HeldLockBookkeeping) {
    gfplab::lock_class ca("A"), cb("B"), cc("C");
    gfplab::Lock a(ca), b(cb), c(cc);
    EXPECT_TRUE(gfplab::current_held_locks().empty());
    a.lock(srcloc{"h.c", 1});
    b.lock(srcloc{"h.c", 2});
    c.lock(srcloc{"h.c", 3});
    auto h = gfplab::current_held_locks();
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[0].cls, &ca);
    EXPECT_EQ(h[1].cls, &cb);
    EXPECT_EQ(h[2].cls, &cc);
    EXPECT_STREQ(h[2].file, "h.c");
    EXPECT_EQ(h[2].line, 3u);
    EXPECT_TRUE(gfplab::current_holds(cb));
    // Out of order: the middle one first.
    b.unlock();
    EXPECT_FALSE(gfplab::current_holds(cb));
    h = gfplab::current_held_locks();
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].cls, &ca);
    EXPECT_EQ(h[1].cls, &cc);
    a.unlock();
    c.unlock();
    EXPECT_TRUE(gfplab::current_held_locks().empty());
    // A release of something not held is tolerated and is no report.
    gfplab::lock_release(ca);
    EXPECT_TRUE(gfplab::current_held_locks().empty());
    EXPECT_EQ(reports.size(), 0u);
}

TEST_F(LockdepTest, NestedSameClassReleasesInnermost) {
    // Two locks of one class (two inodes): release drops the innermost entry of the class.
    gfplab::lock_class cls("inode");
    gfplab::Lock i1(cls), i2(cls);
    i1.lock(srcloc{"n.c", 1});
    i2.lock(srcloc{"n.c", 2});
    gfplab::lock_release(cls);
    auto h = gfplab::current_held_locks();
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].line, 1u);
    gfplab::lock_acquire(cls, srcloc{"n.c", 3}); // put the bookkeeping back for unlock()
    i2.unlock();
    i1.unlock();
    EXPECT_TRUE(gfplab::current_held_locks().empty());
    EXPECT_EQ(reports.size(), 0u);
}

TEST_F(LockdepTest, TryLock) {
    gfplab::lock_class ca("A"), cb("B");
    gfplab::Lock a(ca), b(cb);
    // Contended: fails, and the caller holds nothing.
    std::thread owner([&] {
        b.lock();
        EXPECT_FALSE([&] {
            bool got = false;
            std::thread t([&] { got = b.try_lock(); });
            t.join();
            return got;
        }());
        b.unlock();
    });
    owner.join();
    EXPECT_FALSE(gfplab::current_holds(cb));
    // Uncontended: held and tracked, but a trylock never waits, so A -> B is not recorded
    // and B -> A afterwards is no inversion.
    a.lock();
    ASSERT_TRUE(b.try_lock(srcloc{"t.c", 5}));
    EXPECT_TRUE(gfplab::current_holds(cb));
    EXPECT_EQ(gfplab::current_held_locks().back().line, 5u);
    b.unlock();
    a.unlock();
    b.lock();
    a.lock();
    a.unlock();
    b.unlock();
    EXPECT_EQ(reports.size(), 0u);
    // A lock taken by trylock is still a held lock that later locks depend on.
    gfplab::lock_class cc("C");
    gfplab::Lock c(cc), c2(cc), a2(ca);
    ASSERT_TRUE(c.try_lock());
    a.lock();
    a.unlock();
    c.unlock();
    a2.lock();
    c2.lock();
    c2.unlock();
    a2.unlock();
    EXPECT_EQ(reports.size(), 1u);
}

TEST_F(LockdepTest, DefaultHandlerPrintsBothSides) {
    gfplab::set_lockdep_report_handler(nullptr);
    gfplab::lock_class cls("fs lock");
    gfplab::Lock l(cls);
    testing::internal::CaptureStderr();
    alloc_under(l, GFP_KERNEL);
    reclaim_takes(l, GFP_KERNEL);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(contains(err, "gfplab: I9 possible circular locking dependency")) << err;
    EXPECT_TRUE(contains(err, "gfplab: I9   existing: fs lock -> fs_reclaim at inode.c:120"))
        << err;
    EXPECT_TRUE(contains(err, "gfplab: I9   new:      fs_reclaim -> fs lock at super.c:77")) << err;
    EXPECT_EQ(gfplab::lockdep_report_count(), 1u);
}

} // namespace
