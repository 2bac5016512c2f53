// SPDX-License-Identifier: MIT
//
// Relacy model check of the vmstat counters' unlocked form (gfplab/vmstat_delta.hpp), which
// the lock-free page-frame backend uses: two threads that share one CPU number change its
// delta with vmstat_mod_unlocked() (no zone lock), while a third folds that delta into the
// zone-wide value as refresh_cpu_vm_stats() does. No change may be lost: at the end the
// zone-wide value plus the delta is the sum of every change, and the delta never stood
// beyond the threshold. The test fails if the fold goes back to a load and a store, or the
// writers to a plain read-modify-write of the delta.
#include <gfplab/vmstat_delta.hpp>

#include "rl_atom.hpp"

namespace {

using gfplab::relacy::atom;
using gfplab::relacy::relaxed;

constexpr int threshold = 3;
constexpr int writers = 2;
// Per writer: 2, then -1, then 2 (a fold on the way up, a change that stays in the delta).
constexpr long changes[] = {2, -1, 2};

struct vmstat_unlocked_test : rl::test_suite<vmstat_unlocked_test, writers + 1> {
    atom<long> global;
    atom<std::int8_t> diff; // the shared CPU's delta

    void before() {
        global.init(0);
        diff.init(0);
    }

    void thread(unsigned i) {
        if (i < writers) {
            for (long d : changes) {
                gfplab::vmstat_mod_unlocked(global, diff, d, threshold);
                const long x = diff.load(relaxed);
                RL_ASSERT(x >= -threshold && x <= threshold);
            }
            return;
        }
        for (int k = 0; k < 2; k++)
            gfplab::vmstat_fold(global, diff);
    }

    void after() {
        long sum = 0;
        for (long d : changes)
            sum += d;
        RL_ASSERT(gfplab::vmstat_read_snapshot(global, &diff, 1, 1) == writers * sum);
    }
};

} // namespace

int main(int argc, char **argv) {
    rl::test_params p;
    p.iteration_count = argc > 1 ? std::atoi(argv[1]) : 200000;
    p.search_type = rl::random_scheduler_type;
    return rl::simulate<vmstat_unlocked_test>(p) ? 0 : 1;
}
