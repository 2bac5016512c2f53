// SPDX-License-Identifier: MIT
//
// Compiler hints of the library's own code (the kernel's include/linux/compiler*.h role).
// Private to the library.
#pragma once

// The fast path's pieces: inlined into their one caller whatever the optimiser's size
// heuristics say, so that the path is one function with its cold parts out of line
// (the kernel's __always_inline).
#define GFPLAB_ALWAYS_INLINE inline __attribute__((always_inline))

// A function the library's other objects call but users never do: bound inside the shared
// library (no PLT), invisible outside it.
#define GFPLAB_INTERNAL __attribute__((visibility("hidden")))
