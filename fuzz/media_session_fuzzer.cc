// Fuzzes the RTP half of a peer connection (api/media_session.h) with what arrives after SRTP:
// arbitrary RTP and RTCP packets (BUNDLE demux by MID/SSRC/payload type, RTX unwrapping, VP8/Opus/
// PCMU sinks, SR/RR/NACK/PLI/FIR handling with retransmissions) interleaved with timer ticks, on a
// session configured like a negotiated audio + video call. Nothing may crash or hang, and the
// session's outputs must stay bounded.
#include <cstdint>
#include <cstdlib>

#include "api/media_session.h"
#include "rtp/rtp_types.h"

using namespace refrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Random rng(data[0]);
  Instant now = Instant{} + std::chrono::seconds(10);
  MediaSession session(rng, rtp::NtpClock(now, rtp::NtpTime(3900000000u, 0u)));
  auto audio = MediaSession::NewDetachedTransceiver("audio", "tone:440");
  auto video = MediaSession::NewDetachedTransceiver("video", (data[1] & 1) ? "pattern" : "");
  NegotiatedRtp a;
  a.mid = "0";
  a.kind = "audio";
  a.send = a.recv = true;
  a.codecs = {sdp::RtpCodec{111, "opus", 48000, 2, "minptime=10;useinbandfec=1", {}}, sdp::RtpCodec{0, "PCMU", 8000, 1, "", {}},
              // RFC 4733 telephone-events: received ones go to the DTMF decoder.
              sdp::RtpCodec{110, "telephone-event", 48000, 1, "0-15", {}},
              sdp::RtpCodec{126, "telephone-event", 8000, 1, "0-15", {}}};
  a.mid_extension_id = 4;
  a.local_ssrc = 1111;
  a.remote_ssrc = 2222;
  a.cname = "fuzz";
  NegotiatedRtp v = a;
  v.mid = "1";
  v.kind = "video";
  v.codecs = {sdp::RtpCodec{96, "VP8", 90000, 1, "", {"nack", "nack pli", "ccm fir"}},
              sdp::RtpCodec{97, "rtx", 90000, 1, "apt=96", {}}};
  v.local_ssrc = 3333;
  v.local_rtx_ssrc = 4444;
  v.remote_ssrc = 5555;
  v.remote_rtx_ssrc = (data[1] & 2) ? std::optional<uint32_t>(6666) : std::nullopt;
  session.Configure(audio.get(), a, now);
  session.Configure(video.get(), v, now);
  session.SetTransportReady(true, now);
  if (data[1] & 4) session.StartDtmfTone(audio.get(), '5', 40 + data[1] * 20, now);  // RFC 4733 events sent
  // Records: [op][len hi][len lo][bytes...]; op 0 = RTP, 1 = RTCP, 2 = advance time by len ms.
  size_t i = 2;
  size_t outputs = 0;
  while (i + 3 <= size) {
    uint8_t op = data[i] % 3;
    size_t len = (size_t(data[i + 1]) << 8 | data[i + 2]) % 1500;
    i += 3;
    if (op == 2) {
      now += std::chrono::milliseconds(len % 200);
      session.HandleTimeout(now);
    } else {
      len = std::min(len, size - i);
      ByteView packet(data + i, len);
      i += len;
      if (op == 0) session.OnRtp(packet, now);
      else session.OnRtcp(packet, now);
    }
    while (session.PollOutgoing()) {
      if (++outputs > 100000) abort();  // unbounded output from bounded input
    }
    while (session.PollReceivedDtmf()) {
    }
    auto deadline = session.PollTimeout();
    (void)deadline;
  }
  (void)session.Stats();
  (void)session.SinkInfo(audio.get());
  (void)session.SinkInfo(video.get());
  return 0;
}
