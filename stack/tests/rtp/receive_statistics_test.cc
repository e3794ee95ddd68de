// RFC 3550 A.1 / A.3 / A.8 receiver statistics against values computed by hand.
#include "rtp/receive_statistics.h"

#include <gtest/gtest.h>

namespace refrtc::rtp {
namespace {

constexpr ReceiveStatisticsConfig kNoProbation{3000, 100, 1};

// Feeds sequence numbers with in-sync timestamps (no jitter).
void Feed(StreamReceiveStatistics& s, std::initializer_list<uint16_t> seqs) {
  for (uint16_t q : seqs) s.OnPacketRtpArrival(SequenceNumber(q), 0, 0);
}

TEST(ReceiveStatistics, LossAndFractionPerInterval) {
  StreamReceiveStatistics s(Ssrc(7), 90000, kNoProbation);
  Feed(s, {0, 1, 2, 4, 5, 6, 8, 9});  // 3 and 7 lost
  EXPECT_EQ(s.extended_highest_sequence(), 9u);
  EXPECT_EQ(s.expected(), 10);
  EXPECT_EQ(s.received(), 8);
  ReportBlock rb = s.MakeReportBlock(0, 0);
  EXPECT_EQ(rb.source_ssrc, Ssrc(7));
  EXPECT_EQ(rb.cumulative_lost, 2);
  EXPECT_EQ(rb.fraction_lost, (2 << 8) / 10);  // 51
  EXPECT_EQ(rb.extended_highest_sequence, 9u);
  // Next interval: 10..19 all received -> fraction 0, cumulative unchanged.
  Feed(s, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19});
  rb = s.MakeReportBlock(0, 0);
  EXPECT_EQ(rb.fraction_lost, 0);
  EXPECT_EQ(rb.cumulative_lost, 2);
  // Next: 20..23 expected, only 23 arrives -> 3 of 4 lost: (3 << 8) / 4 = 192.
  Feed(s, {23});
  rb = s.MakeReportBlock(0, 0);
  EXPECT_EQ(rb.fraction_lost, 192);
  EXPECT_EQ(rb.cumulative_lost, 5);
  // An interval with nothing new reports 0.
  EXPECT_EQ(s.MakeReportBlock(0, 0).fraction_lost, 0);
}

TEST(ReceiveStatistics, WrapAt65535) {
  StreamReceiveStatistics s(Ssrc(1), 8000, kNoProbation);
  Feed(s, {65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2});
  EXPECT_EQ(s.extended_highest_sequence(), 65536u + 2);
  EXPECT_EQ(s.expected(), 9);
  EXPECT_EQ(s.cumulative_lost(), 0);
}

TEST(ReceiveStatistics, ReorderingAcrossTheWrap) {
  StreamReceiveStatistics s(Ssrc(1), 8000, kNoProbation);
  Feed(s, {65534, 65535, 1, 0, 2});
  // 1 wraps (cycles += 65536); 0 arrives late: udelta = 65535 > 65536 - MAX_MISORDER -> reordered.
  EXPECT_EQ(s.extended_highest_sequence(), 65536u + 2);
  EXPECT_EQ(s.expected(), 5);
  EXPECT_EQ(s.received(), 5);
  EXPECT_EQ(s.cumulative_lost(), 0);
  // Late packets do not move the highest sequence backwards.
  Feed(s, {65535});
  EXPECT_EQ(s.extended_highest_sequence(), 65536u + 2);
}

TEST(ReceiveStatistics, DuplicatesMakeLossNegative) {
  StreamReceiveStatistics s(Ssrc(1), 8000, kNoProbation);
  Feed(s, {0, 1, 2, 2, 3});
  EXPECT_EQ(s.expected(), 4);
  EXPECT_EQ(s.received(), 5);
  ReportBlock rb = s.MakeReportBlock(0, 0);
  EXPECT_EQ(rb.cumulative_lost, -1);
  EXPECT_EQ(rb.fraction_lost, 0);  // A.3: lost_interval <= 0 -> 0
}

TEST(ReceiveStatistics, ProbationPerA1) {
  StreamReceiveStatistics s(Ssrc(1), 8000);  // MIN_SEQUENTIAL = 2
  EXPECT_FALSE(s.OnPacketRtpArrival(SequenceNumber(10), 0, 0));
  EXPECT_TRUE(s.on_probation());
  EXPECT_TRUE(s.OnPacketRtpArrival(SequenceNumber(11), 0, 0));
  EXPECT_FALSE(s.on_probation());
  // init_seq(11): the first packet is not counted at all.
  EXPECT_EQ(s.expected(), 1);
  EXPECT_EQ(s.received(), 1);
  Feed(s, {12, 13});
  EXPECT_EQ(s.expected(), 3);
  EXPECT_EQ(s.cumulative_lost(), 0);
  // A non-sequential packet during probation restarts it.
  StreamReceiveStatistics t(Ssrc(2), 8000);
  EXPECT_FALSE(t.OnPacketRtpArrival(SequenceNumber(10), 0, 0));
  EXPECT_FALSE(t.OnPacketRtpArrival(SequenceNumber(20), 0, 0));
  EXPECT_TRUE(t.on_probation());
  EXPECT_TRUE(t.OnPacketRtpArrival(SequenceNumber(21), 0, 0));
  EXPECT_EQ(t.expected(), 1);
}

TEST(ReceiveStatistics, LargeJumpResyncsAfterTwoSequential) {
  StreamReceiveStatistics s(Ssrc(1), 8000, kNoProbation);
  Feed(s, {0, 1, 2});
  EXPECT_FALSE(s.OnPacketRtpArrival(SequenceNumber(10000), 0, 0));  // bad_seq = 10001
  EXPECT_EQ(s.extended_highest_sequence(), 2u);
  EXPECT_EQ(s.received(), 3);
  EXPECT_TRUE(s.OnPacketRtpArrival(SequenceNumber(10001), 0, 0));  // init_seq(10001)
  EXPECT_EQ(s.extended_highest_sequence(), 10001u);
  EXPECT_EQ(s.expected(), 1);
  EXPECT_EQ(s.received(), 1);
  // A lone jump followed by a non-sequential packet never resyncs.
  EXPECT_FALSE(s.OnPacketRtpArrival(SequenceNumber(40000), 0, 0));
  EXPECT_TRUE(s.OnPacketRtpArrival(SequenceNumber(10002), 0, 0));
  EXPECT_EQ(s.extended_highest_sequence(), 10002u);
}

TEST(ReceiveStatistics, CumulativeLostClampsTo24Bits) {
  StreamReceiveStatistics s(Ssrc(1), 8000, kNoProbation);
  uint16_t seq = 0;
  for (int i = 0; i < 3000; ++i) {
    s.OnPacketRtpArrival(SequenceNumber(seq), 0, 0);
    seq = static_cast<uint16_t>(seq + 2999);  // largest gap A.1 accepts as in order
  }
  // expected = 2999 * 2999 + 1 = 8994002, received 3000 -> 8991002 lost, clamped to 0x7fffff.
  EXPECT_EQ(s.expected(), 2999 * 2999 + 1);
  EXPECT_EQ(s.cumulative_lost(), 0x7fffff);
  ReportBlock rb = s.MakeReportBlock(0, 0);
  EXPECT_EQ(rb.cumulative_lost, 0x7fffff);
  EXPECT_EQ(rb.fraction_lost, 255);  // (8991002 << 8) / 8994002 = 255
}

TEST(ReceiveStatistics, JitterA8ByHand) {
  StreamReceiveStatistics s(Ssrc(1), 8000, kNoProbation);
  // 20 ms packets at 8 kHz (160 ticks); the third arrives 10 ticks late.
  const uint32_t arrivals[] = {1000, 1160, 1330, 1480, 1640};
  for (uint32_t i = 0; i < 5; ++i) s.OnPacketRtpArrival(SequenceNumber(i), 160 * i, arrivals[i]);
  // J16: 0 -> 0 (d 0) -> 10 (d 10) -> 10 + 10 - 1 = 19 (d 10) -> 19 + 0 - 1 = 18 (d 0); J = 18 >> 4.
  EXPECT_EQ(s.jitter(), 1u);
  // A steady +-80 tick alternation converges to 80 (the integer form settles within 1).
  StreamReceiveStatistics t(Ssrc(2), 8000, kNoProbation);
  for (uint32_t i = 0; i < 400; ++i) t.OnPacketRtpArrival(SequenceNumber(i), 160 * i, 160 * i + (i % 2 ? 80 : 0));
  EXPECT_NEAR(static_cast<double>(t.jitter()), 80.0, 1.0);
  // First three steps by hand: J16 = 80, 80 + 80 - 5 = 155, 155 + 80 - 10 = 225 -> 14.
  StreamReceiveStatistics u(Ssrc(3), 8000, kNoProbation);
  for (uint32_t i = 0; i < 4; ++i) u.OnPacketRtpArrival(SequenceNumber(i), 160 * i, 160 * i + (i % 2 ? 80 : 0));
  EXPECT_EQ(u.jitter(), 225u >> 4);
  EXPECT_EQ(u.MakeReportBlock(0, 0).jitter, 14u);
}

TEST(ReceiveStatistics, JitterFromInstants) {
  StreamReceiveStatistics s(Ssrc(1), 90000, kNoProbation);
  const Instant t0{};
  // 20 ms apart with timestamps 1800 apart: no jitter...
  for (int i = 0; i < 3; ++i) s.OnPacket(SequenceNumber(i), 1800u * i, t0 + milliseconds(20 * i));
  EXPECT_EQ(s.jitter(), 0u);
  // ...then one packet 10 ms (900 ticks) late: J16 = 900 -> 56.
  s.OnPacket(SequenceNumber(3), 1800u * 3, t0 + milliseconds(70));
  EXPECT_EQ(s.jitter(), 900u >> 4);
  // Timestamps wrapping past 2^32 do not disturb it.
  StreamReceiveStatistics w(Ssrc(2), 90000, kNoProbation);
  for (uint32_t i = 0; i < 5; ++i) w.OnPacket(SequenceNumber(i), 0xFFFFF000u + 1800u * i, t0 + milliseconds(20 * i));
  EXPECT_EQ(w.jitter(), 0u);
}

TEST(ReceiveStatistics, LsrDlsr) {
  StreamReceiveStatistics s(Ssrc(1), 8000, kNoProbation);
  Feed(s, {1, 2});
  const Instant t0 = Instant{} + seconds(100);
  ReportBlock none = s.MakeReportBlock(t0);
  EXPECT_EQ(none.last_sr, 0u);
  EXPECT_EQ(none.delay_since_last_sr, 0u);
  s.OnSenderReport(NtpTime(0x12345678, 0x9abc0000), t0);
  ReportBlock rb = s.MakeReportBlock(t0 + milliseconds(1500));
  EXPECT_EQ(rb.last_sr, 0x56789abcu);
  EXPECT_EQ(rb.delay_since_last_sr, 98304u);  // 1.5 * 65536
}

TEST(ReceiveStatistics, Container) {
  ReceiveStatistics stats(kNoProbation);
  const Instant now{};
  stats.Stream(Ssrc(5), 90000).OnPacketRtpArrival(SequenceNumber(1), 0, 0);
  stats.Stream(Ssrc(3), 48000).OnPacketRtpArrival(SequenceNumber(1), 0, 0);
  stats.Stream(Ssrc(9), 48000);  // nothing received yet: no report block
  EXPECT_EQ(stats.Stream(Ssrc(3), 1).clock_rate(), 48000u);
  ASSERT_NE(stats.Find(Ssrc(5)), nullptr);
  EXPECT_EQ(stats.Find(Ssrc(6)), nullptr);
  auto blocks = stats.MakeReportBlocks(now);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].source_ssrc, Ssrc(3));
  EXPECT_EQ(blocks[1].source_ssrc, Ssrc(5));
  EXPECT_EQ(stats.MakeReportBlocks(now, 1).size(), 1u);
  stats.Remove(Ssrc(3));
  EXPECT_EQ(stats.MakeReportBlocks(now).size(), 1u);
}

}  // namespace
}  // namespace refrtc::rtp
