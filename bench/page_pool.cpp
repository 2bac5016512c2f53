// SPDX-License-Identifier: MIT
#include "page_pool.hpp"

#include <gfplab/shrinker.hpp>

#include <stdexcept>
#include <vector>

namespace bench {

page_pool::page_pool(gfplab::System &s) : sys_(s) {
    shrinker_ = sys_.shrinkers().alloc(0, "bench-page-pool");
    if (!shrinker_)
        throw std::runtime_error("page_pool: shrinker_alloc failed");
    shrinker_->count_objects = count_objects;
    shrinker_->scan_objects = scan_objects;
    shrinker_->private_data = this;
    if (!sys_.shrinkers().register_shrinker(shrinker_))
        throw std::runtime_error("page_pool: shrinker_register refused");
}

page_pool::~page_pool() {
    // After free() returns no scan runs any more, so the rest can go without racing it.
    sys_.shrinkers().free(shrinker_);
    release(~0ul);
}

void page_pool::put(gfplab::page *p, unsigned order) {
    std::lock_guard g(lock_);
    held_.emplace_back(p, order);
    nr_blocks_.store(held_.size(), std::memory_order_relaxed);
}

unsigned long page_pool::release(unsigned long nr) {
    std::vector<std::pair<gfplab::page *, unsigned>> victims;
    {
        std::lock_guard g(lock_);
        while (nr-- && !held_.empty()) {
            victims.push_back(held_.front());
            held_.pop_front();
        }
        nr_blocks_.store(held_.size(), std::memory_order_relaxed);
    }
    // Freed outside the lock: free_pages may take the zone lock, and a worker that holds
    // the zone lock never waits for ours, but keeping the two apart needs no proof.
    for (auto [p, order] : victims)
        sys_.free_pages(p, order);
    return victims.size();
}

unsigned long page_pool::count_objects(struct shrinker *s, struct shrink_control *) {
    const unsigned long n = static_cast<page_pool *>(s->private_data)->blocks();
    return n ? n : SHRINK_EMPTY;
}

unsigned long page_pool::scan_objects(struct shrinker *s, struct shrink_control *sc) {
    auto *pool = static_cast<page_pool *>(s->private_data);
    pool->scans_.fetch_add(1, std::memory_order_relaxed);
    // Giving pages back needs neither I/O nor the filesystem: any reclaim context may.
    const unsigned long freed = pool->release(sc->nr_to_scan);
    sc->nr_scanned = freed;
    return freed;
}

} // namespace bench
