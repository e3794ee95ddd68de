// Security regressions for the STUN codec (issue F). Each test names the attack and asserts the
// observable effect: the datagram is rejected with InvalidArgument (so the ICE agent drops it),
// or the ignored part really has no effect. The basic malformed-header cases (short header, top
// bits, bad cookie, length mismatch) are in stun_message_test.cc (StunMessage.MalformedInputsRejected);
// these add the boundary cases an attacker would pick.
#include <gtest/gtest.h>

#include "stun/stun_message.h"
#include "util/codec.h"

namespace refrtc::stun {
namespace {

constexpr char kPwd[] = "localpassword-1234567890";

Bytes BaseRequest() {
  TransactionId tid{};
  tid[3] = 0x42;
  StunMessage m(StunClass::kRequest, kMethodBinding, tid);
  m.AddUsername("LOCAL:REMOTE");
  m.AddPriority(1234);
  return m.Serialize();
}

void SetLength(Bytes& b) {
  size_t len = b.size() - kHeaderSize;
  b[2] = static_cast<uint8_t>(len >> 8);
  b[3] = static_cast<uint8_t>(len);
}

// Appends a FINGERPRINT computed over `b` (RFC 8489 §14.7), with `xor_value` (the right one is
// kFingerprintXor), fixing the header length first.
void AppendFingerprint(Bytes& b, uint32_t xor_value = kFingerprintXor) {
  size_t len = b.size() - kHeaderSize + 8;
  b[2] = static_cast<uint8_t>(len >> 8);
  b[3] = static_cast<uint8_t>(len);
  uint32_t crc = Crc32(b) ^ xor_value;
  Bytes a = {0x80, 0x28, 0x00, 0x04, static_cast<uint8_t>(crc >> 24), static_cast<uint8_t>(crc >> 16),
             static_cast<uint8_t>(crc >> 8), static_cast<uint8_t>(crc)};
  b.insert(b.end(), a.begin(), a.end());
}

void ExpectRejected(const Bytes& b, absl::string_view what) {
  auto p = StunMessage::Parse(b);
  ASSERT_FALSE(p.ok()) << what;
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << what;
  EXPECT_FALSE(p.status().message().empty()) << what;
}

// RFC 8489 §14 / §15: an attribute whose length runs past the end of the message (here the
// maximum 0xFFFF, and one byte past) is rejected; nothing is read beyond the datagram.
TEST(StunSecurity, AttributeLengthPastEndIsRejected) {
  for (uint16_t claimed : {uint16_t{0xFFFF}, uint16_t{5}, uint16_t{8}}) {
    Bytes b = BaseRequest();
    Bytes a = {0x80, 0x22, static_cast<uint8_t>(claimed >> 8), static_cast<uint8_t>(claimed), 'a', 'b', 'c', 'd'};
    b.insert(b.end(), a.begin(), a.end());  // 4 value bytes present, `claimed` declared
    SetLength(b);
    ExpectRejected(b, "attribute length past the end");
    EXPECT_EQ(VerifyMessageIntegrity(b, AsBytes(kPwd)).code(), absl::StatusCode::kInvalidArgument);
  }
  // An attribute header as the last 4 bytes, claiming a value that is not there.
  Bytes b = BaseRequest();
  Bytes a = {0x80, 0x22, 0x00, 0x08};
  b.insert(b.end(), a.begin(), a.end());
  SetLength(b);
  ExpectRejected(b, "attribute header at the very end");
}

// RFC 8489 §5: the message length MUST be a multiple of 4 (attributes are padded). Lengths 1..3
// over a valid message, and a header length that does not match the datagram, are rejected.
TEST(StunSecurity, MessageLengthNotMultipleOfFourIsRejected) {
  const Bytes good = BaseRequest();
  ASSERT_TRUE(StunMessage::Parse(good).ok());
  for (size_t extra = 1; extra <= 3; ++extra) {
    Bytes b = good;
    b.insert(b.end(), extra, 0);
    SetLength(b);
    ExpectRejected(b, "length % 4 != 0");
  }
  Bytes longer = good;
  longer[3] = static_cast<uint8_t>(longer[3] + 4);  // header claims 4 bytes that are not there
  ExpectRejected(longer, "header length beyond the datagram");
  Bytes shorter = good;
  shorter[3] = static_cast<uint8_t>(shorter[3] - 4);  // trailing bytes not covered by the length
  ExpectRejected(shorter, "datagram longer than the header length");
}

// RFC 8489 §5: the magic cookie 0x2112A442 is what separates STUN from other protocols; any other
// value (including RFC 3489's "classic STUN", where those bytes are transaction id) is rejected.
TEST(StunSecurity, BadMagicCookieIsRejected) {
  const Bytes good = BaseRequest();
  for (int i = 0; i < 4; ++i) {
    Bytes b = good;
    b[4 + i] ^= 0x01;
    ExpectRejected(b, "cookie");
  }
  Bytes b = good;
  b[4] = b[5] = b[6] = b[7] = 0;
  ExpectRejected(b, "zero cookie (RFC 3489)");
}

// RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and
// FINGERPRINT MUST be ignored: an on-path attacker can append them without breaking the HMAC, so
// they must neither take effect (USE-CANDIDATE, ICE-CONTROLLING, PRIORITY) nor make the message
// fail (a malformed or unknown comprehension-required attribute there is not validated).
// Fixed bug: a malformed attribute after MESSAGE-INTEGRITY used to get the whole message rejected.
TEST(StunSecurity, AttributesAfterMessageIntegrityAreIgnored) {
  TransactionId tid{};
  tid[0] = 7;
  StunMessage m(StunClass::kRequest, kMethodBinding, tid);
  m.AddUsername("LOCAL:REMOTE");
  m.AddPriority(1000);
  m.AddIceControlled(1);
  Bytes b = m.Serialize(AsBytes(kPwd));  // ends with MESSAGE-INTEGRITY
  const Bytes appended[] = {
      {0x00, 0x25, 0x00, 0x00},                                      // USE-CANDIDATE
      {0x80, 0x2A, 0x00, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},  // ICE-CONTROLLING
      {0x00, 0x24, 0x00, 0x04, 0x7F, 0xFF, 0xFF, 0xFF},                // PRIORITY (a second one)
      {0x00, 0x24, 0x00, 0x02, 0x01, 0x02, 0x00, 0x00},                // malformed PRIORITY
      {0x00, 0x31, 0x00, 0x00},                                      // unknown comprehension-required
      {0x00, 0x06, 0x00, 0x04, 'E', 'V', 'I', 'L'},                    // a second USERNAME
  };
  for (const Bytes& a : appended) b.insert(b.end(), a.begin(), a.end());
  AppendFingerprint(b);
  auto p = StunMessage::Parse(b);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->use_candidate());
  EXPECT_FALSE(p->ice_controlling().has_value());
  EXPECT_EQ(p->ice_controlled(), 1u);
  EXPECT_EQ(p->priority(), 1000u);
  EXPECT_EQ(p->username(), "LOCAL:REMOTE");
  EXPECT_TRUE(p->UnknownComprehensionRequired().empty());
  EXPECT_TRUE(p->has_fingerprint());
  // The HMAC still verifies: the appended attributes are outside what it covers.
  EXPECT_TRUE(VerifyMessageIntegrity(b, AsBytes(kPwd)).ok());
  EXPECT_EQ(VerifyMessageIntegrity(b, AsBytes("another-password-123456")).code(),
            absl::StatusCode::kUnauthenticated);
  // A FINGERPRINT after them is still checked.
  Bytes bad_fp = b;
  bad_fp.back() ^= 1;
  ExpectRejected(bad_fp, "fingerprint after ignored attributes");
}

// RFC 8489 §14.7: a FINGERPRINT that does not match is a reason to reject the message: a flipped
// CRC bit, a plain CRC-32 without the 0x5354554E XOR, and a FINGERPRINT that is not the last
// attribute are all rejected.
TEST(StunSecurity, WrongFingerprintIsRejected) {
  Bytes b = BaseRequest();
  Bytes ok = b;
  AppendFingerprint(ok);
  ASSERT_TRUE(StunMessage::Parse(ok).ok());
  for (size_t i = ok.size() - 4; i < ok.size(); ++i) {
    Bytes t = ok;
    t[i] ^= 0x80;
    ExpectRejected(t, "flipped CRC bit");
  }
  Bytes no_xor = b;
  AppendFingerprint(no_xor, 0);
  ExpectRejected(no_xor, "CRC-32 without the XOR constant");
  // A body bit flipped under a correct-looking FINGERPRINT.
  Bytes body = ok;
  body[kHeaderSize + 5] ^= 0x01;
  ExpectRejected(body, "body changed under the FINGERPRINT");
  // FINGERPRINT with a wrong length.
  Bytes short_fp = b;
  Bytes a = {0x80, 0x28, 0x00, 0x02, 0, 0, 0, 0};
  short_fp.insert(short_fp.end(), a.begin(), a.end());
  SetLength(short_fp);
  ExpectRejected(short_fp, "FINGERPRINT of 2 bytes");
}

// RFC 8489 §14 and §6.3.1: an unknown comprehension-required attribute (0x0000-0x7FFF) is
// reported so the server can answer 420 (the ICE agent does, see ice_security_test.cc);
// comprehension-optional ones (0x8000-0xFFFF) are not.
TEST(StunSecurity, UnknownComprehensionRequiredAttributesAreReportedInOrder) {
  StunMessage m(StunClass::kRequest, kMethodBinding, TransactionId{});
  m.AddRaw(0x7FFF, {1});
  m.AddRaw(0xC0FF, {2});  // optional: not reported
  m.AddRaw(0x0031, {});
  auto p = StunMessage::Parse(m.Serialize({}, true));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->UnknownComprehensionRequired(), (std::vector<uint16_t>{0x7FFF, 0x0031}));
}

}  // namespace
}  // namespace refrtc::stun
