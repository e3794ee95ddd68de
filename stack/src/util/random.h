// The engine's only source of randomness: seeded by the host, so that virtual-time tests and
// fuzzers replay exactly. Native hosts seed it from the OS (std::random_device).
#pragma once
#include <cstdint>
#include <random>
#include <string>

#include "util/bytes.h"

namespace refrtc {

class Random {
 public:
  explicit Random(uint64_t seed) : gen_(seed) {}
  uint64_t U64() { return gen_(); }
  uint32_t U32() { return static_cast<uint32_t>(gen_()); }
  // Uniform in [lo, hi].
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + gen_() % (hi - lo + 1); }
  double Unit() { return std::uniform_real_distribution<double>(0.0, 1.0)(gen_); }
  void Fill(uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(gen_() >> 24);
  }
  Bytes RandomBytes(size_t n) {
    Bytes b(n);
    Fill(b.data(), n);
    return b;
  }
  // Characters from the ICE alphabet (RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/").
  std::string IceString(size_t n) {
    static const char kChars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string s(n, ' ');
    for (auto& c : s) c = kChars[gen_() % 64];
    return s;
  }
  // mbedTLS-style f_rng callback: `p_rng` is a Random*.
  static int MbedtlsRng(void* p_rng, unsigned char* out, size_t len) {
    static_cast<Random*>(p_rng)->Fill(out, len);
    return 0;
  }

 private:
  std::mt19937_64 gen_;
};

}  // namespace refrtc
