// Feeds arbitrary RTP payload sequences into the media sinks (VP8 depacketizer + frame assembly +
// libvpx where present, and the audio jitter buffer + PCMU/opus decoders).
// Input: records of [seq_delta:1][ts_delta:1][flags:1][len:1][payload:len]; flags bit 0 = marker,
// bits 1-2 = which sink(s) get the record, bits 3-7 = arrival time step in 8 ms units.
#include <cstddef>
#include <cstdint>

#include "media/media_internal.h"
#include "media/media_pipeline.h"
#include "rtp_records.h"

using namespace refrtc;
using namespace refrtc::media;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto vp8 = internal::CreateVp8Sink(true);
  auto vp8_headers = internal::CreateVp8Sink(false);
  auto pcmu = MediaSink::Create(CodecSpec{"PCMU", 8000, 1, ""});
  auto opus = MediaSink::Create(CodecSpec{"opus", 48000, 2, ""});  // NotFound without libopus
  fuzz::RtpRecordReader reader(data, size);
  fuzz::RtpRecord r;
  while (reader.Next(r)) {
    auto feed = [&r](MediaSink& sink) { sink.OnRtp(r.seq, r.timestamp, r.marker(), r.payload, r.now); };
    switch ((r.flags >> 1) & 3) {
      case 0:
        feed(*vp8);
        feed(*vp8_headers);
        break;
      case 1:
        if (pcmu.ok()) feed(**pcmu);
        break;
      case 2:
        if (opus.ok()) feed(**opus);
        break;
      default:
        feed(*vp8);
        if (pcmu.ok()) feed(**pcmu);
        break;
    }
    vp8->TakeKeyframeRequest();
  }
  vp8->Info();
  vp8_headers->Info();
  // Info() of an audio sink runs a 64k-point FFT over the last second, slow under the sanitizers;
  // its control flow hardly depends on the data, so it runs for one input in eight.
  if (size % 8 == 0) {
    if (pcmu.ok()) (*pcmu)->Info();
    if (opus.ok()) (*opus)->Info();
  }
  return 0;
}
