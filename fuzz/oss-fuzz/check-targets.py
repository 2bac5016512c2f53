#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that the OSS-Fuzz / ClusterFuzzLite build (fuzz/oss-fuzz/build.sh, .clusterfuzzlite/)
builds the libFuzzer targets fuzz/meson.build builds, that each has its seed corpus and that
every file the images and workflows name exists. Argument: the source root."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
errors = []

meson = (root / "fuzz/meson.build").read_text()
table = re.search(r"fuzz_targets = \{(.*?)\n\}", meson, re.S).group(1)
in_meson = set(re.findall(r"'(fuzz_\w+)':", table))
if "interleave_fuzzer = executable('fuzz_interleave'" in meson:
    in_meson.add("fuzz_interleave")

build = (root / "fuzz/oss-fuzz/build.sh").read_text()
m = re.search(r"^targets=\((.*?)\)", build, re.M)
in_build = set(m.group(1).split()) if m else set()
for t in sorted(in_meson - in_build):
    errors.append(f"build.sh does not build {t} (fuzz/meson.build does)")
for t in sorted(in_build - in_meson):
    errors.append(f"build.sh builds {t}, which fuzz/meson.build does not know")
for t in sorted(in_build):
    if not (root / "fuzz" / f"{t}.cpp").is_file():
        errors.append(f"{t}: no fuzz/{t}.cpp")
    corpus = root / "fuzz/corpus" / t[len("fuzz_"):]
    if not corpus.is_dir() or not any(corpus.iterdir()):
        errors.append(f"{t}: no seeds in {corpus.relative_to(root)}")
    options = root / "fuzz" / f"{t}.options"
    if options.is_file():
        d = re.search(r"^dict = (\S+)", options.read_text(), re.M)
        if d and not (root / "fuzz" / d.group(1)).is_file():
            errors.append(f"{options.name} names a missing dictionary {d.group(1)}")

# Sources build.sh names by path must exist.
for path in re.findall(r"((?:tools|fuzz|lib|oracle)/[\w/.-]+\.(?:cpp|in))", build):
    if "*" not in path and not (root / path).is_file():
        errors.append(f"build.sh names a missing file {path}")

# The images copy their build script from where it is.
for dockerfile in ("fuzz/oss-fuzz/Dockerfile", ".clusterfuzzlite/Dockerfile"):
    for src in re.findall(r"^COPY (\S+) \$SRC/build\.sh", (root / dockerfile).read_text(), re.M):
        if not (root / src).is_file():
            errors.append(f"{dockerfile} copies a missing {src}")
for f in (".clusterfuzzlite/project.yaml", ".clusterfuzzlite/build.sh",
          ".github/workflows/cflite_pr.yml", ".github/workflows/cflite_batch.yml"):
    if not (root / f).is_file():
        errors.append(f"missing {f}")
for wf in (".github/workflows/cflite_pr.yml", ".github/workflows/cflite_batch.yml"):
    text = (root / wf).read_text() if (root / wf).is_file() else ""
    for action in ("build_fuzzers", "run_fuzzers"):
        if f"google/clusterfuzzlite/actions/{action}@" not in text:
            errors.append(f"{wf} does not use ClusterFuzzLite's {action}")

for e in errors:
    print("check-targets:", e)
print(f"check-targets: {len(in_build)} targets, {len(errors)} problems")
sys.exit(1 if errors else 0)
