// SPDX-License-Identifier: MIT
//
// kvfree_rcu()'s per-System state (6.12 kernel/rcu/tree.c: struct kfree_rcu_cpu, struct
// kfree_rcu_cpu_work, struct kvfree_rcu_bulk_data). Private to the reclaim layer; the
// System owns one and reaches it through kfree_rcu_of().
#pragma once

#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/linux/mmzone.h>
#include <gfplab/page.hpp>
#include <gfplab/report.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

struct shrinker;
struct shrink_control;

namespace gfplab {

// One page of the System holding queued pointers, newest block first.
struct kvfree_rcu_bulk_data {
    kvfree_rcu_bulk_data *next;
    unsigned long gp_snap; // the cookie of its newest pointer
    unsigned long nr_records;
    void *records[(PAGE_SIZE - 3 * sizeof(unsigned long)) / sizeof(void *)];
};
static_assert(sizeof(kvfree_rcu_bulk_data) == PAGE_SIZE);
inline constexpr unsigned long KVFREE_BULK_MAX_ENTR =
    sizeof(kvfree_rcu_bulk_data::records) / sizeof(void *);
inline constexpr unsigned KFREE_N_BATCHES = 2; // in-flight slots per CPU
inline constexpr unsigned rcu_min_cached_objs = 5;

// What waits for one grace period: a batch moved out of a CPU's lists.
struct kfree_rcu_work {
    kvfree_rcu_bulk_data *bulk_head_free = nullptr;
    rcu::head *head_free = nullptr;
    unsigned long gp_snap = 0; // taken when the batch was moved here
    unsigned long records = 0;
    bool busy() const noexcept { return bulk_head_free || head_free; }
};

struct alignas(64) kfree_rcu_cpu {
    std::mutex lock; // krcp->lock: never held across an allocation or a grace period
    kvfree_rcu_bulk_data *bulk_head = nullptr;
    rcu::head *head = nullptr; // objects chained through their rcu_head (func = the pointer)
    unsigned long head_gp_snap = 0;
    std::atomic<unsigned long> count{0}; // pointers in bulk_head and head (krc_count())
    kfree_rcu_work krw[KFREE_N_BATCHES];
    kvfree_rcu_bulk_data *bkvcache = nullptr; // spare blocks
    std::atomic<unsigned> nr_bkv_objs{0};
    std::atomic<long long> monitor_at{0}; // steady-clock ns; 0: monitor not scheduled
};

class kfree_rcu_state {
  public:
    explicit kfree_rcu_state(System &s);
    ~kfree_rcu_state();
    kfree_rcu_state(const kfree_rcu_state &) = delete;
    kfree_rcu_state &operator=(const kfree_rcu_state &) = delete;

    void call(rcu::head *head, void *ptr);
    void barrier();
    // One monitor round on the calling thread, every CPU's drain time taken as due.
    unsigned long run_once();
    kvfree_rcu_stats stats() const;
    std::uint64_t block_allocations() const noexcept {
        return block_allocs_.load(std::memory_order_seq_cst);
    }
    // Recount of every list against the counters (quiescent): I20 "lost" otherwise.
    void verify(std::vector<violation> &out) const;
    // Quiescence for checkers (with kswapd_park()): the monitor finishes its round and
    // frees, allocates and refills nothing until unpark(). The same thread calls both.
    void park() { freeing_.lock(); }
    void unpark() { freeing_.unlock(); }

  private:
    using freeing_lock = std::unique_lock<std::mutex>;
    bool add_ptr_to_bulk(kfree_rcu_cpu &k, std::unique_lock<std::mutex> &g, void *ptr,
                         bool can_alloc);
    bool schedule_monitor(kfree_rcu_cpu &k); // with k.lock held; true: kick the monitor
    void monitor(kfree_rcu_cpu &k, const freeing_lock &);
    void drain_ready(kfree_rcu_cpu &k, const freeing_lock &);
    bool queue_batch(kfree_rcu_cpu &k);
    void finish_works(const freeing_lock &);
    void free_bulk(kfree_rcu_cpu &k, kvfree_rcu_bulk_data *b, unsigned long snap);
    void free_list(rcu::head *h, unsigned long snap);
    void put_cached_bnode(kfree_rcu_cpu &k, kvfree_rcu_bulk_data *b);
    kvfree_rcu_bulk_data *get_cached_bnode(kfree_rcu_cpu &k) noexcept;
    kvfree_rcu_bulk_data *alloc_bnode(gfp_t gfp);
    unsigned long drain_page_cache(kfree_rcu_cpu &k);
    void fill_page_caches();
    void start_monitor();
    void kick();
    void run();
    void round(long long now); // the monitor's work for the CPUs due by now
    long long delay_ns(const kfree_rcu_cpu &k) const noexcept;

    static unsigned long shrink_count(struct shrinker *, struct shrink_control *);
    static unsigned long shrink_scan(struct shrinker *, struct shrink_control *);

    System &s_;
    unsigned ncpus_;
    std::unique_ptr<kfree_rcu_cpu[]> cpus_;
    struct shrinker *shrinker_ = nullptr;

    // Only the holder of freeing_ frees queued pointers, finishes in-flight slots or refills
    // the spare blocks: the monitor thread, kvfree_rcu_barrier(), the shrinker (which only
    // tries) and a parked checker.
    std::mutex freeing_;

    std::mutex wake_lock_;
    std::condition_variable wake_;
    bool kicked_ = false;
    bool stop_ = false;
    std::atomic<bool> need_refill_{false};
    std::atomic<bool> backoff_refill_{false};
    std::once_flag started_;
    std::thread monitor_;

    std::atomic<std::uint64_t> queued_{0}, freed_{0}, chained_{0}, synchronous_{0};
    std::atomic<std::uint64_t> blocks_{0}, batches_{0}, shrinker_freed_{0};
    std::atomic<std::uint64_t> block_allocs_{0}; // alloc_bnode() calls, counted on entry
};

// The System's instance (lib/src/mm/system.cpp creates it).
kfree_rcu_state &kfree_rcu_of(System &s) noexcept;

} // namespace gfplab
