#!/usr/bin/env bash
# The tracepoints' USDT probes (lib/src/trace/tracepoint.hpp) are where perf, bpftrace and
# systemtap look for them: every event in the shared library, named provider:name as the
# kernel's subsystem:event, with the kernel's TP_PROTO argument count; the fast path's in a
# program linked with the static library; and gfplab-stress loads the shared library, so that
# `bpftrace -p PID` finds them in a running campaign. Skipped (77) only without readelf.
# usage: usdt-probes.sh LIBGFPLAB_SO STATIC_PROGRAM GFPLAB_STRESS
set -euo pipefail
command -v readelf >/dev/null || { echo "readelf not found (binutils): skipped"; exit 77; }
lib=$1 static=$2 stress=$3

# "provider:name argc" for every probe note of a binary.
probes() {
    readelf -n "$1" | awk '
        /^ +Provider:/ { p = $2 }
        /^ +Name:/ { n = $2 }
        /^ +Arguments:/ { sub(/^ +Arguments: */, ""); print p ":" n " " (length($0) ? split($0, a, " ") : 0) }' |
        sort -u
}

expected="kmem:mm_page_alloc 4
kmem:mm_page_free 2
kmem:mm_page_pcpu_drain 3
kmem:mm_page_alloc_zone_locked 4
vmscan:mm_vmscan_direct_reclaim_begin 2
vmscan:mm_vmscan_direct_reclaim_end 1
vmscan:mm_vmscan_kswapd_wake 3
vmscan:mm_vmscan_kswapd_sleep 1
vmscan:mm_shrink_slab_start 7
vmscan:mm_shrink_slab_end 6
oom:mark_victim 3"

have=$(probes "$lib")
fail=0
while read -r probe argc; do
    if ! grep -qx "$probe $argc" <<<"$have"; then
        echo "$lib: no USDT probe $probe with $argc arguments"
        fail=1
    fi
done <<<"$expected"
[ "$fail" = 0 ] || { echo "probes found:"; echo "$have"; exit 1; }
echo "$lib: $(wc -l <<<"$have") probe(s): $(cut -d' ' -f1 <<<"$have" | tr '\n' ' ')"

static_have=$(probes "$static")
for probe in kmem:mm_page_alloc kmem:mm_page_free; do
    grep -q "^$probe " <<<"$static_have" || { echo "$static: no USDT probe $probe"; exit 1; }
done
echo "$static: the fast path's probes are there"

readelf -d "$stress" | grep -q 'NEEDED.*\[libgfplab\.so' ||
    { echo "$stress does not load libgfplab.so: its probes would be elsewhere"; exit 1; }
echo "$stress loads libgfplab.so"
