// SPDX-License-Identifier: MIT
//
// Relacy model check of the locked-mode per-CPU list (pcp/list_ops.hpp): two tasks on one
// CPU popping and pushing pages under the per-CPU trylock while another CPU drains the list
// (drain_all_pages: the same trylock, then the whole list stolen and walked). The page links
// and each page's whereabouts are Relacy plain variables, so a trylock that fails to order
// them is a data race; every page must end up in exactly one place.
#include "../../lib/src/pcp/list_ops.hpp"

#include "rl_atom.hpp"

namespace {

using gfplab::pcp::cpu_trylock;
using gfplab::pcp::empty_word;
using gfplab::pcp::make_word;
using gfplab::pcp::outcome;
using gfplab::pcp::word_count;
using gfplab::pcp::word_head;
using gfplab::relacy::atom;

constexpr std::uint32_t npages = 3;
enum where { on_list, held, drained };

struct cpu_block {
    atom<std::uint32_t> lock;
};

struct pcp_list_test : rl::test_suite<pcp_list_test, 3> {
    cpu_block cpu;
    atom<std::uint64_t> list;
    rl::var<std::uint32_t> next[npages];
    rl::var<int> place[npages];

    auto links() {
        return [this](std::uint32_t pfn) { return next[pfn]($); };
    }

    void before() {
        cpu.lock.init(0);
        for (std::uint32_t i = 0; i < npages; i++) {
            next[i]($) = i + 1 < npages ? i + 1 : gfplab::pfn_nil;
            place[i]($) = on_list;
        }
        list.init(make_word(0, npages));
    }

    // rmqueue_pcplist() then free_unref_page() of the same page on this CPU.
    void task() {
        std::uint32_t pfn = gfplab::pfn_nil;
        {
            cpu_trylock l(cpu);
            if (!l.held() || gfplab::pcp::locked_pop(list, links(), &pfn) != outcome::ok)
                return;
            RL_ASSERT(place[pfn]($) == on_list);
            place[pfn]($) = held;
        }
        cpu_trylock l(cpu);
        if (!l.held())
            return; // the caller would free to the buddy allocator: the page stays held
        place[pfn]($) = on_list;
        std::uint32_t count;
        gfplab::pcp::locked_push(list, links(), pfn, pfn, 1, &count);
    }

    // drain_all_pages() from another CPU: a few tries for the trylock, then the whole list.
    void drainer() {
        for (int tries = 0; tries < 3; tries++) {
            cpu_trylock l(cpu);
            if (!l.held()) {
                rl::yield(1, $);
                continue;
            }
            const std::uint64_t w = gfplab::pcp::locked_steal(list);
            std::uint32_t pfn = word_head(w);
            for (std::uint32_t k = 0; k < word_count(w); k++) {
                RL_ASSERT(pfn != gfplab::pfn_nil);
                RL_ASSERT(place[pfn]($) == on_list);
                place[pfn]($) = drained;
                pfn = next[pfn]($);
            }
            RL_ASSERT(pfn == gfplab::pfn_nil);
            return;
        }
    }

    void thread(unsigned i) {
        if (i == 2)
            drainer();
        else
            task();
    }

    // Every page is where exactly one path put it: listed pages are those on the list.
    void after() {
        const std::uint64_t w = list.load(gfplab::relacy::relaxed);
        std::uint32_t listed = 0;
        for (std::uint32_t pfn = word_head(w); pfn != gfplab::pfn_nil; pfn = next[pfn]($)) {
            RL_ASSERT(place[pfn]($) == on_list);
            listed++;
        }
        RL_ASSERT(listed == word_count(w));
        for (std::uint32_t i = 0; i < npages; i++)
            if (place[i]($) == on_list)
                listed--;
        RL_ASSERT(listed == 0);
        (void)empty_word;
    }
};

} // namespace

int main(int argc, char **argv) {
    rl::test_params p;
    p.iteration_count = argc > 1 ? std::atoi(argv[1]) : 200000;
    p.search_type = rl::random_scheduler_type;
    return rl::simulate<pcp_list_test>(p) ? 0 : 1;
}
