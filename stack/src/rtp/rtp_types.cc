// NTP timestamp arithmetic (RFC 3550 §4, §6.4.1).
#include "rtp/rtp_types.h"

namespace refrtc::rtp {
namespace {

constexpr uint64_t kMicrosPerSecond = 1000000;

// A non-negative number of microseconds as a 32.32 fixed-point delta (rounded to nearest).
uint64_t MicrosToFixed(uint64_t us) {
  const uint64_t secs = us / kMicrosPerSecond;
  const uint64_t rem = us % kMicrosPerSecond;
  return (secs << 32) + (((rem << 32) + kMicrosPerSecond / 2) / kMicrosPerSecond);
}

}  // namespace

uint64_t NtpTime::ToMicros() const {
  const uint64_t frac_us = (static_cast<uint64_t>(fraction()) * kMicrosPerSecond + (uint64_t{1} << 31)) >> 32;
  return static_cast<uint64_t>(seconds()) * kMicrosPerSecond + frac_us;
}

NtpTime NtpTime::FromMicros(uint64_t micros_since_1900) { return NtpTime(MicrosToFixed(micros_since_1900)); }

NtpTime NtpTime::operator+(Duration d) const {
  const int64_t us = std::chrono::duration_cast<microseconds>(d).count();
  if (us >= 0) return NtpTime(value_ + MicrosToFixed(static_cast<uint64_t>(us)));
  // Magnitude of a negative int64 without overflow at INT64_MIN.
  const uint64_t mag = static_cast<uint64_t>(-(us + 1)) + 1;
  return NtpTime(value_ - MicrosToFixed(mag));
}

uint32_t DurationToCompactNtp(Duration d) {
  const int64_t us = std::chrono::duration_cast<microseconds>(d).count();
  if (us <= 0) return 0;
  // 65536 s is the first value that no longer fits the 16.16 format.
  if (static_cast<uint64_t>(us) >= 65536 * kMicrosPerSecond) return 0xFFFFFFFFu;
  const uint64_t v = ((static_cast<uint64_t>(us) << 16) + kMicrosPerSecond / 2) / kMicrosPerSecond;
  return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(v);
}

Duration CompactNtpToDuration(uint32_t compact) {
  const uint64_t us = (static_cast<uint64_t>(compact) * kMicrosPerSecond + 0x8000) >> 16;
  return std::chrono::duration_cast<Duration>(microseconds(static_cast<int64_t>(us)));
}

NtpTime NtpClock::At(Instant t) const { return ntp_at_anchor_ + (t - anchor_); }

std::optional<Duration> RoundTripTime(uint32_t receipt_compact_ntp, uint32_t last_sr, uint32_t delay_since_last_sr) {
  // §6.4.1: "If no SR has been received yet, the [LSR] field is set to zero."
  if (last_sr == 0) return std::nullopt;
  const uint32_t rtt = receipt_compact_ntp - last_sr - delay_since_last_sr;
  if (static_cast<int32_t>(rtt) < 0) return Duration::zero();
  return CompactNtpToDuration(rtt);
}

}  // namespace refrtc::rtp
