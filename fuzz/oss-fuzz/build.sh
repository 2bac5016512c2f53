#!/bin/bash -eu
# SPDX-License-Identifier: MIT
#
# OSS-Fuzz / ClusterFuzzLite build: every libFuzzer target with the engine's compilers and
# flags ($CC, $CXX, $CXXFLAGS, $LIB_FUZZING_ENGINE), into $OUT with its seed corpus
# (<target>_seed_corpus.zip), dictionary and .options. Plain compiler calls rather than meson:
# the builder images vary. The one generated source, the version file, is written here.
# fmt and nlohmann/json come from $SRC/fmt and $SRC/json when the Dockerfile cloned them
# (the images' own are too old), else from the system; liburcu-bp (>= 0.13) from the system
# when pkg-config finds it, else built from $SRC/urcu (the images' Ubuntu has 0.11).
# The target list must match fuzz/meson.build's (the test fuzz-oss-build-targets checks).
# GFPLAB_FUZZ_TARGETS="fuzz_gfp_format ..." builds only those (a quick local check).
src=${GFPLAB_SRC:-$SRC/gfplab}
cd "$src"
targets=(fuzz_gfp_format fuzz_ops fuzz_scopes fuzz_kernel_log fuzz_interleave)
if [ -n "${GFPLAB_FUZZ_TARGETS:-}" ]; then read -r -a targets <<<"$GFPLAB_FUZZ_TARGETS"; fi

inc=(-std=c++20 -Ilib/include -Ifuzz/ops -Ioracle -Itools/decode)
if [ -d "$SRC/fmt/include" ]; then inc+=(-I"$SRC/fmt/include" -DFMT_HEADER_ONLY); fmt=(); else fmt=(-lfmt); fi
if [ -d "$SRC/json/include" ]; then inc+=(-I"$SRC/json/include"); fi

obj="$WORK/gfplab-obj"
mkdir -p "$obj"

# liburcu-bp: RCU in lib/src/rcu. Built without the sanitizers (it is not what we fuzz).
if pkg-config --atleast-version=0.13 liburcu-bp 2>/dev/null; then
    urcu=($(pkg-config --libs liburcu-bp))
else
    prefix="$WORK/urcu"
    if [ ! -f "$prefix/lib/liburcu-bp.a" ]; then
        (cd "$SRC/urcu" && ./bootstrap && env -u CFLAGS -u CXXFLAGS ./configure --quiet \
            --prefix="$prefix" --disable-shared --enable-static && make -s -j"$(nproc)" install)
    fi
    inc+=(-I"$prefix/include")
    urcu=("$prefix/lib/liburcu-bp.a" "$prefix/lib/liburcu-common.a")
fi

# lib/src/mm/version.cpp.in with meson's vcs_tag substituted.
rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
ver=$(sed -n "s/^ *version: '\([^']*\)'.*/\1/p" meson.build | head -n 1)
sed "s/@VCS_TAG@/\"$ver\", \"$rev\"/" lib/src/mm/version.cpp.in >"$obj/version.cpp"
lib_sources=(lib/src/*/*.cpp "$obj/version.cpp")

compile() { # compile ARRAY PREFIX EXTRA-FLAGS... -- SOURCES...: appends the objects to ARRAY
    local -n into=$1
    local prefix=$2 extra=() f o
    shift 2
    while [ "$1" != -- ]; do extra+=("$1"); shift; done
    shift
    for f in "$@"; do
        o="$obj/${prefix}$(echo "$f" | tr / _).o"
        $CXX $CXXFLAGS "${inc[@]}" "${extra[@]}" -c "$f" -o "$o"
        into+=("$o")
    done
}

need() { for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }

# The library, the fuzz executor and the reference oracle (fuzz/ops, oracle/), and
# gfplab-decode's log reader (tools/decode without its command line).
objects=()
compile objects "" -- "${lib_sources[@]}" fuzz/ops/*.cpp oracle/*.cpp
decode_objects=()
if need fuzz_kernel_log; then
    compile decode_objects "" -- tools/decode/auto_era.cpp tools/decode/explain.cpp \
        tools/decode/log.cpp tools/decode/log_scan.cpp tools/decode/mask.cpp
fi

# fuzz_interleave links its own copy of the library, whose atomics and locks are the
# deterministic scheduler's switch points (GFPLAB_SYNC_DETERMINISTIC, gfplab/sync/atom.hpp).
det_objects=()
if need fuzz_interleave; then
    compile det_objects det_ -DGFPLAB_SYNC_DETERMINISTIC=1 -- "${lib_sources[@]}" \
        fuzz/sched/scheduler.cpp fuzz/ops/op_stream.cpp fuzz/ops/shrinker_liveness.cpp oracle/*.cpp
fi

for target in "${targets[@]}"; do
    if [ "$target" = fuzz_interleave ]; then
        $CXX $CXXFLAGS "${inc[@]}" -DGFPLAB_SYNC_DETERMINISTIC=1 "fuzz/$target.cpp" \
            "${det_objects[@]}" $LIB_FUZZING_ENGINE "${fmt[@]}" "${urcu[@]}" -lpthread \
            -o "$OUT/$target"
    else
        $CXX $CXXFLAGS "${inc[@]}" "fuzz/$target.cpp" "${objects[@]}" "${decode_objects[@]}" \
            $LIB_FUZZING_ENGINE "${fmt[@]}" "${urcu[@]}" -lpthread -o "$OUT/$target"
    fi
    corpus="fuzz/corpus/${target#fuzz_}"
    rm -f "$OUT/${target}_seed_corpus.zip"
    (cd "$corpus" && zip -q -j "$OUT/${target}_seed_corpus.zip" ./*)
    if [ -f "fuzz/$target.options" ]; then cp "fuzz/$target.options" "$OUT/"; fi
    if [ -f "fuzz/$target.dict" ]; then cp "fuzz/$target.dict" "$OUT/"; fi
done
