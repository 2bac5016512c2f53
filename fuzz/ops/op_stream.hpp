// SPDX-License-Identifier: MIT
//
// op_stream.hpp - the operation-stream format of fuzz_ops: what a fuzz input means.
//
// Layout: an optional 8-byte header ("GFPO", version 1, three reserved bytes) and then
// fixed-width records of 8 bytes: one op byte and seven argument bytes. Without the header
// the whole input is records, so that libFuzzer's raw mutations mean something from the
// first byte. Unknown op codes are skipped rather than rejected, so a corpus written today
// still replays once new ops are added; a trailing partial record is ignored. A header with
// another version decodes to nothing (a later format, not to be misread as this one).
#pragma once

#include <gfplab/gfp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace gfplab::fuzz {

inline constexpr std::array<std::uint8_t, 4> op_magic{'G', 'F', 'P', 'O'};
inline constexpr std::uint8_t op_version = 1;
inline constexpr std::size_t op_header_size = 8;
inline constexpr std::size_t op_record_size = 8;

// Fixed for a format version: new ops take new codes, old codes never change meaning.
enum class op_code : std::uint8_t {
    alloc = 0x01, // a0 mask selector, a1..a4 raw mask (LE), a5 order | vcpu << 4, a6 slot
    free = 0x02,  // a0 slot, a1 vcpu
    free_wrong_order = 0x03,  // a0 slot, a1 vcpu, a2 order delta (planted misuse)
    double_free = 0x04,       // a0 slot, a1 vcpu (planted misuse: free, then free again)
    scope_save = 0x05,        // a0 kind: nofs, noio, noreclaim (PF_MEMALLOC), pin
    scope_restore = 0x06,     // restores the innermost open save
    drain = 0x07,             // drain_all_pages()
    kswapd_step = 0x08,       // a0 nid: one balance_pgdat() pass
    fail_nth = 0x09,          // a0 n: the n-th fault-injection point on this thread fails
    shrink = 0x0a,            // shrinkers().drop_slab()
    touch = 0x0b,             // a0 slot: check the slot's pattern, then write a new one
    lock_take = 0x0c,         // a0 class: takes a gfplab::Lock of that class (if not held)
    lock_release = 0x0d,      // releases the innermost lock the stream holds
    shrinker_register = 0x0e, // a0 shrinker slot, a1 declared class (or none), a2 objects / 8,
                              // a3 bit 0: the lock is taken with __GFP_IO instead of __GFP_FS
    shrinker_free = 0x0f,     // a0 shrinker slot
    page_cache_add = 0x10,    // a0 bit 0 dirty, bit 1 anon; a1 nid
    page_cache_dirty = 0x11,  // a0 which cached page
    cache_fill = 0x12,        // a0 objects (1..8) into the stream's object_cache
    reclaim_step = 0x13,      // a0 mask selector, a1 nid, a2 priority: one shrink_slab() pass
                              // with the mask narrowed by the scopes, as direct reclaim does
    fault_inject = 0x14,      // a0 probability %, a1 interval, a2 times (0: no limit)
    memcg_switch = 0x15,      // a0 group: where __GFP_ACCOUNT allocations charge from now on
    // The slab layer: a1 modifiers (bit 0 __GFP_ZERO, 1 __GFP_ACCOUNT, 2 __GFP_RECLAIMABLE,
    // 3 __GFP_DMA, 4 a planted slab bug: __GFP_HIGHMEM, or __GFP_DMA32 with bit 5).
    kmalloc = 0x16,      // a0 mask selector (composites), a1 modifiers, a2..a3 size, a4 slot,
                         // a5 vcpu
    kfree = 0x17,        // a0 slot, a1 vcpu
    kfree_double = 0x18, // a0 slot, a1 vcpu (planted misuse: kfree, then kfree again)
    // RCU: objects freed after a grace period (the System runs no monitor thread here).
    kfree_rcu = 0x19,          // a0 slot, a1 vcpu, a2 bit 0: head-less (kvfree_rcu_mightsleep)
    kvfree_rcu_barrier = 0x1a, // everything queued is freed; the counts must agree
    kvfree_rcu_monitor = 0x1b, // one monitor round (kvfree_rcu_run_monitor)
    // Big tables: a0 mask selector, a1 bit 0 __GFP_ZERO, bit 1 vmalloc() itself (for a mask
    // that may sleep; else kvmalloc()), a2..a3 size, a4 slot, a5 vcpu, a6 pattern. Freed by
    // kfree (0x17), which frees any object with kvfree(), or kfree_rcu (0x19).
    kvmalloc = 0x1c,
    vfree_bad = 0x1d, // a0 slot: vfree() of a kmalloc object or of an area's inside (planted)
    // Memory pressure in one step: ballast taken from one zone (with PF_MEMALLOC, so below
    // the watermarks too) until its free count is at WMARK_MIN + distance, so that the
    // requests after it meet the watermark floors. a0 nid, a1 zone (DMA, DMA32, Normal),
    // a2 distance (signed pages), a3 bit 0: give all ballast back instead.
    pressure = 0x1e,
    // The any-context pair (6.15's ALLOC_TRYLOCK/FPI_TRYLOCK, a step past 6.12): an order
    // 0..3 block that is zeroed and never reclaims or waits for a lock.
    alloc_nolock = 0x1f, // a0 slot, a1 order (4: one past the lists' orders, NULL expected),
                         // a2 bit 0 __GFP_ACCOUNT, a3 vcpu
    free_nolock = 0x20,  // a0 slot, a1 vcpu: free_pages_nolock() of whatever the slot holds
};
inline constexpr std::uint8_t last_op_code = 0x20;

struct op {
    op_code code;
    std::array<std::uint8_t, 7> arg;
};

inline constexpr unsigned nr_slots = 64;
inline constexpr unsigned nr_vcpus = 4; // the System fuzz_ops builds has this many CPUs
inline constexpr unsigned nr_scope_kinds = 4;
inline constexpr unsigned nr_lock_classes = 3;   // the declared-lock classes of a stream
inline constexpr unsigned nr_shrinker_slots = 4; // fuzz shrinkers alive at once
inline constexpr unsigned nr_cache_pages = 32;   // page-cache pages a stream remembers
inline constexpr unsigned nr_memcgs = 4;         // the root and three groups

// Composites callers really use; the raw-mask selector is one past the end.
struct mask_entry {
    const char *name;
    gfp_t mask;
};
extern const std::array<mask_entry, 14> mask_table;
inline constexpr unsigned raw_mask_selector = mask_table.size();

// Modifier bits a composite may pick up from the raw mask: the ones callers add to a
// composite, so that the composite path stays (mostly) valid.
gfp_t modifier_bits() noexcept;

// The mask an alloc record asks for, before the harness makes it finite (see fuzz_ops.cpp).
gfp_t requested_mask(const op &o) noexcept;
unsigned alloc_order(const op &o) noexcept; // 0..11: 11 is MAX_PAGE_ORDER + 1 (refused)
unsigned alloc_vcpu(const op &o) noexcept;
unsigned free_vcpu(const op &o) noexcept; // free, free_wrong_order, double_free, free_nolock
// alloc_nolock records: the order (0..4) and the mask (0 or __GFP_ACCOUNT).
unsigned nolock_order(const op &o) noexcept;
gfp_t nolock_mask(const op &o) noexcept;
unsigned slot_of(const op &o) noexcept;
// kmalloc records: the mask (composite, modifiers, planted bug bits) and the size (1..20000).
gfp_t kmalloc_mask(const op &o) noexcept;
std::size_t kmalloc_size(const op &o) noexcept;
// kvmalloc records: 1 B..1 MiB.
std::size_t kvmalloc_size(const op &o) noexcept;
// The masks the executor really passes: on one thread nothing else frees memory, so a
// request that may wait is made finite. Invalid page masks go through untouched (they must
// be refused before anything could wait), and so does __GFP_NOFAIL without direct reclaim
// (reported, then free to fail); any other loses __GFP_NOFAIL and, if it may
// reclaim, gains __GFP_NORETRY ("too small to fail" would loop for ever). kmalloc gains
// __GFP_NORETRY and large ones lose __GFP_ACCOUNT; kvmalloc trades __GFP_NOFAIL for the
// modifier it supports, __GFP_RETRY_MAYFAIL.
gfp_t finite_mask(gfp_t gfp, unsigned order) noexcept;
gfp_t run_kmalloc_mask(const op &o) noexcept;
gfp_t kvmalloc_request_mask(const op &o) noexcept;
gfp_t run_kvmalloc_mask(const op &o) noexcept;
// ", run as 0x...(...): the harness added __GFP_NORETRY" when run differs from asked, else "".
std::string harness_change(gfp_t asked, gfp_t run);
// pressure records: the zone the ballast comes from.
zone_type pressure_zone(const op &o) noexcept;

// Walks an input record by record.
class op_decoder {
  public:
    op_decoder(const std::uint8_t *data, std::size_t size) noexcept;
    // The next known op, or nothing at the end. `index` is the record's number (skipped
    // records count) so a message can point into the input.
    std::optional<op> next(std::size_t &index) noexcept;

  private:
    const std::uint8_t *p_;
    const std::uint8_t *end_;
    std::size_t index_ = 0;
};

// One line: "alloc slot 3 order 2 vcpu 1 mask 0xcc0(GFP_KERNEL)" and so on.
std::string describe(const op &o);

// Encodes one record (for seed generation and tests).
std::array<std::uint8_t, op_record_size> encode(const op &o) noexcept;

} // namespace gfplab::fuzz
