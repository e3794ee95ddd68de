// RTP data packets: RFC 3550 §5.1 header, §5.3.1 extension, RFC 8285 elements, padding.
#include "rtp/rtp_packet.h"

#include <gtest/gtest.h>

#include "rtp_test_util.h"

namespace refrtc::rtp {
namespace {

using testing::FromHex;
using testing::ToHex;

// V=2, PT=96, seq 0x1234, ts 0x56789abc, SSRC 0xdeadbeef, payload 01 02 03.
const char kBasic[] = "80 60 12 34 56 78 9a bc de ad be ef 01 02 03";

TEST(RtpPacket, ParsesFixedHeader) {
  auto p = ParseRtp(FromHex(kBasic));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(p->marker);
  EXPECT_EQ(p->payload_type, PayloadType(96));
  EXPECT_EQ(p->sequence_number, SequenceNumber(0x1234));
  EXPECT_EQ(p->timestamp, 0x56789abcu);
  EXPECT_EQ(p->ssrc, Ssrc(0xdeadbeef));
  EXPECT_TRUE(p->csrcs.empty());
  EXPECT_FALSE(p->has_extension);
  EXPECT_EQ(p->extension_form(), ExtensionForm::kNone);
  EXPECT_EQ(p->payload, FromHex("010203"));
  EXPECT_EQ(p->padding_size, 0);
  EXPECT_EQ(p->HeaderSize(), 12u);
  auto out = p->Serialize();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(ToHex(*out), ToHex(FromHex(kBasic)));
}

TEST(RtpPacket, MarkerAndCsrcs) {
  const Bytes in = FromHex("82 ff 00 01 00 00 00 02 00 00 00 03 11 11 11 11 22 22 22 22 aa");
  auto p = ParseRtp(in);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->marker);
  EXPECT_EQ(p->payload_type, PayloadType(127));
  ASSERT_EQ(p->csrcs.size(), 2u);
  EXPECT_EQ(p->csrcs[0], Ssrc(0x11111111));
  EXPECT_EQ(p->csrcs[1], Ssrc(0x22222222));
  EXPECT_EQ(p->payload, FromHex("aa"));
  EXPECT_EQ(*p->Serialize(), in);
}

// RFC 8285 §4.2 figure: elements (id 1, 1 byte), (id 2, 2 bytes), two padding bytes, (id 3, 4 bytes).
TEST(RtpPacket, OneByteExtensionsRfc8285Example) {
  const Bytes in = FromHex(
      "90 60 00 01 00 00 00 02 00 00 00 03"
      "be de 00 03 10 aa 21 bb bb 00 00 33 cc cc cc cc"
      "ff");
  auto p = ParseRtp(in);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->extension_form(), ExtensionForm::kOneByte);
  ASSERT_EQ(p->extensions.size(), 3u);
  EXPECT_EQ(p->extensions[0], (HeaderExtension{1, FromHex("aa")}));
  EXPECT_EQ(p->extensions[1], (HeaderExtension{2, FromHex("bbbb")}));
  EXPECT_EQ(p->extensions[2], (HeaderExtension{3, FromHex("cccccccc")}));
  ASSERT_NE(p->FindExtension(2), nullptr);
  EXPECT_EQ(p->FindExtension(2)->data, FromHex("bbbb"));
  EXPECT_EQ(p->FindExtension(4), nullptr);
  EXPECT_EQ(p->payload, FromHex("ff"));
  // Serialization is canonical: elements packed, the block zero-padded at the end.
  auto out = p->Serialize();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(ToHex(*out), ToHex(FromHex("90 60 00 01 00 00 00 02 00 00 00 03"
                                        "be de 00 03 10 aa 21 bb bb 33 cc cc cc cc 00 00"
                                        "ff")));
  EXPECT_EQ(*ParseRtp(*out), *p);
}

TEST(RtpPacket, CanonicalOneByteRoundTripIsByteIdentical) {
  const Bytes in = FromHex("90 60 00 01 00 00 00 02 00 00 00 03 be de 00 01 10 aa 00 00 01 02");
  auto p = ParseRtp(in);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p->Serialize(), in);
}

TEST(RtpPacket, OneByteId15StopsParsing) {
  // (id 1, 1 byte), then id 15: its length is ignored and the rest of the block is not parsed.
  const Bytes in = FromHex("90 60 00 01 00 00 00 02 00 00 00 03 be de 00 02 10 aa f3 21 bb bb 00 00");
  auto p = ParseRtp(in);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->extensions.size(), 1u);
  EXPECT_EQ(p->extensions[0].id, 1);
  EXPECT_TRUE(p->payload.empty());
}

TEST(RtpPacket, TwoByteExtensions) {
  // profile 0x1000, 2 words: (id 1, 0 bytes), (id 200, 1 byte 0xaa), 3 padding bytes.
  const Bytes in = FromHex("90 60 00 01 00 00 00 02 00 00 00 03 10 00 00 02 01 00 c8 01 aa 00 00 00 55");
  auto p = ParseRtp(in);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->extension_form(), ExtensionForm::kTwoByte);
  ASSERT_EQ(p->extensions.size(), 2u);
  EXPECT_EQ(p->extensions[0], (HeaderExtension{1, {}}));
  EXPECT_EQ(p->extensions[1], (HeaderExtension{200, FromHex("aa")}));
  EXPECT_EQ(p->payload, FromHex("55"));
  EXPECT_EQ(*p->Serialize(), in);
}

TEST(RtpPacket, TwoByteAppBitsKept) {
  const Bytes in = FromHex("90 60 00 01 00 00 00 02 00 00 00 03 10 0f 00 01 05 00 00 00");
  auto p = ParseRtp(in);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->extension_profile, 0x100f);
  EXPECT_EQ(p->extension_form(), ExtensionForm::kTwoByte);
  ASSERT_EQ(p->extensions.size(), 1u);
  EXPECT_EQ(p->extensions[0], (HeaderExtension{5, {}}));
  EXPECT_EQ(*p->Serialize(), in);
}

TEST(RtpPacket, GenericExtensionKeptRaw) {
  const Bytes in = FromHex("90 60 00 01 00 00 00 02 00 00 00 03 ab cd 00 01 01 02 03 04 99");
  auto p = ParseRtp(in);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->extension_form(), ExtensionForm::kGeneric);
  EXPECT_EQ(p->extension_profile, 0xabcd);
  EXPECT_EQ(p->extension_raw, FromHex("01020304"));
  EXPECT_TRUE(p->extensions.empty());
  EXPECT_EQ(*p->Serialize(), in);
}

TEST(RtpPacket, EmptyOneByteBlock) {
  const Bytes in = FromHex("90 60 00 01 00 00 00 02 00 00 00 03 be de 00 00");
  auto p = ParseRtp(in);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->has_extension);
  EXPECT_TRUE(p->extensions.empty());
  EXPECT_EQ(*p->Serialize(), in);
}

TEST(RtpPacket, Padding) {
  const Bytes in = FromHex("a0 60 00 01 00 00 00 02 00 00 00 03 01 02 00 00 03");
  auto p = ParseRtp(in);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->payload, FromHex("0102"));
  EXPECT_EQ(p->padding_size, 3);
  EXPECT_EQ(*p->Serialize(), in);
  // Padding covering everything after the header is allowed (empty payload).
  auto all = ParseRtp(FromHex("a0 60 00 01 00 00 00 02 00 00 00 03 00 00 00 04"));
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->payload.empty());
  EXPECT_EQ(all->padding_size, 4);
}

TEST(RtpPacket, SetExtensionChoosesForm) {
  RtpPacket p;
  p.payload_type = PayloadType(111);
  p.sequence_number = SequenceNumber(7);
  p.ssrc = Ssrc(1);
  ASSERT_TRUE(p.SetExtension(3, FromHex("0102")).ok());
  EXPECT_EQ(p.extension_form(), ExtensionForm::kOneByte);
  ASSERT_TRUE(p.SetExtension(3, FromHex("03")).ok());  // replaces
  ASSERT_EQ(p.extensions.size(), 1u);
  EXPECT_EQ(p.extensions[0].data, FromHex("03"));
  ASSERT_TRUE(p.SetExtension(20, FromHex("04")).ok());  // id > 14 -> two-byte form
  EXPECT_EQ(p.extension_form(), ExtensionForm::kTwoByte);
  ASSERT_TRUE(p.SetExtension(4, {}).ok());
  EXPECT_EQ(p.extension_form(), ExtensionForm::kTwoByte);
  EXPECT_FALSE(p.SetExtension(0, FromHex("01")).ok());
  EXPECT_FALSE(p.SetExtension(5, Bytes(256, 1)).ok());
  auto out = p.Serialize();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->size(), p.HeaderSize());
  auto back = ParseRtp(*out);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, p);
}

TEST(RtpPacket, SerializeRejectsUnencodableFields) {
  RtpPacket p;
  p.payload_type = PayloadType(128);
  EXPECT_FALSE(p.Serialize().ok());
  p.payload_type = PayloadType(0);
  p.csrcs.assign(16, Ssrc(1));
  EXPECT_FALSE(p.Serialize().ok());
  p.csrcs.clear();
  p.extensions.push_back(HeaderExtension{1, FromHex("01")});
  EXPECT_FALSE(p.Serialize().ok());  // elements without the X bit
  p.has_extension = true;
  p.extension_profile = kOneByteExtensionProfile;
  p.extensions[0].id = 15;
  EXPECT_FALSE(p.Serialize().ok());  // id 15 is not encodable in the one-byte form
  p.extensions[0].id = 1;
  p.extensions[0].data.clear();
  EXPECT_FALSE(p.Serialize().ok());  // one-byte elements carry 1-16 bytes
  p.extensions.clear();
  p.extension_profile = 0x1234;
  p.extension_raw = FromHex("010203");
  EXPECT_FALSE(p.Serialize().ok());  // generic body not a multiple of 4
  p.extension_raw = FromHex("01020304");
  EXPECT_TRUE(p.Serialize().ok());
}

struct MalformedCase {
  const char* name;
  const char* hex;
};

class RtpMalformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(RtpMalformed, Rejected) {
  auto p = ParseRtp(FromHex(GetParam().hex));
  EXPECT_FALSE(p.ok()) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RtpMalformed,
    ::testing::Values(
        MalformedCase{"empty", ""},
        MalformedCase{"truncated header", "80 60 12 34 56 78 9a bc de ad be"},
        MalformedCase{"version 1", "40 60 12 34 56 78 9a bc de ad be ef"},
        MalformedCase{"version 0", "00 60 12 34 56 78 9a bc de ad be ef 00"},
        MalformedCase{"CC larger than the packet", "83 60 12 34 56 78 9a bc de ad be ef 11 11 11 11 22 22 22 22"},
        MalformedCase{"CC 15, no CSRCs", "8f 60 12 34 56 78 9a bc de ad be ef"},
        MalformedCase{"extension header truncated", "90 60 12 34 56 78 9a bc de ad be ef be de 00"},
        MalformedCase{"extension length past the end", "90 60 12 34 56 78 9a bc de ad be ef be de 00 02 10 aa 00 00"},
        MalformedCase{"one-byte element past the block", "90 60 12 34 56 78 9a bc de ad be ef be de 00 01 00 00 23 aa 00"},
        MalformedCase{"two-byte element past the block", "90 60 12 34 56 78 9a bc de ad be ef 10 00 00 01 01 05 aa bb"},
        MalformedCase{"two-byte length octet missing", "90 60 12 34 56 78 9a bc de ad be ef 10 00 00 01 00 00 00 07"},
        MalformedCase{"padding count 0", "a0 60 12 34 56 78 9a bc de ad be ef 01 02 00"},
        MalformedCase{"padding count larger than the payload", "a0 60 12 34 56 78 9a bc de ad be ef 01 02 04"},
        MalformedCase{"padding bit, nothing after the header", "a0 60 12 34 56 78 9a bc de ad be ef"},
        MalformedCase{"padding into the extension", "b0 60 12 34 56 78 9a bc de ad be ef be de 00 01 10 aa 00 00 02"}),
    [](const ::testing::TestParamInfo<MalformedCase>& info) {
      std::string n = info.param.name;
      for (char& c : n)
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

TEST(RtpDemux, Rfc5761) {
  EXPECT_TRUE(IsRtpPacket(FromHex(kBasic)));
  EXPECT_FALSE(IsRtcpPacket(FromHex(kBasic)));
  const Bytes rr = FromHex("80 c9 00 01 11 22 33 44");
  EXPECT_TRUE(IsRtcpPacket(rr));
  EXPECT_FALSE(IsRtpPacket(rr));
  // PT 95 with the marker bit is 0xdf (223), which RFC 5761 §4 assigns to RTCP; PT 96 + M is RTP.
  EXPECT_TRUE(IsRtcpPacket(FromHex("80 df 00 01 00 00 00 02 00 00 00 03")));
  EXPECT_TRUE(IsRtpPacket(FromHex("80 e0 00 01 00 00 00 02 00 00 00 03")));
  EXPECT_FALSE(IsRtpPacket(FromHex("00 60 00 01 00 00 00 02 00 00 00 03")));
}

}  // namespace
}  // namespace refrtc::rtp
