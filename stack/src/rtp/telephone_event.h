// RFC 4733 telephone-events (DTMF over RTP): the §2.3 payload format, and a receive-side decoder
// that turns the packets of one sender into one digit per event.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     event     |E|R| volume    |          duration             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Decoder policy (RFC 4733 §2.5.2):
//  - An event is identified by its RTP timestamp (§2.5.2.2); updates and the three redundant end
//    packets of an event already reported are ignored, as are packets older than the current event.
//  - A digit is reported when the E bit of its event first arrives (§2.5.2.3), with that packet's
//    duration.
//  - Lost end packets: when a new event (new timestamp) begins while the current one never ended,
//    the current one is reported with its last known duration; when nothing new arrives for
//    kEventTimeout after its last packet, it is reported then (HandleTimeout).
//  - Long events (§2.5.1.3 / §2.5.2.3): a packet for the same event code whose timestamp is the
//    previous segment's timestamp + its duration, where that duration reached 0xFFFF, continues
//    the event: the digit's duration is the sum of the segments.
//  - Only events 0-15 (DTMF, RFC 4733 §3.2: "0123456789*#ABCD") are reported; others are dropped.
//  - Only the first event block of a packet is used (§2.5.1.5 allows several: redundancy of older
//    events, which the end-packet retransmission already covers).
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "util/bytes.h"
#include "util/time.h"

namespace refrtc::rtp {

struct TelephoneEvent {
  uint8_t event = 0;       // §2.3.1: 0-255 (0-15 DTMF)
  bool end = false;        // §2.3.2 E bit
  bool reserved = false;   // §2.3.3 R bit (sent 0, ignored on receipt)
  uint8_t volume = 0;      // §2.3.4: 0-63, power level in -dBm0
  uint16_t duration = 0;   // §2.3.5: in RTP timestamp units
  friend bool operator==(const TelephoneEvent& a, const TelephoneEvent& b) {
    return a.event == b.event && a.end == b.end && a.reserved == b.reserved && a.volume == b.volume &&
           a.duration == b.duration;
  }
};

constexpr size_t kTelephoneEventSize = 4;

// Parses the first event block; InvalidArgument for fewer than 4 bytes. Extra bytes (further
// blocks, §2.5.1.5) are ignored.
absl::StatusOr<TelephoneEvent> ParseTelephoneEvent(ByteView payload);
// All the 4-byte blocks of a payload (a trailing partial block is an error).
absl::StatusOr<std::vector<TelephoneEvent>> ParseTelephoneEvents(ByteView payload);
// InvalidArgument when volume > 63.
absl::StatusOr<Bytes> SerializeTelephoneEvent(const TelephoneEvent& e);

// '0'-'9', '*', '#', 'A'-'D' for events 0-15 (RFC 4733 §3.2), nullopt otherwise.
std::optional<char> DtmfEventToChar(uint8_t event);
// The inverse, accepting 'a'-'d' too; nullopt for other characters.
std::optional<uint8_t> DtmfCharToEvent(char c);

struct ReceivedDigit {
  char tone = 0;
  uint32_t duration_ms = 0;
  uint32_t rtp_timestamp = 0;  // of the event's first segment
};

// The send side (RFC 4733 §2.5.1) of one event at a time on a stream whose RTP clock is
// `clock_rate`: Start() at the event's beginning, then Poll() at NextDeadline() for the payloads to
// packetize (with the telephone-event payload type on the audio SSRC and sequence space).
//  - §2.5.1.2: the first packet (marker bit) after one update interval (or the whole duration when
//    shorter; a zero duration is never sent), then an update every `update_interval` with the
//    duration so far, all with the event's start timestamp.
//  - §2.5.1.3: at 0xFFFF units a segment ends (its final duration 0xFFFF, no E bit) and a new one
//    starts with timestamp + 0xFFFF (no marker); durations count from the segment start.
//  - §2.5.1.4: the final packet (E bit, full duration) — and each segment's final packet — is sent
//    three times, one update interval apart. A Start() while repeats are pending sends them at once
//    (before the new event's packets); a Start() during an event ends that event first.
class TelephoneEventSender {
 public:
  struct Out {
    Bytes payload;
    uint32_t timestamp = 0;  // in the stream's clock, relative to the caller's origin
    bool marker = false;
    bool end = false;        // E bit (for tests / logs)
    Instant timestamp_time{};  // the instant `timestamp` stands for (the segment's start)
  };
  explicit TelephoneEventSender(uint32_t clock_rate, uint8_t volume = 10,
                                Duration update_interval = std::chrono::milliseconds(50))
      : clock_rate_(clock_rate ? clock_rate : 8000), volume_(volume), interval_(update_interval) {}

  void Start(uint8_t event, uint32_t duration_ms, uint32_t rtp_timestamp, Instant now);
  std::vector<Out> Poll(Instant now);
  std::optional<Instant> NextDeadline() const;
  // An event is playing or its end packets are still being repeated (the audio is suppressed).
  bool busy() const { return active_.has_value() || !repeats_.empty(); }
  uint32_t clock_rate() const { return clock_rate_; }

 private:
  struct Active {
    uint8_t event = 0;
    Instant start{};
    Instant end{};
    uint64_t total_units = 0;
    uint64_t segment_start_units = 0;
    uint32_t segment_timestamp = 0;
    Instant next_update{};
    bool first_sent = false;
  };
  struct Repeat {
    Instant due;
    Out out;
  };
  uint64_t Units(Duration d) const;
  Out Make(const Active& a, bool end, uint16_t duration, bool marker) const;
  void EmitSegmentEnds(Active& a, uint64_t elapsed_units, bool strictly_more, Instant t, std::vector<Out>& out);
  void EmitWithRepeats(Out o, Instant t, std::vector<Out>& out);

  uint32_t clock_rate_;
  uint8_t volume_;
  Duration interval_;
  std::optional<Active> active_;
  std::deque<Repeat> repeats_;
};

class TelephoneEventDecoder {
 public:
  static constexpr Duration kEventTimeout = std::chrono::milliseconds(500);

  explicit TelephoneEventDecoder(uint32_t clock_rate) : clock_rate_(clock_rate ? clock_rate : 8000) {}

  // One telephone-event RTP packet of this SSRC (payload = the RTP payload). Malformed payloads are
  // dropped.
  void OnPacket(uint32_t rtp_timestamp, ByteView payload, Instant now);
  // Reports an unfinished event whose packets stopped kEventTimeout ago.
  void HandleTimeout(Instant now);
  std::optional<Instant> NextDeadline() const;
  std::optional<ReceivedDigit> PollDigit();

  uint64_t malformed_packets() const { return malformed_; }

 private:
  struct Current {
    uint8_t event = 0;
    uint32_t first_timestamp = 0;    // of the first segment
    uint32_t segment_timestamp = 0;  // of the segment being received
    uint64_t previous_segments = 0;  // sum of the durations of completed segments
    uint16_t duration = 0;           // latest duration of the current segment
    Instant last_packet{};
  };
  void Finish(Current& c);
  bool Done(uint32_t timestamp) const;
  void MarkDone(uint32_t timestamp);
  uint32_t ToMillis(uint64_t units) const;

  uint32_t clock_rate_;
  std::optional<Current> current_;
  std::deque<uint32_t> done_;  // timestamps (segments) of recently finished events
  std::optional<uint32_t> newest_timestamp_;
  std::deque<ReceivedDigit> digits_;
  uint64_t malformed_ = 0;
};

}  // namespace refrtc::rtp
