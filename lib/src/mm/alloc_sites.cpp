// SPDX-License-Identifier: MIT
//
// Kernel code's call sites (linux/alloc_site.h): the end of each wrapped call, and the
// table of what kernel code holds while a host tracks it (gfplab/alloc_sites.hpp).
#include "../scope/caller.hpp"
#include "default_system.hpp"

#include <gfplab/alloc_sites.hpp>
#include <gfplab/linux/alloc_site.h>
#include <gfplab/page.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/vmalloc.hpp>

#include <atomic>
#include <map>
#include <mutex>

namespace gfplab {
namespace {

std::atomic<bool> tracking{false};
std::mutex table_lock;
// Leaked on purpose: kernel code may free during static destruction.
auto *table = new std::map<std::uintptr_t, alloc_site_record>;

void remember(const void *object, std::size_t size, const char *what) {
    alloc_site_record r;
    r.address = reinterpret_cast<std::uintptr_t>(object);
    r.size = size;
    r.what = what ? what : "?";
    r.file = detail::t_site_file ? detail::t_site_file : "?";
    r.line = detail::t_site_line;
    std::lock_guard<std::mutex> g(table_lock);
    (*table)[r.address] = std::move(r);
}

void forget(const void *object) {
    std::lock_guard<std::mutex> g(table_lock);
    table->erase(reinterpret_cast<std::uintptr_t>(object));
}

// A block from the page allocator: its order is kept in the head page when checking marks
// it owned (or it is compound); otherwise one page is what is known.
void remember_block(System &s, const page *p, const char *what) {
    const unsigned order =
        p->flags.load(std::memory_order_relaxed) & (PG_owned | PG_head) ? p->order : 0;
    remember(s.page_address(p), std::size_t(PAGE_SIZE) << order, what);
}

void clear_site() {
    detail::t_site_file = nullptr;
    detail::t_site_line = 0;
}

} // namespace

void set_alloc_site_tracking(bool on) {
    std::lock_guard<std::mutex> g(table_lock);
    tracking.store(on, std::memory_order_relaxed);
    if (!on)
        table->clear();
}

std::vector<alloc_site_record> outstanding_alloc_sites() {
    std::lock_guard<std::mutex> g(table_lock);
    std::vector<alloc_site_record> out;
    for (const auto &[a, r] : *table)
        out.push_back(r);
    return out;
}

} // namespace gfplab

using namespace gfplab;

extern "C" {

void *__gfplab_site_exit(void *object, const char *what) {
    // ZERO_SIZE_PTR and failures are nothing to remember.
    if (object && reinterpret_cast<std::uintptr_t>(object) > 16 &&
        tracking.load(std::memory_order_relaxed)) {
        System &s = current_default_system();
        remember(object, is_vmalloc_addr(s, object) ? vmalloc_size(s, object) : ksize(s, object),
                 what);
    }
    clear_site();
    return object;
}

gfplab::page *__gfplab_site_exit_page(gfplab::page *p, const char *what, unsigned int) {
    if (p && tracking.load(std::memory_order_relaxed))
        remember_block(current_default_system(), p, what);
    clear_site();
    return p;
}

unsigned long __gfplab_site_exit_pages(unsigned long addr, const char *what) {
    if (addr && tracking.load(std::memory_order_relaxed)) {
        System &s = current_default_system();
        if (gfplab::page *p = s.virt_to_page(reinterpret_cast<const void *>(addr)))
            remember_block(s, p, what);
    }
    clear_site();
    return addr;
}

void __gfplab_site_forget(const void *object) {
    if (object && tracking.load(std::memory_order_relaxed))
        forget(object);
}

void __gfplab_site_forget_page(const gfplab::page *p) {
    if (p && tracking.load(std::memory_order_relaxed))
        forget(current_default_system().page_address(p));
}

} // extern "C"
