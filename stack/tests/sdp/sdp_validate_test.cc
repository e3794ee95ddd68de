// Validation helpers used by setRemoteDescription, and the data-session builder.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "sdp/jsep_builder.h"
#include "sdp/sdp.h"
#include "sdp/sdp_validate.h"

namespace refrtc::sdp {
namespace {

const char kFp[] =
    "D5:BC:2B:B6:77:D8:1C:E0:28:F2:C6:2D:64:23:AB:79:CA:DB:92:C6:B8:78:BA:3D:87:4C:2E:C3:7B:57:C4:57";

DataSessionParams Params() {
  DataSessionParams p;
  p.session_id = 1485344706389211264ull;
  p.session_version = 2;
  p.ice_ufrag = "1ytF";
  p.ice_pwd = "aQzBXyexpMupWQ96LB2gSwfV";
  p.fingerprint_value = kFp;
  return p;
}

void ExpectInvalid(const SessionDescription& sd, SdpType type, absl::string_view fragment) {
  auto st = ValidateDescription(sd, type);
  ASSERT_FALSE(st.ok()) << "expected failure containing: " << fragment;
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(st.message(), fragment)) << st.message();
}

TEST(SdpValidate, IceCredentials) {
  EXPECT_TRUE(ValidateIceUfrag("abcd").ok());
  EXPECT_TRUE(ValidateIceUfrag("a+/Z").ok());
  EXPECT_TRUE(ValidateIceUfrag(std::string(256, 'a')).ok());
  EXPECT_FALSE(ValidateIceUfrag("abc").ok());
  EXPECT_FALSE(ValidateIceUfrag(std::string(257, 'a')).ok());
  EXPECT_FALSE(ValidateIceUfrag("ab-d").ok());
  EXPECT_FALSE(ValidateIceUfrag("ab d").ok());
  EXPECT_TRUE(ValidateIcePwd(std::string(22, 'x')).ok());
  EXPECT_FALSE(ValidateIcePwd(std::string(21, 'x')).ok());
  EXPECT_FALSE(ValidateIcePwd(std::string(257, 'x')).ok());
  EXPECT_FALSE(ValidateIcePwd(std::string(21, 'x') + "=").ok());
  EXPECT_TRUE(absl::StrContains(ValidateIcePwd("short").message(), "ice-pwd"));
}

TEST(SdpValidate, Fingerprints) {
  EXPECT_TRUE(ValidateFingerprint({"sha-256", kFp}).ok());
  EXPECT_TRUE(ValidateFingerprint({"SHA-256", absl::AsciiStrToLower(kFp)}).ok());
  EXPECT_TRUE(ValidateFingerprint({"sha-1", "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"}).ok());
  EXPECT_FALSE(ValidateFingerprint({"sha-1", kFp}).ok());                 // wrong length
  EXPECT_FALSE(ValidateFingerprint({"sha-256", std::string(kFp) + ":"}).ok());
  EXPECT_FALSE(ValidateFingerprint({"sha-256", std::string(kFp).substr(3)}).ok());
  EXPECT_FALSE(ValidateFingerprint({"sha-256", std::string("G") + (kFp + 1)}).ok());
  EXPECT_FALSE(ValidateFingerprint({"sha-3", kFp}).ok());
  EXPECT_FALSE(ValidateFingerprint({"sha-256", ""}).ok());
}

TEST(SdpValidate, Setup) {
  EXPECT_TRUE(ValidateSetup("actpass", SdpType::kOffer).ok());
  EXPECT_TRUE(ValidateSetup("active", SdpType::kOffer).ok());
  EXPECT_TRUE(ValidateSetup("passive", SdpType::kAnswer).ok());
  EXPECT_TRUE(ValidateSetup("active", SdpType::kPrAnswer).ok());
  EXPECT_FALSE(ValidateSetup("actpass", SdpType::kAnswer).ok());
  EXPECT_FALSE(ValidateSetup("actpass", SdpType::kPrAnswer).ok());
  EXPECT_FALSE(ValidateSetup("holdconn", SdpType::kOffer).ok());
  EXPECT_FALSE(ValidateSetup("ACTIVE", SdpType::kAnswer).ok());
  EXPECT_FALSE(ValidateSetup("", SdpType::kOffer).ok());
}

TEST(SdpValidate, SdpTypeStrings) {
  for (auto t : {SdpType::kOffer, SdpType::kPrAnswer, SdpType::kAnswer, SdpType::kRollback}) {
    EXPECT_EQ(SdpTypeFromString(SdpTypeToString(t)), t);
  }
  EXPECT_FALSE(SdpTypeFromString("Offer").has_value());
}

TEST(SdpValidate, DescriptionChecks) {
  const SessionDescription good = MakeDataSession(Params());
  EXPECT_TRUE(ValidateDescription(good, SdpType::kOffer).ok());

  auto sd = good;
  sd.media[0].RemoveAttributes("ice-ufrag");
  ExpectInvalid(sd, SdpType::kOffer, "missing a=ice-ufrag");
  sd.SetAttribute("ice-ufrag", "sessionlevel");  // session-level fallback is accepted
  EXPECT_TRUE(ValidateDescription(sd, SdpType::kOffer).ok());

  sd = good;
  sd.media[0].RemoveAttributes("ice-pwd");
  ExpectInvalid(sd, SdpType::kOffer, "missing a=ice-pwd");

  sd = good;
  sd.media[0].SetAttribute("ice-ufrag", "abc");
  ExpectInvalid(sd, SdpType::kOffer, "ice-ufrag length 3");
  sd = good;
  sd.media[0].SetAttribute("ice-pwd", "tooshort");
  ExpectInvalid(sd, SdpType::kOffer, "ice-pwd length 8");

  sd = good;
  sd.media[0].RemoveAttributes("fingerprint");
  ExpectInvalid(sd, SdpType::kOffer, "missing a=fingerprint");
  sd.AddAttribute("fingerprint", std::string("sha-256 ") + kFp);
  EXPECT_TRUE(ValidateDescription(sd, SdpType::kOffer).ok());
  sd.media[0].AddAttribute("fingerprint", "sha-256");
  ExpectInvalid(sd, SdpType::kOffer, "malformed a=fingerprint");

  sd = good;
  sd.media[0].SetAttribute("setup", "sideways");
  ExpectInvalid(sd, SdpType::kOffer, "Invalid a=setup value 'sideways'");
  ExpectInvalid(good, SdpType::kAnswer, "actpass is not allowed in an answer");
  sd = good;
  sd.SetAttribute("setup", "bogus");
  ExpectInvalid(sd, SdpType::kOffer, "bogus");

  sd = good;
  sd.media[0].RemoveAttributes("mid");
  ExpectInvalid(sd, SdpType::kOffer, "missing a=mid while a=group:BUNDLE");
  sd.RemoveAttributes("group");  // without BUNDLE a mid-less section is acceptable
  EXPECT_TRUE(ValidateDescription(sd, SdpType::kOffer).ok());

  sd = good;
  sd.media.push_back(sd.media[0]);
  ExpectInvalid(sd, SdpType::kOffer, "duplicate a=mid:0");

  sd = good;
  sd.SetAttribute("group", "BUNDLE 0 1");
  ExpectInvalid(sd, SdpType::kOffer, "mid '1' which has no m= section");

  sd = good;
  sd.media[0].RemoveAttributes("sctp-port");
  ExpectInvalid(sd, SdpType::kOffer, "sctp-port");

  // A rejected section (port 0) needs no transport attributes.
  sd = good;
  MediaSection rejected;
  rejected.media = "audio";
  rejected.port = 0;
  rejected.protocol = "UDP/TLS/RTP/SAVPF";
  rejected.formats = {"0"};
  rejected.AddAttribute("mid", "9");
  sd.media.push_back(rejected);
  EXPECT_TRUE(ValidateDescription(sd, SdpType::kOffer).ok());
}

TEST(SdpValidate, BundledSectionsUseTheTaggedTransport) {
  // RFC 8843 §8: transport attributes only in the tagged (first) m= section of the group.
  SessionDescription sd = MakeDataSession(Params());
  sd.SetAttribute("group", "BUNDLE 0 1");
  MediaSection audio;
  audio.media = "audio";
  audio.protocol = "UDP/TLS/RTP/SAVPF";
  audio.formats = {"111"};
  audio.AddAttribute("mid", "1");
  sd.media.push_back(audio);
  EXPECT_EQ(&TransportSection(sd, sd.media[1]), &sd.media[0]);
  EXPECT_EQ(&TransportSection(sd, sd.media[0]), &sd.media[0]);
  EXPECT_TRUE(ValidateDescription(sd, SdpType::kOffer).ok()) << ValidateDescription(sd, SdpType::kOffer);
  sd.SetAttribute("group", "BUNDLE 1 0");  // now the tagged section lacks ICE credentials
  ExpectInvalid(sd, SdpType::kOffer, "mid 1): missing a=ice-ufrag");
}

TEST(JsepBuilder, DataOfferMatchesChromiumShape) {
  DataSessionParams p = Params();
  const std::string expected = absl::StrJoin(
      {"v=0", "o=- 1485344706389211264 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
       "a=extmap-allow-mixed", "a=msid-semantic: WMS",
       "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0",
       "a=ice-ufrag:1ytF", "a=ice-pwd:aQzBXyexpMupWQ96LB2gSwfV", "a=ice-options:trickle",
       "a=fingerprint:sha-256 D5:BC:2B:B6:77:D8:1C:E0:28:F2:C6:2D:64:23:AB:79:CA:DB:92:C6:B8:78:BA:3D:87:4C:2E:C3:7B:57:C4:57",
       "a=setup:actpass", "a=mid:0", "a=sctp-port:5000", "a=max-message-size:262144", ""},
      "\r\n");
  SessionDescription sd = MakeDataSession(p);
  EXPECT_EQ(sd.Serialize(), expected);
  auto parsed = SessionDescription::Parse(expected);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, sd);
}

TEST(JsepBuilder, CandidatesSetDefaultAddress) {
  DataSessionParams p = Params();
  p.setup = "active";
  p.candidates = {
      "candidate:3077952869 1 udp 2122265343 fd00::2 37076 typ host generation 0",
      "a=candidate:3229573512 1 udp 2122194687 192.0.2.2 55012 typ host generation 0\r\n",
      "3229573513 1 tcp 1518214911 192.0.2.3 60059 typ host tcptype passive"};
  p.end_of_candidates = true;
  SessionDescription sd = MakeDataSession(p);
  const auto& m = sd.media[0];
  EXPECT_EQ(m.candidates(),
            (std::vector<std::string>{
                "candidate:3077952869 1 udp 2122265343 fd00::2 37076 typ host generation 0",
                "candidate:3229573512 1 udp 2122194687 192.0.2.2 55012 typ host generation 0",
                "candidate:3229573513 1 tcp 1518214911 192.0.2.3 60059 typ host tcptype passive"}));
  EXPECT_EQ(m.attributes[3].key, "end-of-candidates");
  EXPECT_EQ(m.attributes[4].key, "ice-ufrag");
  // libwebrtc prefers the IPv4 UDP candidate as the default.
  EXPECT_EQ(m.port, 55012);
  EXPECT_EQ(m.connection, "IN IP4 192.0.2.2");
  EXPECT_TRUE(ValidateDescription(sd, SdpType::kAnswer).ok());

  MediaSection v6only;
  AddCandidate(v6only, "candidate:1 1 UDP 1 fd00::2 4000 typ host");
  EXPECT_TRUE(ApplyDefaultCandidate(v6only));
  EXPECT_EQ(v6only.port, 4000);
  EXPECT_EQ(v6only.connection, "IN IP6 fd00::2");

  MediaSection mdns;
  AddCandidate(mdns, "candidate:1 1 udp 1 33a0fa71-4fb7-455b-8aed-390cea77d7d7.local 59047 typ host");
  AddCandidate(mdns, "candidate:1 2 udp 1 1.2.3.4 59048 typ host");  // RTCP component: ignored
  AddCandidate(mdns, "candidate:1 2 udp 1 1.2.3.4 59048 typ host");  // duplicate: ignored
  EXPECT_EQ(mdns.candidates().size(), 2u);
  EXPECT_FALSE(ApplyDefaultCandidate(mdns));
  EXPECT_EQ(mdns.port, 9);
  EXPECT_EQ(mdns.connection, "IN IP4 0.0.0.0");
}

TEST(JsepBuilder, TrickledCandidatesGoAfterExistingOnes) {
  SessionDescription sd = MakeDataSession(Params());
  auto& m = sd.media[0];
  AddCandidate(m, "candidate:1 1 udp 5 10.0.0.1 1000 typ host");
  AddCandidate(m, "candidate:2 1 udp 4 10.0.0.2 1001 typ host");
  SetEndOfCandidates(m);
  SetEndOfCandidates(m);
  EXPECT_EQ(m.attributes[0].value, std::string("1 1 udp 5 10.0.0.1 1000 typ host"));
  EXPECT_EQ(m.attributes[1].value, std::string("2 1 udp 4 10.0.0.2 1001 typ host"));
  EXPECT_EQ(m.attributes[2].key, "end-of-candidates");
  EXPECT_EQ(m.GetAttributes("end-of-candidates").size(), 1u);
  EXPECT_TRUE(m.end_of_candidates());
}

TEST(JsepBuilder, OptionalPieces) {
  DataSessionParams p = Params();
  p.ice_options.clear();
  p.max_message_size = 0;
  p.bundle = false;
  p.mid = "data";
  p.sctp_port = 5001;
  SessionDescription sd = MakeDataSession(p);
  EXPECT_TRUE(sd.bundle_groups().empty());
  EXPECT_FALSE(sd.media[0].HasAttribute("ice-options"));
  EXPECT_FALSE(sd.media[0].max_message_size().has_value());
  EXPECT_EQ(sd.media[0].mid(), "data");
  EXPECT_EQ(sd.media[0].sctp_port(), 5001);
}

TEST(JsepBuilder, ExtractTransportAppliesFallbacks) {
  // ndc-style: fingerprint and ice-options at session level; bundled audio without transport.
  SessionDescription sd = MakeDataSession(Params());
  sd.media[0].RemoveAttributes("fingerprint");
  sd.media[0].RemoveAttributes("ice-options");
  sd.media[0].RemoveAttributes("max-message-size");
  sd.AddAttribute("fingerprint", std::string("sha-256 ") + kFp);
  sd.AddAttribute("ice-options", "ice2,trickle");
  AddCandidate(sd.media[0], "candidate:1 1 udp 5 10.0.0.1 1000 typ host");
  sd.SetAttribute("group", "BUNDLE 0 1");
  MediaSection audio;
  audio.media = "audio";
  audio.protocol = "UDP/TLS/RTP/SAVPF";
  audio.formats = {"111"};
  audio.AddAttribute("mid", "1");
  sd.media.push_back(audio);

  ASSERT_EQ(FindDataSection(sd), &sd.media[0]);
  TransportParams d = ExtractTransport(sd, sd.media[0]);
  EXPECT_EQ(d.mid, "0");
  EXPECT_EQ(d.ice_ufrag, "1ytF");
  EXPECT_EQ(d.ice_pwd, "aQzBXyexpMupWQ96LB2gSwfV");
  EXPECT_EQ(d.ice_options, (std::vector<std::string>{"ice2", "trickle"}));
  EXPECT_EQ(d.fingerprints, (std::vector<Fingerprint>{{"sha-256", kFp}}));
  EXPECT_EQ(d.setup, "actpass");
  EXPECT_EQ(d.sctp_port, 5000);
  EXPECT_EQ(d.max_message_size, kDefaultMaxMessageSize);
  EXPECT_EQ(d.candidates.size(), 1u);
  EXPECT_FALSE(d.end_of_candidates);

  TransportParams a = ExtractTransport(sd, sd.media[1]);
  EXPECT_EQ(a.mid, "1");
  EXPECT_EQ(a.ice_ufrag, "1ytF");  // from the tagged section 0
  EXPECT_EQ(a.candidates, d.candidates);

  sd.media[0].port = 0;
  EXPECT_EQ(FindDataSection(sd), nullptr);
}

}  // namespace
}  // namespace refrtc::sdp
