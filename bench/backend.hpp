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
// comparison is between allocators doing the same job.
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
#include <gfplab/system.hpp>

#include <memory>
#elif BENCH_BACKEND == BENCH_GFPLAB_KERNEL
#include <gfplab/linux/gfp.h>
#include <gfplab/linux/mm.h>
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
#elif BENCH_BACKEND == BENCH_TBBMALLOC
inline constexpr const char *backend_name = "tbbmalloc";
inline block alloc_block(unsigned order) {
    return scalable_aligned_malloc(block_bytes(order), block_bytes(order));
}
inline void free_block(block b, unsigned) {
    scalable_aligned_free(b);
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
#elif BENCH_BACKEND == BENCH_MIMALLOC
inline constexpr const char *backend_name = "mimalloc";
inline block alloc_block(unsigned order) {
    return mi_malloc_aligned(block_bytes(order), block_bytes(order));
}
inline void free_block(block b, unsigned) {
    mi_free(b);
}
#elif BENCH_BACKEND == BENCH_TCMALLOC
inline constexpr const char *backend_name = "tcmalloc";
inline block alloc_block(unsigned order) {
    return tc_memalign(block_bytes(order), block_bytes(order));
}
inline void free_block(block b, unsigned) {
    tc_free(b);
}
#endif

#endif

// Write one byte of every block handed out: a peer that maps lazily pays for its page
// faults as we pay for ours, and no compiler may drop an allocation nobody uses.
inline void touch(block b) {
    static_cast<volatile unsigned char *>(block_address(b))[0] = 1;
}

} // namespace bench
