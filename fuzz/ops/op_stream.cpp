// SPDX-License-Identifier: MIT
#include "op_stream.hpp"

#include <gfplab/slab.hpp>

#include <cstring>
#include <fmt/format.h>

namespace gfplab::fuzz {

const std::array<mask_entry, 14> mask_table{{
    {"GFP_KERNEL", GFP_KERNEL},
    {"GFP_NOFS", GFP_NOFS},
    {"GFP_NOIO", GFP_NOIO},
    {"GFP_ATOMIC", GFP_ATOMIC},
    {"GFP_NOWAIT", GFP_NOWAIT},
    {"GFP_USER", GFP_USER},
    {"GFP_HIGHUSER", GFP_HIGHUSER},
    {"GFP_HIGHUSER_MOVABLE", GFP_HIGHUSER_MOVABLE},
    {"GFP_DMA32|GFP_KERNEL", GFP_DMA32 | GFP_KERNEL},
    {"GFP_DMA|GFP_KERNEL", GFP_DMA | GFP_KERNEL},
    {"GFP_TRANSHUGE_LIGHT", GFP_TRANSHUGE_LIGHT},
    {"GFP_TRANSHUGE", GFP_TRANSHUGE},
    {"GFP_KERNEL_ACCOUNT", GFP_KERNEL_ACCOUNT},
    {"GFP_KERNEL|__GFP_RECLAIMABLE", GFP_KERNEL | __GFP_RECLAIMABLE},
}};

gfp_t modifier_bits() noexcept {
    return __GFP_ZERO | __GFP_COMP | __GFP_NOWARN | __GFP_HIGH | __GFP_MEMALLOC | __GFP_NOMEMALLOC |
           __GFP_THISNODE | __GFP_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NORETRY | __GFP_HARDWALL |
           __GFP_WRITE;
}

static gfp_t raw_mask(const op &o) noexcept {
    return gfp_t(o.arg[1]) | gfp_t(o.arg[2]) << 8 | gfp_t(o.arg[3]) << 16 | gfp_t(o.arg[4]) << 24;
}

gfp_t requested_mask(const op &o) noexcept {
    const unsigned sel = o.arg[0] % (mask_table.size() + 1);
    if (sel == raw_mask_selector)
        return raw_mask(o);
    return mask_table[sel].mask | (raw_mask(o) & modifier_bits());
}

unsigned alloc_order(const op &o) noexcept {
    return (o.arg[5] & 0xf) % (MAX_PAGE_ORDER + 2);
}
unsigned alloc_vcpu(const op &o) noexcept {
    return (o.arg[5] >> 4) % nr_vcpus;
}
unsigned free_vcpu(const op &o) noexcept {
    return o.arg[1] % nr_vcpus;
}
unsigned slot_of(const op &o) noexcept {
    return (o.code == op_code::alloc ? o.arg[6] : o.arg[0]) % nr_slots;
}

static bool known(std::uint8_t c) noexcept {
    return c >= std::uint8_t(op_code::alloc) && c <= last_op_code;
}

op_decoder::op_decoder(const std::uint8_t *data, std::size_t size) noexcept
    : p_(data), end_(data + size) {
    if (size >= op_header_size && std::memcmp(data, op_magic.data(), op_magic.size()) == 0) {
        p_ += op_header_size;
        if (data[4] != op_version)
            p_ = end_;
    }
}

std::optional<op> op_decoder::next(std::size_t &index) noexcept {
    while (std::size_t(end_ - p_) >= op_record_size) {
        const std::uint8_t *r = p_;
        p_ += op_record_size;
        index = index_++;
        if (!known(r[0]))
            continue;
        op o{op_code(r[0]), {}};
        std::memcpy(o.arg.data(), r + 1, o.arg.size());
        return o;
    }
    return std::nullopt;
}

gfp_t kmalloc_mask(const op &o) noexcept {
    // Kernel code's composites, without __GFP_NOFAIL (not for a kmalloc that may be large).
    gfp_t m = mask_table[o.arg[0] % mask_table.size()].mask & ~__GFP_NOFAIL;
    const std::uint8_t mods = o.arg[1];
    if (mods & 1)
        m |= __GFP_ZERO;
    if (mods & 2)
        m |= __GFP_ACCOUNT;
    if (mods & 4)
        m |= __GFP_RECLAIMABLE;
    if (mods & 8)
        m |= __GFP_DMA;
    if (mods & 16)
        m |= mods & 32 ? __GFP_DMA32 : __GFP_HIGHMEM;
    return m;
}

gfp_t finite_mask(gfp_t gfp, unsigned order) noexcept {
    // Invalid masks go through as they are (refused); so does NOFAIL that cannot reclaim,
    // which 6.12 lets fail (reported, I16).
    if (!gfp_valid(gfp, int(order)) || gfp_nofail_cannot_reclaim(gfp))
        return gfp;
    gfp &= ~__GFP_NOFAIL;
    if (gfp & __GFP_DIRECT_RECLAIM)
        gfp |= __GFP_NORETRY;
    return gfp;
}

gfp_t run_kmalloc_mask(const op &o) noexcept {
    gfp_t gfp = kmalloc_mask(o);
    if (gfp & __GFP_DIRECT_RECLAIM)
        gfp |= __GFP_NORETRY;
    // Large kmallocs are pages: keep them out of the memcg model's way.
    if (kmalloc_size(o) > KMALLOC_MAX_CACHE_SIZE)
        gfp &= ~__GFP_ACCOUNT;
    return gfp;
}

gfp_t kvmalloc_request_mask(const op &o) noexcept {
    return mask_table[o.arg[0] % mask_table.size()].mask | (o.arg[1] & 1 ? __GFP_ZERO : 0);
}

gfp_t run_kvmalloc_mask(const op &o) noexcept {
    gfp_t gfp = kvmalloc_request_mask(o) & ~__GFP_ACCOUNT;
    if (gfp & __GFP_DIRECT_RECLAIM)
        gfp = (gfp & ~__GFP_NOFAIL) | __GFP_RETRY_MAYFAIL;
    return gfp;
}

std::string harness_change(gfp_t asked, gfp_t run) {
    if (asked == run)
        return "";
    std::string what;
    if (const gfp_t added = run & ~asked)
        what = "added " + gfp_describe(added);
    if (const gfp_t dropped = asked & ~run)
        what += (what.empty() ? "dropped " : ", dropped ") + gfp_describe(dropped);
    return fmt::format(", run as {}: the harness {}", gfp_describe(run), what);
}

std::size_t kmalloc_size(const op &o) noexcept {
    return 1 + (std::size_t(o.arg[2]) | std::size_t(o.arg[3]) << 8) % 20000;
}

std::size_t kvmalloc_size(const op &o) noexcept {
    return 1 + ((std::size_t(o.arg[2]) | std::size_t(o.arg[3]) << 8) * 16) % (1u << 20);
}

unsigned nolock_order(const op &o) noexcept {
    return o.arg[1] % (PAGE_ALLOC_COSTLY_ORDER + 2);
}

gfp_t nolock_mask(const op &o) noexcept {
    return (o.arg[2] & 1) ? __GFP_ACCOUNT : 0;
}

zone_type pressure_zone(const op &o) noexcept {
    static constexpr zone_type zones[] = {ZONE_DMA, ZONE_DMA32, ZONE_NORMAL};
    return zones[o.arg[1] % 3];
}

std::string describe(const op &o) {
    static const char *const scope_names[] = {"nofs", "noio", "noreclaim", "pin"};
    switch (o.code) {
    case op_code::alloc: {
        const unsigned sel = o.arg[0] % (mask_table.size() + 1);
        return fmt::format(
            "alloc slot {} order {} vcpu {} mask {} ({}){}", slot_of(o), alloc_order(o),
            alloc_vcpu(o), gfp_describe(requested_mask(o)),
            sel == raw_mask_selector ? "raw" : mask_table[sel].name,
            harness_change(requested_mask(o), finite_mask(requested_mask(o), alloc_order(o))));
    }
    case op_code::free:
        return fmt::format("free slot {} vcpu {}", slot_of(o), free_vcpu(o));
    case op_code::alloc_nolock:
        return fmt::format("alloc_nolock slot {} order {} vcpu {} mask {}", slot_of(o),
                           nolock_order(o), o.arg[3] % nr_vcpus, gfp_describe(nolock_mask(o)));
    case op_code::free_nolock:
        return fmt::format("free_nolock slot {} vcpu {}", slot_of(o), free_vcpu(o));
    case op_code::free_wrong_order:
        return fmt::format("free_wrong_order slot {} vcpu {} delta {}", slot_of(o), free_vcpu(o),
                           1 + o.arg[2] % MAX_PAGE_ORDER);
    case op_code::double_free:
        return fmt::format("double_free slot {} vcpu {}", slot_of(o), free_vcpu(o));
    case op_code::scope_save:
        return fmt::format("scope_save {}", scope_names[o.arg[0] % nr_scope_kinds]);
    case op_code::scope_restore:
        return "scope_restore";
    case op_code::drain:
        return "drain";
    case op_code::kswapd_step:
        return fmt::format("kswapd_step nid byte {}", o.arg[0]);
    case op_code::fail_nth:
        return fmt::format("fail_nth {}", o.arg[0] % 16);
    case op_code::shrink:
        return "shrink";
    case op_code::touch:
        return fmt::format("touch slot {}", slot_of(o));
    case op_code::lock_take:
        return fmt::format("lock_take class {}", o.arg[0] % nr_lock_classes);
    case op_code::lock_release:
        return "lock_release";
    case op_code::shrinker_register:
        return fmt::format("shrinker_register slot {} lock {} objects {} when {}",
                           o.arg[0] % nr_shrinker_slots,
                           o.arg[1] % (nr_lock_classes + 1) == nr_lock_classes
                               ? std::string("none")
                               : std::to_string(o.arg[1] % (nr_lock_classes + 1)),
                           unsigned(o.arg[2]) * 8, o.arg[3] & 1 ? "__GFP_IO" : "__GFP_FS");
    case op_code::shrinker_free:
        return fmt::format("shrinker_free slot {}", o.arg[0] % nr_shrinker_slots);
    case op_code::page_cache_add:
        return fmt::format("page_cache_add {}{} nid byte {}", o.arg[0] & 2 ? "anon" : "file",
                           o.arg[0] & 1 ? " dirty" : "", o.arg[1]);
    case op_code::page_cache_dirty:
        return fmt::format("page_cache_dirty page {}", o.arg[0] % nr_cache_pages);
    case op_code::cache_fill:
        return fmt::format("cache_fill {}", 1 + o.arg[0] % 8);
    case op_code::reclaim_step:
        return fmt::format("reclaim_step mask {} nid byte {} priority {}",
                           mask_table[o.arg[0] % mask_table.size()].name, o.arg[1], o.arg[2] % 13);
    case op_code::fault_inject:
        return fmt::format("fault_inject probability {}% interval {} times {}", o.arg[0] % 101,
                           o.arg[1] % 8, o.arg[2] % 16);
    case op_code::memcg_switch:
        return fmt::format("memcg_switch group {}", o.arg[0] % nr_memcgs);
    case op_code::kmalloc:
        return fmt::format("kmalloc slot {} size {} vcpu {} mask {}{}", o.arg[4] % nr_slots,
                           kmalloc_size(o), o.arg[5] % nr_vcpus, gfp_describe(kmalloc_mask(o)),
                           harness_change(kmalloc_mask(o), run_kmalloc_mask(o)));
    case op_code::kfree:
        return fmt::format("kfree slot {} vcpu {}", o.arg[0] % nr_slots, o.arg[1] % nr_vcpus);
    case op_code::kfree_double:
        return fmt::format("kfree_double slot {} vcpu {}", o.arg[0] % nr_slots,
                           o.arg[1] % nr_vcpus);
    case op_code::kfree_rcu:
        return fmt::format("kfree_rcu slot {} vcpu {}{}", o.arg[0] % nr_slots, o.arg[1] % nr_vcpus,
                           o.arg[2] & 1 ? " head-less" : "");
    case op_code::kvfree_rcu_barrier:
        return "kvfree_rcu_barrier";
    case op_code::kvmalloc:
        return fmt::format("{} slot {} size {} vcpu {} mask {}{}",
                           o.arg[1] & 2 ? "vmalloc" : "kvmalloc", o.arg[4] % nr_slots,
                           kvmalloc_size(o), o.arg[5] % nr_vcpus,
                           gfp_describe(kvmalloc_request_mask(o)),
                           harness_change(kvmalloc_request_mask(o), run_kvmalloc_mask(o)));
    case op_code::vfree_bad:
        return fmt::format("vfree_bad slot {}", o.arg[0] % nr_slots);
    case op_code::kvfree_rcu_monitor:
        return "kvfree_rcu_monitor";
    case op_code::pressure:
        if (o.arg[3] & 1)
            return "pressure release";
        return fmt::format("pressure nid byte {} zone {} to min{:+}", o.arg[0],
                           zone_name(pressure_zone(o)), int(std::int8_t(o.arg[2])));
    }
    return fmt::format("op {:#x}", unsigned(o.code));
}

std::array<std::uint8_t, op_record_size> encode(const op &o) noexcept {
    std::array<std::uint8_t, op_record_size> r{};
    r[0] = std::uint8_t(o.code);
    std::memcpy(r.data() + 1, o.arg.data(), o.arg.size());
    return r;
}

} // namespace gfplab::fuzz
