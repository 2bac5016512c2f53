// SPDX-License-Identifier: MIT
//
// fuzz_interleave: 2-4 threads run op scripts (fuzz_ops's records, op_stream.hpp) against
// one small System built on the deterministic library copy, one thread at a time, switched
// at every shared-memory operation by the schedule in the input (sched/scheduler.hpp). The
// same input replays the same interleaving.
//
// Input: a 4-byte header, then each thread's script, then the schedule bytes.
//   byte 0: threads - 2 (mod 3)        byte 1: PCT depth - 1 (mod 4)
//   byte 2: records per thread - 1 (mod 16)   byte 3: reserved
// The PCT seed is a hash of the whole input.
//
// Ops: alloc, free (on any virtual CPU: two threads on one vCPU contend for its per-CPU
// trylock, one freeing to another CPU's list is a remote free), alloc_nolock and
// free_nolock (which, with the kernel buddy, fail or defer when another thread holds
// zone->lock), drain (drain_all_pages
// against the others' lists), touch, scope save/restore, fail_nth; and the shrinker's
// lifetime against reclaim walks: shrinker_register (a0 slot, a2 pages) and shrinker_free
// (a0 slot) on two slots every thread shares, shrink (drop_slab) and reclaim_step (one
// shrink_slab() pass with the scoped mask). The shrinkers cache pages, so a scan frees pages
// and a walk stops inside it at every scheduling point of the free path, where another
// thread's shrinker_free() can come. The rest (kswapd, planted misuse) is fuzz_ops's
// business and is skipped: direct reclaim's own locks are not swapped in the deterministic
// copy (the shrinker registry's are), so allocations go without __GFP_DIRECT_RECLAIM.
//
// Checked:
//  - a successful allocation overlaps no held block, of this thread or another (I1);
//  - a block's pattern survives until its owner frees it (I1: no page owned twice);
//  - after every op, under each zone's lock, with the kernel buddy: its nr_free counters add
//    up to NR_FREE_PAGES counted exactly (I2) and the cheap count is within the drift bound
//    of it, every per-CPU delta within its threshold (I3); the lock-free backend (run with
//    GFPLAB_BUDDY=lockfree) has no lock that makes a mid-run count exact, and is checked by
//    verify() at the end;
//  - nothing is reported (I13 and the rest of the online oracle);
//  - no shrinker callback runs once shrinker_free() returned, and none is still running
//    when it returns (I15, the liveness token of fuzz/ops/shrinker_liveness.hpp);
//  - at the end, all freed and drained: verify() is clean and free + per-CPU pages equal
//    managed pages in every zone (no page lost).
// GFPLAB_FUZZ_VERBOSE=1 prints every op, its thread and the schedule's statistics.
#include "alloc_check.hpp"
#include "fuzz_target.hpp"
#include "op_stream.hpp"
#include "sched/scheduler.hpp"
#include "shrinker_liveness.hpp"

#include <gfplab/scope.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/system.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace gfplab;
using namespace gfplab::fuzz;

constexpr std::size_t header_size = 4;
constexpr unsigned slots_per_thread = 16;
constexpr unsigned nr_shared_shrinkers = 2; // few, so that frees meet registrations and walks
constexpr int cache_owner = 100;            // owner_ of a page shrinker i caches: 100 + i

const unsigned scope_flags[nr_scope_kinds] = {PF_MEMALLOC_NOFS, PF_MEMALLOC_NOIO, PF_MEMALLOC,
                                              PF_MEMALLOC_PIN};

bool verbose() {
    static const bool v = [] {
        const char *e = std::getenv("GFPLAB_FUZZ_VERBOSE");
        return e && *e && std::strcmp(e, "0") != 0;
    }();
    return v;
}

std::uint64_t fnv1a(const std::uint8_t *p, std::size_t n) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (std::size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

struct slot {
    page *p = nullptr;
    unsigned order = 0;
    std::uint8_t pattern = 0; // every byte of the block, once written (never 0)
};

// A shrinker over order-0 pages, shared by the threads. Only the scheduler's one running
// thread touches it between scheduling points, so its vector needs no lock; what it must
// survive is a thread stopped inside scan (freeing pages) while another frees the shrinker.
class page_shrinker {
  public:
    page_shrinker(System &sys, std::vector<int> &owner, unsigned id, liveness_reporter report)
        : sys_(sys), owner_(owner), id_(id) {
        const std::string name = fmt::format("interleave-{}", id);
        shrinker_ = sys_.shrinkers().alloc(0, name);
        shrinker_liveness::arm(shrinker_, name, std::move(report));
        shrinker_->count_objects = count;
        shrinker_->scan_objects = scan;
        shrinker_->private_data = this;
        sys_.shrinkers().register_shrinker(shrinker_);
    }
    ~page_shrinker() {
        sys_.shrinkers().free(shrinker_);
        shrinker_liveness::retire(shrinker_);
        while (!pages_.empty())
            release(pop());
    }
    page_shrinker(const page_shrinker &) = delete;
    page_shrinker &operator=(const page_shrinker &) = delete;

    // A page the caller allocated and checked: the shrinker owns it from now on.
    void add(page *p) {
        const unsigned long pfn = sys_.page_to_pfn(p);
        owner_[pfn] = cache_owner + int(id_);
        pages_.push_back(p);
    }

  private:
    static unsigned long count(struct shrinker *s, struct shrink_control *) {
        const shrinker_call call(s, "count_objects");
        if (!call)
            return 0;
        auto *self = static_cast<page_shrinker *>(s->private_data);
        return self->pages_.empty() ? SHRINK_EMPTY : self->pages_.size();
    }
    static unsigned long scan(struct shrinker *s, struct shrink_control *sc) {
        const shrinker_call call(s, "scan_objects");
        if (!call)
            return SHRINK_STOP;
        auto *self = static_cast<page_shrinker *>(s->private_data);
        // Taken off the list before the first free: the free path is where this thread stops.
        std::vector<page *> victims;
        while (victims.size() < sc->nr_to_scan && !self->pages_.empty())
            victims.push_back(self->pop());
        for (page *p : victims)
            self->release(p);
        sc->nr_scanned = victims.size();
        return victims.empty() ? SHRINK_STOP : victims.size();
    }
    page *pop() {
        page *p = pages_.back();
        pages_.pop_back();
        owner_[sys_.page_to_pfn(p)] = -1;
        return p;
    }
    void release(page *p) { sys_.free_pages(p, 0); }

    System &sys_;
    std::vector<int> &owner_;
    unsigned id_;
    struct shrinker *shrinker_ = nullptr;
    std::vector<page *> pages_;
};

class harness {
  public:
    harness() : sys_(make_config()) {
        sys_.set_report_sink([this](const violation &v) { reports_.push_back(v); });
        owner_.assign(sys_.max_pfn(), -1);
    }

    void run(const std::uint8_t *data, std::size_t size) {
        if (size < header_size)
            return;
        const unsigned nthreads = 2 + data[0] % 3;
        const std::size_t per_thread = (1 + data[2] % 16) * op_record_size;
        std::vector<std::function<void()>> fns;
        std::size_t off = header_size;
        for (unsigned t = 0; t < nthreads; t++) {
            const std::size_t n = std::min(per_thread, size - off);
            fns.push_back([this, t, s = data + off, n] { script(t, s, n); });
            off += n;
        }
        schedule_params p;
        p.bytes = data + off;
        p.nbytes = size - off;
        p.seed = fnv1a(data, size);
        p.pct_depth = 1 + data[1] % 4;
        const schedule_stats st = run_scheduled(p, std::move(fns));
        if (verbose())
            std::fprintf(stderr,
                         "%u threads: %zu scheduling points, %zu switches, %zu of %zu "
                         "schedule bytes; %u alloc_pages_nolock() failed (%llu finding a "
                         "zone->lock busy)\n",
                         nthreads, st.steps, st.switches, st.bytes_used, p.nbytes, nolock_failed_,
                         static_cast<unsigned long long>(sys_.stats().nolock_busy.load()));
        finish();
    }

  private:
    static system_config make_config() {
        system_config c;
        c.memory_bytes = 16ull << 20;
        c.nodes = 1;
        c.cpus = nr_vcpus;
        c.dma_limit = 4ull << 20;
        c.dma32_limit = 8ull << 20;
        c.pcp = pcp_mode::virtual_cpus;
        c.checking = check_level::full;
        c.poison = true;
        c.on_report = report_action::count;
        c.warn_alloc = false;
        c.kswapd = false;
        return c;
    }

    [[noreturn]] void fail(const std::string &what) {
        std::fprintf(stderr, "fuzz_interleave: %s\n", what.c_str());
        for (const auto &v : reports_)
            std::fprintf(stderr, "  report: %s\n", format_violation(v).c_str());
        std::abort();
    }

    void script(unsigned t, const std::uint8_t *s, std::size_t n) {
        op_decoder d(s, n);
        std::size_t idx = 0;
        std::vector<std::pair<unsigned, unsigned>> scopes;
        while (auto o = d.next(idx)) {
            if (verbose())
                std::fprintf(stderr, "thread %u op %zu: %s\n", t, idx, describe(*o).c_str());
            step(t, idx, *o, scopes);
            if (!reports_.empty())
                fail(fmt::format("thread {} op {} ({}): reported", t, idx, describe(*o)));
            check_counters(fmt::format("after thread {} op {} ({})", t, idx, describe(*o)));
        }
        for (unsigned i = 0; i < slots_per_thread; i++)
            if (slots_[t][i].p)
                free_slot(t, slots_[t][i]);
        while (!scopes.empty()) {
            scope_restore(scopes.back().first, scopes.back().second, __FILE__, __LINE__);
            scopes.pop_back();
        }
        set_current_fail_nth(0);
        set_current_vcpu(0);
    }

    void step(unsigned t, std::size_t idx, const op &o,
              std::vector<std::pair<unsigned, unsigned>> &scopes) {
        // Ops that may allocate pages without a bound keep the reference oracle's floor
        // checks of the other threads' allocations out while they run.
        std::optional<ref::window_guard> unbounded;
        if (o.code != op_code::alloc && o.code != op_code::free && o.code != op_code::drain &&
            o.code != op_code::touch && o.code != op_code::alloc_nolock &&
            o.code != op_code::free_nolock)
            unbounded.emplace(ref_);
        switch (o.code) {
        case op_code::alloc:
            return do_alloc(t, o, scopes);
        case op_code::alloc_nolock:
            return do_alloc_nolock(t, o, scopes);
        case op_code::free:
        case op_code::free_nolock: {
            slot &s = slots_[t][slot_of(o) % slots_per_thread];
            if (s.p) {
                set_current_vcpu(free_vcpu(o));
                free_slot(t, s, o.code == op_code::free_nolock);
            }
            return;
        }
        case op_code::drain:
            sys_.drain_all_pages();
            return;
        case op_code::touch: {
            slot &s = slots_[t][slot_of(o) % slots_per_thread];
            if (!s.p)
                return;
            check_pattern(t, s, "touch");
            s.pattern = std::uint8_t(idx * 2 + 1);
            std::memset(sys_.page_address(s.p), s.pattern, std::size_t(PAGE_SIZE) << s.order);
            return;
        }
        case op_code::scope_save: {
            const unsigned kind = scope_flags[o.arg[0] % nr_scope_kinds];
            scopes.push_back({kind, scope_save(kind, __FILE__, __LINE__)});
            return;
        }
        case op_code::scope_restore:
            if (!scopes.empty()) {
                scope_restore(scopes.back().first, scopes.back().second, __FILE__, __LINE__);
                scopes.pop_back();
            }
            return;
        case op_code::fail_nth:
            set_current_fail_nth(o.arg[0] % 16);
            return;
        case op_code::shrinker_register:
            return register_shrinker(t, o);
        case op_code::shrinker_free: {
            // Out of the slot before the free, which may stop this thread: no other thread
            // can find it there and free it twice.
            std::unique_ptr<page_shrinker> gone =
                std::move(shrinkers_[o.arg[0] % nr_shared_shrinkers]);
            gone.reset();
            return;
        }
        case op_code::shrink:
        case op_code::reclaim_step:
            return reclaim(o);
        default:
            return; // kswapd, planted misuse: see the file comment
        }
    }

    // Registered first, filled next (a walk may already scan it), published last: while it
    // fills, no other thread can see it in the slot, so none can free it under the fill.
    void register_shrinker(unsigned t, const op &o) {
        const unsigned id = o.arg[0] % nr_shared_shrinkers;
        if (shrinkers_[id])
            return;
        auto s = std::make_unique<page_shrinker>(
            sys_, owner_, id, [this](const std::string &what, const std::string &message) {
                fail(fmt::format("I15: {}: {}", what, message));
            });
        set_current_vcpu(o.arg[1] % nr_vcpus);
        for (unsigned i = 0; i < 1u + o.arg[2] % 8u; i++) {
            page *p = sys_.alloc_pages(GFP_NOWAIT | __GFP_NOWARN, 0);
            if (!p)
                break;
            const unsigned long pfn = sys_.page_to_pfn(p);
            if (!sys_.owns(p) || pfn >= sys_.max_pfn())
                fail(fmt::format("thread {}: shrinker page pfn {:#x} outside the map", t, pfn));
            if (owner_[pfn] >= 0)
                fail(fmt::format("thread {}: shrinker page pfn {:#x} is held by {} (I1)", t, pfn,
                                 owner_[pfn]));
            s->add(p);
        }
        if (!shrinkers_[id])
            shrinkers_[id] = std::move(s);
    }

    // drop_slab(), or one shrink_slab() pass as direct reclaim makes it for a mask: with the
    // scopes applied, and not at all without __GFP_DIRECT_RECLAIM or under PF_MEMALLOC.
    void reclaim(const op &o) {
        if (o.code == op_code::shrink) {
            // drop_caches comes from another task: GFP_KERNEL whatever this thread's scopes.
            const unsigned saved = current_task_flags() & scope_mask();
            current_task_flags_clear(saved);
            sys_.shrinkers().drop_slab();
            current_task_flags_set(saved);
            return;
        }
        const gfp_t eff = current_gfp_context(mask_table[o.arg[0] % mask_table.size()].mask);
        if (!(eff & __GFP_DIRECT_RECLAIM) || (current_task_flags() & PF_MEMALLOC))
            return;
        sys_.shrinkers().shrink_slab(eff, 0, o.arg[2] % 13);
    }

    static unsigned scope_mask() {
        unsigned m = 0;
        for (unsigned f : scope_flags)
            m |= f;
        return m;
    }

    // The task flags this thread's own scope saves set (the reference oracle's model).
    static unsigned task_flags_of(const std::vector<std::pair<unsigned, unsigned>> &scopes) {
        unsigned flags = 0;
        for (const auto &sc : scopes)
            flags |= sc.first;
        return flags;
    }

    void do_alloc(unsigned t, const op &o,
                  const std::vector<std::pair<unsigned, unsigned>> &scopes) {
        slot &s = slots_[t][slot_of(o) % slots_per_thread];
        if (s.p)
            free_slot(t, s);
        const unsigned order = alloc_order(o);
        gfp_t gfp = requested_mask(o) & ~(__GFP_NOFAIL | __GFP_DIRECT_RECLAIM);
        if (!gfp_valid(gfp, int(order)))
            return;
        set_current_vcpu(alloc_vcpu(o));
        // The reference oracle: placement and the watermark floor, with the task flags this
        // thread's own saves made (other threads' allocations in flight widen the bound).
        const unsigned flags = task_flags_of(scopes);
        const gfp_t eff = current_gfp_context(gfp);
        ref::alloc_checker::scope checked(
            ref_, {gfp, order, flags,
                   (eff & __GFP_THISNODE) ? ref_.model().cpu_node(current_vcpu()) : -1});
        page *p = sys_.alloc_pages(gfp, order);
        if (p)
            take_block(t, s, p, order, checked);
    }

    // alloc_pages_nolock(): with the kernel buddy it fails whenever another thread holds
    // zone->lock (or this CPU's list), which the scheduler makes happen; what it serves is
    // checked as any block is, and zeroed.
    void do_alloc_nolock(unsigned t, const op &o,
                         const std::vector<std::pair<unsigned, unsigned>> &scopes) {
        slot &s = slots_[t][slot_of(o) % slots_per_thread];
        if (s.p)
            free_slot(t, s);
        const unsigned order = nolock_order(o);
        if (order > PAGE_ALLOC_COSTLY_ORDER)
            return;
        set_current_vcpu(o.arg[3] % nr_vcpus);
        ref::alloc_request request{nolock_mask(o) | __GFP_NOWARN | __GFP_ZERO | __GFP_NOMEMALLOC |
                                       __GFP_COMP,
                                   order, task_flags_of(scopes), -1};
        request.nolock = true;
        ref::alloc_checker::scope checked(ref_, request);
        page *p = sys_.alloc_pages_nolock(nolock_mask(o), -1, order);
        if (!p) {
            nolock_failed_++; // one thread runs at a time: no race
            return;
        }
        const auto *b = static_cast<const std::uint8_t *>(sys_.page_address(p));
        for (std::size_t i = 0; i < (std::size_t(PAGE_SIZE) << order); i++)
            if (b[i])
                fail(fmt::format("thread {}: alloc_pages_nolock() pfn {:#x}: byte {} is {:#x}, "
                                 "not zero (I12)",
                                 t, sys_.page_to_pfn(p), i, b[i]));
        take_block(t, s, p, order, checked);
    }

    void take_block(unsigned t, slot &s, page *p, unsigned order,
                    ref::alloc_checker::scope &checked) {
        for (const ref::finding &f : checked.finish(p))
            fail(fmt::format("thread {}: I{}: {}: {}", t, f.inv, f.what, f.message));
        const unsigned long pfn = sys_.page_to_pfn(p), n = 1ul << order;
        if (!sys_.owns(p) || (pfn & (n - 1)) != 0 || pfn + n > sys_.max_pfn())
            fail(fmt::format("thread {}: pfn {:#x} order {} misaligned or outside", t, pfn, order));
        for (unsigned long i = 0; i < n; i++)
            if (owner_[pfn + i] >= 0)
                fail(fmt::format("thread {}: pfn {:#x} order {} overlaps a block thread {} holds "
                                 "(I1)",
                                 t, pfn, order, owner_[pfn + i]));
        for (unsigned long i = 0; i < n; i++)
            owner_[pfn + i] = int(t);
        s = slot{p, order, 0};
    }

    void check_pattern(unsigned t, const slot &s, const char *when) {
        if (!s.pattern)
            return;
        const auto *b = static_cast<const std::uint8_t *>(sys_.page_address(s.p));
        for (std::size_t i = 0; i < (std::size_t(PAGE_SIZE) << s.order); i++)
            if (b[i] != s.pattern)
                fail(fmt::format("thread {} {}: byte {} of pfn {:#x} is {:#x}, wrote {:#x} (I1)", t,
                                 when, i, sys_.page_to_pfn(s.p), b[i], s.pattern));
    }

    void free_slot(unsigned t, slot &s, bool nolock = false) {
        check_pattern(t, s, "before free");
        const unsigned long pfn = sys_.page_to_pfn(s.p);
        for (unsigned long i = 0; i < (1ul << s.order); i++)
            owner_[pfn + i] = -1;
        if (nolock)
            sys_.free_pages_nolock(s.p, s.order);
        else
            sys_.free_pages(s.p, s.order);
        s = slot{};
    }

    // I2 (buddy part) and I3 while other threads are anywhere: under the zone lock the
    // counters of one zone are consistent with each other.
    void check_counters(const std::string &when) {
        // The lock-free backend keeps no free lists and takes no lock: another thread may be
        // stopped between its count and its bits. verify() at the end covers it.
        if (sys_.buddy() != buddy_backend::kernel)
            return;
        for (int nid = 0; nid < sys_.nr_nodes(); nid++)
            for (auto &z : sys_.node(nid).node_zones) {
                if (!z.populated())
                    continue;
                zone_lock_guard g(z, 0);
                long buddy = 0;
                for (unsigned o = 0; o < NR_PAGE_ORDERS; o++)
                    for (unsigned mt = 0; mt < MIGRATE_TYPES; mt++)
                        buddy += long(z.area[o].nr_free[mt].load(std::memory_order_relaxed)) << o;
                const long exact = z.page_state_snapshot(NR_FREE_PAGES);
                const long cheap = z.vm_stat[NR_FREE_PAGES].load(std::memory_order_relaxed);
                if (buddy != exact)
                    fail(fmt::format("{}: {} free lists hold {} pages, NR_FREE_PAGES {} (I2)", when,
                                     z.name, buddy, exact));
                if (cheap - exact > z.drift_bound() || exact - cheap > z.drift_bound())
                    fail(fmt::format("{}: {} NR_FREE_PAGES {} vs exact {}, bound {} (I3)", when,
                                     z.name, cheap, exact, z.drift_bound()));
            }
    }

    void finish() {
        for (auto &s : shrinkers_)
            s.reset();
        sys_.drain_all_pages();
        auto v = sys_.verify();
        if (!v.empty())
            fail("verify() at the end: " + format_violation(v.front()));
        if (!reports_.empty())
            fail("reported at the end");
        for (int nid = 0; nid < sys_.nr_nodes(); nid++)
            for (auto &z : sys_.node(nid).node_zones) {
                if (!z.populated())
                    continue;
                const long free = z.page_state_snapshot(NR_FREE_PAGES);
                const unsigned long pcp = sys_.pcp_count(z);
                if (free + long(pcp) != long(z.managed_pages))
                    fail(fmt::format("{}: free {} + pcp {} != managed {} (a page lost)", z.name,
                                     free, pcp, z.managed_pages));
            }
    }

    System sys_;
    ref::alloc_checker ref_{sys_, false}; // threads interleave inside counter updates
    std::vector<violation> reports_;
    std::vector<int> owner_; // pfn -> holding thread, -1 when free (the reference model)
    slot slots_[4][slots_per_thread];
    std::unique_ptr<page_shrinker> shrinkers_[nr_shared_shrinkers];
    unsigned nolock_failed_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    harness h;
    h.run(data, size);
    return 0;
}
