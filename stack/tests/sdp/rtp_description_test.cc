// sdp/rtp_description: the RTP attributes of audio/video m-sections (RFC 8866 §6.6, RFC 4585 §4.2,
// RFC 8285 §8, RFC 8830 §2, RFC 5576 §4) and RFC 3264 §6.1 answer directions.
#include "sdp/rtp_description.h"

#include <gtest/gtest.h>

namespace refrtc::sdp {
namespace {

MediaSection Section(const std::string& body) {
  std::string text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + body;
  auto p = SessionDescription::Parse(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() && !p->media.empty() ? p->media[0] : MediaSection{};
}

TEST(RtpDescription, ParsesCodecsFeedbackRtxExtensionsSsrcs) {
  auto m = Section(
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97 100\r\n"
      "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      "a=extmap:5/sendonly urn:example\r\n"
      "a=sendonly\r\n"
      "a=msid:stream1 track1\r\n"
      "a=rtcp-mux\r\na=rtcp-rsize\r\n"
      "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
      "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
      "a=ssrc-group:FID 11 22\r\na=ssrc:11 cname:abc\r\na=ssrc:22 cname:abc\r\n");
  auto d = ParseRtpDescription(m);
  EXPECT_EQ(d.direction, "sendonly");
  ASSERT_EQ(d.codecs.size(), 2u) << "PT 100 has no rtpmap and is dropped";
  EXPECT_EQ(d.codecs[0].name, "VP8");
  EXPECT_TRUE(d.codecs[0].has_feedback("nack pli"));
  EXPECT_FALSE(d.codecs[0].has_feedback("ccm fir"));
  EXPECT_TRUE(d.codecs[1].is_rtx());
  EXPECT_EQ(d.codecs[1].apt(), 96);
  EXPECT_EQ(d.FindRtxFor(96), &d.codecs[1]);
  EXPECT_EQ(d.ExtensionId(kMidExtensionUri), 4);
  EXPECT_EQ(d.ExtensionId("urn:example"), 5);
  EXPECT_EQ(d.stream_ids, std::vector<std::string>{"stream1"});
  EXPECT_EQ(d.track_id, "track1");
  EXPECT_EQ(d.media_ssrc, 11u);
  EXPECT_EQ(d.rtx_ssrc, 22u);
  EXPECT_EQ(d.cname, "abc");
  EXPECT_TRUE(d.rtcp_mux);
  EXPECT_TRUE(d.rtcp_rsize);
}

TEST(RtpDescription, StaticPayloadTypesWithoutRtpmapAndMalformedLines) {
  auto m = Section(
      "m=audio 9 UDP/TLS/RTP/SAVPF 0 8 111 200\r\n"
      "a=rtpmap:111 opus/48000/2\r\n"
      "a=rtpmap:200 bogus/8000\r\n"      // PT out of range: ignored
      "a=rtpmap:111x opus\r\n"           // malformed: ignored
      "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
      "a=extmap:0 urn:bad-id\r\n"        // id 0 is invalid (RFC 8285 §5)
      "a=msid:- trk\r\n"
      "a=ssrc:notanumber cname:x\r\n");
  auto d = ParseRtpDescription(m);
  ASSERT_EQ(d.codecs.size(), 3u);
  EXPECT_EQ(d.codecs[0].name, "PCMU");
  EXPECT_EQ(d.codecs[1].name, "PCMA");
  EXPECT_EQ(d.codecs[2].name, "opus");
  EXPECT_EQ(d.codecs[2].channels, 2);
  EXPECT_EQ(d.codecs[2].fmtp, "minptime=10;useinbandfec=1");
  EXPECT_TRUE(d.extensions.empty());
  EXPECT_TRUE(d.stream_ids.empty());
  EXPECT_EQ(d.track_id, "trk");
  EXPECT_TRUE(d.ssrcs.empty());
  EXPECT_EQ(d.direction, "sendrecv") << "RFC 8866 §6.7: no direction attribute means sendrecv";
}

TEST(RtpDescription, WriteThenParseRoundTrips) {
  RtpDescription d;
  d.kind = "video";
  d.direction = "recvonly";
  d.codecs = {RtpCodec{96, "VP8", 90000, 1, "", {"nack", "nack pli"}}, RtpCodec{97, "rtx", 90000, 1, "apt=96", {}}};
  d.extensions = {RtpExtension{4, std::string(kMidExtensionUri)}};
  d.stream_ids = {"s"};
  d.track_id = "t";
  d.media_ssrc = 1234;
  d.rtx_ssrc = 5678;
  d.cname = "cn";
  d.rtcp_mux = true;
  MediaSection m;
  m.media = "video";
  WriteRtpDescription(d, m);
  EXPECT_EQ(m.formats, (std::vector<std::string>{"96", "97"}));
  auto back = ParseRtpDescription(m);
  EXPECT_EQ(back.direction, "recvonly");
  ASSERT_EQ(back.codecs.size(), 2u);
  EXPECT_EQ(back.codecs[0].rtcp_fb, d.codecs[0].rtcp_fb);
  EXPECT_EQ(back.codecs[1].apt(), 96);
  EXPECT_EQ(back.media_ssrc, 1234u);
  EXPECT_EQ(back.rtx_ssrc, 5678u);
  EXPECT_EQ(back.cname, "cn");
  EXPECT_EQ(back.stream_ids, d.stream_ids);
  EXPECT_EQ(back.track_id, "t");
}

TEST(RtpDescription, AnswerDirections) {
  // RFC 3264 §6.1 table.
  EXPECT_EQ(AnswerDirection("sendrecv", "sendrecv"), "sendrecv");
  EXPECT_EQ(AnswerDirection("sendonly", "sendrecv"), "recvonly");
  EXPECT_EQ(AnswerDirection("recvonly", "sendrecv"), "sendonly");
  EXPECT_EQ(AnswerDirection("inactive", "sendrecv"), "inactive");
  EXPECT_EQ(AnswerDirection("sendrecv", "recvonly"), "recvonly");
  EXPECT_EQ(AnswerDirection("sendonly", "sendonly"), "inactive");
  EXPECT_EQ(ReverseDirection("sendonly"), "recvonly");
  EXPECT_EQ(ReverseDirection("inactive"), "inactive");
}

}  // namespace
}  // namespace refrtc::sdp
