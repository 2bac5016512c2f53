// SPDX-License-Identifier: MIT
//
// The tracepoints as the library fires them: trace_mm_page_alloc(...) and its siblings, one
// line at the place 6.12 has the same call (gfplab/trace.hpp says what they carry). Each is
// a USDT probe named by the kernel's subsystem and event, whose arguments are the kernel's
// TP_PROTO arguments (what a raw tracepoint receives; struct page * is the model's page),
// then one relaxed load of the System's sink and a branch predicted not taken; building and
// delivering the event is cold code out of line (events.cpp). Private to the library; the
// layer of the memory map, so that the buddy allocator and the per-CPU lists fire their own.
#pragma once

#include "../compiler.hpp"

#include <gfplab/linux/mmzone.h>
#include <gfplab/trace.hpp>
#include <gfplab/zone.hpp>

#include <sys/sdt.h>

namespace gfplab {

namespace trace {
// The cold halves: fill a trace_event (time, thread, CPU, the fields) and hand it to sink.
#define GFPLAB_TRACE_COLD [[gnu::cold, gnu::noinline]] GFPLAB_INTERNAL
// The fast path's two read the sink again themselves, so that the inline test is a compare
// with memory and a branch, with no register to fill.
GFPLAB_TRACE_COLD void emit_mm_page_alloc(const tracepoints &tp, const page *p, unsigned order,
                                          gfp_t gfp, int mt);
GFPLAB_TRACE_COLD void emit_mm_page_free(const tracepoints &tp, const page *p, unsigned order);
// The zone's events find their System's tracepoints first (and may find no sink there).
GFPLAB_TRACE_COLD void emit_mm_page_pcpu_drain(const zone &z, const page *p, unsigned order,
                                               int mt);
GFPLAB_TRACE_COLD void emit_mm_page_alloc_zone_locked(const zone &z, const page *p, unsigned order,
                                                      int mt, int percpu_refill);
GFPLAB_TRACE_COLD void emit_mm_vmscan_direct_reclaim_begin(const tracepoints &tp, trace_sink &sink,
                                                           int order, gfp_t gfp);
GFPLAB_TRACE_COLD void emit_mm_vmscan_direct_reclaim_end(const tracepoints &tp, trace_sink &sink,
                                                         unsigned long nr_reclaimed);
GFPLAB_TRACE_COLD void emit_mm_vmscan_kswapd_wake(const tracepoints &tp, trace_sink &sink, int nid,
                                                  int zid, int order);
GFPLAB_TRACE_COLD void emit_mm_vmscan_kswapd_sleep(const tracepoints &tp, trace_sink &sink,
                                                   int nid);
GFPLAB_TRACE_COLD void
emit_mm_shrink_slab_start(const tracepoints &tp, trace_sink &sink, const struct shrinker *shr,
                          const char *name, int nid, gfp_t gfp, long nr, unsigned long cache_items,
                          unsigned long long delta, unsigned long total_scan, int priority);
GFPLAB_TRACE_COLD void emit_mm_shrink_slab_end(const tracepoints &tp, trace_sink &sink,
                                               const struct shrinker *shr, const char *name,
                                               int nid, int retval, long unused_scan, long new_scan,
                                               long total_scan);
GFPLAB_TRACE_COLD void emit_mark_victim(const tracepoints &tp, trace_sink &sink, int pid,
                                        const char *comm, unsigned long pages);
#undef GFPLAB_TRACE_COLD
} // namespace trace

// The kernel's pcp_allowed_order(order) && migratetype < MIGRATE_PCPTYPES: what
// mm_page_alloc_zone_locked calls a per-CPU refill (orders 0..3 in the model, no THP order).
constexpr int trace_percpu_refill(unsigned order, migratetype mt) noexcept {
    return order <= PAGE_ALLOC_COSTLY_ORDER && mt < MIGRATE_PCPTYPES;
}

// --- kmem ----------------------------------------------------------------------------------
// __alloc_pages()'s last step, for every request that got past its checks: p may be null.
GFPLAB_ALWAYS_INLINE void trace_mm_page_alloc(const tracepoints &tp, const page *p, unsigned order,
                                              gfp_t gfp, migratetype mt) {
    STAP_PROBE4(kmem, mm_page_alloc, p, order, gfp, int(mt));
    if (tp.sink()) [[unlikely]]
        trace::emit_mm_page_alloc(tp, p, order, gfp, int(mt));
}
// free_pages_prepare(): the last reference went, before the page goes anywhere.
GFPLAB_ALWAYS_INLINE void trace_mm_page_free(const tracepoints &tp, const page *p, unsigned order) {
    STAP_PROBE2(kmem, mm_page_free, p, order);
    if (tp.sink()) [[unlikely]]
        trace::emit_mm_page_free(tp, p, order);
}
// free_pcppages_bulk(): one page of a per-CPU list back to the buddy, under zone->lock.
// (A zone knows no System: these two test the process-wide count of sinks first.)
GFPLAB_ALWAYS_INLINE void trace_mm_page_pcpu_drain(const zone &z, const page *p, unsigned order,
                                                   migratetype mt) {
    STAP_PROBE3(kmem, mm_page_pcpu_drain, p, order, int(mt));
    if (detail::nr_trace_sinks.load(std::memory_order_relaxed)) [[unlikely]]
        trace::emit_mm_page_pcpu_drain(z, p, order, int(mt));
}
// __rmqueue_smallest(): a block taken off mt's free lists, under zone->lock.
GFPLAB_ALWAYS_INLINE void trace_mm_page_alloc_zone_locked(const zone &z, const page *p,
                                                          unsigned order, migratetype mt) {
    STAP_PROBE4(kmem, mm_page_alloc_zone_locked, p, order, int(mt), trace_percpu_refill(order, mt));
    if (detail::nr_trace_sinks.load(std::memory_order_relaxed)) [[unlikely]]
        trace::emit_mm_page_alloc_zone_locked(z, p, order, int(mt), trace_percpu_refill(order, mt));
}

// --- vmscan --------------------------------------------------------------------------------
// try_to_free_pages() around do_try_to_free_pages(); gfp is the scoped reclaim mask.
inline void trace_mm_vmscan_direct_reclaim_begin(const tracepoints &tp, int order, gfp_t gfp) {
    STAP_PROBE2(vmscan, mm_vmscan_direct_reclaim_begin, order, gfp);
    if (trace_sink *s = tp.sink()) [[unlikely]]
        trace::emit_mm_vmscan_direct_reclaim_begin(tp, *s, order, gfp);
}
inline void trace_mm_vmscan_direct_reclaim_end(const tracepoints &tp, unsigned long nr_reclaimed) {
    STAP_PROBE1(vmscan, mm_vmscan_direct_reclaim_end, nr_reclaimed);
    if (trace_sink *s = tp.sink()) [[unlikely]]
        trace::emit_mm_vmscan_direct_reclaim_end(tp, *s, nr_reclaimed);
}
// kswapd(): woken, before balance_pgdat() for the order and highest zone asked for.
inline void trace_mm_vmscan_kswapd_wake(const tracepoints &tp, int nid, int zid, int order) {
    STAP_PROBE3(vmscan, mm_vmscan_kswapd_wake, nid, zid, order);
    if (trace_sink *s = tp.sink()) [[unlikely]]
        trace::emit_mm_vmscan_kswapd_wake(tp, *s, nid, zid, order);
}
// kswapd_try_to_sleep(): the node stayed balanced through the nap, kswapd sleeps until woken.
inline void trace_mm_vmscan_kswapd_sleep(const tracepoints &tp, int nid) {
    STAP_PROBE1(vmscan, mm_vmscan_kswapd_sleep, nid);
    if (trace_sink *s = tp.sink()) [[unlikely]]
        trace::emit_mm_vmscan_kswapd_sleep(tp, *s, nid);
}
// do_shrink_slab(): the scan target computed, before the first scan_objects() call ...
// (The shrinker's name, node and mask come separately: struct shrinker and shrink_control
// belong to the reclaim layer, above this one.)
inline void trace_mm_shrink_slab_start(const tracepoints &tp, const struct shrinker *shr,
                                       const struct shrink_control *sc, const char *name, int nid,
                                       gfp_t gfp, long nr, unsigned long cache_items,
                                       unsigned long long delta, unsigned long total_scan,
                                       int priority) {
    STAP_PROBE7(vmscan, mm_shrink_slab_start, shr, sc, nr, cache_items, delta, total_scan,
                priority);
    if (trace_sink *s = tp.sink()) [[unlikely]]
        trace::emit_mm_shrink_slab_start(tp, *s, shr, name, nid, gfp, nr, cache_items, delta,
                                         total_scan, priority);
}
// ... and after the leftovers went back to the deferred count.
inline void trace_mm_shrink_slab_end(const tracepoints &tp, const struct shrinker *shr,
                                     const char *name, int nid, int retval, long unused_scan,
                                     long new_scan, long total_scan) {
    STAP_PROBE6(vmscan, mm_shrink_slab_end, shr, nid, retval, unused_scan, new_scan, total_scan);
    if (trace_sink *s = tp.sink()) [[unlikely]]
        trace::emit_mm_shrink_slab_end(tp, *s, shr, name, nid, retval, unused_scan, new_scan,
                                       total_scan);
}

// --- oom -----------------------------------------------------------------------------------
// mark_oom_victim(): the victim chosen and marked, before it is killed. The kernel passes the
// task and its uid; the model's victim is a thread with a name and the pages it holds.
inline void trace_mark_victim(const tracepoints &tp, int pid, const char *comm,
                              unsigned long pages) {
    STAP_PROBE3(oom, mark_victim, pid, comm, pages);
    if (trace_sink *s = tp.sink()) [[unlikely]]
        trace::emit_mark_victim(tp, *s, pid, comm, pages);
}

} // namespace gfplab
