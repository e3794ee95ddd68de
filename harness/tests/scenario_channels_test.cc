// Channel specs of connect/openChannels: "from" (which side creates an in-band channel) and
// "repeat" (N numbered copies).
#include "gtest/gtest.h"
#include "absl/strings/match.h"
#include "scenario.h"

namespace refrtc::harness {
namespace {

absl::StatusOr<Scenario> WithChannels(const std::string& channels) {
  return ParseScenario(R"({"format": 1, "name": "x", "steps": [{"openChannels": {"channels": )" + channels + "}}]}");
}

TEST(ScenarioChannels, RepeatExpandsNamesLabelsAndNegotiatedIds) {
  auto sc = WithChannels(R"([{"name": "m", "label": "many", "repeat": 3, "from": "B"},
                             {"name": "n", "options": {"negotiated": true, "id": 7}, "repeat": 2}])");
  ASSERT_TRUE(sc.ok()) << sc.status();
  const auto& ch = sc->steps[0].channels;
  ASSERT_EQ(ch.size(), 5u);
  EXPECT_EQ(ch[0].name, "m0");
  EXPECT_EQ(ch[2].name, "m2");
  EXPECT_EQ(ch[1].label, "many-1");
  EXPECT_EQ(ch[0].side, 1);
  EXPECT_EQ(ch[3].name, "n0");
  EXPECT_EQ(ch[3].options["id"], 7);
  EXPECT_EQ(ch[4].options["id"], 9);  // same parity: same DTLS role's id space
  EXPECT_EQ(ch[4].side, 0);
}

TEST(ScenarioChannels, BadFromRepeatAndCollisionsAreRejected) {
  auto bad_from = WithChannels(R"([{"name": "m", "from": "C"}])");
  ASSERT_FALSE(bad_from.ok());
  EXPECT_TRUE(absl::StrContains(bad_from.status().message(), "from")) << bad_from.status();
  EXPECT_FALSE(WithChannels(R"([{"name": "m", "repeat": 0}])").ok());
  EXPECT_FALSE(WithChannels(R"([{"name": "m", "repeat": 5000}])").ok());
  // m1 from the repeat collides with an explicit channel named m1.
  auto clash = WithChannels(R"([{"name": "m", "label": "x", "repeat": 2}, {"name": "m1", "label": "y"}])");
  ASSERT_FALSE(clash.ok());
  EXPECT_TRUE(absl::StrContains(clash.status().message(), "used twice")) << clash.status();
  // A negotiated id pushed past 65534 by the repeat.
  EXPECT_FALSE(WithChannels(R"([{"name": "n", "options": {"negotiated": true, "id": 65530}, "repeat": 4}])").ok());
}

}  // namespace
}  // namespace refrtc::harness
