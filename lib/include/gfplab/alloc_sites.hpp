// SPDX-License-Identifier: MIT
//
// gfplab/alloc_sites.hpp - which line of kernel code allocated each object it still holds
// (the kmemleak idea, for hosts of kernel code such as gfplab-run). Kernel code built
// against the include root tells the library its call sites (linux/alloc_site.h); while
// tracking is on, every object or page block it allocates is remembered with its site
// until kernel code frees it. Process-wide, as the kernel face's default System is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gfplab {

struct alloc_site_record {
    std::uintptr_t address = 0;
    std::size_t size = 0; // bytes usable, as the allocator rounds them
    std::string what;     // "kmalloc", "alloc_pages", ...
    std::string file;     // the caller's source line
    unsigned line = 0;
};

// Starts (or stops, forgetting everything) remembering allocations made by kernel code.
void set_alloc_site_tracking(bool on);
// What kernel code allocated and has not freed, in address order.
std::vector<alloc_site_record> outstanding_alloc_sites();

} // namespace gfplab
