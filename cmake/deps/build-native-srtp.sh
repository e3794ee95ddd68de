#!/usr/bin/env bash
# Builds libsrtp2 natively from the Debian source package of exactly the installed libsrtp2-dev version
# (`apt-get source libsrtp2=VERSION`, Debian's patches applied), as a static PIC library with clang -O3.
# Called by cmake/Srtp.cmake at configure time; modelled on wasm/deps/build.sh. Usage:
#
#   build-native-srtp.sh [internal|mbedtls]     (default: mbedtls)
#
#   internal: libsrtp's own AES-ICM / HMAC-SHA1 (-DENABLE_OPENSSL=OFF); no AEAD (GCM) profiles.
#   mbedtls:  -DENABLE_MBEDTLS=ON against Debian's libmbedtls-dev (AES-NI, GCM); the consumer links
#             libmbedcrypto itself.
#
# Installs into a cache outside the clone, keyed by the variant, this script, the libsrtp2-dev (and,
# for mbedtls, libmbedtls-dev) version and the clang version:
#
#   ${XDG_CACHE_HOME:-~/.cache}/refrtc/native-deps/<key>/{include/srtp2,lib/libsrtp2.a}
#
# Prints the install prefix on stdout (the only stdout line); progress goes to stderr and the build log
# to <prefix>.log/. A cache miss takes well under a minute (libsrtp is ~20 C files).
#
# Needs: deb-src entries for apt and dpkg-dev (`./refrtc setup` adds/installs both), clang, cmake, ninja.
# Why clang: gcc -O3 is much slower on libsrtp's internal AES (../../shared notes); clang is also what
# the fuzz build uses, and it is in ./refrtc setup's package list.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VARIANT="${1:-mbedtls}"
JOBS="${REFRTC_NATIVE_DEPS_JOBS:-$(nproc)}"

say() { echo "native-deps: $*" >&2; }
die() { say "$*"; exit 1; }
# shellcheck source=common.sh
source "$HERE/common.sh"

case "$VARIANT" in internal|mbedtls) ;; *) die "unknown variant '$VARIANT' (internal|mbedtls)";; esac
command -v clang >/dev/null || die "clang not found (./refrtc setup installs it)"
command -v apt-get >/dev/null || die "apt-get not found: the source build needs a Debian system"

SRTP_VER="$(deps_version_of libsrtp2-dev)"
[[ -n $SRTP_VER ]] || die "libsrtp2-dev is not installed (./refrtc setup)"
key_input="$(cat "$HERE/build-native-srtp.sh" "$HERE/common.sh"; clang --version 2>/dev/null | head -1) variant=$VARIANT libsrtp2=$SRTP_VER"
if [[ $VARIANT == mbedtls ]]; then
  MBED_VER="$(deps_version_of libmbedtls-dev)"
  [[ -n $MBED_VER ]] || die "libmbedtls-dev is not installed (./refrtc setup)"
  key_input+=" mbedtls=$MBED_VER"
fi
KEY="srtp-$VARIANT-$(printf '%s' "$key_input" | sha256sum | cut -c1-16)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/refrtc/native-deps"
PREFIX="$CACHE/$KEY"
deps_cached "$CACHE" "$KEY"

WORK="$CACHE/work-$KEY"
LOGS="$PREFIX.log"
rm -rf "$WORK" "$PREFIX"
mkdir -p "$WORK" "$LOGS" "$PREFIX"
say "building libsrtp2 $SRTP_VER ($VARIANT crypto, clang -O3) into $PREFIX (logs: $LOGS)"

SRC="$(deps_fetch "$WORK" "$LOGS" libsrtp2 "$SRTP_VER")"

crypto=(-DENABLE_OPENSSL=OFF -DENABLE_NSS=OFF -DENABLE_MBEDTLS=OFF)
[[ $VARIANT == mbedtls ]] && crypto=(-DENABLE_OPENSSL=OFF -DENABLE_NSS=OFF -DENABLE_MBEDTLS=ON)
{
  cmake -S "$SRC" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang -DCMAKE_C_FLAGS_RELEASE="-O3 -DNDEBUG" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF \
    -DLIBSRTP_TEST_APPS=OFF -DTEST_APPS=OFF "${crypto[@]}" \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib &&
    cmake --build "$WORK/build" -j"$JOBS" &&
    cmake --install "$WORK/build"
} >"$LOGS/build.log" 2>&1 || die "libsrtp2 build failed; last lines of $LOGS/build.log:
$(tail -20 "$LOGS/build.log")"
[[ -f $PREFIX/lib/libsrtp2.a && -f $PREFIX/include/srtp2/srtp.h ]] || die "libsrtp2 install incomplete in $PREFIX"

rm -rf "$WORK"
touch "$PREFIX/.complete"
say "done"
echo "$PREFIX"
