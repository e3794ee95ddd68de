#include "stun/stun_message.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_split.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"

namespace refrtc::stun {
namespace {

Bytes FromHex(absl::string_view hex) {
  std::string clean = absl::StrReplaceAll(hex, {{" ", ""}, {"\n", ""}});
  std::string raw = absl::HexStringToBytes(clean);
  return Bytes(raw.begin(), raw.end());
}

// RFC 5769 §2.1 - §2.3 (password "VOkJxbRl1RmTxUk/WvJxBt").
const char kPassword[] = "VOkJxbRl1RmTxUk/WvJxBt";
const char kRequestHex[] =
    "00010058 2112a442 b7e7a701 bc34d686 fa87dfae"
    "80220010 5354554e 20746573 7420636c 69656e74"
    "00240004 6e0001ff"
    "80290008 932ff9b1 51263b36"
    "00060009 6576746a 3a683676 59202020"
    "00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2"
    "80280004 e57a3bcf";
const char kIpv4ResponseHex[] =
    "0101003c 2112a442 b7e7a701 bc34d686 fa87dfae"
    "8022000b 74657374 20766563 746f7220"
    "00200008 0001a147 e112a643"
    "00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7"
    "80280004 c07d4c96";
const char kIpv6ResponseHex[] =
    "01010048 2112a442 b7e7a701 bc34d686 fa87dfae"
    "8022000b 74657374 20766563 746f7220"
    "00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9"
    "00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41"
    "80280004 c8fb0b4c";
const TransactionId kTid = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

ByteView Key() { return AsBytes(kPassword); }

TEST(StunRfc5769, RequestParses) {
  Bytes raw = FromHex(kRequestHex);
  ASSERT_EQ(raw.size(), 108u);
  auto m = StunMessage::Parse(raw);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->IsBindingRequest());
  EXPECT_EQ(m->transaction_id(), kTid);
  EXPECT_EQ(m->software(), "STUN test client");
  EXPECT_EQ(m->username(), "evtj:h6vY");
  EXPECT_EQ(m->priority(), 0x6e0001ffu);
  EXPECT_EQ(m->ice_controlled(), 0x932ff9b151263b36u);
  EXPECT_FALSE(m->ice_controlling().has_value());
  EXPECT_TRUE(m->has_message_integrity());
  EXPECT_TRUE(m->has_fingerprint());
  EXPECT_TRUE(VerifyMessageIntegrity(raw, Key()).ok());
  EXPECT_EQ(VerifyMessageIntegrity(raw, AsBytes("wrong")).code(), absl::StatusCode::kUnauthenticated);
}

TEST(StunRfc5769, RequestSerializesByteExact) {
  StunMessage m(StunClass::kRequest, kMethodBinding, kTid);
  m.AddSoftware("STUN test client");
  m.AddPriority(0x6e0001ff);
  m.AddIceControlled(0x932ff9b151263b36ull);
  m.AddUsername("evtj:h6vY");
  // RFC 5769 pads with spaces; MESSAGE-INTEGRITY and FINGERPRINT then match the vector.
  EXPECT_EQ(m.Serialize(Key(), true, 0x20), FromHex(kRequestHex));
}

TEST(StunRfc5769, Ipv4Response) {
  Bytes raw = FromHex(kIpv4ResponseHex);
  auto m = StunMessage::Parse(raw);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->IsBindingResponse());
  EXPECT_EQ(m->cls(), StunClass::kSuccessResponse);
  EXPECT_EQ(m->software(), "test vector");
  ASSERT_TRUE(m->xor_mapped_address().has_value());
  EXPECT_EQ(m->xor_mapped_address()->ToString(), "192.0.2.1:32853");
  EXPECT_TRUE(VerifyMessageIntegrity(raw, Key()).ok());

  StunMessage out(StunClass::kSuccessResponse, kMethodBinding, kTid);
  out.AddSoftware("test vector");
  out.AddXorMappedAddress(*SocketAddress::Parse("192.0.2.1", 32853));
  EXPECT_EQ(out.Serialize(Key(), true, 0x20), raw);
}

TEST(StunRfc5769, Ipv6Response) {
  Bytes raw = FromHex(kIpv6ResponseHex);
  auto m = StunMessage::Parse(raw);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(m->xor_mapped_address().has_value());
  EXPECT_EQ(m->xor_mapped_address()->ToString(), "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
  EXPECT_TRUE(VerifyMessageIntegrity(raw, Key()).ok());

  StunMessage out(StunClass::kSuccessResponse, kMethodBinding, kTid);
  out.AddSoftware("test vector");
  out.AddXorMappedAddress(*SocketAddress::Parse("2001:db8:1234:5678:11:2233:4455:6677", 32853));
  EXPECT_EQ(out.Serialize(Key(), true, 0x20), raw);
}

TEST(StunRfc5769, ParseSerializeRoundTripIsFaithful) {
  for (const char* hex : {kRequestHex, kIpv4ResponseHex, kIpv6ResponseHex}) {
    Bytes raw = FromHex(hex);
    auto m = StunMessage::Parse(raw);
    ASSERT_TRUE(m.ok());
    Bytes again = m->Serialize({}, false, 0x20);
    EXPECT_EQ(again, raw);  // MI verbatim, FINGERPRINT recomputed over identical bytes
  }
}

// Fuzzer regression: re-serializing with different padding bytes changes the FINGERPRINT value;
// the re-parsed message must still compare equal.
TEST(StunRfc5769, ReserializeWithZeroPaddingComparesEqual) {
  Bytes raw = FromHex(kIpv4ResponseHex);
  auto m = StunMessage::Parse(raw);
  ASSERT_TRUE(m.ok());
  Bytes zero_padded = m->Serialize();
  EXPECT_NE(zero_padded, raw);
  auto m2 = StunMessage::Parse(zero_padded);
  ASSERT_TRUE(m2.ok()) << m2.status();
  EXPECT_EQ(*m2, *m);
  // MESSAGE-INTEGRITY covers the padding, so it no longer verifies: as RFC 8489 intends.
  EXPECT_FALSE(VerifyMessageIntegrity(zero_padded, Key()).ok());
}

TEST(StunMessage, TamperedBytesFailIntegrityOrFingerprint) {
  Bytes raw = FromHex(kRequestHex);
  raw[30] ^= 1;  // inside SOFTWARE
  // FINGERPRINT no longer matches -> parse rejects.
  EXPECT_FALSE(StunMessage::Parse(raw).ok());
  EXPECT_EQ(VerifyMessageIntegrity(raw, Key()).code(), absl::StatusCode::kUnauthenticated);
}

TEST(StunMessage, TypeEncodingOfClasses) {
  TransactionId t{};
  StunMessage e(StunClass::kErrorResponse, kMethodBinding, t);
  e.AddErrorCode(487, "Role Conflict");
  Bytes b = e.Serialize();
  EXPECT_EQ(b[0], 0x01);
  EXPECT_EQ(b[1], 0x11);
  auto p = StunMessage::Parse(b);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->cls(), StunClass::kErrorResponse);
  ASSERT_TRUE(p->error_code().has_value());
  EXPECT_EQ(p->error_code()->code, 487);
  EXPECT_EQ(p->error_code()->reason, "Role Conflict");
  StunMessage ind(StunClass::kIndication, kMethodBinding, t);
  EXPECT_EQ(ind.Serialize()[0], 0x00);
  EXPECT_EQ(ind.Serialize()[1], 0x11);  // 0x0011 = Binding indication
}

TEST(StunMessage, AllIceAttributesRoundTrip) {
  TransactionId t{};
  t[0] = 9;
  StunMessage m(StunClass::kRequest, kMethodBinding, t);
  m.AddUsername("a:b");
  m.AddPriority(12345);
  m.AddUseCandidate();
  m.AddIceControlling(0x0102030405060708ull);
  m.AddMappedAddress(*SocketAddress::Parse("10.0.0.1", 9));
  m.AddUnknownAttributes({0x7777, 0x0031});
  m.AddRaw(0xC001, {1, 2, 3});  // unknown comprehension-optional kept
  Bytes b = m.Serialize(AsBytes("pw"), true);
  auto p = StunMessage::Parse(b);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->username(), "a:b");
  EXPECT_EQ(p->priority(), 12345u);
  EXPECT_TRUE(p->use_candidate());
  EXPECT_EQ(p->ice_controlling(), 0x0102030405060708ull);
  EXPECT_EQ(p->mapped_address()->ToString(), "10.0.0.1:9");
  EXPECT_EQ(*p->unknown_attributes(), (std::vector<uint16_t>{0x7777, 0x0031}));
  ASSERT_NE(p->Find(0xC001), nullptr);
  EXPECT_EQ(p->Find(0xC001)->value, (Bytes{1, 2, 3}));
  EXPECT_TRUE(p->UnknownComprehensionRequired().empty());
  EXPECT_TRUE(VerifyMessageIntegrity(b, AsBytes("pw")).ok());
}

TEST(StunMessage, UnknownComprehensionRequiredReported) {
  StunMessage m(StunClass::kRequest, kMethodBinding, TransactionId{});
  m.AddRaw(0x0031, {});
  auto p = StunMessage::Parse(m.Serialize());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->UnknownComprehensionRequired(), std::vector<uint16_t>{0x0031});
}

TEST(StunMessage, AttributesAfterIntegrityIgnored) {
  StunMessage m(StunClass::kRequest, kMethodBinding, TransactionId{});
  m.AddUsername("x:y");
  Bytes b = m.Serialize(AsBytes("k"));
  // Append PRIORITY after MESSAGE-INTEGRITY and fix the header length.
  Bytes tail = {0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1};
  b.insert(b.end(), tail.begin(), tail.end());
  b[3] = static_cast<uint8_t>(b.size() - 20);
  auto p = StunMessage::Parse(b);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->priority().has_value());  // ignored per RFC 8489 §14.5
  EXPECT_TRUE(VerifyMessageIntegrity(b, AsBytes("k")).ok());
}

TEST(StunMessage, MalformedInputsRejected) {
  Bytes good = FromHex(kIpv4ResponseHex);
  auto reject = [](Bytes b, absl::string_view what) {
    auto p = StunMessage::Parse(b);
    EXPECT_FALSE(p.ok()) << what;
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << what;
    }
  };
  reject({}, "empty");
  reject(Bytes(good.begin(), good.begin() + 19), "short header");
  {
    Bytes b = good;
    b[0] |= 0x80;
    reject(b, "top bits");
  }
  {
    Bytes b = good;
    b[4] = 0;
    reject(b, "cookie");
  }
  {
    Bytes b = good;
    b.pop_back();
    reject(b, "length mismatch");
  }
  {
    Bytes b = good;
    b[3] = static_cast<uint8_t>(b[3] + 2);
    b.push_back(0);
    b.push_back(0);
    reject(b, "length not multiple of 4");
  }
  {
    // Attribute claiming more bytes than there are.
    StunMessage m(StunClass::kRequest, kMethodBinding, TransactionId{});
    Bytes b = m.Serialize();
    Bytes a = {0x80, 0x22, 0x00, 0x40, 'a', 'b', 'c', 'd'};
    b.insert(b.end(), a.begin(), a.end());
    b[3] = static_cast<uint8_t>(b.size() - 20);
    reject(b, "attribute past end");
  }
  {
    // Attribute value of 5 bytes whose padding is cut off: header says 4+5+3 but only 4+5+... bytes.
    StunMessage m(StunClass::kRequest, kMethodBinding, TransactionId{});
    Bytes b = m.Serialize();
    Bytes a = {0x80, 0x22, 0x00, 0x05, 'a', 'b', 'c', 'd', 'e', 0, 0, 0};
    b.insert(b.end(), a.begin(), a.end());
    b[3] = static_cast<uint8_t>(b.size() - 20);
    EXPECT_TRUE(StunMessage::Parse(b).ok());  // sanity: well padded
    // Declare 8 more bytes than the padded value occupies (value length 9 -> needs 12).
    b[7 + 20 - 4] = 0x09;
    reject(b, "padding runs past the end");
  }
  {
    // Known attributes with wrong lengths.
    for (auto [type, len] : std::vector<std::pair<uint16_t, uint16_t>>{
             {attr::kPriority, 8}, {attr::kUseCandidate, 4}, {attr::kIceControlling, 4},
             {attr::kMessageIntegrity, 16}, {attr::kXorMappedAddress, 12}, {attr::kErrorCode, 0},
             {attr::kUnknownAttributes, 0}}) {
      StunMessage m(StunClass::kRequest, kMethodBinding, TransactionId{});
      m.AddRaw(type, Bytes(len, 0));
      if (type == attr::kUnknownAttributes) m = StunMessage(StunClass::kRequest, kMethodBinding, TransactionId{});
      if (type == attr::kUnknownAttributes) {
        Bytes b = m.Serialize();
        Bytes a = {0x00, 0x0A, 0x00, 0x03, 0, 1, 2, 0};
        b.insert(b.end(), a.begin(), a.end());
        b[3] = static_cast<uint8_t>(b.size() - 20);
        reject(b, "odd UNKNOWN-ATTRIBUTES");
        continue;
      }
      reject(m.Serialize(), "bad known attribute length");
    }
  }
  {
    // ERROR-CODE class out of range.
    StunMessage m(StunClass::kErrorResponse, kMethodBinding, TransactionId{});
    m.AddRaw(attr::kErrorCode, {0, 0, 7, 0});
    reject(m.Serialize(), "error class 7");
  }
  {
    // Attribute after FINGERPRINT.
    StunMessage m(StunClass::kRequest, kMethodBinding, TransactionId{});
    Bytes b = m.Serialize({}, true);
    Bytes a = {0x80, 0x22, 0x00, 0x00};
    b.insert(b.end(), a.begin(), a.end());
    b[3] = static_cast<uint8_t>(b.size() - 20);
    reject(b, "after fingerprint");
  }
  {
    // USERNAME too long.
    StunMessage m(StunClass::kRequest, kMethodBinding, TransactionId{});
    m.AddUsername(std::string(600, 'u'));
    reject(m.Serialize(), "username too long");
  }
}

TEST(StunMessage, VerifyIntegrityWithoutAttribute) {
  StunMessage m(StunClass::kRequest, kMethodBinding, TransactionId{});
  EXPECT_EQ(VerifyMessageIntegrity(m.Serialize(), Key()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyMessageIntegrity(Bytes{1, 2, 3}, Key()).code(), absl::StatusCode::kInvalidArgument);
}

TEST(StunMessage, LooksLikeStunDemux) {
  EXPECT_TRUE(LooksLikeStun(FromHex(kRequestHex)));
  EXPECT_TRUE(LooksLikeStun(Bytes{0x03}));
  EXPECT_FALSE(LooksLikeStun(Bytes{}));
  EXPECT_FALSE(LooksLikeStun(Bytes{22}));   // DTLS handshake
  EXPECT_FALSE(LooksLikeStun(Bytes{0x80}));  // RTP
  EXPECT_FALSE(LooksLikeStun(Bytes{4}));
}

}  // namespace
}  // namespace refrtc::stun
