// Every captured SDP in conformance/fixtures/*.sdp parses, validates, and round-trips.
#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "sdp/sdp.h"
#include "sdp/sdp_validate.h"

namespace refrtc::sdp {
namespace {

const std::string kDir = std::string(REFRTC_SOURCE_DIR) + "/conformance/fixtures/";

std::vector<std::string> FixtureNames() {
  std::vector<std::string> out;
  DIR* d = opendir(kDir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (absl::EndsWith(n, ".sdp")) out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadFile(const std::string& name) {
  std::ifstream f(kDir + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

SessionDescription MustParse(const std::string& name) {
  auto sd = SessionDescription::Parse(ReadFile(name));
  EXPECT_TRUE(sd.ok()) << name << ": " << sd.status();
  return sd.ok() ? *sd : SessionDescription{};
}

TEST(SdpFixtures, DirectoryHasTheCapturedPeers) {
  auto names = FixtureNames();
  for (const char* expected : {"wrtc-offer.sdp", "wrtc-answer.sdp", "wrtc-offer-av.sdp",
                               "ndc-offer.sdp", "ndc-answer.sdp", "werift-offer.sdp",
                               "werift-answer.sdp", "handmade-legacy-sctpmap-offer.sdp"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

TEST(SdpFixtures, AllParseValidateAndRoundTrip) {
  auto names = FixtureNames();
  ASSERT_FALSE(names.empty());
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    std::string text = ReadFile(name);
    auto sd = SessionDescription::Parse(text);
    ASSERT_TRUE(sd.ok()) << sd.status();
    const bool answer = absl::StrContains(name, "-answer");
    EXPECT_TRUE(ValidateDescription(*sd, answer ? SdpType::kAnswer : SdpType::kOffer).ok())
        << ValidateDescription(*sd, answer ? SdpType::kAnswer : SdpType::kOffer);

    // The captured texts use CRLF and the canonical order, so serialization is byte-exact.
    std::string s1 = sd->Serialize();
    EXPECT_EQ(s1, text);
    auto sd2 = SessionDescription::Parse(s1);
    ASSERT_TRUE(sd2.ok()) << sd2.status();
    EXPECT_EQ(*sd2, *sd);
    EXPECT_EQ(sd2->Serialize(), s1);

    // LF-only input parses to the same model.
    std::string lf;
    for (char c : text) {
      if (c != '\r') lf.push_back(c);
    }
    auto sd3 = SessionDescription::Parse(lf);
    ASSERT_TRUE(sd3.ok()) << sd3.status();
    EXPECT_EQ(*sd3, *sd);
  }
}

// Fields every data section of every capture has (values are random per capture).
TEST(SdpFixtures, DataSectionKeyFields) {
  for (const auto& name : FixtureNames()) {
    SCOPED_TRACE(name);
    auto sd = MustParse(name);
    const bool answer = absl::StrContains(name, "-answer");
    const MediaSection* data = nullptr;
    for (const auto& m : sd.media) {
      if (m.is_data()) data = &m;
    }
    ASSERT_NE(data, nullptr);
    ASSERT_TRUE(data->mid().has_value());
    ASSERT_EQ(sd.bundle_groups().size(), 1u);
    EXPECT_NE(std::find(sd.bundle_groups()[0].begin(), sd.bundle_groups()[0].end(), *data->mid()),
              sd.bundle_groups()[0].end());

    auto ufrag = EffectiveAttribute(sd, *data, "ice-ufrag");
    auto pwd = EffectiveAttribute(sd, *data, "ice-pwd");
    ASSERT_TRUE(ufrag && pwd);
    EXPECT_TRUE(ValidateIceUfrag(*ufrag).ok());
    EXPECT_TRUE(ValidateIcePwd(*pwd).ok());

    auto fps = EffectiveFingerprints(sd, *data);
    ASSERT_EQ(fps.size(), 1u);
    EXPECT_EQ(fps[0].algorithm, "sha-256");
    EXPECT_EQ(fps[0].value.size(), 32u * 3 - 1);

    auto setup = EffectiveAttribute(sd, *data, "setup");
    ASSERT_TRUE(setup.has_value());
    if (answer) {
      EXPECT_TRUE(*setup == "active" || *setup == "passive") << *setup;
    } else {
      EXPECT_EQ(*setup, "actpass");
    }
    EXPECT_EQ(data->sctp_port(), 5000);
    EXPECT_TRUE(absl::StrContains(EffectiveConnection(sd, *data), "IN IP"));
    auto options = EffectiveIceOptions(sd, *data);
    EXPECT_NE(std::find(options.begin(), options.end(), "trickle"), options.end());
    if (!absl::StartsWith(name, "handmade")) {
      EXPECT_FALSE(data->candidates().empty());
      for (const auto& c : data->candidates()) EXPECT_TRUE(absl::StartsWith(c, "candidate:")) << c;
      EXPECT_TRUE(data->max_message_size().has_value());
    }
  }
}

TEST(SdpFixtures, PerImplementationDetails) {
  {
    auto sd = MustParse("wrtc-offer.sdp");
    ASSERT_EQ(sd.media.size(), 1u);
    const auto& m = sd.media[0];
    EXPECT_EQ(sd.origin_username, "-");
    EXPECT_EQ(sd.session_version, 2u);
    EXPECT_EQ(m.media, "application");
    EXPECT_EQ(m.protocol, "UDP/DTLS/SCTP");
    EXPECT_EQ(m.formats, std::vector<std::string>{"webrtc-datachannel"});
    EXPECT_EQ(m.mid(), "0");
    EXPECT_EQ(m.max_message_size(), 262144u);
    EXPECT_NE(m.port, 9);  // libwebrtc puts the default candidate in m= and c=
    EXPECT_EQ(sd.GetAttribute("msid-semantic"), " WMS");
    EXPECT_TRUE(sd.HasAttribute("extmap-allow-mixed"));
    EXPECT_FALSE(m.end_of_candidates());
    EXPECT_EQ(m.direction(), "sendrecv");
  }
  {
    auto sd = MustParse("ndc-offer.sdp");
    const auto& m = sd.media.at(0);
    // libdatachannel puts ice-options and fingerprint at session level only.
    EXPECT_FALSE(m.HasAttribute("fingerprint"));
    EXPECT_TRUE(sd.HasAttribute("fingerprint"));
    EXPECT_EQ(EffectiveIceOptions(sd, m), (std::vector<std::string>{"ice2", "trickle"}));
    EXPECT_TRUE(m.end_of_candidates());
    EXPECT_TRUE(m.HasAttribute("sendrecv"));
  }
  {
    auto sd = MustParse("werift-offer.sdp");
    const auto& m = sd.media.at(0);
    EXPECT_EQ(m.port, 9);
    EXPECT_EQ(m.connection, "IN IP4 0.0.0.0");
    EXPECT_EQ(m.max_message_size(), 65536u);
    EXPECT_TRUE(m.end_of_candidates());
  }
  {
    auto sd = MustParse("wrtc-offer-av.sdp");
    ASSERT_EQ(sd.media.size(), 3u);
    EXPECT_EQ(sd.bundle_groups(), (std::vector<std::vector<std::string>>{{"0", "1", "2"}}));
    EXPECT_EQ(sd.media[0].media, "audio");
    EXPECT_EQ(sd.media[0].protocol, "UDP/TLS/RTP/SAVPF");
    EXPECT_EQ(sd.media[0].formats.at(0), "111");
    EXPECT_TRUE(sd.media[0].rtcp_mux());
    EXPECT_EQ(sd.media[0].GetAttributes("rtpmap").at(0), "111 opus/48000/2");
    EXPECT_EQ(sd.media[1].media, "video");
    EXPECT_EQ(sd.media[1].mid(), "1");
    EXPECT_TRUE(sd.media[2].is_data());
    EXPECT_FALSE(sd.media[0].is_data());
    EXPECT_EQ(sd.media[2].mid(), "2");
    EXPECT_EQ(sd.FindMedia("1"), &sd.media[1]);
    EXPECT_EQ(sd.FindMedia("7"), nullptr);
  }
  {
    auto sd = MustParse("handmade-legacy-sctpmap-offer.sdp");
    const auto& m = sd.media.at(0);
    EXPECT_EQ(m.protocol, "DTLS/SCTP");
    EXPECT_EQ(m.formats, std::vector<std::string>{"5000"});
    EXPECT_EQ(m.sctp_port(), 5000);
    EXPECT_FALSE(m.max_message_size().has_value());
    EXPECT_EQ(m.mid(), "sdparta_0");
    EXPECT_EQ(sd.bundle_groups().at(0), std::vector<std::string>{"sdparta_0"});
  }
  // Chromium is optional (captured only when a browser was available).
  auto names = FixtureNames();
  if (std::find(names.begin(), names.end(), "chromium-offer.sdp") != names.end()) {
    auto sd = MustParse("chromium-offer.sdp");
    const auto& m = sd.media.at(0);
    ASSERT_FALSE(m.candidates().empty());
    EXPECT_TRUE(absl::StrContains(m.candidates()[0], ".local ")) << m.candidates()[0];
    EXPECT_EQ(m.port, 9);  // mDNS candidates never become the default
  }
}

}  // namespace
}  // namespace refrtc::sdp
