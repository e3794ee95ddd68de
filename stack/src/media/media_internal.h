// Internals of the media module shared by its sources, sinks, tests and tools (not for api/).
#pragma once
#include <cstdint>
#include <memory>

#include "media/media_pipeline.h"

namespace refrtc::media::internal {

enum class CodecId { kOpus, kPcmu, kPcma, kVp8, kH264 };
// Identifies a negotiated codec (name case-insensitive, RFC 4855 §3); NotFoundError when unknown
// or not available in this build, InvalidArgument when its clock rate is not the codec's.
absl::StatusOr<CodecId> IdentifyCodec(const CodecSpec& codec);
MediaKind KindOf(CodecId id);
// The RTP clock rate of the codec (RFC 7587 §4.1 opus 48000; RFC 3551 PCMU/PCMA 8000; RFC 7741 /
// RFC 6184 §8.2.1 90000).
uint32_t ClockRateOf(CodecId id);

// Frame timing: frame k is due at start + k * interval, with interval = num/den seconds, computed
// exactly on the nanosecond grid (20 ms audio; 1/30 s video, i.e. 3000 ticks of 90 kHz).
class FrameGrid {
 public:
  FrameGrid(Instant start, int64_t num, int64_t den) : start_(start), num_(num), den_(den) {}
  Instant Deadline(uint64_t k) const;
  // The largest k with Deadline(k) <= now (now >= start).
  uint64_t LastDue(Instant now) const;
  Instant start() const { return start_; }

 private:
  Instant start_;
  int64_t num_, den_;
};

// How far behind Pull may be before older frames are skipped (media_pipeline.h).
inline constexpr Duration kMaxLag = std::chrono::milliseconds(200);
// Video: a key frame at least every this many frames (3 s at 30 fps).
inline constexpr uint32_t kKeyframeInterval = 90;

// The "pattern" source from the VP8 frames embedded in vp8_pattern_frames.inc (60 frames, a 2 s
// loop starting with the only key frame). Builds without the libvpx encoder (WASM: its libvpx is
// decoder-only) use it for "pattern"; native builds expose it here so that its path is tested too.
std::unique_ptr<MediaSource> CreatePreencodedPatternSource(Instant start, size_t max_payload);
// A VP8 sink; without `use_decoder` it only assembles frames and parses key frame headers (the
// behaviour of builds without the libvpx decoder, REFRTC_HAVE_VPX_DECODER).
std::unique_ptr<MediaSink> CreateVp8Sink(bool use_decoder);
// The H.264 passthrough sink (h264_sink.cc): assembles access units, counts frames and key frames
// (IDR) and reads the size from the SPS; never decodes (frames_decoded stays 0).
std::unique_ptr<MediaSink> CreateH264Sink();

// The embedded frames (for tests): count of pattern frames, and frame i's bytes.
uint32_t PreencodedPatternFrameCount();
ByteView PreencodedPatternFrame(uint32_t i);

}  // namespace refrtc::media::internal
