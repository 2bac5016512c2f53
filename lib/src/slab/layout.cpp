// SPDX-License-Identifier: MIT
//
// The slab layer's arithmetic, as 6.12 computes it: calculate_alignment() (slab_common.c),
// calc_slab_order() and calculate_order() (slub.c), kmalloc_index(), kmalloc_type() and the
// kmalloc size table (slab.h, slab_common.c).
#include <gfplab/gfp.hpp>
#include <gfplab/slab.hpp>

#include <algorithm>
#include <bit>

namespace gfplab {
namespace {

constexpr unsigned cache_line_size = 64;
constexpr unsigned slab_max_order = PAGE_ALLOC_COSTLY_ORDER;
constexpr unsigned max_objs_per_page = 32767;

unsigned order_objects(unsigned order, unsigned size) {
    return unsigned((PAGE_SIZE << order) / size);
}

// get_order(): the smallest order whose block holds size bytes.
unsigned get_order(unsigned long size) {
    if (size <= PAGE_SIZE)
        return 0;
    return unsigned(std::bit_width((size - 1) >> PAGE_SHIFT));
}

// The first order from min_order up to max_order that wastes at most 1/fract_leftover.
unsigned calc_slab_order(unsigned size, unsigned min_order, unsigned max_order,
                         unsigned fract_leftover) {
    unsigned order = min_order;
    for (; order <= max_order; order++) {
        const unsigned slab_size = unsigned(PAGE_SIZE << order);
        if (slab_size % size <= slab_size / fract_leftover)
            break;
    }
    return order;
}

} // namespace

unsigned calculate_alignment(slab_flags_t flags, unsigned align, unsigned size) noexcept {
    if (flags & SLAB_HWCACHE_ALIGN) {
        unsigned ralign = cache_line_size;
        while (size <= ralign / 2)
            ralign /= 2;
        align = std::max(align, ralign);
    }
    align = std::max(align, unsigned(ARCH_KMALLOC_MINALIGN)); // arch_slab_minalign()
    return (align + 7) & ~7u;
}

cpu_partial_limits set_cpu_partial(slab_flags_t flags, unsigned size, unsigned objects) noexcept {
    // kmem_cache_debug(): a debug cache takes SLUB's locked path and keeps no CPU partials.
    constexpr slab_flags_t debug_flags =
        SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE;
    if (flags & debug_flags)
        return {};
    // Big objects are expensive to hold on a CPU: fewer of them the bigger they are.
    const unsigned n = size >= PAGE_SIZE ? 6 : size >= 1024 ? 24 : size >= 256 ? 52 : 120;
    // slub_set_cpu_partial(): the limit is kept in slabs, assumed half full.
    return {n, (n * 2 + objects - 1) / std::max(objects, 1u)};
}

const char *slub_stat_name(slub_stat_item i) noexcept {
    static constexpr const char *names[NR_SLUB_STAT_ITEMS] = {
        "alloc_slowpath",      "free_slowpath",      "free_frozen",       "free_add_partial",
        "free_remove_partial", "alloc_from_partial", "alloc_slab",        "alloc_refill",
        "alloc_node_mismatch", "free_slab",          "cpuslab_flush",     "deactivate_full",
        "deactivate_empty",    "order_fallback",     "cpu_partial_alloc", "cpu_partial_free",
        "cpu_partial_node",    "cpu_partial_drain"};
    return i < NR_SLUB_STAT_ITEMS ? names[i] : "?";
}

int calculate_order(unsigned size, unsigned nr_cpus) noexcept {
    // The kernel bases min_objects on the CPUs present (nr_cpu_ids when only one is):
    // bigger machines get bigger slabs, so their slow paths run less often.
    const unsigned min_objects_cpus = 4 * (unsigned(std::bit_width(std::max(nr_cpus, 1u))) + 1);
    const unsigned max_objects = std::max(order_objects(slab_max_order, size), 1u);
    const unsigned min_objects = std::min(min_objects_cpus, max_objects);
    const unsigned min_order = get_order((unsigned long)min_objects * size);
    if (order_objects(min_order, size) > max_objs_per_page)
        return int(get_order((unsigned long)size * max_objs_per_page)) - 1;
    // Accept 1/16 waste, then 1/8, then 1/4, then anything up to slab_max_order.
    for (unsigned fraction = 16; fraction > 1; fraction /= 2) {
        const unsigned order = calc_slab_order(size, min_order, slab_max_order, fraction);
        if (order <= slab_max_order)
            return int(order);
    }
    // Not even one object within slab_max_order: the smallest order that holds one.
    const unsigned order = get_order(size);
    return order <= MAX_PAGE_ORDER ? int(order) : -1;
}

unsigned kmalloc_size(unsigned index) noexcept {
    if (index == 1)
        return 96;
    if (index == 2)
        return 192;
    return index >= KMALLOC_SHIFT_LOW && index <= KMALLOC_SHIFT_HIGH ? 1u << index : 0;
}

} // namespace gfplab
