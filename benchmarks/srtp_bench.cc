// SRTP protect/unprotect throughput through raw libsrtp2 calls (issue D: choosing the libsrtp build).
// The same source is compiled once per libsrtp build (srtp_bench_<variant>, see
// benchmarks/CMakeLists.txt): the builds share symbol names, so each executable links exactly one.
// Profiles: AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4, §8.2) and AEAD_AES_128_GCM (RFC 7714 §14.2);
// payloads 160 B (20 ms of G.711) and 1200 B (a full video packet); 12-byte RTP header.
// A build without GCM (libsrtp's internal crypto) reports the GCM cases as skipped.
#include <benchmark/benchmark.h>
#include <srtp2/srtp.h>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

namespace {

enum Profile { kCm80 = 0, kGcm128 = 1 };

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { srtp_init(); });
}

// A session over every SSRC of one direction; nullptr if the build lacks the profile.
srtp_t MakeSession(Profile profile, bool outbound) {
  InitOnce();
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  if (profile == kCm80) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  }
  static uint8_t key[SRTP_MAX_KEY_LEN];
  for (size_t i = 0; i < sizeof(key); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  policy.key = key;
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.window_size = 1024;
  srtp_t session = nullptr;
  if (srtp_create(&session, &policy) != srtp_err_status_ok) return nullptr;
  return session;
}

void WriteRtp(uint8_t* p, uint16_t seq, size_t payload) {
  p[0] = 0x80;
  p[1] = 96;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  const uint32_t ts = seq * 960u, ssrc = 0x12345678;
  for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  std::memset(p + 12, 0xab, payload);
}

void BM_Protect(benchmark::State& state) {
  const auto profile = static_cast<Profile>(state.range(0));
  const size_t payload = static_cast<size_t>(state.range(1));
  srtp_t tx = MakeSession(profile, true);
  if (!tx) {
    state.SkipWithError("profile not supported by this libsrtp build");
    return;
  }
  std::vector<uint8_t> buf(12 + payload + SRTP_MAX_TRAILER_LEN);
  uint16_t seq = 0;
  for (auto _ : state) {
    WriteRtp(buf.data(), seq++, payload);
    int len = static_cast<int>(12 + payload);
    if (srtp_protect(tx, buf.data(), &len) != srtp_err_status_ok) {
      state.SkipWithError("srtp_protect failed");
      break;
    }
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * payload));
  srtp_dealloc(tx);
}

void BM_Unprotect(benchmark::State& state) {
  const auto profile = static_cast<Profile>(state.range(0));
  const size_t payload = static_cast<size_t>(state.range(1));
  srtp_t tx = MakeSession(profile, true);
  srtp_t rx = MakeSession(profile, false);
  if (!tx || !rx) {
    state.SkipWithError("profile not supported by this libsrtp build");
    if (tx) srtp_dealloc(tx);
    if (rx) srtp_dealloc(rx);
    return;
  }
  // Each protected packet can be unprotected once (replay protection), so protect a batch with
  // increasing sequence numbers outside the timed region and unprotect it in place.
  constexpr size_t kBatch = 2048;
  const size_t stride = 12 + payload + SRTP_MAX_TRAILER_LEN;
  std::vector<uint8_t> batch(kBatch * stride);
  std::vector<int> lens(kBatch);
  uint16_t seq = 0;
  size_t next = kBatch;
  bool failed = false;
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      for (size_t i = 0; i < kBatch; ++i) {
        WriteRtp(&batch[i * stride], seq++, payload);
        lens[i] = static_cast<int>(12 + payload);
        if (srtp_protect(tx, &batch[i * stride], &lens[i]) != srtp_err_status_ok) failed = true;
      }
      next = 0;
      state.ResumeTiming();
      if (failed) {
        state.SkipWithError("srtp_protect failed");
        break;
      }
    }
    if (srtp_unprotect(rx, &batch[next * stride], &lens[next]) != srtp_err_status_ok) {
      state.SkipWithError("srtp_unprotect failed");
      break;
    }
    ++next;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * payload));
  srtp_dealloc(tx);
  srtp_dealloc(rx);
}

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"gcm", "payload"});
  for (int profile : {kCm80, kGcm128})
    for (int payload : {160, 1200}) b->Args({profile, payload});
}

}  // namespace

BENCHMARK(BM_Protect)->Apply(Args);
BENCHMARK(BM_Unprotect)->Apply(Args);
BENCHMARK_MAIN();
