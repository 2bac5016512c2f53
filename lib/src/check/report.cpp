// SPDX-License-Identifier: MIT
//
// Where a System's reports go: counted, kept (the last 256), handed to the sink, and with
// report_action::abort, the end of the process.
#include "report.hpp"

#include "../scope/caller.hpp"

#include <gfplab/scope.hpp>

#include <cstdio>
#include <cstdlib>

namespace gfplab {

namespace {
constexpr std::size_t kept_reports = 256;
}

violation make_violation(invariant inv, const char *what, std::string message, gfp_t gfp, int order,
                         long long pfn) {
    violation v;
    v.inv = inv;
    v.what = what;
    v.message = std::move(message);
    v.gfp = gfp;
    v.order = order;
    v.pfn = pfn;
    v.scope_stack = format_scope_stack();
    return v;
}

std::string format_violation(const violation &v) {
    std::string s = fmt::format("gfplab: I{} {}: {}", id(v.inv), v.what, v.message);
    if (!v.scope_stack.empty() && v.scope_stack != "-")
        s += fmt::format(" [scope stack: {}]", v.scope_stack);
    return s;
}

void System::report(violation v) {
    reports_.fetch_add(1, std::memory_order_relaxed);
    // Made during a call of kernel code through the include root: name its line.
    if (detail::t_site_file) {
        const std::string site = fmt::format("{}:{}", detail::t_site_file, detail::t_site_line);
        if (v.message.find(site) == std::string::npos)
            v.message += " (called from " + site + ")";
    }
    {
        std::lock_guard<std::mutex> guard(report_lock_);
        if (sink_)
            sink_(v);
        else
            std::fprintf(stderr, "%s\n", format_violation(v).c_str());
        if (recent_.size() == kept_reports)
            recent_.erase(recent_.begin());
        recent_.push_back(v);
    }
    if (cfg_.on_report == report_action::abort) {
        if (sink_)
            std::fprintf(stderr, "%s\n", format_violation(v).c_str());
        std::abort();
    }
}

std::vector<violation> System::recent_reports() const {
    std::lock_guard<std::mutex> guard(report_lock_);
    return recent_;
}

void System::set_report_sink(std::function<void(const violation &)> sink) {
    std::lock_guard<std::mutex> guard(report_lock_);
    sink_ = std::move(sink);
}

void System::set_log_sink(std::function<void(const std::string &)> sink) {
    std::lock_guard<std::mutex> guard(report_lock_);
    log_sink_ = std::move(sink);
}

void System::log(const std::string &line) {
    std::lock_guard<std::mutex> guard(report_lock_);
    if (log_sink_)
        log_sink_(line);
    else
        std::fprintf(stderr, "%s\n", line.c_str());
}

} // namespace gfplab
