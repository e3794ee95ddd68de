#!/bin/bash -eu
# OSS-Fuzz build script for refrtc (conventions: https://google.github.io/oss-fuzz/getting-started/new-project-guide/).
# Inputs from the environment: CC, CXX, CFLAGS, CXXFLAGS (sanitizer + -fsanitize=fuzzer-no-link),
# LIB_FUZZING_ENGINE (how to link the engine), OUT (where binaries, seed corpora and dictionaries
# go), SRC (checkouts), WORK (scratch; optional). Every fuzz/<name>_fuzzer.cc becomes $OUT/<name>_fuzzer
# with $OUT/<name>_fuzzer_seed_corpus.zip (fuzz/corpus/<name>/) and $OUT/<name>_fuzzer.dict.
#
# The repository: $REFRTC_SRC, else the checkout this script lives in (fuzz/oss-fuzz/build.sh),
# else $SRC/refrtc (the Dockerfile's clone). Local test, from the repository:
#   CC=clang CXX=clang++ CFLAGS="-fsanitize=address,fuzzer-no-link" CXXFLAGS="-fsanitize=address,fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/ossfuzz-out SRC=/work SANITIZER=address fuzz/oss-fuzz/build.sh
#
# Note: the root CMakeLists.txt adds -fsanitize=fuzzer-no-link,address,undefined to the whole build
# when REFRTC_BUILD_FUZZERS is on, so every OSS-Fuzz configuration runs with ASan+UBSan on top of
# $SANITIZER (fine for project.yaml's address and undefined; memory would not work).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -n "${REFRTC_SRC:-}" ]]; then root="$REFRTC_SRC"
elif [[ -f "$here/../../CMakeLists.txt" && -d "$here/../corpus" ]]; then root="$(cd "$here/../.." && pwd)"
else root="$SRC/refrtc"
fi
build="${WORK:-/tmp}/refrtc-ossfuzz-build"
mkdir -p "$OUT"

# Release build (assertions kept in fuzz builds: the root CMakeLists.txt adds -UNDEBUG).
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DREFRTC_BUILD_FUZZERS=ON -DREFRTC_BUILD_TESTS=OFF -DREFRTC_BUILD_HARNESS=OFF -DREFRTC_BUILD_BENCHMARKS=OFF \
  -DREFRTC_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" -DREFRTC_FUZZ_SANITIZERS=

targets=()
for src in "$root"/fuzz/*_fuzzer.cc; do targets+=("$(basename "$src" .cc)"); done
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

# shellcheck source=../dicts.sh
source "$root/fuzz/dicts.sh"
for t in "${targets[@]}"; do
  name="${t%_fuzzer}"
  cp "$build/bin/$t" "$OUT/$t"
  if [[ -d "$root/fuzz/corpus/$name" ]]; then
    rm -f "$OUT/${t}_seed_corpus.zip"
    (cd "$root/fuzz/corpus/$name" && zip -q -r -j "$OUT/${t}_seed_corpus.zip" .)
  fi
  dict="$(refrtc_fuzz_dict "$name")"
  if [[ -n "$dict" ]]; then cp "$dict" "$OUT/$t.dict"; fi
done
echo "refrtc: ${#targets[@]} fuzz targets in $OUT"
