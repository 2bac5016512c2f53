// SPDX-License-Identifier: MIT
//
// fuzz_ops: operation sequences against one small System, checked after every op against a
// reference model of who holds which pages. The input format is op_stream.hpp's.
//
// Properties checked:
//  - a mask gfp_valid() rejects returns NULL with exactly one report (I16);
//  - a successful allocation is aligned, inside the map, overlaps no held allocation (I1),
//    comes from a zone gfp_zone() allows for the effective mask (I5) and, with
//    __GFP_THISNODE, from the preferred node; __GFP_ZERO pages read zero (I12);
//  - a slot's pattern survives until its owner frees it (I1 again, seen from the data);
//  - planted misuse (wrong-order free, double free) is reported once and refused, and
//    verify() stays clean after it (I13, I1, I16);
//  - verify() is clean after drain, kswapd and shrink (I2 with allocations held);
//  - nothing else is ever reported;
//  - at the end, with everything freed and drained, verify() is clean and every zone's
//    free + per-CPU pages equal its managed pages (I2).
// Set GFPLAB_FUZZ_VERBOSE=1 to print every decoded op and its outcome.
#include "op_stream.hpp"

#include <gfplab/scope.hpp>
#include <gfplab/shrinker.hpp>
#include <gfplab/system.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <string>
#include <vector>

namespace {

using namespace gfplab;
using namespace gfplab::fuzz;

struct slot {
    page *p = nullptr;
    unsigned order = 0;
    gfp_t gfp = 0;
    bool has_pattern = false; // the block's bytes are all `pattern`
    std::uint8_t pattern = 0;
};

const unsigned scope_flags[nr_scope_kinds] = {PF_MEMALLOC_NOFS, PF_MEMALLOC_NOIO, PF_MEMALLOC,
                                              PF_MEMALLOC_PIN};

bool verbose() {
    static const bool v = [] {
        const char *e = std::getenv("GFPLAB_FUZZ_VERBOSE");
        return e && *e && std::strcmp(e, "0") != 0;
    }();
    return v;
}

void on_scope_mismatch(const scope_mismatch &m, void *ctx) {
    // The harness restores only what it saved, innermost first: any mismatch is a bug in
    // the scope bookkeeping, counted here and turned into an abort by the op loop.
    static_cast<std::vector<std::string> *>(ctx)->push_back(m.message);
}

class harness {
  public:
    harness() : sys_(make_config()) {
        sys_.set_report_sink([this](const violation &v) { reports_.push_back(v); });
        owned_.assign(sys_.max_pfn(), false);
        set_scope_report_handler(on_scope_mismatch, &scope_reports_);
    }
    ~harness() {
        // Inputs must not leak thread state into the next one.
        reset_task_scope();
        set_current_fail_nth(0);
        set_current_vcpu(0);
        set_scope_report_handler(nullptr);
    }
    harness(const harness &) = delete;
    harness &operator=(const harness &) = delete;

    void run(const std::uint8_t *data, std::size_t size) {
        op_decoder d(data, size);
        std::size_t idx = 0;
        while (auto o = d.next(idx)) {
            idx_ = idx;
            op_ = *o;
            if (verbose())
                std::fprintf(stderr, "op %zu: %s\n", idx, describe(*o).c_str());
            const std::size_t before = reports_.size();
            const std::size_t expected = step(*o);
            if (verbose())
                for (std::size_t i = before; i < reports_.size(); i++)
                    std::fprintf(stderr, "  report: %s\n", format_violation(reports_[i]).c_str());
            if (reports_.size() - before != expected)
                fail(fmt::format("expected {} report(s), got {}", expected,
                                 reports_.size() - before));
            if (!scope_reports_.empty())
                fail("unplanned scope mismatch: " + scope_reports_.front());
        }
        finish();
    }

  private:
    static system_config make_config() {
        system_config c;
        c.memory_bytes = 32ull << 20;
        c.nodes = 2;
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
        return c;
    }

    [[noreturn]] void fail(const std::string &what) {
        if (at_end_)
            std::fprintf(stderr, "fuzz_ops: end of input: %s\n", what.c_str());
        else
            std::fprintf(stderr, "fuzz_ops: op %zu (%s): %s\n", idx_, describe(op_).c_str(),
                         what.c_str());
        for (const auto &v : reports_)
            std::fprintf(stderr, "  report: %s\n", format_violation(v).c_str());
        std::abort();
    }

    void check_verify(const char *when) {
        const std::size_t before = reports_.size();
        auto v = sys_.verify();
        if (!v.empty())
            fail(fmt::format("verify() {}: {}", when, format_violation(v.front())));
        if (reports_.size() != before)
            fail(fmt::format("verify() {} reported: {}", when, format_violation(reports_.back())));
    }

    // The mask as the harness passes it. An invalid mask goes through untouched: it must be
    // refused before anything could wait. A valid one is made finite: __GFP_NOFAIL is
    // dropped (with one thread nothing else can free memory, so it may wait for ever) and a
    // blocking mask gets __GFP_NORETRY, because a small GFP_KERNEL/NOFS/NOIO request with
    // nothing reclaimable legitimately loops until memory comes back ("too small to fail"),
    // as the kernel does, and on one thread it never would.
    static gfp_t finite_mask(gfp_t gfp, unsigned order) {
        if (!gfp_valid(gfp, int(order)))
            return gfp;
        gfp &= ~__GFP_NOFAIL;
        if (gfp & __GFP_DIRECT_RECLAIM)
            gfp |= __GFP_NORETRY;
        return gfp;
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
                fail(fmt::format("{}: byte {} of pfn {:#x} order {} is {:#x}, expected {:#x}", when,
                                 i, sys_.page_to_pfn(s.p), s.order, b[i], s.pattern));
    }

    // Returns how many reports the op must produce.
    std::size_t step(const op &o) {
        switch (o.code) {
        case op_code::alloc:
            return do_alloc(o);
        case op_code::free: {
            slot &s = slots_[slot_of(o)];
            if (!s.p)
                return 0;
            set_current_vcpu(free_vcpu(o));
            free_slot(s);
            return 0;
        }
        case op_code::free_wrong_order: {
            slot &s = slots_[slot_of(o)];
            if (!s.p)
                return 0;
            set_current_vcpu(free_vcpu(o));
            const unsigned delta = 1 + o.arg[2] % MAX_PAGE_ORDER; // never 0: a wrong order
            const std::size_t before = reports_.size();
            sys_.free_pages(s.p, (s.order + delta) % (MAX_PAGE_ORDER + 1));
            expect_planted(before, "wrong-order free");
            check_pattern(s, "after a refused wrong-order free");
            return 1;
        }
        case op_code::double_free: {
            slot &s = slots_[slot_of(o)];
            if (!s.p)
                return 0;
            set_current_vcpu(free_vcpu(o));
            page *p = s.p;
            const unsigned order = s.order;
            free_slot(s);
            const std::size_t before = reports_.size();
            sys_.free_pages(p, order);
            expect_planted(before, "double free");
            return 1;
        }
        case op_code::scope_save: {
            const unsigned kind = scope_flags[o.arg[0] % nr_scope_kinds];
            scopes_.push_back({kind, scope_save(kind, __FILE__, __LINE__)});
            return 0;
        }
        case op_code::scope_restore:
            if (!scopes_.empty()) {
                scope_restore(scopes_.back().first, scopes_.back().second, __FILE__, __LINE__);
                scopes_.pop_back();
            }
            return 0;
        // After the ops that move many pages at once the System is quiescent (one thread)
        // and the full recount is worth its O(pages): I2 must hold with allocations held.
        case op_code::drain:
            sys_.drain_all_pages();
            check_verify("after drain");
            return 0;
        case op_code::kswapd_step:
            sys_.kswapd_run_once(o.arg[0] % sys_.nr_nodes());
            check_verify("after kswapd");
            return 0;
        case op_code::fail_nth:
            set_current_fail_nth(o.arg[0] % 16);
            return 0;
        case op_code::shrink:
            sys_.shrinkers().drop_slab();
            check_verify("after shrink");
            return 0;
        case op_code::touch: {
            slot &s = slots_[slot_of(o)];
            if (!s.p)
                return 0;
            check_pattern(s, "touch");
            s.pattern = std::uint8_t(idx_ * 2 + 1); // never 0: tells a write from a zero fill
            s.has_pattern = true;
            std::memset(sys_.page_address(s.p), s.pattern, std::size_t(PAGE_SIZE) << s.order);
            return 0;
        }
        }
        return 0;
    }

    void expect_planted(std::size_t before, const char *what) {
        if (reports_.size() - before != 1)
            fail(fmt::format("planted {} produced {} report(s), expected 1", what,
                             reports_.size() - before));
        check_verify(fmt::format("after a planted {}", what).c_str());
    }

    void free_slot(slot &s) {
        check_pattern(s, "before free");
        mark(s, false);
        sys_.free_pages(s.p, s.order);
        s = slot{};
    }

    std::size_t do_alloc(const op &o) {
        slot &s = slots_[slot_of(o)];
        if (s.p) // a held slot is freed first so the table never leaks
            free_slot(s);
        const unsigned order = alloc_order(o);
        const unsigned vcpu = alloc_vcpu(o);
        const gfp_t gfp = finite_mask(requested_mask(o), order);
        set_current_vcpu(vcpu);
        const std::size_t before = reports_.size();
        page *p = sys_.alloc_pages(gfp, order);
        if (verbose())
            std::fprintf(stderr, "  -> %s mask %s\n",
                         p ? fmt::format("pfn {:#x}", sys_.page_to_pfn(p)).c_str() : "NULL",
                         gfp_describe(gfp).c_str());
        if (!gfp_valid(gfp, int(order))) {
            if (p)
                fail("an invalid request was served (I16)");
            return 1;
        }
        if (reports_.size() != before)
            fail("a valid request was reported");
        if (!p)
            return 0; // failing is always allowed: NORETRY, fail_nth, a full zone
        if (!sys_.owns(p))
            fail("a page outside the System");
        const unsigned long pfn = sys_.page_to_pfn(p), n = 1ul << order;
        if ((pfn & (n - 1)) != 0 || pfn + n > sys_.max_pfn())
            fail(fmt::format("pfn {:#x} order {}: misaligned or past the end", pfn, order));
        for (unsigned long i = 0; i < n; i++)
            if (owned_[pfn + i])
                fail(fmt::format("pfn {:#x} order {} overlaps a held allocation at pfn {:#x} "
                                 "(I1)",
                                 pfn, order, pfn + i));
        const gfp_t eff = current_gfp_context(gfp);
        if (sys_.page_zone(p).idx > gfp_zone(eff))
            fail(fmt::format("pfn {:#x} is in {} but {} allows up to {} (I5)", pfn,
                             zone_name(sys_.page_zone(p).idx), gfp_describe(eff),
                             zone_name(gfp_zone(eff))));
        if ((eff & __GFP_THISNODE) && p->node != sys_.cpu_to_node(vcpu))
            fail(fmt::format("__GFP_THISNODE on cpu {} (node {}) got a page of node {} (I5)", vcpu,
                             sys_.cpu_to_node(vcpu), p->node));
        s = slot{p, order, gfp, false, 0};
        if (gfp & __GFP_ZERO) {
            s.has_pattern = true;
            check_pattern(s, "__GFP_ZERO (I12)");
        }
        mark(s, true);
        return 0;
    }

    void finish() {
        at_end_ = true;
        const std::size_t before = reports_.size();
        for (auto &s : slots_)
            if (s.p)
                free_slot(s);
        while (!scopes_.empty()) {
            scope_restore(scopes_.back().first, scopes_.back().second, __FILE__, __LINE__);
            scopes_.pop_back();
        }
        set_current_fail_nth(0);
        if (reports_.size() != before)
            fail("unplanned report while cleaning up");
        sys_.drain_all_pages();
        check_verify("at the end");
        for (int nid = 0; nid < sys_.nr_nodes(); nid++)
            for (auto &z : sys_.node(nid).node_zones) {
                if (!z.populated())
                    continue;
                const long free = z.page_state_snapshot(NR_FREE_PAGES);
                const unsigned long pcp = sys_.pcp_count(z);
                if (free + long(pcp) != long(z.managed_pages))
                    fail(fmt::format("node {} {}: free {} + pcp {} != managed {} (I2)", nid, z.name,
                                     free, pcp, z.managed_pages));
            }
    }

    System sys_;
    std::vector<violation> reports_;
    std::vector<std::string> scope_reports_;
    std::vector<bool> owned_; // pfn -> held by a slot (the reference model)
    slot slots_[nr_slots];
    std::vector<std::pair<unsigned, unsigned>> scopes_; // (kind, saved), innermost last
    std::size_t idx_ = 0;
    op op_{};
    bool at_end_ = false;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    harness h;
    h.run(data, size);
    return 0;
}
