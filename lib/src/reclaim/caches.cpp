// SPDX-License-Identifier: MIT
//
// object_cache and deferred_free_list: shrinkers shaped like super_cache_scan and the
// kfree_rcu shrinker (fs/super.c, kernel/rcu/tree.c 6.12).
#include <gfplab/caches.hpp>

#include <gfplab/linux/shrinker.h>
#include <gfplab/shrinker.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>

#include <algorithm>

namespace gfplab {

// --- object_cache -------------------------------------------------------------------------

// A dentry's size on x86-64.
constexpr unsigned dentry_size = 192;

object_cache::object_cache(System &s, std::string name, lock_class *fs_lock_class) : s_(s) {
    slab_ = kmem_cache_create(s_, (name + "-dentry").c_str(), dentry_size, nullptr,
                              SLAB_RECLAIM_ACCOUNT | SLAB_PANIC);
    if (!fs_lock_class) {
        own_class_ = std::make_unique<lock_class>(name + "->s_umount");
        fs_lock_class = own_class_.get();
    }
    fs_lock_ = std::make_unique<Lock>(*fs_lock_class);
    shrinker_ = s_.shrinkers().alloc(0, "sb-" + name);
    shrinker_->count_objects = &object_cache::count_objects;
    shrinker_->scan_objects = &object_cache::scan_objects;
    shrinker_->private_data = this;
    shrinker_->batch = 1024; // the superblock shrinker's
    // The scan takes the lock only when it may enter the filesystem: declared for __GFP_FS.
    s_.shrinkers().declare_lock(shrinker_, *fs_lock_class, __GFP_FS);
    s_.shrinkers().register_shrinker(shrinker_);
}

object_cache::~object_cache() {
    s_.shrinkers().free(shrinker_);
    for (void *o : objects_)
        kmem_cache_free(slab_, o);
    kmem_cache_destroy(slab_);
}

bool object_cache::add(gfp_t gfp) {
    // Allocated outside the LRU lock: the allocation may reclaim from this very cache.
    void *o = kmem_cache_alloc(slab_, gfp);
    if (!o)
        return false;
    std::lock_guard<std::mutex> g(lru_lock_);
    objects_.push_back(o);
    return true;
}

bool object_cache::remove() {
    void *o;
    {
        std::lock_guard<std::mutex> g(lru_lock_);
        if (objects_.empty())
            return false;
        o = objects_.back();
        objects_.pop_back();
    }
    kmem_cache_free(slab_, o);
    return true;
}

unsigned long object_cache::size() const {
    std::lock_guard<std::mutex> g(lru_lock_);
    return objects_.size();
}

unsigned long object_cache::prune(unsigned long n) {
    std::vector<void *> victims;
    {
        std::lock_guard<std::mutex> g(lru_lock_);
        n = std::min<unsigned long>(n, objects_.size());
        victims.assign(objects_.begin(), objects_.begin() + long(n));
        objects_.erase(objects_.begin(), objects_.begin() + long(n));
    }
    for (void *o : victims)
        kmem_cache_free(slab_, o);
    return victims.size();
}

unsigned long object_cache::count_objects(struct shrinker *shr, struct shrink_control *) {
    // super_cache_count(): no deadlock avoidance here (the contract), just the count.
    auto *self = static_cast<object_cache *>(shr->private_data);
    unsigned long n = self->size();
    return n ? n : SHRINK_EMPTY;
}

unsigned long object_cache::scan_objects(struct shrinker *shr, struct shrink_control *sc) {
    auto *self = static_cast<object_cache *>(shr->private_data);
    // super_cache_scan(): reclaim from a context that may not enter the filesystem must not
    // recurse into it, and a superblock busy elsewhere (mount, umount, or the very caller
    // holding it) is not waited for.
    if (!(sc->gfp_mask & __GFP_FS))
        return SHRINK_STOP;
    if (!self->fs_lock_->try_lock())
        return SHRINK_STOP;
    unsigned long freed = self->prune(sc->nr_to_scan);
    self->fs_lock_->unlock();
    return freed;
}

// --- deferred_free_list -------------------------------------------------------------------

deferred_free_list::deferred_free_list(System &s, std::string name) : s_(s) {
    shrinker_ = s_.shrinkers().alloc(0, std::move(name));
    shrinker_->count_objects = &deferred_free_list::count_objects;
    shrinker_->scan_objects = &deferred_free_list::scan_objects;
    shrinker_->private_data = this;
    s_.shrinkers().register_shrinker(shrinker_);
}

deferred_free_list::~deferred_free_list() {
    s_.shrinkers().free(shrinker_);
    flush();
}

void deferred_free_list::queue(page *p, unsigned order) {
    std::lock_guard<std::mutex> g(lock_);
    queued_.emplace_back(p, order);
}

unsigned long deferred_free_list::free_some(unsigned long n) {
    std::vector<std::pair<page *, unsigned>> batch;
    {
        std::lock_guard<std::mutex> g(lock_);
        n = std::min<unsigned long>(n, queued_.size());
        batch.assign(queued_.begin(), queued_.begin() + long(n));
        queued_.erase(queued_.begin(), queued_.begin() + long(n));
    }
    // Freed outside the lock: free_pages may take zone locks, and queue() must stay cheap.
    for (auto &[p, order] : batch)
        s_.free_pages(p, order);
    return batch.size();
}

unsigned long deferred_free_list::flush() {
    return free_some(~0ul);
}

unsigned long deferred_free_list::pending() const {
    std::lock_guard<std::mutex> g(lock_);
    return queued_.size();
}

unsigned long deferred_free_list::count_objects(struct shrinker *shr, struct shrink_control *) {
    auto *self = static_cast<deferred_free_list *>(shr->private_data);
    unsigned long n = self->pending();
    return n ? n : SHRINK_EMPTY;
}

unsigned long deferred_free_list::scan_objects(struct shrinker *shr, struct shrink_control *sc) {
    auto *self = static_cast<deferred_free_list *>(shr->private_data);
    // kfree_rcu_shrink_scan(): what it could free now, or SHRINK_STOP when nothing.
    unsigned long freed = self->free_some(sc->nr_to_scan);
    return freed ? freed : SHRINK_STOP;
}

} // namespace gfplab
