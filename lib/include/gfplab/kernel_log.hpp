// SPDX-License-Identifier: MIT
//
// gfplab/kernel_log.hpp - where kernel code's printk() and WARN*() go (linux/printk.h,
// linux/bug.h), for programs that host kernel code (gfplab-run): a sink for the log, and the
// count of warnings, which a host treats as findings. Process-wide, as the kernel log is.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace gfplab {

// One printk() record: its level (0 emerg .. 7 debug; KERN_CONT records carry -1) and the
// text without the level prefix (a trailing newline kept as written).
using kernel_log_sink = std::function<void(int level, std::string_view text)>;
// The default prints "<level name>: text" to stderr. An empty sink puts it back. Set it
// before kernel code runs.
void set_kernel_log_sink(kernel_log_sink sink);

// WARN_ON() and friends that fired, and failed lock assertions, since the start.
std::uint64_t kernel_warning_count() noexcept;

} // namespace gfplab
