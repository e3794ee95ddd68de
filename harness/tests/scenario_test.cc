#include "scenario.h"
#include "report.h"

#include <dirent.h>

#include <set>
#include <string>
#include <vector>

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

// Parses every conformance/*.json and conformance/<suite>/*.json; returns how many there are.
int ParseDir(const std::string& dir, const std::string& suite, std::set<std::string>* names) {
  DIR* d = opendir(dir.c_str());
  EXPECT_NE(d, nullptr) << dir;
  if (!d) return 0;
  int n = 0;
  std::vector<std::string> subdirs;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    if (!absl::EndsWith(name, ".json")) {
      if (suite.empty() && name != "fixtures" && e->d_type == DT_DIR) subdirs.push_back(name);
      continue;
    }
    auto sc = LoadScenarioFile(dir + "/" + name);
    EXPECT_TRUE(sc.ok()) << sc.status();
    if (sc.ok()) {
      EXPECT_EQ(sc->name + ".json", name) << "scenario name should match its file name";
      EXPECT_EQ(sc->suite, suite.empty() ? sc->name : suite);
      EXPECT_TRUE(names->insert(sc->name).second) << "scenario name used twice: " << sc->name;
    }
    ++n;
  }
  closedir(d);
  for (const std::string& sub : subdirs) n += ParseDir(dir + "/" + sub, sub, names);
  return n;
}

TEST(ScenarioReader, EveryConformanceSuiteParses) {
  std::set<std::string> names;
  int n = ParseDir(std::string(REFRTC_SOURCE_DIR) + "/conformance", "", &names);
  EXPECT_GE(n, 60) << "issue B asks for at least 60 scenarios";
}

TEST(ScenarioReader, ParsesSignallingAndExpectationKinds) {
  auto sc = ParseScenario(Doc(R"([
    {"connect": {"channels": [{"name": "dc"}], "trickle": false}},
    {"signal": {"from": "A", "what": "candidates", "action": "hold"}},
    {"signal": {"from": "B", "what": "description", "type": "answer", "source": "current",
                "rewrite": [{"match": "^a=setup:.*", "replace": "a=setup:passive"}, {"match": "^a=x", "replace": null, "optional": true}],
                "expectError": "InvalidStateError", "delayMs": 50}},
    {"signal": {"from": "A", "what": "candidates", "action": "duplicate", "wait": "gathered", "order": "reverse", "endOfCandidates": false}},
    {"expectState": {"signalingState": "stable"}, "on": "B", "poll": true, "timeoutMs": 3000},
    {"expectNoEvent": "message", "on": "A", "channel": "dc", "forMs": 250},
    {"expectEvents": ["negotiationneeded", {"event": "signalingstatechange", "match": {"state": "stable"}}], "on": "A"},
    {"stream": {"from": "A", "channel": "dc", "action": "start", "intervalMs": 5, "size": 32}},
    {"wait": 100},
    {"stream": {"from": "A", "channel": "dc", "action": "stop"}},
    {"do": "setLocalDescription", "on": "A", "args": {"description": "$offer"}, "rewrite": [{"match": "^a=ice-ufrag:.*", "replace": "a=ice-ufrag:zz"}]}
  ])"));
  ASSERT_TRUE(sc.ok()) << sc.status();
  ASSERT_EQ(sc->steps.size(), 11u);
  EXPECT_FALSE(sc->steps[0].trickle);
  EXPECT_EQ(sc->steps[1].kind, StepKind::kSignal);
  EXPECT_EQ(sc->steps[1].action, "hold");
  const Step& d = sc->steps[2];
  EXPECT_EQ(d.side, 1);
  EXPECT_EQ(d.what, "description");
  EXPECT_EQ(d.action, "deliver");
  EXPECT_TRUE(d.from_state);
  EXPECT_EQ(d.desc_type, "answer");
  ASSERT_EQ(d.rewrite.size(), 2u);
  EXPECT_TRUE(d.rewrite[1].remove);
  EXPECT_TRUE(d.rewrite[1].optional);
  EXPECT_EQ(d.expect_error, "InvalidStateError");
  EXPECT_EQ(d.delay_ms, 50);
  const Step& c = sc->steps[3];
  EXPECT_TRUE(c.wait_gathered);
  EXPECT_TRUE(c.reverse);
  EXPECT_FALSE(c.include_end);
  EXPECT_EQ(sc->steps[4].kind, StepKind::kExpectState);
  EXPECT_TRUE(sc->steps[4].poll);
  EXPECT_EQ(sc->steps[4].match, json({{"signalingState", "stable"}}));
  EXPECT_EQ(sc->steps[5].kind, StepKind::kExpectNoEvent);
  EXPECT_EQ(sc->steps[5].for_ms, 250);
  ASSERT_EQ(sc->steps[6].events.size(), 2u);
  EXPECT_EQ(sc->steps[6].events[0].name, "negotiationneeded");
  EXPECT_EQ(sc->steps[6].events[1].match, json({{"state", "stable"}}));
  EXPECT_EQ(sc->steps[7].kind, StepKind::kStream);
  EXPECT_EQ(sc->steps[7].interval_ms, 5);
  EXPECT_EQ(sc->steps[7].size, json(32));
  EXPECT_EQ(sc->steps[8].kind, StepKind::kWait);
  EXPECT_EQ(sc->steps[8].for_ms, 100);
  EXPECT_EQ(sc->steps[10].rewrite.size(), 1u);
}

TEST(ScenarioReader, RejectsMalformedNewKinds) {
  const BadCase cases[] = {
      {R"({"format": 1, "name": "x", "steps": [{"signal": {"from": "A", "what": "sdp"}}]})", "\"what\""},
      {R"({"format": 1, "name": "x", "steps": [{"signal": {"from": "A", "what": "description", "action": "hold"}}]})", "hold/auto"},
      {R"({"format": 1, "name": "x", "steps": [{"signal": {"from": "A", "what": "candidates", "action": "reorder"}}]})", "action"},
      {R"({"format": 1, "name": "x", "steps": [{"signal": {"from": "A", "what": "description", "rewrite": [{"match": "(", "replace": ""}]}}]})", "bad regex"},
      {R"({"format": 1, "name": "x", "steps": [{"signal": {"from": "A", "what": "description", "rewrite": [{"match": "a"}]}}]})", "replace"},
      {R"({"format": 1, "name": "x", "steps": [{"signal": {"from": "A", "what": "candidates", "action": "drop", "expectError": "X"}}]})", "delivery"},
      {R"({"format": 1, "name": "x", "steps": [{"signal": {"from": "A", "what": "candidates", "type": "offer"}}]})", "descriptions"},
      {R"({"format": 1, "name": "x", "steps": [{"signal": {"from": "A", "what": "description", "wait": "connected"}}]})", "gathered"},
      {R"({"format": 1, "name": "x", "steps": [{"expectNoEvent": "message", "on": "A"}]})", "forMs"},
      {R"({"format": 1, "name": "x", "steps": [{"expectEvents": [], "on": "A"}]})", "non-empty"},
      {R"({"format": 1, "name": "x", "steps": [{"expectEvents": [3], "on": "A"}]})", "event name"},
      {R"({"format": 1, "name": "x", "steps": [{"expectState": "stable", "on": "A"}]})", "object"},
      {R"({"format": 1, "name": "x", "steps": [{"stream": {"from": "A", "channel": "nope", "action": "start"}}]})", "unknown channel"},
      {R"({"format": 1, "name": "x", "steps": [{"connect": {"channels": [{"name": "dc"}]}}, {"stream": {"from": "A", "channel": "dc", "action": "pause"}}]})", "start"},
      {R"({"format": 1, "name": "x", "steps": [{"connect": {"channels": [{"name": "dc"}]}}, {"stream": {"from": "A", "channel": "dc", "action": "start", "size": 4}}]})", "size"},
      {R"({"format": 1, "name": "x", "steps": [{"wait": "soon"}]})", "milliseconds"},
      {R"({"format": 1, "name": "x", "steps": [{"do": "setLocalDescription", "on": "A", "rewrite": [{"match": "a", "replace": "b"}]}]})", "args.description"},
      {R"({"format": 1, "name": "x", "steps": [{"openChannels": {"channels": [{"name": "a"}], "trickle": false}}]})", "trickle"},
  };
  for (const BadCase& c : cases) {
    auto sc = ParseScenario(c.doc);
    ASSERT_FALSE(sc.ok()) << c.doc;
    EXPECT_TRUE(absl::StrContains(sc.status().message(), c.message_part)) << c.doc << " → " << sc.status();
  }
}

TEST(RewriteSdp, ReplacesMatchingLinesKeepingLineEnds) {
  std::string sdp = "v=0\r\na=setup:actpass\r\na=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n";
  auto out = RewriteSdp(sdp, {{"^a=setup:.*", "a=setup:active"}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "v=0\r\na=setup:active\r\na=fingerprint:sha-256 AB:CD\r\na=setup:active\r\n");
}

TEST(RewriteSdp, CaptureGroupsRemovalAndOrder) {
  std::string sdp = "a=fingerprint:sha-256 AB:CD\r\na=ice-options:trickle\r\na=mid:0\r\n";
  SdpRewrite fp{"^a=fingerprint:(\\S+) ..", "a=fingerprint:$1 00"};
  SdpRewrite drop{"^a=ice-options:", ""};
  drop.remove = true;
  SdpRewrite mid{"^a=mid:0$", "a=mid:data"};
  auto out = RewriteSdp(sdp, {fp, drop, mid});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "a=fingerprint:sha-256 00:CD\r\na=mid:data\r\n");
  // Rewrites apply in order: the second sees the first's output.
  auto chained = RewriteSdp("a=x\n", {{"^a=x$", "a=y"}, {"^a=y$", "a=z"}});
  ASSERT_TRUE(chained.ok());
  EXPECT_EQ(*chained, "a=z\n");
}

TEST(RewriteSdp, WorksOnCandidateLinesWithoutLineEnd) {
  auto out = RewriteSdp("candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host",
                        {{"^(candidate:\\S+ \\d+ \\S+ \\d+ )\\S+ \\d+", "$01192.0.2.77 9"}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "candidate:1 1 udp 2122260223 192.0.2.77 9 typ host");
}

TEST(RewriteSdp, UnmatchedRewriteIsAnErrorUnlessOptional) {
  auto out = RewriteSdp("v=0\r\n", {{"^a=setup:", "a=setup:active"}});
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(absl::StrContains(out.status().message(), "no line matches"));
  SdpRewrite opt{"^a=setup:", "a=setup:active"};
  opt.optional = true;
  auto ok = RewriteSdp("v=0\r\n", {opt});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "v=0\r\n");
  auto bad = RewriteSdp("v=0\r\n", {{"(", "x"}});
  EXPECT_FALSE(bad.ok());
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

namespace refrtc::harness {
namespace {

TEST(JUnitReport, GroupsBySuiteAndMapsStatuses) {
  std::vector<CellResult> cells(4);
  cells[0].scenario = "sig-a"; cells[0].suite = "signaling"; cells[0].a = "native"; cells[0].b = "wrtc";
  cells[0].status = "pass"; cells[0].duration_ms = 1500;
  cells[1].scenario = "sig-b"; cells[1].suite = "signaling"; cells[1].a = "native"; cells[1].b = "native";
  cells[1].status = "fail"; cells[1].reason = "step 3: <bad> & \"worse\"\nmore"; cells[1].log_path = "/r/x.log";
  cells[2].scenario = "basic"; cells[2].suite = "basic"; cells[2].a = "wrtc"; cells[2].b = "native";
  cells[2].status = "xfail"; cells[2].reason = "known peer issue";
  cells[3].scenario = "basic"; cells[3].suite = ""; cells[3].a = "native"; cells[3].b = "native";
  cells[3].status = "pass"; cells[3].notes = {"step 1: known wrtc deviation"};
  std::string x = JUnitXml(cells);
  EXPECT_TRUE(absl::StrContains(x, R"(<testsuites name="refrtc conformance" tests="4" failures="1" skipped="1")")) << x;
  EXPECT_TRUE(absl::StrContains(x, R"(<testsuite name="signaling" tests="2" failures="1" errors="0" skipped="0" time="1.500">)")) << x;
  EXPECT_TRUE(absl::StrContains(x, R"(<testsuite name="basic" tests="2" failures="0" errors="0" skipped="1")")) << x;
  EXPECT_TRUE(absl::StrContains(x, R"(name="sig-b [native→native]")")) << x;
  EXPECT_TRUE(absl::StrContains(x, R"(<failure message="step 3: &lt;bad&gt; &amp; &quot;worse&quot;">)")) << x;
  EXPECT_TRUE(absl::StrContains(x, "log: /r/x.log</failure>")) << x;
  EXPECT_TRUE(absl::StrContains(x, R"(<skipped message="xfail: known peer issue"/>)")) << x;
  EXPECT_TRUE(absl::StrContains(x, "<system-out>step 1: known wrtc deviation</system-out>")) << x;
  EXPECT_FALSE(absl::StrContains(x, "\n\"")) << "raw quotes must be escaped";
}

}  // namespace
}  // namespace refrtc::harness
