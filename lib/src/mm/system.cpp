// SPDX-License-Identifier: MIT
//
// Booting a System: the memory map (arena and struct pages), nodes and zones laid out by
// physical address as on x86-64, every page handed to the buddy allocator, the zonelists,
// and the watermarks.
#include <gfplab/system.hpp>

#include "../check/recursion.hpp"
#include "../frames/backend.hpp"
#include "../pcp/pcp.hpp"
#include "../reclaim/kswapd.hpp"
#include "../reclaim/kvfree_rcu.hpp"
#include "../reclaim/oom_kill.hpp"
#include "../slab/slab.hpp"
#include "../vmalloc/vmalloc.hpp"
#include "vmstat_work.hpp"

#include <gfplab/page_cache.hpp>
#include <gfplab/pcp_sizing.hpp>
#include <gfplab/shrinker.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <new>
#include <stdexcept>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

namespace gfplab {
namespace {

// Everything is laid out in MAX_PAGE_ORDER blocks (4 MiB), so that zones start and end on
// a whole buddy block and pageblock, as the kernel's do on real machines.
constexpr std::uint64_t layout_unit = PAGE_SIZE << MAX_PAGE_ORDER;

void check_config(const system_config &c) {
    auto fail = [](std::string msg) { throw std::invalid_argument("gfplab: " + msg); };
    if (c.nodes < 1 || c.nodes > 8)
        fail(fmt::format("nodes must be 1..8, not {}", c.nodes));
    if (c.memory_bytes == 0 || c.memory_bytes % (layout_unit * c.nodes))
        fail(fmt::format("memory ({} bytes) must be a non-zero multiple of {} MiB per node",
                         c.memory_bytes, layout_unit >> 20));
    if ((c.memory_bytes >> PAGE_SHIFT) > 0xffffffffull)
        fail("memory above 16 TiB: pfns no longer fit in 32 bits");
    if (c.dma_limit % layout_unit || c.dma32_limit % layout_unit || c.dma_limit > c.dma32_limit)
        fail("dma_limit and dma32_limit must be multiples of 4 MiB with dma_limit <= "
             "dma32_limit");
    std::uint64_t node_bytes = c.memory_bytes / c.nodes;
    if (c.movable_bytes_per_node % layout_unit || c.movable_bytes_per_node >= node_bytes)
        fail("movable_bytes_per_node must be a multiple of 4 MiB below the node size");
    if (c.watermark_scale_factor < 1 || c.watermark_scale_factor > 3000)
        fail("watermark_scale_factor must be 1..3000 (the sysctl's range)");
    if (c.percpu_pagelist_high_fraction != 0 && c.percpu_pagelist_high_fraction < 8)
        fail("percpu_pagelist_high_fraction must be 0 or at least 8 (the sysctl's range)");
}

void *map_lazily(std::size_t bytes) {
    void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        throw std::bad_alloc();
    return p;
}

const char *const zone_names[MAX_NR_ZONES] = {"DMA", "DMA32", "Normal", "Movable"};

// `automatic` is GFPLAB_BUDDY's choice, so that a whole test suite can run on either backend
// without a change to its Systems (meson test --setup lockfree).
buddy_backend resolve_buddy_backend(buddy_backend b) {
    if (b != buddy_backend::automatic)
        return b;
    const char *env = std::getenv("GFPLAB_BUDDY");
    if (!env || !*env)
        return buddy_backend::kernel;
    auto parsed = parse_buddy_backend(env);
    if (!parsed)
        throw std::invalid_argument(
            fmt::format("gfplab: GFPLAB_BUDDY={} is neither kernel nor lockfree", env));
    return *parsed == buddy_backend::automatic ? buddy_backend::kernel : *parsed;
}

} // namespace

const char *buddy_backend_name(buddy_backend b) noexcept {
    switch (b) {
    case buddy_backend::automatic:
        return "automatic";
    case buddy_backend::kernel:
        return "kernel";
    case buddy_backend::lockfree:
        return "lockfree";
    }
    return "?";
}

std::optional<buddy_backend> parse_buddy_backend(std::string_view name) noexcept {
    for (auto b : {buddy_backend::automatic, buddy_backend::kernel, buddy_backend::lockfree})
        if (name == buddy_backend_name(b))
            return b;
    return std::nullopt;
}

namespace {
std::uint64_t next_system_serial() noexcept {
    static std::atomic<std::uint64_t> serial{0};
    return serial.fetch_add(1, std::memory_order_relaxed) + 1;
}
} // namespace

System::System(const system_config &cfg) : cfg_(cfg), serial_(next_system_serial()) {
    check_config(cfg_);
    buddy_ = resolve_buddy_backend(cfg_.buddy);
    cpus_ = cfg_.cpus ? cfg_.cpus : std::max(1u, std::thread::hardware_concurrency());
    setup_memory();
    trace_.attach(this, mem_map_);
    setup_zones();
    setup_zonelists();
    setup_watermarks();
    setup_pcp();
    shrinkers_ = std::make_unique<shrinker_registry>(nr_nodes());
    shrinkers_->set_report_sink([this](violation v) { report(std::move(v)); });
    shrinkers_->set_tracepoints(&trace_);
    oom_ = std::make_unique<oom_state>();
    hazards_ = std::make_unique<recursion_hazards>();
    page_cache_ = std::make_unique<class page_cache>(*this, cfg_.swap_pages);
    slab_ = std::make_unique<slab_state>(*this);
    vmap_ = std::make_unique<vmap_state>(*this);
    kfree_rcu_ = std::make_unique<kfree_rcu_state>(*this);
    start_kswapd();
    start_vmstat_work();
}

System::~System() {
    // kswapd reclaims from this System and vmstat_work folds its counters: they go first.
    stop_vmstat_work();
    stop_kswapd();
    // The page cache frees its pages while the memory map is still there.
    page_cache_.reset();
    // kvfree_rcu()'s batches go back to the slab layer, which is still there, and so do
    // the SLAB_TYPESAFE_BY_RCU slabs that wait for a grace period.
    kfree_rcu_.reset();
    slab_->wait_for_rcu_slabs();
    vmap_.reset(); // its areas' pages go with the memory
    slab_.reset();
    if (mem_map_) {
        // struct page is trivially destructible apart from its atomics, which need nothing.
        munmap(mem_map_, mem_map_bytes_);
    }
    if (arena_)
        munmap(arena_, nr_pages_ << PAGE_SHIFT);
    if (memory_fd_ >= 0)
        close(memory_fd_);
}

kfree_rcu_state &kfree_rcu_of(System &s) noexcept {
    return *s.kfree_rcu_;
}

vmap_state &vmap_of(System &s) noexcept {
    return *s.vmap_;
}

shrinker_registry &System::shrinkers() noexcept {
    return *shrinkers_;
}

page_cache &System::page_cache() noexcept {
    return *page_cache_;
}

void System::setup_memory() {
    nr_pages_ = cfg_.memory_bytes >> PAGE_SHIFT;
    // Physical memory is reserved, not committed: a page costs RAM only once touched. It
    // lives in a memfd, so that vmalloc can map its pages a second time, elsewhere; where
    // memfd_create() is refused, in anonymous memory, and vmalloc() fails. Either way it
    // starts on a 4 MiB boundary, so that a block of 2^order pages is aligned to its size
    // in addresses as its pfn is (kmalloc's power-of-two objects rely on it); mmap()
    // promises only a page.
    const std::size_t bytes = nr_pages_ << PAGE_SHIFT;
    void *window = mmap(nullptr, bytes + layout_unit, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (window == MAP_FAILED)
        throw std::bad_alloc();
    const auto w = reinterpret_cast<std::uintptr_t>(window);
    const std::uintptr_t start = (w + layout_unit - 1) & ~std::uintptr_t(layout_unit - 1);
    if (start > w)
        munmap(window, start - w);
    if (const std::size_t tail = w + layout_unit - start)
        munmap(reinterpret_cast<void *>(start + bytes), tail);
    void *const at = reinterpret_cast<void *>(start);
    memory_fd_ = memfd_create("gfplab-memory", MFD_CLOEXEC);
    if (memory_fd_ >= 0 && ftruncate(memory_fd_, off_t(bytes)) == 0 &&
        mmap(at, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE | MAP_FIXED, memory_fd_,
             0) == at) {
        arena_ = static_cast<std::uint8_t *>(at);
    } else {
        if (memory_fd_ >= 0)
            close(memory_fd_);
        memory_fd_ = -1;
        if (mmap(at, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) != at)
            throw std::bad_alloc();
        arena_ = static_cast<std::uint8_t *>(at);
    }
    mem_map_bytes_ = nr_pages_ * sizeof(page);
    mem_map_ = static_cast<page *>(map_lazily(mem_map_bytes_));
}

void System::setup_zones() {
    const std::uint64_t node_pages = nr_pages_ / cfg_.nodes;
    const std::uint64_t dma_end = cfg_.dma_limit >> PAGE_SHIFT;
    const std::uint64_t dma32_end = cfg_.dma32_limit >> PAGE_SHIFT;
    const std::uint64_t movable_pages = cfg_.movable_bytes_per_node >> PAGE_SHIFT;

    for (unsigned nid = 0; nid < cfg_.nodes; nid++) {
        auto pgdat = std::make_unique<pglist_data>();
        pgdat->node_id = int(nid);
        pgdat->node_start_pfn = nid * node_pages;
        pgdat->node_spanned_pages = node_pages;
        const std::uint64_t start = pgdat->node_start_pfn, end = start + node_pages;
        const std::uint64_t movable_start = end - movable_pages;
        // ZONE_MOVABLE is carved from the top of ZONE_NORMAL only, like movablecore=.
        if (movable_pages && movable_start < std::max(start, dma32_end))
            throw std::invalid_argument(
                fmt::format("gfplab: node {}: ZONE_MOVABLE ({} MiB) would reach below dma32_limit",
                            nid, cfg_.movable_bytes_per_node >> 20));
        // [first, last) of each zone, clipped to this node.
        const std::uint64_t bounds[MAX_NR_ZONES][2] = {
            {start, std::min(end, dma_end)},
            {std::max(start, dma_end), std::min(end, dma32_end)},
            {std::max(start, dma32_end), movable_start},
            {movable_start, end},
        };
        for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
            zone &z = pgdat->node_zones[zi];
            z.mem_map = mem_map_;
            z.watermark_boost_factor = cfg_.watermark_boost_factor;
            z.name = zone_names[zi];
            z.node = int(nid);
            z.idx = zone_type(zi);
            std::uint64_t first = bounds[zi][0], last = bounds[zi][1];
            if (last <= first)
                first = last = std::min(first, end);
            z.zone_start_pfn = first;
            z.spanned_pages = last - first;
            z.managed_pages = z.spanned_pages;
            // vmstat: one delta per CPU and item, folded past the normal threshold (kswapd
            // will switch a node to the pressure threshold while it runs).
            z.stat_cpus = cpus_;
            z.normal_stat_threshold = calculate_normal_threshold(int(cpus_), z.managed_pages);
            z.stat_threshold.store(z.normal_stat_threshold, std::memory_order_relaxed);
            z.per_cpu_zonestats = std::make_unique<per_cpu_zonestat[]>(cpus_);
            unsigned long blocks = z.spanned_pages >> pageblock_order;
            z.pageblock_mt = std::make_unique<std::atomic<std::uint8_t>[]>(blocks ? blocks : 1);
            // Boot marks every pageblock movable (memmap_init); fallbacks retype them later.
            for (unsigned long b = 0; b < blocks; b++)
                z.pageblock_mt[b].store(MIGRATE_MOVABLE, std::memory_order_relaxed);
            for (std::uint64_t pfn = first; pfn < last; pfn++) {
                page *p = new (mem_map_ + pfn) page;
                p->node = std::uint8_t(nid);
                p->zone = std::uint8_t(zi);
            }
            // The backend takes the zone over with every page free (memblock_free_all).
            if (z.populated()) {
                frames_.push_back(buddy_ == buddy_backend::lockfree
                                      ? make_lockfree_backend(z, cpus_)
                                      : make_kernel_backend(z));
                z.frames = frames_.back().get();
            }
        }
        nodes_.push_back(std::move(pgdat));
    }
}

void System::setup_zonelists() {
    const int n = int(nodes_.size());
    for (int nid = 0; nid < n; nid++) {
        pglist_data &pgdat = *nodes_[nid];
        // Nodes sit on a ring: distance grows with |a - b| around it, so the fallback order
        // is this node, then its neighbours outward (node order, as since 4.14).
        std::size_t k = 0;
        for (int step = 0; step < n; step++) {
            int other = (nid + step) % n;
            for (int zi = MAX_NR_ZONES - 1; zi >= 0; zi--) {
                zone &z = nodes_[other]->node_zones[zi];
                if (z.populated())
                    pgdat.zonelists[ZONELIST_FALLBACK][k++] = &z;
            }
        }
        pgdat.zonelists[ZONELIST_FALLBACK][k] = nullptr;
        k = 0;
        for (int zi = MAX_NR_ZONES - 1; zi >= 0; zi--)
            if (pgdat.node_zones[zi].populated())
                pgdat.zonelists[ZONELIST_NOFALLBACK][k++] = &pgdat.node_zones[zi];
        pgdat.zonelists[ZONELIST_NOFALLBACK][k] = nullptr;
    }
}

void System::setup_pcp() {
    // rseq blocks are indexed by the kernel's CPU number, so the simulated CPU count must be
    // the machine's for rseq to serve it.
    const bool machine_cpus = cfg_.cpus == 0 || cfg_.cpus == std::thread::hardware_concurrency();
    const bool want_rseq = cfg_.pcp == pcp_mode::automatic || cfg_.pcp == pcp_mode::rseq;
    const bool rseq = want_rseq && machine_cpus && pcp::rseq_usable();
    for (auto &n : nodes_) {
        // CPUs are spread evenly over nodes (cpu_to_node).
        int cpus_on_node = 0;
        for (unsigned c = 0; c < cpus_; c++)
            cpus_on_node += cpu_to_node(c) == n->node_id;
        for (auto &z : n->node_zones) {
            z.pcp_slot = unsigned(n->node_id) * MAX_NR_ZONES + unsigned(z.idx);
            auto hb = zone_pcp_high_and_batch(z.managed_pages, z.low_wmark_pages(), cpus_on_node,
                                              int(cpus_), int(cfg_.percpu_pagelist_high_fraction));
            z.pcp_batch = unsigned(std::max(1, hb.batch));
            z.pcp_high = unsigned(std::max(0, hb.high_min));
            z.pcp_high_max = unsigned(std::max(0, hb.high_max));
            z.percpu_drift_mark =
                percpu_drift_mark(z.high_wmark_pages(), int(cpus_), z.normal_stat_threshold,
                                  z.low_wmark_pages(), z.min_wmark_pages());
        }
    }
    std::vector<zone *> zones;
    for (auto &n : nodes_)
        for (auto &z : n->node_zones)
            zones.push_back(&z);
    // rseq indexes blocks by the kernel's CPU number, so there is one per possible CPU.
    const unsigned possible = std::max(1u, std::thread::hardware_concurrency());
    const auto mode = rseq                                 ? pcp::cpu_mode::rseq
                      : cfg_.pcp == pcp_mode::virtual_cpus ? pcp::cpu_mode::virtual_cpus
                                                           : pcp::cpu_mode::locked;
    pcp_ = std::make_unique<pcp::area>(zones, unsigned(nodes_.size()) * MAX_NR_ZONES,
                                       rseq ? std::max(possible, cpus_) : cpus_, mode,
                                       pcp::zone_frames_source());
    // PCPF_FREE_HIGH_BATCH: 6.12 sets it on a CPU whose share of the last-level cache holds
    // more than three batches (about 750 KiB for the largest batch, 63 pages), which today's
    // x86-64 CPUs have. The model does not read the host's caches (runs must not depend on
    // the machine), so it takes that as given for every CPU.
    pcp_->set_free_high_batch(true);
}

unsigned System::drain_all_pages(zone *z) {
    return pcp_->drain_all(z);
}

unsigned long System::pcp_count(const zone &z) const noexcept {
    return pcp_->count(z);
}

bool System::pcp_uses_rseq() const noexcept {
    return pcp_->uses_rseq();
}

page *System::virt_to_page(const void *addr) const noexcept {
    auto a = static_cast<const std::uint8_t *>(addr);
    if (a < arena_ || a >= arena_ + (nr_pages_ << PAGE_SHIFT))
        return nullptr;
    return mem_map_ + ((a - arena_) >> PAGE_SHIFT);
}

double System::metadata_ratio() const noexcept {
    double meta = double(mem_map_bytes_);
    for (const auto &n : nodes_)
        for (const auto &z : n->node_zones)
            meta += double(z.spanned_pages >> pageblock_order) + double(sizeof(zone));
    return meta / double(nr_pages_ << PAGE_SHIFT);
}

} // namespace gfplab
