#include "driver_line.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "json_depth.h"

namespace refrtc::harness {
namespace {

using nlohmann::json;

// Fields that name a handle or carry a protocol string wherever they appear in an event or a
// result (DRIVER_PROTOCOL "Handles", "Events"); the runner reads them with value(key, "").
constexpr const char* kStringFields[] = {"event", "pc", "channel", "transceiver", "sender", "label",
                                         "state", "tone", "kind", "track", "readyState", "binaryType",
                                         "sha256", "type", "sdp"};

// Fields the event of that name must carry (the runner binds handles from them).
struct Required {
  const char* event;
  const char* field;
};
constexpr Required kRequired[] = {
    {"datachannel", "channel"}, {"open", "channel"},      {"closing", "channel"},  {"close", "channel"},
    {"bufferedamountlow", "channel"}, {"message", "channel"}, {"received", "channel"}, {"track", "transceiver"},
    {"tonechange", "sender"},   {"dtmf", "transceiver"},
};

// Checks the string fields of `j` (an object). Returns the first problem, or "". A null string
// field means "absent" and is removed (JS drivers write e.g. {"event":"log","pc":null}; the
// runner's value(key, "") would throw on a null).
std::string CheckStrings(json& j, absl::string_view what) {
  for (const char* f : kStringFields) {
    auto it = j.find(f);
    if (it != j.end() && it->is_null()) {
      j.erase(it);
      continue;
    }
    if (it != j.end() && !it->is_string()) return absl::StrCat("wrote ", what, " whose \"", f, "\" is not a string");
  }
  // mid: a string, or null before negotiation.
  auto mid = j.find("mid");
  if (mid != j.end() && !mid->is_string() && !mid->is_null()) return absl::StrCat("wrote ", what, " whose \"mid\" is not a string or null");
  return "";
}

// An RTCIceCandidateInit as JSON (webrtc-pc §4.8.1.1), or null (end of candidates).
std::string CheckCandidate(const json& c) {
  if (c.is_null()) return "";
  if (!c.is_object()) return "wrote an icecandidate event whose candidate is neither an object nor null";
  auto str_or_null = [&](const char* k) {
    auto it = c.find(k);
    return it == c.end() || it->is_string() || it->is_null();
  };
  if (!str_or_null("candidate") || !str_or_null("sdpMid") || !str_or_null("usernameFragment"))
    return "wrote an icecandidate event whose candidate has a field of the wrong type";
  auto idx = c.find("sdpMLineIndex");
  if (idx != c.end() && !idx->is_null() && !idx->is_number_unsigned() &&
      !(idx->is_number_integer() && idx->get<int64_t>() >= 0))
    return "wrote an icecandidate event whose candidate.sdpMLineIndex is not an unsigned integer";
  return "";
}

// A DOMException / RTCError as the protocol carries it: {"name", "message", "errorDetail"?}.
json NormalizeError(const json& e) {
  if (!e.is_object()) return json{{"name", "?"}, {"message", e.is_null() ? std::string() : e.dump(-1, ' ', false, json::error_handler_t::replace)}};
  json out = e;
  if (!out.contains("name") || !out["name"].is_string()) out["name"] = "?";
  if (!out.contains("message") || !out["message"].is_string()) {
    out["message"] = out.contains("message") ? out["message"].dump(-1, ' ', false, json::error_handler_t::replace) : std::string();
  }
  if (out.contains("errorDetail") && !out["errorDetail"].is_string() && !out["errorDetail"].is_null()) out.erase("errorDetail");
  return out;
}

// Protocol messages nest a handful of levels (getStats ~4); deeper lines are refused before
// parsing (json_depth.h; found by harness/tests/driver_line_test.cc).
constexpr int kMaxDepth = 64;

DriverLine Invalid(std::string problem) {
  DriverLine d;
  d.kind = DriverLine::Kind::kInvalid;
  d.problem = std::move(problem);
  return d;
}

}  // namespace

DriverLine ParseDriverLine(absl::string_view line) {
  if (JsonNestingDepth(line) > kMaxDepth) return Invalid("wrote a line nested deeper than 64 levels");
  // allow_exceptions=false: a syntax error (or invalid UTF-8) is a discarded value, not a throw.
  json msg = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (msg.is_discarded()) return Invalid("wrote a non-JSON line");
  if (!msg.is_object()) return Invalid("wrote a JSON line that is not an object");

  if (msg.contains("event")) {
    // DRIVER_PROTOCOL "Events": {"event": name, "pc": ..., ...}.
    if (std::string p = CheckStrings(msg, "an event"); !p.empty()) return Invalid(p);
    const std::string& name = msg["event"].get_ref<const std::string&>();
    for (const Required& r : kRequired)
      if (name == r.event && !msg.contains(r.field)) return Invalid(absl::StrCat("wrote a ", name, " event without \"", r.field, "\""));
    if (name == "icecandidate" && msg.contains("candidate")) {
      if (std::string p = CheckCandidate(msg["candidate"]); !p.empty()) return Invalid(p);
    }
    if (msg.contains("error")) msg["error"] = NormalizeError(msg["error"]);
    DriverLine d;
    d.kind = DriverLine::Kind::kEvent;
    d.message = std::move(msg);
    return d;
  }

  // DRIVER_PROTOCOL "Framing": {"id": n, "ok": true, "result": {...}} | {"id": n, "ok": false, "error": {...}}.
  // The harness numbers its commands with int64 ids; anything else cannot be one of its replies.
  auto id = msg.find("id");
  if (id == msg.end() || !id->is_number_integer()) return Invalid("replied without a command id");
  if (id->is_number_unsigned() && id->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return Invalid("replied with an out-of-range command id");
  auto ok = msg.find("ok");
  if (ok == msg.end() || !ok->is_boolean()) return Invalid("replied without a boolean \"ok\"");
  DriverLine d;
  d.kind = DriverLine::Kind::kReply;
  d.id = id->get<int64_t>();
  d.ok = ok->get<bool>();
  if (d.ok) {
    auto r = msg.find("result");
    if (r != msg.end() && !r->is_null() && !r->is_object()) return Invalid("replied with a result that is not an object");
    d.result = r == msg.end() || r->is_null() ? json::object() : *r;
    if (std::string p = CheckStrings(d.result, "a result"); !p.empty()) return Invalid(p);
    msg["result"] = d.result;
  } else {
    d.error = NormalizeError(msg.contains("error") ? msg["error"] : json());
    msg["error"] = d.error;
  }
  d.message = std::move(msg);
  return d;
}

}  // namespace refrtc::harness
