// SPDX-License-Identifier: MIT
//
// The slab allocator's kernel face (gfplab/linux/slab.h) on the default System: the calls
// that name no cache. Those that take a cache (kmem_cache_alloc ...) are the slab layer's
// own (lib/src/slab/kmalloc.cpp): a cache knows its System.
#include <gfplab/linux/slab.h>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>

#include "default_system.hpp"

#include <cstring>

using gfplab::kmem_cache;

extern "C" {

kmem_cache *__kmem_cache_create_args(const char *name, unsigned int object_size,
                                     struct kmem_cache_args *args, slab_flags_t flags) {
    return gfplab::kmem_cache_create(gfplab::current_default_system(), name, object_size, args,
                                     flags);
}

kmem_cache *__kmem_cache_create(const char *name, unsigned int size, unsigned int align,
                                slab_flags_t flags, void (*ctor)(void *)) {
    return gfplab::kmem_cache_create(gfplab::current_default_system(), name, size, align, flags,
                                     ctor);
}

void *kmalloc(size_t size, gfp_t flags) {
    return gfplab::kmalloc(gfplab::current_default_system(), size, flags);
}

void *kmalloc_node(size_t size, gfp_t flags, int node) {
    return gfplab::kmalloc(gfplab::current_default_system(), size, flags, node);
}

void *kzalloc(size_t size, gfp_t flags) {
    return gfplab::kmalloc(gfplab::current_default_system(), size, flags | __GFP_ZERO);
}

void *kzalloc_node(size_t size, gfp_t flags, int node) {
    return gfplab::kmalloc(gfplab::current_default_system(), size, flags | __GFP_ZERO, node);
}

void *kmalloc_array(size_t n, size_t size, gfp_t flags) {
    return gfplab::kmalloc_array(gfplab::current_default_system(), n, size, flags);
}

void *kcalloc(size_t n, size_t size, gfp_t flags) {
    return gfplab::kcalloc(gfplab::current_default_system(), n, size, flags);
}

void *krealloc(const void *p, size_t new_size, gfp_t flags) {
    return gfplab::krealloc(gfplab::current_default_system(), p, new_size, flags);
}

void kfree(const void *p) {
    gfplab::kfree(gfplab::current_default_system(), p);
}

size_t ksize(const void *p) {
    return gfplab::ksize(gfplab::current_default_system(), p);
}

char *kstrdup(const char *s, gfp_t gfp) {
    return gfplab::kstrdup(gfplab::current_default_system(), s, gfp);
}

char *kstrndup(const char *s, size_t max, gfp_t gfp) {
    if (!s)
        return nullptr;
    const size_t len = strnlen(s, max);
    auto *buf =
        static_cast<char *>(gfplab::kmalloc(gfplab::current_default_system(), len + 1, gfp));
    if (buf) {
        std::memcpy(buf, s, len);
        buf[len] = '\0';
    }
    return buf;
}

void *kmemdup(const void *src, size_t len, gfp_t gfp) {
    void *p = gfplab::kmalloc(gfplab::current_default_system(), len, gfp);
    if (p && len)
        std::memcpy(p, src, len);
    return p;
}

} // extern "C"
