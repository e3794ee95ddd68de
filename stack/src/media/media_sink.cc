// Sinks: reorder, depacketize, decode and measure (media_pipeline.h).
#include <algorithm>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "media/audio_analysis.h"
#include "media/g711.h"
#include "media/media_internal.h"
#include "media/video_frame_buffer.h"
#include "media/vp8_codec.h"
#include "media/vp8_rtp.h"

#ifdef REFRTC_HAVE_OPUS
#include <opus/opus.h>
#endif

namespace refrtc::media {
namespace {

using internal::CodecId;

using internal::kHoldTime;
using internal::kMaxHeldPackets;
using internal::SeqUnwrapper;

// ---- audio ----

class AudioDecoder {
 public:
  virtual ~AudioDecoder() = default;
  // Decodes one payload into mono samples at the output rate; false when malformed.
  virtual bool Decode(ByteView payload, std::vector<float>* out) = 0;
  // Conceals `samples` missing samples; `next` is the packet after the gap (for FEC), if known.
  virtual void Conceal(size_t samples, ByteView next, std::vector<float>* out) = 0;
};

class G711Decoder : public AudioDecoder {
 public:
  explicit G711Decoder(bool ulaw) : ulaw_(ulaw) {}
  bool Decode(ByteView payload, std::vector<float>* out) override {
    out->resize(payload.size());
    for (size_t i = 0; i < payload.size(); ++i) {
      (*out)[i] = static_cast<float>((ulaw_ ? UlawToLinear(payload[i]) : AlawToLinear(payload[i])) / 32768.0);
    }
    return true;
  }
  // No PLC in G.711 itself (its Appendix I is optional): silence.
  void Conceal(size_t samples, ByteView, std::vector<float>* out) override { out->assign(samples, 0.0f); }

 private:
  bool ulaw_;
};

#ifdef REFRTC_HAVE_OPUS
class OpusAudioDecoder : public AudioDecoder {
 public:
  static std::unique_ptr<OpusAudioDecoder> Create() {
    int err = 0;
    // One output channel: libopus downmixes a stereo stream itself (RFC 7587 §3.4 lets a receiver
    // play a stereo stream as mono).
    OpusDecoder* dec = opus_decoder_create(48000, 1, &err);
    if (err != OPUS_OK || !dec) return nullptr;
    return std::unique_ptr<OpusAudioDecoder>(new OpusAudioDecoder(dec));
  }
  ~OpusAudioDecoder() override { opus_decoder_destroy(dec_); }
  bool Decode(ByteView payload, std::vector<float>* out) override {
    out->resize(kMaxFrame);
    int n = opus_decode_float(dec_, payload.data(), static_cast<opus_int32>(payload.size()), out->data(),
                              kMaxFrame, 0);
    if (n < 0) {
      out->clear();
      return false;
    }
    out->resize(static_cast<size_t>(n));
    return true;
  }
  void Conceal(size_t samples, ByteView next, std::vector<float>* out) override {
    out->clear();
    // The last 2.5 ms-multiple chunk can come from the next packet's in-band FEC (RFC 6716
    // §2.1.7, useinbandfec); the rest is libopus packet loss concealment.
    size_t remaining = samples - samples % 120;
    size_t fec = 0;
    if (!next.empty()) {
      int next_samples = opus_packet_get_nb_samples(next.data(), static_cast<opus_int32>(next.size()), 48000);
      if (next_samples > 0 && static_cast<size_t>(next_samples) <= remaining) fec = static_cast<size_t>(next_samples);
    }
    std::vector<float> chunk(kMaxFrame);
    while (remaining > fec) {
      int n = static_cast<int>(std::min<size_t>(remaining - fec, 960));
      int got = opus_decode_float(dec_, nullptr, 0, chunk.data(), n, 0);
      if (got <= 0) break;
      out->insert(out->end(), chunk.begin(), chunk.begin() + got);
      remaining -= static_cast<size_t>(got);
    }
    if (fec > 0) {
      int got = opus_decode_float(dec_, next.data(), static_cast<opus_int32>(next.size()), chunk.data(),
                                  static_cast<int>(fec), 1);
      if (got > 0) out->insert(out->end(), chunk.begin(), chunk.begin() + got);
    }
    out->resize(samples, 0.0f);  // any remainder below 2.5 ms, or a failed concealment: zeros
  }

 private:
  static constexpr int kMaxFrame = 5760;  // 120 ms at 48 kHz, RFC 6716 §2
  explicit OpusAudioDecoder(OpusDecoder* dec) : dec_(dec) {}
  OpusDecoder* dec_;
};
#endif

class AudioSink : public MediaSink {
 public:
  AudioSink(uint32_t rate, std::unique_ptr<AudioDecoder> decoder)
      : rate_(rate), decoder_(std::move(decoder)), history_(rate, 0.0f) {}
  MediaKind kind() const override { return MediaKind::kAudio; }
  bool TakeKeyframeRequest() override { return false; }
  uint64_t malformed_payloads() const override { return malformed_; }

  // An empty payload (a padding-only packet, RFC 3550 §5.1, once the RTP layer removed the
  // padding) only fills its sequence number.
  void OnRtp(uint16_t seq, uint32_t timestamp, bool marker, ByteView payload, Instant now) override {
    int64_t ext = unwrapper_.Unwrap(seq);
    if (next_seq_ && ext < *next_seq_) return;   // late (already concealed) or a duplicate
    if (buffer_.count(ext)) return;              // duplicate
    if (!next_seq_) next_seq_ = ext;
    buffer_[ext] = Held{timestamp, Bytes(payload.begin(), payload.end()), now};
    Drain(now);
  }

  TrackInfo Info() const override {
    TrackInfo info;
    info.kind = MediaKind::kAudio;
    info.samples_received = samples_received_;
    info.sample_rate = rate_;
    info.concealed_samples = concealed_;
    // The spectrum (a 64k-point FFT at 48 kHz) is recomputed after every 100 ms of new audio, so
    // Info() stays cheap when polled per packet; rms/dominant_hz lag by less than 100 ms.
    if (!measured_ || samples_received_ - measured_at_ >= rate_ / 10) {
      std::vector<float> last_second;
      last_second.reserve(filled_);
      for (size_t i = 0; i < filled_; ++i) last_second.push_back(history_[(write_ + rate_ - filled_ + i) % rate_]);
      measured_ = MeasureAudio(last_second, rate_);
      measured_at_ = samples_received_;
    }
    info.rms = measured_->rms;
    info.dominant_hz = measured_->dominant_hz;
    return info;
  }

 private:
  struct Held {
    uint32_t timestamp;
    Bytes payload;
    Instant arrival;
  };

  void Drain(Instant now) {
    while (!buffer_.empty()) {
      auto it = buffer_.begin();
      if (it->first == *next_seq_) {
        Play(it->second);
        buffer_.erase(it);
        ++*next_seq_;
        continue;
      }
      // A gap: wait for the missing packets while the held ones are younger than kHoldTime
      // (by arrival and by media time), then conceal the gap.
      Instant oldest = it->second.arrival;
      for (const auto& [s, p] : buffer_) oldest = std::min(oldest, p.arrival);
      bool give_up = now - oldest >= kHoldTime || buffer_.size() > kMaxHeldPackets;
      if (!give_up && expected_ts_) {
        int64_t span = static_cast<int32_t>(buffer_.rbegin()->second.timestamp - *expected_ts_);
        give_up = span * 1000 >= static_cast<int64_t>(rate_) * ToMillis(kHoldTime);
      }
      if (!give_up) break;
      ConcealGap(it->first - *next_seq_, it->second);
      *next_seq_ = it->first;
    }
  }

  void ConcealGap(int64_t lost_packets, const Held& next) {
    int64_t missing = -1;
    if (expected_ts_) missing = static_cast<int32_t>(next.timestamp - *expected_ts_);
    // The timestamp gap is what is missing; without a usable one, count lost packets.
    if (missing < 0 || missing > rate_) missing = lost_packets * static_cast<int64_t>(last_frame_samples_);
    missing = std::min<int64_t>(missing, rate_);  // never more than a second
    if (missing <= 0) return;
    std::vector<float> pcm;
    decoder_->Conceal(static_cast<size_t>(missing), next.payload, &pcm);
    concealed_ += pcm.size();
    Append(pcm);
  }

  void Play(const Held& p) {
    if (p.payload.empty()) return;  // padding filler
    std::vector<float> pcm;
    if (!decoder_->Decode(p.payload, &pcm)) {
      ++malformed_;
      if (last_frame_samples_ > 0) {
        decoder_->Conceal(last_frame_samples_, ByteView(), &pcm);
        concealed_ += pcm.size();
      }
    } else if (!pcm.empty()) {
      last_frame_samples_ = static_cast<uint32_t>(pcm.size());
    }
    // Both codecs' output rate equals their RTP clock rate, so samples are timestamp units.
    expected_ts_ = p.timestamp + static_cast<uint32_t>(pcm.size());
    Append(pcm);
  }

  void Append(const std::vector<float>& pcm) {
    samples_received_ += pcm.size();
    for (float v : pcm) {  // ring buffer of the last second
      history_[write_] = v;
      write_ = (write_ + 1) % rate_;
    }
    filled_ = std::min<size_t>(filled_ + pcm.size(), rate_);
  }

  uint32_t rate_;
  std::unique_ptr<AudioDecoder> decoder_;
  SeqUnwrapper unwrapper_;
  std::map<int64_t, Held> buffer_;
  std::optional<int64_t> next_seq_;
  std::optional<uint32_t> expected_ts_;
  uint32_t last_frame_samples_ = 0;
  std::vector<float> history_;  // ring buffer of `rate_` samples
  size_t write_ = 0, filled_ = 0;
  uint64_t samples_received_ = 0, concealed_ = 0, malformed_ = 0;
  mutable std::optional<AudioMeasurement> measured_;
  mutable uint64_t measured_at_ = 0;
};

// ---- video ----

#ifdef REFRTC_HAVE_VPX_DECODER
// Decoding is only attempted for pictures up to this size (bounds memory on hostile input).
constexpr uint32_t kMaxDecodePixels = 4096 * 2304;
#endif

class Vp8Sink : public internal::VideoFrameBufferSink {
 public:
  explicit Vp8Sink(bool use_decoder) {
#ifdef REFRTC_HAVE_VPX_DECODER
    if (use_decoder) {
      auto dec = Vp8Decoder::Create();
      if (dec.ok()) decoder_ = std::move(*dec);
    }
#endif
  }

  // An empty payload is a padding-only packet (libwebrtc probes bandwidth with them on the media
  // SSRC when RTX is not negotiated): it only fills its sequence number, so it is not a loss.
  void OnRtp(uint16_t seq, uint32_t timestamp, bool marker, ByteView payload, Instant now) override {
    auto desc = payload.empty() ? absl::StatusOr<Vp8Descriptor>(Vp8Descriptor()) : ParseVp8Descriptor(payload);
    if (!desc.ok()) {
      ++malformed_;
      return;
    }
    internal::HeldVideoPacket h;
    h.timestamp = timestamp;
    h.marker = marker;
    h.filler = payload.empty();
    h.start = !h.filler && desc->starts_frame();  // S=1 and PID=0 (RFC 7741 §4.2)
    if (!h.filler) h.data.assign(payload.begin() + desc->header_size, payload.end());
    h.picture_id = desc->picture_id;
    h.picture_id_15bit = desc->picture_id_15bit;
    Hold(seq, std::move(h), now);
  }

 private:
  void Process(Instant now) override {
    while (!buffer_.empty()) {
      if (SkipFrontFiller()) continue;
      Iter front = buffer_.begin();
      if (!next_seq_ && front->second.start) next_seq_ = front->first;  // first frame start
      if (next_seq_ && front->first == *next_seq_) {
        if (!front->second.start) {
          // The continuation of a frame whose first packet is gone.
          DropFrontFrame();
          continue;
        }
        if (gap_unverified_ && !FollowsLastFrame(front->second)) {
          OnFrameLost();  // packets of at least one frame were in the gap
          continue;
        }
        gap_unverified_ = false;
        if (auto end = FrameEnd(front)) {
          Deliver(front, std::next(*end));
          continue;
        }
      }
      // Incomplete front frame, or a gap before it.
      if (KeepWaiting(now)) break;
      GiveUp();
    }
  }

  // RFC 7741 §4.2: consecutive PictureIDs mean no frame was lost between the two.
  bool FollowsLastFrame(const internal::HeldVideoPacket& h) const {
    if (!last_picture_id_ || !h.picture_id) return false;
    const uint16_t mask = h.picture_id_15bit ? 0x7FFF : 0x7F;
    return *h.picture_id == ((*last_picture_id_ + 1) & mask);
  }

  void Deliver(Iter begin, Iter end) {
    Bytes frame;
    for (Iter it = begin; it != end; ++it) frame.insert(frame.end(), it->second.data.begin(), it->second.data.end());
    last_picture_id_ = begin->second.picture_id;
    Consume(begin, end);

    auto header = ParseVp8FrameHeader(frame);
    if (!header) {
      ++malformed_;
      OnFrameLost();
      return;
    }
    if (header->keyframe) {
      OnKeyframe(header->width, header->height);
    } else if (waiting_for_key_) {
      ++frames_dropped_;  // undecodable until the next key frame
      return;
    }
#ifdef REFRTC_HAVE_VPX_DECODER
    if (decoder_) {
      if (static_cast<uint64_t>(width_) * height_ > kMaxDecodePixels || !decoder_->Decode(frame)) {
        OnFrameLost();
        return;
      }
      ++frames_decoded_;
    }
#endif
    ++frames_received_;
  }

#ifdef REFRTC_HAVE_VPX_DECODER
  std::unique_ptr<Vp8Decoder> decoder_;
#endif
  std::optional<uint16_t> last_picture_id_;  // of the last assembled frame
};

}  // namespace

namespace internal {
std::unique_ptr<MediaSink> CreateVp8Sink(bool use_decoder) { return std::make_unique<Vp8Sink>(use_decoder); }
}  // namespace internal

absl::StatusOr<std::unique_ptr<MediaSink>> MediaSink::Create(const CodecSpec& codec) {
  auto id = internal::IdentifyCodec(codec);
  if (!id.ok()) return id.status();
  switch (*id) {
    case CodecId::kVp8:
      return internal::CreateVp8Sink(true);
    case CodecId::kH264: {
      // RFC 6184 §6.2/§6.3: modes 0 and 1 (absent = 0) are depacketized; mode 2 (interleaved) is not.
      for (absl::string_view p : absl::StrSplit(codec.fmtp, ';')) {
        p = absl::StripAsciiWhitespace(p);
        if (absl::StartsWithIgnoreCase(p, "packetization-mode=") && p.substr(19) != "0" && p.substr(19) != "1") {
          return absl::UnimplementedError(absl::StrCat("H264 packetization-mode ", p.substr(19), " is not supported"));
        }
      }
      return internal::CreateH264Sink();
    }
    case CodecId::kPcmu:
    case CodecId::kPcma:
      return std::unique_ptr<MediaSink>(
          std::make_unique<AudioSink>(8000, std::make_unique<G711Decoder>(*id == CodecId::kPcmu)));
    case CodecId::kOpus: {
#ifdef REFRTC_HAVE_OPUS
      auto dec = OpusAudioDecoder::Create();
      if (!dec) return absl::InternalError("opus_decoder_create failed");
      return std::unique_ptr<MediaSink>(std::make_unique<AudioSink>(48000, std::move(dec)));
#else
      break;
#endif
    }
  }
  return absl::NotFoundError("no decoder for " + codec.name);
}

}  // namespace refrtc::media
