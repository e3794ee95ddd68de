// Security regressions for SrtpSession (RFC 3711 SRTP/SRTCP, RFC 7714 AEAD): truncated packets,
// the SRTCP E flag under AEAD (libsrtp #817/#818 class), the 31-bit SRTCP index, replay windows,
// and the rule that the ROC and replay window move only after a packet authenticated
// (RFC 3711 §3.3 step 7). Every attack is followed by genuine packets that must still decrypt
// to the original plaintext: the attack left no state behind.
//
// Existing coverage this file does not repeat (stack/tests/srtp/srtp_session_test.cc):
// MalformedPacketsAreRejectedBeforeLibsrtp (shorter than header / tag, header extension past the
// end), ReplayedRtpIsRejected, ReplayedRtcpIsRejected, PacketFarBehindIsTooOld,
// AeadSrtcpWithEncryptionFlagZero (a genuinely authenticated E=0 packet is accepted, a tampered
// one or one with E flipped to 1 is not).
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <cstring>
#include <string>
#include <vector>

#include "mbedtls/aes.h"
#include "mbedtls/md.h"
#include "srtp/srtp_session.h"

namespace refrtc::srtp {
namespace {

constexpr Profile kAllProfiles[] = {Profile::kAes128CmHmacSha1_80, Profile::kAes128CmHmacSha1_32,
                                    Profile::kAeadAes128Gcm};

Bytes Key(Profile p) {
  Bytes k(MasterKeyLength(p));
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(0x31 + i * 7);
  return k;
}
Bytes Salt(Profile p) {
  Bytes s(MasterSaltLength(p));
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(0xA0 + i);
  return s;
}
bool Supported(Profile p) {
  return SrtpSession::Create(p, Direction::kProtect, Key(p), Salt(p)).status().code() !=
         absl::StatusCode::kUnimplemented;
}
struct Pair {
  SrtpSession tx, rx;
};
Pair MakePair(Profile p) {
  auto tx = SrtpSession::Create(p, Direction::kProtect, Key(p), Salt(p));
  auto rx = SrtpSession::Create(p, Direction::kUnprotect, Key(p), Salt(p));
  EXPECT_TRUE(tx.ok() && rx.ok());
  return Pair{std::move(*tx), std::move(*rx)};
}

Bytes Rtp(uint16_t seq, size_t payload = 40, uint32_t ssrc = 0x0BADCAFE) {
  Bytes p = {0x80, 96, static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq), 0, 1, 2, 3};
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<uint8_t>(ssrc >> (24 - 8 * i)));
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(i ^ seq));
  return p;
}
// RFC 3550 §6.4.2 receiver report with `words` made-up 32-bit words after the sender SSRC.
Bytes Rtcp(size_t words = 6, uint32_t ssrc = 0x0BADCAFE) {
  const uint16_t length = static_cast<uint16_t>(1 + words);
  Bytes p = {0x80, 201, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<uint8_t>(ssrc >> (24 - 8 * i)));
  for (size_t i = 0; i < 4 * words; ++i) p.push_back(static_cast<uint8_t>(i * 11 + 3));
  return p;
}

// Offset of the E flag ‖ SRTCP index word: before the tag for AES-CM (RFC 3711 §3.4), last for
// AEAD (RFC 7714 §9: the tag is part of the ciphertext).
size_t IndexOffset(Profile p, size_t protected_size) {
  return p == Profile::kAeadAes128Gcm ? protected_size - 4 : protected_size - RtcpOverhead(p);
}

class SrtpSecurity : public ::testing::TestWithParam<Profile> {
 protected:
  void SetUp() override {
    if (!Supported(GetParam())) GTEST_SKIP() << ProfileName(GetParam()) << " not in this libsrtp build";
  }
};
INSTANTIATE_TEST_SUITE_P(AllProfiles, SrtpSecurity, ::testing::ValuesIn(kAllProfiles),
                         [](const auto& info) { return std::string(ProfileName(info.param)); });

// RFC 3711 §3.3 steps 1-5: an SRTP/SRTCP packet cut at ANY length — inside the header, inside the
// payload, inside the tag — is rejected before or by authentication, and leaves no trace: the
// uncut packet is accepted afterwards (the replay window did not record it).
TEST_P(SrtpSecurity, EveryTruncationIsRejectedWithoutStateChange) {
  Pair s = MakePair(GetParam());
  const Bytes plain = Rtp(7);
  Bytes wire = plain;
  ASSERT_TRUE(s.tx.ProtectRtp(wire).ok());
  for (size_t n = 0; n < wire.size(); ++n) {
    Bytes cut(wire.begin(), wire.begin() + n);
    const absl::StatusCode code = s.rx.UnprotectRtp(cut).code();
    EXPECT_TRUE(code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kUnauthenticated)
        << "RTP cut to " << n << " bytes: " << static_cast<int>(code);
  }
  Bytes whole = wire;
  ASSERT_TRUE(s.rx.UnprotectRtp(whole).ok());
  EXPECT_EQ(whole, plain);

  const Bytes rtcp_plain = Rtcp();
  Bytes rtcp = rtcp_plain;
  ASSERT_TRUE(s.tx.ProtectRtcp(rtcp).ok());
  for (size_t n = 0; n < rtcp.size(); ++n) {
    Bytes cut(rtcp.begin(), rtcp.begin() + n);
    const absl::StatusCode code = s.rx.UnprotectRtcp(cut).code();
    EXPECT_TRUE(code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kUnauthenticated)
        << "SRTCP cut to " << n << " bytes: " << static_cast<int>(code);
  }
  ASSERT_TRUE(s.rx.UnprotectRtcp(rtcp).ok());
  EXPECT_EQ(rtcp, rtcp_plain);
}

// RFC 3711 §3.3 / RFC 3550 §5.3.1: a header extension whose length fits the packet but runs into
// the authentication tag would make libsrtp authenticate/decrypt with a negative payload length.
// SrtpSession rejects it (InvalidArgument) before libsrtp, for every length that reaches the tag.
TEST_P(SrtpSecurity, HeaderExtensionRunningIntoTheTagIsRejected) {
  Pair s = MakePair(GetParam());
  const size_t tag = RtpOverhead(GetParam());
  Bytes plain = Rtp(11, 24);
  plain[0] |= 0x10;  // X: a 4-byte extension header at offset 12 (the payload's first word)
  plain[12] = 0xBE;
  plain[13] = 0xDE;
  plain[14] = 0;
  plain[15] = 1;  // one word
  Bytes wire = plain;
  ASSERT_TRUE(s.tx.ProtectRtp(wire).ok());
  ASSERT_EQ(wire.size(), plain.size() + tag);
  // Extension lengths (in words) whose end falls inside the tag or past the packet.
  for (size_t words = 2; words < 0x100; ++words) {
    const size_t header_end = 16 + 4 * words;
    if (header_end <= wire.size() - tag) continue;  // still before the tag: just a bad MAC
    Bytes bad = wire;
    bad[14] = static_cast<uint8_t>(words >> 8);
    bad[15] = static_cast<uint8_t>(words);
    EXPECT_EQ(s.rx.UnprotectRtp(bad).code(), absl::StatusCode::kInvalidArgument) << words;
  }
  Bytes bad = wire;
  bad[14] = bad[15] = 0xff;
  EXPECT_EQ(s.rx.UnprotectRtp(bad).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(s.rx.UnprotectRtp(wire).ok());
  EXPECT_EQ(wire, plain);
}

// RFC 3711 §3.3 step 7, §3.3.1: the ROC and the replay window are updated only after the packet
// authenticated. A forged packet whose SEQ would be estimated as the next ROC (the receiver is
// near the wrap) fails authentication and must not roll the ROC over: the genuine packets that
// follow, before and across the real wrap, all decrypt to their plaintext. (sipsorcery #1662:
// AEAD receivers that advanced the index before the GCM tag check were poisoned forever.)
TEST_P(SrtpSecurity, ForgedPacketCannotRollTheRocOver) {
  Pair s = MakePair(GetParam());
  std::vector<Bytes> plain, wire;
  for (uint32_t i = 64990; i < 65536 + 100; ++i) {
    plain.push_back(Rtp(static_cast<uint16_t>(i), 20));
    wire.push_back(plain.back());
    ASSERT_TRUE(s.tx.ProtectRtp(wire.back()).ok()) << i;
  }
  for (size_t i = 0; i <= 10; ++i) {  // up to SEQ 65000, ROC 0
    Bytes w = wire[i];
    ASSERT_TRUE(s.rx.UnprotectRtp(w).ok());
  }
  // Forgeries: a genuine packet re-labelled with SEQ 30000 (estimated as ROC 1, index 2^16 +
  // 30000) or SEQ 100 (ROC 1, just past the wrap), and a random tag.
  for (uint16_t forged_seq : {uint16_t{30000}, uint16_t{100}, uint16_t{65535}}) {
    Bytes forged = wire[20];
    forged[2] = static_cast<uint8_t>(forged_seq >> 8);
    forged[3] = static_cast<uint8_t>(forged_seq);
    EXPECT_EQ(s.rx.UnprotectRtp(forged).code(), absl::StatusCode::kUnauthenticated) << forged_seq;
    Bytes junk_tag = wire[30];
    for (size_t k = 1; k <= RtpOverhead(GetParam()); ++k) junk_tag[junk_tag.size() - k] ^= 0x5A;
    EXPECT_EQ(s.rx.UnprotectRtp(junk_tag).code(), absl::StatusCode::kUnauthenticated);
  }
  // The genuine stream continues: 65001..65535 with ROC 0, then 0..99 with ROC 1.
  for (size_t i = 11; i < wire.size(); ++i) {
    Bytes w = wire[i];
    ASSERT_TRUE(s.rx.UnprotectRtp(w).ok()) << "genuine packet " << i << " after the forgeries";
    ASSERT_EQ(w, plain[i]) << i;
  }
}

// Same rule for the replay window without a wrap: a forged packet far ahead (SEQ +20000) must not
// slide the window, or every genuine packet after it would be "too old".
TEST_P(SrtpSecurity, ForgedPacketCannotSlideTheReplayWindow) {
  Pair s = MakePair(GetParam());
  std::vector<Bytes> wire;
  for (uint16_t seq = 100; seq < 110; ++seq) {
    wire.push_back(Rtp(seq));
    ASSERT_TRUE(s.tx.ProtectRtp(wire.back()).ok());
  }
  Bytes first = wire[0];
  ASSERT_TRUE(s.rx.UnprotectRtp(first).ok());
  Bytes forged = wire[1];
  forged[2] = static_cast<uint8_t>(20100 >> 8);
  forged[3] = static_cast<uint8_t>(20100 & 0xff);
  EXPECT_EQ(s.rx.UnprotectRtp(forged).code(), absl::StatusCode::kUnauthenticated);
  for (size_t i = 1; i < wire.size(); ++i) {
    Bytes w = wire[i];
    EXPECT_TRUE(s.rx.UnprotectRtp(w).ok()) << i;
  }
  // The same for SRTCP: a genuine packet with its index raised to 2^31 - 1 fails authentication
  // and the window does not move.
  std::vector<Bytes> rtcp;
  for (int i = 0; i < 4; ++i) {
    rtcp.push_back(Rtcp(3 + i));
    ASSERT_TRUE(s.tx.ProtectRtcp(rtcp.back()).ok());
  }
  Bytes r0 = rtcp[0];
  ASSERT_TRUE(s.rx.UnprotectRtcp(r0).ok());
  Bytes high = rtcp[1];
  const size_t off = IndexOffset(GetParam(), high.size());
  high[off] = (high[off] & 0x80) | 0x7f;
  high[off + 1] = high[off + 2] = high[off + 3] = 0xff;
  EXPECT_EQ(s.rx.UnprotectRtcp(high).code(), absl::StatusCode::kUnauthenticated);
  for (size_t i = 1; i < rtcp.size(); ++i) {
    Bytes w = rtcp[i];
    EXPECT_TRUE(s.rx.UnprotectRtcp(w).ok()) << i;
  }
}

// RFC 3711 §3.3.2, §3.4: SRTCP uses a replay window too (128 in libsrtp); a packet older than the
// window is rejected as OutOfRange even though it authenticates.
TEST_P(SrtpSecurity, SrtcpOlderThanReplayWindowIsRejected) {
  Pair s = MakePair(GetParam());
  std::vector<Bytes> wire;
  for (int i = 0; i < 200; ++i) {
    wire.push_back(Rtcp(2));
    ASSERT_TRUE(s.tx.ProtectRtcp(wire.back()).ok());
  }
  Bytes last = wire[199];
  ASSERT_TRUE(s.rx.UnprotectRtcp(last).ok());
  Bytes old = wire[199 - SrtpSession::kRtcpReplayWindow - 1];
  EXPECT_EQ(s.rx.UnprotectRtcp(old).code(), absl::StatusCode::kOutOfRange);
  Bytes inside = wire[199 - 100];
  EXPECT_TRUE(s.rx.UnprotectRtcp(inside).ok());
  Bytes again = wire[199 - 100];
  EXPECT_EQ(s.rx.UnprotectRtcp(again).code(), absl::StatusCode::kAlreadyExists);
}

// libsrtp #817/#818 class, RFC 7714 §9 / RFC 3711 §3.4: a genuine encrypted packet (E=1) with E
// cleared must not be accepted as "authenticated plaintext" (the ciphertext would be handed up as
// RTCP), nor may an E=0 packet with a forged, zeroed or missing tag. refrtc refuses every E=0
// packet up front (InvalidArgument; see AuthenticatedUnencryptedSrtcpIsRefused below).
TEST_P(SrtpSecurity, SrtcpWithEncryptionFlagClearedIsNotAcceptedAsPlaintext) {
  const Profile p = GetParam();
  Pair s = MakePair(p);
  const Bytes plain = Rtcp(5);
  Bytes wire = plain;
  ASSERT_TRUE(s.tx.ProtectRtcp(wire).ok());
  const size_t off = IndexOffset(p, wire.size());
  ASSERT_EQ(wire[off] & 0x80, 0x80) << "refrtc always encrypts SRTCP";

  Bytes e_cleared = wire;
  e_cleared[off] &= 0x7f;
  EXPECT_EQ(s.rx.UnprotectRtcp(e_cleared).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e_cleared[off] & 0x80, 0) << "refused before libsrtp touched it";
  // E cleared and the body replaced by the plaintext (what an E=0 packet would carry), old tag.
  Bytes e_cleared_plain = e_cleared;
  std::copy(plain.begin(), plain.end(), e_cleared_plain.begin());
  EXPECT_EQ(s.rx.UnprotectRtcp(e_cleared_plain).code(), absl::StatusCode::kInvalidArgument);
  // E=0 with an all-zero tag.
  Bytes zero_tag = e_cleared_plain;
  const size_t tag_len = RtcpOverhead(p) - 4;
  const size_t tag_off = p == Profile::kAeadAes128Gcm ? zero_tag.size() - 4 - tag_len : zero_tag.size() - tag_len;
  std::fill(zero_tag.begin() + tag_off, zero_tag.begin() + tag_off + tag_len, 0);
  EXPECT_EQ(s.rx.UnprotectRtcp(zero_tag).code(), absl::StatusCode::kInvalidArgument);
  // E=0, index, no tag at all (the packet is the RTCP plus the 4-byte trailer only).
  Bytes no_tag = plain;
  no_tag.insert(no_tag.end(), {0x00, 0x00, 0x00, 0x01});
  EXPECT_EQ(s.rx.UnprotectRtcp(no_tag).code(), absl::StatusCode::kInvalidArgument);
  // E kept at 1 but the tag zeroed: authentication fails.
  Bytes e1_zero_tag = wire;
  std::fill(e1_zero_tag.begin() + tag_off, e1_zero_tag.begin() + tag_off + tag_len, 0);
  EXPECT_EQ(s.rx.UnprotectRtcp(e1_zero_tag).code(), absl::StatusCode::kUnauthenticated);
  // None of it touched the replay state: the genuine packet is accepted, decrypted.
  ASSERT_TRUE(s.rx.UnprotectRtcp(wire).ok());
  EXPECT_EQ(wire, plain);
}

// ---------------------------------------------------------------------------------------------
// The 31-bit SRTCP index (RFC 3711 §3.4: "SRTCP index ... 31 bits"; §9.2: a sender re-keys
// before it wraps). A legitimate sender cannot reach 2^31 - 1 in a test, so a small reference of
// the RFC 3711 key derivation (§4.3), AES-CM (§4.1.1) and HMAC-SHA1 (§4.2) builds correctly
// protected SRTCP packets with any index under the session's real master key; it is pinned to
// libsrtp's output first.

// RFC 3711 §4.3.1 with key_derivation_rate 0: AES-CM keystream from (salt XOR label·2^48)·2^16.
Bytes AesCm(const Bytes& key, uint8_t counter[16], const Bytes& in) {
  uint8_t stream[16];
  mbedtls_aes_context aes;
  mbedtls_aes_init(&aes);
  mbedtls_aes_setkey_enc(&aes, key.data(), 128);
  Bytes out(in.size());
  size_t off = 0;
  if (!in.empty()) mbedtls_aes_crypt_ctr(&aes, in.size(), &off, counter, stream, in.data(), out.data());
  mbedtls_aes_free(&aes);
  return out;
}
Bytes Kdf(const Bytes& master_key, const Bytes& master_salt, uint8_t label, size_t n) {
  uint8_t counter[16] = {};
  std::memcpy(counter, master_salt.data(), master_salt.size());
  counter[7] ^= label;
  return AesCm(master_key, counter, Bytes(n, 0));
}

// RFC 3711 §3.4 for AES_CM_128_HMAC_SHA1_80: RTCP header+SSRC ‖ AES-CM(rest) (if E) ‖ E‖index ‖
// HMAC-SHA1(k_a, everything before)[0..10). SRTCP labels: k_e 0x03, k_a 0x04, k_s 0x05 (§4.3.2).
Bytes ReferenceSrtcp(const Bytes& rtcp, uint32_t index, bool encrypt) {
  const Profile p = Profile::kAes128CmHmacSha1_80;
  const Bytes k_e = Kdf(Key(p), Salt(p), 0x03, 16), k_a = Kdf(Key(p), Salt(p), 0x04, 20),
              k_s = Kdf(Key(p), Salt(p), 0x05, 14);
  Bytes out = rtcp;
  if (encrypt) {
    uint8_t iv[16] = {};
    std::memcpy(iv, k_s.data(), 14);
    for (int i = 0; i < 4; ++i) iv[4 + i] ^= rtcp[4 + i];                                  // SSRC·2^64
    for (int i = 0; i < 4; ++i) iv[10 + i] ^= static_cast<uint8_t>(index >> (24 - 8 * i));  // i·2^16
    const Bytes body(rtcp.begin() + 8, rtcp.end());
    const Bytes enc = AesCm(k_e, iv, body);
    std::copy(enc.begin(), enc.end(), out.begin() + 8);
  }
  const uint32_t word = (encrypt ? 0x80000000u : 0u) | index;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(word >> (24 - 8 * i)));
  uint8_t mac[20];
  mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), k_a.data(), k_a.size(), out.data(),
                  out.size(), mac);
  out.insert(out.end(), mac, mac + 10);
  return out;
}

// A raw libsrtp sender (the same master key) with SRTCP confidentiality off: it emits E=0 packets.
Bytes LibsrtpUnencryptedSrtcp(Profile p, const Bytes& rtcp) {
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  if (p == Profile::kAeadAes128Gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
  policy.rtcp.sec_serv = sec_serv_auth;
  uint8_t master[30] = {};
  std::memcpy(master, Key(p).data(), 16);
  std::memcpy(master + 16, Salt(p).data(), MasterSaltLength(p));
  policy.key = master;
  policy.ssrc.type = ssrc_any_outbound;
  policy.window_size = 128;
  srtp_t raw = nullptr;
  EXPECT_EQ(srtp_create(&raw, &policy), srtp_err_status_ok);
  if (!raw) return {};
  Bytes pkt = rtcp;
  pkt.resize(rtcp.size() + 4 + SRTP_MAX_TRAILER_LEN);
  int len = static_cast<int>(rtcp.size());
  EXPECT_EQ(srtp_protect_rtcp(raw, pkt.data(), &len), srtp_err_status_ok);
  srtp_dealloc(raw);
  pkt.resize(static_cast<size_t>(len));
  return pkt;
}

TEST(SrtpSecuritySrtcpIndex, ReferenceMatchesLibsrtp) {
  const Profile p = Profile::kAes128CmHmacSha1_80;
  auto tx = SrtpSession::Create(p, Direction::kProtect, Key(p), Salt(p));  // also runs srtp_init
  ASSERT_TRUE(tx.ok());
  const Bytes plain = Rtcp(4);
  Bytes first = plain, second = plain;
  ASSERT_TRUE(tx->ProtectRtcp(first).ok());
  ASSERT_TRUE(tx->ProtectRtcp(second).ok());
  EXPECT_EQ(first, ReferenceSrtcp(plain, 1, true));  // libsrtp's first SRTCP index is 1
  EXPECT_EQ(second, ReferenceSrtcp(plain, 2, true));
  EXPECT_EQ(LibsrtpUnencryptedSrtcp(p, plain), ReferenceSrtcp(plain, 1, false));
}

// RFC 3711 §3.3.2, §3.4: an authenticated packet at the top of the 31-bit index space is
// accepted and moves the replay window there; the index does not wrap: index 0 or small indices
// afterwards are too old, and the same index again is a replay.
TEST(SrtpSecuritySrtcpIndex, TopOfThe31BitIndexDoesNotWrap) {
  const Profile p = Profile::kAes128CmHmacSha1_80;
  auto rx = SrtpSession::Create(p, Direction::kUnprotect, Key(p), Salt(p));
  ASSERT_TRUE(rx.ok());
  const Bytes plain = Rtcp(3);
  Bytes low = ReferenceSrtcp(plain, 5, true);
  ASSERT_TRUE(rx->UnprotectRtcp(low).ok()) << rx->UnprotectRtcp(low);
  EXPECT_EQ(low, plain);

  const Bytes top = ReferenceSrtcp(plain, 0x7fffffff, true);
  Bytes top_copy = top;
  ASSERT_TRUE(rx->UnprotectRtcp(top_copy).ok());
  EXPECT_EQ(top_copy, plain);
  Bytes replay = top;
  EXPECT_EQ(rx->UnprotectRtcp(replay).code(), absl::StatusCode::kAlreadyExists);
  for (uint32_t index : {0u, 6u, 0x7fffff00u}) {
    Bytes wrapped = ReferenceSrtcp(plain, index, true);
    EXPECT_EQ(rx->UnprotectRtcp(wrapped).code(), absl::StatusCode::kOutOfRange) << index;
  }
  Bytes near_top = ReferenceSrtcp(plain, 0x7fffffa0, true);  // inside the 128-packet window
  ASSERT_TRUE(rx->UnprotectRtcp(near_top).ok());
  EXPECT_EQ(near_top, plain);
}

// libsrtp #817/#818 class: a correctly authenticated but UNENCRYPTED SRTCP packet (E=0, from a
// sender holding the real key) is refused for every profile with InvalidArgument — before this
// fix refrtc accepted it for AEAD_AES_128_GCM (libsrtp 2.5 authenticates it as AAD only) while
// refusing it for AES-CM with an Internal error. The refusal leaves the replay state alone.
TEST_P(SrtpSecurity, AuthenticatedUnencryptedSrtcpIsRefused) {
  const Profile p = GetParam();
  Pair s = MakePair(p);
  const Bytes plain = Rtcp(5);
  Bytes e0 = LibsrtpUnencryptedSrtcp(p, plain);
  ASSERT_EQ(e0.size(), plain.size() + RtcpOverhead(p));
  ASSERT_TRUE(std::equal(plain.begin(), plain.end(), e0.begin())) << "E=0: sent in the clear";
  ASSERT_EQ(e0[IndexOffset(p, e0.size())] & 0x80, 0);
  Bytes attempt = e0;
  EXPECT_EQ(s.rx.UnprotectRtcp(attempt).code(), absl::StatusCode::kInvalidArgument);
  // Genuine encrypted packets still flow.
  Bytes genuine = plain;
  ASSERT_TRUE(s.tx.ProtectRtcp(genuine).ok());
  ASSERT_TRUE(s.rx.UnprotectRtcp(genuine).ok());
  EXPECT_EQ(genuine, plain);
}

// RFC 3711 §3.1 / RFC 3550 §5.1: RTP padding is part of the (encrypted) payload; SRTP neither
// interprets nor validates it. A sender-authenticated packet whose padding count exceeds the
// payload passes SrtpSession unchanged — the RTP parser above it (rtp::ParseRtp, see
// stack/tests/rtp/rtp_security_test.cc PaddingCountLargerThanPayloadIsRejected) is what rejects it.
TEST_P(SrtpSecurity, PaddingCountIsLeftToTheRtpParser) {
  Pair s = MakePair(GetParam());
  Bytes plain = Rtp(21, 4);
  plain[0] |= 0x20;     // P
  plain.back() = 0xff;  // 255 padding octets claimed, 4 present
  Bytes wire = plain;
  ASSERT_TRUE(s.tx.ProtectRtp(wire).ok());
  ASSERT_TRUE(s.rx.UnprotectRtp(wire).ok());
  EXPECT_EQ(wire, plain);  // untouched: no length was derived from the padding count
}

}  // namespace
}  // namespace refrtc::srtp
