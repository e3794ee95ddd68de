// RTCP packets: compound framing (RFC 3550 §6.1, A.2), SR/RR (§6.4.1/§6.4.2), SDES (§6.5), BYE
// (§6.6), RTPFB generic NACK (RFC 4585 §6.2.1), PSFB PLI (RFC 4585 §6.3.1), PSFB FIR (RFC 5104
// §4.3.1), PSFB REMB (draft-alvestrand-rmcat-remb-03 §2.2) and RTPFB transport-wide congestion
// control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
//
// Packet types and feedback formats we do not model (APP, XR, other FMTs) are kept as UnknownRtcp,
// which is not an error. Reduced-size RTCP (RFC 5506) is not enforced either way: the framing does
// not require the first packet to be SR/RR.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "rtp/rtp_types.h"
#include "util/bytes.h"

namespace refrtc::rtp {

// RFC 3550 §12.1 / RFC 4585 §6.1 packet types.
constexpr uint8_t kRtcpSr = 200;
constexpr uint8_t kRtcpRr = 201;
constexpr uint8_t kRtcpSdes = 202;
constexpr uint8_t kRtcpBye = 203;
constexpr uint8_t kRtcpApp = 204;
constexpr uint8_t kRtcpRtpfb = 205;
constexpr uint8_t kRtcpPsfb = 206;
// Feedback message types (FMT).
constexpr uint8_t kRtpfbNack = 1;   // RFC 4585 §6.2.1
constexpr uint8_t kRtpfbTwcc = 15;  // draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1
constexpr uint8_t kPsfbPli = 1;     // RFC 4585 §6.3.1
constexpr uint8_t kPsfbFir = 4;     // RFC 5104 §4.3.1
constexpr uint8_t kPsfbAfb = 15;    // RFC 4585 §6.4 application layer FB (REMB uses it)
// RFC 3550 §6.5 SDES item types.
constexpr uint8_t kSdesCname = 1;

// One individual RTCP packet inside a compound, as framed by §6.4.1's common header. `body` and
// `raw` are views into the buffer given to SplitRtcpCompound, which must outlive the block.
struct RtcpBlock {
  uint8_t count = 0;        // RC / SC / FMT (5 bits)
  uint8_t packet_type = 0;  // PT
  bool padding = false;
  ByteView body;  // after the 4-byte header, padding removed
  ByteView raw;   // the whole individual packet including header and padding
};

// RFC 3550 §6.1 / A.2: splits a compound into individual packets. Errors: empty input or a
// trailing piece shorter than 4 bytes, any header with version != 2, a length field past the end
// of the compound, a padding count of 0 or larger than the packet body, and — unless
// `allow_inner_padding` — a P bit on any but the last packet (§6.4.1: "padding MUST only be added to
// the last individual packet"). libwebrtc sets P on each transport-cc packet it pads (with a count
// of 1-3, not the multiple of 4 §6.4.1 expects) and may combine several, so interop callers pass
// allow_inner_padding = true; the count is never required to be a multiple of 4.
absl::StatusOr<std::vector<RtcpBlock>> SplitRtcpCompound(ByteView data, bool allow_inner_padding = false);

// RFC 3550 §6.4.1 report block.
struct ReportBlock {
  Ssrc source_ssrc;
  uint8_t fraction_lost = 0;
  int32_t cumulative_lost = 0;  // 24-bit signed on the wire
  uint32_t extended_highest_sequence = 0;
  uint32_t jitter = 0;
  uint32_t last_sr = 0;               // LSR, compact NTP
  uint32_t delay_since_last_sr = 0;   // DLSR, 1/65536 s
  friend bool operator==(const ReportBlock& a, const ReportBlock& b);
};

// §6.4.1
struct SenderReport {
  Ssrc sender_ssrc;
  NtpTime ntp_time;
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
  std::vector<ReportBlock> report_blocks;  // at most 31
  Bytes profile_extension;                 // §6.4.1 profile-specific extension (multiple of 4)
  friend bool operator==(const SenderReport& a, const SenderReport& b);
};

// §6.4.2
struct ReceiverReport {
  Ssrc sender_ssrc;
  std::vector<ReportBlock> report_blocks;  // at most 31
  Bytes profile_extension;
  friend bool operator==(const ReceiverReport& a, const ReceiverReport& b);
};

// §6.5
struct SdesItem {
  uint8_t type = 0;   // 1..255 (0 terminates a chunk on the wire)
  std::string value;  // at most 255 bytes (UTF-8 for text items; not validated)
  friend bool operator==(const SdesItem& a, const SdesItem& b) { return a.type == b.type && a.value == b.value; }
};
struct SdesChunk {
  Ssrc ssrc;
  std::vector<SdesItem> items;
  friend bool operator==(const SdesChunk& a, const SdesChunk& b) { return a.ssrc == b.ssrc && a.items == b.items; }
};
struct Sdes {
  std::vector<SdesChunk> chunks;  // at most 31
  // The CNAME item (§6.5.1) of the chunk for `ssrc`, if any.
  std::optional<std::string> Cname(Ssrc ssrc) const;
  friend bool operator==(const Sdes& a, const Sdes& b) { return a.chunks == b.chunks; }
};

// §6.6
struct Bye {
  std::vector<Ssrc> ssrcs;            // at most 31
  std::optional<std::string> reason;  // at most 255 bytes
  friend bool operator==(const Bye& a, const Bye& b) { return a.ssrcs == b.ssrcs && a.reason == b.reason; }
};

// RFC 4585 §6.2.1 generic NACK. `lost` lists PID then PID+1+i for each set BLP bit i, FCI by FCI.
struct Nack {
  Ssrc sender_ssrc;
  Ssrc media_ssrc;
  std::vector<SequenceNumber> lost;
  friend bool operator==(const Nack& a, const Nack& b);
};

// RFC 4585 §6.3.1
struct Pli {
  Ssrc sender_ssrc;
  Ssrc media_ssrc;
  friend bool operator==(const Pli& a, const Pli& b) {
    return a.sender_ssrc == b.sender_ssrc && a.media_ssrc == b.media_ssrc;
  }
};

// RFC 5104 §4.3.1
struct FirEntry {
  Ssrc ssrc;
  uint8_t sequence_number = 0;
  friend bool operator==(const FirEntry& a, const FirEntry& b) {
    return a.ssrc == b.ssrc && a.sequence_number == b.sequence_number;
  }
};
struct Fir {
  Ssrc sender_ssrc;
  Ssrc media_ssrc;  // "SHALL be set to 0" (§4.3.1.2); kept as received
  std::vector<FirEntry> entries;
  friend bool operator==(const Fir& a, const Fir& b) {
    return a.sender_ssrc == b.sender_ssrc && a.media_ssrc == b.media_ssrc && a.entries == b.entries;
  }
};

// draft-alvestrand-rmcat-remb-03 §2.2 (PSFB FMT 15, unique identifier 'REMB').
struct Remb {
  Ssrc sender_ssrc;
  Ssrc media_ssrc;        // 0 on the wire by the draft; kept as received
  uint64_t bitrate_bps = 0;  // mantissa << exponent; serialize rounds down to 18 bits of mantissa
  std::vector<Ssrc> ssrcs;   // at most 255
  friend bool operator==(const Remb& a, const Remb& b);
};

// draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.
struct TwccPacketStatus {
  uint16_t sequence_number = 0;
  bool received = false;
  int32_t delta_us = 0;  // receive delta (multiple of 250 us), relative to the previous received
                         // packet (the first: to reference time); 0 when not received
  friend bool operator==(const TwccPacketStatus& a, const TwccPacketStatus& b) {
    return a.sequence_number == b.sequence_number && a.received == b.received && a.delta_us == b.delta_us;
  }
};
struct TransportFeedback {
  Ssrc sender_ssrc;
  Ssrc media_ssrc;
  uint16_t base_sequence = 0;
  int32_t reference_time = 0;  // 24-bit signed, units of 64 ms
  uint8_t feedback_packet_count = 0;
  // packet_status_count entries, base_sequence onward. Never more entries than the chunks
  // actually present encode (a run-length chunk covers at most 8191 packets).
  std::vector<TwccPacketStatus> packets;
  int64_t ReferenceTimeUs() const { return int64_t{reference_time} * 64000; }
  friend bool operator==(const TransportFeedback& a, const TransportFeedback& b);
};

// Any packet type / FMT we do not model (APP, XR, AFB other than REMB, ...). `body` excludes the
// 4-byte header and any padding.
struct UnknownRtcp {
  uint8_t packet_type = 0;
  uint8_t count = 0;
  Bytes body;
  friend bool operator==(const UnknownRtcp& a, const UnknownRtcp& b) {
    return a.packet_type == b.packet_type && a.count == b.count && a.body == b.body;
  }
};

using RtcpPacket =
    std::variant<SenderReport, ReceiverReport, Sdes, Bye, Nack, Pli, Fir, Remb, TransportFeedback, UnknownRtcp>;

// Typed parse of one framed packet (dispatch on PT and FMT).
absl::StatusOr<RtcpPacket> ParseRtcpBlock(const RtcpBlock& block);
// SplitRtcpCompound + ParseRtcpBlock on each; any malformed packet fails the whole compound.
// (Callers wanting per-packet tolerance use the two steps themselves.)
absl::StatusOr<std::vector<RtcpPacket>> ParseRtcpCompound(ByteView data, bool allow_inner_padding = false);

// Individual parsers, given the framed block (they check PT/FMT).
absl::StatusOr<SenderReport> ParseSenderReport(const RtcpBlock& b);
absl::StatusOr<ReceiverReport> ParseReceiverReport(const RtcpBlock& b);
absl::StatusOr<Sdes> ParseSdes(const RtcpBlock& b);
absl::StatusOr<Bye> ParseBye(const RtcpBlock& b);
absl::StatusOr<Nack> ParseNack(const RtcpBlock& b);
absl::StatusOr<Pli> ParsePli(const RtcpBlock& b);
absl::StatusOr<Fir> ParseFir(const RtcpBlock& b);
absl::StatusOr<Remb> ParseRemb(const RtcpBlock& b);
absl::StatusOr<TransportFeedback> ParseTransportFeedback(const RtcpBlock& b);

// Serialization. Every packet is written without padding. Fails on values the wire cannot carry
// (> 31 report blocks/chunks/SSRCs, SDES item or BYE reason > 255 bytes, empty NACK/FIR, REMB with
// > 255 SSRCs, profile extension not a multiple of 4, a packet longer than 65535 words, ...).
// TransportFeedback is encoded with two-bit status-vector chunks and run-length chunks.
absl::Status AppendRtcpPacket(const RtcpPacket& packet, Bytes* out);
absl::StatusOr<Bytes> SerializeRtcpCompound(const std::vector<RtcpPacket>& packets);

// RFC 4585 §6.2.1: builds the FCI list from lost sequence numbers, in the given order: a number
// joins the current FCI when it lies 1-16 after its PID and after the last bit already set,
// otherwise it starts a new FCI. (So ParseNack(Serialize(n)).lost == n.lost for any list.)
std::vector<std::pair<uint16_t, uint16_t>> BuildNackFcis(const std::vector<SequenceNumber>& lost);

}  // namespace refrtc::rtp
