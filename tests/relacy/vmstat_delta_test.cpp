// SPDX-License-Identifier: MIT
//
// Relacy model check of the vmstat counter scheme (gfplab/vmstat_delta.hpp): two CPUs count
// pages in and out of one zone under the zone lock while a reader without the lock takes
// the cheap count. The reader brackets its read with two exact counts taken under the lock;
// the updates only ever add, so the true value at the read lies between them and the cheap
// count must be within the drift bound (ncpus * threshold) of that range (I3). At the end
// the zone-wide value plus the deltas is exact (I2's NR_FREE_PAGES).
#include <gfplab/vmstat_delta.hpp>

#include "rl_atom.hpp"

namespace {

using gfplab::relacy::atom;
using gfplab::relacy::relaxed;

constexpr unsigned ncpus = 2;
constexpr int threshold = 2;
constexpr int updates = 4; // per CPU, each +1: passes the threshold at least once

struct vmstat_delta_test : rl::test_suite<vmstat_delta_test, ncpus + 1> {
    atom<long> global;
    atom<std::int8_t> diff[ncpus];
    rl::mutex zone_lock;
    rl::var<long> truth; // what the counter counts, written under the lock

    void before() {
        global.init(0);
        for (auto &d : diff)
            d.init(0);
        truth($) = 0;
    }

    long exact() {
        zone_lock.lock($);
        const long t = truth($);
        RL_ASSERT(t == gfplab::vmstat_read_snapshot(global, diff, 1, ncpus));
        zone_lock.unlock($);
        return t;
    }

    void thread(unsigned i) {
        if (i < ncpus) {
            for (int k = 0; k < updates; k++) {
                zone_lock.lock($);
                gfplab::vmstat_mod(global, diff[i], 1, threshold);
                truth($) = truth($) + 1;
                zone_lock.unlock($);
            }
            return;
        }
        const long bound = long(ncpus) * threshold;
        const long lo = exact();
        const long cheap = gfplab::vmstat_read(global);
        const long hi = exact();
        RL_ASSERT(cheap >= lo - bound && cheap <= hi + bound);
        for (const auto &d : diff) {
            const long x = d.load(relaxed);
            RL_ASSERT(x >= -threshold && x <= threshold);
        }
    }

    void after() {
        RL_ASSERT(gfplab::vmstat_read_snapshot(global, diff, 1, ncpus) == long(ncpus) * updates);
    }
};

} // namespace

int main(int argc, char **argv) {
    rl::test_params p;
    p.iteration_count = argc > 1 ? std::atoi(argv[1]) : 200000;
    p.search_type = rl::random_scheduler_type;
    return rl::simulate<vmstat_delta_test>(p) ? 0 : 1;
}
