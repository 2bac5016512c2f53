// SPDX-License-Identifier: MIT
//
// The allocation and free paths of a System (mm/page_alloc.c 6.12: __alloc_pages,
// get_page_from_freelist, rmqueue, prep_new_page, __alloc_pages_slowpath, __free_pages).
// Private to the library.
#pragma once

#include <gfplab/system.hpp>

namespace gfplab {

// What one allocation walks: the zonelist of its preferred node, its highest zone and its
// migratetype (the kernel's struct alloc_context).
struct alloc_context {
    zone *const *zonelist = nullptr; // null-terminated, preferred node first
    zone_type highest_zoneidx = ZONE_NORMAL;
    migratetype mt = MIGRATE_UNMOVABLE;
    int preferred_nid = 0;
};

struct page_allocator {
    static page *get_page_from_freelist(System &s, gfp_t gfp, unsigned order, unsigned alloc_flags,
                                        const alloc_context &ac);
    static page *slowpath(System &s, gfp_t gfp, unsigned order, alloc_context &ac);
    static void prep_new_page(System &s, page *p, unsigned order, gfp_t gfp, migratetype mt);
    static bool check_free(System &s, page *p, unsigned order);
    static void free_pages_prepare(System &s, page *p, unsigned order);
};

// The CPU the calling thread runs on, within the System's CPUs.
unsigned current_cpu(const System &s) noexcept;

} // namespace gfplab
