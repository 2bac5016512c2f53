#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Writes fuzz/corpus/interleave/: seeds for fuzz_interleave (format in fuzz_interleave.cpp),
# each aimed at one contended path. Run from anywhere; rewrites the files.
import pathlib

ALLOC, FREE, DRAIN, TOUCH = 0x01, 0x02, 0x07, 0x0B
SHRINK, SHRINKER_REGISTER, SHRINKER_FREE, RECLAIM_STEP = 0x0A, 0x0E, 0x0F, 0x13
KERNEL, ATOMIC, NOWAIT, HIGHUSER_MOVABLE = 0, 3, 4, 7


def alloc(slot, order=0, vcpu=0, sel=NOWAIT):
    return bytes([ALLOC, sel, 0, 0, 0, 0, order | vcpu << 4, slot])


def free(slot, vcpu=0):
    return bytes([FREE, slot, vcpu, 0, 0, 0, 0, 0])


def touch(slot):
    return bytes([TOUCH, slot, 0, 0, 0, 0, 0, 0])


def drain():
    return bytes([DRAIN, 0, 0, 0, 0, 0, 0, 0])


def shrinker_register(slot, pages, vcpu=0):
    return bytes([SHRINKER_REGISTER, slot, vcpu, pages - 1, 0, 0, 0, 0])


def shrinker_free(slot):
    return bytes([SHRINKER_FREE, slot, 0, 0, 0, 0, 0, 0])


def shrink():
    return bytes([SHRINK, 0, 0, 0, 0, 0, 0, 0])


def reclaim_step(priority=0, sel=KERNEL):
    return bytes([RECLAIM_STEP, sel, 0, priority, 0, 0, 0, 0])


def seed(threads, depth, scripts, schedule=b""):
    n = max(len(s) for s in scripts)
    out = bytes([threads - 2, depth - 1, n - 1, 0])
    for s in scripts:
        body = b"".join(s)
        out += body + bytes([0xFF] * (8 * n - len(body)))  # unknown op 0xff: skipped
    return out + schedule


def main():
    d = pathlib.Path(__file__).resolve().parent.parent / "corpus" / "interleave"
    d.mkdir(parents=True, exist_ok=True)
    # Two threads on one vCPU: the per-CPU trylock taken and lost, refills and frees.
    same_cpu = [alloc(i, 0, 1) for i in range(4)] + [touch(1)] + [free(i, 1) for i in range(4)]
    (d / "same_vcpu").write_bytes(seed(2, 2, [same_cpu, same_cpu], bytes([0x04, 0x05] * 32)))
    # A drainer against two allocators: drain_all_pages takes the others' trylocks.
    a = [alloc(i, i % 2, i % 4) for i in range(6)] + [free(i, (i + 1) % 4) for i in range(6)]
    (d / "remote_drain").write_bytes(
        seed(3, 3, [a, a[::-1], [drain(), alloc(0), drain(), free(0, 2), drain()]],
             bytes(range(0, 256, 7))))
    # Four threads, orders 0..3 and past the per-CPU lists (buddy merges under zone->lock),
    # frees on other vCPUs; no schedule bytes, so PCT decides from the start.
    mixed = [alloc(i, o, i % 4, sel) for i, (o, sel) in
             enumerate([(0, NOWAIT), (3, ATOMIC), (5, NOWAIT), (1, KERNEL), (9, NOWAIT)])]
    mixed += [touch(2), free(0, 3), free(1, 2), free(2, 1), free(3, 0), free(4, 0)]
    (d / "mixed_orders_pct").write_bytes(seed(4, 4, [mixed] * 4))
    # Remote frees: allocate on vCPU 0, free on vCPU 2 while another thread allocates there.
    r1 = [alloc(i, 0, 0) for i in range(8)] + [free(i, 2) for i in range(8)]
    r2 = [alloc(i, 0, 2, HIGHUSER_MOVABLE) for i in range(8)] + [free(i, 0) for i in range(8)]
    (d / "remote_free").write_bytes(seed(2, 3, [r1, r2], bytes([0x01, 0x80, 0x02, 0x41] * 16)))
    # shrinker_free() against a walk inside the shrinker: thread 0 registers and fills a
    # shrinker, then walks (each scan frees pages: a scheduling point per page); thread 1
    # frees slot 0, registers its own and frees it again. The schedule gives thread 0 its
    # first `points` scheduling points, then thread 1 the rest: at 4 thread 0's walk finds
    # thread 1's shrinker and is inside its scan when thread 1 frees it; at 331 thread 1
    # frees thread 0's own shrinker under its walk. shrinker_free() must wait for the scan
    # (I15): both inputs fail with the wait taken out of shrinker_registry::free().
    walker = [shrinker_register(0, 8), shrink(), shrink()]
    freer = [shrinker_free(0), shrinker_register(0, 8, 1), shrinker_free(0)]
    for name, points in (("shrinker_free_vs_walk", 4), ("shrinker_free_vs_own_walk", 331)):
        rest = [(points % 64 - 1) << 2] if points % 64 else []
        sched = bytes([0xFC] * (points // 64) + rest)
        (d / name).write_bytes(seed(2, 1, [walker, freer], sched + bytes([0xFD] * 60)))
    # Three threads, no schedule bytes: PCT decides when the frees come.
    walker = [shrinker_register(0, 8), shrinker_register(1, 8, 1), shrink(), reclaim_step(0),
              shrinker_register(0, 8), reclaim_step(0), shrink()]
    freer = [alloc(0), shrinker_free(0), shrinker_register(0, 8, 2), shrinker_free(1),
             alloc(1, 0, 2), shrinker_free(0), shrinker_register(1, 4, 3), free(0), free(1, 2)]
    (d / "shrinker_free_vs_walk_pct").write_bytes(
        seed(3, 4, [walker, freer, [reclaim_step(1), shrinker_free(1), shrink(),
                                    shrinker_register(1, 8, 3), reclaim_step(0)]]))

    # A drain against a pop and a push on the same CPU, the trylock paths the rseq default
    # never runs: worker thread 0 on vCPU 0 allocates (refilling its empty lists from the
    # buddy) and frees, while thread 1 drains every CPU, vCPU 0 first (drain_all_pages()
    # takes each trylock and steals each list). Each schedule runs the worker up to one step
    # of its path (`lead` full turns of 64 points, then k points), the drainer `points` (3:
    # it has taken vCPU 0's trylock and holds it), then the worker on; each seed was checked
    # (a debugger on the replay) to reach what its name says: the worker's pop finding the
    # trylock taken (allocation from the buddy), the drainer finding the worker inside its
    # critical section (it waits, yielding), the worker's free finding the trylock taken
    # (freed to the buddy). The steps are the library's atomics as of this writing: a change
    # on these paths moves them, and the seeds become mere starting points for the fuzzer.
    worker = [alloc(0, 0, 0), alloc(1, 0, 0), free(0, 0), alloc(2, 1, 0), free(1, 0),
              alloc(3, 0, 0, HIGHUSER_MOVABLE), free(2, 0), free(3, 0), alloc(4, 0, 0),
              free(4, 0)]
    drainer = [drain(), alloc(0, 0, 0), drain(), free(0, 0), drain()]
    alternate = bytes([(j % 8) << 2 | (j & 1) for j in range(32)])

    def turns(lead, k, points):
        if lead == 0:
            head = [(k - 1) << 2 | 0, (points - 1) << 2 | 1, 31 << 2 | 0, 15 << 2 | 1]
        else:
            head = [63 << 2 | 0] * lead + [(k - 1) << 2 | 0, (points - 1) << 2 | 1, 63 << 2 | 0,
                                           63 << 2 | 0, 15 << 2 | 1]
        return bytes(head) + alternate

    for name, lead, k, points in (
            ("drain_vs_pop_1", 0, 1, 3), ("drain_vs_pop_2", 0, 2, 3),
            ("drain_waits_4", 0, 4, 4), ("drain_waits_5", 0, 5, 8),
            ("drain_waits_long", 3, 25, 3), ("drain_vs_free_57", 3, 57, 3),
            ("drain_vs_free_9", 4, 9, 3)):
        (d / name).write_bytes(seed(2, 2, [worker, drainer], turns(lead, k, points)))


if __name__ == "__main__":
    main()
