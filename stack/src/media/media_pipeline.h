// Synthetic media for tests and interop without devices (issue D): sources that generate, encode
// and packetize, sinks that depacketize, decode and measure. Sans-IO: time comes in as Instant.
//
// Contract between the RTP layer (api/, which adds RTP headers, SSRC, sequence numbers, the
// random timestamp base, header extensions and SRTP) and the codecs here (which only see
// payloads). Sources:
//   "tone:FREQ"  sine of FREQ Hz, amplitude 0.3 of full scale (DRIVER_PROTOCOL.md), mono
//   "silence"    zeros
//   "pattern"    320x240 video at 30 fps with moving content (never a static picture)
// Codecs (names as in SDP a=rtpmap, case-insensitive): "opus" (48000/2, 20 ms frames, mono
// content), "PCMU" and "PCMA" (8000, 20 ms), "VP8" (90000, RFC 7741 payload descriptor with a
// 15-bit PictureID), "H264" (90000, receive-only: see SupportedVideoCodecs). A codec this build
// lacks (e.g. no libopus/libvpx) is NotFoundError/Unimplemented from Create and is not listed by
// SupportedAudioCodecs/SupportedVideoCodecs.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "util/bytes.h"
#include "util/time.h"

namespace refrtc::media {

enum class MediaKind { kAudio, kVideo };

struct CodecSpec {
  std::string name;          // "opus", "PCMU", "PCMA", "VP8", "H264"
  uint32_t clock_rate = 0;   // RTP clock rate (48000, 8000, 90000)
  uint8_t channels = 1;      // a=rtpmap encoding parameters (opus: 2)
  std::string fmtp;          // a=fmtp parameters as negotiated, e.g. "minptime=10;useinbandfec=1"
  bool can_encode = true;    // false: receive-only (H264 passthrough)
};

// What this build can receive, in preference order (opus first; VP8 then H264), and whether it
// can also send it (can_encode). Every codec listed has a MediaSink; only those with can_encode
// have a MediaSource.
//   H264 (RFC 6184; 90000, fmtp "level-asymmetry-allowed=1;packetization-mode=1;
//   profile-level-id=42e01f") is receive-only ("passthrough"): no H.264 encoder or decoder is
//   available, so MediaSource::Create returns UnimplementedError for it, and its sink
//   depacketizes (single NAL unit, STAP-A and FU-A packets: packetization-mode 0 and 1), assembles
//   access units, counts frames_received / keyframes_received (IDR) / frames_dropped, takes
//   width/height from the key frame's SPS and requests key frames like the VP8 sink, with
//   frames_decoded always 0. MediaSink::Create rejects packetization-mode=2 (Unimplemented).
std::vector<CodecSpec> SupportedAudioCodecs();
std::vector<CodecSpec> SupportedVideoCodecs();

// The kind a source spec produces; InvalidArgument for an unknown spec ("tone:abc", "foo").
absl::StatusOr<MediaKind> SourceKind(absl::string_view spec);

// One RTP payload ready to be put behind an RTP header.
struct RtpPayload {
  Bytes payload;
  bool marker = false;           // RFC 3551 (audio: first packet after silence; we never set it
                                 // for continuous audio) / RFC 7741 §4.1 (video: last packet of a frame)
  uint32_t timestamp = 0;        // in codec clock units, from 0 at the source's first frame
  bool keyframe = false;         // video: part of a key frame
  uint32_t frame_index = 0;      // which frame (0, 1, 2, ...) this payload belongs to
};

class MediaSource {
 public:
  // `start` is when the first frame is due; `max_payload` bounds every payload's size (video
  // frames are split to fit; audio frames always fit in 1200 bytes).
  static absl::StatusOr<std::unique_ptr<MediaSource>> Create(absl::string_view spec, const CodecSpec& codec,
                                                             Instant start, size_t max_payload = 1200);
  virtual ~MediaSource() = default;
  virtual MediaKind kind() const = 0;
  // When the next frame is due (start + k * frame interval).
  virtual Instant NextDeadline() const = 0;
  // Generates, encodes and packetizes every frame due at `now`, in order. When `now` is far
  // behind (more than ~200 ms of frames due), the older frames are skipped (their timestamps are
  // still advanced) so a stalled host never bursts.
  virtual std::vector<RtpPayload> Pull(Instant now) = 0;
  // PLI / FIR (RFC 4585 §6.3.1, RFC 5104 §4.3.1): the next video frame is a key frame.
  virtual void RequestKeyframe() = 0;
  // MediaStreamTrack.enabled = false: audio sends silence, video black frames (W3C
  // mediacapture-main §4.3.1).
  virtual void SetEnabled(bool enabled) = 0;
  // RTCRtpEncodingParameters.maxBitrate (webrtc-pc §5.2.1), bits per second; nullopt = the source's
  // default. The live VP8 and Opus encoders retarget; G.711 and pre-encoded frames have a fixed rate.
  virtual void SetMaxBitrate(std::optional<uint64_t> bps) { (void)bps; }
  virtual uint64_t frames_encoded() const = 0;
  virtual uint64_t keyframes_encoded() const = 0;
  virtual uint32_t width() const = 0;   // video, else 0
  virtual uint32_t height() const = 0;
};

// What a sink measured (DRIVER_PROTOCOL.md getTrackInfo).
struct TrackInfo {
  MediaKind kind = MediaKind::kAudio;
  // audio
  uint64_t samples_received = 0;        // decoded samples (per channel), mono after downmix
  uint32_t sample_rate = 0;             // of the decoded audio
  std::optional<double> dominant_hz;    // peak of a Hann-windowed spectrum of the last second of
                                        // decoded mono audio; nullopt when silent (rms < 1e-3)
  double rms = 0;                       // of the last second, full scale = 1.0
  uint64_t concealed_samples = 0;       // inserted for lost packets (webrtc-stats concealedSamples)
  // video
  uint64_t frames_received = 0;         // complete frames assembled (and decoded, where a decoder exists)
  uint64_t frames_decoded = 0;          // decoded by libvpx (0 in builds without its VP8 decoder)
  uint64_t keyframes_received = 0;
  uint64_t frames_dropped = 0;          // incomplete frames given up on
  uint32_t width = 0, height = 0;       // of the last key frame
};

class MediaSink {
 public:
  static absl::StatusOr<std::unique_ptr<MediaSink>> Create(const CodecSpec& codec);
  virtual ~MediaSink() = default;
  virtual MediaKind kind() const = 0;
  // One received RTP packet (after SRTP), in arrival order: packets may be lost, reordered or
  // duplicated. Malformed payloads are counted and dropped, never crash.
  virtual void OnRtp(uint16_t sequence_number, uint32_t timestamp, bool marker, ByteView payload,
                     Instant now) = 0;
  // Video: true once after the sink found it cannot decode without a key frame (a gap in a
  // frame, or no key frame yet after 500 ms): the RTP layer sends a PLI. Resets on read.
  virtual bool TakeKeyframeRequest() = 0;
  // Video: NACK/RTX was negotiated, so a gap is waited on (up to 400 ms) rather than given up as
  // soon as a later frame is complete. Audio ignores it.
  virtual void SetRetransmissionsExpected(bool expected) { (void)expected; }
  virtual TrackInfo Info() const = 0;
  virtual uint64_t malformed_payloads() const = 0;
};

}  // namespace refrtc::media
