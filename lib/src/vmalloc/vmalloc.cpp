// SPDX-License-Identifier: MIT
//
// vmalloc as 6.12's mm/vmalloc.c does it (__vmalloc_node_range(), __vmalloc_area_node(),
// vm_area_alloc_pages(), vfree()), on the System's memfd: an area's pages come from the
// page allocator one by one, and every run of physically contiguous ones is mmap()ed at
// its place in the area.
#include "vmalloc.hpp"

#include "../check/report.hpp"

#include <gfplab/linux/mmzone.h>
#include <gfplab/page.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmalloc.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <sys/mman.h>

namespace gfplab {

namespace {

constexpr int mmap_reserve = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
constexpr unsigned PTRS_PER_PTE = 512; // one page-table page maps 2 MiB
// 6.12's GFP_PGTABLE_KERNEL, the mask page tables are allocated with.
constexpr gfp_t GFP_PGTABLE_KERNEL = GFP_KERNEL | __GFP_ZERO;

void vmalloc_warn(System &s, gfp_t gfp, std::size_t size, const char *why) {
    if (!s.config().warn_alloc || (gfp & __GFP_NOWARN))
        return;
    s.log(fmt::format("gfplab: vmalloc error: size {}, {}, mode:{}, scope stack: {}", size, why,
                      gfp_describe(gfp), format_scope_stack()));
}

} // namespace

// --- the vmalloc space ------------------------------------------------------------------------

vmap_state::vmap_state(System &s) : s_(s) {
    // Twice the memory and some: room for every page to be vmalloc'd, and for guard pages.
    span_ = std::size_t(s.max_pfn()) * PAGE_SIZE * 2 + (256ul << 20);
    void *p = mmap(nullptr, span_, PROT_NONE, mmap_reserve, -1, 0);
    if (p == MAP_FAILED)
        throw std::bad_alloc();
    start_ = reinterpret_cast<std::uintptr_t>(p);
    free_[start_] = span_;
}

vmap_state::~vmap_state() {
    munmap(reinterpret_cast<void *>(start_), span_);
}

std::uintptr_t vmap_state::alloc_range(std::size_t bytes) {
    for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->second < bytes)
            continue;
        const std::uintptr_t addr = it->first;
        const std::size_t left = it->second - bytes;
        free_.erase(it);
        if (left)
            free_[addr + bytes] = left;
        return addr;
    }
    return 0;
}

void vmap_state::free_range(std::uintptr_t addr, std::size_t bytes) {
    auto next = free_.lower_bound(addr);
    if (next != free_.end() && addr + bytes == next->first) {
        bytes += next->second;
        next = free_.erase(next);
    }
    if (next != free_.begin()) {
        auto prev = std::prev(next);
        if (prev->first + prev->second == addr) {
            prev->second += bytes;
            return;
        }
    }
    free_[addr] = bytes;
}

bool vmap_state::map_pages(std::uintptr_t addr, page *const *pages, unsigned nr,
                           unsigned &mappings) {
    const int fd = s_.memory_fd();
    unsigned i = 0;
    mappings = 0;
    while (i < nr) {
        const unsigned long pfn = s_.page_to_pfn(pages[i]);
        unsigned run = 1;
        while (i + run < nr && s_.page_to_pfn(pages[i + run]) == pfn + run)
            run++;
        void *want = reinterpret_cast<void *>(addr + std::uintptr_t(i) * PAGE_SIZE);
        // Populated now, as vmap_pages_range() fills the page tables before vmalloc returns.
        void *got = mmap(want, std::size_t(run) * PAGE_SIZE, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, off_t(pfn) << PAGE_SHIFT);
        if (got == MAP_FAILED) {
            unmap(addr, std::size_t(i) * PAGE_SIZE);
            nr_mappings.fetch_sub(mappings, std::memory_order_relaxed);
            mappings = 0;
            return false;
        }
        mappings++;
        nr_mappings.fetch_add(1, std::memory_order_relaxed);
        i += run;
    }
    return true;
}

void vmap_state::unmap(std::uintptr_t addr, std::size_t bytes) {
    if (bytes)
        mmap(reinterpret_cast<void *>(addr), bytes, PROT_NONE, mmap_reserve | MAP_FIXED, -1, 0);
}

// --- vmalloc / vfree ---------------------------------------------------------------------------

namespace {

void free_area_memory(System &s, vm_struct &a) {
    for (unsigned i = 0; i < a.nr_pages; i++)
        if (a.pages[i])
            s.free_pages(a.pages[i], 0);
    for (page *pt : a.pagetables)
        s.free_pages(pt, 0);
    kvfree(s, a.pages);
    kfree(s, a.area_object);
}

} // namespace

void *vmalloc_node(System &s, std::size_t size, gfp_t gfp, int node) {
    vmap_state &vm = vmap_of(s);
    auto fail = [&](const char *why) -> void * {
        vm.failures.fetch_add(1, std::memory_order_relaxed);
        vmalloc_warn(s, gfp, size, why);
        return nullptr;
    };
    if (!size)
        return nullptr; // 6.12 WARN_ON_ONCE(!size)
    const std::size_t bytes = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    const unsigned long nr = bytes >> PAGE_SHIFT;
    if (nr > s.max_pfn())
        return fail("exceeds total pages");
    if (s.memory_fd() < 0)
        return fail("the System's memory is not in a memfd (memfd_create() refused)");

    // The bookkeeping is allocated with the caller's reclaim bits (nested_gfp).
    const gfp_t nested_gfp = (gfp & GFP_RECLAIM_MASK) | __GFP_ZERO;
    vm_struct a;
    a.size = bytes;
    a.nr_pages = unsigned(nr);
    a.area_object = kmalloc(s, 64, nested_gfp, node);
    if (!a.area_object)
        return fail("vm_struct allocation failed");
    std::uintptr_t addr;
    {
        std::lock_guard<std::mutex> g(vm.lock);
        addr = vm.alloc_range(bytes + PAGE_SIZE); // and a guard page
    }
    if (!addr) {
        kfree(s, a.area_object);
        return fail("vmalloc space exhausted");
    }
    auto give_back = [&] {
        free_area_memory(s, a);
        std::lock_guard<std::mutex> g(vm.lock);
        vm.free_range(addr, bytes + PAGE_SIZE);
    };
    // The page array: kmalloc'd up to a page, vmalloc'd above (the kernel recurses too).
    const std::size_t array_size = nr * sizeof(page *);
    a.pages =
        static_cast<page **>(array_size > PAGE_SIZE ? vmalloc_node(s, array_size, nested_gfp, node)
                                                    : kmalloc(s, array_size, nested_gfp, node));
    if (!a.pages) {
        a.nr_pages = 0;
        give_back();
        return fail("page array allocation failed");
    }
    // vm_area_alloc_pages(): order-0 pages with the caller's mask, HIGHMEM unless it asks
    // for a DMA zone, quietly (the failure is reported for the area).
    gfp_t page_gfp = gfp | __GFP_NOWARN;
    if (!(gfp & (__GFP_DMA | __GFP_DMA32)))
        page_gfp |= __GFP_HIGHMEM;
    for (unsigned long i = 0; i < nr; i++) {
        a.pages[i] = node >= 0 ? s.alloc_pages_node(node, page_gfp, 0) : s.alloc_pages(page_gfp, 0);
        if (!a.pages[i]) {
            give_back();
            return fail("failed to allocate pages");
        }
    }
    // Which page sits where in an area is the allocator's choice: in pfn order, pages that
    // came off a per-CPU list (newest first) make one run, hence one mapping, not many.
    std::sort(a.pages, a.pages + nr);
    // Page tables ignore the caller's mask: the scope API carries __GFP_FS / __GFP_IO in.
    unsigned scope = 0;
    const gfp_t fsio = gfp & (__GFP_FS | __GFP_IO);
    const bool noio = fsio == 0, nofs = fsio == __GFP_IO;
    if (noio)
        scope = memalloc_noio_save();
    else if (nofs)
        scope = memalloc_nofs_save();
    bool mapped = true;
    for (unsigned long t = 0; t < (nr + PTRS_PER_PTE - 1) / PTRS_PER_PTE && mapped; t++) {
        page *pt = s.alloc_pages(GFP_PGTABLE_KERNEL, 0);
        if (pt)
            a.pagetables.push_back(pt);
        mapped = pt != nullptr;
    }
    if (mapped)
        mapped = vm.map_pages(addr, a.pages, a.nr_pages, a.mappings);
    if (noio)
        memalloc_noio_restore(scope);
    else if (nofs)
        memalloc_nofs_restore(scope);
    if (!mapped) {
        give_back();
        return fail("failed to map pages (page tables, or vm.max_map_count mappings)");
    }
    vm.nr_pages.fetch_add(nr, std::memory_order_relaxed);
    vm.nr_pagetables.fetch_add(a.pagetables.size(), std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> g(vm.lock);
        vm.areas.emplace(addr, std::move(a));
    }
    return reinterpret_cast<void *>(addr);
}

void vfree(System &s, const void *addr) {
    if (!addr)
        return;
    vmap_state &vm = vmap_of(s);
    const auto a = reinterpret_cast<std::uintptr_t>(addr);
    vm_struct area;
    {
        std::lock_guard<std::mutex> g(vm.lock);
        auto it = vm.contains(addr) ? vm.areas.find(a) : vm.areas.end();
        if (it == vm.areas.end()) {
            refuse(s, invariant::bad_input, "vfree of a bad address", 0, -1, nullptr,
                   "Trying to vfree() nonexistent vm area ({}): {}", addr,
                   !vm.contains(addr) ? "not a vmalloc address (kfree() it?)"
                                      : "no area starts there (freed twice, or inside one)");
            return;
        }
        area = std::move(it->second);
        vm.areas.erase(it);
    }
    vm.unmap(a, area.size);
    vm.nr_mappings.fetch_sub(area.mappings, std::memory_order_relaxed);
    vm.nr_pages.fetch_sub(area.nr_pages, std::memory_order_relaxed);
    vm.nr_pagetables.fetch_sub(area.pagetables.size(), std::memory_order_relaxed);
    free_area_memory(s, area);
    std::lock_guard<std::mutex> g(vm.lock);
    vm.free_range(a, area.size + PAGE_SIZE);
}

namespace {
const vm_struct *find_area(vmap_state &vm, std::uintptr_t a, std::uintptr_t &start) {
    auto it = vm.areas.upper_bound(a);
    if (it == vm.areas.begin())
        return nullptr;
    --it;
    if (a >= it->first + it->second.size)
        return nullptr;
    start = it->first;
    return &it->second;
}
} // namespace

page *vmalloc_to_page(System &s, const void *addr) {
    vmap_state &vm = vmap_of(s);
    if (!vm.contains(addr))
        return nullptr;
    const auto a = reinterpret_cast<std::uintptr_t>(addr);
    std::lock_guard<std::mutex> g(vm.lock);
    std::uintptr_t start = 0;
    const vm_struct *area = find_area(vm, a, start);
    return area ? area->pages[(a - start) >> PAGE_SHIFT] : nullptr;
}

std::size_t vmalloc_size(System &s, const void *addr) {
    vmap_state &vm = vmap_of(s);
    std::lock_guard<std::mutex> g(vm.lock);
    auto it = vm.areas.find(reinterpret_cast<std::uintptr_t>(addr));
    return it == vm.areas.end() ? 0 : it->second.size;
}

bool is_vmalloc_addr(const System &s, const void *addr) noexcept {
    return vmap_of(const_cast<System &>(s)).contains(addr);
}

vmalloc_stats vmalloc_statistics(System &s) {
    vmap_state &vm = vmap_of(s);
    vmalloc_stats st;
    {
        std::lock_guard<std::mutex> g(vm.lock);
        st.areas = vm.areas.size();
    }
    st.pages = vm.nr_pages.load();
    st.pagetables = vm.nr_pagetables.load();
    st.mappings = vm.nr_mappings.load();
    st.failures = vm.failures.load();
    return st;
}

} // namespace gfplab
