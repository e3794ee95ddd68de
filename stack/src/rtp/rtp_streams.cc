// Per-SSRC RTP send/receive stream state: RFC 3550 (§5.1 header fields, §6.4.1 SR/report blocks,
// A.1/A.3/A.8 statistics), RFC 4585 §6.2.1 generic NACK, RFC 4588 §4 RTX, RFC 8843 §15 MID.
#include "rtp/rtp_streams.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace refrtc::rtp {
namespace {

constexpr size_t kSentSrsKept = 16;                          // SRs remembered for LSR matching
constexpr Duration kDefaultResendWindow = std::chrono::milliseconds(100);
constexpr Duration kMinResendWindow = std::chrono::milliseconds(5);

// A (signed) duration on an RTP clock of `rate` Hz, modulo 2^32 like the timestamps themselves.
uint32_t DurationToRtpTicks(Duration d, uint32_t rate) {
  const int64_t us = std::chrono::duration_cast<microseconds>(d).count();
  const int64_t r = rate;
  const int64_t ticks = us / 1000000 * r + us % 1000000 * r / 1000000;
  return static_cast<uint32_t>(static_cast<uint64_t>(ticks));
}

uint16_t Low16(int64_t v) { return static_cast<uint16_t>(static_cast<uint64_t>(v) & 0xFFFF); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// RtpSendStream
// ---------------------------------------------------------------------------------------------

RtpSendStream::RtpSendStream(SendStreamConfig config) : config_(std::move(config)) {
  next_seq_ = config_.initial_sequence_number;
  // RFC 4588 §4: "the retransmission stream ... has its own sequence number space"; without an
  // explicit (random) start it begins half the number space away from the media stream's.
  next_rtx_seq_ = config_.rtx_initial_sequence_number.value_or(
      static_cast<uint16_t>(config_.initial_sequence_number + 0x8000));
}

RtpSendStream::HistoryEntry* RtpSendStream::FindHistory(uint16_t seq) {
  const uint16_t index = static_cast<uint16_t>(seq - history_first_seq_);
  if (index >= history_.size()) return nullptr;
  return &history_[index];
}

Bytes RtpSendStream::Packetize(ByteView payload, uint32_t rtp_timestamp, bool marker, Instant now,
                               std::optional<PayloadType> payload_type) {
  // RFC 3550 §5.1 header fields.
  RtpPacket p;
  p.marker = marker;
  p.payload_type = payload_type ? *payload_type : config_.payload_type;
  p.sequence_number = SequenceNumber(next_seq_);
  p.timestamp = config_.timestamp_base + rtp_timestamp;
  p.ssrc = config_.ssrc;
  // RFC 8843 §15: the MID header extension carries the identification-tag of the m= section (in
  // every packet: we do not try to stop once the remote has learnt the SSRC). RFC 8285 needs at
  // least one data byte, so an empty MID is not sent.
  if (config_.mid_extension_id != 0 && !config_.mid.empty()) {
    (void)p.SetExtension(config_.mid_extension_id, AsBytes(config_.mid));  // fails only for > 255 bytes
  }
  p.payload.assign(payload.begin(), payload.end());
  auto wire = p.Serialize();
  if (!wire.ok()) return {};  // a payload type > 127 in the config; no sequence number consumed
  ++next_seq_;

  counters_.packets_sent += 1;
  counters_.bytes_sent += payload.size();
  counters_.header_bytes_sent += wire->size() - payload.size();
  sr_packet_count_ += 1;
  sr_octet_count_ += static_cast<uint32_t>(payload.size());  // §6.4.1: wraps modulo 2^32
  last_rtp_timestamp_ = std::make_pair(p.timestamp, now);

  if (config_.history_size > 0) {
    if (history_.empty()) history_first_seq_ = p.sequence_number.value();
    history_.push_back(HistoryEntry{std::move(p), now, std::nullopt, 0});
    while (history_.size() > config_.history_size) {
      history_.pop_front();
      ++history_first_seq_;
    }
  }
  return *std::move(wire);
}

std::vector<Bytes> RtpSendStream::OnNack(const std::vector<SequenceNumber>& lost, Instant now) {
  ++counters_.nack_count;
  // Resend a packet at most once per RTT (100 ms until an RTT is known; at least 5 ms so that a
  // number repeated within one NACK or an echoing peer cannot multiply the traffic).
  Duration window = kDefaultResendWindow;
  if (counters_.round_trip_time_s) {
    window = std::max(kMinResendWindow, std::chrono::duration_cast<Duration>(
                                            std::chrono::duration<double>(*counters_.round_trip_time_s)));
  }
  std::vector<Bytes> out;
  for (SequenceNumber seq : lost) {
    HistoryEntry* e = FindHistory(seq.value());
    if (!e) continue;  // never sent, or already dropped from the history
    if (e->last_resent && now - *e->last_resent < window) continue;
    absl::StatusOr<Bytes> wire;
    if (rtx_enabled()) {
      // RFC 4588 §4: same timestamp, marker and extensions; the RTX SSRC, payload type and own
      // sequence number; the payload starts with the 2-byte original sequence number (OSN).
      RtpPacket rtx = e->packet;
      rtx.ssrc = *config_.rtx_ssrc;
      rtx.payload_type = *config_.rtx_payload_type;
      rtx.sequence_number = SequenceNumber(next_rtx_seq_);
      rtx.payload.clear();
      rtx.payload.reserve(e->packet.payload.size() + 2);
      rtx.payload.push_back(static_cast<uint8_t>(seq.value() >> 8));
      rtx.payload.push_back(static_cast<uint8_t>(seq.value()));
      rtx.payload.insert(rtx.payload.end(), e->packet.payload.begin(), e->packet.payload.end());
      wire = rtx.Serialize();
      if (!wire.ok()) continue;
      ++next_rtx_seq_;
    } else {
      // RFC 4585 §6.2.1 without RTX: the original packet again, same SSRC and sequence number.
      wire = e->packet.Serialize();
      if (!wire.ok()) continue;
      sr_packet_count_ += 1;
      sr_octet_count_ += static_cast<uint32_t>(e->packet.payload.size());
    }
    e->last_resent = now;
    ++e->resends;
    counters_.retransmitted_packets_sent += 1;
    counters_.retransmitted_bytes_sent += e->packet.payload.size();
    counters_.header_bytes_sent += wire->size() - e->packet.payload.size();
    out.push_back(*std::move(wire));
  }
  return out;
}

void RtpSendStream::UpdateRtt(std::optional<Duration> rtt) {
  if (!rtt) return;
  const double s = std::chrono::duration<double>(*rtt).count();
  counters_.round_trip_time_s = s;
  counters_.total_round_trip_time_s += s;
  counters_.round_trip_time_measurements += 1;
}

void RtpSendStream::OnReportBlock(const ReportBlock& block, Instant now) {
  if (block.source_ssrc != config_.ssrc) return;
  counters_.last_report = block;
  // §6.4.1: "If no SR has been received yet, the field is set to zero."
  if (block.last_sr == 0) return;
  // An SR we built: A - LSR is exactly the Instant elapsed since then.
  for (auto it = sent_srs_.rbegin(); it != sent_srs_.rend(); ++it) {
    if (it->first != block.last_sr) continue;
    Duration rtt = now - it->second - CompactNtpToDuration(block.delay_since_last_sr);
    if (rtt < Duration::zero()) rtt = Duration::zero();
    UpdateRtt(rtt);
    return;
  }
  if (!ntp_anchor_) return;
  const NtpTime a = ntp_anchor_->second + (now - ntp_anchor_->first);
  UpdateRtt(RoundTripTime(a.Compact(), block.last_sr, block.delay_since_last_sr));
}

void RtpSendStream::OnReportBlock(const ReportBlock& block, Instant now, NtpTime now_ntp) {
  (void)now;
  if (block.source_ssrc != config_.ssrc) return;
  counters_.last_report = block;
  // §6.4.1: RTT = A - LSR - DLSR, all in compact NTP (RoundTripTime ignores LSR 0, clamps < 0).
  UpdateRtt(RoundTripTime(now_ntp.Compact(), block.last_sr, block.delay_since_last_sr));
}

SenderReport RtpSendStream::MakeSenderReport(Instant now, NtpTime wallclock_ntp) const {
  SenderReport sr;
  sr.sender_ssrc = config_.ssrc;
  sr.ntp_time = wallclock_ntp;
  // §6.4.1: "the same time as the NTP timestamp (above), but in the same units and with the same
  // random offset as the RTP timestamps in data packets" — the last packet's timestamp advanced
  // by the time since its capture.
  if (last_rtp_timestamp_) {
    sr.rtp_timestamp =
        last_rtp_timestamp_->first + DurationToRtpTicks(now - last_rtp_timestamp_->second, config_.clock_rate);
  } else {
    sr.rtp_timestamp = config_.timestamp_base;
  }
  sr.packet_count = sr_packet_count_;
  sr.octet_count = sr_octet_count_;
  sent_srs_.emplace_back(wallclock_ntp.Compact(), now);
  while (sent_srs_.size() > kSentSrsKept) sent_srs_.pop_front();
  ntp_anchor_ = std::make_pair(now, wallclock_ntp);
  return sr;
}

// ---------------------------------------------------------------------------------------------
// RtpReceiveStream
// ---------------------------------------------------------------------------------------------

namespace {
// A.1 with MIN_SEQUENTIAL 1: the stream is SRTP-authenticated and demultiplexed by SSRC from the
// SDP/MID, so the probation that guards against garbage is not needed and would lose the first
// packet. MAX_MISORDER is widened to the duplicate window: retransmissions arrive an RTT late,
// often more than 100 numbers behind at video rates, and must still count as received (A.3).
ReceiveStatisticsConfig StatsConfig() {
  ReceiveStatisticsConfig c;
  c.min_sequential = 1;
  c.max_misorder = static_cast<int>(RtpReceiveStream::kDuplicateWindow);
  return c;
}
}  // namespace

RtpReceiveStream::RtpReceiveStream(ReceiveStreamConfig config)
    : config_(std::move(config)),
      stats_(config_.ssrc, config_.clock_rate, StatsConfig()),
      received_bits_(kDuplicateWindow / 64, 0) {}

bool RtpReceiveStream::Received(int64_t unwrapped) const {
  const uint64_t i = static_cast<uint64_t>(unwrapped) & (kDuplicateWindow - 1);
  return (received_bits_[i / 64] >> (i % 64)) & 1;
}

void RtpReceiveStream::SetReceived(int64_t unwrapped, bool value) {
  const uint64_t i = static_cast<uint64_t>(unwrapped) & (kDuplicateWindow - 1);
  if (value) {
    received_bits_[i / 64] |= uint64_t{1} << (i % 64);
  } else {
    received_bits_[i / 64] &= ~(uint64_t{1} << (i % 64));
  }
}

void RtpReceiveStream::Reset(int64_t unwrapped) {
  highest_ = unwrapped;
  std::fill(received_bits_.begin(), received_bits_.end(), 0);
  nack_list_.clear();
  restart_candidate_.reset();
}

void RtpReceiveStream::UpdateCounters() {
  counters_.packets_lost = stats_.cumulative_lost();
  counters_.jitter_s = config_.clock_rate ? static_cast<double>(stats_.jitter()) / config_.clock_rate : 0.0;
}

void RtpReceiveStream::FeedStatistics(const RtpPacket& packet, bool retransmitted, Instant now) {
  // A.8 "arrival" on the RTP clock, relative to the first packet (like StreamReceiveStatistics::
  // OnPacket, whose conversion this reproduces so that we know the transit times).
  if (!first_arrival_) first_arrival_ = now;
  uint32_t arrival = DurationToRtpTicks(now - *first_arrival_, config_.clock_rate);
  // A retransmission arrives about an RTT late, which is recovery delay, not network jitter: it
  // is presented with the previous packet's transit time (D = 0), so it only counts for A.1/A.3
  // (libwebrtc likewise skips the jitter update for retransmitted packets).
  if (retransmitted && last_transit_) arrival = packet.timestamp + *last_transit_;
  if (stats_.OnPacketRtpArrival(packet.sequence_number, packet.timestamp, arrival) && !retransmitted) {
    last_transit_ = arrival - packet.timestamp;
  }
}

std::optional<RtpPacket> RtpReceiveStream::OnPacket(const RtpPacket& packet, Instant now) {
  if (packet.ssrc == config_.ssrc) {
    counters_.last_packet_received = now;
    return OnMediaPacket(packet, /*via_rtx=*/false, packet.HeaderSize() + packet.padding_size, now);
  }
  if (!config_.rtx_ssrc || packet.ssrc != *config_.rtx_ssrc) return std::nullopt;
  if (config_.rtx_payload_type && packet.payload_type != *config_.rtx_payload_type) return std::nullopt;
  counters_.last_packet_received = now;
  // RFC 4588 §4: an RTX payload is the 2-byte OSN followed by the original payload. Empty RTX
  // packets are padding (bandwidth probes); a 1-byte payload cannot hold the OSN.
  if (packet.payload.size() < 2) return std::nullopt;
  RtpPacket media;
  media.marker = packet.marker;
  media.payload_type = config_.media_payload_type;
  media.sequence_number = SequenceNumber(static_cast<uint16_t>(packet.payload[0] << 8 | packet.payload[1]));
  media.timestamp = packet.timestamp;
  media.ssrc = config_.ssrc;
  media.csrcs = packet.csrcs;
  media.has_extension = packet.has_extension;
  media.extension_profile = packet.extension_profile;
  media.extensions = packet.extensions;
  media.extension_raw = packet.extension_raw;
  media.payload.assign(packet.payload.begin() + 2, packet.payload.end());
  const size_t overhead = packet.HeaderSize() + packet.padding_size + 2;
  return OnMediaPacket(std::move(media), /*via_rtx=*/true, overhead, now);
}

std::optional<RtpPacket> RtpReceiveStream::OnMediaPacket(RtpPacket packet, bool via_rtx, size_t wire_overhead,
                                                         Instant now) {
  const uint16_t seq = packet.sequence_number.value();
  bool retransmitted = via_rtx;
  bool fed = false;
  if (!highest_) {
    Reset(seq);
  }
  // Unwrap at the shortest distance from the highest number seen (RFC 3550 §6.4.1 extension).
  const int64_t u = *highest_ + SequenceNumberDiff(seq, Low16(*highest_));
  if (u > *highest_ || (u == *highest_ && !Received(u))) {
    // New highest number. The numbers skipped are missing: NACK candidates (RFC 4585 §6.2.1),
    // at most kMaxNackDistance behind the new highest.
    restart_candidate_.reset();
    const int64_t prev = *highest_;
    if (u - prev >= kDuplicateWindow) {
      std::fill(received_bits_.begin(), received_bits_.end(), 0);
    } else {
      for (int64_t i = prev + 1; i <= u; ++i) SetReceived(i, false);
    }
    if (config_.nack_enabled && u > prev + 1) {
      for (int64_t i = std::max(prev + 1, u - kMaxNackDistance); i < u; ++i) {
        nack_list_.emplace(i, NackEntry{now, std::nullopt, 0});
      }
    }
    highest_ = u;
    nack_list_.erase(nack_list_.begin(), nack_list_.lower_bound(u - kMaxNackDistance));
  } else if (u > *highest_ - kDuplicateWindow) {
    // Within the window: a duplicate, or a reordered / retransmitted packet filling a gap.
    if (Received(u)) {
      ++counters_.packets_duplicated;
      return std::nullopt;
    }
    auto it = nack_list_.find(u);
    if (it != nack_list_.end()) {
      // A plain (same-SSRC) retransmission is only recognisable as the answer to our NACK.
      if (it->second.retries > 0) retransmitted = true;
      nack_list_.erase(it);
    }
  } else {
    // Far behind everything we remember: a stale packet, or the sender restarted its numbering.
    // Like A.1, believe a restart once two sequential packets arrive; drop the first.
    // (The statistics see it either way: A.1 has its own "two sequential packets" rule.)
    FeedStatistics(packet, false, now);
    fed = true;
    UpdateCounters();
    if (!restart_candidate_ || *restart_candidate_ != seq) {
      restart_candidate_ = static_cast<uint16_t>(seq + 1);
      return std::nullopt;
    }
    Reset(u);
  }
  SetReceived(u, true);
  if (!fed) FeedStatistics(packet, retransmitted, now);
  counters_.packets_received += 1;
  counters_.bytes_received += packet.payload.size();
  counters_.header_bytes_received += wire_overhead;
  if (retransmitted) counters_.retransmitted_packets_received += 1;
  UpdateCounters();
  return packet;
}

void RtpReceiveStream::PruneNackList(Instant now) {
  for (auto it = nack_list_.begin(); it != nack_list_.end();) {
    const NackEntry& e = it->second;
    const bool too_old = now - e.created >= kMaxNackAge;
    const bool exhausted = e.retries >= kMaxNackRetries && now - *e.last_sent >= rtt_;
    const bool too_far = highest_ && it->first < *highest_ - kMaxNackDistance;
    if (too_old || exhausted || too_far) {
      it = nack_list_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<SequenceNumber> RtpReceiveStream::PollNack(Instant now) {
  std::vector<SequenceNumber> out;
  if (!config_.nack_enabled) return out;
  PruneNackList(now);
  // RFC 4585 §6.2.1 / §3.5: request each missing number now, again after an RTT without it, at
  // most kMaxNackRetries times (the stream is useless for it after that anyway).
  for (auto& [u, e] : nack_list_) {
    if (e.retries >= kMaxNackRetries) continue;
    const Instant due = e.last_sent ? *e.last_sent + rtt_ : e.created;
    if (now < due) continue;
    out.push_back(SequenceNumber(Low16(u)));
    e.last_sent = now;
    ++e.retries;
  }
  if (!out.empty()) ++counters_.nack_count;
  return out;
}

std::optional<Instant> RtpReceiveStream::NextNackDeadline() const {
  if (!config_.nack_enabled) return std::nullopt;
  std::optional<Instant> next;
  for (const auto& [u, e] : nack_list_) {
    if (e.retries >= kMaxNackRetries) continue;
    const Instant due = e.last_sent ? *e.last_sent + rtt_ : e.created;
    if (due >= e.created + kMaxNackAge) continue;  // expires before it is due
    if (!next || due < *next) next = due;
  }
  return next;
}

void RtpReceiveStream::SetRtt(double rtt_s) {
  if (!std::isfinite(rtt_s) || rtt_s <= 0) return;
  rtt_s = std::min(rtt_s, 60.0);
  rtt_ = std::max<Duration>(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(rtt_s)),
                            std::chrono::milliseconds(1));
}

void RtpReceiveStream::OnSenderReport(const SenderReport& sr, Instant now) {
  if (sr.sender_ssrc != config_.ssrc) return;
  stats_.OnSenderReport(sr.ntp_time, now);  // LSR/DLSR for our report blocks (§6.4.1)
  counters_.last_sender_report = sr;
  counters_.last_sender_report_arrival = now;
  counters_.sender_reports_received += 1;
}

std::optional<ReportBlock> RtpReceiveStream::MakeReportBlock(Instant now) {
  if (!highest_) return std::nullopt;
  ReportBlock rb = stats_.MakeReportBlock(now);
  UpdateCounters();
  return rb;
}

}  // namespace refrtc::rtp
