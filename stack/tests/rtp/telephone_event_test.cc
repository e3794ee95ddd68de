// RFC 4733 telephone-event payloads, the sender's packet schedule and the receive-side decoder.
#include "rtp/telephone_event.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "rtp_test_util.h"

namespace refrtc::rtp {
namespace {

using testing::FromHex;

Instant T0() { return Instant{} + std::chrono::hours(1); }
Bytes Ev(uint8_t event, bool end, uint16_t duration, uint8_t volume = 10) {
  return *SerializeTelephoneEvent(TelephoneEvent{event, end, false, volume, duration});
}

TEST(TelephoneEvent, ParseAndSerialize) {
  // Event 5, E=1, R=1, volume 10, duration 0x0320.
  auto e = ParseTelephoneEvent(FromHex("05 ca 03 20"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->event, 5);
  EXPECT_TRUE(e->end);
  EXPECT_TRUE(e->reserved);
  EXPECT_EQ(e->volume, 10);
  EXPECT_EQ(e->duration, 800);
  EXPECT_EQ(*SerializeTelephoneEvent(*e), FromHex("05 ca 03 20"));
  EXPECT_EQ(*SerializeTelephoneEvent(TelephoneEvent{11, false, false, 63, 0xFFFF}), FromHex("0b 3f ff ff"));
  EXPECT_FALSE(SerializeTelephoneEvent(TelephoneEvent{1, false, false, 64, 1}).ok());
  for (size_t n = 0; n < 4; ++n) EXPECT_FALSE(ParseTelephoneEvent(ByteView(FromHex("01 02 03 04").data(), n)).ok());
  auto many = ParseTelephoneEvents(FromHex("01 00 00 10 02 80 00 20"));
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 2u);
  EXPECT_EQ((*many)[1].event, 2);
  EXPECT_TRUE((*many)[1].end);
  EXPECT_FALSE(ParseTelephoneEvents(FromHex("01 00 00 10 02")).ok());
  EXPECT_FALSE(ParseTelephoneEvents({}).ok());
}

TEST(TelephoneEvent, DtmfCharacters) {
  const std::string all = "0123456789*#ABCD";
  for (uint8_t i = 0; i < 16; ++i) {
    EXPECT_EQ(DtmfEventToChar(i), all[i]);
    EXPECT_EQ(DtmfCharToEvent(all[i]), i);
  }
  EXPECT_EQ(DtmfCharToEvent('c'), 14);
  EXPECT_FALSE(DtmfEventToChar(16));
  EXPECT_FALSE(DtmfCharToEvent(','));
  EXPECT_FALSE(DtmfCharToEvent('E'));
}

// Runs a sender to completion, returning (time offset ms, packet).
std::vector<std::pair<int64_t, TelephoneEventSender::Out>> RunSender(TelephoneEventSender& s, Instant t0) {
  std::vector<std::pair<int64_t, TelephoneEventSender::Out>> out;
  while (auto d = s.NextDeadline()) {
    for (auto& o : s.Poll(*d)) out.emplace_back(ToMillis(*d - t0), std::move(o));
  }
  return out;
}

TEST(TelephoneEventSender, UpdatesEndPacketsAndTiming) {
  TelephoneEventSender s(48000);
  const Instant t0 = T0();
  s.Start(/*'5'*/ 5, 120, 1000, t0);
  EXPECT_TRUE(s.busy());
  auto pk = RunSender(s, t0);
  EXPECT_FALSE(s.busy());
  // 50 ms (M), 100 ms, 120 ms (E), 170 ms (E), 220 ms (E).
  ASSERT_EQ(pk.size(), 5u);
  const int64_t at[] = {50, 100, 120, 170, 220};
  const uint16_t dur[] = {2400, 4800, 5760, 5760, 5760};
  for (size_t i = 0; i < pk.size(); ++i) {
    auto e = ParseTelephoneEvent(pk[i].second.payload);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(pk[i].first, at[i]) << i;
    EXPECT_EQ(e->duration, dur[i]) << i;
    EXPECT_EQ(e->end, i >= 2) << i;
    EXPECT_EQ(e->volume, 10);
    EXPECT_EQ(e->event, 5);
    EXPECT_EQ(pk[i].second.marker, i == 0) << i;
    EXPECT_EQ(pk[i].second.timestamp, 1000u);
  }
}

TEST(TelephoneEventSender, ShortEventFirstPacketIsFinalWithMarker) {
  TelephoneEventSender s(8000);
  s.Start(1, 40, 7, T0());
  auto pk = RunSender(s, T0());
  ASSERT_EQ(pk.size(), 3u);
  EXPECT_EQ(pk[0].first, 40);
  EXPECT_TRUE(pk[0].second.marker);
  EXPECT_FALSE(pk[1].second.marker);
  for (auto& p : pk) EXPECT_EQ(ParseTelephoneEvent(p.second.payload)->duration, 320);
}

TEST(TelephoneEventSender, LongEventIsSegmented) {
  // 6000 ms at 48 kHz = 288000 units: four full 0xFFFF segments + 25860... (RFC 4733 §2.5.1.3).
  TelephoneEventSender s(48000);
  const uint32_t ts0 = 0xFFFFFF00u;  // wraps during the event
  s.Start(11, 6000, ts0, T0());
  auto pk = RunSender(s, T0());
  std::vector<uint32_t> segment_ts;
  int marker = 0, ends = 0;
  uint64_t total = 0;
  for (auto& [at, o] : pk) {
    auto e = ParseTelephoneEvent(o.payload);
    ASSERT_TRUE(e.ok());
    marker += o.marker;
    // Segment-final repeats interleave with the next segment's updates: collect distinct timestamps.
    if (std::find(segment_ts.begin(), segment_ts.end(), o.timestamp) == segment_ts.end()) segment_ts.push_back(o.timestamp);
    if (!e->end && o.timestamp != segment_ts.back()) EXPECT_EQ(e->duration, 0xFFFF);  // an old segment's final
    if (e->end) {
      ++ends;
      total = uint64_t(segment_ts.size() - 1) * 0xFFFF + e->duration;
    }
  }
  EXPECT_EQ(marker, 1);
  EXPECT_EQ(ends, 3);
  EXPECT_EQ(total, 288000u);
  ASSERT_EQ(segment_ts.size(), 5u);
  for (size_t i = 1; i < segment_ts.size(); ++i) EXPECT_EQ(segment_ts[i] - segment_ts[i - 1], 0xFFFFu);
  // And the decoder puts it back together as one 6000 ms digit.
  TelephoneEventDecoder d(48000);
  for (auto& [at, o] : pk) d.OnPacket(o.timestamp, o.payload, T0() + std::chrono::milliseconds(at));
  auto digit = d.PollDigit();
  ASSERT_TRUE(digit);
  EXPECT_EQ(digit->tone, '#');
  EXPECT_EQ(digit->duration_ms, 6000u);
  EXPECT_EQ(digit->rtp_timestamp, ts0);
  EXPECT_FALSE(d.PollDigit());
}

TEST(TelephoneEventSender, StartFlushesPendingRepeats) {
  TelephoneEventSender s(8000);
  s.Start(1, 40, 100, T0());
  auto first = s.Poll(T0() + std::chrono::milliseconds(40));
  ASSERT_EQ(first.size(), 1u);
  s.Start(2, 40, 900, T0() + std::chrono::milliseconds(70));
  auto out = s.Poll(T0() + std::chrono::milliseconds(70));
  ASSERT_EQ(out.size(), 2u);  // the two repeats of event 1, at once
  for (auto& o : out) EXPECT_EQ(o.timestamp, 100u);
  auto rest = RunSender(s, T0());
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].second.timestamp, 900u);
  EXPECT_TRUE(rest[0].second.marker);
}

TEST(TelephoneEventDecoder, OneDigitPerEventDespiteRepeatsAndUpdates) {
  TelephoneEventDecoder d(8000);
  Instant t = T0();
  d.OnPacket(100, Ev(3, false, 400), t);
  d.OnPacket(100, Ev(3, false, 800), t);
  d.OnPacket(100, Ev(3, false, 400), t);  // reordered update
  EXPECT_FALSE(d.PollDigit());
  d.OnPacket(100, Ev(3, true, 960), t);
  d.OnPacket(100, Ev(3, true, 960), t);
  d.OnPacket(100, Ev(3, true, 960), t);
  d.OnPacket(100, Ev(3, false, 800), t);  // late update of a finished event
  auto digit = d.PollDigit();
  ASSERT_TRUE(digit);
  EXPECT_EQ(digit->tone, '3');
  EXPECT_EQ(digit->duration_ms, 120u);
  EXPECT_EQ(digit->rtp_timestamp, 100u);
  EXPECT_FALSE(d.PollDigit());
  EXPECT_FALSE(d.NextDeadline());
}

TEST(TelephoneEventDecoder, LostEndPacketsReportedOnNextEventOrTimeout) {
  TelephoneEventDecoder d(8000);
  Instant t = T0();
  d.OnPacket(100, Ev(1, false, 400), t);
  d.OnPacket(100, Ev(1, false, 800), t);
  // The next event begins: '1' is reported with its last duration (100 ms).
  d.OnPacket(2000, Ev(14, false, 400), t);
  auto digit = d.PollDigit();
  ASSERT_TRUE(digit);
  EXPECT_EQ(digit->tone, '1');
  EXPECT_EQ(digit->duration_ms, 100u);
  EXPECT_FALSE(d.PollDigit());
  // Packets of the old event now are ignored.
  d.OnPacket(100, Ev(1, true, 960), t);
  EXPECT_FALSE(d.PollDigit());
  // 'C' never ends: reported kEventTimeout after its last packet.
  ASSERT_TRUE(d.NextDeadline());
  EXPECT_EQ(*d.NextDeadline(), t + TelephoneEventDecoder::kEventTimeout);
  d.HandleTimeout(t + std::chrono::milliseconds(499));
  EXPECT_FALSE(d.PollDigit());
  d.HandleTimeout(t + TelephoneEventDecoder::kEventTimeout);
  digit = d.PollDigit();
  ASSERT_TRUE(digit);
  EXPECT_EQ(digit->tone, 'C');
  EXPECT_EQ(digit->duration_ms, 50u);
  // Non-DTMF events and malformed payloads report nothing.
  d.OnPacket(5000, Ev(40, true, 800), t);
  d.OnPacket(6000, FromHex("01 80"), t);
  EXPECT_FALSE(d.PollDigit());
  EXPECT_EQ(d.malformed_packets(), 1u);
  // Older timestamps than the newest event are dropped.
  d.OnPacket(4000, Ev(2, true, 800), t);
  EXPECT_FALSE(d.PollDigit());
}

TEST(TelephoneEventDecoder, OnlyEndPacketsStillGiveTheDigit) {
  TelephoneEventDecoder d(48000);
  d.OnPacket(7, Ev(0, true, 4800), T0());
  auto digit = d.PollDigit();
  ASSERT_TRUE(digit);
  EXPECT_EQ(digit->tone, '0');
  EXPECT_EQ(digit->duration_ms, 100u);
}

}  // namespace
}  // namespace refrtc::rtp
