// SPDX-License-Identifier: MIT
#include "cache.hpp"

#include "shrinker_liveness.hpp"

#include <gfplab/gfp.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace gfplab::stress {
namespace {

std::uint64_t pattern(std::uint64_t owner, std::uint64_t serial, unsigned long index) {
    // splitmix64's finaliser: neighbouring serials give unrelated words.
    std::uint64_t z = (owner << 48) ^ (serial << 12) ^ index ^ 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

} // namespace

void stamp_block(System &s, page *p, unsigned order, std::uint64_t owner, std::uint64_t serial) {
    auto *base = static_cast<std::uint8_t *>(s.page_address(p));
    for (unsigned long i = 0; i < (1ul << order); i++) {
        const std::uint64_t w = pattern(owner, serial, i);
        std::memcpy(base + (i << PAGE_SHIFT), &w, sizeof w);
        std::memcpy(base + (i << PAGE_SHIFT) + PAGE_SIZE - sizeof w, &w, sizeof w);
    }
}

long check_block(System &s, page *p, unsigned order, std::uint64_t owner, std::uint64_t serial) {
    const auto *base = static_cast<const std::uint8_t *>(s.page_address(p));
    for (unsigned long i = 0; i < (1ul << order); i++) {
        const std::uint64_t w = pattern(owner, serial, i);
        std::uint64_t head, tail;
        std::memcpy(&head, base + (i << PAGE_SHIFT), sizeof head);
        std::memcpy(&tail, base + (i << PAGE_SHIFT) + PAGE_SIZE - sizeof tail, sizeof tail);
        if (head != w || tail != w)
            return long(i);
    }
    return -1;
}

bool block_is_zero(System &s, page *p, unsigned order) {
    const auto *base = static_cast<const std::uint8_t *>(s.page_address(p));
    const unsigned long n = std::min(1ul << order, 64ul);
    for (unsigned long i = 0; i < n; i++) {
        const std::uint8_t *pg = base + (i << PAGE_SHIFT);
        for (unsigned off : {0u, 8u, unsigned(PAGE_SIZE) / 2, unsigned(PAGE_SIZE) - 8}) {
            std::uint64_t w;
            std::memcpy(&w, pg + off, sizeof w);
            if (w)
                return false;
        }
    }
    return true;
}

page_cache::page_cache(System &s, oracle &o, std::string name, Lock *fs_lock, trace_log *trace,
                       page_ledger *ledger)
    : sys_(s), oracle_(o), name_(std::move(name)), fs_lock_(fs_lock), trace_(trace),
      ledger_(ledger) {
    shr_ = sys_.shrinkers().alloc(0, name_);
    // The token outlives this cache: a late call is reported (I15) without touching it.
    fuzz::shrinker_liveness::arm(shr_, name_,
                                 [&o](const std::string &what, const std::string &message) {
                                     o.harness_violation(15, what, message);
                                 });
    shr_->private_data = this;
    shr_->count_objects = &page_cache::count;
    shr_->scan_objects = &page_cache::scan;
    if (fs_lock_)
        sys_.shrinkers().declare_lock(shr_, const_cast<lock_class &>(fs_lock_->klass()), __GFP_FS);
    sys_.shrinkers().register_shrinker(shr_);
}

page_cache::~page_cache() {
    sys_.shrinkers().free(shr_);
    fuzz::shrinker_liveness::retire(shr_); // waits for a call shrinker_free() left running
    for (page *p : pages_)
        release(p);
}

unsigned page_cache::fill(unsigned n, gfp_t gfp) {
    unsigned got = 0;
    for (; got < n; got++) {
        page *p = sys_.alloc_pages(gfp, 0);
        if (!p)
            break;
        if (ledger_)
            ledger_->handed_out(0);
        stamp_block(sys_, p, 0, cache_owner, sys_.page_to_pfn(p));
        std::lock_guard<std::mutex> g(lock_);
        pages_.push_back(p);
    }
    return got;
}

std::size_t page_cache::size() {
    std::lock_guard<std::mutex> g(lock_);
    return pages_.size();
}

void page_cache::release(page *p) {
    const long bad = check_block(sys_, p, 0, cache_owner, sys_.page_to_pfn(p));
    if (bad >= 0)
        oracle_.harness_violation(
            1, "cached page overwritten",
            fmt::format("{}: pfn {} lost its pattern while cached", name_, sys_.page_to_pfn(p)), 0,
            0, static_cast<long long>(sys_.page_to_pfn(p)));
    if (ledger_)
        ledger_->returned(0); // out of the ledger before the allocator has it back
    sys_.free_pages(p, 0);
}

unsigned long page_cache::count(struct shrinker *sh, struct shrink_control *) {
    const fuzz::shrinker_call call(sh, "count_objects");
    if (!call)
        return 0;
    auto *self = static_cast<page_cache *>(sh->private_data);
    std::lock_guard<std::mutex> g(self->lock_);
    return self->pages_.empty() ? SHRINK_EMPTY : self->pages_.size();
}

unsigned long page_cache::scan(struct shrinker *sh, struct shrink_control *sc) {
    const fuzz::shrinker_call call(sh, "scan_objects");
    if (!call)
        return SHRINK_STOP;
    auto *self = static_cast<page_cache *>(sh->private_data);
    // I7: a shrinker runs only in reclaim, and an allocation that may not reclaim never
    // gets there, however short memory is.
    if (const op_context *c = current_op_context(); c && c->nonblocking)
        self->oracle_.harness_violation(
            7, "shrinker ran inside a non-blocking allocation",
            fmt::format("{}: scan with mode:{} on a worker whose allocation lacks "
                        "__GFP_DIRECT_RECLAIM",
                        self->name_, gfp_describe(sc->gfp_mask)),
            sc->gfp_mask);
    const double t0 = self->trace_ && self->trace_->enabled() ? self->oracle_.elapsed() : 0;
    const unsigned long freed = self->scan_pages(sc);
    if (self->trace_ && self->trace_->enabled()) {
        const op_context *c = current_op_context();
        self->trace_->complete(self->name_, "shrinker", t0, self->oracle_.elapsed() - t0,
                               c ? c->worker : -1,
                               {{"mode", gfp_describe(sc->gfp_mask)},
                                {"nr_to_scan", sc->nr_to_scan},
                                {"freed", freed}});
    }
    return freed;
}

unsigned long page_cache::scan_pages(struct shrink_control *sc) {
    // super_cache_scan(): without __GFP_FS the filesystem may not be entered at all, and the
    // superblock lock is only tried: its holder may be the very thread reclaiming here.
    const bool fs = fs_lock_ != nullptr;
    if (fs && !(sc->gfp_mask & __GFP_FS))
        return SHRINK_STOP;
    if (fs && (current_holds(fs_lock_->klass()) || !fs_lock_->try_lock()))
        return SHRINK_STOP;
    std::vector<page *> victims;
    {
        std::lock_guard<std::mutex> g(lock_);
        const unsigned long n = std::min<unsigned long>(sc->nr_to_scan, pages_.size());
        victims.assign(pages_.end() - long(n), pages_.end());
        pages_.resize(pages_.size() - n);
    }
    if (fs)
        fs_lock_->unlock();
    for (page *p : victims)
        release(p);
    return victims.size();
}

} // namespace gfplab::stress
