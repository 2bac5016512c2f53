// SPDX-License-Identifier: MIT
//
// gfplab/caches.hpp - a ready-made shrinker that behaves like a notable kernel one
// (kvfree_rcu()'s, the other, is gfplab/kvfree_rcu.hpp's and every System has it):
//
//  - object_cache: a dentry/inode-like cache of unused objects behind a filesystem lock
//    (super_cache_count/super_cache_scan, fs/super.c 6.12), its objects from a
//    SLAB_RECLAIM_ACCOUNT kmem_cache as dentries are: its scan refuses with
//    SHRINK_STOP when the reclaim context lacks __GFP_FS (reclaim must not recurse into the
//    filesystem) or when the lock is held elsewhere (the kernel's trylock of s_umount), and
//    the lock is declared to the registry, so that allocating while holding it with
//    __GFP_FS is reported as reclaim recursion (I9).
//
// It registers its shrinker on construction and shrinker_free()s it on destruction (no
// callback runs after the destructor has begun freeing), then frees what it still holds.
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

} // namespace gfplab
