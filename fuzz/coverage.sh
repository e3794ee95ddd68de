#!/usr/bin/env bash
# Fuzzing campaign with source coverage (issue F):
#   fuzz/coverage.sh [seconds-per-target] [target...]     (default 60 s, every fuzz/*_fuzzer.cc)
# 1. builds the fuzz targets with clang source-based coverage (-fprofile-instr-generate
#    -fcoverage-mapping) and libFuzzer into build-fuzz-cov/ (REFRTC_FUZZ_COV_DIR overrides);
# 2. runs each target for N seconds from a scratch copy of fuzz/corpus/<name> with its dictionary
#    (fuzz/dicts.sh) and -print_final_stats=1: execs/s = stat::number_of_executed_units / N, new
#    inputs = what libFuzzer added to the scratch corpus;
# 3. replays stored + new corpus once with LLVM_PROFILE_FILE, llvm-profdata merge, llvm-cov report
#    restricted to the sources the target is about (its stack/src module, or the harness files);
# 4. writes build-fuzz-cov/campaign.md (a Markdown table) and campaign.json.
# The stored corpus is never modified: new inputs stay in build-fuzz-cov/campaign/<name>/new/.
# Note: the root CMakeLists.txt builds fuzzers with ASan+UBSan too, so execs/s here include the
# sanitizers and the profile counters (lower than `./refrtc fuzz`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET="${1:-60}"
shift || true
ONLY=("$@")
COV_DIR="${REFRTC_FUZZ_COV_DIR:-$ROOT/build-fuzz-cov}"
JOBS="${REFRTC_JOBS:-2}"
# shellcheck source=dicts.sh
source "$ROOT/fuzz/dicts.sh"

# llvm-profdata / llvm-cov of clang's own major version (clang-14 → llvm-cov-14).
major="$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)"
find_tool() {
  local t
  for t in "$1-$major" "$1"; do
    if command -v "$t" >/dev/null; then echo "$t"; return; fi
  done
  echo "coverage.sh: $1 (for clang $major) not found" >&2
  exit 1
}
PROFDATA="$(find_tool llvm-profdata)"
LLVMCOV="$(find_tool llvm-cov)"

# The sources whose line coverage a target is judged by (relative to the repo).
sources_of() {
  local name="$1" m
  case "$name" in
    driver_command) echo "harness/drivers/native/native_driver.cc" ;;
    driver_reply) echo "harness/src/driver_line.cc" ;;
    scenario_reader) echo "harness/src/scenario.cc" ;;
    relay_rewrite) echo "harness/src/relay.cc" ;;
    relay_frame) echo "wasm/relay/ws_frame.cc" ;;
    certificate_pem) echo "stack/src/api/rtc_certificate.cc stack/src/dtls/certificate.cc" ;;
    identity_assertion) echo "stack/src/api/identity_assertion.cc" ;;
    jsep_apply) echo "stack/src/api stack/src/sdp" ;;
    media_session) echo "stack/src/api/media_session.cc" ;;
    whole_peer) echo "stack/src" ;;
    turn_client) echo "stack/src/ice/turn_client.cc" ;;
    ice_candidate) echo "stack/src/ice/candidate.cc" ;;
    ice_agent) echo "stack/src/ice/agent.cc" ;;
    dtls_record) echo "stack/src/dtls" ;;
    telephone_event) echo "stack/src/rtp/telephone_event.cc" ;;
    rtp_receive_stats) echo "stack/src/rtp/receive_statistics.cc" ;;
    rtp_receive_stream) echo "stack/src/rtp/rtp_streams.cc" ;;
    vp8_depacketize | h264_depacketize) echo "stack/src/media" ;;
    sdp_rtp_description) echo "stack/src/sdp/rtp_description.cc" ;;
    dcep_parse) echo "stack/src/sctp/dcep.cc" ;;
    rtp_parse) echo "stack/src/rtp/rtp_packet.cc" ;;
    rtcp_parse) echo "stack/src/rtp/rtcp_packet.cc" ;;
    *)
      m="${name%%_*}"
      if [[ -d "$ROOT/stack/src/$m" ]]; then echo "stack/src/$m"; else echo "stack/src"; fi ;;
  esac
}

# 1. The coverage build.
if [[ ! -f "$COV_DIR/build.ninja" ]]; then
  cmake -S "$ROOT" -B "$COV_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    "-DCMAKE_C_FLAGS=-fprofile-instr-generate -fcoverage-mapping" \
    "-DCMAKE_CXX_FLAGS=-fprofile-instr-generate -fcoverage-mapping" \
    -DCMAKE_EXE_LINKER_FLAGS=-fprofile-instr-generate \
    -DREFRTC_BUILD_FUZZERS=ON -DREFRTC_BUILD_TESTS=OFF -DREFRTC_BUILD_HARNESS=OFF -DREFRTC_BUILD_BENCHMARKS=OFF \
    -DREFRTC_FUZZ_ENGINE=-fsanitize=fuzzer >/dev/null
fi
targets=()
for src in "$ROOT"/fuzz/*_fuzzer.cc; do
  name="$(basename "$src" _fuzzer.cc)"
  if ((${#ONLY[@]})); then
    keep=0
    for o in "${ONLY[@]}"; do [[ "$o" == "$name" || "$o" == "${name}_fuzzer" ]] && keep=1; done
    [[ $keep == 1 ]] || continue
  fi
  targets+=("$name")
done
cmake --build "$COV_DIR" -j"$JOBS" --target "${targets[@]/%/_fuzzer}" >"$COV_DIR/build.log" 2>&1 ||
  { tail -40 "$COV_DIR/build.log" >&2; exit 1; }

CAMPAIGN="$COV_DIR/campaign"
rm -rf "$CAMPAIGN"
mkdir -p "$CAMPAIGN"
load="$(cut -d' ' -f1-3 /proc/loadavg)"
md="$COV_DIR/campaign.md"
json_rows=()
{
  echo "# Fuzzing campaign ($(date -u '+%Y-%m-%d %H:%M UTC'), ${SECONDS_PER_TARGET} s per target, clang $major, $(nproc) cores, load $load)"
  echo
  echo "| target | seconds | execs | execs/s | stored corpus | new inputs | line coverage | lines | measured on |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
} >"$md"

for name in "${targets[@]}"; do
  bin="$COV_DIR/bin/${name}_fuzzer"
  dir="$CAMPAIGN/$name"
  mkdir -p "$dir/new"
  stored="$ROOT/fuzz/corpus/$name"
  corpora=("$dir/new")
  nstored=0
  if [[ -d "$stored" ]]; then
    # A scratch copy: libFuzzer may rewrite (reduce) files in every corpus directory it is given.
    cp -r "$stored" "$dir/stored"
    corpora+=("$dir/stored")
    nstored="$(find "$dir/stored" -type f | wc -l)"
  fi
  dict=()
  d="$(refrtc_fuzz_dict "$name")"
  [[ -n "$d" ]] && dict=(-dict="$d")
  # 2. Fuzz. New inputs go to the first corpus directory (new/); the profile of this run is discarded.
  status=ok
  LLVM_PROFILE_FILE="$dir/fuzz.profraw" "$bin" "${dict[@]}" -max_total_time="$SECONDS_PER_TARGET" \
    -print_final_stats=1 -artifact_prefix="$dir/" "${corpora[@]}" >"$dir/fuzz.log" 2>&1 || status=FAILED
  rm -f "$dir/fuzz.profraw"
  execs="$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$dir/fuzz.log" | grep -Eo '[0-9]+$' || echo 0)"
  nnew="$(find "$dir/new" -type f | wc -l)"
  eps="$(awk -v e="$execs" -v s="$SECONDS_PER_TARGET" 'BEGIN { printf "%.1f", e / s }')"
  # 3. Replay everything once with profiling on, then merge and report.
  LLVM_PROFILE_FILE="$dir/replay-%p.profraw" "$bin" -runs=0 "${corpora[@]}" >"$dir/replay.log" 2>&1 || status=FAILED
  "$PROFDATA" merge -sparse "$dir"/replay-*.profraw -o "$dir/$name.profdata"
  rm -f "$dir"/replay-*.profraw
  read -r -a srcs <<<"$(sources_of "$name")"
  paths=()
  for s in "${srcs[@]}"; do paths+=("$ROOT/$s"); done
  "$LLVMCOV" report "$bin" -instr-profile="$dir/$name.profdata" "${paths[@]}" >"$dir/coverage.txt" 2>/dev/null || true
  # TOTAL  regions missed cover  functions missed executed  lines missed cover ...
  read -r lines missed cover <<<"$(awk '$1 == "TOTAL" { print $8, $9, $10 }' "$dir/coverage.txt")"
  lines="${lines:-0}"; missed="${missed:-0}"; cover="${cover:-n/a}"
  covered=$((lines - missed))
  [[ $status == ok ]] || echo "coverage.sh: $name FAILED (log: $dir/fuzz.log)" >&2
  echo "| $name$([[ $status == ok ]] || echo " **FAILED**") | $SECONDS_PER_TARGET | $execs | $eps | $nstored | $nnew | $cover | $covered/$lines | ${srcs[*]} |" >>"$md"
  json_rows+=("$(printf '{"target":"%s","status":"%s","seconds":%s,"execs":%s,"execs_per_s":%s,"stored_corpus":%s,"new_inputs":%s,"line_coverage":"%s","lines_covered":%s,"lines":%s,"sources":"%s"}' \
    "$name" "$status" "$SECONDS_PER_TARGET" "$execs" "$eps" "$nstored" "$nnew" "$cover" "$covered" "$lines" "${srcs[*]}")")
  echo "coverage.sh: $name: $execs execs ($eps/s), $nnew new inputs, lines $cover of ${srcs[*]}" >&2
done

{
  echo "{\"seconds_per_target\": $SECONDS_PER_TARGET, \"clang\": \"$major\", \"load\": \"$load\", \"targets\": ["
  for i in "${!json_rows[@]}"; do
    echo "  ${json_rows[$i]}$([[ $i -lt $((${#json_rows[@]} - 1)) ]] && echo ,)"
  done
  echo "]}"
} >"$COV_DIR/campaign.json"
cat "$md"
echo "coverage.sh: $md, $COV_DIR/campaign.json; per-target logs and profiles in $CAMPAIGN/" >&2
