// SPDX-License-Identifier: MIT
//
// Events as trace_pipe prints them (kernel/trace/trace_output.c 6.12): the context
// (trace_print_context(): task, CPU, latency flags, time) and the event's TP_printk() of
// include/trace/events/{kmem,vmscan,oom}.h, so that what reads a kernel's trace reads this.
#include <gfplab/gfp.hpp>
#include <gfplab/trace.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <iterator>
#include <unistd.h>

namespace gfplab {
namespace {

// show_gfp_flags(): the %pGg table and walk, but "none" for an empty mask.
std::string show_gfp_flags(gfp_t gfp) {
    return gfp ? gfp_format(gfp) : std::string("none");
}

// %p: with no_hash_pointers the kernel prints the address as 16 zero-padded hex digits
// (NULL included); hashed, the same width. The model prints the address.
struct ptr {
    const void *p;
};

} // namespace
} // namespace gfplab

template <>
struct fmt::formatter<gfplab::ptr> : fmt::formatter<std::string_view> {
    template <typename Ctx>
    auto format(gfplab::ptr v, Ctx &ctx) const {
        return fmt::format_to(ctx.out(), "{:016x}", reinterpret_cast<std::uintptr_t>(v.p));
    }
};

namespace gfplab {

void append_trace_line(std::string &out, const trace_event &e) {
    auto it = std::back_inserter(out);
    // trace_print_context(): "%16s-%-7d [%03d] ", the latency flags (trace_print_lat_fmt():
    // irqs-off, need-resched, hard/softirq, preempt depth, migrate-disable), " %5lu.%06lu: ".
    const std::uint64_t usecs = e.ts_ns / 1000;
    const unsigned depth = e.preempt_count & 0xf;
    fmt::format_to(it, "{:>16}-{:<7} [{:03}] {}..{}. {:5}.{:06}: {}: ",
                   std::string_view(e.comm, strnlen(e.comm, sizeof e.comm)), e.pid, e.cpu,
                   e.irqs_off ? 'd' : '.', depth ? "0123456789abcdef"[depth] : '.', usecs / 1000000,
                   usecs % 1000000, trace_event_name(e.id));
    switch (e.id) {
    case trace_event_id::mm_page_alloc: {
        const auto &f = e.mm_page_alloc;
        fmt::format_to(it, "page={} pfn={:#x} order={} migratetype={} gfp_flags={}", ptr{f.page},
                       f.page ? f.pfn : 0ul, f.order, f.migratetype, show_gfp_flags(f.gfp_flags));
        break;
    }
    case trace_event_id::mm_page_free: {
        const auto &f = e.mm_page_free;
        fmt::format_to(it, "page={} pfn={:#x} order={}", ptr{f.page}, f.pfn, f.order);
        break;
    }
    case trace_event_id::mm_page_pcpu_drain: {
        const auto &f = e.mm_page_pcpu_drain;
        fmt::format_to(it, "page={} pfn={:#x} order={} migratetype={}", ptr{f.page}, f.pfn, f.order,
                       f.migratetype);
        break;
    }
    case trace_event_id::mm_page_alloc_zone_locked: {
        const auto &f = e.mm_page_alloc_zone_locked;
        fmt::format_to(it, "page={} pfn={:#x} order={} migratetype={} percpu_refill={}",
                       ptr{f.page}, f.page ? f.pfn : 0ul, f.order, f.migratetype, f.percpu_refill);
        break;
    }
    case trace_event_id::mm_vmscan_direct_reclaim_begin: {
        const auto &f = e.mm_vmscan_direct_reclaim_begin;
        fmt::format_to(it, "order={} gfp_flags={}", f.order, show_gfp_flags(f.gfp_flags));
        break;
    }
    case trace_event_id::mm_vmscan_direct_reclaim_end:
        fmt::format_to(it, "nr_reclaimed={}", e.mm_vmscan_direct_reclaim_end.nr_reclaimed);
        break;
    case trace_event_id::mm_vmscan_kswapd_wake:
        // zid is recorded but, as in 6.12, not printed.
        fmt::format_to(it, "nid={} order={}", e.mm_vmscan_kswapd_wake.nid,
                       e.mm_vmscan_kswapd_wake.order);
        break;
    case trace_event_id::mm_vmscan_kswapd_sleep:
        fmt::format_to(it, "nid={}", e.mm_vmscan_kswapd_sleep.nid);
        break;
    case trace_event_id::mm_shrink_slab_start: {
        // The kernel's %pS names the scan function (super_cache_scan+0x0/0x1a0); the model
        // names the shrinker. Unsigned fields print signed, as the kernel's %ld and %lld do.
        const auto &f = e.mm_shrink_slab_start;
        fmt::format_to(it,
                       "{} {}: nid: {} objects to shrink {} gfp_flags {} cache items {} delta {} "
                       "total_scan {} priority {}",
                       f.name, ptr{f.shr}, f.nid, f.nr_objects_to_shrink,
                       show_gfp_flags(f.gfp_flags), long(f.cache_items), (long long)(f.delta),
                       long(f.total_scan), f.priority);
        break;
    }
    case trace_event_id::mm_shrink_slab_end: {
        const auto &f = e.mm_shrink_slab_end;
        fmt::format_to(it,
                       "{} {}: nid: {} unused scan count {} new scan count {} total_scan {} last "
                       "shrinker return val {}",
                       f.name, ptr{f.shr}, f.nid, f.unused_scan, f.new_scan, f.total_scan,
                       f.retval);
        break;
    }
    case trace_event_id::mark_victim: {
        const auto &f = e.mark_victim;
        fmt::format_to(it,
                       "pid={} comm={} total-vm={}kB anon-rss={}kB file-rss:{}kB shmem-rss:{}kB "
                       "uid={} pgtables={}kB oom_score_adj={}",
                       f.pid, f.comm ? f.comm : "", f.total_vm, f.anon_rss, f.file_rss, f.shmem_rss,
                       f.uid, f.pgtables, f.oom_score_adj);
        break;
    }
    }
    out += '\n';
}

std::string format_trace_line(const trace_event &e) {
    std::string s;
    append_trace_line(s, e);
    s.pop_back();
    return s;
}

ftrace_text_sink::ftrace_text_sink(int fd, std::size_t buffer_bytes)
    : fd_(fd), limit_(buffer_bytes) {
    buf_.reserve(limit_ + 512);
}

ftrace_text_sink::~ftrace_text_sink() {
    flush();
}

void ftrace_text_sink::event(const trace_event &e) {
    // Formatted outside the lock, so that threads only queue for the copy.
    thread_local std::string line;
    line.clear();
    append_trace_line(line, e);
    std::lock_guard<std::mutex> g(lock_);
    if (error_ || finished_)
        return;
    buf_ += line;
    lines_++;
    if (buf_.size() >= limit_)
        write_out();
}

bool ftrace_text_sink::write_out() {
    for (std::size_t done = 0; done < buf_.size() && !error_;) {
        const ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            error_ = n < 0 ? errno : EIO;
        else
            done += std::size_t(n);
    }
    buf_.clear();
    return !error_;
}

bool ftrace_text_sink::flush() {
    std::lock_guard<std::mutex> g(lock_);
    return write_out();
}

bool ftrace_text_sink::finish() {
    std::lock_guard<std::mutex> g(lock_);
    const bool ok = write_out();
    finished_ = true;
    return ok;
}

int ftrace_text_sink::error() const {
    std::lock_guard<std::mutex> g(lock_);
    return error_;
}

std::uint64_t ftrace_text_sink::lines() const {
    std::lock_guard<std::mutex> g(lock_);
    return lines_;
}

} // namespace gfplab
