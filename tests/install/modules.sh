#!/usr/bin/env bash
# Builds the kernel test modules of tests/modules/ outside the tree, against the installed
# kernel include root with nothing but `pkg-config --cflags --libs gfplab-kernel`, runs each
# under the installed gfplab-run and checks its exit status and the report it must give,
# which names the module's own source line (the line marked EXPECT in the module).
# usage: modules.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1
src=$2
# shellcheck source=scratch_root.sh
. "$src/tests/install/scratch_root.sh"
scratch_root "$build" gfplab-kernel
run=$(installed gfplab-run) || exit 1
cc=${CC:-cc}
failed=0

# expect MODULE STATUS PATTERN...: each PATTERN (a grep -E regex; @LINE stands for the line
# of the module marked EXPECT) must appear in gfplab-run's output.
expect() {
  local mod=$1 want=$2
  shift 2
  local so=$root/$mod.so out status line
  # shellcheck disable=SC2046
  if ! $cc -std=gnu11 -Wall -Wextra -Werror -shared -fPIC -o "$so" "$src/tests/modules/$mod.c" \
      $(pkg-config --cflags --libs gfplab-kernel); then
    echo "FAIL $mod: does not build against the include root"; failed=1; return
  fi
  out=$(LD_LIBRARY_PATH=$libdir "$run" --memory 64M "$so" 2>&1)
  status=$?
  line=$(grep -n EXPECT "$src/tests/modules/$mod.c" | head -n1 | cut -d: -f1)
  if [ "$status" -ne "$want" ]; then
    echo "FAIL $mod: exit $status, expected $want"; echo "$out" | sed 's/^/  | /'; failed=1; return
  fi
  for pat in "$@"; do
    pat=${pat//@LINE/$line}
    if ! grep -qE -- "$pat" <<<"$out"; then
      echo "FAIL $mod: no line matches '$pat'"; echo "$out" | sed 's/^/  | /'; failed=1; return
    fi
  done
  echo "ok   $mod (exit $status)"
}

expect clean 0 'clean: 100 items' 'clean: done' '0 report\(s\), 0 warning\(s\), 0 leak\(s\): clean'
expect atomic_sleep 1 'I21 .*kmem_cache_alloc.*holds spinlock dev_lock \(from .*atomic_sleep\.c:@LINE\)' \
  'kmem_cache_alloc\(mode:0xcc0\(GFP_KERNEL\), order:0\) at .*atomic_sleep\.c:[0-9]+ may sleep'
expect irq_alloc 1 'I21 .*hardirq context \(from .*irq_alloc\.c:@LINE\)'
expect scope_order 1 'I8 scope mismatch: .*scope_order\.c:@LINE'
expect leak 1 'leak: 1 object\(s\) of cache kmalloc-256' 'leak: 2 page\(s\) still allocated' \
  'kmalloc of 256 bytes at 0x[0-9a-f]+, allocated at .*leak\.c:@LINE' \
  '__get_free_pages of 8192 bytes at 0x[0-9a-f]+, allocated at .*leak\.c:'
expect reclaim_lock 1 'I9 .*fs_reclaim -> cache_lock at .*reclaim_lock\.c:@LINE \(taken inside reclaim\)' \
  'I9 .*cache_lock -> fs_reclaim at .*reclaim_lock\.c:[0-9]+ \(allocation' 'shrinker called'
expect init_fails 4 'module_init returned -19' 'no device'
if grep -q "exit must not run" <<<"$(LD_LIBRARY_PATH=$libdir "$run" "$root/init_fails.so" 2>&1)"; then
  echo "FAIL init_fails: module_exit ran after a failed init"; failed=1
fi
expect no_init 3 'has no module_init\(\)'
out=$(LD_LIBRARY_PATH=$libdir "$run" "$root/missing.so" 2>&1)
if [ $? -ne 3 ] || ! grep -q "cannot load" <<<"$out"; then
  echo "FAIL missing module: $out"; failed=1
else
  echo "ok   missing module (exit 3)"
fi
[ "$failed" -eq 0 ] && echo "modules check: ok"
exit "$failed"
