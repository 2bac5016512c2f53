// SPDX-License-Identifier: MIT
//
// Relacy model check of the lock-free backend's pageblock (frames/pageblock_bits.hpp) as its
// allocation and free paths use it, on a two-word pageblock (128 frames; the library's has
// eight words, the code is the same template):
//  - thread 0 refills a per-CPU list twice: 3 frames taken from the count, claimed with
//    claim_frames (order 0), written, then freed one by one (unclaim) and given back;
//  - thread 1 allocates an order-2 block (alloc_in: take, claim, or give back when no run
//    is clear), then an order-7 block, which spans both words and the whole count, then the
//    pageblock whole (order 9: the entry alone, no bits);
//  - thread 2 takes the pageblock whole as the first half of an order-10 pair and puts it
//    back (the other half was busy: untake_whole), then takes it whole again and frees it.
// The frames' contents are Relacy plain variables (pageblock_model.hpp): a frame passed
// between owners without a happens-before, through the bits (unclaim -> claim) or the entry
// alone (give / give_whole / untake_whole -> take_whole), is a data race. Checked as well:
// no frame owned twice; the rule `bits set <= frames - entry.free` wherever a thread holds
// count without bits; the count's promise (the whole count taken, an order-7 claim finds
// its run); and at the end the entry and the bitfield wholly free again.
#include "pageblock_model.hpp"

namespace {

using gfplab::lockfree::pb_entry;

constexpr unsigned words = 2;
using model = gfplab::relacy::pageblock_model<words>;
constexpr unsigned frames = model::frames;
constexpr std::uint64_t none_busy[words] = {};

struct pageblock_frames_test : rl::test_suite<pageblock_frames_test, 3> {
    model m;

    void before() { m.init(none_busy); }

    // rmqueue_bulk()'s take_frames(), the pages used, then free_pcppages_bulk().
    void refill_and_drain(int me) {
        constexpr unsigned n = 3;
        pb_entry old;
        if (!m.pb.take(n, model::mt, &old))
            return;
        m.observe(n);
        std::uint16_t index[n];
        m.pb.claim_frames(n, 0, index);
        for (unsigned i = 0; i < n; i++)
            m.own(index[i], 1, me);
        for (unsigned i = 0; i < n; i++) {
            m.disown(index[i], 1, me);
            m.pb.unclaim(index[i], 0);
        }
        m.observe(n);
        m.pb.give(n);
    }

    // alloc_in() then free_one() of a block below pageblock_order. `must` says the count
    // taken promises the run: the whole count was taken, so every bit is clear.
    void alloc_and_free(unsigned order, unsigned first_word, bool must, int me) {
        const unsigned n = 1u << order;
        pb_entry old;
        if (!m.pb.take(n, model::mt, &old))
            return;
        m.observe(n);
        const int index = m.pb.claim(order, first_word);
        RL_ASSERT(index >= 0 || !must);
        if (index < 0) {
            m.pb.give(n);
            return;
        }
        m.own(unsigned(index), n, me);
        m.disown(unsigned(index), n, me);
        m.pb.unclaim(unsigned(index), order);
        m.observe(n);
        m.pb.give(n);
    }

    // alloc_whole() for one pageblock; `pair_busy`: the other half of an order-10 pair was
    // not free, so the pageblock is put back untouched.
    void whole(bool pair_busy, int me) {
        pb_entry old;
        if (!m.pb.take_whole(model::mt, pb_entry::make(0, model::mt, true), &old))
            return;
        RL_ASSERT(old.raw == pb_entry::make(frames, model::mt, false).raw);
        m.observe(frames);
        if (pair_busy) {
            m.pb.untake_whole(old);
            return;
        }
        m.own(0, frames, me);
        m.disown(0, frames, me);
        const pb_entry before = m.pb.give_whole();
        RL_ASSERT(before.raw == pb_entry::make(0, model::mt, true).raw);
    }

    void thread(unsigned i) {
        const int me = int(i);
        if (i == 0) {
            refill_and_drain(me);
            refill_and_drain(me);
        } else if (i == 1) {
            alloc_and_free(2, 0, false, me);
            alloc_and_free(7, 0, true, me);
            whole(false, me);
        } else {
            whole(true, me);
            whole(false, me);
        }
    }

    void after() { m.check_quiescent(none_busy); }
};

} // namespace

int main(int argc, char **argv) {
    rl::test_params p;
    p.iteration_count = argc > 1 ? std::atoi(argv[1]) : 200000;
    p.search_type = rl::random_scheduler_type;
    return rl::simulate<pageblock_frames_test>(p) ? 0 : 1;
}
