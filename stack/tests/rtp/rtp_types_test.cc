// Sequence-number arithmetic (RFC 1982 style) and NTP helpers (RFC 3550 §4, §6.4.1).
#include "rtp/rtp_types.h"

#include <gtest/gtest.h>

namespace refrtc::rtp {
namespace {

TEST(RtpTypes, SerialComparison) {
  EXPECT_TRUE(IsNewerSequenceNumber(uint16_t{1}, uint16_t{0}));
  EXPECT_FALSE(IsNewerSequenceNumber(uint16_t{0}, uint16_t{1}));
  EXPECT_FALSE(IsNewerSequenceNumber(uint16_t{5}, uint16_t{5}));
  EXPECT_TRUE(IsNewerSequenceNumber(uint16_t{0}, uint16_t{65535}));
  EXPECT_TRUE(IsNewerSequenceNumber(uint16_t{100}, uint16_t{65000}));
  EXPECT_FALSE(IsNewerSequenceNumber(uint16_t{65000}, uint16_t{100}));
  // Exactly half the space apart: resolved one way only.
  EXPECT_TRUE(IsNewerSequenceNumber(uint16_t{0x8000}, uint16_t{0}));
  EXPECT_FALSE(IsNewerSequenceNumber(uint16_t{0}, uint16_t{0x8000}));
  EXPECT_TRUE(IsNewerSequenceNumber(SequenceNumber(2), SequenceNumber(65534)));
  EXPECT_TRUE(IsNewerTimestamp(10u, 0xFFFFFFF0u));
  EXPECT_FALSE(IsNewerTimestamp(0xFFFFFFF0u, 10u));
  EXPECT_EQ(SequenceNumberDiff(2, 65534), 4);
  EXPECT_EQ(SequenceNumberDiff(65534, 2), -4);
}

TEST(RtpTypes, Unwrapper) {
  SequenceNumberUnwrapper u;
  EXPECT_FALSE(u.last().has_value());
  EXPECT_EQ(u.Unwrap(65534), 65534);
  EXPECT_EQ(u.Unwrap(65535), 65535);
  EXPECT_EQ(u.Unwrap(1), 65537);
  EXPECT_EQ(u.Unwrap(0), 65536);  // reordered across the wrap
  EXPECT_EQ(u.Unwrap(2), 65538);
  EXPECT_EQ(u.PeekUnwrap(65535), 65535);
  EXPECT_EQ(*u.last(), 65538);
  // Many cycles forward.
  for (int i = 0; i < 10; ++i) {
    u.Unwrap(static_cast<uint16_t>(2 + 30000 * (i + 1)));
  }
  EXPECT_EQ(*u.last(), 65538 + 300000);
  SequenceNumberUnwrapper back;
  EXPECT_EQ(back.Unwrap(SequenceNumber(0)), 0);
  EXPECT_EQ(back.Unwrap(SequenceNumber(65535)), -1);
}

TEST(RtpTypes, NtpTime) {
  NtpTime t(0x12345678, 0x80000000);
  EXPECT_EQ(t.seconds(), 0x12345678u);
  EXPECT_EQ(t.fraction(), 0x80000000u);
  EXPECT_EQ(t.Compact(), 0x56788000u);
  EXPECT_EQ(t.ToMicros(), 0x12345678ull * 1000000 + 500000);
  EXPECT_EQ(NtpTime::FromMicros(0x12345678ull * 1000000 + 500000), t);
  EXPECT_EQ(NtpTime::FromMicros(1).fraction(), 4295u);  // 2^32 / 1e6 = 4294.97
  for (uint64_t us : {0ull, 1ull, 999999ull, 3913056000000001ull}) EXPECT_EQ(NtpTime::FromMicros(us).ToMicros(), us);
  EXPECT_EQ(t + milliseconds(500), NtpTime(0x12345679, 0));
  EXPECT_EQ(t + milliseconds(-500), NtpTime(0x12345678, 0));
  EXPECT_EQ(t + seconds(-1), NtpTime(0x12345677, 0x80000000));
}

TEST(RtpTypes, CompactNtpDurations) {
  EXPECT_EQ(DurationToCompactNtp(milliseconds(1500)), 98304u);
  EXPECT_EQ(DurationToCompactNtp(seconds(-3)), 0u);
  EXPECT_EQ(DurationToCompactNtp(seconds(70000)), 0xFFFFFFFFu);
  EXPECT_EQ(CompactNtpToDuration(0x00054000), milliseconds(5250));
  EXPECT_EQ(CompactNtpToDuration(1), microseconds(15));  // 15.26 us rounds to 15
}

TEST(RtpTypes, NtpClock) {
  const Instant anchor = Instant{} + seconds(42);
  NtpClock clock(anchor, NtpTime(1000, 0));
  EXPECT_EQ(clock.At(anchor), NtpTime(1000, 0));
  EXPECT_EQ(clock.At(anchor + milliseconds(250)), NtpTime(1000, 0x40000000));
  EXPECT_EQ(clock.At(anchor - seconds(1)), NtpTime(999, 0));
}

TEST(RtpTypes, RoundTripTimeRfc3550Example) {
  // RFC 3550 §6.4.1 example: A = 0xb710:8000, LSR = 0xb705:2000, DLSR = 0x0005:4000 -> 6.125 s.
  auto rtt = RoundTripTime(0xb7108000, 0xb7052000, 0x00054000);
  ASSERT_TRUE(rtt.has_value());
  EXPECT_EQ(*rtt, milliseconds(6125));
  EXPECT_FALSE(RoundTripTime(0xb7108000, 0, 0x00054000).has_value());
  EXPECT_EQ(*RoundTripTime(0x00010000, 0x00010000, 0x00000100), Duration::zero());  // negative -> 0
  // Across the 32-bit wrap of the compact clock.
  EXPECT_EQ(*RoundTripTime(0x00008000, 0xFFFF8000, 0x00008000), milliseconds(500));
}

}  // namespace
}  // namespace refrtc::rtp
