// RTCP: compound framing, SR/RR/SDES/BYE (RFC 3550 §6), NACK/PLI (RFC 4585), FIR (RFC 5104),
// REMB (draft-alvestrand-rmcat-remb-03), transport-cc feedback (draft-holmer-...-01).
#include "rtp/rtcp_packet.h"

#include <gtest/gtest.h>

#include "rtp_test_util.h"

namespace refrtc::rtp {
namespace {

using testing::FromHex;
using testing::ToHex;

// SR (RC=1): SSRC 0x11223344, NTP 0xe1234567:89abcdef, RTP ts 123456, 10 packets, 1024 octets,
// one report block for 0x55667788: fraction 0x40, cumulative lost -2, ext. highest 0x00010005,
// jitter 32, LSR 0x23456789, DLSR 0x00018000.
const char kSr[] =
    "81 c8 00 0c 11 22 33 44 e1 23 45 67 89 ab cd ef 00 01 e2 40 00 00 00 0a 00 00 04 00"
    "55 66 77 88 40 ff ff fe 00 01 00 05 00 00 00 20 23 45 67 89 00 01 80 00";
// SDES: one chunk for 0x11223344 with CNAME "user@example.com", null octet + 1 padding octet.
const char kSdes[] = "81 ca 00 06 11 22 33 44 01 10 75 73 65 72 40 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 00";
// BYE: SSRC 0x11223344, reason "done" + 3 padding octets.
const char kBye[] = "81 cb 00 03 11 22 33 44 04 64 6f 6e 65 00 00 00";

template <typename T>
T ParseOne(const Bytes& in) {
  auto c = ParseRtcpCompound(in);
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok() || c->size() != 1 || !std::holds_alternative<T>((*c)[0])) {
    ADD_FAILURE() << "not exactly one packet of the expected type";
    return T{};
  }
  return std::get<T>((*c)[0]);
}

void ExpectRoundTrip(const Bytes& in) {
  auto c = ParseRtcpCompound(in);
  ASSERT_TRUE(c.ok()) << c.status();
  auto out = SerializeRtcpCompound(*c);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ToHex(*out), ToHex(in));
}

TEST(Rtcp, SenderReport) {
  auto sr = ParseOne<SenderReport>(FromHex(kSr));
  EXPECT_EQ(sr.sender_ssrc, Ssrc(0x11223344));
  EXPECT_EQ(sr.ntp_time, NtpTime(0xe1234567, 0x89abcdef));
  EXPECT_EQ(sr.rtp_timestamp, 123456u);
  EXPECT_EQ(sr.packet_count, 10u);
  EXPECT_EQ(sr.octet_count, 1024u);
  ASSERT_EQ(sr.report_blocks.size(), 1u);
  const ReportBlock& rb = sr.report_blocks[0];
  EXPECT_EQ(rb.source_ssrc, Ssrc(0x55667788));
  EXPECT_EQ(rb.fraction_lost, 0x40);
  EXPECT_EQ(rb.cumulative_lost, -2);
  EXPECT_EQ(rb.extended_highest_sequence, 0x00010005u);
  EXPECT_EQ(rb.jitter, 32u);
  EXPECT_EQ(rb.last_sr, 0x23456789u);
  EXPECT_EQ(rb.delay_since_last_sr, 0x00018000u);
  EXPECT_TRUE(sr.profile_extension.empty());
  ExpectRoundTrip(FromHex(kSr));
}

TEST(Rtcp, ReceiverReportWithProfileExtension) {
  const Bytes in = FromHex(
      "81 c9 00 08 11 22 33 44 55 66 77 88 00 7f ff ff 00 00 ff ff 00 00 00 00 00 00 00 00 00 00 00 00"
      "ca fe ba be");
  auto rr = ParseOne<ReceiverReport>(in);
  EXPECT_EQ(rr.sender_ssrc, Ssrc(0x11223344));
  ASSERT_EQ(rr.report_blocks.size(), 1u);
  EXPECT_EQ(rr.report_blocks[0].cumulative_lost, 0x7fffff);
  EXPECT_EQ(rr.report_blocks[0].extended_highest_sequence, 0xffffu);
  EXPECT_EQ(rr.profile_extension, FromHex("cafebabe"));
  ExpectRoundTrip(in);
}

TEST(Rtcp, EmptyReceiverReport) {
  const Bytes in = FromHex("80 c9 00 01 11 22 33 44");
  auto rr = ParseOne<ReceiverReport>(in);
  EXPECT_TRUE(rr.report_blocks.empty());
  ExpectRoundTrip(in);
}

TEST(Rtcp, SdesCname) {
  auto sdes = ParseOne<Sdes>(FromHex(kSdes));
  ASSERT_EQ(sdes.chunks.size(), 1u);
  EXPECT_EQ(sdes.Cname(Ssrc(0x11223344)), "user@example.com");
  EXPECT_EQ(sdes.Cname(Ssrc(1)), std::nullopt);
  ExpectRoundTrip(FromHex(kSdes));
}

TEST(Rtcp, SdesTwoChunksAndEmptyChunk) {
  // Chunk 1: CNAME "ab" + NAME "c": SSRC 4 + item 4 + item 3 + null octet 1 = 12, already aligned.
  const Bytes in = FromHex(
      "82 ca 00 05"
      "00 00 00 01 01 02 61 62 02 01 63 00"  // 12 bytes: items end exactly before the null octet
      "00 00 00 02 00 00 00 00");            // empty chunk: SSRC + null + 3 padding
  auto sdes = ParseOne<Sdes>(in);
  ASSERT_EQ(sdes.chunks.size(), 2u);
  ASSERT_EQ(sdes.chunks[0].items.size(), 2u);
  EXPECT_EQ(sdes.chunks[0].items[1], (SdesItem{2, "c"}));
  EXPECT_TRUE(sdes.chunks[1].items.empty());
  ExpectRoundTrip(in);
}

TEST(Rtcp, ByeWithReason) {
  auto bye = ParseOne<Bye>(FromHex(kBye));
  ASSERT_EQ(bye.ssrcs.size(), 1u);
  EXPECT_EQ(bye.ssrcs[0], Ssrc(0x11223344));
  EXPECT_EQ(bye.reason, "done");
  ExpectRoundTrip(FromHex(kBye));
  const Bytes plain = FromHex("82 cb 00 02 00 00 00 01 00 00 00 02");
  auto bye2 = ParseOne<Bye>(plain);
  EXPECT_EQ(bye2.ssrcs.size(), 2u);
  EXPECT_FALSE(bye2.reason.has_value());
  ExpectRoundTrip(plain);
}

TEST(Rtcp, CompoundSrSdesBye) {
  const Bytes in = FromHex(std::string(kSr) + kSdes + kBye);
  auto blocks = SplitRtcpCompound(in);
  ASSERT_TRUE(blocks.ok()) << blocks.status();
  ASSERT_EQ(blocks->size(), 3u);
  EXPECT_EQ((*blocks)[0].packet_type, kRtcpSr);
  EXPECT_EQ((*blocks)[1].packet_type, kRtcpSdes);
  EXPECT_EQ((*blocks)[2].packet_type, kRtcpBye);
  EXPECT_EQ((*blocks)[2].raw.size(), 16u);
  auto c = ParseRtcpCompound(in);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(std::holds_alternative<SenderReport>((*c)[0]));
  EXPECT_TRUE(std::holds_alternative<Sdes>((*c)[1]));
  EXPECT_TRUE(std::holds_alternative<Bye>((*c)[2]));
  ExpectRoundTrip(in);
}

TEST(Rtcp, GenericNack) {
  // PID 100, BLP 0x0005 -> 100, 101, 103; second FCI PID 65535, BLP 0x8000 -> 65535, 15 (wraps).
  const Bytes in = FromHex("81 cd 00 04 00 00 00 01 00 00 00 02 00 64 00 05 ff ff 80 00");
  auto nack = ParseOne<Nack>(in);
  EXPECT_EQ(nack.sender_ssrc, Ssrc(1));
  EXPECT_EQ(nack.media_ssrc, Ssrc(2));
  std::vector<SequenceNumber> want = {SequenceNumber(100), SequenceNumber(101), SequenceNumber(103),
                                      SequenceNumber(65535), SequenceNumber(15)};
  EXPECT_EQ(nack.lost, want);
  ExpectRoundTrip(in);
  // 16 lies 17 after 65535: it needs an FCI of its own.
  nack.lost.back() = SequenceNumber(16);
  auto out = SerializeRtcpCompound({nack});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(ToHex(*out), "81cd0005000000010000000200640005ffff000000100000");
  EXPECT_EQ(ParseOne<Nack>(*out).lost, nack.lost);
}

TEST(Rtcp, BuildNackFcis) {
  auto seqs = [](std::initializer_list<uint16_t> v) {
    std::vector<SequenceNumber> out;
    for (uint16_t s : v) out.push_back(SequenceNumber(s));
    return out;
  };
  using Fcis = std::vector<std::pair<uint16_t, uint16_t>>;
  EXPECT_EQ(BuildNackFcis(seqs({10, 11, 13, 26})), (Fcis{{10, 0x8005}}));
  EXPECT_EQ(BuildNackFcis(seqs({10, 27})), (Fcis{{10, 0}, {27, 0}}));
  EXPECT_EQ(BuildNackFcis(seqs({65534, 65535, 0, 1})), (Fcis{{65534, 0x0007}}));
  // Out of order input keeps its order (a new FCI rather than a bit behind the last one).
  EXPECT_EQ(BuildNackFcis(seqs({10, 12, 11})), (Fcis{{10, 0x0002}, {11, 0}}));
  EXPECT_EQ(BuildNackFcis(seqs({5, 5})), (Fcis{{5, 0}, {5, 0}}));
  EXPECT_TRUE(BuildNackFcis({}).empty());
  // Serialize -> parse gives back any list.
  Nack n;
  n.lost = seqs({7, 3, 3, 4, 40000, 40016, 40017, 1});
  auto out = SerializeRtcpCompound({n});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(ParseOne<Nack>(*out).lost, n.lost);
  EXPECT_FALSE(SerializeRtcpCompound({Nack{}}).ok());  // no FCI
}

TEST(Rtcp, Pli) {
  const Bytes in = FromHex("81 ce 00 02 00 00 00 01 00 00 00 02");
  auto pli = ParseOne<Pli>(in);
  EXPECT_EQ(pli.sender_ssrc, Ssrc(1));
  EXPECT_EQ(pli.media_ssrc, Ssrc(2));
  ExpectRoundTrip(in);
}

TEST(Rtcp, Fir) {
  const Bytes in = FromHex("84 ce 00 06 00 00 00 01 00 00 00 00 00 00 00 0a 07 00 00 00 00 00 00 0b ff 00 00 00");
  auto fir = ParseOne<Fir>(in);
  EXPECT_EQ(fir.sender_ssrc, Ssrc(1));
  ASSERT_EQ(fir.entries.size(), 2u);
  EXPECT_EQ(fir.entries[0], (FirEntry{Ssrc(10), 7}));
  EXPECT_EQ(fir.entries[1], (FirEntry{Ssrc(11), 255}));
  ExpectRoundTrip(in);
}

TEST(Rtcp, Remb) {
  // 1 SSRC, exponent 2, mantissa 250000 -> 1,000,000 bps.
  const Bytes in = FromHex("8f ce 00 05 00 00 00 01 00 00 00 00 52 45 4d 42 01 0b d0 90 00 00 00 2a");
  auto remb = ParseOne<Remb>(in);
  EXPECT_EQ(remb.sender_ssrc, Ssrc(1));
  EXPECT_EQ(remb.bitrate_bps, 1000000u);
  ASSERT_EQ(remb.ssrcs.size(), 1u);
  EXPECT_EQ(remb.ssrcs[0], Ssrc(42));
  ExpectRoundTrip(in);
  // Serialization rounds down to an 18-bit mantissa: 3e9 -> 183105 << 14.
  Remb big;
  big.bitrate_bps = 3000000000ull;
  auto out = SerializeRtcpCompound({big});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(ParseOne<Remb>(*out).bitrate_bps, 183105ull << 14);
}

TEST(Rtcp, RembOverflowAndOtherAfbs) {
  // exponent 63, mantissa 3: does not fit 64 bits.
  EXPECT_FALSE(ParseRtcpCompound(FromHex("8f ce 00 04 00 00 00 01 00 00 00 00 52 45 4d 42 00 fc 00 03")).ok());
  // Application feedback that is not REMB stays unknown.
  const Bytes afb = FromHex("8f ce 00 03 00 00 00 01 00 00 00 00 41 42 43 44");
  auto u = ParseOne<UnknownRtcp>(afb);
  EXPECT_EQ(u.packet_type, kRtcpPsfb);
  EXPECT_EQ(u.count, 15);
  ExpectRoundTrip(afb);
}

// transport-cc: base 100, 5 packets, reference time 16 (x64 ms), fb count 3; one two-bit status
// vector chunk [small, small, not received, large, small], deltas 4 (1 ms), 8 (2 ms), -4 (-1 ms),
// 1 (250 us), one byte of delta padding.
const char kTwcc[] =
    "8f cd 00 06 00 00 00 01 00 00 00 02 00 64 00 05 00 00 10 03 d4 90 04 08 ff fc 01 00";

TEST(Rtcp, TransportFeedback) {
  auto fb = ParseOne<TransportFeedback>(FromHex(kTwcc));
  EXPECT_EQ(fb.sender_ssrc, Ssrc(1));
  EXPECT_EQ(fb.media_ssrc, Ssrc(2));
  EXPECT_EQ(fb.base_sequence, 100);
  EXPECT_EQ(fb.reference_time, 16);
  EXPECT_EQ(fb.ReferenceTimeUs(), 16 * 64000);
  EXPECT_EQ(fb.feedback_packet_count, 3);
  std::vector<TwccPacketStatus> want = {
      {100, true, 1000}, {101, true, 2000}, {102, false, 0}, {103, true, -1000}, {104, true, 250}};
  EXPECT_EQ(fb.packets, want);
  ExpectRoundTrip(FromHex(kTwcc));
}

TEST(Rtcp, TransportFeedbackRunLengthAndOneBitVector) {
  // Status count 17: run-length chunk (small delta x 3), one-bit vector [1,0,1,0,...] x 14.
  // Deltas: 3 + 7 small deltas of 1..10 ticks.
  Bytes in = FromHex(
      "8f cd 00 08 00 00 00 01 00 00 00 02 ff fe 00 11 ff ff ff 07"
      "20 03 aa aa"
      "01 02 03 04 05 06 07 08 09 0a 00 00");
  auto fb = ParseOne<TransportFeedback>(in);
  EXPECT_EQ(fb.base_sequence, 65534);
  EXPECT_EQ(fb.reference_time, -1);
  ASSERT_EQ(fb.packets.size(), 17u);
  EXPECT_EQ(fb.packets[0], (TwccPacketStatus{65534, true, 250}));
  EXPECT_EQ(fb.packets[2], (TwccPacketStatus{0, true, 750}));
  EXPECT_EQ(fb.packets[3], (TwccPacketStatus{1, true, 1000}));
  EXPECT_EQ(fb.packets[4], (TwccPacketStatus{2, false, 0}));
  EXPECT_EQ(fb.packets[15], (TwccPacketStatus{13, true, 2500}));
  EXPECT_EQ(fb.packets[16], (TwccPacketStatus{14, false, 0}));
  // Re-encoding may choose other chunks; the decoded statuses must survive.
  auto out = SerializeRtcpCompound({fb});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ParseOne<TransportFeedback>(*out), fb);
}

TEST(Rtcp, TransportFeedbackLargeStatusCountIsBounded) {
  // 65535 packets, none received: nine run-length chunks of 8191 "not received" (the last covers
  // the remaining 8 only). Legal, and decoded from 18 bytes of chunks.
  std::string hex = "8f cd 00 09 00 00 00 01 00 00 00 02 00 00 ff ff 00 00 00 00";
  for (int i = 0; i < 9; ++i) hex += "1f ff";
  hex += "00 00";
  auto fb = ParseOne<TransportFeedback>(FromHex(hex));
  ASSERT_EQ(fb.packets.size(), 65535u);
  EXPECT_FALSE(fb.packets[65534].received);
  EXPECT_EQ(fb.packets[65534].sequence_number, 65534);
  // The same claimed count with a single chunk is rejected (and never allocates 65535 entries
  // before the chunks are read).
  EXPECT_FALSE(ParseRtcpCompound(FromHex("8f cd 00 05 00 00 00 01 00 00 00 02 00 00 ff ff 00 00 00 00 1f ff 00 00")).ok());
}

TEST(Rtcp, BuildsTransportFeedback) {
  TransportFeedback fb;
  fb.base_sequence = 65530;
  fb.reference_time = -5;
  fb.feedback_packet_count = 9;
  const int32_t deltas[] = {0, 250, 63750, 64000, -250, 8191750, -8192000};
  for (int i = 0; i < 40; ++i) {
    TwccPacketStatus s;
    s.sequence_number = static_cast<uint16_t>(65530 + i);
    s.received = (i % 5) != 2 && (i < 20 || i > 30);
    if (s.received) s.delta_us = deltas[i % 7];
    fb.packets.push_back(s);
  }
  auto out = SerializeRtcpCompound({fb});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ParseOne<TransportFeedback>(*out), fb);
  fb.packets[3].delta_us = 100;  // not a multiple of 250 us
  EXPECT_FALSE(SerializeRtcpCompound({fb}).ok());
  fb.packets[3].delta_us = 250 * 40000;  // beyond 16 bits
  EXPECT_FALSE(SerializeRtcpCompound({fb}).ok());
  fb.packets[3].delta_us = 250;
  fb.packets[3].sequence_number = 1;  // not consecutive
  EXPECT_FALSE(SerializeRtcpCompound({fb}).ok());
}

TEST(Rtcp, UnknownTypesKeptRaw) {
  // APP (204) and XR (207).
  const Bytes in = FromHex("81 cc 00 03 00 00 00 01 6e 61 6d 65 de ad be ef 80 cf 00 01 00 00 00 05");
  auto c = ParseRtcpCompound(in);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 2u);
  const auto& app = std::get<UnknownRtcp>((*c)[0]);
  EXPECT_EQ(app.packet_type, kRtcpApp);
  EXPECT_EQ(app.count, 1);
  EXPECT_EQ(app.body, FromHex("000000016e616d65deadbeef"));
  EXPECT_EQ(std::get<UnknownRtcp>((*c)[1]).packet_type, 207);
  ExpectRoundTrip(in);
}

TEST(Rtcp, PaddingOnLastPacket) {
  // RR followed by a PLI carrying 4 octets of padding.
  const Bytes in = FromHex("80 c9 00 01 11 22 33 44 a1 ce 00 03 00 00 00 01 00 00 00 02 00 00 00 04");
  auto blocks = SplitRtcpCompound(in);
  ASSERT_TRUE(blocks.ok()) << blocks.status();
  ASSERT_EQ(blocks->size(), 2u);
  EXPECT_TRUE((*blocks)[1].padding);
  EXPECT_EQ((*blocks)[1].body.size(), 8u);
  EXPECT_EQ((*blocks)[1].raw.size(), 16u);
  EXPECT_TRUE(ParseRtcpCompound(in).ok());
}

TEST(Rtcp, InnerPaddingOnlyWhenAllowed) {
  // libwebrtc-style transport-cc with P set and a 1-octet padding count, followed by an RR.
  const Bytes in = FromHex(std::string("af cd 00 06 00 00 00 01 00 00 00 02 00 64 00 05 00 00 10 03 d4 90 04 08 ff fc 01 01") +
                           "80 c9 00 01 11 22 33 44");
  EXPECT_FALSE(SplitRtcpCompound(in).ok());
  auto c = ParseRtcpCompound(in, /*allow_inner_padding=*/true);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ(std::get<TransportFeedback>((*c)[0]).packets.size(), 5u);
}

TEST(Rtcp, SerializeLimits) {
  ReceiverReport rr;
  rr.report_blocks.resize(32);
  EXPECT_FALSE(SerializeRtcpCompound({rr}).ok());
  rr.report_blocks.resize(31);
  auto out = SerializeRtcpCompound({rr});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->size(), 8u + 31 * 24);
  rr.profile_extension = FromHex("01");
  EXPECT_FALSE(SerializeRtcpCompound({rr}).ok());
  Sdes sdes;
  sdes.chunks.push_back(SdesChunk{Ssrc(1), {SdesItem{1, std::string(256, 'x')}}});
  EXPECT_FALSE(SerializeRtcpCompound({sdes}).ok());
  sdes.chunks[0].items[0] = SdesItem{0, "x"};
  EXPECT_FALSE(SerializeRtcpCompound({sdes}).ok());
  Bye bye;
  bye.reason = std::string(256, 'x');
  EXPECT_FALSE(SerializeRtcpCompound({bye}).ok());
  EXPECT_FALSE(SerializeRtcpCompound({Fir{}}).ok());
  // A failed append leaves the buffer untouched.
  Bytes buf = FromHex("01");
  EXPECT_FALSE(AppendRtcpPacket(bye, &buf).ok());
  EXPECT_EQ(buf, FromHex("01"));
}

TEST(Rtcp, WrongTypeForParser) {
  const Bytes bye = FromHex(kBye);  // the blocks are views into it
  auto blocks = SplitRtcpCompound(bye);
  ASSERT_TRUE(blocks.ok());
  EXPECT_FALSE(ParseSenderReport((*blocks)[0]).ok());
  EXPECT_FALSE(ParseNack((*blocks)[0]).ok());
  EXPECT_TRUE(ParseBye((*blocks)[0]).ok());
}

struct MalformedCase {
  const char* name;
  const char* hex;
};

class RtcpMalformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(RtcpMalformed, Rejected) {
  auto c = ParseRtcpCompound(FromHex(GetParam().hex));
  EXPECT_FALSE(c.ok()) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RtcpMalformed,
    ::testing::Values(
        MalformedCase{"empty", ""},
        MalformedCase{"short header", "80 c9 00"},
        MalformedCase{"wrong version", "40 c9 00 01 11 22 33 44"},
        MalformedCase{"wrong version in second packet", "80 c9 00 01 11 22 33 44 c0 c9 00 01 11 22 33 44"},
        MalformedCase{"length past the end", "80 c9 00 02 11 22 33 44"},
        MalformedCase{"trailing garbage", "80 c9 00 01 11 22 33 44 80 c9"},
        MalformedCase{"padding not on the last", "a0 c9 00 02 11 22 33 44 00 00 00 04 80 c9 00 01 11 22 33 44"},
        MalformedCase{"padding count 0", "a0 c9 00 02 11 22 33 44 00 00 00 00"},
        MalformedCase{"padding count past the body", "a0 c9 00 02 11 22 33 44 00 00 00 09"},
        MalformedCase{"padding bit, no body", "a0 c9 00 00"},
        MalformedCase{"SR without sender info", "80 c8 00 01 11 22 33 44"},
        MalformedCase{"RR count past the end", "82 c9 00 07 11 22 33 44 55 66 77 88 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"},
        MalformedCase{"RR without SSRC", "80 c9 00 00"},
        MalformedCase{"SDES item past the chunk", "81 ca 00 02 11 22 33 44 01 10 61 62"},
        MalformedCase{"SDES chunk without null octet", "81 ca 00 02 11 22 33 44 01 02 61 62"},
        MalformedCase{"SDES chunk count past the end", "82 ca 00 02 11 22 33 44 00 00 00 00"},
        MalformedCase{"SDES chunk padding past the end", "a1 ca 00 02 11 22 33 44 01 00 00 01"},
        MalformedCase{"BYE SSRC count past the end", "82 cb 00 01 11 22 33 44"},
        MalformedCase{"BYE reason past the end", "81 cb 00 02 11 22 33 44 05 61 62 63"},
        MalformedCase{"NACK with zero FCIs", "81 cd 00 02 00 00 00 01 00 00 00 02"},
        MalformedCase{"NACK without media SSRC", "81 cd 00 01 00 00 00 01"},
        MalformedCase{"PLI too short", "81 ce 00 01 00 00 00 01"},
        MalformedCase{"FIR with zero entries", "84 ce 00 02 00 00 00 01 00 00 00 00"},
        MalformedCase{"FIR truncated entry", "84 ce 00 03 00 00 00 01 00 00 00 00 00 00 00 0a"},
        MalformedCase{"REMB SSRC count past the end", "8f ce 00 04 00 00 00 01 00 00 00 00 52 45 4d 42 02 0b d0 90"},
        MalformedCase{"TWCC shorter than fixed fields", "8f cd 00 03 00 00 00 01 00 00 00 02 00 64 00 05"},
        MalformedCase{"TWCC chunk count past the end", "8f cd 00 05 00 00 00 01 00 00 00 02 00 64 00 14 00 00 10 03 d4 90 d4 90"},
        MalformedCase{"TWCC delta past the end", "8f cd 00 05 00 00 00 01 00 00 00 02 00 64 00 05 00 00 10 03 d4 90 04 08"},
        MalformedCase{"TWCC reserved symbol in run", "8f cd 00 05 00 00 00 01 00 00 00 02 00 64 00 02 00 00 10 03 60 02 00 00"},
        MalformedCase{"TWCC reserved symbol in vector", "8f cd 00 05 00 00 00 01 00 00 00 02 00 64 00 01 00 00 10 03 f0 00 00 00"}),
    [](const ::testing::TestParamInfo<MalformedCase>& info) {
      std::string n = info.param.name;
      for (char& c : n)
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

}  // namespace
}  // namespace refrtc::rtp
