// SPDX-License-Identifier: MIT
//
// What the pageblock model checks share: one pageblock of the lock-free backend
// (frames/pageblock_bits.hpp) on Relacy's atomics, and its frames. Each frame's contents is a
// Relacy plain variable: an owner checks it holds the free poison (0), writes its mark, and
// before freeing checks its mark and poisons it again, as the page allocator's users and
// free path do. So two owners whose accesses the bits or the entry fail to order are a data
// race, whatever values they happen to read. Who owns a frame is kept besides in a plain
// array: Relacy runs one thread at a time between its operations, so that record is exact
// and a frame handed to two owners at once is an assertion, not a matter of luck.
//
// Include the library headers first: relacy.hpp redefines new and delete after it.
#pragma once

#include "../../lib/src/frames/pageblock_bits.hpp"

#include "rl_atom.hpp"

#include <bit>

namespace gfplab::relacy {

template <unsigned Words>
struct pageblock_model {
    using state = lockfree::basic_pageblock_state<atom, Words>;
    static constexpr unsigned frames = state::frames;
    static constexpr int nobody = -1;
    static constexpr migratetype mt = MIGRATE_MOVABLE;

    state pb;
    rl::var<int> contents[frames];
    int owner[frames];

    // All frames free, but for `busy` frames set from the start (allocated before the test,
    // bits and count alike, owned by nobody that runs).
    void init(const std::uint64_t (&busy)[Words]) {
        unsigned taken = 0;
        for (unsigned w = 0; w < Words; w++) {
            pb.bits[w].init(busy[w]);
            taken += unsigned(std::popcount(busy[w]));
        }
        pb.entry.init(lockfree::pb_entry::make(frames - taken, mt, false).raw);
        for (unsigned f = 0; f < frames; f++) {
            contents[f]($) = 0;
            owner[f] = nobody;
        }
    }

    // Thread `me` now owns frames [first, first + n): nobody else does, the last owner's
    // writes (the poison) are visible, and it writes its own.
    void own(unsigned first, unsigned n, int me) {
        for (unsigned f = first; f < first + n; f++) {
            RL_ASSERT(owner[f] == nobody);
            owner[f] = me;
            RL_ASSERT(contents[f]($) == 0);
            contents[f]($) = me + 1;
        }
    }
    // Thread `me` frees them: its writes are still there, and it poisons them.
    void disown(unsigned first, unsigned n, int me) {
        for (unsigned f = first; f < first + n; f++) {
            RL_ASSERT(owner[f] == me);
            RL_ASSERT(contents[f]($) == me + 1);
            contents[f]($) = 0;
            owner[f] = nobody;
        }
    }

    // The rule `bits set <= frames - entry.free`, as a thread sees it that holds `held`
    // frames of the count whose bits are clear (taken and not yet claimed, or unclaimed and
    // not yet given back): all other set bits are covered by the rest of the count, so no
    // word it reads, however late or early the value, has more than frames - held set. Only
    // an order that fails to make an older free visible lets it read more.
    void observe(unsigned held) {
        for (unsigned w = 0; w < Words; w++)
            RL_ASSERT(unsigned(std::popcount(pb.bits[w].load(relaxed))) <= frames - held);
    }

    // At the end: the entry and the bitfield are what init() made them, and every frame that
    // was not busy from the start is unowned and poisoned.
    void check_quiescent(const std::uint64_t (&busy)[Words]) {
        unsigned taken = 0;
        for (unsigned w = 0; w < Words; w++) {
            RL_ASSERT(pb.bits[w].load(relaxed) == busy[w]);
            taken += unsigned(std::popcount(busy[w]));
        }
        RL_ASSERT(pb.entry.load(relaxed) ==
                  lockfree::pb_entry::make(frames - taken, mt, false).raw);
        for (unsigned f = 0; f < frames; f++) {
            RL_ASSERT(owner[f] == nobody);
            RL_ASSERT(contents[f]($) == 0);
        }
    }
};

} // namespace gfplab::relacy
