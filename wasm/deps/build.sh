#!/usr/bin/env bash
# Builds the C/C++ dependencies of the WASM stack (mbedTLS, libsrtp2, usrsctp, Abseil, libopus, libvpx) with
# Debian's emscripten, from the Debian source packages of exactly the versions the native build links
# (`apt-get source NAME=VERSION`, VERSION read from the installed -dev package). Installs them into a
# cache outside the clone, keyed by those versions, the emscripten version and this script + its
# patches, so repeated runs (and CI on the same machine) reuse them:
#
#   ${XDG_CACHE_HOME:-~/.cache}/refrtc/wasm-deps/<key>/{include,lib,lib/cmake}
#
# Prints the install prefix on stdout (the only stdout line); progress goes to stderr and each
# dependency's build log to <prefix>.log/<name>.log.
#
# Needs: deb-src entries for apt (`./refrtc setup` adds them), dpkg-dev, emscripten, cmake, ninja.
#
# Flags and patches, with their reasons (facts from ../shared/wasm-notes.md, re-checked here):
#  - all:       -O3, static libraries only, no programs/tests. NODE_PATH=/usr/share/nodejs because
#               Debian's em* tools need node's system modules (acorn).
#  - mbedTLS:   MBEDTLS_SSL_DTLS_SRTP turned on with scripts/config.py (Debian's native libmbedtls has
#               it; upstream's default config does not). Everything else DTLS needs is on by default.
#  - libsrtp2:  crypto from the mbedTLS built just before it (-DENABLE_MBEDTLS=ON; the same choice
#               as natively, by benchmark: see cmake/Srtp.cmake); its CMake misdetects HAVE_X86
#               under emscripten, which only selects a portable code path.
#  - usrsctp:   AF_CONN only (-Dsctp_inet=OFF -Dsctp_inet6=OFF); C flags -D_GNU_SOURCE (its CMake adds
#               it only when CMAKE_SYSTEM_NAME is Linux, else `u_int` is unknown) and
#               `-include pthread.h` (it includes pthread.h only for -pthread builds; emscripten's
#               single-thread stubs suffice); -Dsctp_werror=OFF (clang warns on unused-but-set).
#               patches/usrsctp-no-ifindextoname.patch: the MTU lookup in usrsctp_register_address
#               calls if_indextoname → ioctl(SIOCGIFNAME), which emscripten aborts on ("bad ioctl
#               syscall 35088"); under __EMSCRIPTEN__ it now reports "no MTU known" (0), as it does
#               for an unknown interface.
#  - Abseil:    -DABSL_PROPAGATE_CXX_STD=ON -DCMAKE_CXX_STANDARD=17, tests off. Debian's packaging adds
#               `-latomic` (inside --push-state/--as-needed) to absl's link interface; wasm-ld knows
#               neither, and WASM needs no libatomic: removed from the installed abslTargets.cmake.
#  - libopus:   autotools (emconfigure/emmake), not its CMake: the 1.3.1 tarball's CMakeLists.txt
#               includes an opus_buildtype.cmake the tarball lacks, and Emscripten.cmake reports an
#               x86 CMAKE_SYSTEM_PROCESSOR, which would turn on SSE/cpuid code.
#               --host=wasm32-unknown-linux (its 2018 config.sub rejects *-emscripten; without --host,
#               configure tries to run a compiled test program) makes it a cross build: no asm,
#               intrinsics, run-time CPU detection or stack protector. Default float build (no
#               --enable-float-approx), hardening checks on, no custom modes (Debian enables them
#               natively; WebRTC uses only standard Opus), no extra programs or docs. Headers in
#               include/opus/.
#  - libvpx:    VP8 decoder only, so WASM sinks decode (framesDecoded); sending keeps the pre-encoded
#               pattern, so no encoder (and no VP9) is built. Its configure is not autotools (own
#               option set; CC/AR/... come from emconfigure's environment): --target=generic-gnu (plain
#               C, no asm/SIMD), --disable-runtime-cpu-detect (nothing to detect),
#               --disable-multithread (the stack decodes with one thread; no pthread needed),
#               --disable-webm-io --disable-libyuv (used only by its tools), no examples/tools/docs/
#               unit tests, static only. Its defaults already give -O3 -DNDEBUG. No postproc (Debian
#               enables it natively, but vp8_codec.cc never asks the decoder for it). STRIP=true: its
#               Makefile makes libvpx.a from libvpx_g.a with binutils' `strip --strip-debug`, which
#               keeps the WASM objects but drops emar's archive index (wasm-ld then warns "archive is
#               missing an index"); with a non-GNU strip it copies the archive instead (-O3 objects
#               have no debug info to strip). Headers in include/vpx/ (decoder headers only:
#               vp8dx.h, vpx_decoder.h, no vp8cx.h).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"
JOBS="${REFRTC_WASM_DEPS_JOBS:-$(nproc)}"

say() { echo "wasm-deps: $*" >&2; }
die() { say "$*"; exit 1; }

# shellcheck source=../../cmake/deps/common.sh
source "$HERE/../../cmake/deps/common.sh"
command -v emcmake >/dev/null || die "emcmake not found (Debian package emscripten; ./refrtc setup)"

# name:source-package:-dev package whose version is pinned
DEPS=(
  "mbedtls:mbedtls:libmbedtls-dev"
  "libsrtp2:libsrtp2:libsrtp2-dev"
  "usrsctp:libusrsctp:libusrsctp-dev"
  "abseil:abseil:libabsl-dev"
  "opus:opus:libopus-dev"
  "libvpx:libvpx:libvpx-dev"
)

key_input="$(cat "$HERE/build.sh" "$HERE/../../cmake/deps/common.sh" "$HERE"/patches/*.patch; emcc --version 2>/dev/null | head -1)"
for d in "${DEPS[@]}"; do
  IFS=: read -r name src dev <<<"$d"
  v="$(deps_version_of "$dev")"
  [[ -n $v ]] || die "$dev is not installed (./refrtc setup)"
  key_input+=" $src=$v"
done
KEY="$(printf '%s' "$key_input" | sha256sum | cut -c1-16)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/refrtc/wasm-deps"
PREFIX="$CACHE/$KEY"
deps_cached "$CACHE" "$KEY"

WORK="$CACHE/work-$KEY"
LOGS="$PREFIX.log"
rm -rf "$WORK" "$PREFIX"
mkdir -p "$WORK" "$LOGS" "$PREFIX"
say "building mbedTLS, libsrtp2, usrsctp, Abseil, libopus and libvpx for WASM into $PREFIX (logs: $LOGS)"

cmake_build() {  # cmake_build NAME SRC_DIR [cmake args...]
  local name="$1" srcdir="$2"; shift 2
  local b="$WORK/build-$name"
  say "  $name"
  {
    emcmake cmake -S "$srcdir" -B "$b" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_C_FLAGS_RELEASE="-O3 -DNDEBUG" \
      -DCMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG" "$@" &&
      cmake --build "$b" -j"$JOBS" &&
      cmake --install "$b"
  } >"$LOGS/$name.log" 2>&1 || die "$name failed; last lines of $LOGS/$name.log:
$(tail -20 "$LOGS/$name.log")"
}

configure_build() {  # configure_build NAME SRC_DIR [configure args...]: out-of-tree configure + make
  local name="$1" srcdir="$2"; shift 2
  local b="$WORK/build-$name"
  say "  $name"
  mkdir -p "$b"
  {
    (cd "$b" && emconfigure "$srcdir/configure" --prefix="$PREFIX" "$@") &&
      emmake make -C "$b" -j"$JOBS" &&
      make -C "$b" install
  } >"$LOGS/$name.log" 2>&1 || die "$name failed; last lines of $LOGS/$name.log:
$(tail -20 "$LOGS/$name.log")"
}

autotools_build() {  # autotools_build NAME SRC_DIR [configure args...]: static only
  configure_build "$1" "$2" --disable-shared --enable-static --disable-maintainer-mode \
    --disable-dependency-tracking CFLAGS="-O3 -DNDEBUG" "${@:3}"
}

for d in "${DEPS[@]}"; do
  IFS=: read -r name src dev <<<"$d"
  ver="$(deps_version_of "$dev")"
  dir="$(deps_fetch "$WORK" "$LOGS" "$src" "$ver")"
  case "$name" in
    mbedtls)
      (cd "$dir" && python3 scripts/config.py set MBEDTLS_SSL_DTLS_SRTP) >>"$LOGS/$name.log" 2>&1 ||
        die "mbedtls config.py failed"
      cmake_build mbedtls "$dir" -DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF \
        -DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DUSE_STATIC_MBEDTLS_LIBRARY=ON
      ;;
    libsrtp2)
      # mbedTLS crypto (built just above): the one libsrtp build choice for native and WASM, chosen by
      # benchmark (cmake/Srtp.cmake): fastest native AES_CM_128_HMAC_SHA1_80, and it has AES-GCM,
      # which the internal crypto lacks.
      cmake_build libsrtp2 "$dir" -DTEST_APPS=OFF -DENABLE_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF \
        -DLIBSRTP_TEST_APPS=OFF -DENABLE_MBEDTLS=ON -DMBEDTLS_INCLUDE_DIRS="$PREFIX/include" \
        -DMBEDTLS_LIBRARY="$PREFIX/lib/libmbedtls.a" -DMBEDX509_LIBRARY="$PREFIX/lib/libmbedx509.a" \
        -DMBEDCRYPTO_LIBRARY="$PREFIX/lib/libmbedcrypto.a"
      ;;
    usrsctp)
      (cd "$dir" && patch -p1 <"$HERE/patches/usrsctp-no-ifindextoname.patch") >>"$LOGS/$name.log" 2>&1 ||
        die "usrsctp patch failed (see $LOGS/$name.log)"
      cmake_build usrsctp "$dir" -Dsctp_build_programs=OFF -Dsctp_inet=OFF -Dsctp_inet6=OFF \
        -Dsctp_debug=OFF -Dsctp_werror=OFF -Dsctp_build_shared_lib=OFF \
        -DCMAKE_C_FLAGS="-D_GNU_SOURCE -include pthread.h"
      ;;
    abseil)
      cmake_build abseil "$dir" -DABSL_PROPAGATE_CXX_STD=ON -DCMAKE_CXX_STANDARD=17 -DBUILD_TESTING=OFF \
        -DABSL_BUILD_TESTING=OFF
      # Debian's abseil adds "-Wl,--push-state,--as-needed -latomic -Wl,--pop-state" to the link
      # interface of absl::base & co.; wasm-ld knows neither those flags nor a libatomic (atomics are
      # builtins in WASM), so drop them from the installed CMake targets.
      sed -i -E -e 's/-Wl,--push-state,--as-needed|\\\$<LINK_ONLY:-latomic>|-latomic|-Wl,--pop-state//g' \
        -e 's/;;+/;/g; s/"(;)+/"/g; s/;+"/"/g' "$PREFIX/lib/cmake/absl/abslTargets.cmake"
      ! grep -q -E -- '-latomic|push-state' "$PREFIX/lib/cmake/absl/abslTargets.cmake" || die "abseil: -latomic still in its targets"
      ;;
    opus)
      autotools_build opus "$dir" --host=wasm32-unknown-linux --disable-extra-programs --disable-doc \
        --disable-asm --disable-intrinsics --disable-rtcd
      [[ -f $PREFIX/lib/libopus.a && -f $PREFIX/include/opus/opus.h ]] || die "opus: libopus.a or opus/opus.h not installed"
      ;;
    libvpx)
      # Not autotools: configure_build, not autotools_build (its configure rejects their options).
      STRIP=true configure_build libvpx "$dir" --target=generic-gnu --disable-vp9 --disable-vp8-encoder \
        --enable-vp8-decoder --disable-multithread --disable-runtime-cpu-detect --disable-webm-io \
        --disable-libyuv --disable-examples --disable-tools --disable-docs --disable-unit-tests \
        --enable-static --disable-shared
      [[ -f $PREFIX/lib/libvpx.a && -f $PREFIX/include/vpx/vp8dx.h && -f $PREFIX/include/vpx/vpx_decoder.h ]] ||
        die "libvpx: libvpx.a or vpx/vp8dx.h, vpx/vpx_decoder.h not installed"
      # The archive's first member must be the symbol index ("/"), see STRIP=true above.
      [[ $(head -c 10 "$PREFIX/lib/libvpx.a" | tail -c 2) == "/ " ]] || die "libvpx: libvpx.a has no archive index"
      ;;
  esac
done

rm -rf "$WORK"
touch "$PREFIX/.complete"
say "done"
echo "$PREFIX"
