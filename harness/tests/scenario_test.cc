#include "scenario.h"

#include <dirent.h>

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace refrtc::harness {
namespace {

using nlohmann::json;

std::string Doc(const std::string& steps) {
  return R"({"format": 1, "name": "t", "steps": )" + steps + "}";
}

TEST(ScenarioReader, ParsesAllKinds) {
  auto sc = ParseScenario(Doc(R"([
    {"connect": {"channels": [{"name": "dc"}, {"name": "n", "options": {"negotiated": true, "id": 4}}]}},
    {"do": "getState", "on": "A", "save": {"max": "/sctp/maxMessageSize"}, "result": {"signalingState": "stable"}},
    {"expect": "close", "on": "B", "channel": "dc", "timeoutMs": 500},
    {"sendAndExpect": {"from": "B", "channel": "dc", "data": {"binary": "AAEC"}}},
    {"sendAndExpect": {"from": "A", "channel": "*", "size": "$max", "sizeCap": 1000, "binary": false}},
    {"throughput": {"from": "A", "channel": "n", "size": 1024, "count": 10}}
  ])"));
  ASSERT_TRUE(sc.ok()) << sc.status();
  ASSERT_EQ(sc->steps.size(), 6u);
  EXPECT_EQ(sc->steps[0].kind, StepKind::kConnect);
  ASSERT_EQ(sc->steps[0].channels.size(), 2u);
  EXPECT_FALSE(sc->steps[0].channels[0].negotiated);
  EXPECT_EQ(sc->steps[0].channels[0].label, "dc");
  EXPECT_TRUE(sc->steps[0].channels[1].negotiated);
  EXPECT_EQ(sc->steps[1].kind, StepKind::kDo);
  EXPECT_EQ(sc->steps[1].name, "getState");
  EXPECT_EQ(sc->steps[2].side, 1);
  EXPECT_EQ(sc->steps[2].timeout_ms, 500);
  EXPECT_TRUE(sc->steps[3].has_data);
  EXPECT_EQ(sc->steps[4].size, json("$max"));
  EXPECT_FALSE(sc->steps[4].binary);
  EXPECT_EQ(sc->steps[5].count, 10);
}

struct BadCase {
  const char* doc;
  const char* message_part;
};

TEST(ScenarioReader, RejectsMalformedScenarios) {
  const BadCase cases[] = {
      {"not json", "not valid JSON"},
      {"[]", "top level"},
      {R"({"name": "x", "steps": [{"do": "hello", "on": "A"}]})", "format"},
      {R"({"format": 2, "name": "x", "steps": [{"do": "hello", "on": "A"}]})", "format"},
      {R"({"format": 1, "steps": [{"do": "hello", "on": "A"}]})", "name"},
      {R"({"format": 1, "name": "x", "steps": []})", "steps"},
      {R"({"format": 1, "name": "x", "steps": [{"bogus": 1}]})", "needs one of"},
      {R"({"format": 1, "name": "x", "steps": [{"do": "hello", "expect": "open", "on": "A"}]})", "both"},
      {R"({"format": 1, "name": "x", "steps": [{"do": "hello", "on": "C"}]})", "\"A\" or \"B\""},
      {R"({"format": 1, "name": "x", "steps": [{"connect": {"channels": [{"name": "n", "options": {"negotiated": true}}]}}]})", "options.id"},
      {R"({"format": 1, "name": "x", "steps": [{"connect": {"channels": [{"name": "a"}, {"name": "a", "label": "b"}]}}]})", "used twice"},
      {R"({"format": 1, "name": "x", "steps": [{"connect": {"channels": [{"name": "a"}, {"name": "b", "label": "a"}]}}]})", "duplicate label"},
      {R"({"format": 1, "name": "x", "steps": [{"sendAndExpect": {"from": "A", "channel": "nope", "data": "x"}}]})", "unknown channel"},
      {R"({"format": 1, "name": "x", "steps": [{"connect": {"channels": [{"name": "a"}]}}, {"sendAndExpect": {"from": "A", "channel": "a", "data": {"binary": "!!"}}}]})", "base64"},
      {R"({"format": 1, "name": "x", "steps": [{"connect": {"channels": [{"name": "a"}]}}, {"sendAndExpect": {"from": "A", "channel": "a", "data": "x", "size": 3}}]})", "either"},
      {R"({"format": 1, "name": "x", "steps": [{"connect": {"channels": [{"name": "a"}]}}, {"throughput": {"from": "A", "channel": "a", "size": -1}}]})", "size"},
      {R"({"format": 1, "name": "x", "steps": [{"do": "getState", "on": "A", "save": {"v": "no-slash"}}]})", "pointer"},
      {R"({"format": 1, "name": "x", "steps": [{"do": "getState", "on": "A", "timeoutMs": 0}]})", "timeoutMs"},
      {R"({"format": 1, "name": "x", "knownIssues": [{"peer": "werift", "role": "C", "reason": "r"}], "steps": [{"do": "hello", "on": "A"}]})", "role"},
  };
  for (const BadCase& c : cases) {
    auto sc = ParseScenario(c.doc);
    ASSERT_FALSE(sc.ok()) << c.doc;
    EXPECT_TRUE(absl::StrContains(sc.status().message(), c.message_part)) << c.doc << " → " << sc.status();
  }
}

TEST(ScenarioReader, RejectsDeepNesting) {
  std::string deep = Doc(R"([{"do": "x", "on": "A", "args": )" + std::string(200, '[') + std::string(200, ']') + "}]");
  auto sc = ParseScenario(deep);
  ASSERT_FALSE(sc.ok());
  EXPECT_TRUE(absl::StrContains(sc.status().message(), "deeper"));
}

TEST(ScenarioReader, EveryConformanceSuiteParses) {
  std::string dir = std::string(REFRTC_SOURCE_DIR) + "/conformance";
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  int n = 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (!absl::EndsWith(name, ".json")) continue;
    auto sc = LoadScenarioFile(dir + "/" + name);
    EXPECT_TRUE(sc.ok()) << sc.status();
    if (sc.ok()) {
      EXPECT_EQ(sc->name + ".json", name) << "scenario name should match its file name";
    }
    ++n;
  }
  closedir(d);
  EXPECT_GE(n, 5);
}

TEST(JsonMatches, SubsetAndOperators) {
  json actual = {{"readyState", "closing"}, {"id", 3}, {"nested", {{"a", 1}, {"b", 2}}}, {"n", nullptr}};
  std::string why;
  EXPECT_TRUE(JsonMatches(actual, json{{"id", 3}}, &why));
  EXPECT_TRUE(JsonMatches(actual, json{{"nested", {{"b", 2}}}}, &why));
  EXPECT_TRUE(JsonMatches(actual, json{{"id", 3.0}}, &why));
  EXPECT_TRUE(JsonMatches(actual, json::parse(R"({"readyState": {"$oneOf": ["closing", "closed"]}})"), &why));
  EXPECT_TRUE(JsonMatches(actual, json::parse(R"({"id": {"$gte": 0}})"), &why));
  EXPECT_TRUE(JsonMatches(actual, json::parse(R"({"missing": {"$exists": false}, "n": {"$exists": false}})"), &why));
  EXPECT_FALSE(JsonMatches(actual, json::parse(R"({"id": {"$lte": 2}})"), &why));
  EXPECT_FALSE(JsonMatches(actual, json{{"nested", {{"a", 2}}}}, &why));
  EXPECT_EQ(why, "/nested/a: expected 2, got 1");
  EXPECT_FALSE(JsonMatches(actual, json{{"missing", 1}}, &why));
  EXPECT_TRUE(absl::StrContains(why, "got nothing"));
  EXPECT_FALSE(JsonMatches(actual, json::parse(R"({"readyState": {"$oneOf": ["open"]}})"), &why));
}

}  // namespace
}  // namespace refrtc::harness
