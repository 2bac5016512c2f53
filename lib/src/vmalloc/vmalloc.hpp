// SPDX-License-Identifier: MIT
//
// The System's vmalloc space (VMALLOC_START..VMALLOC_END): one reserved stretch of
// addresses, handed out first-fit under one lock (the kernel's vmap_area_lock and its
// free-area tree), and the live areas by start address.
#pragma once

#include <gfplab/gfp.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace gfplab {

class System;
struct page;

// struct vm_struct: what vfree() and vmalloc_to_page() need of an area.
struct vm_struct {
    std::size_t size = 0; // mapped bytes; a guard page follows them
    unsigned nr_pages = 0;
    page **pages = nullptr;         // the array, itself kmalloc'd or vmalloc'd from the System
    void *area_object = nullptr;    // the kmalloc'd vm_struct the kernel would hold
    std::vector<page *> pagetables; // page-table pages allocated to map the area
    unsigned mappings = 0;
};

class vmap_state {
  public:
    explicit vmap_state(System &s);
    ~vmap_state();
    vmap_state(const vmap_state &) = delete;
    vmap_state &operator=(const vmap_state &) = delete;

    bool contains(const void *addr) const noexcept {
        const auto a = reinterpret_cast<std::uintptr_t>(addr);
        return a - start_ < span_;
    }
    // A range of bytes (a multiple of PAGE_SIZE) in the space, or 0.
    std::uintptr_t alloc_range(std::size_t bytes);
    void free_range(std::uintptr_t addr, std::size_t bytes);
    // Map pages[0..nr) at addr, one mmap() per physically contiguous run; false (and
    // nothing mapped) when a mapping is refused.
    bool map_pages(std::uintptr_t addr, page *const *pages, unsigned nr, unsigned &mappings);
    // Back to reserved, inaccessible addresses.
    void unmap(std::uintptr_t addr, std::size_t bytes);

    std::mutex lock; // vmap_area_lock: the free ranges and the areas
    std::map<std::uintptr_t, vm_struct> areas;
    std::atomic<std::uint64_t> nr_pages{0}, nr_pagetables{0}, nr_mappings{0}, failures{0};

  private:
    System &s_;
    std::uintptr_t start_ = 0;
    std::size_t span_ = 0;
    std::map<std::uintptr_t, std::size_t> free_; // start -> bytes, coalesced
};

vmap_state &vmap_of(System &s) noexcept;

} // namespace gfplab
