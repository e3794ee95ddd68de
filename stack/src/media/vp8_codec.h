// Thin wrappers over libvpx's VP8 encoder (builds with REFRTC_HAVE_VPX) and decoder (builds with
// REFRTC_HAVE_VPX_DECODER: every native build with libvpx, and the WASM build, whose libvpx is
// decoder-only).
#pragma once
#if defined(REFRTC_HAVE_VPX) || defined(REFRTC_HAVE_VPX_DECODER)
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "media/video_pattern.h"
#include "util/bytes.h"

namespace refrtc::media {

#ifdef REFRTC_HAVE_VPX
struct Vp8EncoderConfig {
  uint32_t width = kPatternWidth, height = kPatternHeight;
  uint32_t bitrate_kbps = 400;
  // Frames are timestamped in 1/90000 s (the RTP clock, RFC 7741 §4.1).
  uint32_t frame_duration_ticks = 3000;
};

struct EncodedVp8Frame {
  Bytes data;
  bool keyframe = false;
};

class Vp8Encoder {
 public:
  static absl::StatusOr<std::unique_ptr<Vp8Encoder>> Create(const Vp8EncoderConfig& config);
  ~Vp8Encoder();
  // Encodes one picture (realtime deadline, error resilient, one-pass CBR, no frame dropping).
  absl::StatusOr<EncodedVp8Frame> Encode(I420Picture& picture, int64_t pts, bool force_keyframe);
  // Retargets the CBR rate control (vpx_codec_enc_config_set), in kbit/s (at least 30).
  absl::Status SetBitrateKbps(uint32_t kbps);

 private:
  Vp8Encoder() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
#endif  // REFRTC_HAVE_VPX

#ifdef REFRTC_HAVE_VPX_DECODER
class Vp8Decoder {
 public:
  static absl::StatusOr<std::unique_ptr<Vp8Decoder>> Create();
  ~Vp8Decoder();
  // Decodes one complete frame; true when libvpx produced a picture.
  bool Decode(ByteView frame);

 private:
  Vp8Decoder() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
#endif  // REFRTC_HAVE_VPX_DECODER

}  // namespace refrtc::media
#endif  // REFRTC_HAVE_VPX || REFRTC_HAVE_VPX_DECODER
