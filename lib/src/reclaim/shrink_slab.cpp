// SPDX-License-Identifier: MIT
//
// The scan target of one do_shrink_slab() call (6.12 mm/shrinker.c), kept apart from the
// registry so tests and the statistics can ask what the kernel's formula wants without
// calling any shrinker.
#include <gfplab/shrinker.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>

namespace gfplab {

shrink_plan do_shrink_slab_plan(unsigned long freeable, unsigned long deferred, int priority,
                                int seeks) noexcept {
    // Reclaim priorities run from DEF_PRIORITY (12) down to 0; a shift by the width of the
    // type or more would be undefined here, where the kernel never gets such a priority.
    // Past the width every object shifts out, so treat it as "nothing".
    const bool shifted_out = priority >= int(sizeof(unsigned long) * CHAR_BIT);
    const int shift = std::max(priority, 0);
    const unsigned long freeable_shifted = shifted_out ? 0 : freeable >> shift;
    const unsigned long deferred_shifted = shifted_out ? 0 : deferred >> shift;

    // New work: a quarter of the cache per 2^priority, scaled by the cost to recreate an
    // object (seeks). Objects that cost nothing to recreate (seeks 0) are trimmed hard, half
    // of them whatever the priority. The kernel divides with do_div(), whose divisor is
    // 32 bits: a negative seeks becomes a huge one (the registry refuses those).
    unsigned long long delta;
    if (seeks != 0) {
        delta = freeable_shifted;
        delta *= 4;
        delta /= static_cast<std::uint32_t>(seeks);
    } else {
        delta = freeable / 2;
    }

    // The deferred backlog counts with the same priority scaling (6.12; 4.19 added it
    // unscaled), and the whole target never exceeds twice what the cache holds.
    unsigned long long total = deferred_shifted + delta;
    const unsigned long long cap = 2ull * freeable;
    total = std::min(total, cap);
    return shrink_plan{static_cast<unsigned long>(delta), static_cast<unsigned long>(total)};
}

} // namespace gfplab
