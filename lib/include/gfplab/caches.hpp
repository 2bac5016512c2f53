// SPDX-License-Identifier: MIT
//
// gfplab/caches.hpp - ready-made shrinkers that behave like two notable kernel ones:
//
//  - object_cache: a dentry/inode-like cache of unused objects behind a filesystem lock
//    (super_cache_count/super_cache_scan, fs/super.c 6.12), its objects from a
//    SLAB_RECLAIM_ACCOUNT kmem_cache as dentries are: its scan refuses with
//    SHRINK_STOP when the reclaim context lacks __GFP_FS (reclaim must not recurse into the
//    filesystem) or when the lock is held elsewhere (the kernel's trylock of s_umount), and
//    the lock is declared to the registry, so that allocating while holding it with
//    __GFP_FS is reported as reclaim recursion (I9).
//  - deferred_free_list: pages queued for freeing later, like kfree_rcu's batches
//    (kfree_rcu_shrink_count/scan): a background flush frees them, and under pressure the
//    shrinker does, returning SHRINK_STOP when it could free nothing.
//
// Both register their shrinker on construction and shrinker_free() it on destruction (no
// callback runs after the destructor has begun freeing), then free what they still hold.
#pragma once

#include <gfplab/linux/gfp_types.h>
#include <gfplab/linux/shrinker.h>
#include <gfplab/lockdep.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gfplab {

class System;
struct page;
struct kmem_cache;

class object_cache {
  public:
    // name: "sb-<name>" is the shrinker's name. fs_lock_class: the class of the filesystem
    // lock (the superblock's s_umount); nullptr: the cache makes one, "<name>->s_umount".
    object_cache(System &s, std::string name, lock_class *fs_lock_class = nullptr);
    ~object_cache();
    object_cache(const object_cache &) = delete;
    object_cache &operator=(const object_cache &) = delete;

    // Caches one new object (d_alloc/iget: an unused dentry on the LRU), a 192-byte object
    // (a dentry's size) from the cache "<name>-dentry" (SLAB_RECLAIM_ACCOUNT: its slabs are
    // MIGRATE_RECLAIMABLE). Pruned objects give pages back only as their slabs empty, as
    // in the kernel. false when the allocation failed.
    bool add(gfp_t gfp = GFP_KERNEL);
    // The user drops one object itself (an unlink): false when the cache is empty.
    bool remove();
    // Objects cached.
    unsigned long size() const;
    // The filesystem lock the shrinker's scan trylocks.
    Lock &fs_lock() noexcept { return *fs_lock_; }
    struct shrinker *shrinker() const noexcept {
        return shrinker_;
    }

  private:
    static unsigned long count_objects(struct shrinker *, struct shrink_control *);
    static unsigned long scan_objects(struct shrinker *, struct shrink_control *);
    // Unlinks up to n objects (the LRU's oldest) and frees them.
    unsigned long prune(unsigned long n);

    System &s_;
    kmem_cache *slab_ = nullptr;
    std::unique_ptr<lock_class> own_class_;
    std::unique_ptr<Lock> fs_lock_;
    mutable std::mutex lru_lock_; // the list_lru's lock: never held across an allocation
    std::vector<void *> objects_; // oldest first
    struct shrinker *shrinker_ = nullptr;
};

class deferred_free_list {
  public:
    explicit deferred_free_list(System &s, std::string name = "rcu-kfree");
    // Unregisters, then frees what is still queued (rcu_barrier()).
    ~deferred_free_list();
    deferred_free_list(const deferred_free_list &) = delete;
    deferred_free_list &operator=(const deferred_free_list &) = delete;

    // kfree_rcu(): p (a block of 2^order pages from this System) is freed later.
    void queue(page *p, unsigned order = 0);
    // The background work (kfree_rcu_monitor after a grace period): frees everything
    // queued. Returns the blocks freed.
    unsigned long flush();
    // Blocks queued.
    unsigned long pending() const;
    struct shrinker *shrinker() const noexcept {
        return shrinker_;
    }

  private:
    static unsigned long count_objects(struct shrinker *, struct shrink_control *);
    static unsigned long scan_objects(struct shrinker *, struct shrink_control *);
    unsigned long free_some(unsigned long n);

    System &s_;
    mutable std::mutex lock_;
    std::vector<std::pair<page *, unsigned>> queued_;
    struct shrinker *shrinker_ = nullptr;
};

} // namespace gfplab
