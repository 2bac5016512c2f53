// SPDX-License-Identifier: MIT
//
// vmalloc's and kvmalloc's kernel face (gfplab/linux/vmalloc.h, gfplab/linux/slab.h) on the
// default System.
#include <gfplab/linux/slab.h>
#include <gfplab/linux/vmalloc.h>
#include <gfplab/system.hpp>
#include <gfplab/vmalloc.hpp>

#include "default_system.hpp"

namespace {
gfplab::System &sys() {
    return gfplab::current_default_system();
}
} // namespace

extern "C" {

void *vmalloc(unsigned long size) {
    return gfplab::vmalloc(sys(), size);
}
void *vzalloc(unsigned long size) {
    return gfplab::vzalloc(sys(), size);
}
void *vmalloc_node(unsigned long size, int node) {
    return gfplab::vmalloc_node(sys(), size, GFP_KERNEL, node);
}
void *vzalloc_node(unsigned long size, int node) {
    return gfplab::vmalloc_node(sys(), size, GFP_KERNEL | __GFP_ZERO, node);
}
void *__vmalloc(unsigned long size, gfp_t gfp_mask) {
    return gfplab::vmalloc_node(sys(), size, gfp_mask, NUMA_NO_NODE);
}
void vfree(const void *addr) {
    gfplab::vfree(sys(), addr);
}
gfplab::page *vmalloc_to_page(const void *addr) {
    return gfplab::vmalloc_to_page(sys(), addr);
}
bool is_vmalloc_addr(const void *x) {
    return gfplab::is_vmalloc_addr(sys(), x);
}

void *kvmalloc_node(size_t size, gfp_t flags, int node) {
    return gfplab::kvmalloc_node(sys(), size, flags, node);
}
void *kvmalloc(size_t size, gfp_t flags) {
    return gfplab::kvmalloc(sys(), size, flags);
}
void *kvzalloc(size_t size, gfp_t flags) {
    return gfplab::kvzalloc(sys(), size, flags);
}
void *kvzalloc_node(size_t size, gfp_t flags, int node) {
    return gfplab::kvmalloc_node(sys(), size, flags | __GFP_ZERO, node);
}
void *kvmalloc_array(size_t n, size_t size, gfp_t flags) {
    return gfplab::kvmalloc_array(sys(), n, size, flags);
}
void *kvcalloc(size_t n, size_t size, gfp_t flags) {
    return gfplab::kvmalloc_array(sys(), n, size, flags | __GFP_ZERO);
}
void *kvrealloc(const void *p, size_t size, gfp_t flags) {
    return gfplab::kvrealloc(sys(), p, size, flags);
}
void kvfree(const void *addr) {
    gfplab::kvfree(sys(), addr);
}

} // extern "C"
