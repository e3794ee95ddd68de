// RFC 3550 receiver statistics (pure; time is passed in):
//  - A.1 sequence-number validation and the extended highest sequence number (probation,
//    MAX_DROPOUT, MAX_MISORDER, resynchronisation after two sequential packets past a big jump);
//  - A.3 cumulative number of packets lost (clamped to 24-bit signed) and the fraction lost per
//    reporting interval;
//  - A.8 interarrival jitter in timestamp units (the integer "scaled by 16" form);
//  - §6.4.1 report blocks with LSR/DLSR from the last SR received.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "rtp/rtcp_packet.h"
#include "rtp/rtp_types.h"
#include "util/time.h"

namespace refrtc::rtp {

struct ReceiveStatisticsConfig {
  int max_dropout = 3000;   // A.1 MAX_DROPOUT
  int max_misorder = 100;   // A.1 MAX_MISORDER
  int min_sequential = 2;   // A.1 MIN_SEQUENTIAL (1 = no probation: the first packet counts)
};

class StreamReceiveStatistics {
 public:
  StreamReceiveStatistics(Ssrc ssrc, uint32_t clock_rate_hz, ReceiveStatisticsConfig config = {});

  // One received RTP packet. The arrival time is converted to the RTP clock (clock_rate_hz) for
  // the A.8 jitter. Returns A.1 update_seq's verdict: false while on probation or for the first
  // packet after a very large jump (awaiting a second sequential one); such packets are not
  // counted.
  bool OnPacket(SequenceNumber seq, uint32_t rtp_timestamp, Instant arrival);
  // Same with the arrival time already expressed in RTP timestamp units ("arrival" in A.8).
  bool OnPacketRtpArrival(SequenceNumber seq, uint32_t rtp_timestamp, uint32_t arrival_rtp);

  // Remembers the last SR from this source (for LSR/DLSR, §6.4.1).
  void OnSenderReport(NtpTime ntp_time, Instant arrival);

  // Builds a report block and starts a new A.3 interval (fraction lost is per interval). DLSR is
  // `now` minus the arrival of the last SR (0/0 when none was received).
  ReportBlock MakeReportBlock(Instant now);
  // Same with explicit LSR/DLSR.
  ReportBlock MakeReportBlock(uint32_t last_sr, uint32_t delay_since_last_sr);

  Ssrc ssrc() const { return ssrc_; }
  uint32_t clock_rate() const { return clock_rate_; }
  bool on_probation() const { return probation_ > 0; }
  // A.3 values (as of now, without starting a new interval).
  uint32_t extended_highest_sequence() const { return cycles_ + max_seq_; }
  int64_t expected() const;
  int64_t received() const { return received_; }
  int32_t cumulative_lost() const;  // clamped to [-2^23, 2^23 - 1]
  uint32_t jitter() const { return static_cast<uint32_t>(jitter_q4_ >> 4); }

 private:
  bool UpdateSeq(uint16_t seq);  // A.1 update_seq
  void InitSeq(uint16_t seq);    // A.1 init_seq

  Ssrc ssrc_;
  uint32_t clock_rate_;
  ReceiveStatisticsConfig config_;
  bool started_ = false;
  // A.1 source state.
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;
  uint32_t base_seq_ = 0;
  uint32_t bad_seq_ = 0;
  int probation_ = 0;
  int64_t received_ = 0;
  int64_t expected_prior_ = 0;
  int64_t received_prior_ = 0;
  // A.8 jitter state.
  std::optional<int32_t> transit_;
  int64_t jitter_q4_ = 0;  // jitter * 16
  std::optional<Instant> first_arrival_;
  // Last SR.
  uint32_t last_sr_ = 0;
  std::optional<Instant> last_sr_arrival_;
};

// All remote sources of one receiver.
class ReceiveStatistics {
 public:
  explicit ReceiveStatistics(ReceiveStatisticsConfig config = {}) : config_(config) {}
  // The stream for `ssrc`, created with `clock_rate_hz` on first use.
  StreamReceiveStatistics& Stream(Ssrc ssrc, uint32_t clock_rate_hz);
  StreamReceiveStatistics* Find(Ssrc ssrc);
  void Remove(Ssrc ssrc) { streams_.erase(ssrc); }
  // Report blocks (at most `max_blocks`, §6.4: 31 per SR/RR) for every stream past probation, in
  // SSRC order; each starts a new A.3 interval.
  std::vector<ReportBlock> MakeReportBlocks(Instant now, size_t max_blocks = 31);

 private:
  ReceiveStatisticsConfig config_;
  std::map<Ssrc, StreamReceiveStatistics> streams_;
};

}  // namespace refrtc::rtp
