// SPDX-License-Identifier: MIT
//
// Relacy model check of the lock-free backend's cross-word claim (frames/pageblock_bits.hpp,
// orders 7 and 8: whole words taken in turn, given back when a later one is busy) racing
// with single-frame claims, on a four-word pageblock (256 frames) whose word 1 has one frame
// allocated from the start, so that an order-7 claim of words 0-1 always takes word 0 when
// it is clear, finds word 1 busy and gives word 0 back before it tries words 2-3:
//  - thread 0 allocates and frees an order-7 block twice (alloc_in: take 128 from the
//    count, claim, or give the count back when no run is clear);
//  - threads 1 and 2 each allocate and free a single frame twice, thread 1 searching from
//    word 0 both times, thread 2 from word 0 and then from word 2 (in thread 0's way).
// The count has room for all of them at once, so a frame freed by one thread can be claimed
// by another before the first gives its count back: the frame then passes only through its
// bits, directly (unclaim -> claim) or through thread 0's take and give-back of the word in
// between. The frames' contents are Relacy plain variables (pageblock_model.hpp), so a
// missing happens-before on either path is a data race; no frame may be owned twice, a
// claim of words must never leave a word it gave back set, and at the end the pageblock is
// as it started.
#include "pageblock_model.hpp"

namespace {

using gfplab::lockfree::pb_entry;

constexpr unsigned words = 4;
using model = gfplab::relacy::pageblock_model<words>;
constexpr std::uint64_t busy[words] = {0, 1ull << 63, 0, 0}; // frame 127

struct pageblock_cross_word_test : rl::test_suite<pageblock_cross_word_test, 3> {
    model m;

    void before() { m.init(busy); }

    // alloc_in() then free_one(): false when the count or the bits had no room.
    bool alloc_and_free(unsigned order, unsigned first_word, int me) {
        const unsigned n = 1u << order;
        pb_entry old;
        if (!m.pb.take(n, model::mt, &old))
            return false;
        const int index = m.pb.claim(order, first_word);
        // Word 1 has 63 clear frames for two single-frame owners, whoever holds the rest.
        RL_ASSERT(order != 0 || index >= 0);
        if (index < 0) {
            m.pb.give(n);
            return false;
        }
        // An order-7 run is words 0-1 or 2-3; words 0-1 cannot be, frame 127 is busy.
        RL_ASSERT(order != 7 || index == 128);
        m.own(unsigned(index), n, me);
        m.disown(unsigned(index), n, me);
        m.pb.unclaim(unsigned(index), order);
        m.pb.give(n);
        return true;
    }

    void thread(unsigned i) {
        const int me = int(i);
        if (i == 0) {
            alloc_and_free(7, 0, me);
            alloc_and_free(7, 0, me);
        } else if (i == 1) {
            alloc_and_free(0, 0, me);
            alloc_and_free(0, 0, me);
        } else {
            alloc_and_free(0, 0, me);
            alloc_and_free(0, 2, me);
        }
    }

    void after() { m.check_quiescent(busy); }
};

} // namespace

int main(int argc, char **argv) {
    rl::test_params p;
    p.iteration_count = argc > 1 ? std::atoi(argv[1]) : 200000;
    p.search_type = rl::random_scheduler_type;
    return rl::simulate<pageblock_cross_word_test>(p) ? 0 : 1;
}
