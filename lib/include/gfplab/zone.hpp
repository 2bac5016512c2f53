// SPDX-License-Identifier: MIT
//
// gfplab/zone.hpp - nodes and zones: the buddy free areas, watermarks and counters of one
// range of page frames (the kernel's struct zone and pglist_data, reduced to what the
// model uses).
//
// Invariants (checked by System::verify at quiescence, I2):
//   NR_FREE_PAGES = sum over orders o and migratetypes mt of free_area[o].nr_free[mt] << o
//                   (HIGHATOMIC included, as in the kernel)
//   buddy free + per-CPU cached + allocated = managed_pages
#pragma once

#include <gfplab/linux/gfp.h>
#include <gfplab/linux/mmzone.h>
#include <gfplab/lockdep_assert.hpp>
#include <gfplab/page.hpp>
#include <gfplab/sync/atom.hpp>
#include <gfplab/sync/thread_safety.hpp>
#include <gfplab/vmstat_delta.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace gfplab {

class frame_backend; // lib/src/frames/backend.hpp

// One order of a zone's buddy allocator: a free list per migratetype. Lists are doubly
// linked through struct page's lru links, by pfn, so that merging can unlink a buddy from
// the middle of its list.
struct free_area {
    std::array<std::uint32_t, MIGRATE_TYPES> head;
    std::array<std::uint32_t, MIGRATE_TYPES> tail;
    // Written under zone->lock, read without it by the watermark check's block search.
    std::array<sync::atom<unsigned long>, MIGRATE_TYPES> nr_free{};

    bool has(migratetype mt) const noexcept {
        return nr_free[mt].load(std::memory_order_relaxed) != 0;
    }
};

enum zone_stat_item { NR_FREE_PAGES, NR_VM_ZONE_STAT_ITEMS };

// zone->flags bits (6.12 enum zone_flags).
enum zone_flags : unsigned {
    ZONE_BOOSTED_WATERMARK = 1u << 0,
    ZONE_RECLAIM_ACTIVE = 1u << 1,
    ZONE_BELOW_HIGH = 1u << 2,
};

// One CPU's vmstat deltas for a zone (the kernel's struct per_cpu_zonestat), a cache line
// of their own: CPUs that change their deltas without zone->lock (the lock-free page-frame
// backend) would otherwise take turns on one line, as on a zone-wide atomic.
struct alignas(64) per_cpu_zonestat {
    sync::atom<std::int8_t> vm_stat_diff[NR_VM_ZONE_STAT_ITEMS]{};
};

struct zone {
    page *mem_map = nullptr; // the System's page array (indexed by pfn)
    const char *name = "";
    int node = 0;
    zone_type idx = ZONE_NORMAL;

    unsigned long zone_start_pfn = 0;
    unsigned long spanned_pages = 0;
    unsigned long managed_pages = 0; // every spanned page is managed in the model

    // Watermarks (min, low, high, promo) before boost, and the boost kswapd works off.
    std::array<unsigned long, NR_WMARK> _watermark{};
    std::atomic<unsigned long> watermark_boost{0};
    // lowmem_reserve[j]: pages this zone keeps back from requests whose highest zone is j.
    std::array<long, MAX_NR_ZONES> lowmem_reserve{};

    std::atomic<unsigned> flags{0};
    // vm.watermark_boost_factor, copied here at setup: the buddy's fallback boosts the
    // watermarks by it, and the buddy knows nothing of the System's configuration.
    unsigned watermark_boost_factor = 15000;

    // Per-CPU lists: this zone's slot in every CPU's block, the refill batch and the count
    // at which a CPU drains (high_min: the kernel's untuned starting point; the 6.7+
    // auto-tuning of high between high_min and high_max is not modelled).
    unsigned pcp_slot = 0;
    unsigned long pcp_batch = 1;
    unsigned long pcp_high = 0;
    unsigned long pcp_high_max = 0;

    // The page-frame backend the System chose for this zone (the kernel's buddy below, or
    // the lock-free one); the System owns it. Everything below the per-CPU lists goes
    // through it.
    frame_backend *frames = nullptr;

    // The kernel backend's buddy allocator: free areas and highatomic bookkeeping, under
    // `lock`. The free areas' counters are also read without it (see free_area), so `area`
    // itself carries no annotation; the buddy's functions require the lock (buddy.hpp).
    sync::mutex lock;
    // The CPU the lock holder runs on (the kernel holds zone->lock with interrupts off, on
    // one CPU): the free-list changes made under the lock go to its vmstat delta.
    unsigned lock_cpu GFPLAB_GUARDED_BY(lock) = 0;
    // Who holds `lock`, for lockdep_assert_held() (a thread's tag, lockdep_assert.hpp).
    // Kept in every build, so that the layout of this public struct and the guard's work
    // do not depend on NDEBUG; only the assertion does.
    std::atomic<const void *> lock_holder{nullptr};
    std::array<free_area, NR_PAGE_ORDERS> area{};
    // Pages in MIGRATE_HIGHATOMIC pageblocks. The kernel backend writes it under `lock`;
    // reports (warn_alloc, the statistics snapshot) read it racily, hence atomic.
    sync::atom<unsigned long> nr_reserved_highatomic{0};
    sync::atom<long> nr_free_highatomic{0};
    // Allocations served from another migratetype's pageblock, or that retyped one (the
    // kernel's mm_page_alloc_extfrag events): I6's count of fallbacks.
    sync::atom<std::uint64_t> migratetype_fallbacks{0};

    // One migratetype per pageblock (pageblock_order pages), read without the lock on the
    // free path as the kernel does, hence atomic.
    std::unique_ptr<std::atomic<std::uint8_t>[]> pageblock_mt;

    // Counters, the vmstat way (mm/vmstat.c): a zone-wide atomic plus one small delta per
    // CPU, folded into the atomic once it passes stat_threshold. On the kernel backend every
    // update happens under `lock` (free list changes), so the deltas need no atomic
    // read-modify-write (the lock-free backend uses one, mod_page_state_unlocked()); readers
    // of page_state() see the atomic alone, off by at most drift_bound() pages (I3).
    std::array<sync::atom<long>, NR_VM_ZONE_STAT_ITEMS> vm_stat{};
    std::unique_ptr<per_cpu_zonestat[]> per_cpu_zonestats; // [cpu]
    unsigned stat_cpus = 1;
    // The fold threshold in force: calculate_normal_threshold()'s, or the lower
    // calculate_pressure_threshold()'s while the node's kswapd is awake (and the zone has a
    // percpu_drift_mark). kswapd writes it while other threads update counters, hence atomic.
    sync::atom<int> stat_threshold{0};
    // calculate_normal_threshold()'s value, which bounds every delta (the pressure threshold
    // is lower, and deltas left above it when it comes into force are not folded at once).
    int normal_stat_threshold = 0;
    // Below this many free pages the cheap count may hide a watermark breach: kswapd's
    // balance checks count exactly (refresh_zone_stat_thresholds()); 0 when never needed.
    unsigned long percpu_drift_mark = 0;

    // Direct compaction's deferral after failures (mm/compaction.c): racy in the kernel as
    // here, where they are relaxed atomics.
    std::atomic<unsigned> compact_considered{0};
    std::atomic<unsigned> compact_defer_shift{0};
    std::atomic<int> compact_order_failed{0};

    bool populated() const noexcept { return managed_pages != 0; }
    unsigned long end_pfn() const noexcept { return zone_start_pfn + spanned_pages; }
    bool contains(unsigned long pfn) const noexcept {
        return pfn >= zone_start_pfn && pfn < end_pfn();
    }
    unsigned long wmark_pages(zone_watermarks w) const noexcept {
        return _watermark[w] + watermark_boost.load(std::memory_order_relaxed);
    }
    unsigned long min_wmark_pages() const noexcept { return wmark_pages(WMARK_MIN); }
    unsigned long low_wmark_pages() const noexcept { return wmark_pages(WMARK_LOW); }
    unsigned long high_wmark_pages() const noexcept { return wmark_pages(WMARK_HIGH); }
    // zone_page_state(): cheap and within drift_bound() of the truth.
    long page_state(zone_stat_item item) const noexcept { return vmstat_read(vm_stat[item]); }
    // zone_page_state_snapshot(): the atomic plus every CPU's delta.
    long page_state_snapshot(zone_stat_item item) const noexcept {
        return vmstat_read_snapshot(vm_stat[item], &per_cpu_zonestats[0].vm_stat_diff[item],
                                    sizeof(per_cpu_zonestat), stat_cpus);
    }
    // The exported drift bound: each CPU's delta stays within +-normal_stat_threshold.
    long drift_bound() const noexcept { return long(stat_cpus) * normal_stat_threshold; }
    // __mod_zone_page_state() on the lock holder's CPU.
    void mod_page_state(zone_stat_item item, long delta) noexcept GFPLAB_REQUIRES(lock) {
        vmstat_mod(vm_stat[item], per_cpu_zonestats[lock_cpu % stat_cpus].vm_stat_diff[item], delta,
                   stat_threshold.load(std::memory_order_relaxed));
    }
    // mod_zone_page_state() on CPU `cpu` by a writer that holds no lock (the lock-free
    // page-frame backend's free counts).
    void mod_page_state_unlocked(zone_stat_item item, long delta, unsigned cpu) noexcept {
        vmstat_mod_unlocked(vm_stat[item], per_cpu_zonestats[cpu % stat_cpus].vm_stat_diff[item],
                            delta, stat_threshold.load(std::memory_order_relaxed));
    }
    // refresh_cpu_vm_stats()'s zone part for one CPU: its deltas into the zone counters.
    // Returns how many counters changed.
    int fold_cpu_stats(unsigned cpu) noexcept GFPLAB_REQUIRES(lock) {
        int changes = 0;
        for (unsigned item = 0; item < NR_VM_ZONE_STAT_ITEMS; item++)
            changes += vmstat_fold(vm_stat[item], per_cpu_zonestats[cpu].vm_stat_diff[item]);
        return changes;
    }

    migratetype pageblock_migratetype(unsigned long pfn) const noexcept {
        return migratetype(pageblock_mt[(pfn - zone_start_pfn) >> pageblock_order].load(
            std::memory_order_relaxed));
    }
    void set_pageblock_migratetype(unsigned long pfn, migratetype mt) noexcept {
        pageblock_mt[(pfn - zone_start_pfn) >> pageblock_order].store(std::uint8_t(mt),
                                                                      std::memory_order_relaxed);
    }
};

// spin_lock(&zone->lock) on CPU `cpu` (whose vmstat delta the free-list changes fold into;
// any CPU number is correct, the lock serialises the deltas' writers), until the end of the
// scope. The only way the library takes zone->lock, so that the analysis sees every holder.
class GFPLAB_SCOPED_CAPABILITY zone_lock_guard {
  public:
    zone_lock_guard(zone &z, unsigned cpu) GFPLAB_ACQUIRE(z.lock) : z_(z) {
        z_.lock.lock();
        z_.lock_cpu = cpu;
        z_.lock_holder.store(lockdep_thread_tag(), std::memory_order_relaxed);
    }
    // Adopts a lock taken by zone_trylock().
    zone_lock_guard(zone &z, unsigned cpu, std::adopt_lock_t) GFPLAB_REQUIRES(z.lock) : z_(z) {
        z_.lock_cpu = cpu;
        z_.lock_holder.store(lockdep_thread_tag(), std::memory_order_relaxed);
    }
    ~zone_lock_guard() GFPLAB_RELEASE() {
        z_.lock_holder.store(nullptr, std::memory_order_relaxed);
        z_.lock.unlock();
    }
    zone_lock_guard(const zone_lock_guard &) = delete;
    zone_lock_guard &operator=(const zone_lock_guard &) = delete;

  private:
    zone &z_;
};

// spin_trylock(&zone->lock), for the paths that must not wait (ALLOC_TRYLOCK, FPI_TRYLOCK);
// on success a zone_lock_guard adopts the lock.
inline bool zone_trylock(zone &z) GFPLAB_TRY_ACQUIRE(true, z.lock) {
    return z.lock.try_lock();
}

// lockdep_assert_held(&zone->lock), where 6.12 has it: the calling thread holds the lock,
// or the process stops with the caller's place (a bug in the library, not bad input). Like
// the kernel's, it costs nothing in builds without assertions (NDEBUG).
#ifndef NDEBUG
#define lockdep_assert_zone_held(z)                                                                \
    do {                                                                                           \
        if ((z).lock_holder.load(std::memory_order_relaxed) != ::gfplab::lockdep_thread_tag())     \
            ::gfplab::lockdep_assert_held_failed("zone->lock", __FILE__, __LINE__);                \
    } while (0)
#else
#define lockdep_assert_zone_held(z) ((void)0)
#endif

// A NUMA node (pglist_data): its zones and its two zonelists.
struct pglist_data {
    int node_id = 0;
    unsigned long node_start_pfn = 0;
    unsigned long node_spanned_pages = 0;
    std::array<zone, MAX_NR_ZONES> node_zones;
    // ZONELIST_FALLBACK: every node nearest first, each from its highest zone down;
    // ZONELIST_NOFALLBACK (__GFP_THISNODE): this node only. Null-terminated.
    std::array<std::array<zone *, MAX_NR_ZONES * 8 + 1>, MAX_ZONELISTS> zonelists{};
};

} // namespace gfplab
