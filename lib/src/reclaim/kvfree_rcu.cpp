// SPDX-License-Identifier: MIT
//
// kvfree_rcu() as 6.12's kernel/rcu/tree.c does it (kvfree_call_rcu(),
// add_ptr_to_bulk_krc_lock(), kfree_rcu_monitor(), kvfree_rcu_drain_ready(),
// kvfree_rcu_queue_batch(), kfree_rcu_work(), the page cache of spare blocks and the
// kfree_rcu shrinker), with the workqueue replaced by one monitor thread per System that
// sleeps until the earliest CPU's drain time and waits out grace periods for the slots.
#include "kvfree_rcu.hpp"

#include "../internal.hpp"

#include <gfplab/linux/shrinker.h>
#include <gfplab/report.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmalloc.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>

namespace gfplab {

namespace {

long long now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// 6.12 asks for block pages with GFP_KERNEL | __GFP_NORETRY | __GFP_NOMEMALLOC |
// __GFP_NOWARN: a light direct reclaim, no reserves, no OOM, no noise.
constexpr gfp_t bnode_gfp = GFP_KERNEL | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN;

violation make(invariant inv, const char *what, std::string message) {
    violation v;
    v.inv = inv;
    v.what = what;
    v.message = std::move(message);
    return v;
}

void report(System &s, invariant inv, const char *what, std::string message) {
    s.report(make(inv, what, std::move(message)));
}

void *ptr_of(const rcu::head *h) noexcept {
    return reinterpret_cast<void *>(h->func);
}

} // namespace

kfree_rcu_state::kfree_rcu_state(System &s)
    : s_(s), ncpus_(s.nr_cpus()), cpus_(std::make_unique<kfree_rcu_cpu[]>(ncpus_)) {
    // 6.12 registers it as "rcu-kfree"; from 6.13 mm/slab_common.c names it as here.
    shrinker_ = s_.shrinkers().alloc(0, "slab-kvfree-rcu");
    shrinker_->count_objects = &kfree_rcu_state::shrink_count;
    shrinker_->scan_objects = &kfree_rcu_state::shrink_scan;
    shrinker_->batch = 0;
    shrinker_->seeks = DEFAULT_SEEKS;
    shrinker_->private_data = this;
    s_.shrinkers().register_shrinker(shrinker_);
}

kfree_rcu_state::~kfree_rcu_state() {
    s_.shrinkers().free(shrinker_);
    if (monitor_.joinable()) {
        {
            std::lock_guard<std::mutex> g(wake_lock_);
            stop_ = true;
        }
        wake_.notify_one();
        monitor_.join();
    }
    barrier();
    for (unsigned i = 0; i < ncpus_; i++)
        drain_page_cache(cpus_[i]);
}

// --- queueing (kvfree_call_rcu) -----------------------------------------------------------

void kfree_rcu_state::call(rcu::head *head, void *ptr) {
    if (!ptr)
        return;
    if (!s_.virt_to_page(ptr) && !is_vmalloc_addr(s_, ptr)) {
        report(s_, invariant::bad_input, "foreign pointer",
               fmt::format("kvfree_rcu() of {} which is not memory of this System", ptr));
        return;
    }
    // The head-less form may sleep (6.12's might_sleep()); inside a reader its fallback, a
    // grace period waited for inline, would never end.
    const bool may_sleep = head || !rcu::read_lock_held();
    if (!may_sleep)
        report(s_, invariant::bad_input, "kvfree_rcu_mightsleep in an RCU reader",
               fmt::format("kvfree_rcu_mightsleep({}) inside rcu_read_lock(): it may "
                           "wait for a grace period",
                           ptr));
    start_monitor();
    kfree_rcu_cpu &k = cpus_[current_cpu(s_) % ncpus_];
    std::unique_lock<std::mutex> g(k.lock);
    bool queued = add_ptr_to_bulk(k, g, ptr, !head && may_sleep);
    if (!queued) {
        need_refill_.store(true, std::memory_order_relaxed); // run_page_cache_worker()
        if (head) {
            head->func = reinterpret_cast<rcu::callback>(ptr);
            head->next = k.head;
            k.head = head;
            k.head_gp_snap = rcu::get_state();
            k.count.fetch_add(1, std::memory_order_relaxed);
            chained_.fetch_add(1, std::memory_order_relaxed);
            queued_.fetch_add(1, std::memory_order_relaxed);
            queued = true;
        }
    }
    bool wake = queued && schedule_monitor(k);
    g.unlock();
    if (!queued && may_sleep) {
        // Inline: wait for the grace period here and free.
        synchronous_.fetch_add(1, std::memory_order_relaxed);
        rcu::synchronize();
        kvfree(s_, ptr);
        return;
    }
    if (!queued) {
        // No block, no head and no sleeping: 6.12 would sleep anyway. Kept for the monitor
        // on a block it allocates without blocking, so that nothing is lost.
        kvfree_rcu_bulk_data *b = alloc_bnode(GFP_NOWAIT | __GFP_NOWARN);
        g.lock();
        if (b) {
            b->nr_records = 0;
            b->next = k.bulk_head;
            k.bulk_head = b;
        }
        queued = add_ptr_to_bulk(k, g, ptr, false);
        wake = queued && schedule_monitor(k);
        g.unlock();
        if (!queued)
            report(s_, invariant::rcu_free, "kvfree_rcu object lost",
                   fmt::format("kvfree_rcu_mightsleep({}) in a reader with no memory for "
                               "a block: the object is leaked",
                               ptr));
    }
    if (wake || need_refill_.load(std::memory_order_relaxed))
        kick();
}

bool kfree_rcu_state::add_ptr_to_bulk(kfree_rcu_cpu &k, std::unique_lock<std::mutex> &g, void *ptr,
                                      bool can_alloc) {
    kvfree_rcu_bulk_data *b = k.bulk_head;
    if (!b || b->nr_records == KVFREE_BULK_MAX_ENTR) {
        b = get_cached_bnode(k);
        if (!b && can_alloc) {
            g.unlock();
            b = alloc_bnode(bnode_gfp);
            g.lock();
        }
        if (!b)
            return false;
        b->nr_records = 0;
        b->next = k.bulk_head;
        k.bulk_head = b;
    }
    b->records[b->nr_records++] = ptr;
    b->gp_snap = rcu::get_state();
    k.count.fetch_add(1, std::memory_order_relaxed);
    queued_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

long long kfree_rcu_state::delay_ns(const kfree_rcu_cpu &k) const noexcept {
    // A full block is drained after one jiffy, anything else after KFREE_DRAIN_JIFFIES.
    if (k.count.load(std::memory_order_relaxed) >= KVFREE_BULK_MAX_ENTR)
        return 1'000'000;
    return (long long)s_.config().kfree_rcu_drain_ms * 1'000'000;
}

bool kfree_rcu_state::schedule_monitor(kfree_rcu_cpu &k) {
    // __schedule_delayed_monitor_work(): a pending monitor only ever moves earlier, which
    // with one delay for everything short of a full block needs no clock read.
    const long long cur = k.monitor_at.load(std::memory_order_relaxed);
    if (cur && k.count.load(std::memory_order_relaxed) < KVFREE_BULK_MAX_ENTR)
        return false;
    const long long at = now_ns() + delay_ns(k);
    if (cur && cur <= at)
        return false;
    k.monitor_at.store(at, std::memory_order_relaxed);
    return true;
}

// --- blocks ---------------------------------------------------------------------------------

kvfree_rcu_bulk_data *kfree_rcu_state::alloc_bnode(gfp_t gfp) {
    block_allocs_.fetch_add(1, std::memory_order_seq_cst);
    page *p = s_.alloc_pages(gfp, 0);
    if (!p)
        return nullptr;
    blocks_.fetch_add(1, std::memory_order_relaxed);
    return static_cast<kvfree_rcu_bulk_data *>(s_.page_address(p));
}

kvfree_rcu_bulk_data *kfree_rcu_state::get_cached_bnode(kfree_rcu_cpu &k) noexcept {
    kvfree_rcu_bulk_data *b = k.bkvcache;
    if (b) {
        k.bkvcache = b->next;
        k.nr_bkv_objs.fetch_sub(1, std::memory_order_relaxed);
    }
    return b;
}

void kfree_rcu_state::put_cached_bnode(kfree_rcu_cpu &k, kvfree_rcu_bulk_data *b) {
    {
        std::lock_guard<std::mutex> g(k.lock);
        if (k.nr_bkv_objs.load(std::memory_order_relaxed) < rcu_min_cached_objs) {
            b->next = k.bkvcache;
            k.bkvcache = b;
            k.nr_bkv_objs.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    blocks_.fetch_sub(1, std::memory_order_relaxed);
    s_.free_pages(s_.virt_to_page(b), 0);
}

unsigned long kfree_rcu_state::drain_page_cache(kfree_rcu_cpu &k) {
    kvfree_rcu_bulk_data *list;
    {
        std::lock_guard<std::mutex> g(k.lock);
        list = k.bkvcache;
        k.bkvcache = nullptr;
        k.nr_bkv_objs.store(0, std::memory_order_relaxed);
    }
    unsigned long n = 0;
    while (list) {
        kvfree_rcu_bulk_data *next = list->next;
        blocks_.fetch_sub(1, std::memory_order_relaxed);
        s_.free_pages(s_.virt_to_page(list), 0);
        list = next;
        n++;
    }
    return n;
}

void kfree_rcu_state::fill_page_caches() {
    // fill_page_cache_func(); after the shrinker asked for memory, not this round.
    if (backoff_refill_.exchange(false, std::memory_order_relaxed))
        return;
    for (unsigned i = 0; i < ncpus_; i++) {
        kfree_rcu_cpu &k = cpus_[i];
        while (k.nr_bkv_objs.load(std::memory_order_relaxed) < rcu_min_cached_objs) {
            kvfree_rcu_bulk_data *b = alloc_bnode(bnode_gfp);
            if (!b)
                return;
            std::lock_guard<std::mutex> g(k.lock);
            b->next = k.bkvcache;
            k.bkvcache = b;
            k.nr_bkv_objs.fetch_add(1, std::memory_order_relaxed);
        }
    }
}

// --- freeing ----------------------------------------------------------------------------------

void kfree_rcu_state::free_bulk(kfree_rcu_cpu &k, kvfree_rcu_bulk_data *b, unsigned long snap) {
    if (!rcu::poll_state(snap))
        report(s_, invariant::rcu_free, "kvfree_rcu freed early",
               fmt::format("a block of {} pointers freed before its grace period "
                           "(cookie {}) ended",
                           b->nr_records, snap));
    for (unsigned long i = 0; i < b->nr_records; i++)
        kvfree(s_, b->records[i]);
    freed_.fetch_add(b->nr_records, std::memory_order_relaxed);
    put_cached_bnode(k, b);
}

void kfree_rcu_state::free_list(rcu::head *h, unsigned long snap) {
    if (h && !rcu::poll_state(snap))
        report(s_, invariant::rcu_free, "kvfree_rcu freed early",
               fmt::format("chained objects freed before their grace period (cookie {}) "
                           "ended",
                           snap));
    while (h) {
        rcu::head *next = h->next;
        kvfree(s_, ptr_of(h));
        freed_.fetch_add(1, std::memory_order_relaxed);
        h = next;
    }
}

void kfree_rcu_state::drain_ready(kfree_rcu_cpu &k, const freeing_lock &) {
    // kvfree_rcu_drain_ready(): what already had its grace period is freed now. Cookies
    // never fall from the oldest block to the newest, so the ready blocks are a tail.
    kvfree_rcu_bulk_data *ready = nullptr;
    rcu::head *head_ready = nullptr;
    unsigned long head_snap = 0;
    {
        std::lock_guard<std::mutex> g(k.lock);
        kvfree_rcu_bulk_data **link = &k.bulk_head;
        while (*link && !rcu::poll_state((*link)->gp_snap))
            link = &(*link)->next;
        ready = *link;
        *link = nullptr;
        for (kvfree_rcu_bulk_data *b = ready; b; b = b->next)
            k.count.fetch_sub(b->nr_records, std::memory_order_relaxed);
        if (k.head && rcu::poll_state(k.head_gp_snap)) {
            head_ready = k.head;
            head_snap = k.head_gp_snap;
            k.head = nullptr;
            for (rcu::head *h = head_ready; h; h = h->next)
                k.count.fetch_sub(1, std::memory_order_relaxed);
        }
    }
    while (ready) {
        kvfree_rcu_bulk_data *next = ready->next;
        free_bulk(k, ready, ready->gp_snap);
        ready = next;
    }
    free_list(head_ready, head_snap);
}

bool kfree_rcu_state::queue_batch(kfree_rcu_cpu &k) {
    // kvfree_rcu_queue_batch(): the CPU's lists move to a free slot, whose grace period
    // starts now.
    std::lock_guard<std::mutex> g(k.lock);
    if (!k.bulk_head && !k.head)
        return false;
    for (kfree_rcu_work &w : k.krw) {
        if (w.busy())
            continue;
        w.bulk_head_free = k.bulk_head;
        w.head_free = k.head;
        w.gp_snap = rcu::get_state();
        w.records = k.count.exchange(0, std::memory_order_relaxed);
        k.bulk_head = nullptr;
        k.head = nullptr;
        batches_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    return false; // both slots wait for their grace period: try again later
}

void kfree_rcu_state::monitor(kfree_rcu_cpu &k, const freeing_lock &f) {
    drain_ready(k, f);
    queue_batch(k);
}

void kfree_rcu_state::finish_works(const freeing_lock &) {
    // kfree_rcu_work() for every busy slot, after one grace period covering them all.
    unsigned long newest = 0;
    bool any = false;
    for (unsigned i = 0; i < ncpus_; i++) {
        std::lock_guard<std::mutex> g(cpus_[i].lock);
        for (const kfree_rcu_work &w : cpus_[i].krw)
            if (w.busy()) {
                newest = std::max(newest, w.gp_snap);
                any = true;
            }
    }
    if (!any)
        return;
    rcu::cond_synchronize(newest);
    for (unsigned i = 0; i < ncpus_; i++) {
        kfree_rcu_cpu &k = cpus_[i];
        for (kfree_rcu_work &slot : k.krw) {
            kfree_rcu_work w;
            {
                std::lock_guard<std::mutex> g(k.lock);
                if (!slot.busy() || !rcu::poll_state(slot.gp_snap))
                    continue;
                w = slot;
                slot = kfree_rcu_work{};
            }
            for (kvfree_rcu_bulk_data *b = w.bulk_head_free; b;) {
                kvfree_rcu_bulk_data *next = b->next;
                free_bulk(k, b, w.gp_snap);
                b = next;
            }
            free_list(w.head_free, w.gp_snap);
        }
    }
}

// --- the monitor thread -------------------------------------------------------------------

void kfree_rcu_state::start_monitor() {
    if (!s_.config().kfree_rcu_thread)
        return; // kvfree_rcu_run_monitor() does the rounds
    std::call_once(started_, [this] { monitor_ = std::thread([this] { run(); }); });
}

void kfree_rcu_state::kick() {
    {
        std::lock_guard<std::mutex> g(wake_lock_);
        kicked_ = true;
    }
    wake_.notify_one();
}

void kfree_rcu_state::run() {
    for (;;) {
        {
            std::unique_lock<std::mutex> g(wake_lock_);
            long long next = 0;
            for (unsigned i = 0; i < ncpus_; i++) {
                const long long at = cpus_[i].monitor_at.load(std::memory_order_relaxed);
                if (at && (!next || at < next))
                    next = at;
            }
            auto pred = [this] { return kicked_ || stop_; };
            if (!next)
                wake_.wait(g, pred);
            else
                wake_.wait_until(
                    g, std::chrono::steady_clock::time_point(std::chrono::nanoseconds(next)), pred);
            if (stop_)
                return;
            kicked_ = false;
        }
        round(now_ns());
    }
}

unsigned long kfree_rcu_state::run_once() {
    const std::uint64_t before = freed_.load();
    round(std::numeric_limits<long long>::max());
    return static_cast<unsigned long>(freed_.load() - before);
}

void kfree_rcu_state::round(long long now) {
    freeing_lock f(freeing_);
    if (need_refill_.exchange(false, std::memory_order_relaxed))
        fill_page_caches();
    for (unsigned i = 0; i < ncpus_; i++) {
        kfree_rcu_cpu &k = cpus_[i];
        const long long at = k.monitor_at.load(std::memory_order_relaxed);
        if (!at || at > now)
            continue;
        k.monitor_at.store(0, std::memory_order_relaxed);
        monitor(k, f);
    }
    finish_works(f);
    // What could not get a slot this round is looked at again after a drain delay.
    for (unsigned i = 0; i < ncpus_; i++) {
        kfree_rcu_cpu &k = cpus_[i];
        std::lock_guard<std::mutex> g(k.lock);
        if ((k.bulk_head || k.head) && !k.monitor_at.load(std::memory_order_relaxed))
            schedule_monitor(k);
    }
}

// --- barrier, shrinker, statistics ------------------------------------------------------------

void kfree_rcu_state::barrier() {
    if (!queued_.load())
        return;
    freeing_lock f(freeing_);
    struct detached {
        kvfree_rcu_bulk_data *bulk;
        rcu::head *head;
    };
    std::vector<std::pair<unsigned, detached>> all;
    for (unsigned i = 0; i < ncpus_; i++) {
        kfree_rcu_cpu &k = cpus_[i];
        std::lock_guard<std::mutex> g(k.lock);
        all.push_back({i, {k.bulk_head, k.head}});
        k.bulk_head = nullptr;
        k.head = nullptr;
        k.count.store(0, std::memory_order_relaxed);
        for (kfree_rcu_work &w : k.krw) {
            all.push_back({i, {w.bulk_head_free, w.head_free}});
            w = kfree_rcu_work{};
        }
    }
    auto empty = [](const auto &e) { return !e.second.bulk && !e.second.head; };
    if (std::all_of(all.begin(), all.end(), empty))
        return;
    // Everything detached was queued before this cookie: one grace period covers it.
    const unsigned long snap = rcu::get_state();
    rcu::cond_synchronize(snap);
    for (auto &[cpu, d] : all) {
        for (kvfree_rcu_bulk_data *b = d.bulk; b;) {
            kvfree_rcu_bulk_data *next = b->next;
            free_bulk(cpus_[cpu], b, b->gp_snap);
            b = next;
        }
        free_list(d.head, snap);
    }
}

unsigned long kfree_rcu_state::shrink_count(struct shrinker *shr, struct shrink_control *) {
    auto *self = static_cast<kfree_rcu_state *>(shr->private_data);
    unsigned long n = 0;
    for (unsigned i = 0; i < self->ncpus_; i++) {
        n += self->cpus_[i].count.load(std::memory_order_relaxed);
        n += self->cpus_[i].nr_bkv_objs.load(std::memory_order_relaxed);
    }
    self->backoff_refill_.store(true, std::memory_order_relaxed);
    return n ? n : SHRINK_EMPTY;
}

unsigned long kfree_rcu_state::shrink_scan(struct shrinker *shr, struct shrink_control *sc) {
    // kfree_rcu_shrink_scan(): the spare blocks go back at once, the batches whose grace
    // period has ended are freed, the rest are sent towards one. Like 6.12 it counts every
    // pointer it sent as freed; unlike it, never more than it was asked to scan (I15).
    auto *self = static_cast<kfree_rcu_state *>(shr->private_data);
    unsigned long claimed = 0;
    const std::uint64_t freed_before = self->freed_.load(std::memory_order_relaxed);
    std::unique_lock<std::mutex> f(self->freeing_, std::try_to_lock);
    for (unsigned i = 0; i < self->ncpus_ && claimed < sc->nr_to_scan; i++) {
        kfree_rcu_cpu &k = self->cpus_[i];
        claimed += k.count.load(std::memory_order_relaxed);
        const unsigned long pages = self->drain_page_cache(k);
        claimed += pages;
        self->shrinker_freed_.fetch_add(pages, std::memory_order_relaxed);
        // The monitor thread may be waiting out a grace period with the lock held: then
        // it will get to these batches itself.
        if (f.owns_lock())
            self->monitor(k, f);
    }
    if (f.owns_lock())
        f.unlock();
    self->shrinker_freed_.fetch_add(self->freed_.load(std::memory_order_relaxed) - freed_before,
                                    std::memory_order_relaxed);
    self->kick();
    claimed = std::min<unsigned long>(claimed, sc->nr_to_scan);
    return claimed ? claimed : SHRINK_STOP;
}

kvfree_rcu_stats kfree_rcu_state::stats() const {
    kvfree_rcu_stats st;
    st.queued = queued_.load();
    st.freed = freed_.load();
    st.pending = st.queued - st.freed;
    st.chained = chained_.load();
    st.synchronous = synchronous_.load();
    for (unsigned i = 0; i < ncpus_; i++)
        st.spare_blocks += cpus_[i].nr_bkv_objs.load(std::memory_order_relaxed);
    st.blocks = blocks_.load() - st.spare_blocks;
    st.batches = batches_.load();
    st.shrinker_freed = shrinker_freed_.load();
    return st;
}

void kfree_rcu_state::verify(std::vector<violation> &out) const {
    std::uint64_t held = 0;
    for (unsigned i = 0; i < ncpus_; i++) {
        kfree_rcu_cpu &k = cpus_[i];
        std::lock_guard<std::mutex> g(k.lock);
        unsigned long in_lists = 0;
        for (auto *b = k.bulk_head; b; b = b->next)
            in_lists += b->nr_records;
        for (auto *h = k.head; h; h = h->next)
            in_lists++;
        if (in_lists != k.count.load(std::memory_order_relaxed))
            out.push_back(make(invariant::rcu_free, "kvfree_rcu count",
                               fmt::format("CPU {}: {} pointers in the lists, the counter says {}",
                                           i, in_lists, k.count.load())));
        held += in_lists;
        for (const kfree_rcu_work &w : k.krw) {
            for (auto *b = w.bulk_head_free; b; b = b->next)
                held += b->nr_records;
            for (auto *h = w.head_free; h; h = h->next)
                held++;
        }
    }
    const std::uint64_t queued = queued_.load(), freed = freed_.load();
    if (held != queued - freed)
        out.push_back(
            make(invariant::rcu_free, "kvfree_rcu object lost",
                 fmt::format("{} queued, {} freed, but {} still held", queued, freed, held)));
}

// --- the System's entry points ----------------------------------------------------------------

void kvfree_call_rcu(System &s, rcu::head *head, void *ptr) {
    kfree_rcu_of(s).call(head, ptr);
}

void kvfree_rcu_barrier(System &s) {
    kfree_rcu_of(s).barrier();
}

unsigned long kvfree_rcu_run_monitor(System &s) {
    return kfree_rcu_of(s).run_once();
}

kvfree_rcu_stats kvfree_rcu_statistics(System &s) {
    return kfree_rcu_of(s).stats();
}

std::uint64_t kvfree_rcu_block_allocations(System &s) noexcept {
    return kfree_rcu_of(s).block_allocations();
}

} // namespace gfplab
