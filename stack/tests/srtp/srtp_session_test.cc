// SrtpSession behaviour: round trips, authentication, replay, ROC, malformed input, DTLS-SRTP keying.
#include "srtp/srtp_session.h"

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <cstring>

#include "dtls/dtls_transport.h"

namespace refrtc::srtp {
namespace {

constexpr Profile kAllProfiles[] = {Profile::kAes128CmHmacSha1_80, Profile::kAes128CmHmacSha1_32,
                                    Profile::kAeadAes128Gcm};

Bytes Key(Profile p, uint8_t seed) {
  Bytes k(MasterKeyLength(p));
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + i * 3);
  return k;
}
Bytes Salt(Profile p, uint8_t seed) {
  Bytes s(MasterSaltLength(p));
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(seed * 7 + i);
  return s;
}

bool Supported(Profile p) {
  return SrtpSession::Create(p, Direction::kProtect, Key(p, 1), Salt(p, 1)).status().code() !=
         absl::StatusCode::kUnimplemented;
}

struct Pair {
  SrtpSession tx, rx;
};
Pair MakePair(Profile p, uint8_t seed = 1) {
  auto tx = SrtpSession::Create(p, Direction::kProtect, Key(p, seed), Salt(p, seed));
  auto rx = SrtpSession::Create(p, Direction::kUnprotect, Key(p, seed), Salt(p, seed));
  EXPECT_TRUE(tx.ok()) << tx.status();
  EXPECT_TRUE(rx.ok()) << rx.status();
  return Pair{std::move(*tx), std::move(*rx)};
}

Bytes Rtp(uint16_t seq, size_t payload, uint32_t ssrc = 0x11223344, uint8_t cc = 0, bool ext = false) {
  Bytes p = {static_cast<uint8_t>(0x80 | cc | (ext ? 0x10 : 0)), 111, static_cast<uint8_t>(seq >> 8),
             static_cast<uint8_t>(seq), 0, 0, 0x12, 0x34};
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<uint8_t>(ssrc >> (24 - 8 * i)));
  for (uint8_t i = 0; i < 4 * cc; ++i) p.push_back(i);
  if (ext) {  // RFC 8285 one-byte header extension block with one word
    for (uint8_t b : {0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x00, 0x00}) p.push_back(b);
  }
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(i * 13 + seq));
  return p;
}

Bytes Rtcp(size_t extra_words, uint32_t ssrc = 0x11223344) {
  // RFC 3550 §6.4.2 receiver report without blocks + extra 32-bit words (made-up report blocks).
  const uint16_t length = static_cast<uint16_t>(1 + extra_words);
  Bytes p = {0x80, 201, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<uint8_t>(ssrc >> (24 - 8 * i)));
  for (size_t i = 0; i < 4 * extra_words; ++i) p.push_back(static_cast<uint8_t>(i * 5 + 1));
  return p;
}

// Where the E flag ‖ SRTCP index word sits: before the tag for AES-CM (RFC 3711 §3.4), last for AEAD
// (RFC 7714 §9: the tag is part of the ciphertext).
size_t EFlagOffset(Profile p, size_t protected_size) {
  return p == Profile::kAeadAes128Gcm ? protected_size - 4 : protected_size - RtcpOverhead(p);
}

class SrtpProfileTest : public ::testing::TestWithParam<Profile> {
 protected:
  void SetUp() override {
    if (!Supported(GetParam())) GTEST_SKIP() << ProfileName(GetParam()) << " not in the linked libsrtp build";
  }
};

INSTANTIATE_TEST_SUITE_P(AllProfiles, SrtpProfileTest, ::testing::ValuesIn(kAllProfiles),
                         [](const auto& info) { return std::string(ProfileName(info.param)); });

TEST_P(SrtpProfileTest, RtpRoundTripEveryPayloadSize) {
  Pair s = MakePair(GetParam());
  for (size_t n = 0; n <= 1400; ++n) {
    const Bytes plain = Rtp(static_cast<uint16_t>(n), n);
    Bytes p = plain;
    ASSERT_TRUE(s.tx.ProtectRtp(p).ok()) << n;
    ASSERT_EQ(p.size(), plain.size() + RtpOverhead(GetParam())) << n;
    EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 12, p.begin())) << "header stays in the clear";
    if (n >= 8) {
      EXPECT_FALSE(std::equal(plain.begin() + 12, plain.end(), p.begin() + 12)) << "payload encrypted";
    }
    ASSERT_TRUE(s.rx.UnprotectRtp(p).ok()) << n;
    ASSERT_EQ(p, plain) << n;
  }
}

TEST_P(SrtpProfileTest, RtcpRoundTripEverySize) {
  Pair s = MakePair(GetParam());
  for (size_t words = 0; words <= 350; ++words) {
    const Bytes plain = Rtcp(words);
    Bytes p = plain;
    ASSERT_TRUE(s.tx.ProtectRtcp(p).ok()) << words;
    ASSERT_EQ(p.size(), plain.size() + RtcpOverhead(GetParam()));
    EXPECT_EQ(p[EFlagOffset(GetParam(), p.size())] & 0x80, 0x80) << "E flag set: encrypted";
    ASSERT_TRUE(s.rx.UnprotectRtcp(p).ok()) << words;
    ASSERT_EQ(p, plain) << words;
  }
}

TEST_P(SrtpProfileTest, CsrcsAndHeaderExtensionRoundTrip) {
  Pair s = MakePair(GetParam());
  const Bytes plain = Rtp(7, 100, 0x55, /*cc=*/3, /*ext=*/true);
  Bytes p = plain;
  ASSERT_TRUE(s.tx.ProtectRtp(p).ok());
  EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 12 + 12 + 8, p.begin()));
  ASSERT_TRUE(s.rx.UnprotectRtp(p).ok());
  EXPECT_EQ(p, plain);
}

TEST_P(SrtpProfileTest, TamperingAnyByteFailsAuthentication) {
  Pair s = MakePair(GetParam());
  Bytes protected_packet = Rtp(1, 40);
  ASSERT_TRUE(s.tx.ProtectRtp(protected_packet).ok());
  // Header (except the SSRC/seq bytes that change stream/index selection), payload and tag.
  for (size_t i : {size_t{1}, size_t{5}, size_t{12}, size_t{30}, protected_packet.size() - 1}) {
    Bytes p = protected_packet;
    p[i] ^= 0x01;
    EXPECT_EQ(s.rx.UnprotectRtp(p).code(), absl::StatusCode::kUnauthenticated) << "byte " << i;
  }
  // A failed packet does not advance the replay window: the genuine one still passes.
  Bytes p = protected_packet;
  EXPECT_TRUE(s.rx.UnprotectRtp(p).ok());
}

TEST_P(SrtpProfileTest, WrongKeyFailsAuthentication) {
  Pair a = MakePair(GetParam(), 1), b = MakePair(GetParam(), 2);
  Bytes p = Rtp(1, 50);
  ASSERT_TRUE(a.tx.ProtectRtp(p).ok());
  EXPECT_EQ(b.rx.UnprotectRtp(p).code(), absl::StatusCode::kUnauthenticated);
  Bytes c = Rtcp(3);
  ASSERT_TRUE(a.tx.ProtectRtcp(c).ok());
  EXPECT_EQ(b.rx.UnprotectRtcp(c).code(), absl::StatusCode::kUnauthenticated);
}

TEST_P(SrtpProfileTest, ReplayedRtpIsRejected) {
  Pair s = MakePair(GetParam());
  Bytes p = Rtp(100, 20);
  ASSERT_TRUE(s.tx.ProtectRtp(p).ok());
  const Bytes copy = p;
  ASSERT_TRUE(s.rx.UnprotectRtp(p).ok());
  Bytes again = copy;
  EXPECT_EQ(s.rx.UnprotectRtp(again).code(), absl::StatusCode::kAlreadyExists);
}

TEST_P(SrtpProfileTest, ReorderingInsideTheWindowIsAccepted) {
  Pair s = MakePair(GetParam());
  std::vector<Bytes> packets;
  for (uint16_t seq = 0; seq < 1000; ++seq) {
    packets.push_back(Rtp(seq, 10));
    ASSERT_TRUE(s.tx.ProtectRtp(packets.back()).ok());
  }
  Bytes last = packets[999];
  ASSERT_TRUE(s.rx.UnprotectRtp(last).ok());
  for (int i = 998; i >= 0; --i) ASSERT_TRUE(s.rx.UnprotectRtp(packets[i]).ok()) << i;  // all within 1024
}

TEST_P(SrtpProfileTest, ReplayedRtcpIsRejected) {
  Pair s = MakePair(GetParam());
  Bytes p = Rtcp(6);
  ASSERT_TRUE(s.tx.ProtectRtcp(p).ok());
  const Bytes copy = p;
  ASSERT_TRUE(s.rx.UnprotectRtcp(p).ok());
  Bytes again = copy;
  EXPECT_EQ(s.rx.UnprotectRtcp(again).code(), absl::StatusCode::kAlreadyExists);
  Bytes fresh = Rtcp(6);
  ASSERT_TRUE(s.tx.ProtectRtcp(fresh).ok());
  Bytes tampered = fresh;
  tampered[10] ^= 0x80;
  EXPECT_EQ(s.rx.UnprotectRtcp(tampered).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(s.rx.UnprotectRtcp(fresh).ok()) << "a failed packet does not enter the replay window";
}

TEST_P(SrtpProfileTest, ProtectingTheSameSequenceNumberTwiceIsRefused) {
  Pair s = MakePair(GetParam());
  Bytes a = Rtp(5, 10), b = Rtp(5, 10);
  ASSERT_TRUE(s.tx.ProtectRtp(a).ok());
  EXPECT_EQ(s.tx.ProtectRtp(b).code(), absl::StatusCode::kAlreadyExists);
}

// RFC 3711 §3.3.1: the ROC increments when SEQ wraps; the receiver follows it.
TEST_P(SrtpProfileTest, SeventyThousandPacketsAcrossTheSequenceWrap) {
  Pair s = MakePair(GetParam());
  Bytes early;
  for (uint32_t i = 0; i < 70000; ++i) {
    const uint16_t seq = static_cast<uint16_t>(i);  // 0..65535, then 0..4463 with ROC 1
    const Bytes plain = Rtp(seq, 32);
    Bytes p = plain;
    ASSERT_TRUE(s.tx.ProtectRtp(p).ok()) << i;
    if (i == 60000) early = p;
    ASSERT_TRUE(s.rx.UnprotectRtp(p).ok()) << i;
    ASSERT_EQ(p, plain) << i;
  }
  // SEQ 60000 of ROC 0 is 10000 indices behind the highest (ROC 1, SEQ 4463): too old.
  EXPECT_EQ(s.rx.UnprotectRtp(early).code(), absl::StatusCode::kOutOfRange);
}

TEST_P(SrtpProfileTest, PacketFarBehindIsTooOld) {
  Pair s = MakePair(GetParam());
  std::vector<Bytes> packets;
  for (uint16_t seq = 0; seq <= 3000; ++seq) {
    packets.push_back(Rtp(seq, 8));
    ASSERT_TRUE(s.tx.ProtectRtp(packets.back()).ok());
  }
  ASSERT_TRUE(s.rx.UnprotectRtp(packets[3000]).ok());
  EXPECT_EQ(s.rx.UnprotectRtp(packets[1000]).code(), absl::StatusCode::kOutOfRange);  // 2000 behind
  EXPECT_TRUE(s.rx.UnprotectRtp(packets[2000]).ok());                                 // 1000 behind
}

TEST_P(SrtpProfileTest, OneSessionServesEverySsrc) {
  Pair s = MakePair(GetParam());
  for (uint32_t ssrc : {1u, 2u, 0xffffffffu}) {
    for (uint16_t seq : {uint16_t{9}, uint16_t{10}}) {
      const Bytes plain = Rtp(seq, 30, ssrc);
      Bytes p = plain;
      ASSERT_TRUE(s.tx.ProtectRtp(p).ok());
      ASSERT_TRUE(s.rx.UnprotectRtp(p).ok());
      EXPECT_EQ(p, plain);
    }
  }
}

TEST_P(SrtpProfileTest, MalformedPacketsAreRejectedBeforeLibsrtp) {
  Pair s = MakePair(GetParam());
  const size_t tag = RtpOverhead(GetParam());
  auto unprotect = [&](Bytes p) { return s.rx.UnprotectRtp(p).code(); };
  EXPECT_EQ(unprotect({}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unprotect(Bytes(11, 0x80)), absl::StatusCode::kInvalidArgument);
  Bytes header_only = Rtp(1, 0);
  EXPECT_EQ(unprotect(header_only), absl::StatusCode::kInvalidArgument);  // no room for the tag
  Bytes short_tag = Rtp(1, tag - 1);
  EXPECT_EQ(unprotect(short_tag), absl::StatusCode::kInvalidArgument);
  Bytes v1 = Rtp(1, 40);
  v1[0] = 0x40;
  EXPECT_EQ(unprotect(v1), absl::StatusCode::kInvalidArgument);
  Bytes csrcs = Rtp(1, 20);
  csrcs[0] |= 0x0f;  // 15 CSRCs = 60 bytes, past the end
  EXPECT_EQ(unprotect(csrcs), absl::StatusCode::kInvalidArgument);
  // Header extension whose length runs past the end: must not reach libsrtp.
  Bytes ext = Rtp(1, 40, 0x1234, 0, true);
  ext[12 + 2] = 0xff;
  ext[12 + 3] = 0xff;
  EXPECT_EQ(unprotect(ext), absl::StatusCode::kInvalidArgument);
  Bytes ext_cut = Rtp(1, 0, 0x1234, 0, false);
  ext_cut[0] |= 0x10;  // X set, but not even the 4-byte extension header present
  EXPECT_EQ(unprotect(ext_cut), absl::StatusCode::kInvalidArgument);
  // The same checks guard protect.
  Bytes bad = ext;
  EXPECT_EQ(s.tx.ProtectRtp(bad).code(), absl::StatusCode::kInvalidArgument);
  Bytes huge = Rtp(1, SrtpSession::kMaxPacketSize);
  EXPECT_EQ(s.tx.ProtectRtp(huge).code(), absl::StatusCode::kInvalidArgument);

  auto unprotect_rtcp = [&](Bytes p) { return s.rx.UnprotectRtcp(p).code(); };
  EXPECT_EQ(unprotect_rtcp({}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unprotect_rtcp(Rtcp(0)), absl::StatusCode::kInvalidArgument);
  Bytes rtcp_short(8 + 4 + RtcpOverhead(GetParam()) - 4 - 1, 0x80);
  EXPECT_EQ(unprotect_rtcp(rtcp_short), absl::StatusCode::kInvalidArgument);
  Bytes seven = Bytes(7, 0x80);
  EXPECT_EQ(s.tx.ProtectRtcp(seven).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SrtpSession, SessionsOnlyWorkInTheirDirection) {
  auto tx = SrtpSession::Create(Profile::kAes128CmHmacSha1_80, Direction::kProtect,
                                Key(Profile::kAes128CmHmacSha1_80, 1), Salt(Profile::kAes128CmHmacSha1_80, 1));
  ASSERT_TRUE(tx.ok());
  Bytes p = Rtp(1, 20);
  EXPECT_EQ(tx->UnprotectRtp(p).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tx->UnprotectRtcp(p).code(), absl::StatusCode::kFailedPrecondition);
  SrtpSession moved = std::move(*tx);
  EXPECT_TRUE(moved.ProtectRtp(p).ok());
  Bytes q = Rtp(2, 20);
  EXPECT_EQ(tx->ProtectRtp(q).code(), absl::StatusCode::kFailedPrecondition);  // moved from
}

TEST(SrtpSession, KeyAndSaltLengthsAreChecked) {
  const Bytes k16(16, 1), s14(14, 2), s12(12, 3);
  EXPECT_EQ(SrtpSession::Create(Profile::kAes128CmHmacSha1_80, Direction::kProtect, k16, s12).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SrtpSession::Create(Profile::kAes128CmHmacSha1_80, Direction::kProtect, Bytes(15, 1), s14).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SrtpSession::Create(Profile::kAeadAes128Gcm, Direction::kProtect, k16, s14).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(SrtpSession::Create(Profile::kAes128CmHmacSha1_32, Direction::kUnprotect, k16, s14).ok());
}

TEST(SrtpSession, ProfileIdsAndSizes) {
  EXPECT_EQ(ProfileFromDtlsId(1), Profile::kAes128CmHmacSha1_80);
  EXPECT_EQ(ProfileFromDtlsId(2), Profile::kAes128CmHmacSha1_32);
  EXPECT_EQ(ProfileFromDtlsId(7), Profile::kAeadAes128Gcm);
  EXPECT_EQ(ProfileFromDtlsId(0), std::nullopt);
  EXPECT_EQ(ProfileFromDtlsId(5), std::nullopt);  // NULL profiles are not offered
  for (Profile p : kAllProfiles) EXPECT_EQ(ProfileFromDtlsId(DtlsId(p)), p);
  EXPECT_EQ(RtpOverhead(Profile::kAes128CmHmacSha1_32), 4u);
  EXPECT_EQ(RtcpOverhead(Profile::kAes128CmHmacSha1_32), 14u);  // RFC 5764 §4.1.2: 80-bit SRTCP tag
  EXPECT_EQ(RtpOverhead(Profile::kAeadAes128Gcm), 16u);
  EXPECT_EQ(RtcpOverhead(Profile::kAeadAes128Gcm), 20u);
}

TEST(SrtpSession, RtpHeaderLength) {
  EXPECT_EQ(*RtpHeaderLength(Rtp(1, 5)), 12u);
  EXPECT_EQ(*RtpHeaderLength(Rtp(1, 0, 1, 2, true)), 12u + 8 + 8);
  EXPECT_FALSE(RtpHeaderLength(Bytes(12, 0)).ok());  // version 0
}

// RFC 5764 §4.2 keying: each side's outbound is the other side's inbound.
TEST(SrtpSession, DtlsSrtpSessionsPairUp) {
  dtls::SrtpKeys keys;
  keys.profile = 1;
  keys.client_key = Bytes(16, 0xc1);
  keys.server_key = Bytes(16, 0x5e);
  keys.client_salt = Bytes(14, 0xc2);
  keys.server_salt = Bytes(14, 0x5f);
  auto client = CreateDtlsSrtpSessions(keys, dtls::Role::kClient);
  auto server = CreateDtlsSrtpSessions(keys, dtls::Role::kServer);
  ASSERT_TRUE(client.ok() && server.ok());
  EXPECT_EQ(client->outbound.direction(), Direction::kProtect);
  EXPECT_EQ(client->inbound.direction(), Direction::kUnprotect);

  const Bytes plain = Rtp(3, 100);
  Bytes c2s = plain, s2c = plain;
  ASSERT_TRUE(client->outbound.ProtectRtp(c2s).ok());
  ASSERT_TRUE(server->outbound.ProtectRtp(s2c).ok());
  EXPECT_NE(c2s, s2c);  // different keys per direction
  Bytes wrong = c2s;
  EXPECT_EQ(client->inbound.UnprotectRtp(wrong).code(), absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(server->inbound.UnprotectRtp(c2s).ok());
  ASSERT_TRUE(client->inbound.UnprotectRtp(s2c).ok());
  EXPECT_EQ(c2s, plain);
  EXPECT_EQ(s2c, plain);

  // The client key really is client_write_SRTP_master_key: equals a session made from it directly.
  auto direct = SrtpSession::Create(Profile::kAes128CmHmacSha1_80, Direction::kUnprotect, keys.client_key,
                                    keys.client_salt);
  ASSERT_TRUE(direct.ok());
  Bytes again = plain;
  again[3] = 4;
  const Bytes plain4 = again;
  ASSERT_TRUE(client->outbound.ProtectRtp(again).ok());
  ASSERT_TRUE(direct->UnprotectRtp(again).ok());
  EXPECT_EQ(again, plain4);

  keys.profile = 0;
  EXPECT_EQ(CreateDtlsSrtpSessions(keys, dtls::Role::kClient).status().code(), absl::StatusCode::kInvalidArgument);
  keys.profile = 7;  // GCM needs 12-byte salts
  EXPECT_EQ(CreateDtlsSrtpSessions(keys, dtls::Role::kClient).status().code(), absl::StatusCode::kInvalidArgument);
}

// RFC 7714 §9.3 / RFC 3711 §3.4: a sender may leave an SRTCP packet unencrypted (E=0). libsrtp 2.5
// would accept such a packet on an AEAD session after authenticating the whole packet as AAD (while
// refusing E=0 on a confidential AES-CM session); refrtc refuses it for every profile (issue F,
// libsrtp #817/#818 class; RFC 8827 §6.5: WebRTC RTCP is always encrypted). The E flag is inside
// the AAD, so flipping it to 1 fails authentication. See also srtp_security_test.cc.
TEST(SrtpSession, AeadSrtcpWithEncryptionFlagZero) {
  if (!Supported(Profile::kAeadAes128Gcm)) GTEST_SKIP() << "no GCM in the linked libsrtp";
  const Profile p = Profile::kAeadAes128Gcm;
  const Bytes key = Key(p, 9), salt = Salt(p, 9);
  auto rx = SrtpSession::Create(p, Direction::kUnprotect, key, salt);  // also runs srtp_init
  ASSERT_TRUE(rx.ok());

  // A raw libsrtp sender with SRTCP confidentiality off: it emits E=0 packets.
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
  srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  policy.rtcp.sec_serv = sec_serv_auth;
  uint8_t master[28];
  std::memcpy(master, key.data(), 16);
  std::memcpy(master + 16, salt.data(), 12);
  policy.key = master;
  policy.ssrc.type = ssrc_any_outbound;
  policy.window_size = 128;
  srtp_t raw = nullptr;
  ASSERT_EQ(srtp_create(&raw, &policy), srtp_err_status_ok);

  const Bytes plain = Rtcp(5);
  Bytes pkt = plain;
  pkt.resize(plain.size() + 4 + SRTP_MAX_TRAILER_LEN);
  int len = static_cast<int>(plain.size());
  ASSERT_EQ(srtp_protect_rtcp(raw, pkt.data(), &len), srtp_err_status_ok);
  srtp_dealloc(raw);
  pkt.resize(len);
  ASSERT_EQ(pkt.size(), plain.size() + 20);
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), pkt.begin())) << "E=0: body sent in the clear";
  EXPECT_EQ(pkt[EFlagOffset(p, pkt.size())] & 0x80, 0) << "E flag clear";

  Bytes body_tampered = pkt;
  body_tampered[12] ^= 1;  // unencrypted but authenticated
  EXPECT_EQ(rx->UnprotectRtcp(body_tampered).code(), absl::StatusCode::kInvalidArgument);
  Bytes e_flipped = pkt;
  e_flipped[EFlagOffset(p, pkt.size())] |= 0x80;  // claim it was encrypted
  EXPECT_EQ(rx->UnprotectRtcp(e_flipped).code(), absl::StatusCode::kUnauthenticated);
  Bytes good = pkt;  // correctly authenticated, but unencrypted: refused
  EXPECT_EQ(rx->UnprotectRtcp(good).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), good.begin()));
}

// Several sessions (as several engines would) with the same keys are independent.
TEST(SrtpSession, IndependentSessionsDoNotShareReplayState) {
  Pair a = MakePair(Profile::kAes128CmHmacSha1_80), b = MakePair(Profile::kAes128CmHmacSha1_80);
  Bytes p = Rtp(1, 10);
  ASSERT_TRUE(a.tx.ProtectRtp(p).ok());
  Bytes q = p;
  ASSERT_TRUE(a.rx.UnprotectRtp(p).ok());
  EXPECT_TRUE(b.rx.UnprotectRtp(q).ok());
}

}  // namespace
}  // namespace refrtc::srtp
