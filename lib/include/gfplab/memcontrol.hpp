// SPDX-License-Identifier: MIT
//
// gfplab/memcontrol.hpp - named accounting groups for __GFP_ACCOUNT (a memory cgroup's kmem
// charge, reduced to a page counter with an optional limit).
//
// In 6.12 __alloc_pages() charges a successful __GFP_ACCOUNT allocation to the current
// task's memcg (__memcg_kmem_charge_page); if the charge fails the page is freed and the
// allocation returns NULL. __GFP_NOFAIL charges are forced past the limit. The root group
// is never charged. The model has no memcg reclaim: a charge over the limit fails at once
// (the kernel would first try to reclaim from the group).
//
// Slab objects of SLAB_ACCOUNT caches, or allocated with __GFP_ACCOUNT, are charged too, at
// byte granularity (6.12's obj_cgroup charging): whole pages go through the same limit
// check, the bytes left over wait in a per-CPU stock (docs/slab.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace gfplab {

inline constexpr unsigned root_mem_cgroup = 0;
inline constexpr unsigned max_mem_cgroups = 256;

struct mem_cgroup {
    std::string name;
    std::uint64_t limit_pages = 0; // 0: no limit
    std::atomic<std::uint64_t> usage_pages{0};
    std::atomic<std::uint64_t> max_usage_pages{0};
    std::atomic<std::uint64_t> failcnt{0}; // charges refused at the limit
    std::atomic<std::uint64_t> forced{0};  // __GFP_NOFAIL charges taken past the limit
    // Bytes of charged pages no object uses, left by a per-CPU object stock that changed
    // hands (obj_cgroup::nr_charged_bytes; the next stock of this group takes them).
    std::atomic<std::uint64_t> nr_charged_bytes{0};
    // memory.stat's slab_reclaimable / slab_unreclaimable: bytes of the group's charged slab
    // objects (obj_full_size() each), SLAB_RECLAIM_ACCOUNT caches in the first.
    std::atomic<std::uint64_t> slab_reclaimable{0};
    std::atomic<std::uint64_t> slab_unreclaimable{0};
};

// set_active_memcg(): the group this thread's __GFP_ACCOUNT allocations charge, in every
// System (0: the root, never charged). Returns the previous one.
unsigned set_active_memcg(unsigned id) noexcept;
unsigned active_memcg() noexcept;

} // namespace gfplab
