// End-to-end tests: synthetic source -> (impaired) packet stream -> sink, in virtual time.
#include <algorithm>
#include <chrono>

#include "gtest/gtest.h"
#include "media/media_internal.h"
#include "media/media_pipeline.h"
#include "media/vp8_rtp.h"
#include "util/random.h"

namespace refrtc::media {
namespace {

const Instant kStart = Instant() + std::chrono::seconds(1000);
const CodecSpec kPcmu{"PCMU", 8000, 1, ""};
const CodecSpec kPcma{"PCMA", 8000, 1, ""};
const CodecSpec kOpus{"opus", 48000, 2, "minptime=10;useinbandfec=1"};
const CodecSpec kVp8{"VP8", 90000, 1, ""};

struct Packet {
  uint16_t seq;
  uint32_t ts;
  bool marker;
  Bytes payload;
  uint32_t frame_index;
  bool keyframe;
};

// Pulls `frames` frames at their deadlines and numbers the payloads like an RTP sender would
// (random-looking timestamp base and a sequence number that wraps during the run).
std::vector<Packet> Generate(MediaSource& src, int frames, uint16_t first_seq = 65500, uint32_t ts_base = 0xFFFFF000u) {
  std::vector<Packet> out;
  uint16_t seq = first_seq;
  for (int i = 0; i < frames; ++i) {
    for (auto& p : src.Pull(src.NextDeadline())) {
      out.push_back(Packet{seq++, ts_base + p.timestamp, p.marker, std::move(p.payload), p.frame_index, p.keyframe});
    }
  }
  return out;
}

// Feeds packets `spacing` apart in arrival time, polling Info() after each one as the RTP layer
// does (the audio spectrum is cached, so this stays cheap).
void Feed(MediaSink& sink, const std::vector<Packet>& packets, Duration spacing) {
  Instant now = kStart;
  for (const auto& p : packets) {
    sink.OnRtp(p.seq, p.ts, p.marker, p.payload, now);
    sink.Info();
    now += spacing;
  }
}

std::unique_ptr<MediaSource> MakeSource(absl::string_view spec, const CodecSpec& codec, size_t max_payload = 1200) {
  auto s = MediaSource::Create(spec, codec, kStart, max_payload);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

std::unique_ptr<MediaSink> MakeSink(const CodecSpec& codec) {
  auto s = MediaSink::Create(codec);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

TrackInfo RunTone(absl::string_view spec, const CodecSpec& codec, int frames = 100) {
  auto src = MakeSource(spec, codec);
  auto sink = MakeSink(codec);
  auto packets = Generate(*src, frames);
  EXPECT_EQ(src->frames_encoded(), static_cast<uint64_t>(frames));
  for (const auto& p : packets) EXPECT_FALSE(p.marker);
  Feed(*sink, packets, std::chrono::milliseconds(20));
  EXPECT_EQ(sink->malformed_payloads(), 0u);
  return sink->Info();
}

TEST(AudioPipeline, ToneThroughPcmu) {
  for (double hz : {440.0, 1000.0, 3000.0}) {
    auto info = RunTone("tone:" + std::to_string(static_cast<int>(hz)), kPcmu);
    EXPECT_EQ(info.kind, MediaKind::kAudio);
    EXPECT_EQ(info.sample_rate, 8000u);
    EXPECT_EQ(info.samples_received, 100u * 160);
    EXPECT_EQ(info.concealed_samples, 0u);
    ASSERT_TRUE(info.dominant_hz) << hz;
    EXPECT_NEAR(*info.dominant_hz, hz, 3) << hz;
    EXPECT_NEAR(info.rms, 0.3 / std::sqrt(2.0), 0.01);
  }
}

TEST(AudioPipeline, ToneThroughPcma) {
  auto info = RunTone("tone:440", kPcma);
  ASSERT_TRUE(info.dominant_hz);
  EXPECT_NEAR(*info.dominant_hz, 440, 3);
}

TEST(AudioPipeline, PcmuPayloadsAre20Ms) {
  auto src = MakeSource("tone:440", kPcmu);
  auto packets = Generate(*src, 3, 0, 0);
  ASSERT_EQ(packets.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(packets[i].payload.size(), 160u);
    EXPECT_EQ(packets[i].ts, 160u * i);
    EXPECT_EQ(packets[i].frame_index, i);
  }
}

#ifdef REFRTC_HAVE_OPUS
TEST(AudioPipeline, ToneThroughOpus) {
  for (double hz : {440.0, 1000.0}) {
    auto info = RunTone("tone:" + std::to_string(static_cast<int>(hz)), kOpus);
    EXPECT_EQ(info.sample_rate, 48000u);
    EXPECT_EQ(info.samples_received, 100u * 960);
    ASSERT_TRUE(info.dominant_hz) << hz;
    EXPECT_NEAR(*info.dominant_hz, hz, 3) << hz;
    EXPECT_NEAR(info.rms, 0.3 / std::sqrt(2.0), 0.03);
  }
}

TEST(AudioPipeline, OpusTimestampsAdvance960) {
  auto src = MakeSource("silence", kOpus);
  auto packets = Generate(*src, 3, 0, 0);
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(packets[2].ts, 1920u);
  EXPECT_LE(packets[0].payload.size(), 1275u);
}
#endif

TEST(AudioPipeline, SilenceHasNoDominantFrequency) {
  std::vector<CodecSpec> codecs = {kPcmu, kPcma};
#ifdef REFRTC_HAVE_OPUS
  codecs.push_back(kOpus);
#endif
  for (const auto& codec : codecs) {
    auto info = RunTone("silence", codec, 60);
    EXPECT_FALSE(info.dominant_hz) << codec.name;
    EXPECT_LT(info.rms, 1e-3) << codec.name;
    EXPECT_GT(info.samples_received, 0u);
  }
}

TEST(AudioPipeline, DisabledTrackSendsSilence) {
  auto src = MakeSource("tone:440", kPcmu);
  auto sink = MakeSink(kPcmu);
  auto packets = Generate(*src, 50);
  src->SetEnabled(false);
  auto silent = Generate(*src, 60, static_cast<uint16_t>(packets.back().seq + 1));
  EXPECT_EQ(silent.front().ts, packets.back().ts + 160);
  Feed(*sink, packets, std::chrono::milliseconds(20));
  auto info = sink->Info();
  ASSERT_TRUE(info.dominant_hz);
  Feed(*sink, silent, std::chrono::milliseconds(20));
  info = sink->Info();
  EXPECT_FALSE(info.dominant_hz);  // the last second is silence
  EXPECT_EQ(info.samples_received, 110u * 160);
}

// 5% loss, 5% duplicates, and adjacent swaps (reordering) from a seeded generator.
std::vector<Packet> Impair(std::vector<Packet> in, uint64_t seed, size_t* lost) {
  Random rng(seed);
  std::vector<Packet> out;
  *lost = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (i > 5 && rng.Unit() < 0.05) {
      ++*lost;
      continue;
    }
    out.push_back(in[i]);
    if (rng.Unit() < 0.05) out.push_back(in[i]);
  }
  for (size_t i = 1; i + 1 < out.size(); ++i) {
    if (rng.Unit() < 0.1) std::swap(out[i], out[i + 1]);
  }
  return out;
}

void CheckImpairedTone(const CodecSpec& codec) {
  auto src = MakeSource("tone:440", codec);
  auto sink = MakeSink(codec);
  size_t lost = 0;
  auto packets = Impair(Generate(*src, 150), 7, &lost);
  ASSERT_GT(lost, 2u);
  Feed(*sink, packets, std::chrono::milliseconds(20));
  auto info = sink->Info();
  ASSERT_TRUE(info.dominant_hz) << codec.name;
  EXPECT_NEAR(*info.dominant_hz, 440, 3) << codec.name;
  EXPECT_GT(info.concealed_samples, 0u) << codec.name;
  // Every lost 20 ms frame is concealed (the last few packets may still be held for reordering).
  const uint64_t frame = codec.clock_rate / 50;
  EXPECT_GE(info.concealed_samples, (lost - 1) * frame) << codec.name;
  EXPECT_LE(info.concealed_samples, lost * frame) << codec.name;
  EXPECT_LE(info.samples_received, 150 * frame);
  EXPECT_GE(info.samples_received, 140 * frame);
  EXPECT_EQ(sink->malformed_payloads(), 0u);
}

TEST(AudioPipeline, ReorderedDuplicatedLostPcmu) { CheckImpairedTone(kPcmu); }
#ifdef REFRTC_HAVE_OPUS
TEST(AudioPipeline, ReorderedDuplicatedLostOpus) { CheckImpairedTone(kOpus); }
#endif

TEST(AudioPipeline, GapIsConcealedAfterHoldTimeEvenWithoutMediaSpan) {
  auto src = MakeSource("tone:440", kPcmu);
  auto sink = MakeSink(kPcmu);
  auto packets = Generate(*src, 4, 0, 0);
  sink->OnRtp(packets[0].seq, packets[0].ts, false, packets[0].payload, kStart);
  sink->OnRtp(packets[2].seq, packets[2].ts, false, packets[2].payload, kStart + std::chrono::milliseconds(40));
  EXPECT_EQ(sink->Info().samples_received, 160u);  // packet 2 held, waiting for 1
  sink->OnRtp(packets[3].seq, packets[3].ts, false, packets[3].payload, kStart + std::chrono::milliseconds(141));
  auto info = sink->Info();
  EXPECT_EQ(info.concealed_samples, 160u);
  EXPECT_EQ(info.samples_received, 4u * 160);
  // The late packet is ignored.
  sink->OnRtp(packets[1].seq, packets[1].ts, false, packets[1].payload, kStart + std::chrono::milliseconds(150));
  EXPECT_EQ(sink->Info().samples_received, 4u * 160);
}

TEST(AudioPipeline, EmptyPayloadIsPaddingNotLoss) {
  auto src = MakeSource("tone:440", kPcmu);
  auto sink = MakeSink(kPcmu);
  auto packets = Generate(*src, 2, 0, 0);
  sink->OnRtp(0, packets[0].ts, false, packets[0].payload, kStart);
  sink->OnRtp(1, packets[0].ts, false, ByteView(), kStart);  // padding-only packet
  sink->OnRtp(2, packets[1].ts, false, packets[1].payload, kStart);
  // A lost padding packet (seq 3) leaves no timestamp gap: nothing to conceal.
  for (int i = 0; i < 8; ++i) {
    auto more = Generate(*src, 1, static_cast<uint16_t>(4 + i), 0);
    sink->OnRtp(more[0].seq, more[0].ts, false, more[0].payload, kStart + std::chrono::milliseconds(20 * i));
  }
  auto info = sink->Info();
  EXPECT_EQ(info.concealed_samples, 0u);
  EXPECT_EQ(info.samples_received, 10u * 160);
  EXPECT_EQ(sink->malformed_payloads(), 0u);
  EXPECT_FALSE(sink->TakeKeyframeRequest());
}

#ifdef REFRTC_HAVE_OPUS
TEST(AudioPipeline, MalformedOpusIsCountedAndConcealed) {
  auto src = MakeSource("tone:440", kOpus);
  auto sink = MakeSink(kOpus);
  auto packets = Generate(*src, 3, 0, 0);
  sink->OnRtp(0, packets[0].ts, false, packets[0].payload, kStart);
  Bytes garbage = {0xFF, 0xFF, 0xFF};  // code 3, 63 frames, no data: invalid (RFC 6716 §3.2.5)
  sink->OnRtp(1, packets[1].ts, false, garbage, kStart);
  sink->OnRtp(2, packets[2].ts, false, packets[2].payload, kStart);
  EXPECT_EQ(sink->malformed_payloads(), 1u);
  auto info = sink->Info();
  EXPECT_EQ(info.concealed_samples, 960u);
  EXPECT_EQ(info.samples_received, 3u * 960);
}
#endif

// ---- timing ----

TEST(SourceTiming, DeadlinesAreExactlyOnTheGrid) {
  auto audio = MakeSource("tone:440", kPcmu);
  for (int k = 0; k < 500; ++k) {
    ASSERT_EQ(audio->NextDeadline(), kStart + std::chrono::milliseconds(20 * k));
    EXPECT_TRUE(audio->Pull(audio->NextDeadline() - std::chrono::nanoseconds(1)).empty());
    ASSERT_EQ(audio->Pull(audio->NextDeadline()).size(), 1u);
  }
  auto video = internal::CreatePreencodedPatternSource(kStart, 1200);
  uint32_t frames = 0;
  for (int64_t k = 0; k < 300; ++k) {
    ASSERT_EQ(video->NextDeadline(), kStart + std::chrono::nanoseconds(k * 1000000000 / 30));
    auto payloads = video->Pull(video->NextDeadline());
    ASSERT_FALSE(payloads.empty());
    for (const auto& p : payloads) {
      EXPECT_EQ(p.timestamp, 3000u * k);
      EXPECT_EQ(p.frame_index, k);
    }
    EXPECT_TRUE(payloads.back().marker);
    ++frames;
  }
  EXPECT_EQ(video->NextDeadline(), kStart + std::chrono::seconds(10));
  EXPECT_EQ(video->frames_encoded(), frames);
}

TEST(SourceTiming, PullReturnsAllDueFramesInOrder) {
  auto audio = MakeSource("tone:440", kPcmu);
  auto p = audio->Pull(kStart + std::chrono::milliseconds(150));  // frames 0..7 due (within 200 ms)
  ASSERT_EQ(p.size(), 8u);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i].timestamp, 160u * i);
  EXPECT_EQ(audio->NextDeadline(), kStart + std::chrono::milliseconds(160));
}

TEST(SourceTiming, PullSkipsWhenFarBehind) {
  auto audio = MakeSource("tone:440", kPcmu);
  ASSERT_EQ(audio->Pull(kStart).size(), 1u);
  // A 1 s stall: only the newest due frame is sent; its timestamp follows the grid.
  auto p = audio->Pull(kStart + std::chrono::milliseconds(1005));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].timestamp, 50u * 160);
  EXPECT_EQ(p[0].frame_index, 50u);
  EXPECT_EQ(audio->NextDeadline(), kStart + std::chrono::milliseconds(1020));
  EXPECT_EQ(audio->frames_encoded(), 2u);

  auto video = internal::CreatePreencodedPatternSource(kStart, 1200);
  ASSERT_FALSE(video->Pull(kStart).empty());
  auto v = video->Pull(kStart + std::chrono::seconds(2));
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v[0].timestamp, 60u * 3000);
  EXPECT_FALSE(v[0].keyframe);  // the loop continues with its next frame (decodable)
  EXPECT_EQ(video->frames_encoded(), 2u);
}

// ---- video ----

struct VideoRun {
  std::vector<Packet> packets;
};

void CheckVp8Payloads(const std::vector<Packet>& packets, size_t max_payload) {
  std::optional<uint16_t> last_pid;
  uint32_t last_frame = UINT32_MAX;
  for (const auto& p : packets) {
    ASSERT_LE(p.payload.size(), max_payload);
    auto d = ParseVp8Descriptor(p.payload);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->picture_id);
    EXPECT_TRUE(d->picture_id_15bit);
    EXPECT_EQ(d->partition_index, 0);
    bool first = p.frame_index != last_frame;
    EXPECT_EQ(d->starts_frame(), first);
    if (first && last_pid) {
      EXPECT_EQ(*d->picture_id, (*last_pid + 1) & 0x7FFF);
    }
    last_pid = d->picture_id;
    last_frame = p.frame_index;
  }
}

// MediaSource::Create("pattern"): libvpx where built with it, else the embedded frames.
TEST(VideoPipeline, PatternThroughVp8) {
  auto src = MakeSource("pattern", kVp8);
  ASSERT_EQ(src->kind(), MediaKind::kVideo);
  EXPECT_EQ(src->width(), 320u);
  EXPECT_EQ(src->height(), 240u);
  auto sink = MakeSink(kVp8);
  auto start = std::chrono::steady_clock::now();
  auto packets = Generate(*src, 90);
  auto elapsed = std::chrono::steady_clock::now() - start;
  std::printf("VP8 encode: %.2f ms per 320x240 frame, %zu packets, %.0f kbit/s\n",
              std::chrono::duration<double, std::milli>(elapsed).count() / 90, packets.size(),
              [&] {
                size_t bytes = 0;
                for (auto& p : packets) bytes += p.payload.size();
                return bytes * 8 / 3.0 / 1000;
              }());
  EXPECT_EQ(src->frames_encoded(), 90u);
#ifdef REFRTC_HAVE_VPX
  const uint64_t keyframes = 1;  // then one every 3 s
#else
  const uint64_t keyframes = 2;  // the embedded 2 s loop's key frame
#endif
  EXPECT_EQ(src->keyframes_encoded(), keyframes);
  EXPECT_TRUE(packets.front().keyframe);
  CheckVp8Payloads(packets, 1200);
  Feed(*sink, packets, std::chrono::milliseconds(3));
  auto info = sink->Info();
  EXPECT_EQ(info.kind, MediaKind::kVideo);
  EXPECT_GE(info.frames_received, 88u);
#ifdef REFRTC_HAVE_VPX_DECODER
  EXPECT_EQ(info.frames_decoded, info.frames_received);
#else
  EXPECT_EQ(info.frames_decoded, 0u);
#endif
  EXPECT_EQ(info.keyframes_received, keyframes);
  EXPECT_EQ(info.width, 320u);
  EXPECT_EQ(info.height, 240u);
  EXPECT_EQ(info.frames_dropped, 0u);
  EXPECT_FALSE(sink->TakeKeyframeRequest());
  EXPECT_EQ(sink->malformed_payloads(), 0u);
}

#ifdef REFRTC_HAVE_VPX
TEST(VideoPipeline, SmallMaxPayloadSplitsFrames) {
  auto src = MakeSource("pattern", kVp8, 300);
  auto sink = MakeSink(kVp8);
  auto packets = Generate(*src, 30);
  EXPECT_GT(packets.size(), 60u);
  CheckVp8Payloads(packets, 300);
  Feed(*sink, packets, std::chrono::milliseconds(1));
  EXPECT_EQ(sink->Info().frames_decoded, 30u);
}

TEST(VideoPipeline, KeyframeEveryThreeSeconds) {
  auto src = MakeSource("pattern", kVp8);
  Generate(*src, 181);
  EXPECT_EQ(src->keyframes_encoded(), 3u);  // frames 0, 90, 180
}

TEST(VideoPipeline, LostPacketTriggersKeyframeRequestAndRecovery) {
  auto src = MakeSource("pattern", kVp8, 500);  // several packets per frame
  auto sink = MakeSink(kVp8);
  uint16_t seq = 1000;
  Instant now = kStart;
  bool dropped = false, requested = false;
  uint64_t decoded_at_request = 0;
  for (int i = 0; i < 60; ++i) {
    now = src->NextDeadline();
    auto payloads = src->Pull(now);
    for (size_t j = 0; j < payloads.size(); ++j) {
      auto& p = payloads[j];
      uint16_t s = seq++;
      if (i == 10 && j == 1 && !dropped) {  // lose the second packet of frame 10
        ASSERT_GT(payloads.size(), 2u);
        dropped = true;
        continue;
      }
      sink->OnRtp(s, p.timestamp, p.marker, p.payload, now);
    }
    if (sink->TakeKeyframeRequest()) {
      EXPECT_FALSE(requested) << "one request (rate limited), at frame " << i;
      EXPECT_EQ(i, 11);  // frame 11 completed while frame 10 had a gap
      requested = true;
      decoded_at_request = sink->Info().frames_decoded;
      src->RequestKeyframe();
    }
  }
  ASSERT_TRUE(requested);
  auto info = sink->Info();
  EXPECT_EQ(decoded_at_request, 10u);  // frames 0..9
  EXPECT_EQ(src->keyframes_encoded(), 2u);
  EXPECT_EQ(info.keyframes_received, 2u);
  // Frames 10 (incomplete) and 11 (no reference) are dropped; 12 is the key frame.
  EXPECT_EQ(info.frames_dropped, 2u);
  EXPECT_EQ(info.frames_decoded, 58u);
  EXPECT_EQ(info.frames_received, info.frames_decoded);
}

TEST(VideoPipeline, DisabledTrackSendsDecodableBlackFrames) {
  auto src = MakeSource("pattern", kVp8);
  auto sink = MakeSink(kVp8);
  auto packets = Generate(*src, 10, 0, 0);
  src->SetEnabled(false);
  auto black = Generate(*src, 10, static_cast<uint16_t>(packets.back().seq + 1), 0);
  size_t pattern_bytes = 0, black_bytes = 0;
  for (auto& p : packets) pattern_bytes += p.payload.size();
  for (auto& p : black) black_bytes += p.payload.size();
  EXPECT_LT(black_bytes, pattern_bytes);
  Feed(*sink, packets, std::chrono::milliseconds(5));
  Feed(*sink, black, std::chrono::milliseconds(5));
  EXPECT_EQ(sink->Info().frames_decoded, 20u);
}
#endif  // REFRTC_HAVE_VPX

void CheckEmbedded(bool use_decoder) {
  auto src = internal::CreatePreencodedPatternSource(kStart, 1200);
  auto sink = internal::CreateVp8Sink(use_decoder);
  auto packets = Generate(*src, 130);  // more than two loops
  CheckVp8Payloads(packets, 1200);
  EXPECT_EQ(src->frames_encoded(), 130u);
  EXPECT_EQ(src->keyframes_encoded(), 3u);  // frames 0, 60, 120 of the stream
  Feed(*sink, packets, std::chrono::milliseconds(3));
  auto info = sink->Info();
  EXPECT_EQ(info.frames_received, 130u);
  EXPECT_EQ(info.keyframes_received, 3u);
  EXPECT_EQ(info.width, 320u);
  EXPECT_EQ(info.height, 240u);
  EXPECT_EQ(info.frames_dropped, 0u);
#ifdef REFRTC_HAVE_VPX_DECODER
  EXPECT_EQ(info.frames_decoded, use_decoder ? 130u : 0u);
#else
  EXPECT_EQ(info.frames_decoded, 0u);
#endif
}

TEST(VideoPipeline, EmbeddedPatternWithDecoder) { CheckEmbedded(true); }
TEST(VideoPipeline, EmbeddedPatternHeaderOnlySink) { CheckEmbedded(false); }

TEST(VideoPipeline, EmbeddedPatternKeyframeRequestAndBlack) {
  auto src = internal::CreatePreencodedPatternSource(kStart, 1200);
  auto sink = internal::CreateVp8Sink(true);
  auto a = Generate(*src, 10, 0, 0);
  src->RequestKeyframe();
  auto b = Generate(*src, 1, static_cast<uint16_t>(a.back().seq + 1), 0);
  EXPECT_TRUE(b.front().keyframe);
  src->SetEnabled(false);
  auto c = Generate(*src, 5, static_cast<uint16_t>(b.back().seq + 1), 0);
  EXPECT_TRUE(c.front().keyframe);  // the black key frame, then black delta frames
  EXPECT_FALSE(c.back().keyframe);
  src->SetEnabled(true);
  auto d = Generate(*src, 3, static_cast<uint16_t>(c.back().seq + 1), 0);
  EXPECT_TRUE(d.front().keyframe);  // back to the pattern's key frame
  EXPECT_EQ(src->keyframes_encoded(), 4u);
  for (auto* v : {&a, &b, &c, &d}) Feed(*sink, *v, std::chrono::milliseconds(3));
  auto info = sink->Info();
  EXPECT_EQ(info.frames_received, 19u);
  EXPECT_EQ(info.frames_dropped, 0u);
#ifdef REFRTC_HAVE_VPX_DECODER
  EXPECT_EQ(info.frames_decoded, 19u);
#endif
}

#ifdef REFRTC_HAVE_VPX_DECODER
// The WASM build's combination (VP8 decoder, no encoder: pre-encoded source, decoding sink) under
// loss: the lost frame and the next one are dropped, the PLI restarts the loop at its key frame and
// libvpx decodes every frame from there on.
TEST(VideoPipeline, EmbeddedPatternLossRecoveryWithDecoder) {
  auto src = internal::CreatePreencodedPatternSource(kStart, 100);  // several packets per frame
  auto sink = internal::CreateVp8Sink(true);
  uint16_t seq = 1000;
  bool requested = false;
  uint64_t decoded_at_request = 0;
  for (int i = 0; i < 60; ++i) {
    Instant now = src->NextDeadline();
    auto payloads = src->Pull(now);
    for (size_t j = 0; j < payloads.size(); ++j) {
      uint16_t s = seq++;
      if (i == 10 && j == 1) {  // lose the second packet of frame 10
        ASSERT_GT(payloads.size(), 2u);
        continue;
      }
      sink->OnRtp(s, payloads[j].timestamp, payloads[j].marker, payloads[j].payload, now);
    }
    if (sink->TakeKeyframeRequest()) {
      EXPECT_FALSE(requested) << "one request (rate limited), at frame " << i;
      EXPECT_EQ(i, 11);  // frame 11 completed while frame 10 had a gap
      requested = true;
      decoded_at_request = sink->Info().frames_decoded;
      src->RequestKeyframe();
    }
  }
  ASSERT_TRUE(requested);
  auto info = sink->Info();
  EXPECT_EQ(decoded_at_request, 10u);  // frames 0..9
  EXPECT_EQ(src->keyframes_encoded(), 2u);  // frame 0 and the requested one (frame 12)
  EXPECT_EQ(info.keyframes_received, 2u);
  EXPECT_EQ(info.frames_dropped, 2u);
  EXPECT_EQ(info.frames_decoded, 58u);
  EXPECT_EQ(info.frames_received, info.frames_decoded);
  EXPECT_EQ(sink->malformed_payloads(), 0u);
}
#endif  // REFRTC_HAVE_VPX_DECODER

TEST(VideoPipeline, NoKeyframeWithin500MsRequestsOneRateLimited) {
  auto src = internal::CreatePreencodedPatternSource(kStart, 1200);
  auto sink = internal::CreateVp8Sink(false);
  auto packets = Generate(*src, 40);
  // Skip the key frame (frame 0's packets).
  size_t first_delta = 0;
  while (packets[first_delta].frame_index == 0) ++first_delta;
  int requests = 0;
  std::vector<int> request_ms;
  Instant now = kStart;
  for (size_t i = first_delta; i < packets.size(); ++i) {
    now = kStart + std::chrono::milliseconds(33 * packets[i].frame_index);
    sink->OnRtp(packets[i].seq, packets[i].ts, packets[i].marker, packets[i].payload, now);
    if (sink->TakeKeyframeRequest()) {
      ++requests;
      request_ms.push_back(static_cast<int>(ToMillis(now - kStart)));
    }
  }
  ASSERT_GE(requests, 2);
  // First packet at 33 ms: the first request comes 500 ms later, the next >= 300 ms after it.
  EXPECT_GE(request_ms[0], 533);
  EXPECT_LT(request_ms[0], 533 + 40);
  EXPECT_GE(request_ms[1] - request_ms[0], 300);
  EXPECT_EQ(sink->Info().frames_received, 0u);
  EXPECT_GT(sink->Info().frames_dropped, 0u);
}

TEST(VideoPipeline, MalformedPayloadsAreCountedAndDropped) {
  auto sink = internal::CreateVp8Sink(true);
  Instant now = kStart;
  std::vector<Bytes> bad = {{0x90}, {0x90, 0x80}, {0x90, 0x80, 0x81}, {0x90, 0x80, 0x81, 0x00},
                            {0x80, 0x60, 0x01}, {0x80, 0x10}};
  uint16_t seq = 0;
  for (const auto& b : bad) sink->OnRtp(seq++, 0, true, b, now);
  EXPECT_EQ(sink->malformed_payloads(), bad.size());
  // A well-formed descriptor around a frame with a broken key frame header: counted at assembly.
  Bytes broken_key = {0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2b, 0x40, 0x01, 0xF0, 0x00};
  sink->OnRtp(seq++, 3000, true, broken_key, now);
  EXPECT_EQ(sink->malformed_payloads(), bad.size() + 1);
  // Garbage that passes the key frame header check must not crash the decoder.
  Bytes fake_key = {0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xF0, 0x00, 1, 2, 3, 4, 5};
  sink->OnRtp(seq++, 6000, true, fake_key, now);
  auto info = sink->Info();
  EXPECT_EQ(info.frames_decoded, 0u);
  EXPECT_EQ(info.keyframes_received, 1u);
  // The real stream still decodes afterwards.
  auto src = internal::CreatePreencodedPatternSource(kStart, 1200);
  auto packets = Generate(*src, 10, seq, 9000);
  Feed(*sink, packets, std::chrono::milliseconds(3));
  EXPECT_GE(sink->Info().frames_received, 10u);
}

TEST(VideoPipeline, PaddingPacketsBetweenFramesAreNotLosses) {
  auto src = internal::CreatePreencodedPatternSource(kStart, 1200);
  auto sink = internal::CreateVp8Sink(true);
  auto packets = Generate(*src, 30, 0, 0);
  // After every frame, two padding-only packets (empty after padding removal); one in three of
  // them is lost on the way, which only PictureID continuity can tell from a lost frame.
  std::vector<Packet> with_padding;
  uint16_t seq = 0;
  int n = 0;
  for (size_t i = 0; i < packets.size(); ++i) {
    Packet p = packets[i];
    p.seq = seq++;
    with_padding.push_back(p);
    if (p.marker) {
      for (int k = 0; k < 2; ++k) {
        Packet pad{seq++, p.ts, false, {}, p.frame_index, false};
        if (++n % 3 != 0) with_padding.push_back(pad);
      }
    }
  }
  Feed(*sink, with_padding, std::chrono::milliseconds(3));
  auto info = sink->Info();
  EXPECT_EQ(info.frames_received, 30u);
  EXPECT_EQ(info.frames_dropped, 0u);
  EXPECT_EQ(sink->malformed_payloads(), 0u);
  EXPECT_FALSE(sink->TakeKeyframeRequest());
}

// A whole frame lost, or a frame's last packet lost and followed by padding: both leave a
// sequence gap before a complete frame whose PictureID is not the next one.
TEST(VideoPipeline, LostFramesBehindGapsAreDetected) {
  for (int variant = 0; variant < 2; ++variant) {
    auto src = internal::CreatePreencodedPatternSource(kStart, 300);
    auto sink = internal::CreateVp8Sink(true);
    auto packets = Generate(*src, 20, 0, 0);
    std::vector<Packet> sent;
    uint16_t seq = 0;
    for (const auto& p : packets) {
      Packet q = p;
      q.seq = seq++;
      bool lose = variant == 0 ? p.frame_index == 5 : (p.frame_index == 5 && p.marker);
      if (!lose) sent.push_back(q);
      if (variant == 1 && p.marker && p.frame_index == 5) sent.push_back(Packet{seq++, p.ts, false, {}, 5, false});
    }
    Feed(*sink, sent, std::chrono::milliseconds(3));
    EXPECT_TRUE(sink->TakeKeyframeRequest()) << variant;
    auto info = sink->Info();
    EXPECT_EQ(info.frames_received, 5u) << variant;  // 0..4; 6.. need a key frame
    EXPECT_EQ(info.frames_dropped, 1u + 14u) << variant;
  }
}

TEST(VideoPipeline, ReorderedAndDuplicatedPacketsWithinAFrame) {
  auto src = internal::CreatePreencodedPatternSource(kStart, 300);
  auto sink = internal::CreateVp8Sink(true);
  auto packets = Generate(*src, 30);
  std::vector<Packet> shuffled;
  // Reverse each frame's packets and send the first packet twice.
  size_t i = 0;
  while (i < packets.size()) {
    size_t j = i;
    while (j < packets.size() && packets[j].frame_index == packets[i].frame_index) ++j;
    for (size_t k = j; k > i; --k) shuffled.push_back(packets[k - 1]);
    shuffled.push_back(packets[i]);
    i = j;
  }
  Feed(*sink, shuffled, std::chrono::milliseconds(1));
  auto info = sink->Info();
  EXPECT_EQ(info.frames_received, 30u);
  EXPECT_EQ(info.frames_dropped, 0u);
  EXPECT_FALSE(sink->TakeKeyframeRequest());
}

}  // namespace
}  // namespace refrtc::media
