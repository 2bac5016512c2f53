// SPDX-License-Identifier: MIT
#include "executor.hpp"

#include "fuzz_shrinker.hpp"

#include <alloc_check.hpp>

#include <gfplab/alloc_flags.hpp>
#include <gfplab/caches.hpp>
#include <gfplab/kvfree_rcu.hpp>
#include <gfplab/lockdep.hpp>
#include <gfplab/memcontrol.hpp>
#include <gfplab/page_cache.hpp>
#include <gfplab/rcu.hpp>
#include <gfplab/scope.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/slab.hpp>
#include <gfplab/system.hpp>
#include <gfplab/vmalloc.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace gfplab::fuzz {

std::string format_failure(const failure &f) {
    const std::string where =
        f.at_end ? std::string("end of input") : fmt::format("op {} ({})", f.index, f.op);
    return f.invariant ? fmt::format("{}: I{}: {}", where, f.invariant, f.what)
                       : fmt::format("{}: {}", where, f.what);
}

namespace {

struct slot {
    page *p = nullptr;
    unsigned order = 0;
    unsigned memcg = 0;       // the group the block is charged to (0: none)
    bool has_pattern = false; // the block's bytes are all `pattern`
    std::uint8_t pattern = 0;
};

// A kmalloc'd object a stream holds: its first `size` bytes are all `pattern`.
struct object_slot {
    std::uint8_t *p = nullptr;
    std::size_t size = 0;
    std::uint8_t pattern = 0;
};

const unsigned scope_flags[nr_scope_kinds] = {PF_MEMALLOC_NOFS, PF_MEMALLOC_NOIO, PF_MEMALLOC,
                                              PF_MEMALLOC_PIN};
constexpr unsigned all_scope_flags =
    PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO | PF_MEMALLOC | PF_MEMALLOC_PIN;

// Limits of the stream's groups (pages; 0: none): small enough for charges to fail.
constexpr std::uint64_t memcg_limits[nr_memcgs] = {0, 16, 0, 1};

// Process-wide classes: lockdep numbers classes for the life of the process, so a class
// per input would grow its tables without end.
lock_class &stream_lock_class(unsigned i) {
    static lock_class *const classes[nr_lock_classes] = {new lock_class("fuzz-inode->i_rwsem"),
                                                         new lock_class("fuzz-sb->s_umount"),
                                                         new lock_class("fuzz-journal")};
    return *classes[i];
}

// Thrown by fail(): unwinds the op to execute_ops(), where the harness is torn down.
struct stream_failed {};

void on_scope_mismatch(const scope_mismatch &m, void *ctx) {
    // The harness restores only what it saved, innermost first: any mismatch is a bug in
    // the scope bookkeeping, counted here and turned into a failure by the op loop.
    static_cast<std::vector<std::string> *>(ctx)->push_back(m.message);
}

class harness {
  public:
    explicit harness(const op_observer &observe) : sys_(make_config()), observe_(observe) {
        sys_.set_report_sink([this](const violation &v) { reports_.push_back(v); });
        owned_.assign(sys_.max_pfn(), false);
        set_scope_report_handler(on_scope_mismatch, &scope_reports_);
        lockdep_reset();
        set_lockdep_report_handler(
            [this](const lockdep_report &r) { lockdep_reports_.push_back(r.message); });
        for (unsigned g = 1; g < nr_memcgs; g++)
            memcg_ids_[g] = sys_.mem_cgroup_create(fmt::format("fuzz-{}", g), memcg_limits[g]);
        for (unsigned i = 0; i < nr_lock_classes; i++)
            locks_[i] = std::make_unique<Lock>(stream_lock_class(i));
        sys_.fault_injection().set_verbose(0);
    }
    ~harness() {
        // Inputs must not leak thread state into the next one, failed or not.
        while (!held_.empty()) {
            locks_[held_.back()]->unlock();
            held_.pop_back();
        }
        shrinkers_ = {};
        cache_.reset();
        reset_task_scope();
        set_current_fail_nth(0);
        set_current_vcpu(0);
        set_active_memcg(root_mem_cgroup);
        set_scope_report_handler(nullptr);
        set_lockdep_report_handler({});
    }
    harness(const harness &) = delete;
    harness &operator=(const harness &) = delete;

    std::optional<failure> run(const std::uint8_t *data, std::size_t size) {
        try {
            op_decoder d(data, size);
            std::size_t idx = 0;
            while (auto o = d.next(idx)) {
                idx_ = idx;
                op_ = *o;
                outcome_.clear();
                const std::size_t before = reports_.size();
                const std::size_t expected = step(*o);
                if (observe_)
                    observe_(op_result{
                        idx, *o, outcome_,
                        std::vector<violation>(reports_.begin() + long(before), reports_.end())});
                if (reports_.size() - before != expected)
                    fail(reports_.size() > before ? id(reports_.back().inv) : 0,
                         fmt::format("expected {} report(s), got {}", expected,
                                     reports_.size() - before));
                after_op();
            }
            finish();
        } catch (const stream_failed &) {
            return failure_;
        }
        return std::nullopt;
    }

  private:
    static system_config make_config() {
        system_config c;
        c.memory_bytes = 32ull << 20;
        c.nodes = nr_nodes;
        c.cpus = nr_vcpus;
        // All three low zones populated: DMA below 4 MiB, DMA32 up to 16 MiB, NORMAL above.
        c.dma_limit = 4ull << 20;
        c.dma32_limit = 16ull << 20;
        c.pcp = pcp_mode::virtual_cpus;
        c.checking = check_level::full;
        c.poison = true;
        c.on_report = report_action::count;
        c.warn_alloc = false;
        c.kswapd = false; // kswapd_step runs it on this thread: no thread outlives an input
        c.kfree_rcu_thread = false; // the same for kvfree_rcu's monitor (kvfree_rcu_monitor)
        return c;
    }

    [[noreturn]] void fail(int invariant, std::string what) {
        failure_.at_end = at_end_;
        failure_.index = idx_;
        failure_.op = at_end_ ? std::string() : describe(op_);
        failure_.what = std::move(what);
        failure_.invariant = invariant;
        failure_.reports = reports_;
        throw stream_failed{};
    }

    // What every op must leave behind, whatever it was.
    void after_op() {
        if (!scope_reports_.empty())
            fail(8, "unplanned scope mismatch: " + scope_reports_.front());
        if (!lockdep_reports_.empty())
            fail(9, "unplanned lockdep report: " + lockdep_reports_.front());
        for (const auto &s : shrinkers_)
            if (s && !s->context_error().empty())
                fail(8, s->context_error());
        if (!liveness_errors_.empty())
            fail(15, liveness_errors_.front());
        check_memcg();
    }

    void check_verify(const char *when) {
        const std::size_t before = reports_.size();
        auto v = sys_.verify();
        if (!v.empty())
            fail(id(v.front().inv),
                 fmt::format("verify() {}: {}", when, format_violation(v.front())));
        if (reports_.size() != before)
            fail(id(reports_.back().inv),
                 fmt::format("verify() {} reported: {}", when, format_violation(reports_.back())));
    }

    // Every group's usage is the pages the model charged it (the allocation checks that
    // only forced charges went past a limit) and the pages its slab objects' bytes took: the
    // objects' bytes, the bytes set aside when a CPU's stock changed hands, and what the CPU
    // stocks hold (less than an object and a page each, an object at most two pages and a
    // word; none after drain_all_stock(), `drained`).
    void check_memcg(bool drained = false) {
        for (unsigned g = 1; g < nr_memcgs; g++) {
            const mem_cgroup *m = sys_.memcg(memcg_ids_[g]);
            const std::uint64_t usage = m->usage_pages.load() * PAGE_SIZE;
            const std::uint64_t objects = m->slab_reclaimable.load() +
                                          m->slab_unreclaimable.load() + m->nr_charged_bytes.load();
            const std::uint64_t low = memcg_usage_[g] * PAGE_SIZE + objects;
            const std::uint64_t high = low + (drained ? 0 : 4 * PAGE_SIZE * nr_vcpus);
            if (usage < low || usage > high)
                fail(2, fmt::format("memcg {}: usage {} pages, the model charged {} and its slab "
                                    "objects hold {} bytes{}",
                                    m->name, usage / PAGE_SIZE, memcg_usage_[g], objects,
                                    drained ? " (CPU stocks drained)" : ""));
        }
    }

    // Balanced for any order-0 request kswapd could have recorded, judged from the zones
    // alone (pgdat_balanced() is any eligible zone above its high watermark): the node's
    // lowest zone, eligible for every request that has an eligible zone at all, is above
    // high plus its largest lowmem reserve, highatomic reserves aside, with no boost to
    // reclaim for anywhere on the node.
    bool plainly_balanced(int nid) {
        const pglist_data &pgdat = sys_.node(nid);
        const zone *lowest = nullptr;
        for (const zone &z : pgdat.node_zones) {
            if (!z.populated())
                continue;
            if (z.watermark_boost.load(std::memory_order_relaxed))
                return false;
            if (!lowest)
                lowest = &z;
        }
        if (!lowest)
            return true;
        const long reserve =
            *std::max_element(lowest->lowmem_reserve.begin(), lowest->lowmem_reserve.end());
        const long usable = lowest->page_state_snapshot(NR_FREE_PAGES) -
                            lowest->nr_free_highatomic.load(std::memory_order_relaxed);
        return usable > long(lowest->high_wmark_pages()) + reserve;
    }

    // The I9 reports a valid allocation with this mask must make: one per (held declared
    // lock, shrinker) pair not reported before in this System, when it may reclaim.
    std::size_t expected_recursion_reports(gfp_t gfp) {
        const gfp_t eff = current_gfp_context(gfp);
        if (held_.empty() || !(eff & __GFP_DIRECT_RECLAIM) || (current_task_flags() & PF_MEMALLOC))
            return 0;
        std::size_t n = 0;
        for (const auto &s : shrinkers_) {
            if (!s || !s->lock() || (eff & s->when()) != s->when() || !current_holds(*s->lock()))
                continue;
            if (hazards_.insert({s->lock()->id(), s->name()}).second)
                n++;
        }
        return n;
    }

    void mark(const slot &s, bool held) {
        const unsigned long pfn = sys_.page_to_pfn(s.p);
        for (unsigned long i = 0; i < (1ul << s.order); i++)
            owned_[pfn + i] = held;
    }

    void check_pattern(const slot &s, const char *when) {
        if (!s.has_pattern)
            return;
        const auto *b = static_cast<const std::uint8_t *>(sys_.page_address(s.p));
        const std::size_t n = std::size_t(PAGE_SIZE) << s.order;
        for (std::size_t i = 0; i < n; i++)
            if (b[i] != s.pattern)
                fail(s.pattern ? 1 : 12,
                     fmt::format("{}: byte {} of pfn {:#x} order {} is {:#x}, expected {:#x}", when,
                                 i, sys_.page_to_pfn(s.p), s.order, b[i], s.pattern));
    }

    // Runs fn as another task would (drop_caches from userspace, the kswapd thread): without
    // this thread's scope flags, which are put back exactly afterwards.
    template <class Fn>
    void as_other_task(Fn fn) {
        const unsigned saved = current_task_flags() & all_scope_flags;
        current_task_flags_clear(saved);
        fn();
        current_task_flags_set(saved);
    }

    // Returns how many reports the op must produce.
    std::size_t step(const op &o) {
        switch (o.code) {
        case op_code::alloc:
            return do_alloc(o);
        case op_code::alloc_nolock:
            return do_alloc_nolock(o);
        case op_code::free_nolock:
        case op_code::free: {
            slot &s = slots_[slot_of(o)];
            if (!s.p)
                return outcome_ = "empty slot", 0;
            set_current_vcpu(free_vcpu(o));
            free_slot(s, o.code == op_code::free_nolock);
            outcome_ = "freed";
            return 0;
        }
        case op_code::free_wrong_order: {
            slot &s = slots_[slot_of(o)];
            if (!s.p)
                return outcome_ = "empty slot", 0;
            set_current_vcpu(free_vcpu(o));
            const unsigned delta = 1 + o.arg[2] % MAX_PAGE_ORDER; // never 0: a wrong order
            const std::size_t before = reports_.size();
            sys_.free_pages(s.p, (s.order + delta) % (MAX_PAGE_ORDER + 1));
            expect_planted(before, "wrong-order free");
            check_pattern(s, "after a refused wrong-order free");
            outcome_ = "refused";
            return 1;
        }
        case op_code::double_free: {
            slot &s = slots_[slot_of(o)];
            if (!s.p)
                return outcome_ = "empty slot", 0;
            set_current_vcpu(free_vcpu(o));
            page *p = s.p;
            const unsigned order = s.order;
            free_slot(s);
            const std::size_t before = reports_.size();
            sys_.free_pages(p, order);
            expect_planted(before, "double free");
            outcome_ = "second free refused";
            return 1;
        }
        case op_code::scope_save: {
            const unsigned kind = scope_flags[o.arg[0] % nr_scope_kinds];
            const unsigned before = current_task_flags();
            scopes_.push_back({kind, scope_save(kind, __FILE__, __LINE__), before});
            outcome_ = fmt::format("flags {}", task_flags_name(current_task_flags()));
            return 0;
        }
        case op_code::scope_restore:
            if (scopes_.empty())
                return outcome_ = "no open scope", 0;
            restore_innermost();
            outcome_ = fmt::format("flags {}", task_flags_name(current_task_flags()));
            return 0;
        // After the ops that move many pages at once the System is quiescent (one thread)
        // and the full recount is worth its O(pages): I2 must hold with allocations held.
        case op_code::drain:
            sys_.drain_all_pages();
            check_verify("after drain");
            return 0;
        case op_code::kswapd_step: {
            const int nid = int(o.arg[0] % unsigned(sys_.nr_nodes()));
            const kswapd_stats before = sys_.kswapd_statistics(nid);
            const bool balanced = before.order == 0 && plainly_balanced(nid);
            unsigned long n = 0;
            as_other_task([&] { n = sys_.kswapd_run_once(nid); });
            outcome_ = fmt::format("{} pages reclaimed", n);
            // I14: balance_pgdat() on a balanced node leaves at once and counts no failure.
            if (balanced && sys_.kswapd_statistics(nid).failures > before.failures)
                fail(14, fmt::format("kswapd counted a failure on node {}, balanced before the "
                                     "run (failures {} -> {})",
                                     nid, before.failures, sys_.kswapd_statistics(nid).failures));
            check_verify("after kswapd");
            return 0;
        }
        case op_code::fail_nth:
            set_current_fail_nth(o.arg[0] % 16);
            return 0;
        case op_code::shrink: {
            unsigned long n = 0;
            as_other_task([&] { n = sys_.shrinkers().drop_slab(); });
            outcome_ = fmt::format("{} objects freed", n);
            check_verify("after shrink");
            return 0;
        }
        case op_code::touch: {
            slot &s = slots_[slot_of(o)];
            if (!s.p)
                return outcome_ = "empty slot", 0;
            check_pattern(s, "touch");
            s.pattern = std::uint8_t(idx_ * 2 + 1); // never 0: tells a write from a zero fill
            s.has_pattern = true;
            std::memset(sys_.page_address(s.p), s.pattern, std::size_t(PAGE_SIZE) << s.order);
            return 0;
        }
        case op_code::lock_take: {
            const unsigned c = o.arg[0] % nr_lock_classes;
            if (current_holds(stream_lock_class(c)))
                return outcome_ = "already held", 0;
            locks_[c]->lock();
            held_.push_back(c);
            return 0;
        }
        case op_code::lock_release:
            if (held_.empty())
                return outcome_ = "nothing held", 0;
            locks_[held_.back()]->unlock();
            held_.pop_back();
            return 0;
        case op_code::shrinker_register: {
            auto &s = shrinkers_[o.arg[0] % nr_shrinker_slots];
            const unsigned c = o.arg[1] % (nr_lock_classes + 1);
            s.reset();
            s = std::make_unique<fuzz_shrinker>(
                sys_.shrinkers(), fmt::format("fuzz-shrinker-{}", o.arg[0] % nr_shrinker_slots),
                unsigned(o.arg[2]) * 8, c < nr_lock_classes ? &stream_lock_class(c) : nullptr,
                o.arg[3] & 1 ? __GFP_IO : __GFP_FS,
                [this](const std::string &what, const std::string &message) {
                    liveness_errors_.push_back(what + ": " + message); // I15, after the op
                });
            return 0;
        }
        case op_code::shrinker_free:
            shrinkers_[o.arg[0] % nr_shrinker_slots].reset();
            return 0;
        case op_code::page_cache_add: {
            const gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_NORETRY;
            const std::size_t expected = expected_recursion_reports(gfp);
            const int nid = o.arg[1] % sys_.nr_nodes();
            const cache_page_id id = o.arg[0] & 2
                                         ? sys_.page_cache().add_anon(nid, gfp)
                                         : sys_.page_cache().add_file(o.arg[0] & 1, nid, gfp);
            outcome_ = id ? fmt::format("page {}", cache_pages_.size()) : "allocation failed";
            if (id)
                cache_pages_.push_back(id);
            return expected;
        }
        case op_code::page_cache_dirty:
            if (cache_pages_.empty())
                return outcome_ = "no cached page", 0;
            outcome_ = sys_.page_cache().mark_dirty(cache_pages_[o.arg[0] % cache_pages_.size()])
                           ? "dirtied"
                           : "gone or anon";
            return 0;
        case op_code::cache_fill: {
            // Created on first use, so that streams without this op run with no shrinker.
            if (!cache_)
                cache_ = std::make_unique<object_cache>(sys_, "fuzz");
            const gfp_t gfp = GFP_KERNEL | __GFP_NORETRY;
            std::size_t expected = 0;
            unsigned added = 0;
            for (unsigned i = 0; i < 1 + o.arg[0] % 8u; i++) {
                expected += expected_recursion_reports(gfp | __GFP_RECLAIMABLE);
                added += cache_->add(gfp);
            }
            outcome_ = fmt::format("{} added, {} cached", added, cache_->size());
            return expected;
        }
        case op_code::reclaim_step:
            return reclaim_step(o);
        case op_code::fault_inject: {
            auto &f = sys_.fault_injection();
            f.set_probability(o.arg[0] % 101);
            f.set_interval(o.arg[1] % 8);
            f.set_times(o.arg[2] % 16 ? int(o.arg[2] % 16) : -1);
            return 0;
        }
        case op_code::kmalloc:
            return do_kmalloc(o);
        case op_code::kfree: {
            object_slot &s = objects_[o.arg[0] % nr_slots];
            if (!s.p)
                return outcome_ = "empty slot", 0;
            set_current_vcpu(o.arg[1] % nr_vcpus);
            free_object(s);
            outcome_ = "freed";
            return 0;
        }
        case op_code::kfree_double: {
            object_slot &s = objects_[o.arg[0] % nr_slots];
            if (!s.p)
                return outcome_ = "empty slot", 0;
            set_current_vcpu(o.arg[1] % nr_vcpus);
            void *p = s.p;
            const bool large = s.size > KMALLOC_MAX_CACHE_SIZE;
            free_object(s);
            const std::size_t before = reports_.size();
            kfree(sys_, p);
            // A slab object: I17's double free; a large kmalloc's pages are free pages now.
            expect_planted(before, large ? "kfree of a page" : "double free");
            outcome_ = "second kfree refused";
            return 1;
        }
        case op_code::memcg_switch:
            set_active_memcg(memcg_ids_[o.arg[0] % nr_memcgs]);
            return 0;
        case op_code::kfree_rcu:
            return do_kfree_rcu(o);
        case op_code::kvfree_rcu_barrier:
            kvfree_rcu_barrier(sys_);
            check_rcu_counts("after kvfree_rcu_barrier");
            check_verify("after kvfree_rcu_barrier");
            return 0;
        case op_code::kvmalloc:
            return do_kvmalloc(o);
        case op_code::pressure:
            if (o.arg[3] & 1)
                release_ballast();
            else
                take_ballast(o);
            return 0;
        case op_code::vfree_bad: {
            object_slot &s = objects_[o.arg[0] % nr_slots];
            if (!s.p)
                return outcome_ = "empty slot", 0;
            const std::size_t before = reports_.size();
            const bool area = is_vmalloc_addr(sys_, s.p);
            vfree(sys_, area ? s.p + PAGE_SIZE / 2 : s.p);
            expect_planted(before, "vfree of a bad address");
            check_object(s, "after a refused vfree");
            outcome_ = area ? "vfree inside an area refused" : "vfree of a kmalloc object refused";
            return 1;
        }
        case op_code::kvfree_rcu_monitor:
            outcome_ = fmt::format("{} freed", kvfree_rcu_run_monitor(sys_));
            forget_elapsed();
            check_verify("after a kvfree_rcu monitor round");
            return 0;
        }
        return 0;
    }

    // One direct-reclaim pass over the shrinkers as __perform_reclaim() would make it for an
    // allocation with this mask: not at all from PF_MEMALLOC or without DIRECT_RECLAIM.
    std::size_t reclaim_step(const op &o) {
        const gfp_t eff = current_gfp_context(mask_table[o.arg[0] % mask_table.size()].mask);
        if (!(eff & __GFP_DIRECT_RECLAIM) || (current_task_flags() & PF_MEMALLOC))
            return outcome_ = "no direct reclaim here", 0;
        fs_reclaim_acquire(eff);
        const unsigned long n =
            sys_.shrinkers().shrink_slab(eff, o.arg[1] % sys_.nr_nodes(), o.arg[2] % 13);
        fs_reclaim_release(eff);
        outcome_ = fmt::format("{} objects freed with {}", n, gfp_describe(eff));
        check_verify("after reclaim");
        return 0;
    }

    // current->flags as this harness's own saves and restores made them.
    unsigned model_task_flags() const noexcept {
        unsigned flags = 0;
        for (const open_scope &o : scopes_)
            flags |= o.kind;
        return flags;
    }

    void restore_innermost() {
        const auto [kind, saved, before] = scopes_.back();
        scopes_.pop_back();
        scope_restore(kind, saved, __FILE__, __LINE__);
        if (current_task_flags() != before)
            fail(8, fmt::format("restore of {} left flags {}, the save found {}",
                                task_flags_name(kind), task_flags_name(current_task_flags()),
                                task_flags_name(before)));
    }

    void expect_planted(std::size_t before, const char *what) {
        if (reports_.size() - before != 1)
            fail(reports_.size() > before ? id(reports_.back().inv) : 13,
                 fmt::format("planted {} produced {} report(s), expected 1", what,
                             reports_.size() - before));
        check_verify(fmt::format("after a planted {}", what).c_str());
    }

    // The stream's objects by address, to see a new one overlap a held one (I17).
    void check_object(const object_slot &s, const char *when) {
        for (std::size_t i = 0; i < s.size; i++)
            if (s.p[i] != s.pattern)
                fail(17, fmt::format("{}: byte {} of the {}-byte object {} is {:#x}, expected "
                                     "{:#x}",
                                     when, i, s.size, fmt::ptr(s.p), s.p[i], s.pattern));
    }

    void free_object(object_slot &s) {
        check_object(s, "before kfree");
        object_ranges_.erase(reinterpret_cast<std::uintptr_t>(s.p));
        kvfree(sys_, s.p);
        s = object_slot{};
    }

    // kfree_rcu(): the object leaves the stream now, and must stay allocated until a grace
    // period that began after this call has ended (I20).
    std::size_t do_kfree_rcu(const op &o) {
        object_slot &s = objects_[o.arg[0] % nr_slots];
        if (!s.p)
            return outcome_ = "empty slot", 0;
        set_current_vcpu(o.arg[1] % nr_vcpus);
        check_object(s, "before kfree_rcu");
        const auto a = reinterpret_cast<std::uintptr_t>(s.p);
        const std::uintptr_t end = object_ranges_[a];
        object_ranges_.erase(a);
        rcu_pending_.push_back({a, end, rcu::get_state()});
        rcu_calls_++;
        if ((o.arg[2] & 1) || s.size < sizeof(rcu::head))
            kvfree_rcu_mightsleep(sys_, s.p);
        else
            kvfree_call_rcu(sys_, reinterpret_cast<rcu::head *>(s.p), s.p);
        s = object_slot{};
        outcome_ = "queued";
        return 0;
    }

    // Pending objects whose grace period has ended may have been freed: forget them.
    void forget_elapsed() {
        std::erase_if(rcu_pending_, [](const rcu_object &r) { return rcu::poll_state(r.cookie); });
    }

    // After kvfree_rcu_barrier(): everything the stream queued is freed, nothing pending.
    void check_rcu_counts(const char *when) {
        const kvfree_rcu_stats st = kvfree_rcu_statistics(sys_);
        if (st.pending || st.queued + st.synchronous != rcu_calls_ || st.freed != st.queued)
            fail(20,
                 fmt::format("{}: {} kvfree_rcu calls, the System queued {} (+{} inline), "
                             "freed {}, {} pending",
                             when, rcu_calls_, st.queued, st.synchronous, st.freed, st.pending));
        rcu_pending_.clear();
    }

    // kvmalloc() or vmalloc() of a big table, with the stream holding no lock (the pages'
    // and page tables' I9 hazards are not modelled here) and no memcg charge.
    std::size_t do_kvmalloc(const op &o) {
        if (!held_.empty())
            return outcome_ = "locks held: skipped", 0;
        object_slot &s = objects_[o.arg[4] % nr_slots];
        if (s.p)
            free_object(s);
        const std::size_t size = kvmalloc_size(o);
        // Finite (op_stream.hpp) with the modifier kvmalloc supports for it: vmalloc's
        // order-0 pages would otherwise wait for ever once the stream holds all memory.
        const gfp_t gfp = run_kvmalloc_mask(o);
        if (!gfp_valid(gfp, 0))
            return outcome_ = "mask skipped", 0;
        set_current_vcpu(o.arg[5] % nr_vcpus);
        const bool direct = (o.arg[1] & 2) && (gfp & __GFP_DIRECT_RECLAIM);
        // kvmalloc's kmalloc attempt reports what kmalloc would: slab bug bits, and a large
        // kmalloc's mask the page allocator refuses (then vmalloc may still serve it).
        std::size_t expected = 0;
        if (!direct) {
            const gfp_t k = kmalloc_gfp_adjust(gfp, size);
            expected = (k & GFP_SLAB_BUG_MASK) ? 1 : 0;
            unsigned order = 0;
            while ((PAGE_SIZE << order) < size)
                order++;
            if (size > KMALLOC_MAX_CACHE_SIZE &&
                !gfp_valid((k & ~GFP_SLAB_BUG_MASK) | __GFP_COMP, int(order)))
                expected++;
        }
        auto *p = static_cast<std::uint8_t *>(direct ? vmalloc_node(sys_, size, gfp, -1)
                                                     : kvmalloc(sys_, size, gfp));
        if (!p)
            return outcome_ = "NULL", expected;
        const bool area = is_vmalloc_addr(sys_, p);
        if (direct && !area)
            fail(16, fmt::format("vmalloc({}) = {}: not a vmalloc address", size, fmt::ptr(p)));
        if (area && !(gfp & __GFP_DIRECT_RECLAIM))
            fail(11, fmt::format("kvmalloc({}, {}) fell back to vmalloc without direct reclaim",
                                 size, gfp_describe(gfp)));
        if (area && size <= PAGE_SIZE && !direct)
            fail(11, fmt::format("kvmalloc({}) fell back to vmalloc for a page or less", size));
        if (gfp & __GFP_ZERO)
            for (std::size_t i = 0; i < size; i++)
                if (p[i])
                    fail(12, fmt::format("kvmalloc({}, __GFP_ZERO) = {}: byte {} is {:#x}", size,
                                         fmt::ptr(p), i, p[i]));
        const std::size_t usable = area ? vmalloc_size(sys_, p) : ksize(sys_, p);
        if (usable < size)
            fail(17, fmt::format("kvmalloc({}) = {}: only {} usable", size, fmt::ptr(p), usable));
        s = object_slot{p, size, std::uint8_t(o.arg[6] | 1)};
        std::memset(p, s.pattern, size);
        // An area's pages are System pages holding what was written through the area.
        if (area)
            for (std::size_t off = 0; off < size; off += PAGE_SIZE) {
                page *pg = vmalloc_to_page(sys_, p + off);
                if (!pg || !sys_.owns(pg) ||
                    *static_cast<std::uint8_t *>(sys_.page_address(pg)) != s.pattern)
                    fail(1, fmt::format("vmalloc area {}: page at offset {} is not the System "
                                        "page written through it",
                                        fmt::ptr(p), off));
            }
        const auto a = reinterpret_cast<std::uintptr_t>(p);
        auto next = object_ranges_.lower_bound(a);
        if ((next != object_ranges_.end() && next->first < a + usable) ||
            (next != object_ranges_.begin() && std::prev(next)->second > a))
            fail(17, fmt::format("kvmalloc({}) = {} overlaps an object the stream holds", size,
                                 fmt::ptr(p)));
        object_ranges_[a] = a + usable;
        outcome_ = fmt::format("{} ({})", fmt::ptr(p), area ? "vmalloc" : "kmalloc");
        return expected;
    }

    std::size_t do_kmalloc(const op &o) {
        object_slot &s = objects_[o.arg[4] % nr_slots];
        if (s.p)
            free_object(s);
        const std::size_t size = kmalloc_size(o);
        // Finite for the same reason as finite_mask(): a GFP_NOFS kmalloc with the stream
        // holding all memory would wait for ever for a slab page.
        const gfp_t gfp = run_kmalloc_mask(o);
        set_current_vcpu(o.arg[5] % nr_vcpus);
        // What must be reported: the slab bug bits (kmalloc_fix_flags), a large kmalloc's
        // mask the page allocator refuses once they are gone, the I9 hazards of the mask.
        std::size_t expected = (gfp & GFP_SLAB_BUG_MASK) ? 1 : 0;
        const gfp_t fixed = gfp & ~GFP_SLAB_BUG_MASK;
        unsigned order = 0;
        while ((PAGE_SIZE << order) < size)
            order++;
        const bool refused =
            size > KMALLOC_MAX_CACHE_SIZE && !gfp_valid(fixed | __GFP_COMP, int(order));
        expected += refused;
        if (!refused)
            expected += expected_recursion_reports(fixed);
        auto *p = static_cast<std::uint8_t *>(kmalloc(sys_, size, gfp));
        if (!p) {
            if (refused)
                return outcome_ = "refused", expected;
            return outcome_ = "NULL", expected;
        }
        if (refused)
            fail(16, fmt::format("kmalloc({}) with a mask the page allocator refuses gave {}", size,
                                 fmt::ptr(p)));
        if (!sys_.virt_to_page(p))
            fail(17, fmt::format("kmalloc({}) = {}: not memory of the System", size, fmt::ptr(p)));
        const std::size_t usable = ksize(sys_, p);
        if (usable < size)
            fail(17, fmt::format("kmalloc({}) = {}: ksize {}", size, fmt::ptr(p), usable));
        if ((size & (size - 1)) == 0 && size <= KMALLOC_MAX_CACHE_SIZE &&
            reinterpret_cast<std::uintptr_t>(p) % size)
            fail(17, fmt::format("kmalloc({}) = {}: not aligned to its power-of-two size", size,
                                 fmt::ptr(p)));
        if (gfp & __GFP_ZERO)
            for (std::size_t i = 0; i < size; i++)
                if (p[i])
                    fail(12, fmt::format("kmalloc({}, __GFP_ZERO) = {}: byte {} is {:#x}", size,
                                         fmt::ptr(p), i, p[i]));
        // No held object may share a byte with the new one, nor one that still waits for
        // its grace period (I20).
        const auto a = reinterpret_cast<std::uintptr_t>(p);
        for (const rcu_object &r : rcu_pending_)
            if (r.start < a + usable && a < r.end && !rcu::poll_state(r.cookie))
                fail(20, fmt::format("kmalloc({}) = {} reuses a kfree_rcu() object before its "
                                     "grace period ended",
                                     size, fmt::ptr(p)));
        forget_elapsed();
        auto next = object_ranges_.lower_bound(a);
        if ((next != object_ranges_.end() && next->first < a + usable) ||
            (next != object_ranges_.begin() && std::prev(next)->second > a))
            fail(17, fmt::format("kmalloc({}) = {} overlaps an object the stream holds", size,
                                 fmt::ptr(p)));
        object_ranges_[a] = a + usable;
        s = object_slot{p, size, std::uint8_t(o.arg[6] | 1)};
        std::memset(p, s.pattern, size);
        outcome_ = fmt::format("{} (ksize {})", fmt::ptr(p), usable);
        return expected;
    }

    void free_slot(slot &s, bool nolock = false) {
        check_pattern(s, "before free");
        mark(s, false);
        if (nolock)
            sys_.free_pages_nolock(s.p, s.order);
        else
            sys_.free_pages(s.p, s.order);
        memcg_usage_[s.memcg] -= s.memcg ? 1u << s.order : 0;
        s = slot{};
    }

    // Ballast down to WMARK_MIN + distance in one zone: the blocks (largest first, so that
    // a few dozen calls do it) come from inside a PF_MEMALLOC scope, which ignores the
    // watermarks as the ballast must and never enters reclaim, so nothing else moves. The
    // mask may sleep, or a high-order request would set a highatomic pageblock aside, and
    // the free pages left would be out of reach of most requests. A block the zonelist
    // found in another zone (above its watermark, it comes first) is held until the end,
    // so that the zone runs out of such neighbours.
    void take_ballast(const op &o) {
        const int nid = o.arg[0] % sys_.nr_nodes();
        const zone_type zt = pressure_zone(o);
        const zone &z = sys_.node(nid).node_zones[zt];
        if (!z.populated())
            return void(outcome_ = "zone not populated");
        for (unsigned v = 0; v < nr_vcpus; v++)
            if (sys_.cpu_to_node(v) == nid) {
                set_current_vcpu(v);
                break;
            }
        const gfp_t gfp = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN | __GFP_THISNODE |
                          (zt == ZONE_DMA     ? __GFP_DMA
                           : zt == ZONE_DMA32 ? __GFP_DMA32
                                              : 0);
        const unsigned saved = scope_save(PF_MEMALLOC, __FILE__, __LINE__);
        const long target = long(z._watermark[WMARK_MIN]) + std::int8_t(o.arg[2]);
        unsigned order = MAX_PAGE_ORDER;
        std::vector<slot> elsewhere;
        for (unsigned calls = 0; calls < 512; calls++) {
            const long free = z.page_state_snapshot(NR_FREE_PAGES);
            if (free <= target)
                break;
            while (order > 0 && (1l << order) > free - target)
                order--;
            page *p = sys_.alloc_pages(gfp, order);
            if (p && &sys_.page_zone(p) != &z) {
                elsewhere.push_back(slot{p, order});
                continue;
            }
            if (!p) {
                if (order == 0) {
                    break;
                }
                order--;
                continue;
            }
            ballast_.push_back(slot{p, order});
            mark(ballast_.back(), true);
        }
        scope_restore(PF_MEMALLOC, saved, __FILE__, __LINE__);
        for (const slot &e : elsewhere)
            sys_.free_pages(e.p, e.order);
        outcome_ =
            fmt::format("{} free (min {}), {} ballast blocks", z.page_state_snapshot(NR_FREE_PAGES),
                        z._watermark[WMARK_MIN], ballast_.size());
    }

    void release_ballast() {
        for (slot &s : ballast_)
            free_slot(s);
        ballast_.clear();
    }

    std::size_t do_alloc(const op &o) {
        slot &s = slots_[slot_of(o)];
        if (s.p) // a held slot is freed first so the table never leaks
            free_slot(s);
        const unsigned order = alloc_order(o);
        const unsigned vcpu = alloc_vcpu(o);
        const gfp_t gfp = finite_mask(requested_mask(o), order);
        set_current_vcpu(vcpu);
        const bool valid = gfp_valid(gfp, int(order));
        // Placement (I5) and the watermark floor (I4) are the reference oracle's: its own zone
        // layout, marks and classes, with this harness's model of the task flags.
        const gfp_t eff0 = current_gfp_context(gfp);
        const ref::alloc_request request{gfp, order, model_task_flags(),
                                         (eff0 & __GFP_THISNODE) ? ref_.model().cpu_node(vcpu)
                                                                 : -1};
        std::optional<ref::alloc_checker::scope> checked;
        if (valid)
            checked.emplace(ref_, request);
        const std::size_t expected =
            valid ? expected_recursion_reports(gfp) + gfp_nofail_cannot_reclaim(gfp) : 1;
        const std::size_t before = reports_.size();
        page *p = sys_.alloc_pages(gfp, order);
        outcome_ =
            fmt::format("{} mask {}", p ? fmt::format("pfn {:#x}", sys_.page_to_pfn(p)) : "NULL",
                        gfp_describe(gfp));
        if (!valid) {
            if (p)
                fail(16, "an invalid request was served");
            return 1;
        }
        if (reports_.size() - before != expected)
            fail(reports_.size() > before ? id(reports_.back().inv) : 9,
                 fmt::format("a valid request made {} report(s), expected {}",
                             reports_.size() - before, expected));
        if (!p)
            return expected; // failing is always allowed: NORETRY, fail_nth, a full zone
        take_block(s, p, order, gfp, *checked);
        return expected;
    }

    // alloc_pages_nolock(): no report whatever the stream holds (declared locks, scopes:
    // it is for any context), NULL above the lists' orders, a zeroed block otherwise.
    std::size_t do_alloc_nolock(const op &o) {
        slot &s = slots_[slot_of(o)];
        if (s.p)
            free_slot(s);
        const unsigned order = nolock_order(o);
        const gfp_t gfp = nolock_mask(o);
        set_current_vcpu(o.arg[3] % nr_vcpus);
        ref::alloc_request request{gfp | __GFP_NOWARN | __GFP_ZERO | __GFP_NOMEMALLOC | __GFP_COMP,
                                   order, model_task_flags(), -1};
        request.nolock = true;
        std::optional<ref::alloc_checker::scope> checked;
        if (order <= PAGE_ALLOC_COSTLY_ORDER)
            checked.emplace(ref_, request);
        const std::size_t before = reports_.size();
        page *p = sys_.alloc_pages_nolock(gfp, -1, order);
        outcome_ = p ? fmt::format("pfn {:#x}", sys_.page_to_pfn(p)) : "NULL";
        if (reports_.size() != before)
            fail(id(reports_.back().inv), "alloc_pages_nolock() made a report");
        if (!p)
            return 0; // busy or short: never wrong
        if (!checked) {
            fail(16, fmt::format("alloc_pages_nolock() served order {}", order));
            return 0;
        }
        take_block(s, p, order, request.gfp, *checked);
        return 0;
    }

    // A block the System handed out: inside it, aligned, overlapping nothing held (I1), in
    // its zone above its floor (the reference oracle, I4 and I5), charged within the
    // group's limit; then held in slot s (a __GFP_ZERO block must be zero).
    void take_block(slot &s, page *p, unsigned order, gfp_t gfp,
                    ref::alloc_checker::scope &checked) {
        if (!sys_.owns(p))
            fail(1, "a page outside the System");
        const unsigned long pfn = sys_.page_to_pfn(p), n = 1ul << order;
        if ((pfn & (n - 1)) != 0 || pfn + n > sys_.max_pfn())
            fail(1, fmt::format("pfn {:#x} order {}: misaligned or past the end", pfn, order));
        for (unsigned long i = 0; i < n; i++)
            if (owned_[pfn + i])
                fail(1, fmt::format("pfn {:#x} order {} overlaps a held allocation at pfn {:#x}",
                                    pfn, order, pfn + i));
        const gfp_t eff = current_gfp_context(gfp);
        for (const ref::finding &f : checked.finish(p))
            fail(f.inv, f.what + ": " + f.message);
        unsigned group = 0;
        if (eff & __GFP_ACCOUNT)
            for (unsigned g = 1; g < nr_memcgs; g++)
                if (memcg_ids_[g] == active_memcg())
                    group = g;
        memcg_usage_[group] += group ? n : 0;
        // try_charge_memcg(): past the limit only what may not fail or may use reserves
        // (__GFP_NOFAIL, __GFP_HIGH) and reclaim itself (PF_MEMALLOC) are charged.
        if (group && memcg_limits[group] && memcg_usage_[group] > memcg_limits[group] &&
            !(eff & (__GFP_NOFAIL | __GFP_HIGH)) && !(current_task_flags() & PF_MEMALLOC))
            fail(2,
                 fmt::format("memcg fuzz-{}: charged to {} pages, past its limit {}, for {}", group,
                             memcg_usage_[group], memcg_limits[group], gfp_describe(eff)));
        s = slot{p, order, group, false, 0};
        if (gfp & __GFP_ZERO) {
            s.has_pattern = true;
            check_pattern(s, "__GFP_ZERO");
        }
        mark(s, true);
    }

    void finish() {
        at_end_ = true;
        const std::size_t before = reports_.size();
        for (auto &s : slots_)
            if (s.p)
                free_slot(s);
        release_ballast();
        for (auto &s : objects_)
            if (s.p)
                free_object(s);
        while (!scopes_.empty())
            restore_innermost();
        while (!held_.empty()) {
            locks_[held_.back()]->unlock();
            held_.pop_back();
        }
        set_current_fail_nth(0);
        sys_.fault_injection().set_probability(0);
        for (const cache_page_id id : cache_pages_)
            sys_.page_cache().remove(id);
        cache_.reset();
        shrinkers_ = {};
        // kvfree_rcu's batches out, its spare blocks back (drop_caches), and the slab caches'
        // empty slabs too: all back before the count.
        kvfree_rcu_barrier(sys_);
        check_rcu_counts("at the end");
        sys_.shrinkers().drop_slab();
        kmem_cache_shrink_all(sys_);
        if (reports_.size() != before)
            fail(id(reports_.back().inv), "unplanned report while cleaning up");
        after_op();
        for (unsigned g = 1; g < nr_memcgs; g++) {
            if (memcg_usage_[g])
                fail(2, fmt::format("memcg group {} still charged {} pages after every free", g,
                                    memcg_usage_[g]));
            const mem_cgroup *m = sys_.memcg(memcg_ids_[g]);
            if (m->slab_reclaimable.load() || m->slab_unreclaimable.load())
                fail(2, fmt::format("memcg group {} still charged {} bytes of slab objects "
                                    "after every free",
                                    g, m->slab_reclaimable.load() + m->slab_unreclaimable.load()));
        }
        drain_all_stock(sys_);
        check_memcg(true);
        sys_.drain_all_pages();
        check_verify("at the end");
        for (int nid = 0; nid < sys_.nr_nodes(); nid++)
            for (auto &z : sys_.node(nid).node_zones) {
                if (!z.populated())
                    continue;
                const long free = z.page_state_snapshot(NR_FREE_PAGES);
                const unsigned long pcp = sys_.pcp_count(z);
                if (free + long(pcp) != long(z.managed_pages))
                    fail(2, fmt::format("node {} {}: free {} + pcp {} != managed {}", nid, z.name,
                                        free, pcp, z.managed_pages));
            }
    }

    struct open_scope {
        unsigned kind;   // the PF_* flag saved
        unsigned saved;  // what the save returned
        unsigned before; // the task flags the save found: a restore must bring them back
    };

    System sys_;                         // first: everything below refers to it and goes before it
    ref::alloc_checker ref_{sys_, true}; // one thread: the counts can be read exactly
    // kfree_rcu'd objects that may not have been freed yet, and the calls made.
    struct rcu_object {
        std::uintptr_t start, end;
        unsigned long cookie;
    };
    std::vector<rcu_object> rcu_pending_;
    std::uint64_t rcu_calls_ = 0;
    const op_observer &observe_;
    std::vector<violation> reports_;
    std::vector<std::string> scope_reports_;
    std::vector<std::string> lockdep_reports_;
    std::vector<bool> owned_; // pfn -> held by a slot (the reference model)
    slot slots_[nr_slots];
    std::vector<slot> ballast_; // pressure's blocks
    object_slot objects_[nr_slots];
    std::map<std::uintptr_t, std::uintptr_t> object_ranges_; // held objects: start -> end
    std::vector<open_scope> scopes_;                         // innermost last
    std::array<std::unique_ptr<Lock>, nr_lock_classes> locks_;
    std::vector<unsigned> held_; // classes the stream holds, innermost last
    std::array<std::unique_ptr<fuzz_shrinker>, nr_shrinker_slots> shrinkers_;
    // A shrinker callback that ran after shrinker_free() returned (shrinker_liveness.hpp).
    std::vector<std::string> liveness_errors_;
    std::set<std::pair<unsigned, std::string>> hazards_; // I9 pairs already reported
    std::unique_ptr<object_cache> cache_;
    std::vector<cache_page_id> cache_pages_;
    std::array<unsigned, nr_memcgs> memcg_ids_{};
    std::array<std::uint64_t, nr_memcgs> memcg_usage_{};
    std::size_t idx_ = 0;
    op op_{};
    std::string outcome_;
    bool at_end_ = false;
    failure failure_;
    static constexpr int nr_nodes = 2; // make_config()
};

} // namespace

std::optional<failure> execute_ops(const std::uint8_t *data, std::size_t size,
                                   const op_observer &observe) {
    harness h(observe);
    return h.run(data, size);
}

} // namespace gfplab::fuzz
