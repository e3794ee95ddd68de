// Security regressions of the SDP parser (issue F): hostile descriptions from the remote peer are
// rejected with a clear status or their bad parts ignored, and never cost unbounded memory or
// time. The limits are the constants in sdp/sdp.h (documented in docs/LIMITS.md).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sdp/rtp_description.h"
#include "sdp/sdp.h"
#include "sdp/sdp_validate.h"

namespace refrtc::sdp {
namespace {

constexpr const char* kHead =
    "v=0\r\n"
    "o=- 1 1 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n";

std::string AudioSection(absl::string_view formats, absl::string_view extra = "") {
  return absl::StrCat("m=audio 9 UDP/TLS/RTP/SAVPF ", formats,
                      "\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n", extra);
}

std::string DataSection(size_t index) {
  return absl::StrCat("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:", index,
                      "\r\na=sctp-port:5000\r\n");
}

void ExpectExhausted(const absl::StatusOr<SessionDescription>& sd, absl::string_view fragment) {
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.status().code(), absl::StatusCode::kResourceExhausted) << sd.status();
  EXPECT_TRUE(absl::StrContains(sd.status().message(), fragment)) << sd.status();
}

// The whole suite must stay fast even though it builds multi-MiB inputs: a limit check that
// only fires after the whole input was processed quadratically would show up here.
class Timed {
 public:
  Timed() : start_(std::chrono::steady_clock::now()) {}
  double ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// RFC 8866 §5: "values ... MUST NOT contain NUL, CR or LF". A NUL inside a line (which would cut
// the value short for a C-string consumer) rejects the whole description with the line number.
TEST(SdpSecurity, NulByteInsideAnAttributeIsRejected) {
  std::string text = absl::StrCat(kHead, AudioSection("111", "a=rtpmap:111 opus/48000/2\r\n"));
  text.insert(text.find("opus") + 2, 1, '\0');
  auto sd = SessionDescription::Parse(text);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(sd.status().message(), "SDP line 8: line contains a NUL"))
      << sd.status();
  // The excerpt in the message never carries the NUL (or other control bytes) itself.
  EXPECT_EQ(sd.status().message().find('\0'), absl::string_view::npos);
}

// Same, in the o= and m= lines where a NUL could split a numeric field.
TEST(SdpSecurity, NulByteInsideStructuralLinesIsRejected) {
  std::string origin = absl::StrCat(kHead, AudioSection("0"));
  origin.insert(origin.find("o=- 1") + 4, 1, '\0');
  EXPECT_FALSE(SessionDescription::Parse(origin).ok());
  std::string mline = absl::StrCat(kHead, AudioSection("0"));
  mline.insert(mline.find("SAVPF") + 6, 1, '\0');
  auto sd = SessionDescription::Parse(mline);
  ASSERT_FALSE(sd.ok());
  EXPECT_TRUE(absl::StrContains(sd.status().message(), "SDP line 5")) << sd.status();
}

// RFC 3550 §5.1: PT is 7 bits; RFC 8866 §5.14 fmt for RTP is the payload type. Out-of-range
// values in the m= format list must be ignored, never truncated: 2^32+111 (wraps to 111 as
// uint32), 367 (wraps to 111 as uint8), 4294967295, 128, -1, "+111" (not a plain integer).
TEST(SdpSecurity, HugePayloadTypesInFormatListAreIgnoredNotWrapped) {
  const std::string text = absl::StrCat(
      kHead, AudioSection("4294967407 367 4294967295 4294967296 128 -1 +111 0111x 0",
                          "a=rtpmap:4294967407 opus/48000/2\r\n"
                          "a=rtpmap:367 opus/48000/2\r\n"
                          "a=rtpmap:128 opus/48000/2\r\n"
                          "a=rtpmap:-1 opus/48000/2\r\n"));
  auto sd = SessionDescription::Parse(text);
  ASSERT_TRUE(sd.ok()) << sd.status();  // the syntax is fine; the formats are unusable
  RtpDescription d = ParseRtpDescription(sd->media[0]);
  ASSERT_EQ(d.codecs.size(), 1u);  // only the static PCMU (PT 0)
  EXPECT_EQ(d.codecs[0].payload_type, 0);
  EXPECT_EQ(d.codecs[0].name, "PCMU");
  EXPECT_EQ(d.FindCodec(111), nullptr);
  EXPECT_EQ(d.FindCodec(127), nullptr);  // 2^32-1 truncated to uint8 would be 255/127
}

// RFC 8866 §6.6 / RFC 4585 §4.2: a=rtpmap, a=fmtp and a=rtcp-fb name a payload type of the m=
// line. A huge value there must not be wrapped onto a real format (here 111 = opus).
TEST(SdpSecurity, HugePayloadTypesInRtpmapFmtpRtcpFbDoNotAlterRealCodecs) {
  const std::string text = absl::StrCat(
      kHead, AudioSection("111",
                          "a=rtpmap:111 opus/48000/2\r\n"
                          "a=rtpmap:4294967407 evil/8000\r\n"  // 2^32 + 111
                          "a=rtpmap:367 evil/8000\r\n"         // 256 + 111
                          "a=fmtp:4294967407 apt=0\r\n"
                          "a=fmtp:367 evil=1\r\n"
                          "a=fmtp:-1 evil=1\r\n"
                          "a=rtcp-fb:4294967407 evil\r\n"
                          "a=rtcp-fb:4294967295 evil\r\n"
                          "a=rtcp-fb:128 evil\r\n"
                          "a=rtpmap:111 opus/4294967296/2\r\n"    // clock rate past 32 bits
                          "a=rtpmap:111 opus/48000/4294967298\r\n"  // channels past 32 bits
                          "a=fmtp:111 minptime=10;apt=4294967407\r\n"));
  auto sd = SessionDescription::Parse(text);
  ASSERT_TRUE(sd.ok()) << sd.status();
  RtpDescription d = ParseRtpDescription(sd->media[0]);
  ASSERT_EQ(d.codecs.size(), 1u);
  const RtpCodec& opus = d.codecs[0];
  EXPECT_EQ(opus.payload_type, 111);
  EXPECT_EQ(opus.name, "opus");
  EXPECT_EQ(opus.clock_rate, 48000u);  // the bad second rtpmap is ignored
  EXPECT_EQ(opus.channels, 1);  // the last usable rtpmap had 2^32+2 channels: not used as 2
  EXPECT_TRUE(opus.rtcp_fb.empty());
  EXPECT_EQ(opus.fmtp, "minptime=10;apt=4294967407");
  EXPECT_FALSE(opus.apt().has_value());  // apt=2^32+111 is not apt=111
}

// Repeated formats ("m=audio ... 0 0 0 ...") are listed once, so the codec list (and the
// rtpmap/fmtp lookups over it) stays at most 128 entries.
TEST(SdpSecurity, RepeatedFormatsYieldOneCodecEach) {
  std::string formats;
  for (int i = 0; i < 200; ++i) absl::StrAppend(&formats, i == 0 ? "" : " ", i % 2 == 0 ? "0" : "8");
  auto sd = SessionDescription::Parse(absl::StrCat(kHead, AudioSection(formats)));
  ASSERT_TRUE(sd.ok()) << sd.status();
  RtpDescription d = ParseRtpDescription(sd->media[0]);
  EXPECT_EQ(d.codecs.size(), 2u);
}

// Formats per m= line are capped (kMaxFormats): 100,000 formats is not a description.
TEST(SdpSecurity, TooManyFormatsOnAnMLineAreRejected) {
  std::string formats;
  for (size_t i = 0; i <= kMaxFormats; ++i) absl::StrAppend(&formats, i == 0 ? "" : " ", i % 128);
  ExpectExhausted(SessionDescription::Parse(absl::StrCat(kHead, AudioSection(formats))),
                  "formats exceed the limit");
  // At the limit it parses.
  formats.resize(formats.rfind(' '));
  EXPECT_TRUE(SessionDescription::Parse(absl::StrCat(kHead, AudioSection(formats))).ok());
}

// 10,000 m=application sections: more than kMaxMediaSections is rejected at the first one past
// the limit (before the rest is parsed); exactly the limit is accepted.
TEST(SdpSecurity, TenThousandMediaSectionsAreRejected) {
  Timed t;
  std::string text = kHead;
  for (size_t i = 0; i < 10000; ++i) text += DataSection(i);
  ExpectExhausted(SessionDescription::Parse(text), "m= sections");

  std::string at_limit = kHead;
  for (size_t i = 0; i < kMaxMediaSections; ++i) at_limit += DataSection(i);
  auto ok = SessionDescription::Parse(at_limit);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->media.size(), kMaxMediaSections);
  std::string over = at_limit + DataSection(kMaxMediaSections);
  ExpectExhausted(SessionDescription::Parse(over), absl::StrCat("limit of ", kMaxMediaSections));
  EXPECT_LT(t.ms(), 2000);
}

// 10,000 m=audio sections: same limit, whatever the media type.
TEST(SdpSecurity, TenThousandAudioSectionsAreRejected) {
  std::string text = kHead;
  for (size_t i = 0; i < 10000; ++i) text += "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n";
  ExpectExhausted(SessionDescription::Parse(text), "m= sections");
}

// 100,000 a=candidate lines (RFC 8839 §5.1): the description is over kMaxSdpSize already
// (~6 MiB); and a description within the size limit but with more than
// kMaxCandidatesPerSection candidates in one section is rejected too.
TEST(SdpSecurity, HundredThousandCandidatesAreRejected) {
  Timed t;
  std::string text = absl::StrCat(kHead, DataSection(0));
  for (int i = 0; i < 100000; ++i) {
    absl::StrAppend(&text, "a=candidate:", i, " 1 udp 2122260223 10.0.", (i >> 8) & 255, ".",
                    i & 255, " ", 1024 + i % 60000, " typ host\r\n");
  }
  ASSERT_GT(text.size(), kMaxSdpSize);
  ExpectExhausted(SessionDescription::Parse(text), "exceeds the limit");

  std::string within = absl::StrCat(kHead, DataSection(0));
  for (size_t i = 0; i <= kMaxCandidatesPerSection; ++i) {
    absl::StrAppend(&within, "a=candidate:", i, " 1 udp 2122260223 10.0.0.1 ", 1024 + i, " typ host\r\n");
  }
  ASSERT_LT(within.size(), kMaxSdpSize);
  ExpectExhausted(SessionDescription::Parse(within), "a=candidate lines");
  // One fewer parses, with every candidate kept.
  within.resize(within.rfind("a=candidate:"));
  auto sd = SessionDescription::Parse(within);
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->media[0].candidates().size(), kMaxCandidatesPerSection);
  EXPECT_LT(t.ms(), 2000);
}

// The candidate limit is per m= section: two sections with kMaxCandidatesPerSection each are fine.
TEST(SdpSecurity, CandidateLimitIsPerSection) {
  std::string text = kHead;
  for (int s = 0; s < 2; ++s) {
    text += DataSection(s);
    for (size_t i = 0; i < kMaxCandidatesPerSection; ++i) {
      absl::StrAppend(&text, "a=candidate:", i, " 1 udp 1 10.0.0.", s + 1, " ", 1024 + i, " typ host\r\n");
    }
  }
  auto sd = SessionDescription::Parse(text);
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->media[1].candidates().size(), kMaxCandidatesPerSection);
}

// A single 1 MiB a=fingerprint line (and a 1 MiB a=candidate line): over kMaxLineLength, rejected
// with the line number and a short excerpt (the error message does not echo the megabyte).
TEST(SdpSecurity, OneMebibyteLinesAreRejected) {
  const std::string huge(1024 * 1024, 'A');
  for (const std::string attr : {absl::StrCat("a=fingerprint:sha-256 ", huge),
                                 absl::StrCat("a=candidate:1 1 udp 1 10.0.0.1 9 typ host ", huge)}) {
    auto sd = SessionDescription::Parse(absl::StrCat(kHead, DataSection(0), attr, "\r\n"));
    ExpectExhausted(sd, "SDP line 8:");
    EXPECT_TRUE(absl::StrContains(sd.status().message(), "line limit")) << sd.status();
    EXPECT_LT(sd.status().message().size(), 300u);
  }
}

// The boundary: a line of exactly kMaxLineLength bytes parses; one more byte is rejected.
TEST(SdpSecurity, LineLengthLimitBoundary) {
  const std::string prefix = "a=x-long:";
  std::string at(kMaxLineLength - prefix.size(), 'b');
  auto ok = SessionDescription::Parse(absl::StrCat(kHead, DataSection(0), prefix, at, "\r\n"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->media[0].GetAttribute("x-long")->size(), at.size());
  ExpectExhausted(SessionDescription::Parse(absl::StrCat(kHead, DataSection(0), prefix, at, "b\r\n")),
                  "line limit");
}

// An SDP of several MiB is rejected up front by its size (kMaxSdpSize), without parsing it,
// even when every line is short and legal.
TEST(SdpSecurity, MultiMebibyteDescriptionIsRejected) {
  Timed t;
  std::string text = absl::StrCat(kHead, DataSection(0));
  const std::string line = absl::StrCat("a=x-filler:", std::string(1000, 'f'), "\r\n");
  while (text.size() <= 5 * 1024 * 1024) text += line;
  ExpectExhausted(SessionDescription::Parse(text), "exceeds the limit of 2097152");
  EXPECT_LT(t.ms(), 1000);
}

// The size limit counts line content, not line endings: a description of exactly kMaxSdpSize
// content bytes written with bare LFs parses, and so does its serialization (CRLF, one byte more
// per line) -- the round trip the SDP fuzzer checks. One content byte more is rejected.
TEST(SdpSecurity, SizeLimitBoundaryIsStableUnderSerialization) {
  std::string head = absl::StrCat("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\n",
                                  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=mid:0\n");
  size_t content = 0;
  for (absl::string_view l : {"v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0",
                              "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=mid:0"}) {
    content += l.size();
  }
  std::string text = head;
  const std::string filler(1000, 'f');
  while (content + 11 + filler.size() <= kMaxSdpSize) {
    absl::StrAppend(&text, "a=x-filler:", filler, "\n");
    content += 11 + filler.size();
  }
  const size_t rest = kMaxSdpSize - content;
  ASSERT_GE(rest, 12u);
  absl::StrAppend(&text, "a=x-last:", std::string(rest - 9, 'l'), "\n");
  auto sd = SessionDescription::Parse(text);
  ASSERT_TRUE(sd.ok()) << sd.status();
  const std::string serialized = sd->Serialize();
  EXPECT_GT(serialized.size(), kMaxSdpSize);  // CRLF endings
  auto again = SessionDescription::Parse(serialized);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *sd);
  text.insert(text.size() - 1, "l");
  ExpectExhausted(SessionDescription::Parse(text), "exceeds the limit of 2097152");
}

// Many tiny lines within the size limit ("a=x\n" is 4 bytes): capped by kMaxLines, so a 2 MiB
// description cannot expand to half a million Attribute objects.
TEST(SdpSecurity, TooManyLinesAreRejected) {
  std::string text = absl::StrCat(kHead, DataSection(0));
  while (text.size() < kMaxSdpSize - 8) text += "a=x\n";
  ExpectExhausted(SessionDescription::Parse(text), "lines");
}

// The RTP helpers must survive what the parser accepts: the largest format list with every
// rtpmap/fmtp/rtcp-fb line repeated stays linear (128 codecs at most).
TEST(SdpSecurity, RtpDescriptionOfLargestAcceptedSectionIsBounded) {
  Timed t;
  std::string formats, attrs;
  for (size_t i = 0; i < kMaxFormats; ++i) absl::StrAppend(&formats, i == 0 ? "" : " ", 96 + i % 32);
  for (int i = 0; i < 20000; ++i) {
    absl::StrAppend(&attrs, "a=rtpmap:", 96 + i % 32, " x/90000\r\na=rtcp-fb:", 96 + i % 32, " nack\r\n");
  }
  auto sd = SessionDescription::Parse(absl::StrCat(kHead, AudioSection(formats, attrs)));
  ASSERT_TRUE(sd.ok()) << sd.status();
  RtpDescription d = ParseRtpDescription(sd->media[0]);
  EXPECT_EQ(d.codecs.size(), 32u);
  EXPECT_LT(t.ms(), 2000);
}

}  // namespace
}  // namespace refrtc::sdp
