// SPDX-License-Identifier: MIT
//
// kvmalloc and friends as 6.12's mm/util.c has them: kmalloc first, quietly and briefly
// above a page, then vmalloc; kvfree() and kvrealloc() by where the memory lives.
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmalloc.hpp>

#include <gfplab/linux/mmzone.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace gfplab {

gfp_t kmalloc_gfp_adjust(gfp_t flags, std::size_t size) noexcept {
    // A physically contiguous block fragments memory less than a vmalloc area, so it is
    // tried first; but with a fallback it must not warn, retry hard, OOM or loop forever.
    if (size > PAGE_SIZE) {
        flags |= __GFP_NOWARN;
        if (!(flags & __GFP_RETRY_MAYFAIL))
            flags |= __GFP_NORETRY;
        flags &= ~__GFP_NOFAIL;
    }
    return flags;
}

void *kvmalloc_node(System &s, std::size_t size, gfp_t gfp, int node) {
    void *p = kmalloc(s, size, kmalloc_gfp_adjust(gfp, size), node);
    if (p || size <= PAGE_SIZE)
        return p; // a sub-page request has nothing to gain from vmalloc
    if (!(gfp & __GFP_DIRECT_RECLAIM))
        return nullptr; // vmalloc may sleep
    if (size > std::size_t(INT_MAX)) {
        if (!(gfp & __GFP_NOWARN))
            s.log("gfplab: kvmalloc: a size above INT_MAX is refused");
        return nullptr;
    }
    return vmalloc_node(s, size, gfp, node);
}

void *kvmalloc_array(System &s, std::size_t n, std::size_t size, gfp_t gfp) {
    std::size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes))
        return nullptr;
    return kvmalloc(s, bytes, gfp);
}

void kvfree(System &s, const void *addr) {
    if (is_vmalloc_addr(s, addr))
        vfree(s, addr);
    else
        kfree(s, addr);
}

namespace {
// vrealloc(): in place while the area holds size (the tail zeroed for __GFP_ZERO),
// else a new area with the contents.
void *vrealloc(System &s, const void *p, std::size_t size, gfp_t gfp) {
    const std::size_t old = vmalloc_size(s, p);
    if (!size) {
        vfree(s, p);
        return nullptr;
    }
    if (old && size <= old) {
        if (gfp & __GFP_ZERO)
            std::memset(static_cast<char *>(const_cast<void *>(p)) + size, 0, old - size);
        return const_cast<void *>(p);
    }
    void *n = vmalloc_node(s, size, gfp, -1);
    if (!n)
        return nullptr;
    if (p) {
        std::memcpy(n, p, old);
        vfree(s, p);
    }
    return n;
}
} // namespace

void *kvrealloc(System &s, const void *p, std::size_t size, gfp_t gfp) {
    if (is_vmalloc_addr(s, p))
        return vrealloc(s, p, size, gfp);
    void *n = krealloc(s, p, size, kmalloc_gfp_adjust(gfp, size));
    if (!n && size) {
        // krealloc() could not: kvmalloc() a new home and move in.
        n = kvmalloc(s, size, gfp);
        if (!n)
            return nullptr;
        if (p) {
            std::memcpy(n, p, std::min(ksize(s, p), size));
            kfree(s, p);
        }
    }
    return n;
}

} // namespace gfplab
