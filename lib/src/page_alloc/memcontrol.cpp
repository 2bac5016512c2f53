// SPDX-License-Identifier: MIT
//
// __GFP_ACCOUNT charging (6.12 __memcg_kmem_charge_page / __memcg_kmem_uncharge_page, and
// try_charge_memcg() that slab objects charge their pages through, slab/memcontrol.cpp),
// without memcg reclaim. The group id rides in the head page's lru.prev, unused while a page
// is allocated (the kernel's page->memcg_data).
#include "../internal.hpp"

#include <gfplab/scope.hpp>
#include <gfplab/system.hpp>

#include <stdexcept>

namespace gfplab {
namespace {
thread_local unsigned active = root_mem_cgroup;
}

unsigned set_active_memcg(unsigned id) noexcept {
    unsigned old = active;
    active = id;
    return old;
}

unsigned active_memcg() noexcept {
    return active;
}

unsigned System::mem_cgroup_create(std::string name, std::uint64_t limit_pages) {
    std::lock_guard<std::mutex> guard(memcg_lock_);
    unsigned id = unsigned(memcg_owner_.size()) + 1;
    if (id >= max_mem_cgroups)
        throw std::length_error("gfplab: at most 255 accounting groups per System");
    auto g = std::make_unique<mem_cgroup>();
    g->name = std::move(name);
    g->limit_pages = limit_pages;
    memcgs_[id].store(g.get(), std::memory_order_release);
    memcg_owner_.push_back(std::move(g));
    return id;
}

const mem_cgroup *System::memcg(unsigned id) const noexcept {
    return id < max_mem_cgroups ? memcgs_[id].load(std::memory_order_acquire) : nullptr;
}

mem_cgroup *memcg_group(System &s, unsigned id) noexcept {
    return id ? s.memcgs_[id % max_mem_cgroups].load(std::memory_order_acquire) : nullptr;
}

bool try_charge_memcg(mem_cgroup &g, gfp_t gfp, std::uint64_t nr_pages) {
    std::uint64_t now = g.usage_pages.fetch_add(nr_pages, std::memory_order_relaxed) + nr_pages;
    if (g.limit_pages && now > g.limit_pages) {
        // Reclaim itself (PF_MEMALLOC) and requests that may not fail or may use reserves
        // (__GFP_NOFAIL, __GFP_HIGH) are charged past the limit; others fail. The model has
        // no memcg reclaim or memcg OOM killer to try first.
        if (!(gfp & (__GFP_NOFAIL | __GFP_HIGH)) && !(current_task_flags() & PF_MEMALLOC)) {
            g.usage_pages.fetch_sub(nr_pages, std::memory_order_relaxed);
            g.failcnt.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        g.forced.fetch_add(1, std::memory_order_relaxed);
    }
    std::uint64_t max = g.max_usage_pages.load(std::memory_order_relaxed);
    while (now > max && !g.max_usage_pages.compare_exchange_weak(max, now))
        ;
    return true;
}

bool System::memcg_charge(page *p, gfp_t gfp, unsigned order) {
    const unsigned id = active;
    mem_cgroup *g = memcg_group(*this, id);
    if (!g)
        return true; // the root, or a group of another System: nothing to charge
    if (!try_charge_memcg(*g, gfp, 1ull << order))
        return false;
    p->lru.prev = id;
    set_page_flags(*p, PG_memcg);
    return true;
}

void System::memcg_uncharge(page *p, unsigned order) {
    if (!(p->flags.load(std::memory_order_relaxed) & PG_memcg))
        return;
    if (mem_cgroup *g = memcgs_[p->lru.prev % max_mem_cgroups].load(std::memory_order_acquire))
        memcg_uncharge_pages(*g, 1ull << order);
    clear_page_flags(*p, PG_memcg);
    p->lru.prev = pfn_nil;
}

} // namespace gfplab
