// SPDX-License-Identifier: MIT
//
// Relacy model check of the page refcount's last put (gfplab/page.hpp put_page_testzero):
// two holders of one page each write into it and drop their reference; the one that drops
// the last frees the page, which poisons it: it must see the other's writes, so those
// writes must not race with the poisoning, and exactly one holder frees.
#include <gfplab/page.hpp>

#include "rl_atom.hpp"

namespace {

using gfplab::relacy::atom;

struct refcount_test : rl::test_suite<refcount_test, 2> {
    atom<std::int32_t> refcount;
    rl::var<int> contents[2]; // what each holder wrote into its part of the page
    rl::var<int> frees;

    void before() {
        refcount.init(2); // the allocation's reference and a get_page()
        contents[0]($) = 0;
        contents[1]($) = 0;
        frees($) = 0;
    }

    void thread(unsigned i) {
        contents[i]($) = int(i) + 1;
        const int was = gfplab::put_page_testzero(refcount);
        RL_ASSERT(was == 1 || was == 2);
        if (was != 1)
            return;
        // free_pages_prepare(): the poison overwrites what the holders wrote.
        RL_ASSERT(contents[0]($) == 1 && contents[1]($) == 2);
        contents[0]($) = 0x6b;
        contents[1]($) = 0x6b;
        frees($) = frees($) + 1;
    }

    void after() { RL_ASSERT(frees($) == 1); }
};

} // namespace

int main(int argc, char **argv) {
    rl::test_params p;
    p.iteration_count = argc > 1 ? std::atoi(argv[1]) : 200000;
    p.search_type = rl::random_scheduler_type;
    return rl::simulate<refcount_test>(p) ? 0 : 1;
}
