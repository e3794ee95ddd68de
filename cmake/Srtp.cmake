# Which libsrtp2 the srtp module links (REFRTC_SRTP_LIB). WASM: the build from the Debian source
# package (wasm/deps/build.sh). Native: Debian's libsrtp2 for now; issue D chooses one build for both
# by benchmark (see stack/src/srtp/).
if(EMSCRIPTEN)
  set(REFRTC_SRTP_LIB wasmdep_srtp2)
elseif(NOT REFRTC_STACK_ONLY)
  pkg_check_modules(SRTP2 REQUIRED IMPORTED_TARGET libsrtp2)
  set(REFRTC_SRTP_LIB PkgConfig::SRTP2)
endif()
