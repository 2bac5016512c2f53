// SPDX-License-Identifier: MIT
//
// The cold half of every tracepoint (tracepoint.hpp has the hot half): the common part of
// an event (time, thread, CPU, the latency flags), the event's fields as the kernel's
// TP_fast_assign() fills them, and the call into the System's sink. Only ever reached with
// a sink set.
#include "tracepoint.hpp"

#include "../internal.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <vector>

namespace gfplab {

const tracepoints tracepoints_off;
std::atomic<int> detail::nr_trace_sinks{0};

namespace {

// Every attached tracepoints object, for the zone's events to find theirs by memory map
// (looked up only while some sink is set, under zone->lock: this lock is innermost).
std::mutex registry_lock;
std::vector<const tracepoints *> &registry() {
    // Never destroyed: Systems that live in statics detach at exit, in any order.
    static auto *r = new std::vector<const tracepoints *>;
    return *r;
}

const tracepoints *tracepoints_of(const zone &z) {
    std::lock_guard<std::mutex> g(registry_lock);
    for (const tracepoints *tp : registry())
        if (tp->mem_map() == z.mem_map)
            return tp;
    return nullptr;
}

struct event_names {
    const char *name;
    const char *system;
};
constexpr event_names names[nr_trace_events] = {
    {"mm_page_alloc", "kmem"},
    {"mm_page_free", "kmem"},
    {"mm_page_pcpu_drain", "kmem"},
    {"mm_page_alloc_zone_locked", "kmem"},
    {"mm_vmscan_direct_reclaim_begin", "vmscan"},
    {"mm_vmscan_direct_reclaim_end", "vmscan"},
    {"mm_vmscan_kswapd_wake", "vmscan"},
    {"mm_vmscan_kswapd_sleep", "vmscan"},
    {"mm_shrink_slab_start", "vmscan"},
    {"mm_shrink_slab_end", "vmscan"},
    {"mark_victim", "oom"},
};

// The thread's id and name, read on its first event: the kernel's trace records the pid and
// looks the name up in its comm cache; a thread renamed after its first event keeps the old
// name here.
struct thread_ident {
    int pid = 0;
    char comm[16] = {};
};
const thread_ident &current_ident() noexcept {
    thread_local thread_ident t;
    if (t.pid == 0) {
        t.pid = int(gettid());
        if (pthread_getname_np(pthread_self(), t.comm, sizeof t.comm) != 0)
            std::strcpy(t.comm, "<...>"); // what trace_pipe prints for an unknown pid
    }
    return t;
}

trace_event make_event(trace_event_id id, const tracepoints &tp, bool under_zone_lock) {
    trace_event e;
    std::memset(&e, 0, sizeof e);
    e.id = id;
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    e.ts_ns = std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
    const thread_ident &t = current_ident();
    e.pid = t.pid;
    std::memcpy(e.comm, t.comm, sizeof e.comm);
    if (tp.system()) {
        e.cpu = current_cpu(*tp.system());
    } else {
        const int cpu = sched_getcpu();
        e.cpu = cpu < 0 ? 0 : unsigned(cpu);
    }
    e.irqs_off = under_zone_lock;
    e.preempt_count = under_zone_lock ? 1 : 0;
    return e;
}

unsigned long pfn_of(const page *mem_map, const page *p) noexcept {
    return p && mem_map ? static_cast<unsigned long>(p - mem_map) : ~0ul;
}

} // namespace

void tracepoints::set_sink(trace_sink *s) noexcept {
    trace_sink *old = sink_.exchange(s, std::memory_order_acq_rel);
    if (!old && s)
        detail::nr_trace_sinks.fetch_add(1, std::memory_order_relaxed);
    else if (old && !s)
        detail::nr_trace_sinks.fetch_sub(1, std::memory_order_relaxed);
}

void tracepoints::attach(System *s, const page *mem_map) {
    std::lock_guard<std::mutex> g(registry_lock);
    system_ = s;
    mem_map_ = mem_map;
    if (std::find(registry().begin(), registry().end(), this) == registry().end())
        registry().push_back(this);
}

tracepoints::~tracepoints() {
    set_sink(nullptr);
    if (!mem_map_)
        return; // never attached
    std::lock_guard<std::mutex> g(registry_lock);
    std::erase(registry(), this);
}

const char *trace_event_name(trace_event_id id) noexcept {
    return unsigned(id) < nr_trace_events ? names[unsigned(id)].name : "unknown";
}

const char *trace_event_system(trace_event_id id) noexcept {
    return unsigned(id) < nr_trace_events ? names[unsigned(id)].system : "unknown";
}

namespace trace {

void emit_mm_page_alloc(const tracepoints &tp, const page *p, unsigned order, gfp_t gfp, int mt) {
    trace_sink *sink = tp.sink();
    if (!sink)
        return; // unset since the test
    trace_event e = make_event(trace_event_id::mm_page_alloc, tp, false);
    e.mm_page_alloc = {p, pfn_of(tp.mem_map(), p), order, gfp, mt};
    sink->event(e);
}

void emit_mm_page_free(const tracepoints &tp, const page *p, unsigned order) {
    trace_sink *sink = tp.sink();
    if (!sink)
        return;
    trace_event e = make_event(trace_event_id::mm_page_free, tp, false);
    e.mm_page_free = {p, pfn_of(tp.mem_map(), p), order};
    sink->event(e);
}

void emit_mm_page_pcpu_drain(const zone &z, const page *p, unsigned order, int mt) {
    const tracepoints *tp = tracepoints_of(z);
    trace_sink *sink = tp ? tp->sink() : nullptr;
    if (!sink)
        return; // another System is tracing
    trace_event e = make_event(trace_event_id::mm_page_pcpu_drain, *tp, true);
    e.mm_page_pcpu_drain = {p, pfn_of(z.mem_map, p), order, mt};
    sink->event(e);
}

void emit_mm_page_alloc_zone_locked(const zone &z, const page *p, unsigned order, int mt,
                                    int percpu_refill) {
    const tracepoints *tp = tracepoints_of(z);
    trace_sink *sink = tp ? tp->sink() : nullptr;
    if (!sink)
        return;
    trace_event e = make_event(trace_event_id::mm_page_alloc_zone_locked, *tp, true);
    e.mm_page_alloc_zone_locked = {p, pfn_of(z.mem_map, p), order, mt, percpu_refill};
    sink->event(e);
}

void emit_mm_vmscan_direct_reclaim_begin(const tracepoints &tp, trace_sink &sink, int order,
                                         gfp_t gfp) {
    trace_event e = make_event(trace_event_id::mm_vmscan_direct_reclaim_begin, tp, false);
    e.mm_vmscan_direct_reclaim_begin = {order, gfp};
    sink.event(e);
}

void emit_mm_vmscan_direct_reclaim_end(const tracepoints &tp, trace_sink &sink,
                                       unsigned long nr_reclaimed) {
    trace_event e = make_event(trace_event_id::mm_vmscan_direct_reclaim_end, tp, false);
    e.mm_vmscan_direct_reclaim_end = {nr_reclaimed};
    sink.event(e);
}

void emit_mm_vmscan_kswapd_wake(const tracepoints &tp, trace_sink &sink, int nid, int zid,
                                int order) {
    trace_event e = make_event(trace_event_id::mm_vmscan_kswapd_wake, tp, false);
    e.mm_vmscan_kswapd_wake = {nid, zid, order};
    sink.event(e);
}

void emit_mm_vmscan_kswapd_sleep(const tracepoints &tp, trace_sink &sink, int nid) {
    trace_event e = make_event(trace_event_id::mm_vmscan_kswapd_sleep, tp, false);
    e.mm_vmscan_kswapd_sleep = {nid};
    sink.event(e);
}

void emit_mm_shrink_slab_start(const tracepoints &tp, trace_sink &sink, const struct shrinker *shr,
                               const char *name, int nid, gfp_t gfp, long nr,
                               unsigned long cache_items, unsigned long long delta,
                               unsigned long total_scan, int priority) {
    trace_event e = make_event(trace_event_id::mm_shrink_slab_start, tp, false);
    auto &f = e.mm_shrink_slab_start;
    f.shr = shr;
    f.name = name ? name : "";
    f.nid = nid;
    f.nr_objects_to_shrink = nr;
    f.gfp_flags = gfp;
    f.cache_items = cache_items;
    f.delta = delta;
    f.total_scan = total_scan;
    f.priority = priority;
    sink.event(e);
}

void emit_mm_shrink_slab_end(const tracepoints &tp, trace_sink &sink, const struct shrinker *shr,
                             const char *name, int nid, int retval, long unused_scan, long new_scan,
                             long total_scan) {
    trace_event e = make_event(trace_event_id::mm_shrink_slab_end, tp, false);
    auto &f = e.mm_shrink_slab_end;
    f.shr = shr;
    f.name = name ? name : "";
    f.nid = nid;
    f.unused_scan = unused_scan;
    f.new_scan = new_scan;
    f.retval = retval;
    f.total_scan = total_scan;
    sink.event(e);
}

void emit_mark_victim(const tracepoints &tp, trace_sink &sink, int pid, const char *comm,
                      unsigned long pages) {
    trace_event e = make_event(trace_event_id::mark_victim, tp, false);
    const unsigned long kb = pages * (PAGE_SIZE / 1024);
    e.mark_victim = {pid, comm, kb, kb, 0, 0, unsigned(getuid()), 0, 0};
    sink.event(e);
}

} // namespace trace
} // namespace gfplab
