// Codec capabilities of this build and source-spec parsing.
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "media/media_internal.h"

namespace refrtc::media {

std::vector<CodecSpec> SupportedAudioCodecs() {
  std::vector<CodecSpec> out;
#ifdef REFRTC_HAVE_OPUS
  // RFC 7587 §7: opus is always signalled as 48000/2, whatever is actually encoded.
  out.push_back(CodecSpec{"opus", 48000, 2, "minptime=10;useinbandfec=1"});
#endif
  out.push_back(CodecSpec{"PCMU", 8000, 1, ""});
  out.push_back(CodecSpec{"PCMA", 8000, 1, ""});
  return out;
}

std::vector<CodecSpec> SupportedVideoCodecs() {
  // VP8 always: encoded by libvpx, or the embedded pre-encoded pattern in builds without it; the
  // sink assembles frames (and decodes them with libvpx where present).
  // H.264 receive-only (no encoder in this build): Constrained Baseline level 3.1 (RFC 6184
  // §8.1 profile-level-id 42e01f) in packetization-mode 1, the variant every WebRTC endpoint
  // offers; the sink depacketizes, counts frames and reads the SPS without decoding.
  return {CodecSpec{"VP8", 90000, 1, "", true},
          CodecSpec{"H264", 90000, 1, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
                    false}};
}

absl::StatusOr<MediaKind> SourceKind(absl::string_view spec) {
  if (spec == "silence") return MediaKind::kAudio;
  if (spec == "pattern") return MediaKind::kVideo;
  if (absl::StartsWith(spec, "tone:")) {
    double hz = 0;
    if (!absl::SimpleAtod(spec.substr(5), &hz) || !(hz >= 20 && hz <= 20000)) {
      return absl::InvalidArgumentError(absl::StrCat("tone frequency must be 20..20000 Hz: ", spec));
    }
    return MediaKind::kAudio;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown media source: ", spec));
}

namespace internal {

absl::StatusOr<CodecId> IdentifyCodec(const CodecSpec& codec) {
  CodecId id;
  if (absl::EqualsIgnoreCase(codec.name, "opus")) {
#ifndef REFRTC_HAVE_OPUS
    return absl::NotFoundError("opus is not available in this build");
#endif
    id = CodecId::kOpus;
  } else if (absl::EqualsIgnoreCase(codec.name, "PCMU")) {
    id = CodecId::kPcmu;
  } else if (absl::EqualsIgnoreCase(codec.name, "PCMA")) {
    id = CodecId::kPcma;
  } else if (absl::EqualsIgnoreCase(codec.name, "VP8")) {
    id = CodecId::kVp8;
  } else if (absl::EqualsIgnoreCase(codec.name, "H264")) {
    id = CodecId::kH264;
  } else {
    return absl::NotFoundError(absl::StrCat("unsupported codec: ", codec.name));
  }
  if (codec.clock_rate != 0 && codec.clock_rate != ClockRateOf(id)) {
    return absl::InvalidArgumentError(
        absl::StrCat(codec.name, " has clock rate ", ClockRateOf(id), ", not ", codec.clock_rate));
  }
  return id;
}

MediaKind KindOf(CodecId id) {
  return id == CodecId::kVp8 || id == CodecId::kH264 ? MediaKind::kVideo : MediaKind::kAudio;
}

uint32_t ClockRateOf(CodecId id) {
  switch (id) {
    case CodecId::kOpus:
      return 48000;
    case CodecId::kPcmu:
    case CodecId::kPcma:
      return 8000;
    case CodecId::kVp8:
    case CodecId::kH264:
      return 90000;
  }
  return 0;
}

Instant FrameGrid::Deadline(uint64_t k) const {
  // Exact integer arithmetic in nanoseconds: floor(k * num / den s).
  const int64_t ns = static_cast<int64_t>(k) * 1000000000LL * num_ / den_;
  return start_ + std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(ns));
}

uint64_t FrameGrid::LastDue(Instant now) const {
  if (now <= start_) return 0;
  const int64_t elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_).count();
  uint64_t k = static_cast<uint64_t>(elapsed / num_ * den_ / 1000000000LL);
  while (k > 0 && Deadline(k) > now) --k;
  while (Deadline(k + 1) <= now) ++k;
  return k;
}

}  // namespace internal
}  // namespace refrtc::media
