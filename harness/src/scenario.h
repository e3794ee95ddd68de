// Conformance scenario files (conformance/*.json, format 1; documented in conformance/README.md).
// The reader validates the whole file up front so a bad scenario fails with a clear message before
// any driver starts. Step arguments stay JSON: they are what the runner sends to drivers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace refrtc::harness {

enum class StepKind {
  kConnect,        // {"connect": {"channels": [...], "config": {...}}}
  kOpenChannels,   // {"openChannels": {"channels": [...]}}
  kDo,             // {"do": op, "on": side, "args": {...}, ...}
  kExpect,         // {"expect": event, "on": side, ...}
  kSendAndExpect,  // {"sendAndExpect": {...}}
  kThroughput,     // {"throughput": {...}}
};

// One data channel of a connect/openChannels macro: `name` is how later steps refer to it.
struct ChannelSpec {
  std::string name;
  std::string label;
  nlohmann::json options = nlohmann::json::object();  // RTCDataChannelInit
  bool negotiated = false;
};

struct KnownIssue {
  std::string peer;   // driver name, e.g. "werift"
  std::string role;   // "A", "B" or "any"; "" (step level, the default there) = the step's side
  std::string reason;
};

struct Step {
  StepKind kind = StepKind::kDo;
  int side = 0;               // 0 = A (offerer), 1 = B; for sendAndExpect/throughput: the sender
  int64_t timeout_ms = 0;     // 0: scenario's stepTimeoutMs
  std::string name;           // op (do) or event (expect)
  std::string channel;        // channel name (expect, sendAndExpect, throughput; "*" = every channel)
  std::string bind_as;        // "as": bind a result/event's channel handle under this name
  nlohmann::json args = nlohmann::json::object();   // do: command arguments
  nlohmann::json match = nlohmann::json::object();  // do: "result" subset; expect: "match" subset
  nlohmann::json save = nlohmann::json::object();   // {"var": "/json/pointer"}
  std::string expect_error;   // do: expected error name ("" = must succeed)
  std::vector<ChannelSpec> channels;                 // connect / openChannels
  nlohmann::json config = nlohmann::json::object();  // connect: RTCConfiguration
  // sendAndExpect / throughput
  bool has_data = false;
  nlohmann::json data;        // literal payload (string or {"binary": b64})
  nlohmann::json size;        // number or "$var" (generated payloads)
  int64_t size_cap = 0;       // upper bound for a "$var" size (0 = 4 MiB)
  int64_t count = 1;
  bool binary = true;
  std::string label;          // throughput: metric label
  std::string before;          // expect: fail at once if this event (same channel) comes first
  std::vector<KnownIssue> known_issues;  // a failure of this step by these peers is noted, not fatal
  std::string comment;
};

struct Scenario {
  int format = 1;
  std::string name;
  std::string description;
  int64_t timeout_ms = 60000;
  int64_t step_timeout_ms = 10000;
  nlohmann::json config = nlohmann::json::object();
  std::vector<KnownIssue> known_issues;
  std::vector<Step> steps;
};

// Parses and validates a scenario document. Never throws; errors name the offending step.
absl::StatusOr<Scenario> ParseScenario(absl::string_view text);

// Reads a file and parses it.
absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path);

// Subset match used by expect/result checks: every key of `expected` must match in `actual`.
// Objects recurse; {"$oneOf": [...]}, {"$gte": n}, {"$lte": n}, {"$exists": bool} are operators;
// other values compare with ==. On mismatch, `why` gets a path and both values.
bool JsonMatches(const nlohmann::json& actual, const nlohmann::json& expected, std::string* why,
                 const std::string& path = "");

}  // namespace refrtc::harness
