// SPDX-License-Identifier: MIT
//
// Compiler hints of the library's own code (the kernel's include/linux/compiler*.h role).
// Private to the library.
#pragma once

// The fast path's pieces: inlined into their one caller whatever the optimiser's size
// heuristics say, so that the path is one function with its cold parts out of line
// (the kernel's __always_inline).
#define GFPLAB_ALWAYS_INLINE inline __attribute__((always_inline))
