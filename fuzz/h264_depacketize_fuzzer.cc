// Feeds arbitrary RTP payload sequences into the H.264 passthrough sink (RFC 6184
// depacketization, access unit assembly, SPS/PPS/slice header parsing) and every payload, as a
// NAL unit, into the H.264 syntax parsers directly.
// Input: records of [seq_delta:1][ts_delta:1][flags:1][len:1][payload:len]; flags bit 0 = marker,
// bit 1 = toggle SetRetransmissionsExpected, bit 2 = also run AssembleH264AccessUnit over the
// payloads since the last such record, bits 3-7 = arrival time step in 8 ms units.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "media/h264_rtp.h"
#include "media/media_internal.h"
#include "media/media_pipeline.h"
#include "rtp_records.h"

using namespace refrtc;
using namespace refrtc::media;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto sink = internal::CreateH264Sink();
  bool rtx = false;
  std::vector<ByteView> pending;
  std::optional<H264Sps> sps;
  fuzz::RtpRecordReader reader(data, size);
  fuzz::RtpRecord r;
  while (reader.Next(r)) {
    const uint16_t seq = r.seq;
    const uint32_t ts = r.timestamp;
    const uint8_t flags = r.flags;
    const ByteView payload = r.payload;
    const size_t len = payload.size();
    const Instant now = r.now;
    if (flags & 2) {
      rtx = !rtx;
      sink->SetRetransmissionsExpected(rtx);
    }
    sink->OnRtp(seq, ts, flags & 1, payload, now);
    sink->TakeKeyframeRequest();

    // The parsers on their own, with the payload taken as one NAL unit.
    (void)ParseH264Payload(payload);
    if (auto s = ParseH264Sps(payload); s.ok()) sps = *s;
    (void)ParseH264PpsIds(payload);
    (void)ParseH264SliceStart(payload);
    if (sps) (void)ParseH264FrameNum(payload, *sps);
    pending.push_back(payload);
    if (flags & 4) {
      auto au = AssembleH264AccessUnit(pending);
      if (au.ok()) {
        for (const Bytes& nal : *au) {
          (void)ParseH264Sps(nal);
          (void)ParseH264SliceStart(nal);
        }
        // Packetizing the reassembled NAL units again must give the same NAL units back.
        auto again = PacketizeH264(*au, 64 + len);
        std::vector<ByteView> views(again.begin(), again.end());
        auto round = AssembleH264AccessUnit(views);
        if (!round.ok() || *round != *au) __builtin_trap();
      }
      pending.clear();
    }
  }
  sink->Info();
  return 0;
}
