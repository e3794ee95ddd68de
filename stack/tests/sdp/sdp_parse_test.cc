// SDP parser/serializer: structure, leniency decisions, error messages with line numbers.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "sdp/sdp.h"

namespace refrtc::sdp {
namespace {

// Joins lines with CRLF (and a final CRLF).
std::string Sdp(std::initializer_list<const char*> lines) {
  return absl::StrJoin(lines, "\r\n") + "\r\n";
}

std::string Minimal() {
  return Sdp({"v=0", "o=- 123 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
              "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0",
              "a=mid:0", "a=sctp-port:5000"});
}

void ExpectError(const std::string& text, int line, absl::string_view fragment) {
  auto sd = SessionDescription::Parse(text);
  ASSERT_FALSE(sd.ok()) << text;
  EXPECT_EQ(sd.status().code(), absl::StatusCode::kInvalidArgument);
  std::string msg(sd.status().message());
  if (line > 0) {
    EXPECT_TRUE(absl::StartsWith(msg, "SDP line " + std::to_string(line) + ":")) << msg;
  }
  EXPECT_TRUE(absl::StrContains(msg, fragment)) << msg;
}

TEST(SdpParse, MinimalFields) {
  auto sd = SessionDescription::Parse(Minimal());
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->version, 0);
  EXPECT_EQ(sd->origin_username, "-");
  EXPECT_EQ(sd->session_id, 123u);
  EXPECT_EQ(sd->session_version, 2u);
  EXPECT_EQ(sd->origin_nettype, "IN");
  EXPECT_EQ(sd->origin_addrtype, "IP4");
  EXPECT_EQ(sd->origin_address, "127.0.0.1");
  EXPECT_EQ(sd->session_name, "-");
  EXPECT_EQ(sd->timing, "0 0");
  ASSERT_EQ(sd->attributes.size(), 1u);
  EXPECT_EQ(sd->attributes[0], (Attribute{"group", std::string("BUNDLE 0")}));
  ASSERT_EQ(sd->media.size(), 1u);
  const auto& m = sd->media[0];
  EXPECT_EQ(m.media, "application");
  EXPECT_EQ(m.port, 9);
  EXPECT_EQ(m.num_ports, 0);
  EXPECT_EQ(m.protocol, "UDP/DTLS/SCTP");
  EXPECT_EQ(m.connection, "IN IP4 0.0.0.0");
  EXPECT_EQ(m.mid(), "0");
  EXPECT_EQ(m.sctp_port(), 5000);
  EXPECT_FALSE(m.max_message_size().has_value());
  EXPECT_FALSE(m.rejected());
  EXPECT_EQ(sd->Serialize(), Minimal());
}

TEST(SdpParse, LfOnlyAndTrailingBlankLines) {
  std::string lf = absl::StrReplaceAll(Minimal(), {{"\r\n", "\n"}});
  auto a = SessionDescription::Parse(lf);
  auto b = SessionDescription::Parse(Minimal() + "\r\n\r\n");
  auto c = SessionDescription::Parse(lf.substr(0, lf.size() - 1));  // no final newline
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->Serialize(), Minimal());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
}

TEST(SdpParse, AttributeValuesVerbatim) {
  auto sd = SessionDescription::Parse(
      Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=", "t=0 0", "a=msid-semantic: WMS",
           "a=flag", "a=empty:", "a=colons:a:b:c", "m=audio 9 RTP/AVP 0", "a=sendonly",
           "a=inactive", "a=rtpmap:0 PCMU/8000"}));
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->session_name, "");
  EXPECT_EQ(sd->GetAttribute("msid-semantic"), " WMS");
  EXPECT_EQ(sd->attributes[1].value, std::nullopt);
  EXPECT_EQ(sd->GetAttribute("flag"), "");
  EXPECT_EQ(sd->attributes[2].value, std::string(""));
  EXPECT_EQ(sd->GetAttribute("colons"), "a:b:c");
  EXPECT_FALSE(sd->GetAttribute("absent").has_value());
  EXPECT_EQ(sd->media[0].direction(), "inactive");  // the last direction attribute wins
  EXPECT_EQ(sd->media[0].GetAttribute("rtpmap"), "0 PCMU/8000");
  // "a=empty:" and "a=flag" stay distinct on the way out.
  std::string out = sd->Serialize();
  EXPECT_TRUE(absl::StrContains(out, "\r\na=flag\r\na=empty:\r\n")) << out;
}

TEST(SdpParse, OptionalLinesKeptAndPutInGrammarOrder) {
  // RFC 8866 §5 lines given out of order at session level, plus unknown line types.
  std::string in = Sdp({"v=0", "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1",
                        "s=Call to John Smith", "t=3724394400 3724398000", "r=604800 3600 0 90000",
                        "i=SDP Offer #1", "u=http://www.jdoe.example.com/home.html",
                        "e=Jane Doe <jane@jdoe.example.com>", "p=+1 617 555-6011",
                        "c=IN IP4 198.51.100.1", "b=AS:128", "t=0 0", "z=2882844526 -1h",
                        "k=prompt", "x=unknown type", "a=recvonly",
                        "m=audio 49170/2 RTP/AVP 0", "a=foo", "b=AS:64", "i=audio", "k=clear:x",
                        "c=IN IP4 233.252.0.1/127", "c=IN IP4 233.252.0.2/127",
                        "m=video 51372 RTP/AVP 99 100", "y=media unknown", "a=rtpmap:99 h263-1998/90000"});
  auto sd = SessionDescription::Parse(in);
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->origin_username, "jdoe");
  EXPECT_EQ(sd->connection, "IN IP4 198.51.100.1");
  EXPECT_EQ(sd->timing, "3724394400 3724398000");
  EXPECT_EQ(sd->media[0].port, 49170);
  EXPECT_EQ(sd->media[0].num_ports, 2);
  EXPECT_EQ(sd->media[0].connection, "IN IP4 233.252.0.1/127");
  EXPECT_EQ(sd->media[1].formats, (std::vector<std::string>{"99", "100"}));
  const std::string expected =
      Sdp({"v=0", "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1", "s=Call to John Smith",
           "i=SDP Offer #1", "u=http://www.jdoe.example.com/home.html",
           "e=Jane Doe <jane@jdoe.example.com>", "p=+1 617 555-6011", "c=IN IP4 198.51.100.1",
           "b=AS:128", "t=3724394400 3724398000", "r=604800 3600 0 90000", "t=0 0",
           "z=2882844526 -1h", "k=prompt", "x=unknown type", "a=recvonly",
           "m=audio 49170/2 RTP/AVP 0", "i=audio", "c=IN IP4 233.252.0.1/127",
           "c=IN IP4 233.252.0.2/127", "b=AS:64", "k=clear:x", "a=foo",
           "m=video 51372 RTP/AVP 99 100", "y=media unknown", "a=rtpmap:99 h263-1998/90000"});
  EXPECT_EQ(sd->Serialize(), expected);
  auto again = SessionDescription::Parse(expected);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *sd);
  EXPECT_EQ(again->Serialize(), expected);
}

TEST(SdpParse, ModelRoundTripIsByteStable) {
  SessionDescription m;
  m.session_id = 18446744073709551615ull;  // max uint64 survives
  m.session_version = 7;
  m.AddAttribute("group", "BUNDLE a b");
  MediaSection s;
  s.media = "video";
  s.port = 0;
  s.protocol = "UDP/TLS/RTP/SAVPF";
  s.formats = {"96"};
  s.AddAttribute("mid", "a");
  s.AddAttribute("bundle-only");
  m.media.push_back(s);
  std::string once = m.Serialize();
  auto parsed = SessionDescription::Parse(once);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, m);
  EXPECT_EQ(parsed->Serialize(), once);
  EXPECT_TRUE(parsed->media[0].bundle_only());
  EXPECT_FALSE(parsed->media[0].rejected());
}

TEST(SdpParse, AttributeEditing) {
  MediaSection m;
  m.AddAttribute("candidate", "1 1 udp 1 1.2.3.4 5 typ host");
  m.AddAttribute("x", "1");
  m.AddAttribute("candidate", "2 1 udp 1 1.2.3.4 6 typ host");
  m.AddAttribute("x", "2");
  EXPECT_EQ(m.GetAttributes("x"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(m.candidates(), (std::vector<std::string>{"candidate:1 1 udp 1 1.2.3.4 5 typ host",
                                                      "candidate:2 1 udp 1 1.2.3.4 6 typ host"}));
  m.SetAttribute("x", "3");  // replaces the first, drops the rest
  EXPECT_EQ(m.GetAttributes("x"), std::vector<std::string>{"3"});
  EXPECT_EQ(m.attributes[1].key, "x");
  m.SetAttribute("y", std::nullopt);
  EXPECT_EQ(m.attributes.back(), (Attribute{"y", std::nullopt}));
  m.RemoveAttributes("candidate");
  EXPECT_TRUE(m.candidates().empty());
  EXPECT_EQ(m.attributes.size(), 2u);
}

TEST(SdpParse, LegacySctpmapAndMalformedTypedValues) {
  auto sd = SessionDescription::Parse(
      Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "m=application 9 DTLS/SCTP 5001",
           "a=sctpmap:5001 webrtc-datachannel 1024", "m=application 9 DTLS/SCTP 5002",
           "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=sctp-port:70000",
           "a=max-message-size:big", "a=fingerprint:sha-256"}));
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->media[0].sctp_port(), 5001);
  EXPECT_EQ(sd->media[1].sctp_port(), 5002);  // from the m= format alone
  EXPECT_FALSE(sd->media[2].sctp_port().has_value());
  EXPECT_FALSE(sd->media[2].max_message_size().has_value());
  EXPECT_TRUE(sd->media[2].fingerprints().empty());
}

TEST(SdpParse, SessionLevelFallback) {
  auto sd = SessionDescription::Parse(
      Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "c=IN IP6 ::1", "t=0 0", "a=ice-ufrag:sess",
           "a=ice-options:trickle", "a=fingerprint:sha-1 AA", "m=audio 9 RTP/AVP 0",
           "a=ice-ufrag:med1", "a=fingerprint:sha-256 BB", "a=fingerprint:sha-512 CC",
           "m=audio 9 RTP/AVP 0", "c=IN IP4 1.2.3.4", "a=ice-options:ice2"}));
  ASSERT_TRUE(sd.ok()) << sd.status();
  const auto& a = sd->media[0];
  const auto& b = sd->media[1];
  EXPECT_EQ(EffectiveAttribute(*sd, a, "ice-ufrag"), "med1");
  EXPECT_EQ(EffectiveAttribute(*sd, b, "ice-ufrag"), "sess");
  EXPECT_FALSE(EffectiveAttribute(*sd, b, "ice-pwd").has_value());
  EXPECT_EQ(EffectiveFingerprints(*sd, a),
            (std::vector<Fingerprint>{{"sha-256", "BB"}, {"sha-512", "CC"}}));
  EXPECT_EQ(EffectiveFingerprints(*sd, b), (std::vector<Fingerprint>{{"sha-1", "AA"}}));
  EXPECT_EQ(EffectiveIceOptions(*sd, a), std::vector<std::string>{"trickle"});
  EXPECT_EQ(EffectiveIceOptions(*sd, b), std::vector<std::string>{"ice2"});
  EXPECT_EQ(SplitIceOptions("ice2,trickle  x"), (std::vector<std::string>{"ice2", "trickle", "x"}));
  EXPECT_EQ(EffectiveConnection(*sd, a), "IN IP6 ::1");
  EXPECT_EQ(EffectiveConnection(*sd, b), "IN IP4 1.2.3.4");
}

TEST(SdpParse, StructuralErrorsCarryLineNumbers) {
  ExpectError("", 0, "empty");
  ExpectError("\r\n\r\n", 0, "empty");
  ExpectError(Sdp({"o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0"}), 1, "must start with v=");
  ExpectError(Sdp({"v=1", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0"}), 1, "version");
  ExpectError(Sdp({"v=0", "s=-", "t=0 0"}), 2, "o=");
  ExpectError(Sdp({"v=0"}), 2, "missing o=");
  ExpectError(Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0"}), 3, "missing s=");
  ExpectError(Sdp({"v=0", "o=- 1 1 IN IP4", "s=-", "t=0 0"}), 2, "6 fields");
  ExpectError(Sdp({"v=0", "o=- x 1 IN IP4 0.0.0.0", "s=-", "t=0 0"}), 2, "session id");
  ExpectError(Sdp({"v=0", "o=- 18446744073709551616 1 IN IP4 0.0.0.0", "s=-", "t=0 0"}), 2,
              "session id");
  ExpectError(Sdp({"v=0", "o=- 1 -1 IN IP4 0.0.0.0", "s=-", "t=0 0"}), 2, "session version");
  ExpectError(Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "t=0 0"}), 3, "s=");
  ExpectError(Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-"}), 4, "missing t=");
  ExpectError(Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "m=audio 9 RTP/AVP 0", "t=0 0"}), 4,
              "missing t=");
  ExpectError(Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=now"}), 4, "t= line");
  ExpectError(Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "r=1 2 3", "t=0 0"}), 4, "r= line");
  ExpectError(Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "v=0"}), 5, "duplicate v=");
  ExpectError(Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "s=x"}), 5, "duplicate s=");
}

TEST(SdpParse, LineSyntaxErrors) {
  auto with = [](const char* line) {
    return Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "m=audio 9 RTP/AVP 0", line});
  };
  ExpectError(with("") + "a=x\r\n", 6, "malformed line");  // blank line in the middle
  ExpectError(with("a=x") + "\r\nb=AS:1\r\n", 7, "malformed line");
  ExpectError(with("hello"), 6, "malformed line");
  ExpectError(with("A=x"), 6, "malformed line");
  ExpectError(with(" a=x"), 6, "malformed line");
  ExpectError(with("a=x\rb"), 6, "NUL or CR");
  ExpectError(with("a="), 6, "attribute without a name");
  ExpectError(with("a=:value"), 6, "attribute without a name");
  ExpectError(with("c=IN IP4"), 6, "c= line");
  ExpectError(with("t=0 0"), 6, "not allowed in a media section");
  std::string nul = with("a=x");
  nul.insert(nul.size() - 3, 1, '\0');
  ExpectError(nul, 6, "NUL or CR");
}

TEST(SdpParse, MediaLineErrors) {
  auto with = [](const char* mline) {
    return Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", mline, "a=mid:0"});
  };
  ExpectError(with("m=application 9 UDP/DTLS/SCTP"), 5, "m= line needs");
  ExpectError(with("m=application"), 5, "m= line needs");
  ExpectError(with("m=application nine UDP/DTLS/SCTP webrtc-datachannel"), 5, "port");
  ExpectError(with("m=application 65536 UDP/DTLS/SCTP webrtc-datachannel"), 5, "port");
  ExpectError(with("m=application -1 UDP/DTLS/SCTP webrtc-datachannel"), 5, "port");
  ExpectError(with("m=audio 9/0 RTP/AVP 0"), 5, "number of ports");
  ExpectError(with("m=audio 9/x RTP/AVP 0"), 5, "number of ports");
  ExpectError(with("m=audio /2 RTP/AVP 0"), 5, "port");
  EXPECT_TRUE(SessionDescription::Parse(with("m=audio 65535 RTP/AVP 0")).ok());
}

TEST(SdpParse, MediaLevelAttributesBeforeFirstMediaLine) {
  // Decided: a=mid / a=candidate / a=sctp-port / a=rtpmap at session level are errors (they are
  // media-level only and would be silently lost); other session-level attributes, known or
  // unknown, are kept.
  for (const char* attr : {"a=mid:0", "a=candidate:1 1 udp 1 1.2.3.4 5 typ host",
                           "a=sctp-port:5000", "a=rtpmap:0 PCMU/8000"}) {
    ExpectError(Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", attr}), 5, "media-level");
  }
  auto ok = SessionDescription::Parse(Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0",
                                           "a=x-unknown:1", "a=setup:actpass",
                                           "a=end-of-candidates"}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->attributes.size(), 3u);
  EXPECT_TRUE(ok->media.empty());
}

TEST(SdpParse, ErrorMessageExcerptIsSanitizedAndShort) {
  std::string longline = "m=" + std::string(500, 'x');
  auto sd = SessionDescription::Parse(
      Sdp({"v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", longline.c_str()}));
  ASSERT_FALSE(sd.ok());
  EXPECT_LT(sd.status().message().size(), 160u);
}

}  // namespace
}  // namespace refrtc::sdp
