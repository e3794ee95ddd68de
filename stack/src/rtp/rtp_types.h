// Small RTP value types and arithmetic shared by the RTP/RTCP packet layer:
//  - strong types for the RTP header fields (RFC 3550 §5.1);
//  - serial-number comparison of wrapping counters (RFC 1982 §3.2 style, as RFC 3550 A.1 uses it);
//  - a 16 -> 64-bit sequence-number unwrapper (the "extended sequence number" of RFC 3550 §6.4.1);
//  - NTP timestamps (RFC 3550 §4: 64-bit fixed point seconds since 1900, and the "middle 32 bits"
//    compact form used by LSR/DLSR in §6.4.1).
#pragma once
#include <cstdint>
#include <optional>

#include "util/strong_type.h"
#include "util/time.h"

namespace refrtc::rtp {

using refrtc::Ssrc;  // RTP synchronization source (util/strong_type.h)
using SequenceNumber = StrongType<struct RtpSequenceNumberTag, uint16_t>;  // RFC 3550 §5.1
using PayloadType = StrongType<struct RtpPayloadTypeTag, uint8_t>;         // 7 bits, RFC 3550 §5.1

// RFC 1982 §3.2 serial-number "greater than" for a wrapping unsigned counter: true when `a` is
// ahead of `b` by less than half the number space. The undefined midpoint (distance exactly
// 2^(N-1)) is resolved as "newer iff a > b numerically", so the relation stays antisymmetric.
template <typename T>
constexpr bool SerialNewer(T a, T b) {
  constexpr T kHalf = static_cast<T>(T(1) << (sizeof(T) * 8 - 1));
  const T diff = static_cast<T>(a - b);
  if (diff == kHalf) return a > b;
  return diff != 0 && diff < kHalf;
}
inline constexpr bool IsNewerSequenceNumber(uint16_t a, uint16_t b) { return SerialNewer<uint16_t>(a, b); }
inline constexpr bool IsNewerSequenceNumber(SequenceNumber a, SequenceNumber b) {
  return SerialNewer<uint16_t>(a.value(), b.value());
}
inline constexpr bool IsNewerTimestamp(uint32_t a, uint32_t b) { return SerialNewer<uint32_t>(a, b); }
// Signed forward distance from `b` to `a` in [-32768, 32767] (32768 maps to -32768).
inline constexpr int32_t SequenceNumberDiff(uint16_t a, uint16_t b) {
  return static_cast<int16_t>(static_cast<uint16_t>(a - b));
}

// Unwraps 16-bit sequence numbers into a monotonic-ish 64-bit counter (RFC 3550 §6.4.1's extended
// sequence number, without the A.1 probation logic — see receive_statistics.h for that). Each new
// value is placed at the shortest signed distance from the previous one, so reordering across the
// 65535 -> 0 wrap unwraps correctly. The first value unwraps to itself; a packet reordered before
// the first can unwrap to a negative number.
class SequenceNumberUnwrapper {
 public:
  int64_t Unwrap(uint16_t seq) {
    if (!last_) {
      last_ = seq;
      return *last_;
    }
    const int64_t next = *last_ + SequenceNumberDiff(seq, static_cast<uint16_t>(*last_ & 0xFFFF));
    last_ = next;
    return next;
  }
  int64_t Unwrap(SequenceNumber seq) { return Unwrap(seq.value()); }
  // Same mapping without remembering the value (to peek).
  int64_t PeekUnwrap(uint16_t seq) const {
    if (!last_) return seq;
    return *last_ + SequenceNumberDiff(seq, static_cast<uint16_t>(*last_ & 0xFFFF));
  }
  std::optional<int64_t> last() const { return last_; }

 private:
  std::optional<int64_t> last_;
};

// RFC 3550 §4 NTP timestamp: 32.32 fixed point seconds since 1900-01-01.
class NtpTime {
 public:
  constexpr NtpTime() = default;
  constexpr explicit NtpTime(uint64_t value) : value_(value) {}
  constexpr NtpTime(uint32_t seconds, uint32_t fraction)
      : value_(static_cast<uint64_t>(seconds) << 32 | fraction) {}
  constexpr uint64_t value() const { return value_; }
  constexpr uint32_t seconds() const { return static_cast<uint32_t>(value_ >> 32); }
  constexpr uint32_t fraction() const { return static_cast<uint32_t>(value_); }
  // RFC 3550 §6.4.1 LSR: "the middle 32 bits out of 64 in the NTP timestamp" (16.16 seconds).
  constexpr uint32_t Compact() const { return static_cast<uint32_t>(value_ >> 16); }
  // Microseconds since the NTP epoch (rounded to nearest) and back.
  uint64_t ToMicros() const;
  static NtpTime FromMicros(uint64_t micros_since_1900);
  NtpTime operator+(Duration d) const;
  friend constexpr bool operator==(NtpTime a, NtpTime b) { return a.value_ == b.value_; }
  friend constexpr bool operator!=(NtpTime a, NtpTime b) { return a.value_ != b.value_; }

 private:
  uint64_t value_ = 0;
};

// Compact NTP (16.16 seconds, RFC 3550 §6.4.1 DLSR unit 1/65536 s) <-> durations. Negative
// durations convert to 0; durations beyond 65536 s saturate at 0xFFFFFFFF.
uint32_t DurationToCompactNtp(Duration d);
Duration CompactNtpToDuration(uint32_t compact);

// Maps the engine's monotonic Instants to NTP wall-clock time. The host supplies one anchor pair
// (an Instant and the NTP time at that instant); the engine itself never reads a wall clock.
class NtpClock {
 public:
  NtpClock(Instant anchor, NtpTime ntp_at_anchor) : anchor_(anchor), ntp_at_anchor_(ntp_at_anchor) {}
  NtpTime At(Instant t) const;

 private:
  Instant anchor_;
  NtpTime ntp_at_anchor_;
};

// RFC 3550 §6.4.1 round-trip time from a report block received at compact NTP time `receipt`:
// RTT = A - LSR - DLSR (modulo 2^32, in 1/65536 s). nullopt when LSR is 0 (no SR received by the
// reporter yet). A negative result (clock skew, bogus DLSR) is clamped to zero.
std::optional<Duration> RoundTripTime(uint32_t receipt_compact_ntp, uint32_t last_sr,
                                      uint32_t delay_since_last_sr);

}  // namespace refrtc::rtp
