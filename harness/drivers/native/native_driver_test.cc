// NativeDriver::HandleLine on hostile DRIVER_PROTOCOL lines (issue F; fuzz/driver_command_fuzzer.cc).
// The driver is a host program around the exception-free stack: nlohmann::json throws on wrong types
// and json::get<unsigned>() of an out-of-range float is undefined behaviour, so every command must
// end in exactly one reply — a protocol error for a bad one — and the driver must keep working.
// docs/DRIVER_PROTOCOL.md "Framing": a bad line gets {"id": null, "ok": false, "error": {"name":
// "SyntaxError"}}; an unknown op NotSupportedError; an unknown handle NotFoundError.
#include "native_driver.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace refrtc::driver {
namespace {

class NativeDriverSecurity : public ::testing::Test {
 protected:
  NativeDriverSecurity() : driver_(loop_, Loopback()) {
    driver_.out = [this](const std::string& line) { out_.push_back(json::parse(line)); };  // parse: must be JSON
  }
  static io::InterfaceFilter Loopback() {
    io::InterfaceFilter f;
    f.allow_names = {"lo"};
    return f;
  }
  // Sends one line; returns the reply carrying `id` (events are skipped), or null if none.
  json Call(const std::string& line, const json& id) {
    out_.clear();
    driver_.HandleLine(line);
    json reply;
    int replies = 0;
    for (const json& j : out_)
      if (!j.contains("event") && j.contains("id") && j["id"] == id) {
        reply = j;
        ++replies;
      }
    EXPECT_EQ(replies, 1) << line;
    return reply;
  }
  static std::string ErrorName(const json& reply) {
    return reply.is_object() && reply.contains("error") ? reply["error"].value("name", "") : "";
  }

  io::EventLoop loop_;
  NativeDriver driver_;
  std::vector<json> out_;
};

TEST_F(NativeDriverSecurity, LineThatIsNotAJsonObjectGetsSyntaxErrorWithNullId) {
  for (const char* line : {"not json", "[1, 2]", "{\"id\": 1, \"op\": \"hello\"", "\"hello\"", "{\"op\": \"\xff\"}"}) {
    json r = Call(line, nullptr);
    EXPECT_EQ(r["ok"], false) << line;
    EXPECT_EQ(ErrorName(r), "SyntaxError") << line;
  }
  EXPECT_EQ(Call(R"({"id": 2, "op": "hello"})", 2)["ok"], true);  // still serving
}

// A command without an id (or with a structured one, which a reply could not echo in bounded
// space) is refused, not run: the createPeerConnection below must not create "a".
TEST_F(NativeDriverSecurity, CommandWithoutANumberOrStringIdIsRefusedNotRun) {
  json r = Call(R"({"op": "createPeerConnection", "pc": "a"})", nullptr);
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(ErrorName(r), "TypeError");
  EXPECT_EQ(ErrorName(Call(R"({"id": {"x": [1]}, "op": "createPeerConnection", "pc": "a"})", nullptr)), "TypeError");
  EXPECT_EQ(ErrorName(Call(R"({"id": 3, "op": "getState", "pc": "a"})", 3)), "NotFoundError");
  EXPECT_EQ(Call(R"({"id": "s", "op": "hello"})", "s")["ok"], true);  // string ids are echoed
}

// json's copy and dump() recurse per nesting level: an argument nested 100 000 deep (quoted in an
// error message, copied into the IdP wait list) would overflow the driver's stack. Refused up front.
TEST_F(NativeDriverSecurity, DeeplyNestedCommandIsRefusedWithoutRecursion) {
  std::string deep = R"({"id": 1, "op": "generateCertificate", "keygenAlgorithm": )" + std::string(100000, '[') +
                     std::string(100000, ']') + "}";
  json r = Call(deep, 1);
  EXPECT_EQ(ErrorName(r), "SyntaxError");
  EXPECT_EQ(r["error"]["message"], "command nested deeper than 64 levels");
  EXPECT_EQ(ErrorName(Call(R"({"id": 2, "op": "generateCertificate", "keygenAlgorithm": [[["x"]]]})", 2)), "TypeError");
}

TEST_F(NativeDriverSecurity, UnknownOrMissingOpIsNotSupported) {
  EXPECT_EQ(ErrorName(Call(R"({"id": 1, "op": "rm -rf"})", 1)), "NotSupportedError");
  EXPECT_EQ(ErrorName(Call(R"({"id": 2})", 2)), "NotSupportedError");
  EXPECT_EQ(ErrorName(Call(R"({"id": 3, "op": 7})", 3)), "NotSupportedError");
}

// json::value("pc", "") / get<std::string>() throw type_error on a number: the WebIDL conversion's
// TypeError is the reply, and the driver keeps working.
TEST_F(NativeDriverSecurity, WrongArgumentTypesAreTypeErrors) {
  EXPECT_EQ(ErrorName(Call(R"({"id": 1, "op": "createPeerConnection", "pc": 5})", 1)), "TypeError");
  ASSERT_EQ(Call(R"({"id": 2, "op": "createPeerConnection", "pc": "a"})", 2)["ok"], true);
  json ch = Call(R"({"id": 3, "op": "createDataChannel", "pc": "a", "label": "x"})", 3);
  ASSERT_EQ(ch["ok"], true);
  std::string handle = ch["result"]["channel"];
  EXPECT_EQ(ErrorName(Call(R"({"id": 4, "op": "setChannel", "channel": ")" + handle + R"(", "binaryType": 1})", 4)), "TypeError");
  EXPECT_EQ(ErrorName(Call(R"({"id": 5, "op": "setChannel", "channel": ")" + handle + R"(", "mute": "yes"})", 5)), "TypeError");
  EXPECT_EQ(ErrorName(Call(R"({"id": 6, "op": "send", "channel": ")" + handle + R"("})", 6)), "TypeError");  // no data
  EXPECT_EQ(ErrorName(Call(R"({"id": 7, "op": "setRemoteDescription", "pc": "a", "description": {"type": 5}})", 7)), "TypeError");
  EXPECT_EQ(Call(R"({"id": 8, "op": "getState", "pc": "a"})", 8)["result"]["signalingState"], "stable");
}

// WebIDL ConvertToInt (unsigned long long, no [EnforceRange]): modulo 2^64 — -1 is 2^64-1, and 1e300
// converts without the undefined double→integer cast nlohmann's get<uint64_t>() would do.
TEST_F(NativeDriverSecurity, HugeAndNegativeNumbersAreConvertedNotUndefinedBehaviour) {
  ASSERT_EQ(Call(R"({"id": 1, "op": "createPeerConnection", "pc": "a"})", 1)["ok"], true);
  std::string h = Call(R"({"id": 2, "op": "createDataChannel", "pc": "a", "label": "x"})", 2)["result"]["channel"];
  auto threshold = [&](const std::string& v, int id) {
    EXPECT_EQ(Call(R"({"id": )" + std::to_string(id) + R"(, "op": "setChannel", "channel": ")" + h +
                       R"(", "bufferedAmountLowThreshold": )" + v + "}",
                   id)["ok"], true) << v;
    return Call(R"({"id": 99, "op": "getChannel", "channel": ")" + h + R"("})", 99)["result"]["bufferedAmountLowThreshold"];
  };
  EXPECT_EQ(threshold("-1", 3), json(18446744073709551615u));
  EXPECT_EQ(threshold("4096.9", 4), json(4096u));
  EXPECT_EQ(threshold("18446744073709551616", 5), json(0u));  // parsed as a float: 2^64 mod 2^64
  EXPECT_TRUE(threshold("1e300", 6).is_number_unsigned());
  // notifyAfter is the protocol's own count: a non-negative integer or a TypeError.
  EXPECT_EQ(ErrorName(Call(R"({"id": 7, "op": "setChannel", "channel": ")" + h + R"(", "notifyAfter": -5})", 7)), "TypeError");
  EXPECT_EQ(ErrorName(Call(R"({"id": 8, "op": "setChannel", "channel": ")" + h + R"(", "notifyAfter": 1e300})", 8)), "TypeError");
  // insertDTMF durations (ToUint32) and codec clock rates: no UB, a W3C answer.
  json t = Call(R"({"id": 9, "op": "addTransceiver", "pc": "a", "kind": "audio", "source": "tone:440"})", 9);
  ASSERT_EQ(t["ok"], true);
  std::string sender = t["result"]["sender"], transceiver = t["result"]["transceiver"];
  EXPECT_EQ(ErrorName(Call(R"({"id": 10, "op": "insertDTMF", "sender": ")" + sender +
                               R"(", "tones": "1", "duration": 1e300, "interToneGap": -1e300})",
                           10)),
            "InvalidStateError");  // not connected (webrtc-pc §7.2 step 3), after converting both numbers
  json codecs = Call(R"({"id": 11, "op": "setCodecPreferences", "transceiver": ")" + transceiver +
                         R"(", "codecs": [{"mimeType": "audio/opus", "clockRate": 1e300}]})",
                     11);
  EXPECT_EQ(ErrorName(codecs), "InvalidModificationError");  // no such codec (webrtc-pc §5.4)
  EXPECT_EQ(Call(R"({"id": 12, "op": "registerTestIdp", "pc": "a", "idpTimeoutMs": 1e300})", 12)["ok"], true);
}

// sendMany materializes each message: a size no channel could send is refused before allocating
// (a 2^60-byte std::string would abort the driver); size/count must be non-negative integers.
TEST_F(NativeDriverSecurity, SendManyWithAnAbsurdSizeIsRefusedBeforeAllocating) {
  ASSERT_EQ(Call(R"({"id": 1, "op": "createPeerConnection", "pc": "a"})", 1)["ok"], true);
  std::string h = Call(R"({"id": 2, "op": "createDataChannel", "pc": "a", "label": "x"})", 2)["result"]["channel"];
  json big = Call(R"({"id": 3, "op": "sendMany", "channel": ")" + h + R"(", "size": 1152921504606846976, "count": 1})", 3);
  EXPECT_EQ(ErrorName(big), "TypeError");
  EXPECT_EQ(ErrorName(Call(R"({"id": 4, "op": "sendMany", "channel": ")" + h + R"(", "size": -1, "count": 1})", 4)), "TypeError");
  EXPECT_EQ(ErrorName(Call(R"({"id": 5, "op": "sendMany", "channel": ")" + h + R"(", "size": 10, "count": "x"})", 5)), "TypeError");
  // A sensible sendMany on a channel that is not open is the W3C InvalidStateError.
  EXPECT_EQ(ErrorName(Call(R"({"id": 6, "op": "sendMany", "channel": ")" + h + R"(", "size": 10, "count": 2})", 6)), "InvalidStateError");
}

TEST_F(NativeDriverSecurity, UnknownHandlesAreNotFound) {
  EXPECT_EQ(ErrorName(Call(R"({"id": 1, "op": "send", "channel": "ch999", "data": "x"})", 1)), "NotFoundError");
  EXPECT_EQ(ErrorName(Call(R"({"id": 2, "op": "insertDTMF", "sender": ["s1"], "tones": "1"})", 2)), "NotFoundError");
  EXPECT_EQ(ErrorName(Call(R"({"id": 3, "op": "getTrackInfo", "transceiver": "t9"})", 3)), "NotFoundError");
  EXPECT_EQ(ErrorName(Call(R"({"id": 4, "op": "createOffer", "pc": "zz"})", 4)), "NotFoundError");
}

}  // namespace
}  // namespace refrtc::driver
