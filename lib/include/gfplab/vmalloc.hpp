// SPDX-License-Identifier: MIT
//
// vmalloc and kvmalloc on a System, as 6.12's mm/vmalloc.c and mm/util.c decide them
// (docs/vmalloc.md). A vmalloc area is virtually contiguous over pages of the System that
// need not be physically contiguous: the System's memory lives in a memfd, and each run of
// physically contiguous pages is mapped a second time into the System's vmalloc space.
#pragma once

#include <gfplab/gfp.hpp>

#include <cstddef>
#include <cstdint>

namespace gfplab {

class System;
struct page;

// __vmalloc_node(): size bytes (rounded up to pages) from gfp's zones, mapped at a new
// address; NULL when pages, a virtual range or a mapping cannot be had. The caller's
// __GFP_FS / __GFP_IO reach the page-table allocations through the scope API, as in 6.12.
void *vmalloc_node(System &s, std::size_t size, gfp_t gfp, int node);
inline void *vmalloc(System &s, std::size_t size) {
    return vmalloc_node(s, size, GFP_KERNEL, -1);
}
inline void *vzalloc(System &s, std::size_t size) {
    return vmalloc_node(s, size, GFP_KERNEL | __GFP_ZERO, -1);
}
// vfree(): NULL is a no-op; anything but the start of a live area is refused (I16).
void vfree(System &s, const void *addr);
// The page behind a vmalloc address (NULL when none), and whether an address lies in
// the System's vmalloc space at all.
page *vmalloc_to_page(System &s, const void *addr);
bool is_vmalloc_addr(const System &s, const void *addr) noexcept;
// The size of the area addr starts (0 when none).
std::size_t vmalloc_size(System &s, const void *addr);

// 6.12's kmalloc_gfp_adjust(): the mask kvmalloc() tries kmalloc with. Above a page:
// __GFP_NOWARN, __GFP_NORETRY unless __GFP_RETRY_MAYFAIL, and no __GFP_NOFAIL (the
// vmalloc fallback keeps that promise).
gfp_t kmalloc_gfp_adjust(gfp_t flags, std::size_t size) noexcept;
// kvmalloc_node(): kmalloc first, then (above a page, for a mask that may sleep, below
// INT_MAX) vmalloc with the caller's mask.
void *kvmalloc_node(System &s, std::size_t size, gfp_t gfp, int node);
inline void *kvmalloc(System &s, std::size_t size, gfp_t gfp) {
    return kvmalloc_node(s, size, gfp, -1);
}
inline void *kvzalloc(System &s, std::size_t size, gfp_t gfp) {
    return kvmalloc_node(s, size, gfp | __GFP_ZERO, -1);
}
void *kvmalloc_array(System &s, std::size_t n, std::size_t size, gfp_t gfp);
// kvrealloc(): krealloc() or vrealloc() by where p lives; a kmalloc'd p that cannot grow
// in place moves to kvmalloc().
void *kvrealloc(System &s, const void *p, std::size_t size, gfp_t gfp);
// kvfree(): vfree() for a vmalloc address, kfree() otherwise.
void kvfree(System &s, const void *addr);

struct vmalloc_stats {
    std::uint64_t areas = 0;      // live areas
    std::uint64_t pages = 0;      // pages mapped by them
    std::uint64_t pagetables = 0; // page-table pages they hold
    std::uint64_t mappings = 0;   // mmap()ed runs (each counts against vm.max_map_count)
    std::uint64_t failures = 0;   // vmalloc calls that returned NULL
};
vmalloc_stats vmalloc_statistics(System &s);

} // namespace gfplab
