// RtpReceiveStream (rtp/rtp_streams.h) on arbitrary RTP packet sequences: duplicate detection,
// RFC 4588 RTX unwrapping, the NACK list (RFC 4585 §6.2.1) and RFC 3550 report blocks never crash
// (ASan/UBSan) and keep their invariants:
//  - a delivered packet carries the media SSRC (and the media PT when restored from RTX);
//  - the NACK list and each PollNack stay within 1000 numbers; nothing without NACK negotiated;
//  - PollNack at a future NextNackDeadline() returns something;
//  - counters are consistent (delivered + duplicates <= packets fed);
//  - report-block cumulative loss fits 24-bit signed.
//
// Input: byte 0 = config (bit 0: NACK negotiated, bit 1: RTX configured), then records
//   op (1), time step in ms (1), length (1), that many bytes parsed with ParseRtp.
// op bits: 0 force the media SSRC, 1 force the RTX SSRC and PT (bit 0 wins), 2 PollNack,
// 3 MakeReportBlock, 4 OnSenderReport, 5 SetRtt(step ms), 6 check NextNackDeadline.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "rtp/rtp_packet.h"
#include "rtp/rtp_streams.h"

using namespace refrtc;
using namespace refrtc::rtp;

namespace {
constexpr uint32_t kMediaSsrc = 0x11223344;
constexpr uint32_t kRtxSsrc = 0x55667788;
constexpr uint8_t kMediaPt = 96;
constexpr uint8_t kRtxPt = 97;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  ReceiveStreamConfig config;
  config.ssrc = Ssrc(kMediaSsrc);
  config.clock_rate = 90000;
  config.media_payload_type = PayloadType(kMediaPt);
  config.nack_enabled = (data[0] & 1) != 0;
  if (data[0] & 2) {
    config.rtx_ssrc = Ssrc(kRtxSsrc);
    config.rtx_payload_type = PayloadType(kRtxPt);
  }
  config.local_ssrc = Ssrc(1);
  RtpReceiveStream stream(config);
  Instant now = Instant() + std::chrono::seconds(1);
  uint64_t fed = 0;

  size_t off = 1;
  while (off + 3 <= size) {
    const uint8_t op = data[off];
    const uint8_t step = data[off + 1];
    const size_t len = std::min<size_t>(data[off + 2], size - off - 3);
    Bytes wire(data + off + 3, data + off + 3 + len);
    off += 3 + len;
    now += std::chrono::milliseconds(step);

    if (wire.size() >= 12 && (op & 3)) {
      const uint32_t ssrc = (op & 1) ? kMediaSsrc : kRtxSsrc;
      wire[8] = static_cast<uint8_t>(ssrc >> 24);
      wire[9] = static_cast<uint8_t>(ssrc >> 16);
      wire[10] = static_cast<uint8_t>(ssrc >> 8);
      wire[11] = static_cast<uint8_t>(ssrc);
      wire[1] = static_cast<uint8_t>((wire[1] & 0x80) | ((op & 1) ? kMediaPt : kRtxPt));
    }
    auto packet = ParseRtp(wire);
    if (packet.ok()) {
      const bool rtx = packet->ssrc == Ssrc(kRtxSsrc);
      ++fed;
      auto out = stream.OnPacket(*packet, now);
      if (out) {
        if (out->ssrc != Ssrc(kMediaSsrc)) abort();
        if (rtx) {
          if (out->payload_type != PayloadType(kMediaPt)) abort();
          if (out->payload.size() + 2 != packet->payload.size()) abort();
        } else if (*out != *packet) {
          abort();
        }
      }
    }
    const auto& k = stream.counters();
    if (k.packets_received + k.packets_duplicated > fed) abort();
    if (stream.nack_list_size() > 1000) abort();
    if (!config.nack_enabled && stream.nack_list_size() != 0) abort();

    if (op & 32) stream.SetRtt(step / 1000.0);
    if (op & 16) {
      SenderReport sr;
      sr.sender_ssrc = Ssrc(kMediaSsrc);
      sr.ntp_time = NtpTime(uint64_t{3900000000u} << 32 | uint64_t{step} << 24 | off);
      stream.OnSenderReport(sr, now);
    }
    if (op & 64) {
      auto deadline = stream.NextNackDeadline();
      if (!config.nack_enabled && deadline) abort();
      // A future deadline is honoured: polling then yields at least one number. (A past one
      // may belong to an entry that has expired meanwhile; PollNack drops it.)
      if (deadline && *deadline >= now) {
        now = *deadline;
        if (stream.PollNack(now).empty()) abort();
      }
    }
    if (op & 4) {
      auto nack = stream.PollNack(now);
      if (nack.size() > 1000) abort();
      if (!config.nack_enabled && !nack.empty()) abort();
      (void)BuildNackFcis(nack);
    }
    if (op & 8) {
      auto rb = stream.MakeReportBlock(now);
      if (rb && (rb->cumulative_lost < -0x800000 || rb->cumulative_lost > 0x7FFFFF)) abort();
      if (!rb && stream.counters().packets_received > 0) abort();
    }
  }
  return 0;
}
