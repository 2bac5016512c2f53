// SPDX-License-Identifier: MIT
//
// The System the kernel face works on (default_system()), reached inline: the one set with
// set_default_system(), else the one booted from the environment, else the boot, out of
// line. Every entry point of the kernel face starts here, so the common case is two loads.
// Private to the library.
#pragma once

#include "../compiler.hpp"

#include <gfplab/system.hpp>

#include <atomic>

namespace gfplab {
namespace detail {
extern std::atomic<System *> chosen_system; // set_default_system()
extern std::atomic<System *> booted_system; // the environment's, once booted
// Boots the environment's System (once; a bad environment aborts with the reason).
[[gnu::noinline]] System &boot_default_system();
} // namespace detail

GFPLAB_ALWAYS_INLINE System &current_default_system() {
    if (System *s = detail::chosen_system.load(std::memory_order_acquire))
        return *s;
    if (System *s = detail::booted_system.load(std::memory_order_acquire))
        return *s;
    return detail::boot_default_system();
}

} // namespace gfplab
