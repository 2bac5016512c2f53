// SPDX-License-Identifier: MIT
//
// gfplab/system.hpp - one simulated machine: memory, nodes, zones, CPUs and all the page
// allocator's state. Systems are fully independent; many can live in one process. The
// kernel face (gfplab/linux/gfp.h: alloc_pages ...) works on the default System.
#pragma once

#include <gfplab/fault_inject.hpp>
#include <gfplab/gfp.hpp>
#include <gfplab/memcontrol.hpp>
#include <gfplab/page.hpp>
#include <gfplab/report.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/trace.hpp>
#include <gfplab/zone.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gfplab {

namespace pcp {
class area;
}
class shrinker_registry;  // gfplab/shrinker.hpp
class page_cache;         // gfplab/page_cache.hpp
struct kswapd_state;      // lib/src/reclaim/kswapd.hpp
struct vmstat_work;       // lib/src/mm/vmstat_work.hpp
struct oom_state;         // lib/src/reclaim/oom_kill.hpp
struct recursion_hazards; // lib/src/check/recursion.hpp
struct page_allocator;    // lib/src/page_alloc/fastpath.hpp
class slab_state;         // lib/src/slab/slab.hpp
class kfree_rcu_state;    // lib/src/reclaim/kvfree_rcu.hpp
class vmap_state;         // lib/src/vmalloc/vmalloc.hpp
class frame_backend;      // lib/src/frames/backend.hpp

// How threads reach their CPU's per-CPU page lists.
enum class pcp_mode {
    automatic,    // rseq where it works (and cpus is the machine's), else locked
    rseq,         // restartable sequences; falls back to locked where unavailable
    locked,       // a per-CPU trylock on the CPU sched_getcpu() names
    virtual_cpus, // a per-CPU trylock on the CPU the thread chose (set_current_vcpu)
};

// What manages the free page frames of each zone, below the per-CPU lists.
enum class buddy_backend {
    automatic, // the GFPLAB_BUDDY environment variable ("kernel" or "lockfree"), else kernel
    kernel,    // 6.12's buddy allocator under zone->lock: the kernel's exact semantics
    lockfree,  // a non-blocking page-frame allocator (no lock on any path): docs/backends.md
};
// "kernel", "lockfree" (and "automatic"); parse_buddy_backend() is its inverse (nullopt for
// anything else).
const char *buddy_backend_name(buddy_backend b) noexcept;
std::optional<buddy_backend> parse_buddy_backend(std::string_view name) noexcept;

// kswapd's work on one node, as counters.
struct kswapd_stats {
    std::uint64_t wakeups = 0;   // wakeup_kswapd() calls that woke it
    std::uint64_t rounds = 0;    // balance_pgdat() runs
    std::uint64_t reclaimed = 0; // pages reclaimed
    std::uint64_t scanned = 0;
    int failures = 0;     // consecutive runs without progress (16: hopeless)
    bool running = false; // a thread exists for the node
    // The request wakeup_kswapd() recorded for the next run (kswapd_order,
    // kswapd_highest_zoneidx); highest_zoneidx -1: none since the last run took it.
    unsigned order = 0;
    int highest_zoneidx = -1;
};

// OOM victims are tasks; in the model, threads that registered themselves. A victim may dip
// into the reserves (ALLOC_OOM) until it clears the mark.
bool current_is_oom_victim() noexcept;
void clear_oom_victim() noexcept;

// What the calling thread's last trip through the allocation slow path did: how the request
// was answered and why (tests pin 6.12's outcomes on it; a report can quote it). An
// allocation nested in reclaim does not hide the one it served: the outer one ends last.
struct slowpath_trace {
    unsigned rounds = 0;          // passes through the retry loop
    unsigned reclaim_retries = 0; // rounds should_reclaim_retry() granted
    unsigned compact_retries = 0; // rounds should_compact_retry() granted
    unsigned compaction_runs = 0; // direct compaction attempts (order > 0)
    unsigned oom_calls = 0;       // __alloc_pages_may_oom() calls
    int compaction = -1;          // the last compaction's enum compact_result (-1: none)
    int compact_priority = -1;    // its enum compact_priority
    bool failed = false;          // the request returned NULL
};
const slowpath_trace &last_slowpath_trace() noexcept;
// "COMPACT_COMPLETE" ... for slowpath_trace::compaction.
const char *compact_result_name(int result) noexcept;

// Virtual-CPU mode: the CPU this thread's next operations run on (0..cpus-1).
void set_current_vcpu(unsigned cpu) noexcept;
unsigned current_vcpu() noexcept;

enum class check_level {
    off,   // bad input is still refused (the page metadata needed for that is always kept)
    cheap, // O(1) checks per operation: the head page's state on allocation (I1), the
           // placement (I5), compound tails on free (I13)
    full,  // also O(pages) checks: every page of a block handed out must be unused (I1)
};

struct system_config {
    std::uint64_t memory_bytes = 256ull << 20; // physical memory, split evenly over nodes
    unsigned nodes = 1;                        // 1..8 simulated NUMA nodes
    unsigned cpus = 0;                         // 0: the machine's
    // Zone boundaries by physical address, as on x86-64: ZONE_DMA below 16 MiB, ZONE_DMA32
    // below 4 GiB, ZONE_NORMAL above. Small test machines lower them to get all zones.
    std::uint64_t dma_limit = 16ull << 20;
    std::uint64_t dma32_limit = 4ull << 30;
    // Bytes at the top of each node given to ZONE_MOVABLE (the kernel's movablecore=).
    std::uint64_t movable_bytes_per_node = 0;

    unsigned min_free_kbytes = 0; // 0: the kernel's default for this much lowmem
    unsigned watermark_scale_factor = 10;
    unsigned watermark_boost_factor = 15000;
    std::array<unsigned, MAX_NR_ZONES> lowmem_reserve_ratio{256, 256, 32, 0};
    // vm.percpu_pagelist_high_fraction: 0 lets a per-CPU list's high mark auto-tune between
    // its bounds; 8 or more fixes it at that fraction of the zone over the node's CPUs.
    unsigned percpu_pagelist_high_fraction = 0;

    pcp_mode pcp = pcp_mode::automatic;
    buddy_backend buddy = buddy_backend::automatic;
    check_level checking = check_level::cheap;
    bool poison = false; // fill freed pages with a pattern and verify it on reuse (I12)
    // The kernel's init_on_alloc= and init_on_free= boot options, for slab objects: zero
    // every object when it is handed out, or when it is freed (not for caches with a
    // constructor, SLAB_TYPESAFE_BY_RCU or SLAB_POISON, whose contents must survive).
    bool init_on_alloc = false;
    bool init_on_free = false;
    // How long kvfree_rcu() batches wait before their grace period is started, unless a
    // CPU's batch fills first (6.12's KFREE_DRAIN_JIFFIES: 5 s; then 1 jiffy).
    unsigned kfree_rcu_drain_ms = 5000;
    // kvfree_rcu()'s monitor thread (off: batches are freed by kvfree_rcu_run_monitor(),
    // kvfree_rcu_barrier() and the shrinker only, on the caller's thread).
    bool kfree_rcu_thread = true;
    report_action on_report = report_action::count;
    bool warn_alloc = true;         // print "page allocation failure" reports (rate limited)
    unsigned stall_warn_ms = 10000; // a slow-path request looping this long is reported
    bool kswapd = true;             // one background reclaim thread per node (off: kswapd_run_once)
    // vm.stat_interval: how often the per-CPU vmstat deltas are folded into the zone counters
    // (6.12's vmstat_update every sysctl_stat_interval, HZ: 1 s). The fold runs on its own
    // thread, only in Systems that run kswapd threads (without them nothing moves on its
    // own, so runs replay exactly); 0: never (refresh_vm_stats() folds on demand).
    unsigned stat_interval_ms = 1000;
    std::uint64_t swap_pages = 0; // swap space for anon pages (0: none; anon stays in memory)
};

// Events counted per System, off the fast path (the fast path's own events, pgalloc and
// pgfree among them, are counted per CPU by the per-CPU lists; the statistics snapshot,
// gfplab/vmstat.hpp, sums both). Members named as in 6.12's /proc/vmstat count what the
// kernel's counter of that name counts (include/linux/vm_event_item.h); the others are
// gfplab's own and print with a "gfplab_" prefix (docs/fidelity.md has the table).
struct alloc_stats {
    // --- the kernel's events ------------------------------------------------------------
    // ALLOCSTALL: direct reclaim entries (do_try_to_free_pages()), by the highest zone the
    // reclaim may take pages from (sc->reclaim_idx: gfp_zone() of the scoped mask).
    std::array<std::atomic<std::uint64_t>, MAX_NR_ZONES> allocstall{};
    // PGSCAN_* / PGSTEAL_*: LRU pages reclaim scanned and freed (shrink_inactive_list()),
    // by who reclaimed (kswapd or direct) and by LRU type; shrinkers' frees are not in them.
    std::atomic<std::uint64_t> pgscan_kswapd{0}, pgscan_direct{0};
    std::atomic<std::uint64_t> pgsteal_kswapd{0}, pgsteal_direct{0};
    std::atomic<std::uint64_t> pgscan_anon{0}, pgscan_file{0};
    std::atomic<std::uint64_t> pgsteal_anon{0}, pgsteal_file{0};
    std::atomic<std::uint64_t> compact_stall{0};   // direct compaction that was not skipped
    std::atomic<std::uint64_t> compact_fail{0};    // ... and the allocation still failed
    std::atomic<std::uint64_t> compact_success{0}; // ... and it then succeeded
    std::atomic<std::uint64_t> oom_kill{0};        // victims killed (OOM_KILL)

    // --- gfplab's own -------------------------------------------------------------------
    std::atomic<std::uint64_t> slowpath{0};          // allocations that left the fast path
    std::atomic<std::uint64_t> failures{0};          // allocations that returned NULL
    std::atomic<std::uint64_t> reserve_allocs{0};    // served with reserve access (pfmemalloc)
    std::atomic<std::uint64_t> nofail_loops{0};      // extra rounds __GFP_NOFAIL had to wait
    std::atomic<std::uint64_t> oom_panics{0};        // OOM with nothing to kill (6.12 panics)
    std::atomic<std::uint64_t> direct_reclaimed{0};  // pages direct reclaim freed (LRU + slab)
    std::atomic<std::uint64_t> drains{0};            // drain_all_pages after reclaim
    std::atomic<std::uint64_t> oom_invocations{0};   // out_of_memory() calls
    std::atomic<std::uint64_t> oom_nofs{0};          // progress reported without a kill (!__GFP_FS)
    std::atomic<std::uint64_t> stalls{0};            // stall reports
    std::atomic<std::uint64_t> recursion_hazards{0}; // I9: allocations that could deadlock
    std::atomic<std::uint64_t> kswapd_wakeups{0};    // wake requests for a boosted zone (rmqueue)
    std::atomic<std::uint64_t> refused{0};           // bad input refused (I16)
    std::atomic<std::uint64_t> injected{0};          // failures injected by fail_page_alloc
    // alloc_pages_nolock() failures, and those of them that found a zone->lock busy on the
    // way (the rest found memory short, or asked for an order above 3).
    std::atomic<std::uint64_t> nolock_failures{0}, nolock_busy{0};

    // Direct reclaim entries over every zone.
    std::uint64_t allocstall_total() const noexcept {
        std::uint64_t n = 0;
        for (const auto &a : allocstall)
            n += a.load(std::memory_order_relaxed);
        return n;
    }
};

class System {
  public:
    explicit System(const system_config &cfg = {});
    ~System();
    System(const System &) = delete;
    System &operator=(const System &) = delete;

    const system_config &config() const noexcept { return cfg_; }
    // The page-frame backend in use (config().buddy with `automatic` resolved).
    buddy_backend buddy() const noexcept { return buddy_; }

    // --- the allocation API (the kernel face wraps these) ---------------------------------
    // NULL on failure. order 0..MAX_PAGE_ORDER; the mask is validated and refused (with a
    // report, I16) when the kernel would treat it as a bug.
    // `at` names the caller in reports (the reclaim-recursion detector, I9).
    page *alloc_pages(gfp_t gfp, unsigned order, srcloc at = srcloc::current());
    // Prefer node nid (-1: the calling CPU's node).
    page *alloc_pages_node(int nid, gfp_t gfp, unsigned order, srcloc at = srcloc::current());
    // __free_pages: drops the reference; the last one frees the block. A double free, a
    // foreign page or a wrong order is reported and refused.
    void free_pages(page *p, unsigned order);
    // alloc_pages_nolock() (6.16; try_alloc_pages() in 6.15), a step past 6.12: an order
    // 0..3 block, zeroed (and compound), from any context. It never sleeps, reclaims, wakes
    // kswapd, dips below the min watermark or waits for a lock: with the kernel backend it
    // fails when this CPU's list and zone->lock are both busy, with the lock-free one only
    // when memory is short. gfp may hold __GFP_ACCOUNT alone; nid -1 is this CPU's node.
    page *alloc_pages_nolock(gfp_t gfp, int nid, unsigned order);
    // free_pages_nolock(): __free_pages() that never waits: no per-CPU drain, and a block
    // that finds zone->lock busy waits on a list for the next free holding the lock.
    void free_pages_nolock(page *p, unsigned order);

    // drain_all_pages(): every CPU's per-CPU lists back to the buddy allocator (zone z
    // only, or all zones). Returns how many CPUs had to be skipped (locked mode: a holder
    // that does not let go).
    unsigned drain_all_pages(zone *z = nullptr);
    // Pages cached on per-CPU lists for zone z (a racy sum while others run).
    unsigned long pcp_count(const zone &z) const noexcept;
    // Whether the per-CPU lists run in restartable sequences.
    bool pcp_uses_rseq() const noexcept;
    pcp::area &pcp_area() noexcept { return *pcp_; }

    // --- reclaim ------------------------------------------------------------------------
    // One turn of kswapd's loop for node nid, on the calling thread (for Systems without a
    // kswapd thread, and fuzzers: no thread outlives an input). Between turns kswapd sleeps
    // on its wait queue: not woken by wakeup_kswapd(), it stays asleep on a node balanced
    // or hopeless (6.12 prepare_kswapd_sleep()); else one balance_pgdat() run for the
    // recorded request. Returns pages reclaimed.
    unsigned long kswapd_run_once(int nid);
    kswapd_stats kswapd_statistics(int nid) const;
    // refresh_cpu_vm_stats() on every CPU (what writing vm.stat_refresh does): every per-CPU
    // vmstat delta folded into its zone counter. Returns how many deltas were not zero.
    int refresh_vm_stats();
    // Quiescence for checkers: kswapd_park() returns once every kswapd thread has finished
    // its run and waits; wake-ups are kept, not acted on, until kswapd_unpark(). It parks
    // kvfree_rcu()'s monitor thread too (call both from the same thread).
    void kswapd_park();
    void kswapd_unpark();
    // The OOM killer's victims: the calling thread registers itself with `badness` (how many
    // pages killing it would free; the largest is chosen) and `kill` (frees them; called on
    // the allocating thread, so it must be safe to call from any thread; returns pages
    // freed). Returns an id for unregister_oom_victim().
    unsigned register_oom_victim(std::string name, std::function<unsigned long()> badness,
                                 std::function<unsigned long()> kill);
    void unregister_oom_victim(unsigned id);

    // --- accounting groups (__GFP_ACCOUNT) -------------------------------------------------
    // A new group; ids start at 1 (0 is the root). Throws std::length_error past 255 groups.
    unsigned mem_cgroup_create(std::string name, std::uint64_t limit_pages = 0);
    // nullptr for an unknown id.
    const mem_cgroup *memcg(unsigned id) const noexcept;

    // --- the memory map -----------------------------------------------------------------
    unsigned long max_pfn() const noexcept { return nr_pages_; }
    page *pfn_to_page(unsigned long pfn) const noexcept { return mem_map_ + pfn; }
    unsigned long page_to_pfn(const page *p) const noexcept {
        return static_cast<unsigned long>(p - mem_map_);
    }
    void *page_address(const page *p) const noexcept {
        return arena_ + (page_to_pfn(p) << PAGE_SHIFT);
    }
    // nullptr when the address is not inside this System's memory.
    page *virt_to_page(const void *addr) const noexcept;
    // The memfd that holds the System's memory (a page's offset in it is its pfn << PAGE_SHIFT),
    // or -1 when memfd_create() was refused. vmalloc maps pages through it.
    int memory_fd() const noexcept { return memory_fd_; }
    bool owns(const page *p) const noexcept { return p >= mem_map_ && p < mem_map_ + nr_pages_; }
    zone &page_zone(const page *p) noexcept { return nodes_[p->node]->node_zones[p->zone]; }

    int nr_nodes() const noexcept { return int(nodes_.size()); }
    pglist_data &node(int nid) noexcept { return *nodes_[nid]; }
    unsigned nr_cpus() const noexcept { return cpus_; }
    // This System's number, unique in the process and never reused.
    std::uint64_t serial() const noexcept { return serial_; }
    int cpu_to_node(unsigned cpu) const noexcept { return int(cpu * nodes_.size() / cpus_); }
    // Bytes of metadata per managed byte (struct pages + pageblock types).
    double metadata_ratio() const noexcept;

    // --- checking -------------------------------------------------------------------------
    // Quiescent recount of everything (I1, I2, I3, I6, I13): call with no allocation in flight.
    std::vector<violation> verify();
    std::uint64_t report_count() const noexcept { return reports_.load(); }
    // The most recent reports (at most 256 are kept).
    std::vector<violation> recent_reports() const;
    // Where reports go besides the counter; default: stderr. Not thread-safe against
    // concurrent reports: set it before starting workers.
    void set_report_sink(std::function<void(const violation &)> sink);

    // Reports a violation or bad input per config().on_report. Used by every layer.
    void report(violation v);

    // Where warn_alloc() and stall reports go (default: stderr). Set before starting workers.
    void set_log_sink(std::function<void(const std::string &)> sink);
    void log(const std::string &line);

    alloc_stats &stats() noexcept { return stats_; }

    // The kernel's WARN_ON_ONCE() for this System: true when `w` was already given (the
    // caller then stays quiet), false the first time.
    enum once_warning : unsigned { warn_nofail_order, warn_nofail_memalloc };
    bool warned_once(once_warning w) noexcept {
        return once_warned_.fetch_or(1u << w, std::memory_order_relaxed) & (1u << w);
    }

    // The fail_page_alloc knobs of this System (probability 0: off), consulted where the
    // kernel does, in prepare_alloc_pages(), before any watermark work.
    fail_page_alloc &fault_injection() noexcept { return fail_page_alloc_; }
    // failslab's knobs (probability 0: off), consulted by every slab allocation before it
    // looks for an object; large kmallocs are page allocations and meet fail_page_alloc.
    class failslab &failslab() noexcept {
        return failslab_;
    }

    // The shrinkers registered on this System (shrinker_alloc() & co. on the default one).
    shrinker_registry &shrinkers() noexcept;
    // The page cache and anon pages reclaim takes from (gfplab/page_cache.hpp).
    class page_cache &page_cache() noexcept;

    // --- tracing (gfplab/trace.hpp, docs/tracing.md) ---------------------------------------
    // Where this System's tracepoints deliver their events; nullptr (the default): nowhere,
    // and a tracepoint then costs a load and a branch. Set it before the threads that use
    // the System start, unset it after they stopped, and keep the sink alive in between.
    void set_trace_sink(class trace_sink *sink) noexcept { trace_.set_sink(sink); }
    class trace_sink *trace_sink() const noexcept {
        return trace_.sink();
    }
    const class tracepoints &tracepoints() const noexcept { return trace_; }

  private:
    // The layers below reach the state they own here through these, and nothing else.
    friend struct page_allocator;
    friend struct reclaim_internals;
    friend void check_reclaim_recursion(System &s, gfp_t gfp, unsigned order, srcloc at);
    friend slab_state &slab_of(System &s) noexcept;
    friend kfree_rcu_state &kfree_rcu_of(System &s) noexcept;
    friend vmap_state &vmap_of(System &s) noexcept;
    friend mem_cgroup *memcg_group(System &s, unsigned id) noexcept;
    bool memcg_charge(page *p, gfp_t gfp, unsigned order);
    void memcg_uncharge(page *p, unsigned order);
    void setup_memory();
    void setup_zones();
    void setup_zonelists();
    void setup_watermarks();
    void setup_pcp();
    void start_kswapd();
    void stop_kswapd();
    void start_vmstat_work();
    void stop_vmstat_work();

    system_config cfg_;
    // Never reused, unlike an address: per-thread caches keyed by it cannot mistake a new
    // System for one that was destroyed at the same place.
    const std::uint64_t serial_;
    unsigned cpus_ = 1;
    unsigned long nr_pages_ = 0;
    std::uint8_t *arena_ = nullptr;
    int memory_fd_ = -1; // the memfd arena_ maps (-1: anonymous memory, no vmalloc)
    page *mem_map_ = nullptr;
    std::size_t mem_map_bytes_ = 0;
    std::vector<std::unique_ptr<pglist_data>> nodes_;
    std::unique_ptr<pcp::area> pcp_;
    std::vector<std::unique_ptr<frame_backend>> frames_; // one per populated zone
    buddy_backend buddy_ = buddy_backend::kernel;        // the backend in use
    class tracepoints trace_; // the fast path tests its sink on every allocation and free
    std::array<std::atomic<mem_cgroup *>, max_mem_cgroups> memcgs_{};
    std::vector<std::unique_ptr<mem_cgroup>> memcg_owner_;
    std::mutex memcg_lock_;
    std::vector<std::unique_ptr<kswapd_state>> kswapd_;
    std::unique_ptr<vmstat_work> vmstat_work_; // the periodic fold's thread, if any
    std::unique_ptr<oom_state> oom_;
    std::unique_ptr<class page_cache> page_cache_; // reset before the memory map goes
    std::unique_ptr<recursion_hazards> hazards_;
    std::unique_ptr<slab_state> slab_; // the slab layer's caches (gfplab/slab.hpp)
    // kvfree_rcu()'s batches (gfplab/kvfree_rcu.hpp): reset before the slab layer goes.
    std::unique_ptr<kfree_rcu_state> kfree_rcu_;
    // The vmalloc space and its areas (gfplab/vmalloc.hpp).
    std::unique_ptr<vmap_state> vmap_;

    std::atomic<std::uint64_t> reports_{0};
    mutable std::mutex report_lock_;
    std::vector<violation> recent_;
    std::function<void(const violation &)> sink_;
    std::function<void(const std::string &)> log_sink_;
    std::atomic<long long> last_warn_ns_{-1};
    std::atomic<unsigned> once_warned_{0};
    alloc_stats stats_;
    fail_page_alloc fail_page_alloc_;
    class failslab failslab_;
    // Last: destroyed first, while the report path it points to is still alive.
    std::unique_ptr<shrinker_registry> shrinkers_;
};

} // namespace gfplab

namespace gfplab {

// The configuration the environment asks for, on top of the defaults:
//   GFPLAB_MEMORY=256M|4G|...  GFPLAB_NODES=N  GFPLAB_CPUS=N  GFPLAB_DMA32_LIMIT=SIZE
//   GFPLAB_CHECK=off|cheap|full  GFPLAB_POISON=0|1  GFPLAB_ON_REPORT=count|abort
//   GFPLAB_INIT_ON_ALLOC=0|1  GFPLAB_INIT_ON_FREE=0|1
// Throws std::invalid_argument naming the variable when a value does not parse.
system_config config_from_env();

// The System the kernel face (alloc_pages ...) works on: the one set with
// set_default_system(), else one booted on first use from config_from_env() (a bad
// environment prints the reason and aborts: a C caller cannot be given an exception).
System &default_system();
// Makes s the default; nullptr goes back to the environment's. The caller keeps s alive
// for as long as it is the default. Not for use while other threads allocate.
void set_default_system(System *s) noexcept;

} // namespace gfplab
