#!/usr/bin/env bash
# em++ portability check (issue A item 8): compile every sans-IO engine source, stack/src/**/*.cc, with
# Debian's emscripten so nothing non-portable creeps in. Compile only (-c to /dev/null): nothing is
# linked and no WASM dependency is built here; issue C makes the engine run. stack/io (the native host)
# and stack/testing are not compiled. Installs nothing: `./refrtc setup` installs the `emscripten` package.
# Prints one line per failing file and a summary line; exits non-zero if any file fails.
#
#   wasm/check.sh            check all files
#   WASM_CHECK_VERBOSE=1 wasm/check.sh   also print each failing file's full compiler output
#   WASM_CHECK_JOBS=N        parallel compiles (default 2)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Debian's em++ runs JS tools that need node's system modules (acorn); without this:
# "Cannot find module 'acorn'".
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"

if ! command -v em++ >/dev/null; then
  echo "wasm check: em++ not found (the Debian package 'emscripten'; run ./refrtc setup)" >&2
  exit 1
fi

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/refrtc"
INCLUDE_DIR="$CACHE/wasm-check-include"

# Third-party headers the engine uses, exposed one by one from the Debian -dev packages. /usr/include
# itself is never on the include path: glibc's headers must not shadow emscripten's sysroot (musl).
#   name in the staging dir -> system path (package)
THIRD_PARTY=(
  "absl:/usr/include/absl:libabsl-dev"
  "mbedtls:/usr/include/mbedtls:libmbedtls-dev"
  "psa:/usr/include/psa:libmbedtls-dev"          # mbedtls/ssl.h includes psa/crypto.h if USE_PSA_CRYPTO
  "usrsctp.h:/usr/include/usrsctp.h:libusrsctp-dev"
  "nlohmann:/usr/include/nlohmann:nlohmann-json3-dev"
)
mkdir -p "$INCLUDE_DIR"
wanted=()
for entry in "${THIRD_PARTY[@]}"; do
  IFS=: read -r name target pkg <<<"$entry"
  if [[ ! -e $target ]]; then
    echo "wasm check: $target missing (install $pkg: ./refrtc setup)" >&2
    exit 1
  fi
  # Touch the link only when it is wrong, so concurrent runs never see it missing.
  [[ $(readlink "$INCLUDE_DIR/$name" || true) == "$target" ]] || ln -sfn "$target" "$INCLUDE_DIR/$name"
  wanted+=("$name")
done
# Drop anything else found in the staging dir so no stale header can be picked up.
for f in "$INCLUDE_DIR"/* "$INCLUDE_DIR"/.[!.]*; do
  [[ -e $f || -L $f ]] || continue
  keep=0
  for name in "${wanted[@]}"; do [[ ${f##*/} == "$name" ]] && keep=1; done
  ((keep)) || rm -rf -- "$f"
done

# Per-run log dir (removed on success, kept on failure); logs of failed runs older than a day go.
find "$CACHE" -maxdepth 1 -name 'wasm-check-logs.*' -type d -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
LOG_DIR="$(mktemp -d "$CACHE/wasm-check-logs.XXXXXX")"

# Same language level and warning set as the native build (CMakeLists.txt). Warnings do not fail the
# check; errors do. -c (not -fsyntax-only) so clang's wasm32 code generation runs too.
export WASM_CHECK_FLAGS="-std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
  -I$ROOT/stack/src -I$ROOT/stack/include -isystem $INCLUDE_DIR"
export WASM_CHECK_LOG_DIR="$LOG_DIR"

compile_one() {
  local src="$1" log
  log="$WASM_CHECK_LOG_DIR/f_$(echo "$src" | tr '/' '_').log"
  # shellcheck disable=SC2086
  if [[ -f $src ]] && em++ $WASM_CHECK_FLAGS -c "$src" -o /dev/null >"$log" 2>&1; then
    rm -f "$log"
    : >"$log.ok"
  else
    local first
    first="$(grep -m1 -E 'error:|Error:|fatal' "$log" || head -n1 "$log")"
    echo "wasm check: FAIL $src: ${first:-em++ failed}"
    echo "$log" >"$log.failed"
  fi
  return 0
}
export -f compile_one

mapfile -d '' sources < <(find stack/src -name '*.cc' -print0 | sort -z)
if ((${#sources[@]} == 0)); then
  echo "wasm check: no sources found under stack/src" >&2
  exit 1
fi

# shellcheck disable=SC2016  # "$1" is expanded by the inner bash
printf '%s\0' "${sources[@]}" | xargs -0 -n1 -P"${WASM_CHECK_JOBS:-2}" bash -c 'compile_one "$1"' _ || true

# Every file must have left exactly one verdict; anything else is a broken check, never a pass.
shopt -s nullglob dotglob
oks=("$LOG_DIR"/*.ok)
fails=("$LOG_DIR"/*.failed)
failed=${#fails[@]}
if [[ ${WASM_CHECK_VERBOSE:-0} == 1 ]]; then
  for marker in "${fails[@]}"; do cat "$(cat "$marker")"; done
fi
if ((${#oks[@]} + failed != ${#sources[@]})); then
  echo "wasm check: internal error: ${#sources[@]} files, ${#oks[@]} passed + $failed failed (logs in $LOG_DIR)"
  exit 1
fi
if ((failed)); then
  echo "wasm check: ${#sources[@]} files compiled with em++, $failed failed (full logs in $LOG_DIR)"
  exit 1
fi
rm -rf "$LOG_DIR"
echo "wasm check: ${#sources[@]} files compiled with em++, 0 failed"
