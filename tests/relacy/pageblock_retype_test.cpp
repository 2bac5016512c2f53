// SPDX-License-Identifier: MIT
//
// Relacy model check of the lock-free backend's migratetype change (frames/pageblock_bits.hpp
// retype() and mirror_type()): the pageblock's type lives in its entry, and a copy of it in
// zone::pageblock_mt, which the rest of the System reads (the free path, verify()). Every
// retyper CASes the entry, then stores the entry's type into the copy and checks the entry
// again, storing once more if it changed. Two threads retype the pageblock to different
// types (the fallback's claim of a free pageblock, the highatomic reserve) while a third
// takes and gives frames, which changes the entry but not its type. When all are done, the
// copy must hold the entry's type: the last store to the copy, whoever made it, must be of
// the last type.
#include <initializer_list>

#include "pageblock_model.hpp"

namespace {

using gfplab::lockfree::pb_entry;
using gfplab::relacy::atom;
using gfplab::relacy::relaxed;

using state = gfplab::lockfree::basic_pageblock_state<atom, 1>;

struct pageblock_retype_test : rl::test_suite<pageblock_retype_test, 3> {
    state pb;
    atom<std::uint8_t> mirror; // zone::pageblock_mt's byte for the pageblock

    void before() {
        pb.entry.init(pb_entry::make(state::frames, MIGRATE_MOVABLE, false).raw);
        pb.bits[0].init(0);
        mirror.init(MIGRATE_MOVABLE);
    }

    // lockfree_backend::retype(): a change of type is mirrored by whoever made it. The
    // predicates are the fallback's and unreserve_highatomic()'s: a pageblock taken whole
    // is retyped only by its holder (reserve_highatomic()), which this test does not model.
    // The first of `from` the pageblock has now (the fallback tries its types in turn).
    template <class Pred>
    void retype(std::initializer_list<migratetype> from, migratetype to, Pred pred) {
        pb_entry old;
        for (migratetype f : from)
            if (pb.retype(f, to, pred, &old)) {
                if (old.mt() != to)
                    gfplab::lockfree::mirror_type(pb, mirror);
                return;
            }
    }

    void thread(unsigned i) {
        if (i == 0) {
            // alloc_fallback(): a wholly free pageblock of another type becomes ours.
            retype({MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE}, MIGRATE_UNMOVABLE,
                   [](pb_entry e) { return !e.huge() && (e.free)() == state::frames; });
        } else if (i == 1) {
            // alloc_fallback(): one at least half free; then unreserve_highatomic()'s kind
            // of change, from one given type.
            retype({MIGRATE_MOVABLE, MIGRATE_UNMOVABLE}, MIGRATE_RECLAIMABLE,
                   [](pb_entry e) { return !e.huge() && (e.free)() >= state::frames / 2; });
            retype({MIGRATE_RECLAIMABLE}, MIGRATE_HIGHATOMIC,
                   [](pb_entry e) { return (e.free)() > 0; });
        } else {
            // alloc_whole() of an order-10 pair for a movable request, taking this pageblock
            // of a fallback type (or its own), whose other half is busy: the entry is put
            // back as it was.
            pb_entry old;
            for (migratetype from : {MIGRATE_UNMOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE})
                if (pb.take_whole(from, pb_entry::make(0, MIGRATE_MOVABLE, true), &old)) {
                    pb.untake_whole(old);
#ifndef NO_UNTAKE_MIRROR
                    if (old.mt() != MIGRATE_MOVABLE)
                        gfplab::lockfree::mirror_type(pb, mirror);
#endif
                    break;
                }
            for (migratetype from : {MIGRATE_UNMOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_HIGHATOMIC})
                if (pb.take(1, from, &old)) {
                    pb.give(1);
                    break;
                }
        }
    }

    void after() {
        const pb_entry e{pb.entry.load(relaxed)};
        RL_ASSERT(mirror.load(relaxed) == e.mt());
        RL_ASSERT((e.free)() == state::frames);
    }
};

} // namespace

int main(int argc, char **argv) {
    rl::test_params p;
    p.iteration_count = argc > 1 ? std::atoi(argv[1]) : 200000;
    p.search_type = rl::random_scheduler_type;
    return rl::simulate<pageblock_retype_test>(p) ? 0 : 1;
}
