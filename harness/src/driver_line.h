// The harness's reader of what a driver writes on stdout (docs/DRIVER_PROTOCOL.md "Framing",
// "Events"): one line → a reply, an event, or a protocol error. Pure (no process I/O) so that
// fuzz/driver_reply_fuzzer.cc can feed it arbitrary bytes.
//
// A driver is another implementation's code: whatever it writes must never crash or throw in the
// harness. Everything the runner later reads with typed accessors (json::value(key, "") and
// get<std::string>() throw nlohmann::json::type_error on a wrong type) is checked here, so an
// accepted message has those fields either absent or of the protocol's type.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"

namespace refrtc::harness {

struct DriverLine {
  enum class Kind { kReply, kEvent, kInvalid };
  Kind kind = Kind::kInvalid;
  // kInvalid: what is wrong, phrased to follow "driver A " ("wrote a non-JSON line", "replied
  // without a command id", ...), for the run's protocol error; the line itself is not included.
  std::string problem;
  // kReply: the command id (an integer that fits int64), whether it succeeded, and the result
  // object ({} when absent) or the error object. The error is normalized to an object whose
  // `name` and `message` are strings ("?" / "" when the driver sent none; a non-object error
  // becomes {"name": "?", "message": <its JSON>}).
  int64_t id = 0;
  bool ok = false;
  nlohmann::json result;
  nlohmann::json error;
  // kReply: the whole reply (id, ok, result/error as above); kEvent: the event object.
  nlohmann::json message;
};

// Classifies one line (without its '\n'). Never throws.
DriverLine ParseDriverLine(absl::string_view line);

}  // namespace refrtc::harness
