// SPDX-License-Identifier: MIT
//
// stress/ledger.hpp - the running ledger of pages the harness holds, and the online I2 check
// it makes possible between checkpoints.
//
// Every page the harness takes from the System (a worker's block, a page in one of its
// shrinker-backed caches) is entered after alloc_pages() returned it, and taken out before
// free_pages() gets it back: in between the page is in the harness's hands and nowhere else.
// Two monotonic counters (pages handed out, pages returned) make the ledger; their
// difference is what the harness holds, give or take the pages in transit (allocated and not
// yet entered, or taken out and not yet freed), which it undercounts.
//
// The check (check(), from the progress thread a few times a second, never on a worker's
// path): read the ledger, then each zone's exact NR_FREE_PAGES under its lock (the lock
// serialises the counter's writers), then the ledger again. A page cannot be free and held
// at once, so
//     sum of free pages + held at the first read - pages returned between the reads
//         <= managed pages.
// The correction covers every page that was held at the first read and reached the free
// lists before its zone was read (its return was counted in between); pages allocated in
// between were not held at the first read. Per-CPU lists, the library's own pages (slab,
// vmalloc, page cache, kvfree_rcu, plugins) and pages in transit only add to the right-hand
// side, so the inequality is sound however the threads interleave. More is an I2 violation:
// a page the allocator counts as free while the harness holds it, or a free count inflated.
//
// What it cannot see online: a page lost from every list (the sum falls short). That needs
// every holder's exact count, which the library does not publish cheaply; it is left to
// verify() at the checkpoints and the final recount (docs/oracle.md, I2).
#pragma once

#include <gfplab/system.hpp>

#include <atomic>
#include <cstdint>
#include <string>

namespace gfplab::stress {

class page_ledger {
  public:
    void handed_out(unsigned order) noexcept {
        handed_.fetch_add(1ul << order, std::memory_order_seq_cst);
    }
    void returned(unsigned order) noexcept {
        returned_.fetch_add(1ul << order, std::memory_order_seq_cst);
    }
    // Pages held now (a racy difference; exact when nothing moves).
    long held() const noexcept { return long(handed_.load()) - long(returned_.load()); }

    struct result {
        bool ok = true;
        long free = 0;     // NR_FREE_PAGES over every zone, each exact under its lock
        long held = 0;     // held at the first read of the ledger
        long returned = 0; // returned between the two reads
        unsigned long managed = 0;
        std::string message; // when not ok
    };
    // The online check; `phantom` pages are added to what the harness holds (a test's way
    // of unbalancing the ledger, GFPLAB_STRESS_LEDGER_PHANTOM).
    result check(System &sys, unsigned long managed, long phantom = 0) const;

  private:
    std::atomic<std::uint64_t> handed_{0};
    std::atomic<std::uint64_t> returned_{0};
};

} // namespace gfplab::stress
