# Which libsrtp2 the srtp module links (REFRTC_SRTP_LIB).
#
# DECISION (issue D): libsrtp 2.5.0 from the Debian source package (`apt-get source libsrtp2=<installed
# libsrtp2-dev version>`) with mbedTLS as its crypto engine (-DENABLE_MBEDTLS=ON) — the same mbedTLS
# 2.28 that DTLS already uses — for native and for WASM. Native: built by cmake/deps/build-native-srtp.sh
# (clang -O3, static PIC, cached by version in ~/.cache/refrtc/native-deps/, ~10 s on a miss), against
# Debian's libmbedcrypto (AES-NI). Why, measured on this 2-core machine (shared, load ≈ 2-3):
#
#   benchmarks/srtp_bench.cc (Google Benchmark, raw libsrtp calls, medians of 5, CPU ns per packet;
#   build with -DREFRTC_SRTP_BENCH_ALL=ON, run bin/srtp_bench_{debian,internal,mbedtls}):
#                                       protect 160 B / 1200 B     unprotect 160 B / 1200 B
#     AES_CM_128_HMAC_SHA1_80
#       (a) Debian libsrtp2 (NSS)         2566 / 4882                2191 / 4748
#       (b) source, internal crypto       1561 / 8433                1549 / 8418
#       (c) source, mbedTLS crypto         747 / 3225                 754 / 3295
#     AEAD_AES_128_GCM
#       (a) Debian libsrtp2 (NSS)          766 /  962                 735 /  945
#       (b) source, internal crypto       — (libsrtp's internal crypto has no GCM)
#       (c) source, mbedTLS crypto         777 / 4820                 856 / 5270
#
#   WASM (Node 20, emscripten 3.1.6, -O3; one-off chrono loop, 20000 packets, min of 5 runs, ns):
#     CM_80 internal crypto (today's wasmdep_srtp2)   protect 2741 / 9212  unprotect 1876 / 9259
#     CM_80 mbedTLS crypto (the WASM mbedTLS)         protect 2582 / 10522 unprotect 2125 / 10812
#     GCM   mbedTLS crypto                            protect 2233 / 12891 unprotect 2038 / 12174
#
# AES_CM_128_HMAC_SHA1_80 is the profile that matters: mbedTLS 2.28's use_srtp negotiates only the two
# AES-CM profiles, so GCM is unreachable through our own DTLS for now. For it (c) is the fastest native
# build: 3.1x faster than NSS at 160 B (NSS builds a cipher context per packet) and 1.5x at 1200 B,
# 2.6x faster than internal crypto at 1200 B. In WASM (no AES-NI) mbedTLS and the internal AES are on par
# (within ~14 %, inside this machine's noise). (c) also gives GCM in both builds (internal has none;
# mbedTLS GCM is slower than NSS's — table GHASH, no PCLMUL in 2.28 — acceptable while unreachable), and
# one crypto library, already linked for DTLS, on both targets instead of three (NSS / internal / mbedTLS).
# gcc -O3 is much slower than clang on libsrtp's code (wasm-notes), hence clang.
#
# WASM: wasm/deps/build.sh (not this file's) builds wasmdep_srtp2; for the decision above it should pass
# -DENABLE_MBEDTLS=ON -DMBEDTLS_INCLUDE_DIRS=$PREFIX/include -DMBED{TLS,X509,CRYPTO}_LIBRARY=$PREFIX/lib/lib
# mbed{tls,x509,crypto}.a to its libsrtp2 build (mbedTLS is installed into $PREFIX first). Until then the
# WASM build has internal crypto (no GCM: SrtpSession::Create reports Unimplemented for it).
# REFRTC_SRTP_BUILD=debian|internal selects another native build (e.g. a machine without deb-src).

set(REFRTC_SRTP_BUILD "mbedtls" CACHE STRING
  "native libsrtp2: mbedtls | internal (Debian source package built by cmake/deps/build-native-srtp.sh) | debian (libsrtp2-dev, NSS)")
set_property(CACHE REFRTC_SRTP_BUILD PROPERTY STRINGS mbedtls internal debian)

# refrtc_srtp_import(<variant> <out-var>): makes an imported target for one native libsrtp2 build and
# stores its name in <out-var>. The builds export the same symbols: link at most one per binary.
function(refrtc_srtp_import variant out)
  if(variant STREQUAL "debian")
    if(NOT TARGET PkgConfig::SRTP2_DEBIAN)
      pkg_check_modules(SRTP2_DEBIAN REQUIRED IMPORTED_TARGET GLOBAL libsrtp2)
    endif()
    set(${out} PkgConfig::SRTP2_DEBIAN PARENT_SCOPE)
    return()
  endif()
  if(NOT variant MATCHES "^(internal|mbedtls)$")
    message(FATAL_ERROR "REFRTC_SRTP_BUILD: unknown libsrtp2 build '${variant}' (mbedtls|internal|debian)")
  endif()
  set(target refrtc_srtp2_${variant})
  if(NOT TARGET ${target})
    # Cached by version outside the build dir; a miss fetches the source package and builds (~10 s).
    execute_process(COMMAND bash ${CMAKE_SOURCE_DIR}/cmake/deps/build-native-srtp.sh ${variant}
      OUTPUT_VARIABLE prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0 OR NOT EXISTS "${prefix}/lib/libsrtp2.a")
      message(FATAL_ERROR "cmake/deps/build-native-srtp.sh ${variant} failed (${rc}); `./refrtc setup` "
        "installs clang and dpkg-dev and adds deb-src entries; REFRTC_SRTP_BUILD=debian avoids the build")
    endif()
    message(STATUS "libsrtp2 (${variant} crypto, from the Debian source package): ${prefix}")
    set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
      ${CMAKE_SOURCE_DIR}/cmake/deps/build-native-srtp.sh ${CMAKE_SOURCE_DIR}/cmake/deps/common.sh)
    add_library(${target} STATIC IMPORTED GLOBAL)
    set_target_properties(${target} PROPERTIES IMPORTED_LOCATION ${prefix}/lib/libsrtp2.a
      INTERFACE_INCLUDE_DIRECTORIES ${prefix}/include)
    if(variant STREQUAL "mbedtls")
      if(MBEDCRYPTO_LIB)
        set_target_properties(${target} PROPERTIES INTERFACE_LINK_LIBRARIES ${MBEDCRYPTO_LIB})
      else()
        set_target_properties(${target} PROPERTIES INTERFACE_LINK_LIBRARIES mbedcrypto)
      endif()
    endif()
  endif()
  set(${out} ${target} PARENT_SCOPE)
endfunction()

if(EMSCRIPTEN)
  set(REFRTC_SRTP_LIB wasmdep_srtp2)
  # An mbedTLS-backed libsrtp2 needs libmbedcrypto after it on the link line (harmless otherwise).
  if(TARGET wasmdep_srtp2 AND TARGET wasmdep_mbedcrypto)
    set_property(TARGET wasmdep_srtp2 APPEND PROPERTY INTERFACE_LINK_LIBRARIES wasmdep_mbedcrypto)
  endif()
else()
  refrtc_srtp_import(${REFRTC_SRTP_BUILD} REFRTC_SRTP_LIB)
endif()
