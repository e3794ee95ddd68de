// RFC 3550 Appendix A.1, A.3, A.8 and §6.4.1 receiver statistics.
#include "rtp/receive_statistics.h"

#include <algorithm>

namespace refrtc::rtp {
namespace {
constexpr uint32_t kSeqMod = 1u << 16;  // A.1 RTP_SEQ_MOD
}  // namespace

StreamReceiveStatistics::StreamReceiveStatistics(Ssrc ssrc, uint32_t clock_rate_hz, ReceiveStatisticsConfig config)
    : ssrc_(ssrc), clock_rate_(clock_rate_hz), config_(config) {
  config_.min_sequential = std::max(config_.min_sequential, 1);
}

// A.1 init_seq.
void StreamReceiveStatistics::InitSeq(uint16_t seq) {
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = kSeqMod + 1;  // so seq == bad_seq is false
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
}

// A.1 update_seq.
bool StreamReceiveStatistics::UpdateSeq(uint16_t seq) {
  if (!started_) {
    // A.1: "the source is declared valid only after MIN_SEQUENTIAL packets have been received in
    // sequence": init_seq, then max_seq = seq - 1 and probation = MIN_SEQUENTIAL.
    started_ = true;
    InitSeq(seq);
    max_seq_ = static_cast<uint16_t>(seq - 1);
    probation_ = config_.min_sequential;
  }
  const uint16_t udelta = static_cast<uint16_t>(seq - max_seq_);
  if (probation_ > 0) {
    if (seq == static_cast<uint16_t>(max_seq_ + 1)) {  // packet is in sequence
      --probation_;
      max_seq_ = seq;
      if (probation_ == 0) {
        InitSeq(seq);
        ++received_;
        return true;
      }
    } else {
      probation_ = config_.min_sequential - 1;
      max_seq_ = seq;
    }
    return false;
  }
  if (udelta < config_.max_dropout) {
    // In order, with permissible gap.
    if (seq < max_seq_) cycles_ += kSeqMod;  // sequence number wrapped
    max_seq_ = seq;
  } else if (udelta <= kSeqMod - static_cast<uint32_t>(config_.max_misorder)) {
    // The sequence number made a very large jump.
    if (seq == bad_seq_) {
      // Two sequential packets: assume the other side restarted without telling us.
      InitSeq(seq);
      transit_.reset();  // new timing base too (our addition; A.8 does not say)
    } else {
      bad_seq_ = (seq + 1u) & (kSeqMod - 1);
      return false;
    }
  } else {
    // Duplicate or reordered packet.
  }
  ++received_;
  return true;
}

bool StreamReceiveStatistics::OnPacket(SequenceNumber seq, uint32_t rtp_timestamp, Instant arrival) {
  if (!first_arrival_) first_arrival_ = arrival;
  const int64_t us = std::chrono::duration_cast<microseconds>(arrival - *first_arrival_).count();
  // Arrival on the RTP clock, modulo 2^32 like the timestamps themselves.
  const int64_t ticks = us / 1000000 * clock_rate_ + us % 1000000 * clock_rate_ / 1000000;
  return OnPacketRtpArrival(seq, rtp_timestamp, static_cast<uint32_t>(ticks));
}

bool StreamReceiveStatistics::OnPacketRtpArrival(SequenceNumber seq, uint32_t rtp_timestamp, uint32_t arrival_rtp) {
  if (!UpdateSeq(seq.value())) return false;
  // A.8: transit = arrival - r->ts; d = |transit - s->transit|; J += d - ((J + 8) >> 4) (J scaled
  // by 16). The first packet only establishes the transit time.
  const int32_t transit = static_cast<int32_t>(arrival_rtp - rtp_timestamp);
  if (transit_) {
    // Difference of two wrapping 32-bit transit times, taken modulo 2^32.
    int64_t d = static_cast<int32_t>(static_cast<uint32_t>(transit) - static_cast<uint32_t>(*transit_));
    if (d < 0) d = -d;
    jitter_q4_ += d - ((jitter_q4_ + 8) >> 4);
  }
  transit_ = transit;
  return true;
}

void StreamReceiveStatistics::OnSenderReport(NtpTime ntp_time, Instant arrival) {
  last_sr_ = ntp_time.Compact();
  last_sr_arrival_ = arrival;
}

int64_t StreamReceiveStatistics::expected() const {
  if (probation_ > 0 || !started_) return 0;
  // A.3: expected = extended_max - base_seq + 1.
  return static_cast<int64_t>(extended_highest_sequence()) - base_seq_ + 1;
}

int32_t StreamReceiveStatistics::cumulative_lost() const {
  // A.3: lost = expected - received, clamped to the 24-bit signed field (0x7fffff / -0x800000).
  const int64_t lost = expected() - received_;
  return static_cast<int32_t>(std::clamp<int64_t>(lost, -0x800000, 0x7FFFFF));
}

ReportBlock StreamReceiveStatistics::MakeReportBlock(Instant now) {
  uint32_t dlsr = 0;
  if (last_sr_arrival_) dlsr = DurationToCompactNtp(now - *last_sr_arrival_);
  return MakeReportBlock(last_sr_arrival_ ? last_sr_ : 0, dlsr);
}

ReportBlock StreamReceiveStatistics::MakeReportBlock(uint32_t last_sr, uint32_t delay_since_last_sr) {
  ReportBlock rb;
  rb.source_ssrc = ssrc_;
  rb.extended_highest_sequence = extended_highest_sequence();
  rb.cumulative_lost = cumulative_lost();
  // A.3 fraction lost over the interval since the previous report.
  const int64_t expected_now = expected();
  const int64_t expected_interval = expected_now - expected_prior_;
  expected_prior_ = expected_now;
  const int64_t received_interval = received_ - received_prior_;
  received_prior_ = received_;
  const int64_t lost_interval = expected_interval - received_interval;
  if (expected_interval <= 0 || lost_interval <= 0) {
    rb.fraction_lost = 0;
  } else {
    rb.fraction_lost = static_cast<uint8_t>(std::min<int64_t>((lost_interval << 8) / expected_interval, 255));
  }
  rb.jitter = jitter();
  rb.last_sr = last_sr;
  rb.delay_since_last_sr = delay_since_last_sr;
  return rb;
}

StreamReceiveStatistics& ReceiveStatistics::Stream(Ssrc ssrc, uint32_t clock_rate_hz) {
  auto it = streams_.find(ssrc);
  if (it == streams_.end()) it = streams_.emplace(ssrc, StreamReceiveStatistics(ssrc, clock_rate_hz, config_)).first;
  return it->second;
}

StreamReceiveStatistics* ReceiveStatistics::Find(Ssrc ssrc) {
  auto it = streams_.find(ssrc);
  return it == streams_.end() ? nullptr : &it->second;
}

std::vector<ReportBlock> ReceiveStatistics::MakeReportBlocks(Instant now, size_t max_blocks) {
  std::vector<ReportBlock> out;
  for (auto& [ssrc, s] : streams_) {
    if (out.size() >= max_blocks) break;
    if (s.on_probation() || s.received() == 0) continue;
    out.push_back(s.MakeReportBlock(now));
  }
  return out;
}

}  // namespace refrtc::rtp
