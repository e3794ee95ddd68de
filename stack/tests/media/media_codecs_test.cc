// Unit tests of the media building blocks: G.711, the spectrum measurement, the RFC 7741
// payload descriptor / packetizer and the RFC 6386 key frame header.
#include <cmath>

#include "gtest/gtest.h"
#include "media/audio_analysis.h"
#include "media/g711.h"
#include "media/media_internal.h"
#include "media/media_pipeline.h"
#include "media/vp8_rtp.h"

namespace refrtc::media {
namespace {

TEST(G711, KnownValues) {
  // G.711 Table 2a/2b: zero and the extremes; µ-law codes are transmitted inverted.
  EXPECT_EQ(LinearToUlaw(0), 0xFF);
  EXPECT_EQ(LinearToUlaw(-1), 0x7F);
  EXPECT_EQ(LinearToUlaw(32767), 0x80);
  EXPECT_EQ(LinearToUlaw(-32768), 0x00);
  EXPECT_EQ(UlawToLinear(0xFF), 0);
  EXPECT_EQ(UlawToLinear(0x80), 32124);
  EXPECT_EQ(UlawToLinear(0x00), -32124);
  // A-law: even bits inverted, positive sign bit 1.
  EXPECT_EQ(LinearToAlaw(0), 0xD5);
  EXPECT_EQ(LinearToAlaw(-1), 0x55);
  EXPECT_EQ(LinearToAlaw(32767), 0xAA);
  EXPECT_EQ(LinearToAlaw(-32768), 0x2A);
  EXPECT_EQ(AlawToLinear(0xD5), 8);
  EXPECT_EQ(AlawToLinear(0xAA), 32256);
  EXPECT_EQ(AlawToLinear(0x2A), -32256);
}

TEST(G711, CodeRoundTrip) {
  for (int c = 0; c < 256; ++c) {
    if (c != 0x7F) {  // µ-law "negative zero" decodes to 0, which encodes as 0xFF
      EXPECT_EQ(LinearToUlaw(UlawToLinear(static_cast<uint8_t>(c))), c) << c;
    }
    EXPECT_EQ(LinearToAlaw(AlawToLinear(static_cast<uint8_t>(c))), c) << c;
  }
}

TEST(G711, QuantisationErrorIsBounded) {
  for (int x = -32768; x <= 32767; x += 7) {
    int16_t s = static_cast<int16_t>(x);
    int mag = std::abs(x);
    // Step size is 1/16 of the segment: the error stays within ~1/32 of the magnitude plus the
    // smallest step (µ-law clips at 32635 and A-law at 32256 + half a step).
    double bound = mag / 28.0 + 16;
    if (mag > 32000) bound = 800;
    EXPECT_LE(std::abs(UlawToLinear(LinearToUlaw(s)) - x), bound) << x;
    EXPECT_LE(std::abs(AlawToLinear(LinearToAlaw(s)) - x), bound) << x;
    // Sign is kept.
    if (x > 40) {
      EXPECT_GT(UlawToLinear(LinearToUlaw(s)), 0);
    }
    if (x < -40) {
      EXPECT_LT(AlawToLinear(LinearToAlaw(s)), 0);
    }
  }
}

std::vector<float> Sine(double hz, uint32_t rate, size_t n, double amplitude = 0.3) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(amplitude * std::sin(2 * 3.141592653589793 * hz * i / rate));
  return v;
}

TEST(AudioAnalysis, FftOfImpulseIsFlat) {
  std::vector<double> re(16), im(16);
  re[0] = 1;
  Fft(re, im);
  for (int k = 0; k < 16; ++k) EXPECT_NEAR(std::hypot(re[k], im[k]), 1.0, 1e-12);
  std::vector<double> br(8), bi(8);
  for (int i = 0; i < 8; ++i) {  // e^{2 pi i 3 t / 8}: all energy in bin 3
    br[i] = std::cos(2 * 3.141592653589793 * 3 * i / 8);
    bi[i] = std::sin(2 * 3.141592653589793 * 3 * i / 8);
  }
  Fft(br, bi);
  for (int k = 0; k < 8; ++k) EXPECT_NEAR(std::hypot(br[k], bi[k]), k == 3 ? 8.0 : 0.0, 1e-9) << k;
}

TEST(AudioAnalysis, DominantFrequencyIsAccurate) {
  for (double hz : {20.5, 100.0, 440.0, 441.3, 1000.0, 3000.0, 15000.0}) {
    auto m = MeasureAudio(Sine(hz, 48000, 48000), 48000);
    ASSERT_TRUE(m.dominant_hz) << hz;
    EXPECT_NEAR(*m.dominant_hz, hz, 0.5) << hz;
    EXPECT_NEAR(m.rms, 0.3 / std::sqrt(2.0), 1e-3);
  }
  auto m = MeasureAudio(Sine(440, 8000, 8000), 8000);
  ASSERT_TRUE(m.dominant_hz);
  EXPECT_NEAR(*m.dominant_hz, 440, 0.5);
  // A short window still works (0.1 s).
  m = MeasureAudio(Sine(1000, 8000, 800), 8000);
  ASSERT_TRUE(m.dominant_hz);
  EXPECT_NEAR(*m.dominant_hz, 1000, 2);
}

TEST(AudioAnalysis, SilenceHasNoDominantFrequency) {
  auto m = MeasureAudio(std::vector<float>(48000, 0.0f), 48000);
  EXPECT_FALSE(m.dominant_hz);
  EXPECT_EQ(m.rms, 0);
  m = MeasureAudio(Sine(440, 48000, 48000, 0.0005), 48000);  // rms 3.5e-4 < 1e-3
  EXPECT_FALSE(m.dominant_hz);
  EXPECT_FALSE(MeasureAudio({}, 48000).dominant_hz);
}

TEST(Vp8Descriptor, ParsesAllOptionalFields) {
  // X=1 N=1 S=1 PID=2; I L T K; 15-bit PictureID 0x1234; TL0PICIDX 7; TID=2 Y=1 KEYIDX=5.
  Bytes p = {0xB2, 0xF0, 0x92, 0x34, 0x07, 0xA5, 0xAA};
  auto d = ParseVp8Descriptor(p);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->non_reference);
  EXPECT_TRUE(d->start_of_partition);
  EXPECT_EQ(d->partition_index, 2);
  EXPECT_FALSE(d->starts_frame());
  EXPECT_EQ(d->picture_id, 0x1234);
  EXPECT_TRUE(d->picture_id_15bit);
  EXPECT_EQ(d->tl0_pic_idx, 7);
  EXPECT_EQ(d->tid, 2);
  EXPECT_TRUE(d->layer_sync);
  EXPECT_EQ(d->key_idx, 5);
  EXPECT_EQ(d->header_size, 6u);

  // 7-bit PictureID, K only.
  Bytes q = {0x90, 0x90, 0x11, 0x1F, 0x00};
  d = ParseVp8Descriptor(q);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->starts_frame());
  EXPECT_EQ(d->picture_id, 0x11);
  EXPECT_FALSE(d->picture_id_15bit);
  EXPECT_FALSE(d->tid);
  EXPECT_EQ(d->key_idx, 31);
  EXPECT_EQ(d->header_size, 4u);

  // Minimal: no extension.
  Bytes r = {0x10, 0xAB};
  d = ParseVp8Descriptor(r);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->starts_frame());
  EXPECT_FALSE(d->picture_id);
  EXPECT_EQ(d->header_size, 1u);
}

TEST(Vp8Descriptor, RejectsTruncated) {
  for (Bytes bad : {Bytes{}, Bytes{0x90}, Bytes{0x80}, Bytes{0x80, 0x80}, Bytes{0x80, 0x80, 0x80},
                    Bytes{0x80, 0x80, 0x80, 0x01}, Bytes{0x80, 0x40, 0x01}, Bytes{0x80, 0x20},
                    Bytes{0x80, 0xF0, 0x81, 0x02, 0x03}}) {
    EXPECT_FALSE(ParseVp8Descriptor(bad).ok()) << bad.size();
  }
}

TEST(Vp8Packetizer, SplitsIntoEqualPartsWithinLimit) {
  Bytes frame(2500);
  for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<uint8_t>(i);
  auto parts = PacketizeVp8(frame, 0x7ABC, 1000);
  ASSERT_EQ(parts.size(), 3u);  // capacity 996 per packet
  Bytes joined;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_LE(parts[i].size(), 1000u);
    EXPECT_GE(parts[i].size(), 4u + 833u);
    auto d = ParseVp8Descriptor(parts[i]);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->starts_frame(), i == 0);
    EXPECT_EQ(d->picture_id, 0x7ABC);
    EXPECT_TRUE(d->picture_id_15bit);
    joined.insert(joined.end(), parts[i].begin() + d->header_size, parts[i].end());
  }
  EXPECT_EQ(joined, frame);
  EXPECT_EQ(PacketizeVp8(frame, 0, 1200).size(), 3u);
  EXPECT_EQ(PacketizeVp8(Bytes(1196), 0, 1200).size(), 1u);
  EXPECT_EQ(PacketizeVp8(Bytes(1197), 0, 1200).size(), 2u);
  EXPECT_TRUE(PacketizeVp8(Bytes(), 0, 1200).empty());
}

TEST(Vp8FrameHeader, ParsesKeyFrameDimensions) {
  // RFC 6386 §9.1: tag (key, version 0, show, size 0x123), start code, 320 | scale 1, 240 | scale 2.
  uint32_t tag = 0 | (0 << 1) | (1 << 4) | (0x123 << 5);
  Bytes key = {static_cast<uint8_t>(tag), static_cast<uint8_t>(tag >> 8), static_cast<uint8_t>(tag >> 16),
               0x9d, 0x01, 0x2a, 0x40, 0x41, 0xF0, 0x80};
  auto h = ParseVp8FrameHeader(key);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->keyframe);
  EXPECT_TRUE(h->show_frame);
  EXPECT_EQ(h->first_partition_size, 0x123u);
  EXPECT_EQ(h->width, 320);
  EXPECT_EQ(h->horizontal_scale, 1);
  EXPECT_EQ(h->height, 240);
  EXPECT_EQ(h->vertical_scale, 2);
  key[4] = 0x02;  // bad start code
  EXPECT_FALSE(ParseVp8FrameHeader(key));
  EXPECT_FALSE(ParseVp8FrameHeader(ByteView(key.data(), 9)));
  Bytes delta = {0x01, 0x00, 0x00};
  h = ParseVp8FrameHeader(delta);
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->keyframe);
  EXPECT_FALSE(ParseVp8FrameHeader(ByteView(delta.data(), 2)));
}

TEST(MediaCodecs, SupportedLists) {
  auto audio = SupportedAudioCodecs();
  ASSERT_GE(audio.size(), 2u);
#ifdef REFRTC_HAVE_OPUS
  EXPECT_EQ(audio[0].name, "opus");
  EXPECT_EQ(audio[0].clock_rate, 48000u);
  EXPECT_EQ(audio[0].channels, 2);
  EXPECT_EQ(audio[0].fmtp, "minptime=10;useinbandfec=1");
#endif
  EXPECT_EQ(audio[audio.size() - 2].name, "PCMU");
  EXPECT_EQ(audio.back().name, "PCMA");
  EXPECT_EQ(audio.back().clock_rate, 8000u);
  auto video = SupportedVideoCodecs();
  ASSERT_EQ(video.size(), 2u);  // VP8, then H264 receive-only (h264_test.cc)
  EXPECT_EQ(video[0].name, "VP8");
  EXPECT_EQ(video[0].clock_rate, 90000u);
  EXPECT_EQ(video[1].name, "H264");
}

TEST(MediaCodecs, SourceKindAndCreateErrors) {
  EXPECT_EQ(*SourceKind("tone:440"), MediaKind::kAudio);
  EXPECT_EQ(*SourceKind("tone:20000"), MediaKind::kAudio);
  EXPECT_EQ(*SourceKind("silence"), MediaKind::kAudio);
  EXPECT_EQ(*SourceKind("pattern"), MediaKind::kVideo);
  for (const char* bad : {"tone:abc", "tone:", "tone:19", "tone:20001", "foo", "", "Pattern"}) {
    EXPECT_EQ(SourceKind(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  Instant t0;
  CodecSpec vp8{"VP8", 90000, 1, ""}, pcmu{"pcmu", 8000, 1, ""};
  EXPECT_EQ(MediaSource::Create("tone:440", vp8, t0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MediaSource::Create("pattern", pcmu, t0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MediaSource::Create("tone:5", pcmu, t0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MediaSource::Create("tone:440", CodecSpec{"PCMU", 16000, 1, ""}, t0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MediaSource::Create("tone:440", CodecSpec{"G722", 8000, 1, ""}, t0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(MediaSink::Create(CodecSpec{"H265", 90000, 1, ""}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(MediaSource::Create("tone:440", pcmu, t0).ok());  // case-insensitive name
  EXPECT_TRUE(MediaSink::Create(CodecSpec{"vp8", 90000, 1, ""}).ok());
}

TEST(MediaCodecs, EmbeddedPatternFramesAreWellFormed) {
  const uint32_t n = internal::PreencodedPatternFrameCount();
  ASSERT_EQ(n, 60u);
  for (uint32_t i = 0; i < n + 2; ++i) {
    auto h = ParseVp8FrameHeader(internal::PreencodedPatternFrame(i));
    ASSERT_TRUE(h) << i;
    EXPECT_EQ(h->keyframe, i == 0 || i == n) << i;
    if (h->keyframe) {
      EXPECT_EQ(h->width, 320);
      EXPECT_EQ(h->height, 240);
    }
  }
  EXPECT_TRUE(internal::PreencodedPatternFrame(n + 2).empty());
}

}  // namespace
}  // namespace refrtc::media
