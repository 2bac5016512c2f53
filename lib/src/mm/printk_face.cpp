// SPDX-License-Identifier: MIT
//
// printk(), WARN*() and BUG() for kernel code (linux/printk.h, linux/bug.h), and the log's
// sink (gfplab/kernel_log.hpp).
#include <gfplab/kernel_log.hpp>
#include <gfplab/linux/bug.h>
#include <gfplab/linux/printk.h>
#include <gfplab/linux/spinlock.h>
#include <gfplab/scope.hpp>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace gfplab {
namespace {

std::mutex sink_lock;
kernel_log_sink *sink = nullptr; // under sink_lock; null: stderr
std::atomic<std::uint64_t> warnings{0};

const char *const level_names[] = {"emerg", "alert",  "crit", "err",
                                   "warn",  "notice", "info", "debug"};

void emit(int level, std::string_view text) {
    std::lock_guard<std::mutex> g(sink_lock);
    if (sink) {
        (*sink)(level, text);
        return;
    }
    if (level >= 0)
        std::fprintf(stderr, "%s: ", level_names[level]);
    std::fwrite(text.data(), 1, text.size(), stderr);
}

std::string vformat(const char *fmt, std::va_list ap) {
    std::va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    std::string out(n > 0 ? std::size_t(n) : 0, '\0');
    if (n > 0)
        std::vsnprintf(out.data(), out.size() + 1, fmt, ap);
    return out;
}

// "file:line" and the condition, then the task's scope stack as the kernel's backtrace
// stands in for where it happened.
void warn_line(const char *kind, const char *file, unsigned line, const char *cond,
               const std::string &detail) {
    std::string text = std::string(kind) + " at " + file + ":" + std::to_string(line);
    if (cond)
        text += ": " + std::string(cond);
    if (!detail.empty())
        text += ": " + detail;
    text += " (scope stack: " + format_scope_stack() + ")\n";
    emit(LOGLEVEL_WARNING, text);
}

} // namespace

void set_kernel_log_sink(kernel_log_sink s) {
    std::lock_guard<std::mutex> g(sink_lock);
    delete sink;
    sink = s ? new kernel_log_sink(std::move(s)) : nullptr;
}

std::uint64_t kernel_warning_count() noexcept {
    return warnings.load(std::memory_order_relaxed);
}

} // namespace gfplab

using namespace gfplab;

extern "C" {

int printk(const char *fmt, ...) {
    int level = LOGLEVEL_WARNING; // the kernel's default message level
    if (fmt[0] == KERN_SOH[0] && fmt[1]) {
        level = fmt[1] >= '0' && fmt[1] <= '7' ? fmt[1] - '0' : -1; // 'c': KERN_CONT
        fmt += 2;
    }
    std::va_list ap;
    va_start(ap, fmt);
    const std::string text = vformat(fmt, ap);
    va_end(ap);
    emit(level, text);
    return int(text.size());
}

void __gfplab_warn(const char *file, unsigned int line, const char *cond, const char *fmt, ...) {
    warnings.fetch_add(1, std::memory_order_relaxed);
    std::string detail;
    if (fmt) {
        std::va_list ap;
        va_start(ap, fmt);
        detail = vformat(fmt, ap);
        va_end(ap);
        while (!detail.empty() && detail.back() == '\n')
            detail.pop_back();
    }
    warn_line("WARNING", file, line, cond, detail);
}

void __gfplab_bug(const char *file, unsigned int line, const char *cond) {
    std::string text = std::string("kernel BUG at ") + file + ":" + std::to_string(line);
    if (cond)
        text += ": " + std::string(cond);
    emit(LOGLEVEL_EMERG, text + "\n");
    std::abort();
}

void __gfplab_assert_failed(const char *file, unsigned int line, const char *what) {
    warnings.fetch_add(1, std::memory_order_relaxed);
    warn_line("WARNING", file, line, what, "");
}

} // extern "C"
