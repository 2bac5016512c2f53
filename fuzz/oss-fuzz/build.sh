#!/bin/bash -eu
# SPDX-License-Identifier: MIT
#
# OSS-Fuzz / ClusterFuzzLite build: every libFuzzer target with the engine's compilers and
# flags ($CC, $CXX, $CXXFLAGS, $LIB_FUZZING_ENGINE), into $OUT with its seed corpus
# (<target>_seed_corpus.zip), dictionary and .options. Plain compiler calls rather than meson:
# the builder images vary, the sources need nothing generated. fmt and nlohmann/json come
# from $SRC/fmt and $SRC/json when the Dockerfile cloned them (the images' own are too old),
# else from the system.
src=${GFPLAB_SRC:-$SRC/gfplab}
cd "$src"
inc=(-std=c++20 -Ilib/include -Ifuzz/ops)
if [ -d "$SRC/fmt/include" ]; then inc+=(-I"$SRC/fmt/include" -DFMT_HEADER_ONLY); fmt=(); else fmt=(-lfmt); fi
if [ -d "$SRC/json/include" ]; then inc+=(-I"$SRC/json/include"); fi

obj="$WORK/gfplab-obj"
mkdir -p "$obj"
objects=()
for f in lib/src/*/*.cpp fuzz/ops/*.cpp; do
    o="$obj/$(echo "$f" | tr / _).o"
    $CXX $CXXFLAGS "${inc[@]}" -c "$f" -o "$o"
    objects+=("$o")
done

# fuzz_interleave links its own copy of the library, whose atomics and locks are the
# deterministic scheduler's switch points (GFPLAB_SYNC_DETERMINISTIC, gfplab/sync/atom.hpp).
det_objects=()
for f in lib/src/*/*.cpp fuzz/sched/scheduler.cpp fuzz/ops/op_stream.cpp; do
    o="$obj/det_$(echo "$f" | tr / _).o"
    $CXX $CXXFLAGS "${inc[@]}" -DGFPLAB_SYNC_DETERMINISTIC=1 -c "$f" -o "$o"
    det_objects+=("$o")
done

for target in fuzz_gfp_format fuzz_ops fuzz_scopes fuzz_interleave; do
    if [ "$target" = fuzz_interleave ]; then
        $CXX $CXXFLAGS "${inc[@]}" -DGFPLAB_SYNC_DETERMINISTIC=1 "fuzz/$target.cpp" \
            "${det_objects[@]}" $LIB_FUZZING_ENGINE "${fmt[@]}" -lpthread -o "$OUT/$target"
    else
        $CXX $CXXFLAGS "${inc[@]}" "fuzz/$target.cpp" "${objects[@]}" $LIB_FUZZING_ENGINE \
            "${fmt[@]}" -lpthread -o "$OUT/$target"
    fi
    corpus="fuzz/corpus/${target#fuzz_}"
    (cd "$corpus" && zip -q -j "$OUT/${target}_seed_corpus.zip" ./*)
    if [ -f "fuzz/$target.options" ]; then cp "fuzz/$target.options" "$OUT/"; fi
    if [ -f "fuzz/$target.dict" ]; then cp "fuzz/$target.dict" "$OUT/"; fi
done
