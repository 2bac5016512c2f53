// SPDX-License-Identifier: MIT
//
// Relacy model check of drain_all_pages() and refill in the locked modes (locked and
// virtual CPUs; pcp/pcp.cpp over pcp/list_ops.hpp): what pcp_list_test checks for one list,
// here with the page's other home, the buddy allocator behind zone->lock, and the paths that
// move pages between the two while the CPU's trylock is let go in between:
//  - task 0 on the CPU allocates from an empty list: rmqueue_pcplist() finds it empty under
//    the trylock, rmqueue_bulk() takes a batch from the buddy under zone->lock with no
//    trylock held, keeps one page and pushes the rest (a busy trylock: back to the buddy),
//    then frees the page it kept to the list (busy: to the buddy);
//  - task 1 on the same CPU pops and pushes another list, then drains it down as
//    free_pcppages_bulk() does past high: the list stolen, part of it pushed back (busy:
//    to the buddy), the cold end to the buddy;
//  - a drainer on another CPU (drain_all_pages()): a few tries for the CPU's trylock, then
//    every list stolen and given to the buddy.
// The links, each page's whereabouts and the buddy's list and count are Relacy plain
// variables, so an access the trylock or zone->lock fails to order is a data race. At the
// end every page is in exactly one place (on one list, or in the buddy, never both, never
// lost), each list word's count is its list's length and the buddy's count its list's.
#include "../../lib/src/pcp/list_ops.hpp"

#include "rl_atom.hpp"

namespace {

using gfplab::pfn_nil;
using gfplab::pcp::cpu_trylock;
using gfplab::pcp::make_word;
using gfplab::pcp::outcome;
using gfplab::pcp::word_count;
using gfplab::pcp::word_head;
using gfplab::relacy::atom;

constexpr std::uint32_t npages = 4;
constexpr unsigned nlists = 2;
enum where { in_buddy, on_list, held };

struct cpu_block {
    atom<std::uint32_t> lock;
};

struct pcp_drain_test : rl::test_suite<pcp_drain_test, 3> {
    cpu_block cpu;
    atom<std::uint64_t> list[nlists];
    rl::var<std::uint32_t> next[npages]; // lru.next: a list's links, or the buddy's
    rl::var<int> place[npages];
    rl::mutex zone_lock;
    rl::var<std::uint32_t> buddy_head; // under zone_lock
    rl::var<std::uint32_t> nr_free;    // under zone_lock: NR_FREE_PAGES as the buddy counts it

    auto links() {
        return [this](std::uint32_t pfn) { return next[pfn]($); };
    }

    // Pages 0, 1 on list 0; 2, 3 in the buddy; list 1 empty.
    void before() {
        cpu.lock.init(0);
        next[0]($) = 1;
        next[1]($) = pfn_nil;
        next[2]($) = 3;
        next[3]($) = pfn_nil;
        place[0]($) = on_list;
        place[1]($) = on_list;
        place[2]($) = in_buddy;
        place[3]($) = in_buddy;
        list[0].init(make_word(0, 2));
        list[1].init(make_word(pfn_nil, 0));
        buddy_head($) = 2;
        nr_free($) = 2;
    }

    // free_pcppages_bulk(): n pages chained from head back to the buddy.
    void to_buddy(std::uint32_t head, std::uint32_t n) {
        zone_lock.lock($);
        std::uint32_t tail = head;
        for (std::uint32_t k = 0; k < n; k++) {
            RL_ASSERT(tail != pfn_nil);
            RL_ASSERT(place[tail]($) != in_buddy);
            place[tail]($) = in_buddy;
            if (k + 1 < n)
                tail = next[tail]($);
        }
        next[tail]($) = buddy_head($);
        buddy_head($) = head;
        nr_free($) = nr_free($) + n;
        zone_lock.unlock($);
    }

    // rmqueue_bulk(): up to `want` pages from the buddy, chained head..tail, held by the
    // caller (in flight: on no list, not free).
    std::uint32_t rmqueue_bulk(std::uint32_t want, std::uint32_t *head, std::uint32_t *tail) {
        zone_lock.lock($);
        std::uint32_t got = 0, pfn = buddy_head($), last = pfn_nil;
        *head = pfn;
        while (got < want && pfn != pfn_nil) {
            RL_ASSERT(place[pfn]($) == in_buddy);
            place[pfn]($) = held;
            last = pfn;
            pfn = next[pfn]($);
            got++;
        }
        if (got) {
            next[last]($) = pfn_nil;
            buddy_head($) = pfn;
            nr_free($) = nr_free($) - got;
        }
        *tail = last;
        zone_lock.unlock($);
        return got;
    }

    // The chain head..tail of n held pages onto list l, or to the buddy if the trylock is
    // busy (free_unref_page_commit() and refill's push).
    void push_or_buddy(unsigned l, std::uint32_t head, std::uint32_t tail, std::uint32_t n) {
        {
            cpu_trylock t(cpu);
            if (t.held()) {
                for (std::uint32_t pfn = head, k = 0; k < n; k++, pfn = next[pfn]($))
                    place[pfn]($) = on_list;
                std::uint32_t count;
                gfplab::pcp::locked_push(list[l], links(), head, tail, n, &count);
                return;
            }
        }
        to_buddy(head, n);
    }

    // Task 0: rmqueue_pcplist() on the empty list 1, the refill, then the page freed.
    void refiller() {
        std::uint32_t pfn = pfn_nil;
        outcome r;
        {
            cpu_trylock t(cpu);
            if (!t.held())
                return; // the caller would take a page from the buddy directly
            r = gfplab::pcp::locked_pop(list[1], links(), &pfn);
            if (r == outcome::ok) {
                RL_ASSERT(place[pfn]($) == on_list);
                place[pfn]($) = held;
            }
        }
        if (r != outcome::ok) {
            std::uint32_t head, tail;
            const std::uint32_t got = rmqueue_bulk(2, &head, &tail);
            if (!got)
                return;
            pfn = head;
            if (got > 1)
                push_or_buddy(1, next[head]($), tail, got - 1);
            next[pfn]($) = pfn_nil;
        }
        push_or_buddy(1, pfn, pfn, 1);
    }

    // Task 1: a pop and push of list 0, then list 0 drained to one page past high.
    void popper() {
        std::uint32_t pfn = pfn_nil;
        {
            cpu_trylock t(cpu);
            if (!t.held() || gfplab::pcp::locked_pop(list[0], links(), &pfn) != outcome::ok)
                return;
            RL_ASSERT(place[pfn]($) == on_list);
            place[pfn]($) = held;
        }
        push_or_buddy(0, pfn, pfn, 1);
        std::uint64_t w;
        {
            cpu_trylock t(cpu);
            if (!t.held())
                return;
            w = gfplab::pcp::locked_steal(list[0]);
            for (std::uint32_t p = word_head(w), k = 0; k < word_count(w); k++, p = next[p]($)) {
                RL_ASSERT(place[p]($) == on_list);
                place[p]($) = held;
            }
        }
        const std::uint32_t n = word_count(w);
        if (!n)
            return;
        // Keep the hot head, give the cold rest.
        const std::uint32_t head = word_head(w), cold = next[head]($);
        next[head]($) = pfn_nil;
        push_or_buddy(0, head, head, 1);
        if (n > 1)
            to_buddy(cold, n - 1);
    }

    // drain_all_pages() from another CPU: a few tries for the trylock, then every list.
    void drainer() {
        for (int tries = 0; tries < 3; tries++) {
            cpu_trylock t(cpu);
            if (!t.held()) {
                rl::yield(1, $);
                continue;
            }
            for (unsigned l = 0; l < nlists; l++) {
                const std::uint64_t w = gfplab::pcp::locked_steal(list[l]);
                std::uint32_t pfn = word_head(w);
                for (std::uint32_t k = 0; k < word_count(w); k++) {
                    RL_ASSERT(pfn != pfn_nil);
                    RL_ASSERT(place[pfn]($) == on_list);
                    pfn = next[pfn]($);
                }
                RL_ASSERT(pfn == pfn_nil);
                if (word_count(w))
                    to_buddy(word_head(w), word_count(w));
            }
            return;
        }
    }

    void thread(unsigned i) {
        if (i == 0)
            refiller();
        else if (i == 1)
            popper();
        else
            drainer();
    }

    // Every page in exactly one place, and every count what its list holds.
    void after() {
        unsigned seen[npages] = {};
        std::uint32_t listed = 0;
        for (unsigned l = 0; l < nlists; l++) {
            const std::uint64_t w = list[l].load(gfplab::relacy::relaxed);
            std::uint32_t n = 0;
            for (std::uint32_t pfn = word_head(w); pfn != pfn_nil && n <= npages;
                 pfn = next[pfn]($), n++) {
                RL_ASSERT(place[pfn]($) == on_list);
                seen[pfn]++;
            }
            RL_ASSERT(n == word_count(w));
            listed += n;
        }
        std::uint32_t free = 0;
        for (std::uint32_t pfn = buddy_head($); pfn != pfn_nil && free <= npages;
             pfn = next[pfn]($), free++) {
            RL_ASSERT(place[pfn]($) == in_buddy);
            seen[pfn]++;
        }
        RL_ASSERT(free == nr_free($));
        RL_ASSERT(listed + free == npages);
        for (std::uint32_t i = 0; i < npages; i++)
            RL_ASSERT(seen[i] == 1);
    }
};

} // namespace

int main(int argc, char **argv) {
    rl::test_params p;
    p.iteration_count = argc > 1 ? std::atoi(argv[1]) : 200000;
    p.search_type = rl::random_scheduler_type;
    return rl::simulate<pcp_drain_test>(p) ? 0 : 1;
}
