// Per-SSRC RTP stream state above the packet formats and below the W3C objects (issue D):
// what libwebrtc splits into RTPSender/RtpPacketHistory/ModuleRtpRtcp and NackRequester.
// Pure and sans-IO: packets in and out as unprotected bytes (SRTP is the caller's), time as Instant.
//
//  - RtpSendStream: stamps payloads into RTP packets (SSRC, sequence numbers from a random start,
//    timestamp = random base + payload timestamp, RFC 8843 MID header extension on every packet),
//    keeps a history for retransmission (RFC 4585 generic NACK → RFC 4588 RTX when an RTX SSRC/PT
//    is configured, else the original packet again), builds RFC 3550 SR and consumes report blocks
//    about itself (RTT §6.4.1, remote loss and jitter for remote-inbound-rtp).
//  - RtpReceiveStream: RFC 3550 statistics (receive_statistics.h), duplicate detection, RTX
//    unwrapping, a NACK list with retry timing (RFC 4585 §6.2.1; at most 10 retries per number,
//    not for numbers older than 1 s or more than 1000 behind), report blocks with LSR/DLSR, and
//    the remote sender's SR for remote-outbound-rtp.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rtp/receive_statistics.h"
#include "rtp/rtcp_packet.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtp_types.h"
#include "util/bytes.h"
#include "util/time.h"

namespace refrtc::rtp {

struct SendStreamConfig {
  Ssrc ssrc;
  PayloadType payload_type;
  uint32_t clock_rate = 90000;
  std::optional<Ssrc> rtx_ssrc;              // RFC 4588 §4 SSRC-multiplexed RTX stream
  std::optional<PayloadType> rtx_payload_type;
  uint8_t mid_extension_id = 0;              // 0: no MID extension (RFC 8843 §15)
  std::string mid;
  uint16_t initial_sequence_number = 0;      // RFC 3550 §5.1: random (from the caller's Random)
  // RFC 4588 §4 / RFC 3550 §5.1: the RTX stream's own (random) initial sequence number. Unset:
  // initial_sequence_number + 0x8000, i.e. half the number space away from the media stream.
  std::optional<uint16_t> rtx_initial_sequence_number;
  uint32_t timestamp_base = 0;               // RFC 3550 §5.1: random
  size_t history_size = 600;                 // packets kept for retransmission (video)
  std::string cname;                         // RFC 3550 §6.5.1, for the SDES in compounds
};

struct SendStreamCounters {
  uint64_t packets_sent = 0;          // webrtc-stats RTCSentRtpStreamStats.packetsSent (excl. retransmissions)
  uint64_t bytes_sent = 0;            // payload bytes (webrtc-stats: excluding headers and padding)
  uint64_t header_bytes_sent = 0;
  uint64_t retransmitted_packets_sent = 0;
  uint64_t retransmitted_bytes_sent = 0;
  uint64_t nack_count = 0;            // NACK packets received about this stream
  uint64_t pli_count = 0;
  uint64_t fir_count = 0;
  // From the last report block about this SSRC (remote-inbound-rtp).
  std::optional<ReportBlock> last_report;
  std::optional<double> round_trip_time_s;     // latest RFC 3550 §6.4.1 RTT, seconds
  double total_round_trip_time_s = 0;
  uint64_t round_trip_time_measurements = 0;
};

class RtpSendStream {
 public:
  explicit RtpSendStream(SendStreamConfig config);
  const SendStreamConfig& config() const { return config_; }

  // One payload → one serialized RTP packet (next sequence number; timestamp_base + rtp_timestamp).
  // Stored in the history. `now` is the capture/send time (for SR's NTP↔RTP mapping).
  // `payload_type`: another payload type on the same SSRC and sequence space (RFC 4733 §2.1
  // telephone-events in an audio stream); the stream's own when unset.
  Bytes Packetize(ByteView payload, uint32_t rtp_timestamp, bool marker, Instant now,
                  std::optional<PayloadType> payload_type = std::nullopt);
  // RFC 4585 §6.2.1 generic NACK for this SSRC: serialized retransmissions of the packets still in
  // the history (RTX-wrapped per RFC 4588 §4 when configured: original sequence number first in the
  // payload, RTX stream's own sequence numbers), each at most once per RTT-ish window (100 ms).
  std::vector<Bytes> OnNack(const std::vector<SequenceNumber>& lost, Instant now);
  void OnPli() { ++counters_.pli_count; }
  void OnFir() { ++counters_.fir_count; }
  // A report block whose ssrc is ours: RTT = now - LSR - DLSR in NTP short format (when LSR != 0).
  // Blocks about other SSRCs are ignored. When LSR names one of the last 16 SRs built by
  // MakeSenderReport, A - LSR is measured on the Instant clock (now - that SR's `now`), so the
  // wallclock passed to MakeSenderReport does not need to be consistent; otherwise A is mapped from
  // the last MakeSenderReport's (now, wallclock_ntp) pair; with neither, no RTT is measured.
  // A negative RTT (clock skew, bogus DLSR) counts as 0 (RoundTripTime in rtp_types.h).
  void OnReportBlock(const ReportBlock& block, Instant now);
  // Same with A given explicitly as the NTP time of `now` (RFC 3550 §6.4.1 literally).
  void OnReportBlock(const ReportBlock& block, Instant now, NtpTime now_ntp);
  // RFC 3550 §6.4.1 SR for this stream (NTP from `wallclock_ntp`, RTP timestamp extrapolated from
  // the last packet's capture time to `now`), with packet/octet counts.
  // Packet/octet counts cover every RTP packet sent with this SSRC: originals plus plain (non-RTX)
  // retransmissions; octets are payload octets only (§6.4.1). Before the first packet the RTP
  // timestamp is timestamp_base. (const, but remembers (now, wallclock_ntp) for OnReportBlock.)
  SenderReport MakeSenderReport(Instant now, NtpTime wallclock_ntp) const;
  const SendStreamCounters& counters() const { return counters_; }
  bool has_sent() const { return counters_.packets_sent > 0; }

  // Introspection (tests, stats).
  size_t history_packets() const { return history_.size(); }
  uint16_t next_sequence_number() const { return next_seq_; }
  uint16_t next_rtx_sequence_number() const { return next_rtx_seq_; }
  bool rtx_enabled() const { return config_.rtx_ssrc.has_value() && config_.rtx_payload_type.has_value(); }

 private:
  struct HistoryEntry {
    RtpPacket packet;                   // as sent (media SSRC/PT/sequence number)
    Instant capture_time;
    std::optional<Instant> last_resent;
    uint32_t resends = 0;
  };
  HistoryEntry* FindHistory(uint16_t seq);
  void UpdateRtt(std::optional<Duration> rtt);

  SendStreamConfig config_;
  SendStreamCounters counters_;
  uint16_t next_seq_ = 0;
  uint16_t next_rtx_seq_ = 0;
  // Packets in sequence-number order: history_[i] has sequence number history_first_seq_ + i.
  std::deque<HistoryEntry> history_;
  uint16_t history_first_seq_ = 0;
  // Last packet sent (for the SR's RTP timestamp extrapolation, §6.4.1).
  std::optional<std::pair<uint32_t, Instant>> last_rtp_timestamp_;
  // RFC 3550 §6.4.1 sender packet/octet counts (originals + same-SSRC retransmissions).
  uint32_t sr_packet_count_ = 0;
  uint32_t sr_octet_count_ = 0;
  // SRs handed out: compact NTP (the receiver's future LSR) -> the Instant it was built at.
  mutable std::deque<std::pair<uint32_t, Instant>> sent_srs_;
  mutable std::optional<std::pair<Instant, NtpTime>> ntp_anchor_;
};

struct ReceiveStreamConfig {
  Ssrc ssrc;                           // the media SSRC (remote)
  uint32_t clock_rate = 90000;
  std::optional<Ssrc> rtx_ssrc;
  std::optional<PayloadType> rtx_payload_type;
  PayloadType media_payload_type;      // what an RTX packet's payload restores (apt)
  bool nack_enabled = false;           // a=rtcp-fb:<pt> nack negotiated
  Ssrc local_ssrc;                     // sender SSRC of our RTCP about this stream (RFC 4585 §6.1)
};

struct ReceiveStreamCounters {
  uint64_t packets_received = 0;       // unique media packets (duplicates and RTX-recovered counted once)
  uint64_t bytes_received = 0;         // payload bytes
  uint64_t header_bytes_received = 0;
  uint64_t packets_duplicated = 0;
  uint64_t retransmitted_packets_received = 0;  // via RTX or a repeated original that filled a gap
  uint64_t nack_count = 0;             // NACK packets we sent
  int64_t packets_lost = 0;            // RFC 3550 A.3 cumulative
  double jitter_s = 0;                 // A.8, seconds
  std::optional<Instant> last_packet_received;
  // From the remote's last SR (remote-outbound-rtp).
  std::optional<SenderReport> last_sender_report;
  std::optional<Instant> last_sender_report_arrival;
  uint64_t sender_reports_received = 0;
};

class RtpReceiveStream {
 public:
  explicit RtpReceiveStream(ReceiveStreamConfig config);
  const ReceiveStreamConfig& config() const { return config_; }

  // A media packet (packet.ssrc == config.ssrc) or an RTX packet (packet.ssrc == rtx_ssrc, which is
  // unwrapped: original sequence number from the first two payload bytes, payload type restored).
  // Returns the media packet to hand to the depacketizer, or nullopt for a duplicate, an empty RTX
  // padding packet or a malformed RTX payload.
  std::optional<RtpPacket> OnPacket(const RtpPacket& packet, Instant now);
  // Sequence numbers to NACK now (RFC 4585 §6.2.1 FCI via BuildNackFcis), each re-requested at most
  // every `rtt` (default 100 ms until known) and given up after 10 tries; empty when NACK is off.
  std::vector<SequenceNumber> PollNack(Instant now);
  // The deadline of the next NACK retry (nullopt when nothing is missing).
  std::optional<Instant> NextNackDeadline() const;
  void SetRtt(double rtt_s);
  void OnSenderReport(const SenderReport& sr, Instant now);
  // RFC 3550 §6.4 report block about this stream (starts a new A.3 interval); nullopt before the
  // first packet.
  std::optional<ReportBlock> MakeReportBlock(Instant now);
  const ReceiveStreamCounters& counters() const { return counters_; }

  // Introspection (tests, stats).
  size_t nack_list_size() const { return nack_list_.size(); }
  const StreamReceiveStatistics& statistics() const { return stats_; }
  // The NACK retry interval: the RTT given to SetRtt, 100 ms until then.
  Duration nack_retry_interval() const { return rtt_; }

  static constexpr int kMaxNackRetries = 10;          // NACKs sent per sequence number
  static constexpr int64_t kMaxNackDistance = 1000;   // NACK only numbers <= 1000 behind the highest
  static constexpr Duration kMaxNackAge = std::chrono::seconds(1);
  static constexpr int64_t kDuplicateWindow = 2048;   // sequence numbers remembered behind the highest

 private:
  struct NackEntry {
    Instant created;                  // when the gap was seen
    std::optional<Instant> last_sent;
    int retries = 0;                  // NACKs sent for it
  };
  // Media packet (original or RTX-restored); `wire_overhead` = header + padding (+ OSN) bytes.
  std::optional<RtpPacket> OnMediaPacket(RtpPacket packet, bool via_rtx, size_t wire_overhead, Instant now);
  void Reset(int64_t unwrapped);
  bool Received(int64_t unwrapped) const;
  void SetReceived(int64_t unwrapped, bool value);
  void PruneNackList(Instant now);
  void FeedStatistics(const RtpPacket& packet, bool retransmitted, Instant now);
  void UpdateCounters();

  ReceiveStreamConfig config_;
  ReceiveStreamCounters counters_;
  StreamReceiveStatistics stats_;
  // Highest unwrapped (64-bit extended) sequence number seen; every new number is unwrapped at the
  // shortest distance from it.
  std::optional<int64_t> highest_;
  // Circular bitset over [highest - kDuplicateWindow + 1, highest]: received or not.
  std::vector<uint64_t> received_bits_;
  // A packet far behind the window: a stream restart when the next one follows it (cf. A.1).
  std::optional<uint16_t> restart_candidate_;
  std::map<int64_t, NackEntry> nack_list_;  // missing unwrapped numbers
  Duration rtt_ = std::chrono::milliseconds(100);
  // A.8 jitter: arrival on the RTP clock and the last transit of a non-retransmitted packet, so that
  // retransmissions do not inflate the jitter (see FeedStatistics).
  std::optional<Instant> first_arrival_;
  std::optional<uint32_t> last_transit_;
};

}  // namespace refrtc::rtp
