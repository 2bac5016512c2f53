// SPDX-License-Identifier: MIT
//
// stress/cache.hpp - memory that reclaim can take back: caches of order-0 pages behind a
// shrinker (like tests/reclaim_test.cpp's page_cache_shrinker). One of them stands for a
// filesystem's inode cache: its scan takes the superblock lock, declared to the System so
// that allocating GFP_KERNEL under that lock is reported as reclaim recursion (I9).
// Every callback checks the shrinker's liveness token first (fuzz/ops/shrinker_liveness.hpp):
// a call after shrinker_free() returned is an I15 violation, not a use of freed memory.
#pragma once

#include "ledger.hpp"
#include "oracle.hpp"
#include "trace.hpp"

#include <gfplab/lockdep.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/system.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace gfplab::stress {

class page_cache {
  public:
    // fs_lock: the filesystem's lock its scan takes (with __GFP_FS only, and by trylock as
    // super_cache_scan() does), or nullptr for a cache without one.
    // trace: where shrinker calls go as spans (nullptr: nowhere).
    // ledger: where the cached pages are entered while the cache holds them (nullptr: none).
    page_cache(System &s, oracle &o, std::string name, Lock *fs_lock = nullptr,
               trace_log *trace = nullptr, page_ledger *ledger = nullptr);
    ~page_cache(); // shrinker_free(), then the pages go back
    page_cache(const page_cache &) = delete;
    page_cache &operator=(const page_cache &) = delete;

    // Adds up to n pages allocated with `gfp` (no direct reclaim: filling must not reclaim
    // from the cache itself). Returns how many it got.
    unsigned fill(unsigned n, gfp_t gfp);
    std::size_t size();
    const std::string &name() const noexcept { return name_; }

  private:
    static unsigned long count(struct shrinker *sh, struct shrink_control *sc);
    static unsigned long scan(struct shrinker *sh, struct shrink_control *sc);
    unsigned long scan_pages(struct shrink_control *sc);
    void release(page *p);

    System &sys_;
    oracle &oracle_;
    std::string name_;
    Lock *fs_lock_;
    trace_log *trace_;
    page_ledger *ledger_;
    std::mutex lock_;
    std::vector<page *> pages_;
    struct shrinker *shr_ = nullptr;
};

// The pattern a page carries while somebody holds it: derived from the owner and an
// allocation serial, written at both ends of every page of the block. A page whose pattern
// changed while it was held was written by someone else (I1) or corrupted (I12).
void stamp_block(System &s, page *p, unsigned order, std::uint64_t owner, std::uint64_t serial);
// The first page index whose pattern is wrong, or -1.
long check_block(System &s, page *p, unsigned order, std::uint64_t owner, std::uint64_t serial);
// Whether a __GFP_ZERO block reads as zero (sampled: the first and last bytes of every page,
// at most 64 pages).
bool block_is_zero(System &s, page *p, unsigned order);

inline constexpr std::uint64_t cache_owner = 0xcace;

} // namespace gfplab::stress
