// SPDX-License-Identifier: MIT
//
// The kernel face (gfplab/linux/gfp.h, mm.h): the kernel's allocation and conversion
// functions on the default System, and how that System comes to be.
#include "../check/report.hpp"
#include "../page_alloc/fastpath.hpp"
#include "default_system.hpp"

#include <gfplab/linux/gfp.h>
#include <gfplab/linux/mm.h>
#include <gfplab/memparse.hpp>
#include <gfplab/system.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace gfplab {

std::atomic<System *> detail::chosen_system{nullptr};
std::atomic<System *> detail::booted_system{nullptr};

namespace {

std::uint64_t parse_size(const char *name, const std::string &v) {
    if (const auto n = memparse(v))
        return *n;
    throw std::invalid_argument(std::string("gfplab: ") + name + "='" + v +
                                "' is not a size (e.g. 256M, 4G, 0x10000000)");
}

unsigned parse_count(const char *name, const std::string &v) {
    std::size_t used = 0;
    unsigned long n = 0;
    try {
        n = std::stoul(v, &used, 10);
    } catch (const std::exception &) {
        used = 0;
    }
    if (used == 0 || used != v.size())
        throw std::invalid_argument(std::string("gfplab: ") + name + "='" + v +
                                    "' is not a number");
    return unsigned(n);
}

// default_system(), inline.
System &sys() {
    return current_default_system();
}

} // namespace

system_config config_from_env() {
    system_config c;
    auto env = [](const char *n) -> const char * { return std::getenv(n); };
    if (auto v = env("GFPLAB_MEMORY"))
        c.memory_bytes = parse_size("GFPLAB_MEMORY", v);
    if (auto v = env("GFPLAB_DMA32_LIMIT"))
        c.dma32_limit = parse_size("GFPLAB_DMA32_LIMIT", v);
    if (auto v = env("GFPLAB_NODES"))
        c.nodes = parse_count("GFPLAB_NODES", v);
    if (auto v = env("GFPLAB_CPUS"))
        c.cpus = parse_count("GFPLAB_CPUS", v);
    if (auto v = env("GFPLAB_POISON"))
        c.poison = parse_count("GFPLAB_POISON", v) != 0;
    if (auto v = env("GFPLAB_INIT_ON_ALLOC"))
        c.init_on_alloc = parse_count("GFPLAB_INIT_ON_ALLOC", v) != 0;
    if (auto v = env("GFPLAB_INIT_ON_FREE"))
        c.init_on_free = parse_count("GFPLAB_INIT_ON_FREE", v) != 0;
    if (auto v = env("GFPLAB_CHECK")) {
        std::string s = v;
        if (s == "off")
            c.checking = check_level::off;
        else if (s == "cheap")
            c.checking = check_level::cheap;
        else if (s == "full")
            c.checking = check_level::full;
        else
            throw std::invalid_argument("gfplab: GFPLAB_CHECK='" + s +
                                        "' is not one of off, cheap, full");
    }
    if (auto v = env("GFPLAB_ON_REPORT")) {
        std::string s = v;
        if (s != "count" && s != "abort")
            throw std::invalid_argument("gfplab: GFPLAB_ON_REPORT='" + s +
                                        "' is not one of count, abort");
        c.on_report = s == "abort" ? report_action::abort : report_action::count;
    }
    return c;
}

System &detail::boot_default_system() {
    static System *s = [] {
        try {
            return new System(config_from_env()); // lives until exit: pages may outlive main
        } catch (const std::exception &e) {
            std::fprintf(stderr, "%s\n", e.what());
            std::abort();
        }
    }();
    booted_system.store(s, std::memory_order_release);
    return *s;
}

System &default_system() {
    return current_default_system();
}

void set_default_system(System *s) noexcept {
    detail::chosen_system.store(s, std::memory_order_release);
}

} // namespace gfplab

using gfplab::page;
using gfplab::sys;

extern "C" {

// The fast paths inline (fastpath.hpp): the kernel face is one call, as the C++ API is.
page *alloc_pages(gfp_t gfp_mask, unsigned int order) {
    return gfplab::page_allocator::alloc(sys(), gfp_mask, order, -1, gfplab::srcloc::current());
}

page *alloc_pages_node(int nid, gfp_t gfp_mask, unsigned int order) {
    return gfplab::page_allocator::alloc(sys(), gfp_mask, order, nid, gfplab::srcloc::current());
}

void __free_pages(page *p, unsigned int order) {
    gfplab::page_allocator::free(sys(), p, order);
}

page *alloc_pages_nolock(gfp_t gfp_flags, int nid, unsigned int order) {
    return sys().alloc_pages_nolock(gfp_flags, nid, order);
}

void free_pages_nolock(page *p, unsigned int order) {
    sys().free_pages_nolock(p, order);
}

unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order) {
    // Like the kernel: a page with an address, so never ZONE_HIGHMEM (none here anyway).
    page *p = sys().alloc_pages(gfp_mask & ~__GFP_HIGHMEM, order);
    return p ? reinterpret_cast<unsigned long>(sys().page_address(p)) : 0;
}

unsigned long get_zeroed_page(gfp_t gfp_mask) {
    return __get_free_pages(gfp_mask | __GFP_ZERO, 0);
}

void free_pages(unsigned long addr, unsigned int order) {
    if (addr == 0)
        return;
    page *p = sys().virt_to_page(reinterpret_cast<const void *>(addr));
    if (!p || (addr & (PAGE_SIZE - 1))) {
        gfplab::report(sys(), gfplab::invariant::bad_input, "foreign page", 0, int(order), nullptr,
                       "free_pages({}, order {}): not the address of a page of the "
                       "default System",
                       addr, order);
        return;
    }
    sys().free_pages(p, order);
}

void *page_address(const page *p) {
    return sys().page_address(p);
}
page *virt_to_page(const void *addr) {
    return sys().virt_to_page(addr);
}
unsigned long page_to_pfn(const page *p) {
    return sys().page_to_pfn(p);
}
page *pfn_to_page(unsigned long pfn) {
    return pfn < sys().max_pfn() ? sys().pfn_to_page(pfn) : nullptr;
}
int page_to_nid(const page *p) {
    return p->node;
}
enum zone_type page_zonenum(const page *p) {
    return zone_type(p->zone);
}
gfplab::zone *page_zone(const page *p) {
    return &sys().page_zone(p);
}
enum zone_type zone_idx(const gfplab::zone *z) {
    return z->idx;
}
int zone_to_nid(const gfplab::zone *z) {
    return z->node;
}
const char *zone_name(const gfplab::zone *z) {
    return z->name;
}

} // extern "C"
