// Media additions to the scenario format: connect "transceivers"/"tracks" (handles bound by mid on both
// sides, names resolved in args and matches), `do` with "poll", expectStats, and the matcher's
// operator conjunctions ({"$gte", "$lte"}), $gt/$lt and $some.
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runner.h"
#include "scenario.h"

namespace refrtc::harness {
namespace {

using nlohmann::json;

TEST(ScenarioMedia, ConnectParsesTransceiversAndTracks) {
  auto sc = ParseScenario(R"({"format": 1, "name": "x", "steps": [
      {"connect": {"transceivers": [{"name": "audio", "on": "A", "kind": "audio", "source": "tone:440",
                                      "init": {"direction": "sendrecv"}},
                                     {"name": "v", "kind": "video"}],
                   "tracks": [{"name": "audio", "on": "B", "kind": "audio", "source": "tone:880"},
                              {"name": "t", "kind": "video", "source": "pattern"}]}}]})");
  ASSERT_TRUE(sc.ok()) << sc.status();
  const auto& m = sc->steps[0].media;
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].name, "audio");
  EXPECT_FALSE(m[0].add_track);
  EXPECT_EQ(m[0].side, 0);
  EXPECT_EQ(m[0].source, "tone:440");
  EXPECT_EQ(m[0].init["direction"], "sendrecv");
  EXPECT_TRUE(m[1].source.is_null());
  EXPECT_EQ(m[1].side, 0);  // transceivers default to A
  EXPECT_TRUE(m[2].add_track);
  EXPECT_EQ(m[2].side, 1);
  EXPECT_EQ(m[3].side, 1);  // tracks default to B
}

TEST(ScenarioMedia, RejectsMalformedMediaAndStatsSteps) {
  const char* bad[] = {
      R"({"connect": {"transceivers": [{"kind": "audio"}]}})",                                  // no name
      R"({"connect": {"transceivers": [{"name": "a", "kind": "text"}]}})",                      // bad kind
      R"({"connect": {"transceivers": [{"name": "a", "kind": "audio", "source": 440}]}})",      // source type
      R"({"connect": {"transceivers": {"name": "a"}}})",                                         // not an array
      R"({"connect": {"tracks": [{"name": "a", "kind": "audio"}]}})",                            // track without source
      R"({"connect": {"tracks": [{"name": "a", "kind": "audio", "source": "silence", "init": {}}]}})",
      R"({"connect": {"transceivers": [{"name": "a", "on": "C", "kind": "audio"}]}})",
      R"({"openChannels": {"channels": [{"name": "x"}], "tracks": []}})",
      R"({"do": "getTrackInfo", "on": "A", "poll": "yes"})",
      R"({"expectStats": {"match": {}}, "on": "A"})",                                            // no type
      R"({"expectStats": {"type": "inbound-rtp", "match": 3}, "on": "A"})",
      R"({"expectStats": {"type": "inbound-rtp"}})",                                             // no side
      R"({"expectStats": {"type": "inbound-rtp", "absent": 1}, "on": "A"})",
  };
  for (const char* step : bad) {
    auto sc = ParseScenario(absl::StrCat(R"({"format": 1, "name": "x", "steps": [)", step, "]}"));
    EXPECT_FALSE(sc.ok()) << step;
  }
  auto ok = ParseScenario(R"({"format": 1, "name": "x", "steps": [
      {"expectStats": {"type": "outbound-rtp", "match": {"kind": "audio"}}, "on": "B", "poll": true},
      {"expectStats": {"on": "A", "type": "outbound-rtp", "absent": true}},
      {"do": "getTrackInfo", "on": "A", "args": {"transceiver": "audio"}, "poll": true, "result": {}}]})");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->steps[0].kind, StepKind::kExpectStats);
  EXPECT_EQ(ok->steps[0].stats_type, "outbound-rtp");
  EXPECT_EQ(ok->steps[0].side, 1);
  EXPECT_TRUE(ok->steps[0].poll);
  EXPECT_EQ(ok->steps[1].side, 0);
  EXPECT_TRUE(ok->steps[1].absent);
  EXPECT_TRUE(ok->steps[2].poll);
}

TEST(ScenarioMedia, KnownIssueSkipIsStepLevelOnly) {
  auto ok = ParseScenario(R"({"format": 1, "name": "x", "steps": [
      {"expectStats": {"type": "outbound-rtp"}, "on": "A",
       "knownIssues": [{"peer": "ndc", "reason": "no RTP stats", "skip": true}]},
      {"wait": 1, "knownIssues": [{"peer": "ndc", "reason": "r"}]}]})");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->steps[0].known_issues.size(), 1u);
  EXPECT_TRUE(ok->steps[0].known_issues[0].skip);
  EXPECT_FALSE(ok->steps[1].known_issues[0].skip);
  EXPECT_FALSE(ParseScenario(R"({"format": 1, "name": "x", "knownIssues": [{"peer": "ndc", "reason": "r", "skip": true}],
                                 "steps": [{"wait": 1}]})").ok())
      << "skip at scenario level";
  EXPECT_FALSE(ParseScenario(R"({"format": 1, "name": "x", "steps": [{"wait": 1,
                                 "knownIssues": [{"peer": "ndc", "reason": "r", "skip": "yes"}]}]})").ok());
}

TEST(ScenarioMedia, OperatorObjectsNeedEveryOperator) {
  std::string why;
  json range = {{"hz", {{"$gte", 430}, {"$lte", 450}}}};
  EXPECT_TRUE(JsonMatches(json{{"hz", 440.2}}, range, &why)) << why;
  EXPECT_FALSE(JsonMatches(json{{"hz", 451}}, range, &why));
  EXPECT_TRUE(absl::StrContains(why, "<= 450")) << why;
  EXPECT_FALSE(JsonMatches(json{{"hz", 429.9}}, range, &why));
  EXPECT_TRUE(absl::StrContains(why, ">= 430")) << why;
  EXPECT_FALSE(JsonMatches(json{{"hz", nullptr}}, range, &why));
  EXPECT_FALSE(JsonMatches(json::object(), range, &why));
  // Strict bounds.
  EXPECT_TRUE(JsonMatches(json{{"rtt", 0.001}}, json{{"rtt", {{"$gt", 0}}}}, &why));
  EXPECT_FALSE(JsonMatches(json{{"rtt", 0}}, json{{"rtt", {{"$gt", 0}}}}, &why));
  EXPECT_TRUE(JsonMatches(json{{"rms", 0.002}}, json{{"rms", {{"$lt", 0.01}}}}, &why));
  EXPECT_FALSE(JsonMatches(json{{"rms", 0.01}}, json{{"rms", {{"$lt", 0.01}}}}, &why));
  // An object mixing an operator and a plain key is a plain subset (old behaviour): "$gte" is a key.
  EXPECT_FALSE(JsonMatches(json{{"x", 5}}, json{{"x", {{"$gte", 1}, {"a", 1}}}}, &why));
}

TEST(ScenarioMedia, SomeMatchesAnArrayElement) {
  std::string why;
  json list = {{"transceivers", json::array({json{{"transceiver", "t1"}, {"currentDirection", "sendonly"}},
                                              json{{"transceiver", "t2"}, {"currentDirection", "recvonly"}}})}};
  EXPECT_TRUE(JsonMatches(list, json{{"transceivers", {{"$some", {{"transceiver", "t2"}, {"currentDirection", "recvonly"}}}}}}, &why)) << why;
  EXPECT_FALSE(JsonMatches(list, json{{"transceivers", {{"$some", {{"transceiver", "t2"}, {"currentDirection", "sendonly"}}}}}}, &why));
  EXPECT_TRUE(absl::StrContains(why, "no element")) << why;
  EXPECT_FALSE(JsonMatches(json{{"transceivers", 3}}, json{{"transceivers", {{"$some", 3}}}}, &why));
  EXPECT_TRUE(JsonMatches(json{{"n", json::array({1, 5, 9})}}, json{{"n", {{"$some", {{"$gte", 8}}}}}}, &why)) << why;
}

// A fake driver pair (python3) that models just enough of W3C media negotiation: mids are assigned by
// the offer, the answerer's transceivers come from the offer (handles differ per side: A t1…, B t101…),
// addTrack reuses an offered transceiver of that kind, getTrackInfo only reports the tone from its third
// call on (so "poll" must retry), getStats has one outbound-rtp entry per transceiver.
constexpr const char* kFakeMediaDriver = R"PY(
import json, sys
base = int(sys.argv[1])
ts = []  # {h, s, kind, mid, dir, sending}
calls = {'info': 0}
def out(m):
    sys.stdout.write(json.dumps(m) + '\n'); sys.stdout.flush()
def new(kind, direction, sending):
    t = {'h': 't%d' % (base + len(ts) + 1), 's': 's%d' % (base + len(ts) + 1), 'kind': kind, 'mid': None,
         'dir': direction, 'sending': sending}
    ts.append(t); return t
def desc(t):
    return {'transceiver': t['h'], 'sender': t['s'], 'mid': t['mid'], 'kind': t['kind'], 'direction': t['dir'],
            'currentDirection': None}
for line in sys.stdin:
    c = json.loads(line); op = c['op']; r = {}
    if op == 'hello': r = {'name': 'fake', 'protocol': 1, 'features': ['media']}
    elif op == 'addTransceiver': r = desc(new(c['kind'], c.get('init', {}).get('direction', 'sendrecv'), 'source' in c))
    elif op == 'addTrack':
        t = next((t for t in ts if t['kind'] == c['kind'] and not t['sending']), None) or new(c['kind'], 'sendrecv', True)
        t['sending'] = True; t['dir'] = 'sendrecv'; r = desc(t)
    elif op == 'setLocalDescription':
        for i, t in enumerate(ts):
            if t['mid'] is None and base == 0: t['mid'] = str(i)  # only an offer adds m-sections
        r = {'description': {'type': 'offer' if base == 0 else 'answer',
                             'sdp': ''.join('m=%s\r\na=mid:%s\r\n' % (t['kind'], t['mid']) for t in ts if t['mid'])}}
    elif op == 'setRemoteDescription':
        sdp = c['description']['sdp'].split('\r\n')
        for kind, mid in zip(sdp[0::2], sdp[1::2]):
            mid = mid[len('a=mid:'):]
            if base != 0 and not any(t['mid'] == mid for t in ts): new(kind[2:], 'recvonly', False)['mid'] = mid
    elif op == 'getTransceivers': r = {'transceivers': [desc(t) for t in ts]}
    elif op == 'getState': r = {'connectionState': 'connected', 'signalingState': 'stable'}
    elif op == 'getTrackInfo':
        t = next((t for t in ts if t['h'] == c['transceiver']), None)
        if t is None:
            out({'id': c['id'], 'ok': False, 'error': {'name': 'NotFoundError'}}); continue
        calls['info'] += 1
        r = {'kind': t['kind'], 'mid': t['mid'], 'dominantHz': 440.5 if calls['info'] >= 3 else None}
    elif op == 'getStats':
        r = {'stats': [{'id': 'o' + t['h'], 'type': 'outbound-rtp', 'kind': t['kind'], 'mid': t['mid'], 'packetsSent': 7}
                       for t in ts]}
    elif op == 'shutdown':
        out({'id': c['id'], 'ok': True, 'result': {}}); break
    out({'id': c['id'], 'ok': True, 'result': r})
)PY";

class FakeMediaDrivers : public ::testing::Test {
 protected:
  void SetUp() override {
    if (system("python3 -c 'import json' >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 is not available";
    char tmpl[] = "/tmp/refrtc-fake-media-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
    std::ofstream(path_) << kFakeMediaDriver;
  }
  void TearDown() override {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  CellResult Run(const std::string& steps) {
    auto sc = ParseScenario(absl::StrCat(R"({"format": 1, "name": "m", "requires": ["media"], "stepTimeoutMs": 5000, "steps": )",
                                         steps, "}"));
    EXPECT_TRUE(sc.ok()) << sc.status();
    if (!sc.ok()) return CellResult{};
    DriverSpec a{"fa", {"python3", path_, "0"}, "", ""};
    DriverSpec b{"fb", {"python3", path_, "100"}, "", ""};
    return RunCell(*sc, a, b, RunOptions{});
  }
  std::string path_;
};

TEST_F(FakeMediaDrivers, ConnectBindsNamesByMidAndStepsUseEachSidesHandle) {
  CellResult r = Run(R"([
      {"connect": {"transceivers": [{"name": "audio", "kind": "audio", "source": "tone:440"},
                                     {"name": "video", "kind": "video", "init": {"direction": "recvonly"}}],
                   "tracks": [{"name": "audio", "kind": "audio", "source": "tone:880"},
                              {"name": "video", "kind": "video", "source": "pattern"}]}},
      {"do": "getTrackInfo", "on": "A", "args": {"transceiver": "audio"}, "result": {"mid": "0", "kind": "audio"}},
      {"do": "getTrackInfo", "on": "B", "args": {"transceiver": "video"}, "result": {"mid": "1", "kind": "video"}},
      {"do": "getTrackInfo", "on": "B", "args": {"transceiver": "audio"}, "poll": true,
       "result": {"dominantHz": {"$gte": 430, "$lte": 450}}},
      {"do": "getTransceivers", "on": "B", "result": {"transceivers": {"$some": {"transceiver": "audio", "mid": "0"}}}},
      {"do": "getTransceivers", "on": "A", "result": {"transceivers": {"$some": {"transceiver": "video", "sender": "video", "mid": "1"}}}},
      {"expectStats": {"type": "outbound-rtp", "match": {"kind": "video", "packetsSent": {"$gt": 0}}}, "on": "B"},
      {"expectStats": {"type": "inbound-rtp", "match": {}, "absent": true}, "on": "B"}
  ])");
  EXPECT_EQ(r.status, "pass") << r.reason;
}

TEST_F(FakeMediaDrivers, PollTimesOutWithTheLastMismatch) {
  CellResult r = Run(R"([
      {"connect": {"transceivers": [{"name": "audio", "kind": "audio", "source": "tone:440"}]}},
      {"do": "getTrackInfo", "on": "B", "args": {"transceiver": "audio"}, "poll": true, "timeoutMs": 500,
       "result": {"dominantHz": {"$gte": 870, "$lte": 890}}}
  ])");
  EXPECT_EQ(r.status, "fail");
  EXPECT_TRUE(absl::StrContains(r.reason, "polled until timeout")) << r.reason;
  EXPECT_TRUE(absl::StrContains(r.reason, ">= 870")) << r.reason;
}

TEST_F(FakeMediaDrivers, StatsFailuresNameTheType) {
  CellResult r = Run(R"([
      {"connect": {"transceivers": [{"name": "audio", "kind": "audio"}]}},
      {"expectStats": {"type": "outbound-rtp", "match": {"kind": "video"}}, "on": "A"}
  ])");
  EXPECT_EQ(r.status, "fail");
  EXPECT_TRUE(absl::StrContains(r.reason, "none of the 1 outbound-rtp entries")) << r.reason;
  CellResult absent = Run(R"([
      {"connect": {"transceivers": [{"name": "audio", "kind": "audio"}]}},
      {"expectStats": {"type": "outbound-rtp", "match": {"kind": "audio"}, "absent": true}, "on": "A"}
  ])");
  EXPECT_EQ(absent.status, "fail");
  EXPECT_TRUE(absl::StrContains(absent.reason, "expected no outbound-rtp")) << absent.reason;
}

// A track on B that cannot reuse A's transceiver (different kind) gets its own mid-less transceiver.
TEST_F(FakeMediaDrivers, TrackThatGetsNoMidFailsClearly) {
  CellResult r = Run(R"([
      {"connect": {"transceivers": [{"name": "audio", "kind": "audio"}],
                   "tracks": [{"name": "video", "kind": "video", "source": "pattern"}]}}
  ])");
  EXPECT_EQ(r.status, "fail");
  EXPECT_TRUE(absl::StrContains(r.reason, "media \"video\"")) << r.reason;
}

}  // namespace
}  // namespace refrtc::harness
