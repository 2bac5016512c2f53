// SPDX-License-Identifier: MIT
//
// A cache of real pages that a shrinker gives back (like a dentry cache): each scan frees up
// to nr_to_scan of them, so reclaim makes progress while it has any. Shared by the tests
// that need reclaim to succeed (or to make progress without helping a request).
#pragma once

#include <gfplab/shrinker.hpp>
#include <gfplab/system.hpp>

#include <algorithm>
#include <mutex>
#include <vector>

namespace gfplab::test {

struct page_shrinker {
    System &s;
    std::mutex lock;
    std::vector<page *> pages;
    unsigned long scans = 0; // scan_objects calls
    struct shrinker *shr = nullptr;

    page_shrinker(System &sys, const char *name, std::vector<page *> given = {})
        : s(sys), pages(std::move(given)) {
        shr = s.shrinkers().alloc(0, name);
        shr->private_data = this;
        shr->count_objects = [](struct shrinker *sh, struct shrink_control *) -> unsigned long {
            auto *self = static_cast<page_shrinker *>(sh->private_data);
            std::lock_guard<std::mutex> g(self->lock);
            return self->pages.empty() ? SHRINK_EMPTY : self->pages.size();
        };
        shr->scan_objects = [](struct shrinker *sh, struct shrink_control *sc) -> unsigned long {
            auto *self = static_cast<page_shrinker *>(sh->private_data);
            std::vector<page *> victims;
            {
                std::lock_guard<std::mutex> g(self->lock);
                self->scans++;
                const auto n = std::min<std::size_t>(sc->nr_to_scan, self->pages.size());
                victims.assign(self->pages.end() - long(n), self->pages.end());
                self->pages.resize(self->pages.size() - n);
            }
            for (page *p : victims)
                self->s.free_pages(p, 0);
            return victims.size();
        };
        s.shrinkers().register_shrinker(shr);
    }
    ~page_shrinker() {
        s.shrinkers().free(shr);
        for (page *p : pages)
            s.free_pages(p, 0);
    }
    page_shrinker(const page_shrinker &) = delete;
    page_shrinker &operator=(const page_shrinker &) = delete;

    // Up to n pages, taken without reclaim and without waking kswapd.
    void fill(unsigned long n) {
        for (unsigned long i = 0; i < n; i++) {
            page *p = s.alloc_pages((GFP_KERNEL & ~__GFP_RECLAIM) | __GFP_NOWARN, 0);
            if (!p)
                break;
            std::lock_guard<std::mutex> g(lock);
            pages.push_back(p);
        }
    }
    std::size_t size() {
        std::lock_guard<std::mutex> g(lock);
        return pages.size();
    }
};

} // namespace gfplab::test
