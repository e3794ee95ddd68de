// RtpSendStream / RtpReceiveStream: packetization (RFC 3550 §5.1, RFC 8843 §15 MID), NACK-driven
// retransmission (RFC 4585 §6.2.1, RFC 4588 §4 RTX), receive-side duplicate detection, RTX
// unwrapping and NACK timing, and the SR -> report block -> RTT loop of RFC 3550 §6.4.1.
#include "rtp/rtp_streams.h"

#include <gtest/gtest.h>

#include <string>

#include "rtp/rtcp_packet.h"

namespace refrtc::rtp {
namespace {

using std::chrono::milliseconds;

const Instant kT0 = Instant() + std::chrono::seconds(1000);

Bytes Payload(std::initializer_list<uint8_t> b) { return Bytes(b); }

SendStreamConfig VideoSendConfig() {
  SendStreamConfig c;
  c.ssrc = Ssrc(0x11223344);
  c.payload_type = PayloadType(96);
  c.clock_rate = 90000;
  c.mid_extension_id = 3;
  c.mid = "v0";
  c.initial_sequence_number = 1000;
  c.timestamp_base = 0x10000000;
  c.cname = "cname";
  return c;
}

SendStreamConfig RtxSendConfig() {
  SendStreamConfig c = VideoSendConfig();
  c.rtx_ssrc = Ssrc(0x55667788);
  c.rtx_payload_type = PayloadType(97);
  c.rtx_initial_sequence_number = 500;
  return c;
}

ReceiveStreamConfig ReceiveConfig(bool nack = true) {
  ReceiveStreamConfig c;
  c.ssrc = Ssrc(0x11223344);
  c.clock_rate = 90000;
  c.rtx_ssrc = Ssrc(0x55667788);
  c.rtx_payload_type = PayloadType(97);
  c.media_payload_type = PayloadType(96);
  c.nack_enabled = nack;
  c.local_ssrc = Ssrc(0xABCD);
  return c;
}

RtpPacket Parse(const Bytes& b) {
  auto p = ParseRtp(b);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : RtpPacket{};
}

// A media packet for the receive stream tests: timestamp seq * 900 (10 ms at 90 kHz).
RtpPacket Media(uint16_t seq, Bytes payload = {1, 2, 3}) {
  RtpPacket p;
  p.payload_type = PayloadType(96);
  p.sequence_number = SequenceNumber(seq);
  p.timestamp = static_cast<uint32_t>(seq) * 900u;
  p.ssrc = Ssrc(0x11223344);
  p.payload = std::move(payload);
  return p;
}

RtpPacket Rtx(uint16_t rtx_seq, const RtpPacket& original) {
  RtpPacket p = original;
  p.ssrc = Ssrc(0x55667788);
  p.payload_type = PayloadType(97);
  p.sequence_number = SequenceNumber(rtx_seq);
  p.payload = {static_cast<uint8_t>(original.sequence_number.value() >> 8),
               static_cast<uint8_t>(original.sequence_number.value())};
  p.payload.insert(p.payload.end(), original.payload.begin(), original.payload.end());
  return p;
}

std::vector<uint16_t> Values(const std::vector<SequenceNumber>& v) {
  std::vector<uint16_t> out;
  for (auto s : v) out.push_back(s.value());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Send stream
// ---------------------------------------------------------------------------------------------

TEST(RtpSendStream, PacketizeStampsHeaderAndMid) {
  SendStreamConfig c = VideoSendConfig();
  c.initial_sequence_number = 65534;  // wraps after two packets
  RtpSendStream s(c);
  const Bytes p1 = Payload({0xAA, 0xBB, 0xCC});
  Bytes w1 = s.Packetize(p1, 0, false, kT0);
  Bytes w2 = s.Packetize(Payload({1}), 3000, true, kT0 + milliseconds(33));
  Bytes w3 = s.Packetize(Payload({2, 2}), 6000, false, kT0 + milliseconds(66));
  RtpPacket a = Parse(w1), b = Parse(w2), d = Parse(w3);
  EXPECT_EQ(a.sequence_number.value(), 65534);
  EXPECT_EQ(b.sequence_number.value(), 65535);
  EXPECT_EQ(d.sequence_number.value(), 0);
  EXPECT_EQ(s.next_sequence_number(), 1);
  EXPECT_EQ(a.timestamp, 0x10000000u);
  EXPECT_EQ(b.timestamp, 0x10000000u + 3000);
  EXPECT_EQ(d.timestamp, 0x10000000u + 6000);
  EXPECT_EQ(a.ssrc, Ssrc(0x11223344));
  EXPECT_EQ(a.payload_type, PayloadType(96));
  EXPECT_FALSE(a.marker);
  EXPECT_TRUE(b.marker);
  EXPECT_EQ(a.payload, p1);
  // RFC 8843 §15 MID in an RFC 8285 one-byte extension.
  EXPECT_EQ(a.extension_form(), ExtensionForm::kOneByte);
  ASSERT_NE(a.FindExtension(3), nullptr);
  EXPECT_EQ(AsString(a.FindExtension(3)->data), "v0");
  EXPECT_EQ(a.extensions.size(), 1u);

  const auto& k = s.counters();
  EXPECT_EQ(k.packets_sent, 3u);
  EXPECT_EQ(k.bytes_sent, 6u);
  EXPECT_EQ(k.header_bytes_sent, w1.size() + w2.size() + w3.size() - 6);
  EXPECT_TRUE(s.has_sent());
}

TEST(RtpSendStream, NoMidExtensionWhenIdIsZero) {
  SendStreamConfig c = VideoSendConfig();
  c.mid_extension_id = 0;
  RtpSendStream s(c);
  RtpPacket p = Parse(s.Packetize(Payload({1, 2}), 0, false, kT0));
  EXPECT_FALSE(p.has_extension);
  EXPECT_EQ(p.HeaderSize(), 12u);
}

TEST(RtpSendStream, TimestampWrapsWithBase) {
  SendStreamConfig c = VideoSendConfig();
  c.timestamp_base = 0xFFFFFF00u;
  RtpSendStream s(c);
  EXPECT_EQ(Parse(s.Packetize(Payload({1}), 0x200, false, kT0)).timestamp, 0x100u);
}

TEST(RtpSendStream, NackResendsOriginalOncePerWindow) {
  RtpSendStream s(VideoSendConfig());
  std::vector<Bytes> sent;
  for (int i = 0; i < 5; ++i) sent.push_back(s.Packetize(Payload({uint8_t(i), 9}), i * 3000, i == 4, kT0));
  // 1002 and 1004 are in the history; 999 and 2000 were never sent.
  auto out = s.OnNack({SequenceNumber(1002), SequenceNumber(999), SequenceNumber(1004), SequenceNumber(2000)},
                      kT0 + milliseconds(50));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], sent[2]);  // byte-identical original (RFC 4585 without RTX)
  EXPECT_EQ(out[1], sent[4]);
  EXPECT_EQ(s.counters().nack_count, 1u);
  EXPECT_EQ(s.counters().retransmitted_packets_sent, 2u);
  EXPECT_EQ(s.counters().retransmitted_bytes_sent, 4u);
  EXPECT_EQ(s.counters().packets_sent, 5u);  // retransmissions excluded
  // Within 100 ms of the resend: not again. The same number twice in one NACK: once.
  EXPECT_TRUE(s.OnNack({SequenceNumber(1002)}, kT0 + milliseconds(149)).empty());
  EXPECT_EQ(s.counters().nack_count, 2u);
  out = s.OnNack({SequenceNumber(1002), SequenceNumber(1002)}, kT0 + milliseconds(150));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], sent[2]);
  EXPECT_EQ(s.counters().retransmitted_packets_sent, 3u);
  // SR counts include the same-SSRC retransmissions (§6.4.1 "packets transmitted").
  SenderReport sr = s.MakeSenderReport(kT0 + milliseconds(200), NtpTime(100, 0));
  EXPECT_EQ(sr.packet_count, 8u);
  EXPECT_EQ(sr.octet_count, 16u);
}

TEST(RtpSendStream, NackResendWindowFollowsRtt) {
  RtpSendStream s(VideoSendConfig());
  s.Packetize(Payload({1}), 0, false, kT0);
  // A 30 ms RTT from a report block (explicit NTP "now").
  ReportBlock rb;
  rb.source_ssrc = Ssrc(0x11223344);
  const NtpTime sr_ntp(3900000000u, 0);
  rb.last_sr = sr_ntp.Compact();
  rb.delay_since_last_sr = DurationToCompactNtp(milliseconds(20));
  s.OnReportBlock(rb, kT0, sr_ntp + milliseconds(50));
  ASSERT_TRUE(s.counters().round_trip_time_s);
  EXPECT_NEAR(*s.counters().round_trip_time_s, 0.030, 0.001);
  EXPECT_EQ(s.OnNack({SequenceNumber(1000)}, kT0).size(), 1u);
  EXPECT_TRUE(s.OnNack({SequenceNumber(1000)}, kT0 + milliseconds(29)).empty());
  EXPECT_EQ(s.OnNack({SequenceNumber(1000)}, kT0 + milliseconds(31)).size(), 1u);
}

TEST(RtpSendStream, HistoryIsBounded) {
  SendStreamConfig c = VideoSendConfig();
  c.history_size = 4;
  c.initial_sequence_number = 65533;  // the history spans the wrap
  RtpSendStream s(c);
  for (int i = 0; i < 10; ++i) s.Packetize(Payload({uint8_t(i)}), i, false, kT0);
  EXPECT_EQ(s.history_packets(), 4u);
  // Sent 65533..65535, 0..6; kept 3..6.
  EXPECT_TRUE(s.OnNack({SequenceNumber(2), SequenceNumber(65535)}, kT0).empty());
  auto out = s.OnNack({SequenceNumber(3), SequenceNumber(6)}, kT0);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(Parse(out[0]).payload, Payload({6}));
  EXPECT_EQ(Parse(out[1]).payload, Payload({9}));

  c.history_size = 0;  // no history (e.g. audio without NACK)
  RtpSendStream none(c);
  none.Packetize(Payload({1}), 0, false, kT0);
  EXPECT_TRUE(none.OnNack({SequenceNumber(65533)}, kT0).empty());
}

TEST(RtpSendStream, NackWithRtxWrapsPerRfc4588) {
  RtpSendStream s(RtxSendConfig());
  const Bytes payload = Payload({0xDE, 0xAD, 0xBE, 0xEF});
  Bytes original = s.Packetize(payload, 4500, true, kT0);
  s.Packetize(Payload({7}), 9000, false, kT0);
  auto out = s.OnNack({SequenceNumber(1000), SequenceNumber(1001)}, kT0 + milliseconds(40));
  ASSERT_EQ(out.size(), 2u);
  RtpPacket rtx = Parse(out[0]);
  RtpPacket orig = Parse(original);
  EXPECT_EQ(rtx.ssrc, Ssrc(0x55667788));
  EXPECT_EQ(rtx.payload_type, PayloadType(97));
  EXPECT_EQ(rtx.sequence_number.value(), 500);
  EXPECT_EQ(rtx.timestamp, orig.timestamp);
  EXPECT_TRUE(rtx.marker);
  EXPECT_EQ(rtx.extensions, orig.extensions);  // MID kept
  ASSERT_EQ(rtx.payload.size(), payload.size() + 2);
  EXPECT_EQ(rtx.payload[0] << 8 | rtx.payload[1], 1000);  // OSN
  EXPECT_EQ(Bytes(rtx.payload.begin() + 2, rtx.payload.end()), payload);
  RtpPacket rtx2 = Parse(out[1]);
  EXPECT_EQ(rtx2.sequence_number.value(), 501);  // RTX stream's own counter
  EXPECT_EQ(rtx2.payload[0] << 8 | rtx2.payload[1], 1001);
  EXPECT_FALSE(rtx2.marker);
  EXPECT_EQ(s.counters().retransmitted_packets_sent, 2u);
  EXPECT_EQ(s.counters().retransmitted_bytes_sent, 5u);
  // RTX packets are not counted in the media SSRC's SR.
  EXPECT_EQ(s.MakeSenderReport(kT0, NtpTime(1, 0)).packet_count, 2u);

  // The receive side restores the original packet exactly.
  RtpReceiveStream r(ReceiveConfig());
  auto restored = r.OnPacket(rtx, kT0);
  ASSERT_TRUE(restored);
  EXPECT_EQ(*restored, orig);
  EXPECT_EQ(r.counters().retransmitted_packets_received, 1u);
}

TEST(RtpSendStream, DefaultRtxSequenceNumberIsHalfSpaceAway) {
  SendStreamConfig c = RtxSendConfig();
  c.rtx_initial_sequence_number.reset();
  c.initial_sequence_number = 0x9000;
  RtpSendStream s(c);
  EXPECT_EQ(s.next_rtx_sequence_number(), 0x1000);
  s.Packetize(Payload({1}), 0, false, kT0);
  auto out = s.OnNack({SequenceNumber(0x9000)}, kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Parse(out[0]).sequence_number.value(), 0x1000);
}

TEST(RtpSendStream, SenderReportExtrapolatesRtpTimestamp) {
  RtpSendStream s(VideoSendConfig());
  // Before any packet: timestamp_base, zero counts.
  SenderReport sr0 = s.MakeSenderReport(kT0, NtpTime(5, 0));
  EXPECT_EQ(sr0.rtp_timestamp, 0x10000000u);
  EXPECT_EQ(sr0.packet_count, 0u);
  s.Packetize(Payload({1, 2, 3}), 0, false, kT0);
  s.Packetize(Payload({4, 5}), 3000, true, kT0 + milliseconds(33));
  const NtpTime ntp(3900000000u, 0x80000000u);
  SenderReport sr = s.MakeSenderReport(kT0 + milliseconds(133), ntp);
  EXPECT_EQ(sr.sender_ssrc, Ssrc(0x11223344));
  EXPECT_EQ(sr.ntp_time, ntp);
  // Last packet: base + 3000 captured at 33 ms; 100 ms later = +9000 ticks at 90 kHz.
  EXPECT_EQ(sr.rtp_timestamp, 0x10000000u + 3000 + 9000);
  EXPECT_EQ(sr.packet_count, 2u);
  EXPECT_EQ(sr.octet_count, 5u);  // payload octets only
  EXPECT_TRUE(sr.report_blocks.empty());
}

TEST(RtpSendStream, ReportBlockRules) {
  RtpSendStream s(VideoSendConfig());
  s.Packetize(Payload({1}), 0, false, kT0);
  ReportBlock other;
  other.source_ssrc = Ssrc(42);
  other.last_sr = 1234;
  s.OnReportBlock(other, kT0);
  EXPECT_FALSE(s.counters().last_report);  // not about us
  ReportBlock no_sr;
  no_sr.source_ssrc = Ssrc(0x11223344);
  no_sr.cumulative_lost = 3;
  no_sr.fraction_lost = 12;
  s.OnReportBlock(no_sr, kT0, NtpTime(3900000000u, 0));
  ASSERT_TRUE(s.counters().last_report);
  EXPECT_EQ(s.counters().last_report->cumulative_lost, 3);
  EXPECT_FALSE(s.counters().round_trip_time_s);  // LSR 0: no RTT
  EXPECT_EQ(s.counters().round_trip_time_measurements, 0u);
  // Negative RTT (DLSR larger than the elapsed time) clamps to 0.
  const NtpTime ntp(3900000000u, 0);
  s.MakeSenderReport(kT0, ntp);
  ReportBlock bogus = no_sr;
  bogus.last_sr = ntp.Compact();
  bogus.delay_since_last_sr = DurationToCompactNtp(milliseconds(500));
  s.OnReportBlock(bogus, kT0 + milliseconds(100));
  ASSERT_TRUE(s.counters().round_trip_time_s);
  EXPECT_EQ(*s.counters().round_trip_time_s, 0.0);
  // An LSR that is not one of our remembered SRs: A mapped from the last SR's (now, NTP) pair.
  ReportBlock mapped = no_sr;
  mapped.last_sr = (ntp + milliseconds(10)).Compact();
  mapped.delay_since_last_sr = DurationToCompactNtp(milliseconds(10));
  s.OnReportBlock(mapped, kT0 + milliseconds(50));
  EXPECT_NEAR(*s.counters().round_trip_time_s, 0.030, 0.001);
  EXPECT_EQ(s.counters().round_trip_time_measurements, 2u);
  EXPECT_NEAR(s.counters().total_round_trip_time_s, 0.030, 0.001);
}

TEST(RtpSendStream, RttMatchesEarlierSrDespiteWallclockJump) {
  RtpSendStream s(VideoSendConfig());
  s.Packetize(Payload({1}), 0, false, kT0);
  const NtpTime ntp1(3900000000u, 0);
  s.MakeSenderReport(kT0, ntp1);
  // The host's wall clock steps 10 s forward before the next SR.
  s.MakeSenderReport(kT0 + milliseconds(500), ntp1 + std::chrono::milliseconds(10500));
  // A report about the first SR: A - LSR is measured on the monotonic clock.
  ReportBlock rb;
  rb.source_ssrc = Ssrc(0x11223344);
  rb.last_sr = ntp1.Compact();
  rb.delay_since_last_sr = DurationToCompactNtp(milliseconds(480));
  s.OnReportBlock(rb, kT0 + milliseconds(520));
  ASSERT_TRUE(s.counters().round_trip_time_s);
  EXPECT_NEAR(*s.counters().round_trip_time_s, 0.040, 0.001);
}

TEST(RtpSendStream, PliFirCounters) {
  RtpSendStream s(VideoSendConfig());
  s.OnPli();
  s.OnPli();
  s.OnFir();
  EXPECT_EQ(s.counters().pli_count, 2u);
  EXPECT_EQ(s.counters().fir_count, 1u);
}

// ---------------------------------------------------------------------------------------------
// Receive stream
// ---------------------------------------------------------------------------------------------

TEST(RtpReceiveStream, ReorderingDeliveredDuplicatesDropped) {
  RtpReceiveStream r(ReceiveConfig(/*nack=*/false));
  EXPECT_FALSE(r.MakeReportBlock(kT0));  // nothing received yet
  for (uint16_t q : {10, 12, 11, 13}) {
    auto p = r.OnPacket(Media(q), kT0);
    ASSERT_TRUE(p) << q;
    EXPECT_EQ(p->sequence_number.value(), q);
  }
  EXPECT_FALSE(r.OnPacket(Media(12), kT0));  // duplicate
  EXPECT_FALSE(r.OnPacket(Media(13), kT0));
  EXPECT_FALSE(r.OnPacket(Media(10), kT0));
  const auto& k = r.counters();
  EXPECT_EQ(k.packets_received, 4u);
  EXPECT_EQ(k.packets_duplicated, 3u);
  EXPECT_EQ(k.bytes_received, 12u);
  EXPECT_EQ(k.header_bytes_received, 48u);
  EXPECT_EQ(k.packets_lost, 0);
  EXPECT_EQ(k.retransmitted_packets_received, 0u);
  EXPECT_EQ(k.last_packet_received, kT0);
  // Without NACK negotiated, nothing is requested.
  r.OnPacket(Media(20), kT0);
  EXPECT_TRUE(r.PollNack(kT0).empty());
  EXPECT_FALSE(r.NextNackDeadline());
  EXPECT_EQ(r.nack_list_size(), 0u);
  // Other SSRCs are not ours.
  RtpPacket foreign = Media(21);
  foreign.ssrc = Ssrc(99);
  EXPECT_FALSE(r.OnPacket(foreign, kT0));
  EXPECT_EQ(r.counters().packets_received, 5u);
}

TEST(RtpReceiveStream, DuplicatesAcrossTheWrap) {
  RtpReceiveStream r(ReceiveConfig(false));
  for (uint16_t q : {65534, 65535, 0, 1}) EXPECT_TRUE(r.OnPacket(Media(q), kT0));
  EXPECT_FALSE(r.OnPacket(Media(65535), kT0));
  EXPECT_FALSE(r.OnPacket(Media(0), kT0));
  auto rb = r.MakeReportBlock(kT0);
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->extended_highest_sequence, 65536u + 1);
  EXPECT_EQ(rb->cumulative_lost, 0);
}

TEST(RtpReceiveStream, RtxRestoresOriginal) {
  RtpReceiveStream r(ReceiveConfig());
  RtpPacket original = Media(101, {9, 8, 7, 6});
  original.marker = true;
  ASSERT_TRUE(original.SetExtension(3, AsBytes("v0")).ok());
  r.OnPacket(Media(100), kT0);
  r.OnPacket(Media(102), kT0);
  auto p = r.OnPacket(Rtx(7, original), kT0 + milliseconds(30));
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, original);  // seq, PT, SSRC, payload, marker, timestamp, extensions
  EXPECT_EQ(r.counters().retransmitted_packets_received, 1u);
  EXPECT_EQ(r.counters().packets_received, 3u);
  EXPECT_EQ(r.counters().bytes_received, 3u + 3u + 4u);
  EXPECT_EQ(r.counters().packets_lost, 0);
  EXPECT_EQ(r.nack_list_size(), 0u);  // the gap is filled
  // The same RTX again, or the original afterwards: duplicates.
  EXPECT_FALSE(r.OnPacket(Rtx(8, original), kT0));
  EXPECT_FALSE(r.OnPacket(original, kT0));
  EXPECT_EQ(r.counters().packets_duplicated, 2u);
}

TEST(RtpReceiveStream, MalformedAndPaddingRtxDropped) {
  RtpReceiveStream r(ReceiveConfig());
  r.OnPacket(Media(100), kT0);
  RtpPacket one_byte = Rtx(1, Media(101));
  one_byte.payload = {0x00};  // cannot hold the 2-byte OSN
  EXPECT_FALSE(r.OnPacket(one_byte, kT0));
  RtpPacket padding = Rtx(2, Media(101));
  padding.payload.clear();
  padding.padding_size = 200;  // RTX padding-only probe
  EXPECT_FALSE(r.OnPacket(padding, kT0));
  RtpPacket wrong_pt = Rtx(3, Media(101));
  wrong_pt.payload_type = PayloadType(98);
  EXPECT_FALSE(r.OnPacket(wrong_pt, kT0));
  EXPECT_EQ(r.counters().packets_received, 1u);
  EXPECT_EQ(r.counters().packets_duplicated, 0u);
  EXPECT_EQ(r.counters().retransmitted_packets_received, 0u);
  // Without RTX configured the RTX SSRC is just foreign.
  ReceiveStreamConfig c = ReceiveConfig();
  c.rtx_ssrc.reset();
  RtpReceiveStream no_rtx(c);
  EXPECT_FALSE(no_rtx.OnPacket(Rtx(1, Media(5)), kT0));
  EXPECT_FALSE(no_rtx.MakeReportBlock(kT0));
}

TEST(RtpReceiveStream, NackRetryTimingAndGiveUp) {
  RtpReceiveStream r(ReceiveConfig());
  r.OnPacket(Media(10), kT0);
  r.OnPacket(Media(11), kT0);
  EXPECT_FALSE(r.NextNackDeadline());
  r.OnPacket(Media(14), kT0);  // 12, 13 missing
  EXPECT_EQ(r.nack_list_size(), 2u);
  EXPECT_EQ(r.NextNackDeadline(), kT0);
  EXPECT_EQ(Values(r.PollNack(kT0)), (std::vector<uint16_t>{12, 13}));
  EXPECT_EQ(r.counters().nack_count, 1u);
  EXPECT_TRUE(r.PollNack(kT0).empty());
  EXPECT_EQ(r.NextNackDeadline(), kT0 + milliseconds(100));  // default RTT
  EXPECT_TRUE(r.PollNack(kT0 + milliseconds(99)).empty());
  int sends = 1;
  Instant t = kT0;
  for (int i = 0; i < 20; ++i) {
    t += milliseconds(100);
    auto due = r.PollNack(t);
    if (due.empty()) break;
    EXPECT_EQ(Values(due), (std::vector<uint16_t>{12, 13}));
    ++sends;
  }
  EXPECT_EQ(sends, RtpReceiveStream::kMaxNackRetries);  // 10 tries, then given up
  EXPECT_EQ(r.counters().nack_count, 10u);
  EXPECT_FALSE(r.NextNackDeadline());
  EXPECT_EQ(r.nack_list_size(), 0u);
}

TEST(RtpReceiveStream, NackRetriesFollowRtt) {
  RtpReceiveStream r(ReceiveConfig());
  r.SetRtt(0.040);
  r.SetRtt(-1);  // ignored
  EXPECT_EQ(r.nack_retry_interval(), milliseconds(40));
  r.OnPacket(Media(1), kT0);
  r.OnPacket(Media(3), kT0);
  EXPECT_EQ(Values(r.PollNack(kT0)), (std::vector<uint16_t>{2}));
  EXPECT_TRUE(r.PollNack(kT0 + milliseconds(39)).empty());
  EXPECT_EQ(Values(r.PollNack(kT0 + milliseconds(40))), (std::vector<uint16_t>{2}));
}

TEST(RtpReceiveStream, NackExpiresAfterOneSecond) {
  RtpReceiveStream r(ReceiveConfig());
  r.SetRtt(0.6);
  r.OnPacket(Media(1), kT0);
  r.OnPacket(Media(3), kT0);
  EXPECT_EQ(r.PollNack(kT0).size(), 1u);
  EXPECT_EQ(r.PollNack(kT0 + milliseconds(600)).size(), 1u);
  // The next retry (1.2 s) would be past the 1 s age limit: no deadline, and it is dropped.
  EXPECT_FALSE(r.NextNackDeadline());
  EXPECT_TRUE(r.PollNack(kT0 + milliseconds(1200)).empty());
  EXPECT_EQ(r.nack_list_size(), 0u);
}

TEST(RtpReceiveStream, FilledGapCancelsNack) {
  RtpReceiveStream r(ReceiveConfig());
  r.OnPacket(Media(10), kT0);
  r.OnPacket(Media(14), kT0);  // 11, 12, 13 missing
  // 11 arrives reordered before any NACK: not a retransmission.
  ASSERT_TRUE(r.OnPacket(Media(11), kT0 + milliseconds(1)));
  EXPECT_EQ(Values(r.PollNack(kT0 + milliseconds(2))), (std::vector<uint16_t>{12, 13}));
  // 12 arrives (plain retransmission answering our NACK).
  ASSERT_TRUE(r.OnPacket(Media(12), kT0 + milliseconds(50)));
  EXPECT_EQ(r.counters().retransmitted_packets_received, 1u);
  EXPECT_EQ(Values(r.PollNack(kT0 + milliseconds(102))), (std::vector<uint16_t>{13}));
  // 13 via RTX.
  ASSERT_TRUE(r.OnPacket(Rtx(1, Media(13)), kT0 + milliseconds(150)));
  EXPECT_EQ(r.counters().retransmitted_packets_received, 2u);
  EXPECT_EQ(r.nack_list_size(), 0u);
  EXPECT_FALSE(r.NextNackDeadline());
  EXPECT_TRUE(r.PollNack(kT0 + milliseconds(500)).empty());
  EXPECT_EQ(r.counters().packets_lost, 0);
}

TEST(RtpReceiveStream, NackAcrossSequenceWrap) {
  RtpReceiveStream r(ReceiveConfig());
  r.OnPacket(Media(65534), kT0);
  r.OnPacket(Media(1), kT0);
  auto nack = r.PollNack(kT0);
  EXPECT_EQ(Values(nack), (std::vector<uint16_t>{65535, 0}));
  // The FCI builder packs them in one FCI (PID 65535, BLP bit 0).
  auto fcis = BuildNackFcis(nack);
  ASSERT_EQ(fcis.size(), 1u);
  EXPECT_EQ(fcis[0].first, 65535);
  EXPECT_EQ(fcis[0].second, 1);
}

TEST(RtpReceiveStream, BigJumpBoundsNackList) {
  RtpReceiveStream r(ReceiveConfig());
  r.OnPacket(Media(0), kT0);
  ASSERT_TRUE(r.OnPacket(Media(5000), kT0));  // 4999 missing: only the last 1000 are wanted
  EXPECT_EQ(r.nack_list_size(), 1000u);
  auto nack = r.PollNack(kT0);
  ASSERT_EQ(nack.size(), 1000u);
  EXPECT_EQ(nack.front().value(), 4000);
  EXPECT_EQ(nack.back().value(), 4999);
  // Moving on drops the ones now more than 1000 behind.
  r.OnPacket(Media(5500), kT0 + milliseconds(10));
  EXPECT_EQ(r.nack_list_size(), 1000u - 500u + 499u);
  nack = r.PollNack(kT0 + milliseconds(10));  // the new ones only (old ones wait an RTT)
  ASSERT_EQ(nack.size(), 499u);
  EXPECT_EQ(nack.front().value(), 5001);
  // A packet more than 1000 behind that is still in the duplicate window is delivered, not NACKed.
  EXPECT_TRUE(r.OnPacket(Media(4200), kT0 + milliseconds(20)));
}

TEST(RtpReceiveStream, StaleAndRestartedNumbering) {
  RtpReceiveStream r(ReceiveConfig(false));
  for (uint16_t q = 30000; q < 30010; ++q) r.OnPacket(Media(q), kT0);
  // One packet far behind the window: stale, dropped.
  EXPECT_FALSE(r.OnPacket(Media(20000), kT0));
  EXPECT_EQ(r.counters().packets_received, 10u);
  EXPECT_EQ(r.counters().packets_duplicated, 0u);
  // The sender restarted at 100: the first is dropped, the second confirms (cf. RFC 3550 A.1).
  EXPECT_FALSE(r.OnPacket(Media(100), kT0));
  EXPECT_TRUE(r.OnPacket(Media(101), kT0));
  EXPECT_TRUE(r.OnPacket(Media(102), kT0));
  EXPECT_FALSE(r.OnPacket(Media(102), kT0));
  EXPECT_EQ(r.counters().packets_received, 12u);
}

TEST(RtpReceiveStream, LossCountsInReportBlocks) {
  RtpReceiveStream r(ReceiveConfig());
  for (uint16_t q = 0; q < 10; ++q)
    if (q != 3 && q != 7) r.OnPacket(Media(q), kT0 + milliseconds(10 * q));
  auto rb = r.MakeReportBlock(kT0 + milliseconds(100));
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->source_ssrc, Ssrc(0x11223344));
  EXPECT_EQ(rb->cumulative_lost, 2);
  EXPECT_EQ(rb->fraction_lost, (2 << 8) / 10);
  EXPECT_EQ(rb->extended_highest_sequence, 9u);
  EXPECT_EQ(rb->last_sr, 0u);
  EXPECT_EQ(rb->delay_since_last_sr, 0u);
  EXPECT_EQ(r.counters().packets_lost, 2);
  // Recovering 3 via RTX reduces the cumulative loss (A.3 counts it as received).
  r.OnPacket(Rtx(1, Media(3)), kT0 + milliseconds(200));
  rb = r.MakeReportBlock(kT0 + milliseconds(200));
  EXPECT_EQ(rb->cumulative_lost, 1);
  EXPECT_EQ(r.counters().packets_lost, 1);
}

TEST(RtpReceiveStream, JitterIgnoresRetransmissionDelay) {
  RtpReceiveStream r(ReceiveConfig());
  // Perfectly paced: timestamp q*900, arrival q*10 ms -> jitter 0.
  for (uint16_t q = 0; q < 10; ++q)
    if (q != 5) r.OnPacket(Media(q), kT0 + milliseconds(10 * q));
  EXPECT_EQ(r.statistics().jitter(), 0u);
  // 5 recovered 150 ms late via RTX: recovery delay, not jitter.
  ASSERT_TRUE(r.OnPacket(Rtx(1, Media(5)), kT0 + milliseconds(240)));
  EXPECT_EQ(r.statistics().jitter(), 0u);
  EXPECT_EQ(r.counters().jitter_s, 0.0);
  // A genuinely late new packet (10 ms = 900 ticks): A.8 J = 900/16 = 56 ticks.
  r.OnPacket(Media(10), kT0 + milliseconds(110));
  EXPECT_EQ(r.statistics().jitter(), 56u);
  EXPECT_DOUBLE_EQ(r.counters().jitter_s, 56.0 / 90000);
}

// ---------------------------------------------------------------------------------------------
// SR -> report block -> RTT loop (RFC 3550 §6.4.1)
// ---------------------------------------------------------------------------------------------

TEST(RtpStreams, SenderReportRoundTripGivesRtt) {
  RtpSendStream tx(VideoSendConfig());
  RtpReceiveStream rx(ReceiveConfig());
  const Duration forward = milliseconds(20), backward = milliseconds(15), hold = milliseconds(37);
  Instant t = kT0;
  for (int i = 0; i < 5; ++i) {
    Bytes wire = tx.Packetize(Payload({uint8_t(i)}), i * 3000, false, t);
    if (i == 2) continue;  // lost on the way
    auto p = rx.OnPacket(Parse(wire), t + forward);
    ASSERT_TRUE(p);
    t += milliseconds(33);
  }
  // The SR goes through the wire format.
  const NtpTime wallclock(3900000123u, 0x12345678u);
  SenderReport sr = tx.MakeSenderReport(t, wallclock);
  auto compound = SerializeRtcpCompound({sr});
  ASSERT_TRUE(compound.ok());
  auto parsed = ParseRtcpCompound(*compound);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 1u);
  rx.OnSenderReport(std::get<SenderReport>((*parsed)[0]), t + forward);
  EXPECT_EQ(rx.counters().sender_reports_received, 1u);
  ASSERT_TRUE(rx.counters().last_sender_report);
  EXPECT_EQ(rx.counters().last_sender_report->packet_count, 5u);
  EXPECT_EQ(rx.counters().last_sender_report_arrival, t + forward);
  // An SR from someone else is ignored.
  SenderReport other = sr;
  other.sender_ssrc = Ssrc(5);
  rx.OnSenderReport(other, t + forward);
  EXPECT_EQ(rx.counters().sender_reports_received, 1u);

  auto rb = rx.MakeReportBlock(t + forward + hold);
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->last_sr, wallclock.Compact());
  EXPECT_EQ(rb->cumulative_lost, 1);
  EXPECT_EQ(rb->fraction_lost, 256 / 5);
  // Through the wire inside an RR.
  ReceiverReport rr;
  rr.sender_ssrc = Ssrc(0xABCD);
  rr.report_blocks.push_back(*rb);
  auto rr_wire = SerializeRtcpCompound({rr});
  ASSERT_TRUE(rr_wire.ok());
  auto rr_parsed = ParseRtcpCompound(*rr_wire);
  ASSERT_TRUE(rr_parsed.ok());
  const ReportBlock& got = std::get<ReceiverReport>((*rr_parsed)[0]).report_blocks.at(0);

  const Instant arrival = t + forward + hold + backward;
  tx.OnReportBlock(got, arrival);
  ASSERT_TRUE(tx.counters().round_trip_time_s);
  EXPECT_NEAR(*tx.counters().round_trip_time_s, 0.035, 0.001);
  EXPECT_EQ(tx.counters().round_trip_time_measurements, 1u);
  ASSERT_TRUE(tx.counters().last_report);
  EXPECT_EQ(tx.counters().last_report->cumulative_lost, 1);
  // The explicit-NTP overload agrees (A = wallclock + elapsed).
  tx.OnReportBlock(got, arrival, wallclock + (arrival - t));
  EXPECT_NEAR(*tx.counters().round_trip_time_s, 0.035, 0.001);
  EXPECT_EQ(tx.counters().round_trip_time_measurements, 2u);
  EXPECT_NEAR(tx.counters().total_round_trip_time_s, 0.070, 0.002);
}

}  // namespace
}  // namespace refrtc::rtp
