// The harness's reader of driver output (harness/src/driver_line.h, issue F): a driver is another
// implementation's code, so a malformed line must become a protocol error of the cell — never an
// uncaught nlohmann::json exception that aborts the whole harness run. Before ParseDriverLine the
// runner read replies and events with json::value(key, default), which throws type_error 302 when
// the key exists with another type (docs/DRIVER_PROTOCOL.md "Framing", "Events").
#include "driver_line.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace refrtc::harness {
namespace {

using nlohmann::json;
using Kind = DriverLine::Kind;

// DRIVER_PROTOCOL "Framing": ok is a boolean. {"ok": 1} made runner.cc's msg.value("ok", false)
// throw (found by fuzz/driver_reply_fuzzer.cc's contract check).
TEST(DriverLineSecurity, NonBooleanOkIsAProtocolErrorNotAThrow) {
  for (const char* line : {R"({"id": 1, "ok": 1})", R"({"id": 1, "ok": "true"})", R"({"id": 1})"}) {
    DriverLine d = ParseDriverLine(line);
    EXPECT_EQ(d.kind, Kind::kInvalid) << line;
    EXPECT_TRUE(absl::StrContains(d.problem, "\"ok\"")) << d.problem;
  }
}

// The harness numbers commands with int64 ids: a float, string, null or out-of-range id cannot
// answer one of them (get<int64_t>() of 2^64-1 would silently wrap to -1).
TEST(DriverLineSecurity, ReplyWithAnIdTheHarnessNeverSentIsRejected) {
  for (const char* line : {R"({"id": null, "ok": false, "error": {"name": "SyntaxError"}})", R"({"id": "1", "ok": true})",
                           R"({"id": 1.5, "ok": true})", R"({"id": 18446744073709551615, "ok": true})"}) {
    EXPECT_EQ(ParseDriverLine(line).kind, Kind::kInvalid) << line;
  }
  DriverLine max = ParseDriverLine(R"({"id": 9223372036854775807, "ok": true})");
  ASSERT_EQ(max.kind, Kind::kReply);
  EXPECT_EQ(max.id, 9223372036854775807);
}

// Events are matched with value("event", "") / value("channel", "") and bound with
// get<std::string>(): a handle of another type threw in the runner.
TEST(DriverLineSecurity, EventWithANonStringHandleIsAProtocolError) {
  for (const char* line : {R"({"event": 5, "pc": "a"})", R"({"event": "open", "pc": "a", "channel": 7})",
                           R"({"event": "open", "pc": ["a"], "channel": "ch1"})",
                           R"({"event": "track", "pc": "a", "transceiver": null})",
                           R"({"event": "datachannel", "pc": "a", "channel": "ch1", "label": {}})",
                           R"({"event": "track", "pc": "a", "transceiver": "t1", "mid": 0})"}) {
    DriverLine d = ParseDriverLine(line);
    EXPECT_EQ(d.kind, Kind::kInvalid) << line;
    EXPECT_FALSE(d.problem.empty());
  }
}

// A null string field means absent: the Chromium driver logs page warnings as
// {"event":"log","pc":null,...} (a real line that the first version of this reader refused).
TEST(DriverLine, NullStringFieldIsTreatedAsAbsent) {
  DriverLine d = ParseDriverLine(
      R"({"event":"log","pc":null,"level":"warn","message":"video sink play(): The play() request was interrupted"})");
  ASSERT_EQ(d.kind, Kind::kEvent) << d.problem;
  EXPECT_FALSE(d.message.contains("pc"));
  EXPECT_EQ(d.message.value("pc", ""), "");
  EXPECT_EQ(d.message.value("level", ""), "warn");
}

// The runner binds a handle from these events with (*ev)["channel"].get<std::string>(): a
// missing one was null.get<std::string>() → type_error.
TEST(DriverLineSecurity, EventWithoutTheHandleItMustCarryIsAProtocolError) {
  EXPECT_EQ(ParseDriverLine(R"({"event": "datachannel", "pc": "b", "label": "x"})").kind, Kind::kInvalid);
  EXPECT_EQ(ParseDriverLine(R"({"event": "message", "pc": "b", "data": "x"})").kind, Kind::kInvalid);
  EXPECT_EQ(ParseDriverLine(R"({"event": "track", "pc": "b", "kind": "audio"})").kind, Kind::kInvalid);
  EXPECT_EQ(ParseDriverLine(R"({"event": "negotiationneeded", "pc": "b"})").kind, Kind::kEvent);
}

// webrtc-pc §4.8.1.1 RTCIceCandidateInit; the runner logs candidate.value("candidate", "").
TEST(DriverLineSecurity, MalformedIceCandidateIsAProtocolError) {
  for (const char* line : {R"({"event": "icecandidate", "pc": "a", "candidate": "candidate:1 1 udp 1 1.2.3.4 5 typ host"})",
                           R"({"event": "icecandidate", "pc": "a", "candidate": {"candidate": 1}})",
                           R"({"event": "icecandidate", "pc": "a", "candidate": {"candidate": "", "sdpMLineIndex": -1}})",
                           R"({"event": "icecandidate", "pc": "a", "candidate": {"candidate": "", "sdpMid": 0}})"}) {
    EXPECT_EQ(ParseDriverLine(line).kind, Kind::kInvalid) << line;
  }
  EXPECT_EQ(ParseDriverLine(R"({"event": "icecandidate", "pc": "a", "candidate": null})").kind, Kind::kEvent);
  EXPECT_EQ(ParseDriverLine(R"({"event": "icecandidate", "pc": "a", "candidate": {"candidate": "candidate:1 1 udp 1 1.2.3.4 5 typ host", "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": null}})").kind,
            Kind::kEvent);
}

// WaitReply reports err.value("name", "?") / value("message", ""): the error is normalized so that
// a driver's odd error shape becomes a readable failure instead of a throw.
TEST(DriverLineSecurity, ErrorOfAnyShapeIsNormalizedToNameAndMessageStrings) {
  DriverLine d = ParseDriverLine(R"({"id": 4, "ok": false, "error": {"name": 3, "message": {"x": 1}, "errorDetail": []}})");
  ASSERT_EQ(d.kind, Kind::kReply);
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.error["name"], "?");
  EXPECT_EQ(d.error["message"], R"({"x":1})");
  EXPECT_FALSE(d.error.contains("errorDetail"));
  DriverLine s = ParseDriverLine(R"({"id": 5, "ok": false, "error": "boom"})");
  ASSERT_EQ(s.kind, Kind::kReply);
  EXPECT_EQ(s.error, (json{{"name", "?"}, {"message", "\"boom\""}}));
  EXPECT_EQ(s.message["error"], s.error);  // what the runner stores is the normalized reply
  DriverLine missing = ParseDriverLine(R"({"id": 6, "ok": false})");
  ASSERT_EQ(missing.kind, Kind::kReply);
  EXPECT_EQ(missing.error, (json{{"name", "?"}, {"message", ""}}));
}

TEST(DriverLineSecurity, ResultThatIsNotAnObjectIsAProtocolError) {
  EXPECT_EQ(ParseDriverLine(R"({"id": 2, "ok": true, "result": [1]})").kind, Kind::kInvalid);
  EXPECT_EQ(ParseDriverLine(R"({"id": 2, "ok": true, "result": {"channel": 1}})").kind, Kind::kInvalid);
  DriverLine none = ParseDriverLine(R"({"id": 2, "ok": true})");
  ASSERT_EQ(none.kind, Kind::kReply);
  EXPECT_EQ(none.result, json::object());
}

// Not JSON, not an object, invalid UTF-8 (RFC 8259 §8.1), and nesting 200 000 deep: each is a
// protocol error, in bounded stack. (The deep line overflowed the stack before the depth limit:
// json's copy constructor and dump() recurse once per level.)
TEST(DriverLineSecurity, GarbageInvalidUtf8AndDeepNestingAreProtocolErrors) {
  EXPECT_EQ(ParseDriverLine("this is { not json").problem, "wrote a non-JSON line");
  EXPECT_EQ(ParseDriverLine("[1, 2]").problem, "wrote a JSON line that is not an object");
  EXPECT_EQ(ParseDriverLine("{\"event\": \"log\", \"message\": \"\xff\xfe\"}").kind, Kind::kInvalid);
  EXPECT_EQ(ParseDriverLine("").kind, Kind::kInvalid);
  std::string deep = "{\"id\": 1, \"ok\": true, \"result\": {\"x\": " + std::string(200000, '[') + std::string(200000, ']') + "}}";
  DriverLine d = ParseDriverLine(deep);
  EXPECT_EQ(d.kind, Kind::kInvalid);
  EXPECT_EQ(d.problem, "wrote a line nested deeper than 64 levels");
  // Brackets inside strings are not nesting; 64 levels are fine.
  EXPECT_EQ(ParseDriverLine(R"({"event": "log", "pc": "a", "message": ")" + std::string(1000, '[') + R"("})").kind, Kind::kEvent);
  std::string ok64 = "{\"id\": 1, \"ok\": true, \"result\": {\"x\": " + std::string(62, '[') + std::string(62, ']') + "}}";
  EXPECT_EQ(ParseDriverLine(ok64).kind, Kind::kReply);
  EXPECT_EQ(ParseDriverLine("{\"id\": 1, \"ok\": true, \"result\": {\"x\": " + std::string(63, '[') + std::string(63, ']') + "}}").kind,
            Kind::kInvalid);
}

// Lines real drivers wrote (build/reports logs: native, libwebrtc via wrtc, werift) are accepted.
TEST(DriverLine, RealDriverOutputIsAccepted) {
  DriverLine r = ParseDriverLine(R"({"id":3,"ok":true,"result":{"binaryType":"arraybuffer","bufferedAmount":0,"channel":"ch1","id":null,"label":"basic","readyState":"connecting"}})");
  ASSERT_EQ(r.kind, Kind::kReply);
  EXPECT_EQ(r.id, 3);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.result["channel"], "ch1");
  DriverLine e = ParseDriverLine(R"({"candidate":{"candidate":"candidate:3660235840 1 udp 2118189055 127.0.0.1 58753 typ host generation 0 ufrag 5C5Q0P8j","sdpMLineIndex":0,"sdpMid":"0","usernameFragment":"5C5Q0P8j"},"event":"icecandidate","pc":"a"})");
  ASSERT_EQ(e.kind, Kind::kEvent);
  EXPECT_EQ(e.message["pc"], "a");
  DriverLine err = ParseDriverLine(R"({"id":7,"ok":false,"error":{"name":"InvalidStateError","message":"x","errorDetail":"sdp-syntax-error"}})");
  ASSERT_EQ(err.kind, Kind::kReply);
  EXPECT_EQ(err.error["errorDetail"], "sdp-syntax-error");
}

}  // namespace
}  // namespace refrtc::harness
