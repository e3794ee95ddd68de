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
  // Added in format 1 (optional step kinds; older files never use them):
  kSignal,         // {"signal": {"from", "what", "action", "rewrite", ...}}: manual signalling
  kExpectState,    // {"expectState": {...subset}, "on", "channel"?, "poll"?}: getState / getChannel matches
  kExpectNoEvent,  // {"expectNoEvent": event, "on", "channel"?, "match"?, "forMs"}
  kExpectEvents,   // {"expectEvents": [{"event", "channel"?, "match"?}, ...], "on"}: in this order
  kStream,         // {"stream": {"from", "channel", "action": "start"|"stop", "intervalMs", "size"}}
  kWait,           // {"wait": ms}: let events arrive (and streams run) for ms
  kNetwork,        // {"network": {"impair": {...}|null, "blackout": bool, "direction"}}: the relay (relay.h); body in args
  kExpectStats,    // {"expectStats": {"type", "match"}, "on", "poll"?}: some getStats entry of that type matches
};

// One SDP (or candidate) line rewrite: every line matching `match` (ECMAScript regex, searched
// within the line, without its CRLF) becomes `replace` (regex_replace format: $1, $&) or is
// removed when `remove`. A rewrite that matches no line is an error unless `optional`.
struct SdpRewrite {
  std::string match;
  std::string replace;
  bool remove = false;
  bool optional = false;
};

// Applies the rewrites in order, line by line (CRLF or LF line ends are kept as found).
absl::StatusOr<std::string> RewriteSdp(const std::string& sdp, const std::vector<SdpRewrite>& rewrites);

// Ordered-event expectation entry (expectEvents).
struct EventSpec {
  std::string name;
  std::string channel;
  nlohmann::json match = nlohmann::json::object();
};

// One data channel of a connect/openChannels macro: `name` is how later steps refer to it.
struct ChannelSpec {
  std::string name;
  std::string label;
  nlohmann::json options = nlohmann::json::object();  // RTCDataChannelInit
  bool negotiated = false;
  int side = 0;  // "from": the side that creates an in-band channel (the other gets `datachannel`)
};

// One media section of a connect: `addTransceiver` ("transceivers", before the offer) or `addTrack`
// ("tracks": on A before the offer, on B after its setRemoteDescription and before its answer, so it
// reuses the offered transceiver). `name` binds both sides' transceiver (and sender) handles, matched
// by mid once negotiated; later steps say {"transceiver": name} / {"sender": name}.
struct MediaSpec {
  std::string name;
  int side = 0;
  bool add_track = false;      // "tracks" entry: addTrack; else addTransceiver
  std::string kind;            // "audio" | "video"
  nlohmann::json source;       // "tone:440", "silence", "pattern" or null (no track)
  nlohmann::json init = nlohmann::json::object();  // RTCRtpTransceiverInit (addTransceiver)
};

struct KnownIssue {
  std::string peer;   // driver name, e.g. "werift"
  std::string role;   // "A", "B" or "any"; "" (step level, the default there) = the step's side
  std::string reason;
  // Step level only: the peer cannot do this step at all (e.g. has no RTP statistics), so it is not
  // run against it — noted, never waited for (a polled step would otherwise run to its timeout).
  bool skip = false;
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
  std::vector<MediaSpec> media;                      // connect: "transceivers" then "tracks"
  nlohmann::json config = nlohmann::json::object();  // connect: RTCConfiguration
  // connect: "configA"/"configB" merged over `config` for that side only ("$var"s resolved, e.g. a
  // certificate handle from generateCertificate); "pc": {"A": name, "B": name} starts new peer
  // connections under these names (a second connection in one cell; the old ones' events are ignored).
  nlohmann::json side_config[2] = {nlohmann::json::object(), nlohmann::json::object()};
  std::string pc_name[2];
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
  // connect: false = non-trickle (each side's description is sent after gathering completes, with its
  // candidates in the SDP; no candidate is forwarded).
  bool trickle = true;
  // signal
  std::string what;            // "description" | "candidates"
  std::string action;          // deliver | drop | duplicate | hold | auto
  std::vector<SdpRewrite> rewrite;  // signal: applied to the SDP / each candidate; do: args.description.sdp
  bool wait_gathered = false;  // signal: first wait for the sender's end-of-candidates
  bool include_end = true;     // signal candidates: deliver a queued null (end-of-candidates) too
  bool reverse = false;        // signal candidates: deliver newest first ("order": "reverse")
  int64_t delay_ms = 0;        // signal: wait (events flowing) before delivering
  bool from_state = false;     // signal description: take localDescription from getState ("source": "current")
  std::string desc_type;       // signal description: the type it must have ("" = any)
  // expectState, expectStats, do
  bool poll = false;           // poll until it matches (within timeoutMs) instead of one check
  std::string stats_type;      // expectStats: the RTCStats type ("outbound-rtp", ...)
  bool absent = false;         // expectStats: no entry of that type may match
  // expectNoEvent / wait
  int64_t for_ms = 0;
  // expectEvents
  std::vector<EventSpec> events;
  // stream
  int64_t interval_ms = 20;
};

struct Scenario {
  int format = 1;
  std::string suite;  // set by the loader: the directory under conformance/ ("" for top-level files)
  std::string name;
  std::string description;
  int64_t timeout_ms = 60000;
  int64_t step_timeout_ms = 10000;
  nlohmann::json config = nlohmann::json::object();
  std::vector<KnownIssue> known_issues;
  // "requires": ["feature", ...] (both sides) or {"A": [...], "B": [...]}: hello features a driver must
  // list (DRIVER_PROTOCOL); a cell whose driver lacks one is reported "skip" with that reason.
  std::vector<std::string> requires_features[2];
  std::vector<Step> steps;
  // "network": {"relay": true, "impair": {...}} puts the seeded UDP relay (relay.h) between the peers from
  // the start (null = none; any network step turns the relay on too). Validated by ParseNetworkChange.
  nlohmann::json network;
};

// Parses and validates a scenario document. Never throws; errors name the offending step.
absl::StatusOr<Scenario> ParseScenario(absl::string_view text);

// Reads a file and parses it.
absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path);

// Subset match used by expect/result checks: every key of `expected` must match in `actual`.
// Objects recurse; {"$oneOf": [...]}, {"$gte": n}, {"$lte": n}, {"$gt": n}, {"$lt": n}, {"$exists": bool},
// {"$contains": s}, {"$icontains": s}, {"$some": subset} (an array with a matching element) are
// operators, and an object whose keys are all operators needs
// each of them ({"$gte": 430, "$lte": 450}); other values compare with ==. On mismatch, `why` gets a
// path and both values.
bool JsonMatches(const nlohmann::json& actual, const nlohmann::json& expected, std::string* why,
                 const std::string& path = "");

}  // namespace refrtc::harness
