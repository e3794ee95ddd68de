// JSEP apply of SDP captured from real implementations (conformance/fixtures/*-offer*.sdp):
// setRemoteDescription must accept each offer, createAnswer must accept exactly one
// application section and reject the media sections (until issue D), keeping mids and order.
#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>
#include <sstream>

#include "pc_pair.h"
#include "sdp/sdp.h"

namespace refrtc::test {
namespace {

std::vector<std::string> Offers() {
  std::vector<std::string> out;
  std::string dir = std::string(REFRTC_SOURCE_DIR) + "/conformance/fixtures";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.find("-offer") != std::string::npos && name.size() > 4 && name.substr(name.size() - 4) == ".sdp")
        out.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  return out;
}

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Fixtures, EveryCapturedOfferIsAnswered) {
  auto offers = Offers();
  ASSERT_GE(offers.size(), 3u) << "fixtures missing";
  for (const auto& path : offers) {
    SCOPED_TRACE(path);
    auto pc = std::move(*RTCPeerConnection::Create({}, RTCEngineOptions{3, 1764000000}));
    std::string offer = Read(path);
    auto st = pc->setRemoteDescription({RTCSdpType::kOffer, offer});
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_EQ(pc->signalingState(), RTCSignalingState::kHaveRemoteOffer);
    auto answer = pc->createAnswer();
    ASSERT_TRUE(answer.ok()) << answer.status();
    ASSERT_TRUE(pc->setLocalDescription(*answer).ok());
    auto o = *sdp::SessionDescription::Parse(offer);
    auto a = *sdp::SessionDescription::Parse(answer->sdp);
    ASSERT_EQ(o.media.size(), a.media.size());
    int accepted = 0;
    for (size_t i = 0; i < o.media.size(); ++i) {
      EXPECT_EQ(o.media[i].mid(), a.media[i].mid());
      EXPECT_EQ(o.media[i].media, a.media[i].media);
      if (a.media[i].port != 0) {
        ++accepted;
        EXPECT_EQ(a.media[i].setup(), "active");
        if (a.media[i].media == "application") {
          EXPECT_TRUE(a.media[i].max_message_size());
        } else {
          // Audio/video (issue D): accepted recvonly (we have no track) with codecs in common.
          EXPECT_EQ(a.media[i].direction(), "recvonly");
          EXPECT_FALSE(a.media[i].formats.empty());
        }
      }
    }
    // Every section is accepted: data, and audio/video where the offer has them.
    EXPECT_EQ(accepted, static_cast<int>(o.media.size()));
    EXPECT_TRUE(pc->sctp());
  }
}

}  // namespace
}  // namespace refrtc::test
