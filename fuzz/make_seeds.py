#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Writes fuzz_ops's hand-made seed corpus (fuzz/corpus/ops/), one file per theme, so that
# every op appears in at least one seed. The format is op_stream.hpp's: "GFPO", version 1,
# three reserved bytes, then 8-byte records (op byte, seven argument bytes).
# Run from anywhere: python3 fuzz/make_seeds.py
import pathlib
import struct

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "ops"

ALLOC, FREE, FREE_WRONG_ORDER, DOUBLE_FREE = 0x01, 0x02, 0x03, 0x04
SCOPE_SAVE, SCOPE_RESTORE, DRAIN, KSWAPD_STEP = 0x05, 0x06, 0x07, 0x08
FAIL_NTH, SHRINK, TOUCH = 0x09, 0x0A, 0x0B
LOCK_TAKE, LOCK_RELEASE, SHRINKER_REGISTER, SHRINKER_FREE = 0x0C, 0x0D, 0x0E, 0x0F
PAGE_CACHE_ADD, PAGE_CACHE_DIRTY, CACHE_FILL, RECLAIM_STEP = 0x10, 0x11, 0x12, 0x13
FAULT_INJECT, MEMCG_SWITCH = 0x14, 0x15
KMALLOC, KFREE, KFREE_DOUBLE = 0x16, 0x17, 0x18
KFREE_RCU, KVFREE_RCU_BARRIER, KVFREE_RCU_MONITOR = 0x19, 0x1A, 0x1B
KVMALLOC, VFREE_BAD, PRESSURE = 0x1C, 0x1D, 0x1E
ALLOC_NOLOCK, FREE_NOLOCK = 0x1F, 0x20
NO_LOCK = 3  # shrinker_register: a1 == nr_lock_classes declares no lock

# Selectors into op_stream.cpp's mask_table; RAW uses the raw mask as given.
KERNEL, NOFS, NOIO, ATOMIC, NOWAIT, USER, HIGHUSER, HIGHUSER_MOVABLE = range(8)
DMA32_KERNEL, DMA_KERNEL, TRANSHUGE_LIGHT, TRANSHUGE, KERNEL_ACCOUNT, KERNEL_RECL = range(8, 14)
RAW = 14
NOWAIT_MOVABLE = 0x2808  # GFP_NOWAIT | __GFP_MOVABLE

ZERO, COMP, HIGH, NOWARN = 0x100, 0x40000, 0x20, 0x2000


def header():
    return b"GFPO" + bytes([1, 0, 0, 0])


def alloc(sel, slot, order=0, vcpu=0, mask=0):
    return bytes([ALLOC, sel]) + struct.pack("<I", mask) + bytes([order | vcpu << 4, slot])


def kmalloc(sel, slot, size, mods=0, vcpu=0, pattern=0x5a):
    # mods: 1 __GFP_ZERO, 2 __GFP_ACCOUNT, 4 __GFP_RECLAIMABLE, 8 __GFP_DMA, 16 a planted
    # slab bug (__GFP_HIGHMEM, or __GFP_DMA32 with 32)
    size -= 1  # the record holds size - 1 (op_stream.cpp: 1 + value % 20000)
    return bytes([KMALLOC, sel, mods, size & 0xFF, size >> 8, slot, vcpu, pattern])


def kvmalloc(sel, slot, size, mods=0, vcpu=0, pattern=0x3c):
    # mods: 1 __GFP_ZERO, 2 vmalloc() itself; the size is stored in units of 16 bytes
    units = (size - 1) // 16
    return rec(KVMALLOC, sel, mods, units & 0xFF, (units >> 8) & 0xFF, slot, vcpu, pattern)


def rec(op, *args):
    args = list(args) + [0] * (7 - len(args))
    return bytes([op] + args)


SEEDS = {
    "basic_kernel": [alloc(KERNEL, 0), alloc(KERNEL, 1, order=3, vcpu=1), rec(TOUCH, 0),
                     rec(TOUCH, 1), rec(TOUCH, 0), rec(FREE, 0), rec(FREE, 1, 2)],
    "zones": [alloc(DMA_KERNEL, 0, order=2), alloc(DMA32_KERNEL, 1, order=4, vcpu=2),
              alloc(HIGHUSER_MOVABLE, 2, vcpu=3), alloc(TRANSHUGE_LIGHT, 3, order=9),
              alloc(TRANSHUGE, 4, order=9, vcpu=1), alloc(USER, 5, mask=ZERO),
              alloc(ATOMIC, 6, order=1, mask=COMP), alloc(NOWAIT, 7),
              alloc(KERNEL_ACCOUNT, 8), alloc(KERNEL_RECL, 9, vcpu=2),
              alloc(HIGHUSER, 10, order=10), rec(DRAIN)],
    "invalid_masks": [alloc(RAW, 0, mask=0x3),                # __GFP_DMA|__GFP_HIGHMEM
                      alloc(RAW, 1, mask=0x18),               # RECLAIMABLE|MOVABLE
                      alloc(RAW, 2, mask=0x8000),             # NOFAIL without reclaim
                      alloc(RAW, 3, mask=0x200),              # the unused bit
                      alloc(RAW, 4, mask=0x80000000),         # outside the layout
                      alloc(KERNEL, 5, order=11),             # order above MAX_PAGE_ORDER
                      alloc(RAW, 6, mask=0xcc0 | 0x8000)],    # GFP_KERNEL|__GFP_NOFAIL
    "misuse": [alloc(KERNEL, 0, order=2), rec(FREE_WRONG_ORDER, 0, 1, 0),
               alloc(KERNEL, 1, order=0, mask=COMP), rec(DOUBLE_FREE, 1, 2),
               alloc(KERNEL, 2, order=5, mask=COMP), rec(FREE_WRONG_ORDER, 2, 0, 3),
               rec(DOUBLE_FREE, 2), rec(FREE, 0)],
    "scopes": [rec(SCOPE_SAVE, 0), alloc(KERNEL, 0), rec(SCOPE_SAVE, 1), alloc(KERNEL, 1),
               rec(SCOPE_RESTORE), rec(SCOPE_SAVE, 3), alloc(HIGHUSER_MOVABLE, 2),
               rec(SCOPE_SAVE, 2), alloc(KERNEL, 3, order=2), rec(SCOPE_RESTORE),
               rec(SCOPE_RESTORE), rec(SCOPE_SAVE, 0)],  # the last one stays open
    "reclaim": [alloc(HIGHUSER_MOVABLE, i, order=9, vcpu=i) for i in range(14)]
               + [rec(KSWAPD_STEP, 0), rec(KSWAPD_STEP, 1), rec(SHRINK), rec(DRAIN),
                  alloc(ATOMIC, 20, order=3, mask=HIGH), rec(FREE, 3), rec(KSWAPD_STEP, 1)],
    "fail_nth": [rec(FAIL_NTH, 1), alloc(KERNEL, 0, order=1), rec(FAIL_NTH, 2),
                 alloc(KERNEL, 1), alloc(KERNEL, 2, order=2), rec(FAIL_NTH, 0),
                 alloc(KERNEL, 3, order=3)],
    # A declared lock held across a GFP_KERNEL allocation while a shrinker declares it: one
    # I9 report (planted by the stream, expected by the model); inside NOFS none.
    "locks": [rec(SHRINKER_REGISTER, 0, 0, 4), rec(SHRINKER_REGISTER, 1, NO_LOCK, 2),
              rec(LOCK_TAKE, 0), alloc(KERNEL, 0), alloc(KERNEL, 1), rec(SCOPE_SAVE, 0),
              alloc(KERNEL, 2), rec(SCOPE_RESTORE), rec(LOCK_TAKE, 1), alloc(NOFS, 3),
              rec(RECLAIM_STEP, KERNEL, 0, 0), rec(LOCK_RELEASE), rec(LOCK_RELEASE),
              rec(SHRINK), rec(SHRINKER_FREE, 0), rec(LOCK_TAKE, 2)],
    # Shrinkers under every scope: direct reclaim steps see the narrowed mask (I8).
    "shrinker_scopes": [rec(SHRINKER_REGISTER, 2, 1, 40, 1), rec(SHRINKER_REGISTER, 3, NO_LOCK, 40),
                        rec(SCOPE_SAVE, 0), rec(RECLAIM_STEP, KERNEL, 0, 0),
                        rec(SCOPE_SAVE, 1), rec(RECLAIM_STEP, KERNEL, 1, 2),
                        rec(SHRINK), rec(KSWAPD_STEP, 0), rec(SCOPE_RESTORE),
                        rec(SCOPE_SAVE, 2), rec(RECLAIM_STEP, NOFS, 0, 0), rec(SCOPE_RESTORE),
                        rec(SCOPE_RESTORE), rec(RECLAIM_STEP, NOIO, 1, 12),
                        rec(SHRINKER_FREE, 2)],
    "page_cache": [rec(PAGE_CACHE_ADD, 0, 0), rec(PAGE_CACHE_ADD, 1, 1), rec(PAGE_CACHE_ADD, 2, 0),
                   rec(PAGE_CACHE_ADD, 3, 1), rec(PAGE_CACHE_DIRTY, 0), rec(PAGE_CACHE_DIRTY, 2),
                   rec(CACHE_FILL, 7), rec(CACHE_FILL, 3)]
                  + [alloc(HIGHUSER_MOVABLE, i, order=9, vcpu=i) for i in range(12)]
                  + [rec(KSWAPD_STEP, 0), rec(SHRINK), rec(RECLAIM_STEP, KERNEL, 1, 0),
                     rec(PAGE_CACHE_DIRTY, 1), rec(DRAIN)],
    "memcg": [rec(MEMCG_SWITCH, 1), alloc(KERNEL_ACCOUNT, 0, order=3),
              alloc(KERNEL_ACCOUNT, 1, order=3), alloc(KERNEL_ACCOUNT, 2), rec(FREE, 0),
              alloc(KERNEL_ACCOUNT, 3), rec(MEMCG_SWITCH, 3), alloc(KERNEL_ACCOUNT, 4),
              alloc(KERNEL_ACCOUNT, 5), rec(MEMCG_SWITCH, 2), alloc(KERNEL_ACCOUNT, 6, order=4),
              alloc(KERNEL, 7), rec(DOUBLE_FREE, 6), rec(MEMCG_SWITCH, 0),
              alloc(KERNEL_ACCOUNT, 8)],
    "fault_inject": [rec(FAULT_INJECT, 50, 0, 0), alloc(KERNEL, 0), alloc(ATOMIC, 1),
                     rec(PAGE_CACHE_ADD, 0, 0), rec(CACHE_FILL, 4), rec(FAULT_INJECT, 100, 2, 3),
                     alloc(KERNEL, 2), alloc(KERNEL, 3), alloc(KERNEL, 4), alloc(KERNEL, 5),
                     rec(FAULT_INJECT, 0)],
    # Memory filled by movable blocks, then non-blocking requests of every class down to the
    # reserves: I4 is checked on each (GFP_NOWAIT must stop at min, GFP_ATOMIC may go below).
    "watermarks": [alloc(HIGHUSER_MOVABLE, i, order=9, vcpu=i % 4) for i in range(13)]
                  + [alloc(NOWAIT, 13 + i, order=o, vcpu=i % 4)
                     for i, o in enumerate([8] * 4 + [7] * 4 + [6] * 4 + [5] * 4 + [4] * 6)]
                  + [alloc(ATOMIC, 40 + i, order=3, vcpu=i % 4) for i in range(8)]
                  + [alloc(NOWAIT, 48 + i, vcpu=i % 4) for i in range(8)] + [rec(DRAIN)],
    # Ballast down to near the min watermark (PRESSURE a0 nid, a1 zone DMA/DMA32/Normal, a2
    # signed distance from min, a3 bit 0 release): node 0 first, so that node 1's requests
    # find no remote zone above its low mark, then node 1's Normal zone step by step, with
    # GFP_NOWAIT and GFP_ATOMIC requests on its CPU at each step: their floors (min, and
    # 3/8 of it) are crossed in turn. Then the DMA zones on their own.
    "pressure": [rec(PRESSURE, 0, 1, 0xc4), rec(PRESSURE, 0, 0, 0xec)]
                + [x for d in (24, 8, 0, -8, -16, -24, -40) for x in
                   (rec(PRESSURE, 1, 2, d & 0xff), alloc(NOWAIT, 2 * (-d % 32), vcpu=3),
                    alloc(ATOMIC, 2 * (-d % 32) + 1, vcpu=3))]
                + [alloc(KERNEL, 40, order=1, vcpu=2), rec(PRESSURE, 0, 0, 0, 1),
                   rec(PRESSURE, 0, 1, 40), alloc(DMA32_KERNEL, 41, order=3, vcpu=0),
                   alloc(ATOMIC, 42, order=5, vcpu=1), rec(PRESSURE, 0, 0, 0, 1),
                   rec(PRESSURE, 0, 0, 0xf0), alloc(DMA_KERNEL, 43, vcpu=0),
                   kmalloc(ATOMIC, 6, 512, vcpu=1), rec(FREE, 41, 2), rec(KSWAPD_STEP, 0),
                   rec(PRESSURE, 1, 2, 0, 1)],
    # The slab layer: kmalloc classes and types, large kmalloc, frees on other CPUs, a
    # planted slab bug mask and planted double kfrees (slab object and large kmalloc).
    "slab": [kmalloc(KERNEL, 0, 64), kmalloc(NOFS, 1, 96, mods=1, vcpu=1),
             kmalloc(ATOMIC, 2, 192, vcpu=2), kmalloc(KERNEL, 3, 8192, mods=4),
             kmalloc(KERNEL_ACCOUNT, 4, 700), kmalloc(DMA_KERNEL, 5, 40, mods=8),
             kmalloc(KERNEL, 6, 20000, mods=1), kmalloc(HIGHUSER, 7, 128),
             kmalloc(KERNEL, 8, 256, mods=16 | 32), rec(KFREE, 0, 3), rec(KFREE, 1),
             kmalloc(KERNEL, 9, 64, vcpu=1), rec(KFREE_DOUBLE, 9, 2), rec(KFREE_DOUBLE, 6),
             rec(LOCK_TAKE, 0), kmalloc(NOFS, 10, 1000), rec(LOCK_RELEASE),
             rec(CACHE_FILL, 7), rec(SHRINK), rec(KFREE, 2, 1), rec(DRAIN)],
    # kfree_rcu() with and without a head, on several CPUs, a monitor round, a new kmalloc
    # that must not reuse an object still waiting, a shrink pass and the barrier.
    "rcu": [kmalloc(KERNEL, i, [64, 8, 192, 4096, 20000, 96][i], vcpu=i % 4) for i in range(6)]
           + [rec(KFREE_RCU, 0, 0), rec(KFREE_RCU, 1, 1), rec(KFREE_RCU, 2, 2, 1),
              rec(KFREE_RCU, 3, 3), rec(KVFREE_RCU_MONITOR), kmalloc(KERNEL, 6, 64),
              rec(KFREE_RCU, 4, 1), rec(SHRINK), kmalloc(NOFS, 7, 192, vcpu=2),
              rec(KFREE_RCU, 5, 0, 1), rec(KVFREE_RCU_BARRIER), rec(KFREE_RCU, 6, 1)],
    # Big tables: kvmalloc under each kind of mask (GFP_ATOMIC may not fall back), vmalloc
    # itself, under a NOFS scope, a vfree of a kmalloc object and of an area's inside
    # (planted), kfree_rcu of an area, memory fragmented first so that areas scatter.
    "vmalloc": [alloc(KERNEL, i, vcpu=i % 4) for i in range(8)] + [rec(FREE, i) for i in (0, 2, 4, 6)]
               + [kvmalloc(KERNEL, 10, 40000), kvmalloc(KERNEL, 11, 300000, mods=2),
                  kvmalloc(ATOMIC, 12, 70000), kvmalloc(NOWAIT, 13, 9000),
                  kvmalloc(NOFS, 14, 100000, mods=3), rec(SCOPE_SAVE, 1),
                  kvmalloc(KERNEL, 15, 20000, mods=2), rec(SCOPE_RESTORE),
                  rec(VFREE_BAD, 11), kmalloc(KERNEL, 16, 300), rec(VFREE_BAD, 16),
                  rec(KFREE_RCU, 15, 1), rec(KFREE, 10), rec(KVFREE_RCU_BARRIER),
                  kvmalloc(KERNEL, 17, 5000, mods=1), kvmalloc(HIGHUSER_MOVABLE, 18, 12305)],
    # kswapd woken for an order-0 request and then finding its node balanced (I14: no
    # failure counted). Node 0 below its marks so that nothing falls back there; node 1's
    # Normal zone filled by movable blocks to just at its low mark (no pageblock stolen, so
    # no boost); a movable GFP_NOWAIT page then misses low and wakes node 1's kswapd; all
    # is given back before kswapd's turn.
    "kswapd_balanced": [rec(PRESSURE, 0, 1, 0xc4), rec(PRESSURE, 0, 0, 0xec)]
                       + [alloc(HIGHUSER_MOVABLE, i, order=9, vcpu=3) for i in range(7)]
                       + [alloc(HIGHUSER_MOVABLE, 7 + i, order=o, vcpu=3)
                          for i, o in enumerate((8, 7, 4))]
                       + [alloc(RAW, 10 + i, vcpu=3, mask=NOWAIT_MOVABLE) for i in range(2)]
                       + [rec(FREE, i, 3) for i in range(12)]
                       + [rec(PRESSURE, 0, 0, 0, 1), rec(KSWAPD_STEP, 1)],
    # alloc_pages_nolock() under a declared lock and inside a noreclaim scope (no report,
    # zeroed blocks), charged to a group, one order past the lists' (NULL), then with node
    # 0's Normal zone pushed to its min watermark (I4: never below min); free_pages_nolock()
    # of its own blocks and of an order-5 block on other CPUs.
    "nolock": [rec(LOCK_TAKE, 0), rec(ALLOC_NOLOCK, 0, 0, 0, 0), rec(MEMCG_SWITCH, 1),
               rec(ALLOC_NOLOCK, 1, 3, 1, 1), rec(ALLOC_NOLOCK, 2, 4, 0, 2),
               rec(SCOPE_SAVE, 2), rec(ALLOC_NOLOCK, 3, 2, 0, 3), rec(SCOPE_RESTORE),
               rec(LOCK_RELEASE), rec(MEMCG_SWITCH, 0), alloc(KERNEL, 4, order=5),
               rec(TOUCH, 0), rec(FREE_NOLOCK, 4, 1), rec(FREE_NOLOCK, 0, 2),
               rec(TOUCH, 1), rec(FREE_NOLOCK, 1, 3), rec(PRESSURE, 0, 2, 2)]
              + [rec(ALLOC_NOLOCK, 5 + i, i % 3, 0, i % 4) for i in range(12)]
              + [rec(FREE_NOLOCK, 5 + i, i % 4) for i in range(0, 12, 2)]
              + [rec(PRESSURE, 0, 2, 0, 1), rec(DRAIN)],
    # No header: libFuzzer's raw inputs are records from the first byte; 0xee is skipped.
    "headerless": [alloc(NOIO, 0, order=1), rec(0xEE, 1, 2, 3), alloc(NOFS, 1, vcpu=3),
                   rec(TOUCH, 1), rec(FREE, 1)],
}

OUT.mkdir(parents=True, exist_ok=True)
for name, records in SEEDS.items():
    body = b"".join(records)
    (OUT / name).write_bytes(body if name == "headerless" else header() + body)

# fuzz_scopes seeds (fuzz/corpus/scopes/): two bytes per op, op % 10 picks it (see
# fuzz_scopes.cpp): 0 named save, 1 C-face save, 2 memalloc_flags_save (argument bits 4..7
# pick NOFS, NOIO, MEMALLOC, PIN), 3 restore, 4 guard (recursion), 5 end of guard,
# 6 allocation, 7 shrink_slab, 8 lock toggle, 9 planted out-of-order restore.
S_NAMED, S_C, S_FLAGS, S_RESTORE, S_GUARD, S_END, S_ALLOC, S_SHRINK, S_LOCK, S_PLANT = range(10)
NOFS_K, NOIO_K, NORECLAIM_K, PIN_K = range(4)
A_KERNEL, A_NOFS, A_NOIO, A_MOVABLE, A_ATOMIC, A_KERNEL_MOVABLE = range(6)
SCOPE_SEEDS = {
    "nested_named": [(S_NAMED, NOFS_K), (S_ALLOC, A_KERNEL), (S_NAMED, NOIO_K), (S_SHRINK, 0),
                     (S_NAMED, NOFS_K), (S_RESTORE, 0), (S_RESTORE, 0), (S_NAMED, PIN_K),
                     (S_ALLOC, A_MOVABLE), (S_RESTORE, 0), (S_RESTORE, 0)],
    "c_face_and_flags": [(S_C, NOIO_K), (S_FLAGS, 0x30), (S_ALLOC, A_KERNEL), (S_SHRINK, 3),
                         (S_C, NORECLAIM_K), (S_ALLOC, A_NOFS), (S_RESTORE, 0),
                         (S_FLAGS, 0xF0), (S_RESTORE, 0), (S_RESTORE, 0)],
    "guards": [(S_GUARD, NOFS_K), (S_ALLOC, A_KERNEL), (S_GUARD, PIN_K), (S_NAMED, NOIO_K),
               (S_SHRINK, 0), (S_END, 0), (S_GUARD, NORECLAIM_K), (S_ALLOC, A_KERNEL_MOVABLE),
               (S_END, 0), (S_END, 0), (S_GUARD, NOIO_K)],
    "lock_hazard": [(S_LOCK, 0), (S_ALLOC, A_KERNEL), (S_NAMED, NOFS_K), (S_ALLOC, A_KERNEL),
                    (S_RESTORE, 0), (S_NAMED, NORECLAIM_K), (S_ALLOC, A_KERNEL), (S_RESTORE, 0),
                    (S_ALLOC, A_ATOMIC), (S_SHRINK, 0), (S_LOCK, 0), (S_ALLOC, A_NOIO)],
    "out_of_order": [(S_NAMED, NOFS_K), (S_NAMED, NOIO_K), (S_PLANT, 0), (S_C, PIN_K),
                     (S_FLAGS, 0x80), (S_NAMED, NORECLAIM_K), (S_PLANT, 1), (S_ALLOC, A_KERNEL)],
}
SCOPE_OUT = OUT.parent / "scopes"
SCOPE_OUT.mkdir(parents=True, exist_ok=True)
for name, ops in SCOPE_SEEDS.items():
    (SCOPE_OUT / name).write_bytes(b"".join(bytes(op) for op in ops))
