// SPDX-License-Identifier: MIT
//
// gfplab/trace.hpp - the kernel's memory-management tracepoints, fired where 6.12 fires them
// (kmem:mm_page_alloc in __alloc_pages(), vmscan:mm_shrink_slab_start in do_shrink_slab()
// ...), with the kernel's event names and fields.
//
// Each tracepoint goes two ways at once:
//  - a USDT probe (<sys/sdt.h>) named by the kernel's subsystem and event, e.g. provider
//    `kmem`, name `mm_page_alloc`, always compiled in: perf, bpftrace or systemtap attach
//    to a running program (docs/tracing.md lists the probes and their arguments);
//  - the System's trace sink (System::set_trace_sink()), off by default: when one is set,
//    every event reaches it as a trace_event, on the thread it happened on.
// Off, a tracepoint costs its probe's nop, one relaxed load and a branch predicted not
// taken; everything else is out of line.
//
// ftrace_text_sink writes events as the kernel's trace_pipe prints them, so that tools and
// habits made for `cat /sys/kernel/tracing/trace_pipe` work on a gfplab program's output.
#pragma once

#include <gfplab/linux/gfp_types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

struct shrinker; // gfplab/linux/shrinker.h

namespace gfplab {

class System;
struct page;

// The events, in the kernel's names (the enum order is this header's, not the kernel's).
enum class trace_event_id : std::uint8_t {
    mm_page_alloc,                  // kmem
    mm_page_free,                   // kmem
    mm_page_pcpu_drain,             // kmem
    mm_page_alloc_zone_locked,      // kmem
    mm_vmscan_direct_reclaim_begin, // vmscan
    mm_vmscan_direct_reclaim_end,   // vmscan
    mm_vmscan_kswapd_wake,          // vmscan
    mm_vmscan_kswapd_sleep,         // vmscan
    mm_shrink_slab_start,           // vmscan
    mm_shrink_slab_end,             // vmscan
    mark_victim,                    // oom
};
inline constexpr unsigned nr_trace_events = unsigned(trace_event_id::mark_victim) + 1;

// "mm_page_alloc", and its subsystem ("kmem", "vmscan", "oom").
const char *trace_event_name(trace_event_id id) noexcept;
const char *trace_event_system(trace_event_id id) noexcept;

// Each event's fields: the kernel's TP_STRUCT__entry, plus the struct page pointer where
// the kernel derives the pfn from one. Pointers and strings are valid during the sink's call
// only.
struct mm_page_alloc_entry {
    const gfplab::page *page; // nullptr: the allocation failed (the kernel traces failures too)
    unsigned long pfn;
    unsigned order;
    gfp_t gfp_flags; // the mask after the task's scopes (current_gfp_context())
    int migratetype;
};
struct mm_page_free_entry {
    const gfplab::page *page;
    unsigned long pfn;
    unsigned order;
};
struct mm_page_pcpu_drain_entry {
    const gfplab::page *page;
    unsigned long pfn;
    unsigned order;
    int migratetype; // the pageblock's
};
struct mm_page_alloc_zone_locked_entry {
    const gfplab::page *page;
    unsigned long pfn;
    unsigned order;
    int migratetype;
    int percpu_refill; // the order and migratetype are per-CPU list ones
};
struct mm_vmscan_direct_reclaim_begin_entry {
    int order;
    gfp_t gfp_flags; // the reclaim context: current_gfp_context() of the request's mask
};
struct mm_vmscan_direct_reclaim_end_entry {
    unsigned long nr_reclaimed;
};
struct mm_vmscan_kswapd_wake_entry {
    int nid;
    int zid; // the highest zone index kswapd balances (not printed, as in the kernel)
    int order;
};
struct mm_vmscan_kswapd_sleep_entry {
    int nid;
};
struct mm_shrink_slab_start_entry {
    const struct shrinker *shr;
    const char *name; // the shrinker's name, where the kernel prints its scan function
    int nid;
    long nr_objects_to_shrink; // the deferred work taken over
    gfp_t gfp_flags;
    unsigned long cache_items; // count_objects()'s answer
    unsigned long long delta;
    unsigned long total_scan;
    int priority;
};
struct mm_shrink_slab_end_entry {
    const struct shrinker *shr;
    const char *name;
    int nid;
    long unused_scan; // the deferred work taken over at the start
    long new_scan;    // the deferred count after this call's leftovers were added
    int retval;       // objects freed
    long total_scan;  // what was left of the scan target
};
// The kernel's fields; the model knows the victim's thread, name and the pages it holds
// (its badness), given as total-vm and anon-rss; the others are 0.
struct mark_victim_entry {
    int pid;
    const char *comm;
    unsigned long total_vm; // kB
    unsigned long anon_rss; // kB
    unsigned long file_rss; // kB
    unsigned long shmem_rss;
    unsigned uid;
    unsigned long pgtables; // kB
    short oom_score_adj;
};

// One event as a sink sees it: the common part the kernel records with every event (struct
// trace_entry and the ring buffer's timestamp and CPU), then the event's own fields.
struct trace_event {
    trace_event_id id;
    std::uint64_t ts_ns; // CLOCK_MONOTONIC (the kernel's default trace clock counts from boot)
    int pid;             // the thread's id
    unsigned cpu;        // the System's CPU the thread runs on
    // The latency flags trace_pipe prints: interrupts off and the preemption depth. The
    // model sets them for events under zone->lock, which the kernel takes with interrupts
    // off (spin_lock_irqsave): irqs_off and a depth of 1. Deeper nesting is not modelled.
    bool irqs_off;
    std::uint8_t preempt_count;
    char comm[16]; // the thread's name (TASK_COMM_LEN), read once per thread
    union {
        mm_page_alloc_entry mm_page_alloc;
        mm_page_free_entry mm_page_free;
        mm_page_pcpu_drain_entry mm_page_pcpu_drain;
        mm_page_alloc_zone_locked_entry mm_page_alloc_zone_locked;
        mm_vmscan_direct_reclaim_begin_entry mm_vmscan_direct_reclaim_begin;
        mm_vmscan_direct_reclaim_end_entry mm_vmscan_direct_reclaim_end;
        mm_vmscan_kswapd_wake_entry mm_vmscan_kswapd_wake;
        mm_vmscan_kswapd_sleep_entry mm_vmscan_kswapd_sleep;
        mm_shrink_slab_start_entry mm_shrink_slab_start;
        mm_shrink_slab_end_entry mm_shrink_slab_end;
        mark_victim_entry mark_victim;
    };
};

// Where a System's events go. event() runs on the thread that fired the event, often many
// threads at once, sometimes under zone->lock or inside reclaim: it must be thread-safe and
// must not call back into the System (an allocation there could deadlock or recurse).
class trace_sink {
  public:
    virtual ~trace_sink() = default;
    virtual void event(const trace_event &e) = 0;
};

// The line trace_pipe prints for e, without the newline:
//   "   gfplab-stress-4242    [001] ..... 12345.678901: mm_page_alloc: page=... pfn=0x..."
// The task column as trace_print_context() pads it, the latency flags, seconds.microseconds,
// the event name and the event's TP_printk() of 6.12 (gfp masks as show_gfp_flags() prints
// them, "none" for 0; %p as 16 hex digits, as with no_hash_pointers).
std::string format_trace_line(const trace_event &e);
// The same, appended to out with a newline.
void append_trace_line(std::string &out, const trace_event &e);

// A sink that writes trace_pipe lines to a file descriptor (not closed by the sink), in the
// order the events arrive, through one buffer behind a mutex. A failed write stops the
// output and is kept: flush() then returns false and error() the errno.
class ftrace_text_sink final : public trace_sink {
  public:
    explicit ftrace_text_sink(int fd, std::size_t buffer_bytes = 1 << 16);
    ~ftrace_text_sink() override; // flushes
    ftrace_text_sink(const ftrace_text_sink &) = delete;
    ftrace_text_sink &operator=(const ftrace_text_sink &) = delete;

    void event(const trace_event &e) override;
    // Writes what is buffered; false if any write failed (now or before).
    bool flush();
    // flush(), and nothing more is written: events that still arrive (a System's background
    // threads, before its sink was unset) are dropped, so the descriptor may be closed.
    bool finish();
    int error() const;
    std::uint64_t lines() const;

  private:
    bool write_out(); // with lock_ held
    int fd_;
    std::size_t limit_;
    mutable std::mutex lock_;
    std::string buf_;
    std::uint64_t lines_ = 0;
    int error_ = 0;
    bool finished_ = false;
};

// A System's tracepoints: where its events go. The System owns one; the page allocator and
// reclaim test its sink, the shrinker registry gets a pointer to it. The buddy allocator and
// the per-CPU lists know only a zone: their events test how many sinks are set in the
// process (the kernel's static key, one relaxed load), and only then look up the System by
// the zone's memory map. Nothing else about tracing is per System.
class tracepoints {
  public:
    tracepoints() = default;
    ~tracepoints(); // detaches
    tracepoints(const tracepoints &) = delete;
    tracepoints &operator=(const tracepoints &) = delete;

    // The sink, or nullptr: what every tracepoint of the page allocator tests first.
    trace_sink *sink() const noexcept { return sink_.load(std::memory_order_relaxed); }
    // Not synchronised with events in flight: set it before the threads that allocate start
    // (or while none runs), and keep the sink alive until it is unset and they stopped.
    void set_sink(trace_sink *s) noexcept;

    // The System (its CPU numbering) and its memory map (pfns, and the zones' key to find
    // these tracepoints), when the System boots; unattached, events carry CPU and pfn as
    // the host and the page say.
    void attach(System *s, const page *mem_map);
    System *system() const noexcept { return system_; }
    const page *mem_map() const noexcept { return mem_map_; }

  private:
    std::atomic<trace_sink *> sink_{nullptr};
    System *system_ = nullptr;
    const page *mem_map_ = nullptr;
};

namespace detail {
// How many tracepoints objects of the process have a sink set.
extern std::atomic<int> nr_trace_sinks;
} // namespace detail

// Where the tracepoints of an object that belongs to no System point (a shrinker registry
// built on its own, in tests): a sink can never be set on it.
extern const tracepoints tracepoints_off;

} // namespace gfplab
