// SPDX-License-Identifier: MIT
//
// object_cache: a shrinker shaped like super_cache_scan (fs/super.c 6.12).
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

} // namespace gfplab
