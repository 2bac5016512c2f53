// SPDX-License-Identifier: MIT
//
// The allocator under test, chosen at compile time: page_bench.cpp is built once per
// backend (-DBENCH_BACKEND=BENCH_GFPLAB, BENCH_GLIBC ...) because jemalloc, mimalloc and
// tcmalloc replace malloc itself and so cannot share a process with each other.
//
// BENCH_GFPLAB_KERNEL is gfplab through its kernel face (alloc_pages()/__free_pages() of
// <gfplab/linux/gfp.h> on the default System), as a C program would call it; instructions.cpp
// builds it against the shared library and the static one.
//
// Every backend hands out naturally aligned blocks of PAGE_SIZE << order, as a page
// allocator does; the peers are asked for exactly that (size and alignment), so the
// comparison is between allocators doing the same job. Small objects (the slab suite) are
// kmalloc()/kfree() and a 64-byte kmem_cache for gfplab, malloc()/free() in each peer's own
// API for the others.
#pragma once

#include <cstddef>

#define BENCH_GFPLAB        1
#define BENCH_GLIBC         2
#define BENCH_TBBMALLOC     3
#define BENCH_JEMALLOC      4
#define BENCH_MIMALLOC      5
#define BENCH_TCMALLOC      6
#define BENCH_GFPLAB_KERNEL 7

#ifndef BENCH_BACKEND
#error "build with -DBENCH_BACKEND=BENCH_GFPLAB (or BENCH_GLIBC, BENCH_TBBMALLOC ...)"
#endif

#if BENCH_BACKEND == BENCH_GFPLAB
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>

#include <memory>
#elif BENCH_BACKEND == BENCH_GFPLAB_KERNEL
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/mm.h>
#include <gfplab/linux/slab.h>
#elif BENCH_BACKEND == BENCH_GLIBC
#include <cstdlib>
#elif BENCH_BACKEND == BENCH_TBBMALLOC
#include <tbb/scalable_allocator.h>
#elif BENCH_BACKEND == BENCH_JEMALLOC
#include <jemalloc/jemalloc.h>
#elif BENCH_BACKEND == BENCH_MIMALLOC
#include <mimalloc.h>
#elif BENCH_BACKEND == BENCH_TCMALLOC
#include <gperftools/tcmalloc.h>
#else
#error "unknown BENCH_BACKEND"
#endif

namespace bench {

inline constexpr std::size_t page_size = 4096;
inline constexpr std::size_t block_bytes(unsigned order) {
    return page_size << order;
}

#if BENCH_BACKEND == BENCH_GFPLAB

inline constexpr const char *backend_name = "gfplab";

// A page allocator is freed by struct page, not by address.
using block = gfplab::page *;

// The System every thread of one benchmark run shares: made by setup_backend() before the
// run's threads start, gone in teardown_backend() after they have all stopped. An inline
// variable rather than an accessor in gfplab_backend.cpp: the hot loop pays one load.
inline std::unique_ptr<gfplab::System> the_system;
void setup_backend();
// Returns false when the System reported anything or does not recount clean (I2): a
// benchmark of a broken allocator measures nothing.
bool teardown_backend();

// GFP_KERNEL is a macro, as in the kernel (gfplab/linux/gfp_types.h): no namespace.
inline block alloc_block(unsigned order) {
    return the_system->alloc_pages(GFP_KERNEL, order);
}
inline void free_block(block b, unsigned order) {
    the_system->free_pages(b, order);
}
inline void *block_address(block b) {
    return the_system->page_address(b);
}

// Small objects: kmalloc() and a 64-byte kmem_cache made by setup_backend().
inline gfplab::kmem_cache *the_cache;
inline void *alloc_object(std::size_t size) {
    return gfplab::kmalloc(*the_system, size, GFP_KERNEL);
}
inline void free_object(void *p) {
    gfplab::kfree(*the_system, p);
}
inline void *cache_alloc() {
    return kmem_cache_alloc(the_cache, GFP_KERNEL);
}
inline void cache_free(void *p) {
    kmem_cache_free(the_cache, p);
}

#elif BENCH_BACKEND == BENCH_GFPLAB_KERNEL

inline constexpr const char *backend_name = "gfplab-kernel";

// The default System boots on first use from GFPLAB_MEMORY, GFPLAB_CPUS ... (the caller's
// environment decides its size): nothing to set up here.
using block = gfplab::page *;
inline block alloc_block(unsigned order) {
    return ::alloc_pages(GFP_KERNEL, order);
}
inline void free_block(block b, unsigned order) {
    ::__free_pages(b, order);
}
inline void *block_address(block b) {
    return ::page_address(b);
}

inline void *alloc_object(std::size_t size) {
    return ::kmalloc(size, GFP_KERNEL);
}
inline void free_object(void *p) {
    ::kfree(p);
}
inline gfplab::kmem_cache *kernel_cache() {
    static gfplab::kmem_cache *c = kmem_cache_create("bench-64", 64, nullptr, 0);
    return c;
}
inline void *cache_alloc() {
    return kmem_cache_alloc(kernel_cache(), GFP_KERNEL);
}
inline void cache_free(void *p) {
    kmem_cache_free(kernel_cache(), p);
}

#else

using block = void *;
inline void setup_backend() {}
inline bool teardown_backend() {
    return true;
}
inline void *block_address(block b) {
    return b;
}

#if BENCH_BACKEND == BENCH_GLIBC
inline constexpr const char *backend_name = "glibc";
inline block alloc_block(unsigned order) {
    return std::aligned_alloc(block_bytes(order), block_bytes(order));
}
inline void free_block(block b, unsigned) {
    std::free(b);
}
inline void *alloc_object(std::size_t size) {
    return std::malloc(size);
}
inline void free_object(void *p) {
    std::free(p);
}
#elif BENCH_BACKEND == BENCH_TBBMALLOC
inline constexpr const char *backend_name = "tbbmalloc";
inline block alloc_block(unsigned order) {
    return scalable_aligned_malloc(block_bytes(order), block_bytes(order));
}
inline void free_block(block b, unsigned) {
    scalable_aligned_free(b);
}
inline void *alloc_object(std::size_t size) {
    return scalable_malloc(size);
}
inline void free_object(void *p) {
    scalable_free(p);
}
#elif BENCH_BACKEND == BENCH_JEMALLOC
inline constexpr const char *backend_name = "jemalloc";
// jemalloc's own API: alignment as a flag, no detour through the malloc wrappers.
inline block alloc_block(unsigned order) {
    return mallocx(block_bytes(order), MALLOCX_ALIGN(block_bytes(order)));
}
inline void free_block(block b, unsigned) {
    dallocx(b, 0);
}
inline void *alloc_object(std::size_t size) {
    return mallocx(size, 0);
}
inline void free_object(void *p) {
    dallocx(p, 0);
}
#elif BENCH_BACKEND == BENCH_MIMALLOC
inline constexpr const char *backend_name = "mimalloc";
inline block alloc_block(unsigned order) {
    return mi_malloc_aligned(block_bytes(order), block_bytes(order));
}
inline void free_block(block b, unsigned) {
    mi_free(b);
}
inline void *alloc_object(std::size_t size) {
    return mi_malloc(size);
}
inline void free_object(void *p) {
    mi_free(p);
}
#elif BENCH_BACKEND == BENCH_TCMALLOC
inline constexpr const char *backend_name = "tcmalloc";
inline block alloc_block(unsigned order) {
    return tc_memalign(block_bytes(order), block_bytes(order));
}
inline void free_block(block b, unsigned) {
    tc_free(b);
}
inline void *alloc_object(std::size_t size) {
    return tc_malloc(size);
}
inline void free_object(void *p) {
    tc_free(p);
}
#endif

// A peer has no object caches: a cache of 64-byte objects is malloc(64).
inline void *cache_alloc() {
    return alloc_object(64);
}
inline void cache_free(void *p) {
    free_object(p);
}

#endif

// Write one byte of every block handed out: a peer that maps lazily pays for its page
// faults as we pay for ours, and no compiler may drop an allocation nobody uses.
inline void touch(block b) {
    static_cast<volatile unsigned char *>(block_address(b))[0] = 1;
}
inline void touch_object(void *p) {
    static_cast<volatile unsigned char *>(p)[0] = 1;
}

} // namespace bench
