// Scenario "requires" (optional driver features → skip with a reason), connect's per-side config and
// new peer-connection names, and the $contains matcher.
#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "runner.h"
#include "scenario.h"

namespace refrtc::harness {
namespace {

TEST(ScenarioFeatures, RequiresParsesBothFormsAndRejectsOthers) {
  auto both = ParseScenario(R"({"format": 1, "name": "x", "requires": ["certificates"], "steps": [{"wait": 1}]})");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->requires_features[0], std::vector<std::string>{"certificates"});
  EXPECT_EQ(both->requires_features[1], std::vector<std::string>{"certificates"});
  auto one = ParseScenario(R"({"format": 1, "name": "x", "requires": {"B": ["dtmf", "media"]}, "steps": [{"wait": 1}]})");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_TRUE(one->requires_features[0].empty());
  EXPECT_EQ(one->requires_features[1].size(), 2u);
  EXPECT_FALSE(ParseScenario(R"({"format": 1, "name": "x", "requires": {"C": ["x"]}, "steps": [{"wait": 1}]})").ok());
  EXPECT_FALSE(ParseScenario(R"({"format": 1, "name": "x", "requires": "certificates", "steps": [{"wait": 1}]})").ok());
  EXPECT_FALSE(ParseScenario(R"({"format": 1, "name": "x", "requires": [1], "steps": [{"wait": 1}]})").ok());
}

TEST(ScenarioFeatures, ConnectTakesSideConfigsAndNewPcNames) {
  auto sc = ParseScenario(R"({"format": 1, "name": "x", "steps": [
      {"connect": {"pc": {"A": "a2", "B": "b2"}, "configA": {"certificates": ["$cert"]}, "configB": {}}}]})");
  ASSERT_TRUE(sc.ok()) << sc.status();
  EXPECT_EQ(sc->steps[0].pc_name[0], "a2");
  EXPECT_EQ(sc->steps[0].pc_name[1], "b2");
  EXPECT_EQ(sc->steps[0].side_config[0]["certificates"][0], "$cert");
  EXPECT_FALSE(ParseScenario(R"({"format": 1, "name": "x", "steps": [{"connect": {"pc": {"A": ""}}}]})").ok());
  EXPECT_FALSE(ParseScenario(R"({"format": 1, "name": "x", "steps": [{"connect": {"pc": "a2"}}]})").ok());
}

TEST(ScenarioFeatures, ContainsMatchesSubstringsOnly) {
  std::string why;
  EXPECT_TRUE(JsonMatches(nlohmann::json{{"sdp", "v=0\r\na=fingerprint:sha-256 AB:CD\r\n"}},
                          nlohmann::json{{"sdp", {{"$contains", "AB:CD"}}}}, &why));
  EXPECT_FALSE(JsonMatches(nlohmann::json{{"sdp", "v=0"}}, nlohmann::json{{"sdp", {{"$contains", "AB:CD"}}}}, &why));
  EXPECT_TRUE(absl::StrContains(why, "containing")) << why;
  EXPECT_FALSE(JsonMatches(nlohmann::json{{"sdp", 5}}, nlohmann::json{{"sdp", {{"$contains", "5"}}}}, &why));
}

// A driver without the feature: the cell is a skip naming the driver and the feature.
TEST(ScenarioFeatures, MissingFeatureSkipsTheCellWithAReason) {
  const char* script =
      "while read -r line; do "
      "id=$(echo \"$line\" | sed -n 's/.*\"id\":\\([0-9]*\\).*/\\1/p'); "
      "case \"$line\" in "
      "*'\"hello\"'*) echo \"{\\\"id\\\":$id,\\\"ok\\\":true,\\\"result\\\":{\\\"name\\\":\\\"fake\\\",\\\"protocol\\\":1,\\\"features\\\":[\\\"stats\\\"]}}\";; "
      "*'\"shutdown\"'*) echo \"{\\\"id\\\":$id,\\\"ok\\\":true,\\\"result\\\":{}}\"; exit 0;; "
      "esac; done";
  DriverSpec fake{"fake", {"sh", "-c", script}, "", ""};
  auto sc = ParseScenario(R"({"format": 1, "name": "x", "requires": {"B": ["certificates"]},
                              "steps": [{"do": "getStats", "on": "A"}]})");
  ASSERT_TRUE(sc.ok());
  CellResult r = RunCell(*sc, fake, fake, RunOptions{});
  EXPECT_EQ(r.status, "skip");
  EXPECT_TRUE(absl::StrContains(r.reason, "fake (B)")) << r.reason;
  EXPECT_TRUE(absl::StrContains(r.reason, "\"certificates\"")) << r.reason;
  auto ok = ParseScenario(R"({"format": 1, "name": "x", "requires": ["stats"], "steps": [{"wait": 1}]})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(RunCell(*ok, fake, fake, RunOptions{}).status, "pass");
}

}  // namespace
}  // namespace refrtc::harness

namespace refrtc::harness {
namespace {

// "@fixture:NAME" in step args is replaced by conformance/fixtures/NAME when a file is loaded.
TEST(ScenarioFeatures, FixtureStringsAreReplacedByTheFileText) {
  char tmpl[] = "/tmp/refrtc-fixture-XXXXXX";
  std::string root = mkdtemp(tmpl);
  ASSERT_EQ(system(("mkdir -p '" + root + "/fixtures' '" + root + "/signaling'").c_str()), 0);
  { std::ofstream(root + "/fixtures/README.md") << "fixtures\n"; }
  { std::ofstream(root + "/fixtures/x-offer.sdp") << "v=0\r\ns=-\r\n"; }
  std::string body = R"({"format": 1, "name": "r", "steps": [{"do": "setRemoteDescription", "on": "B",
      "args": {"description": {"type": "offer", "sdp": "@fixture:x-offer.sdp"}}}]})";
  { std::ofstream(root + "/signaling/r.json") << body; }
  auto sc = LoadScenarioFile(root + "/signaling/r.json");
  ASSERT_TRUE(sc.ok()) << sc.status();
  EXPECT_EQ(sc->steps[0].args["description"]["sdp"], "v=0\r\ns=-\r\n");
  // Missing and path-escaping names are load errors naming the problem.
  { std::ofstream(root + "/signaling/m.json") << absl::StrReplaceAll(body, {{"x-offer.sdp", "nope.sdp"}}); }
  auto missing = LoadScenarioFile(root + "/signaling/m.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "no fixture")) << missing.status();
  { std::ofstream(root + "/signaling/e.json") << absl::StrReplaceAll(body, {{"x-offer.sdp", "../signaling/r.json"}}); }
  EXPECT_FALSE(LoadScenarioFile(root + "/signaling/e.json").ok());
  ASSERT_EQ(system(("rm -rf '" + root + "'").c_str()), 0);
}

}  // namespace
}  // namespace refrtc::harness
