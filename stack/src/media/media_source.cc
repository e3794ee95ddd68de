// Synthetic sources: generate, encode and packetize (media_pipeline.h).
#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "media/g711.h"
#include "media/media_internal.h"
#include "media/video_pattern.h"
#include "media/vp8_codec.h"
#include "media/vp8_rtp.h"

#ifdef REFRTC_HAVE_OPUS
#include <opus/opus.h>
#endif

namespace refrtc::media {
namespace {

using internal::CodecId;
using internal::FrameGrid;

constexpr double kPi = 3.14159265358979323846;

// Frame timing and the skip rule shared by all sources.
class SourceBase : public MediaSource {
 public:
  SourceBase(Instant start, int64_t num, int64_t den) : grid_(start, num, den) {}
  Instant NextDeadline() const override { return grid_.Deadline(next_); }
  std::vector<RtpPayload> Pull(Instant now) override {
    std::vector<RtpPayload> out;
    if (grid_.Deadline(next_) > now) return out;
    const uint64_t last = grid_.LastDue(now);
    // More than kMaxLag behind: skip every due frame but the newest (its timestamp still
    // follows the grid, so the receiver sees the gap in media time, not a burst).
    if (now - grid_.Deadline(next_) > internal::kMaxLag && last > next_) {
      Skip(last - next_);
      next_ = last;
    }
    for (; next_ <= last; ++next_) Emit(next_, &out);
    return out;
  }

 protected:
  // Generates, encodes and packetizes frame k (of the grid) into `out`.
  virtual void Emit(uint64_t k, std::vector<RtpPayload>* out) = 0;
  // `count` frames are skipped (not generated).
  virtual void Skip(uint64_t count) {}

 private:
  FrameGrid grid_;
  uint64_t next_ = 0;
};

// ---- audio ----

class AudioEncoder {
 public:
  virtual ~AudioEncoder() = default;
  virtual Bytes Encode(const std::vector<float>& pcm) = 0;
  virtual void SetMaxBitrate(std::optional<uint64_t> bps) { (void)bps; }
};

class G711Encoder : public AudioEncoder {
 public:
  explicit G711Encoder(bool ulaw) : ulaw_(ulaw) {}
  Bytes Encode(const std::vector<float>& pcm) override {
    Bytes out(pcm.size());
    for (size_t i = 0; i < pcm.size(); ++i) {
      double v = std::round(pcm[i] * 32767.0);
      if (v > 32767) v = 32767;
      if (v < -32768) v = -32768;
      int16_t s = static_cast<int16_t>(v);
      out[i] = ulaw_ ? LinearToUlaw(s) : LinearToAlaw(s);
    }
    return out;
  }

 private:
  bool ulaw_;
};

#ifdef REFRTC_HAVE_OPUS
// RFC 7587: the stream is signalled as opus/48000/2, but our content is mono, so we encode one
// channel; an Opus decoder of any channel count decodes a mono packet (RFC 7587 §3.4, RFC 6716
// §3.1: the TOC byte's s flag says mono).
class OpusAudioEncoder : public AudioEncoder {
 public:
  static absl::StatusOr<std::unique_ptr<OpusAudioEncoder>> Create(size_t max_payload) {
    int err = 0;
    OpusEncoder* enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_AUDIO, &err);
    if (err != OPUS_OK || !enc) return absl::InternalError(absl::StrCat("opus_encoder_create: ", opus_strerror(err)));
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(48000));
    opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(5));
    // useinbandfec=1 (RFC 7587 §6.1) is what we offer: carry LBRR data for the previous frame.
    opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
    opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(5));
    return std::unique_ptr<OpusAudioEncoder>(new OpusAudioEncoder(enc, std::min<size_t>(max_payload, 1275)));
  }
  ~OpusAudioEncoder() override { opus_encoder_destroy(enc_); }
  void SetMaxBitrate(std::optional<uint64_t> bps) override {
    // RFC 7587 §3.1.1: 6-510 kbit/s; our default is 48 kbit/s.
    uint64_t rate = std::min<uint64_t>(bps.value_or(48000), 48000);
    opus_encoder_ctl(enc_, OPUS_SET_BITRATE(static_cast<opus_int32>(std::max<uint64_t>(rate, 6000))));
  }
  Bytes Encode(const std::vector<float>& pcm) override {
    Bytes out(max_bytes_);  // RFC 6716 §3.2.1: at most 1275 bytes; libopus fits the rate to it
    opus_int32 n = opus_encode_float(enc_, pcm.data(), static_cast<int>(pcm.size()), out.data(),
                                     static_cast<opus_int32>(out.size()));
    if (n < 0) n = 0;
    out.resize(static_cast<size_t>(n));
    return out;
  }

 private:
  OpusAudioEncoder(OpusEncoder* enc, size_t max_bytes) : enc_(enc), max_bytes_(max_bytes) {}
  OpusEncoder* enc_;
  size_t max_bytes_;
};
#endif

class AudioSource : public SourceBase {
 public:
  // 20 ms frames (RFC 7587 §4.2 / RFC 3551 §4.2 default packetisation).
  AudioSource(Instant start, double hz, uint32_t rate, std::unique_ptr<AudioEncoder> encoder)
      : SourceBase(start, 1, 50), hz_(hz), rate_(rate), samples_(rate / 50), encoder_(std::move(encoder)) {}
  MediaKind kind() const override { return MediaKind::kAudio; }
  void RequestKeyframe() override {}
  void SetEnabled(bool enabled) override { enabled_ = enabled; }
  void SetMaxBitrate(std::optional<uint64_t> bps) override { encoder_->SetMaxBitrate(bps); }
  uint64_t frames_encoded() const override { return frames_; }
  uint64_t keyframes_encoded() const override { return 0; }
  uint32_t width() const override { return 0; }
  uint32_t height() const override { return 0; }

 protected:
  void Emit(uint64_t k, std::vector<RtpPayload>* out) override {
    std::vector<float> pcm(samples_, 0.0f);
    const double step = 2 * kPi * hz_ / rate_;
    for (uint32_t i = 0; i < samples_; ++i) {
      if (hz_ > 0 && enabled_) pcm[i] = static_cast<float>(0.3 * std::sin(phase_));
      phase_ += step;
    }
    phase_ = std::fmod(phase_, 2 * kPi);  // phase-continuous across frames
    RtpPayload p;
    p.payload = encoder_->Encode(pcm);
    if (p.payload.empty()) return;
    p.timestamp = static_cast<uint32_t>(k * samples_);
    p.frame_index = static_cast<uint32_t>(k);
    ++frames_;
    out->push_back(std::move(p));
  }
  void Skip(uint64_t count) override {
    phase_ = std::fmod(phase_ + 2 * kPi * hz_ / rate_ * static_cast<double>(count * samples_), 2 * kPi);
  }

 private:
  double hz_;  // 0: silence
  uint32_t rate_, samples_;
  std::unique_ptr<AudioEncoder> encoder_;
  double phase_ = 0;
  bool enabled_ = true;
  uint64_t frames_ = 0;
};

// ---- video ----

class VideoSourceBase : public SourceBase {
 public:
  VideoSourceBase(Instant start, size_t max_payload) : SourceBase(start, 1, 30), max_payload_(max_payload) {}
  MediaKind kind() const override { return MediaKind::kVideo; }
  void RequestKeyframe() override { keyframe_requested_ = true; }
  void SetEnabled(bool enabled) override { enabled_ = enabled; }
  uint64_t frames_encoded() const override { return frames_; }
  uint64_t keyframes_encoded() const override { return keyframes_; }
  uint32_t width() const override { return kPatternWidth; }
  uint32_t height() const override { return kPatternHeight; }

 protected:
  // RFC 7741 §4.1: the marker bit is set on the last packet of a frame; 3000 ticks per frame.
  void Packetize(uint64_t k, ByteView frame, bool keyframe, std::vector<RtpPayload>* out) {
    std::vector<Bytes> parts = PacketizeVp8(frame, picture_id_, max_payload_);
    if (parts.empty()) return;
    picture_id_ = (picture_id_ + 1) & 0x7FFF;  // RFC 7741 §4.2: 15-bit, wraps
    ++frames_;
    if (keyframe) ++keyframes_;
    for (size_t i = 0; i < parts.size(); ++i) {
      RtpPayload p;
      p.payload = std::move(parts[i]);
      p.marker = i + 1 == parts.size();
      p.timestamp = static_cast<uint32_t>(k * 3000);
      p.keyframe = keyframe;
      p.frame_index = static_cast<uint32_t>(k);
      out->push_back(std::move(p));
    }
  }

  size_t max_payload_;
  bool keyframe_requested_ = false;
  bool enabled_ = true;
  uint16_t picture_id_ = 0;
  uint64_t frames_ = 0, keyframes_ = 0;
};

#ifdef REFRTC_HAVE_VPX
class Vp8PatternSource : public VideoSourceBase {
 public:
  Vp8PatternSource(Instant start, size_t max_payload, std::unique_ptr<Vp8Encoder> encoder)
      : VideoSourceBase(start, max_payload), encoder_(std::move(encoder)) {}
  void SetMaxBitrate(std::optional<uint64_t> bps) override {
    // The payload rate stays under maxBitrate (webrtc-pc counts RTP payload); default 400 kbit/s.
    uint64_t kbps = bps ? *bps / 1000 : 400;
    (void)encoder_->SetBitrateKbps(static_cast<uint32_t>(std::min<uint64_t>(kbps, 400)));
  }

 protected:
  void Emit(uint64_t k, std::vector<RtpPayload>* out) override {
    if (enabled_) {
      DrawPattern(static_cast<uint32_t>(k), &picture_);
    } else {
      DrawBlack(&picture_);
    }
    bool force = keyframe_requested_ || frames_ == 0 || since_key_ >= internal::kKeyframeInterval;
    auto frame = encoder_->Encode(picture_, static_cast<int64_t>(k) * 3000, force);
    if (!frame.ok()) return;
    keyframe_requested_ = false;
    since_key_ = frame->keyframe ? 1 : since_key_ + 1;
    Packetize(k, frame->data, frame->keyframe, out);
  }

 private:
  std::unique_ptr<Vp8Encoder> encoder_;
  I420Picture picture_;
  uint32_t since_key_ = 0;
};
#endif

}  // namespace

namespace internal {
namespace {

#include "media/vp8_pattern_frames.inc"

// Frame i of the embedded stream: 0..kVp8PatternFrameCount-1 the pattern loop, then a black key
// frame and a black delta frame (for SetEnabled(false)).
ByteView EmbeddedFrame(uint32_t i) {
  uint32_t offset = 0;
  for (uint32_t j = 0; j < i; ++j) offset += kVp8PatternFrameSizes[j];
  return ByteView(kVp8PatternData + offset, kVp8PatternFrameSizes[i]);
}
constexpr uint32_t kBlackKey = kVp8PatternFrameCount;
constexpr uint32_t kBlackDelta = kVp8PatternFrameCount + 1;

class PreencodedPatternSource : public VideoSourceBase {
 public:
  using VideoSourceBase::VideoSourceBase;

 protected:
  void Emit(uint64_t k, std::vector<RtpPayload>* out) override {
    uint32_t frame;
    if (!enabled_) {
      // Black: the black key frame first (and on PLI), then its repeatable delta frame.
      frame = black_started_ && !keyframe_requested_ ? kBlackDelta : kBlackKey;
      black_started_ = true;
      pos_ = 0;  // re-enabling resumes at the pattern's key frame
    } else {
      black_started_ = false;
      if (keyframe_requested_) pos_ = 0;  // frame 0 is the loop's only key frame
      frame = pos_;
      pos_ = (pos_ + 1) % kVp8PatternFrameCount;
    }
    keyframe_requested_ = false;
    // Skipped grid slots (Pull far behind) do not advance pos_: the loop stays decodable.
    Packetize(k, EmbeddedFrame(frame), frame == 0 || frame == kBlackKey, out);
  }

 private:
  uint32_t pos_ = 0;
  bool black_started_ = false;
};

}  // namespace

std::unique_ptr<MediaSource> CreatePreencodedPatternSource(Instant start, size_t max_payload) {
  return std::make_unique<PreencodedPatternSource>(start, max_payload);
}

uint32_t PreencodedPatternFrameCount() { return kVp8PatternFrameCount; }
ByteView PreencodedPatternFrame(uint32_t i) {
  if (i > kBlackDelta) return ByteView();
  return EmbeddedFrame(i);
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<MediaSource>> MediaSource::Create(absl::string_view spec, const CodecSpec& codec,
                                                                 Instant start, size_t max_payload) {
  auto kind = SourceKind(spec);
  if (!kind.ok()) return kind.status();
  auto id = internal::IdentifyCodec(codec);
  if (!id.ok()) return id.status();
  if (*id == CodecId::kH264) {
    // SupportedVideoCodecs: H.264 is receive-only (can_encode false), this build has no encoder.
    return absl::UnimplementedError("H264 is receive-only in refrtc (passthrough): no H.264 encoder to send it");
  }
  if (*kind != internal::KindOf(*id)) {
    return absl::InvalidArgumentError(absl::StrCat("source ", spec, " does not match codec ", codec.name));
  }
  if (max_payload < 64) return absl::InvalidArgumentError("max_payload must be at least 64 bytes");
  if (*kind == MediaKind::kAudio) {
    double hz = 0;
    if (spec != "silence" && !absl::SimpleAtod(spec.substr(5), &hz)) hz = 0;  // validated by SourceKind
    std::unique_ptr<AudioEncoder> encoder;
    if (*id == CodecId::kOpus) {
#ifdef REFRTC_HAVE_OPUS
      auto enc = OpusAudioEncoder::Create(max_payload);
      if (!enc.ok()) return enc.status();
      encoder = std::move(*enc);
#endif
    } else {
      encoder = std::make_unique<G711Encoder>(*id == CodecId::kPcmu);
    }
    if (!encoder) return absl::NotFoundError("no encoder for " + codec.name);
    return std::unique_ptr<MediaSource>(
        std::make_unique<AudioSource>(start, hz, internal::ClockRateOf(*id), std::move(encoder)));
  }
#ifdef REFRTC_HAVE_VPX
  Vp8EncoderConfig config;
  auto encoder = Vp8Encoder::Create(config);
  if (!encoder.ok()) return encoder.status();
  return std::unique_ptr<MediaSource>(std::make_unique<Vp8PatternSource>(start, max_payload, std::move(*encoder)));
#else
  return internal::CreatePreencodedPatternSource(start, max_payload);
#endif
}

}  // namespace refrtc::media
