#include "scenario.h"

#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "json_depth.h"
#include "relay.h"
#include "util/codec.h"

namespace refrtc::harness {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 64;
constexpr int64_t kMaxTimeoutMs = 3600 * 1000;
constexpr int64_t kMaxCount = 100000000;

absl::Status Bad(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

absl::Status GetSide(const json& j, const char* key, absl::string_view where, int* side) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return Bad(where, absl::StrCat("\"", key, "\" must be \"A\" or \"B\""));
  const std::string& s = it->get_ref<const std::string&>();
  if (s == "A") *side = 0;
  else if (s == "B") *side = 1;
  else return Bad(where, absl::StrCat("\"", key, "\" must be \"A\" or \"B\", not \"", s, "\""));
  return absl::OkStatus();
}

absl::Status GetString(const json& j, const char* key, absl::string_view where, std::string* out, bool required) {
  auto it = j.find(key);
  if (it == j.end()) return required ? Bad(where, absl::StrCat("missing \"", key, "\"")) : absl::OkStatus();
  if (!it->is_string()) return Bad(where, absl::StrCat("\"", key, "\" must be a string"));
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status GetInt(const json& j, const char* key, absl::string_view where, int64_t lo, int64_t hi, int64_t* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_number_integer()) return Bad(where, absl::StrCat("\"", key, "\" must be an integer"));
  int64_t v = it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                  ? INT64_MAX : it->get<int64_t>();
  if (v < lo || v > hi) return Bad(where, absl::StrCat("\"", key, "\" out of range [", lo, ", ", hi, "]"));
  *out = v;
  return absl::OkStatus();
}

absl::Status GetObject(const json& j, const char* key, absl::string_view where, json* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_object()) return Bad(where, absl::StrCat("\"", key, "\" must be an object"));
  *out = *it;
  return absl::OkStatus();
}

absl::Status GetBool(const json& j, const char* key, absl::string_view where, bool* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_boolean()) return Bad(where, absl::StrCat("\"", key, "\" must be true or false"));
  *out = it->get<bool>();
  return absl::OkStatus();
}

// "save": {"var": "/json/pointer", ...}
absl::Status GetSave(const json& j, absl::string_view where, json* out) {
  json save = json::object();
  if (auto s = GetObject(j, "save", where, &save); !s.ok()) return s;
  for (auto& [var, ptr] : save.items()) {
    if (var.empty()) return Bad(where, "save: empty variable name");
    if (!ptr.is_string()) return Bad(where, "save: values must be JSON pointers");
    const std::string& p = ptr.get_ref<const std::string&>();
    if (!p.empty() && p[0] != '/') return Bad(where, absl::StrCat("save: bad JSON pointer \"", p, "\""));
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] == '~' && (i + 1 >= p.size() || (p[i + 1] != '0' && p[i + 1] != '1'))) {
        return Bad(where, absl::StrCat("save: bad JSON pointer escape in \"", p, "\""));
      }
    }
  }
  *out = std::move(save);
  return absl::OkStatus();
}

// Generated-payload size: a non-negative integer or "$var".
absl::Status GetSize(const json& j, absl::string_view where, json* out, bool required) {
  auto it = j.find("size");
  if (it == j.end()) return required ? Bad(where, "missing \"size\"") : absl::OkStatus();
  if (it->is_number_integer() && it->get<int64_t>() >= 0 && it->get<int64_t>() <= (int64_t{1} << 32)) {
    *out = *it;
    return absl::OkStatus();
  }
  if (it->is_string() && it->get_ref<const std::string&>().size() > 1 && it->get_ref<const std::string&>()[0] == '$') {
    *out = *it;
    return absl::OkStatus();
  }
  return Bad(where, "\"size\" must be an integer in [0, 2^32] or \"$variable\"");
}

absl::Status ParseKnownIssues(const json& j, absl::string_view where, const std::string& default_role,
                              std::vector<KnownIssue>* out) {
  auto it = j.find("knownIssues");
  if (it == j.end()) return absl::OkStatus();
  std::string w = absl::StrCat(where, " knownIssues");
  if (!it->is_array()) return Bad(w, "must be an array");
  for (const json& k : *it) {
    if (!k.is_object()) return Bad(w, "entries must be objects");
    KnownIssue issue;
    issue.role = default_role;
    if (auto s = GetString(k, "peer", w, &issue.peer, true); !s.ok()) return s;
    if (auto s = GetString(k, "role", w, &issue.role, false); !s.ok()) return s;
    if (auto s = GetString(k, "reason", w, &issue.reason, true); !s.ok()) return s;
    if (k.contains("skip")) {
      if (!k["skip"].is_boolean()) return Bad(w, "skip must be a boolean");
      if (default_role == "any") return Bad(w, "skip is for step-level known issues only");
      issue.skip = k["skip"].get<bool>();
    }
    if (issue.role != "A" && issue.role != "B" && issue.role != "any" && !(issue.role.empty() && default_role.empty())) {
      return Bad(w, "role is A, B or any");
    }
    out->push_back(std::move(issue));
  }
  return absl::OkStatus();
}

absl::Status ParseChannels(const json& body, absl::string_view where, std::set<std::string>* names,
                           std::vector<ChannelSpec>* out) {
  auto it = body.find("channels");
  if (it == body.end()) return absl::OkStatus();
  if (!it->is_array()) return Bad(where, "\"channels\" must be an array");
  std::set<std::string> labels;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& c = (*it)[i];
    std::string w = absl::StrCat(where, " channel ", i);
    if (!c.is_object()) return Bad(w, "must be an object");
    ChannelSpec spec;
    if (auto s = GetString(c, "name", w, &spec.name, true); !s.ok()) return s;
    if (spec.name.empty() || spec.name == "*") return Bad(w, "bad channel name");
    spec.label = spec.name;
    if (auto s = GetString(c, "label", w, &spec.label, false); !s.ok()) return s;
    if (auto s = GetObject(c, "options", w, &spec.options); !s.ok()) return s;
    auto neg = spec.options.find("negotiated");
    if (neg != spec.options.end()) {
      if (!neg->is_boolean()) return Bad(w, "options.negotiated must be a boolean");
      spec.negotiated = neg->get<bool>();
    }
    if (spec.negotiated) {
      auto id = spec.options.find("id");
      if (id == spec.options.end() || !id->is_number_integer() || id->get<int64_t>() < 0 || id->get<int64_t>() > 65534) {
        return Bad(w, "a negotiated channel needs options.id in [0, 65534]");
      }
    } else if (!labels.insert(spec.label).second) {
      // In-band channels are matched to `datachannel` events by label.
      return Bad(w, absl::StrCat("duplicate label \"", spec.label, "\" among in-band channels"));
    }
    if (c.contains("from")) {
      if (!c["from"].is_string() || (c["from"] != "A" && c["from"] != "B")) return Bad(w, "\"from\" must be \"A\" or \"B\"");
      spec.side = c["from"] == "B" ? 1 : 0;
    }
    // "repeat": N expands into N channels NAME0..NAME(N-1) labelled LABEL-0..LABEL-(N-1) (a
    // negotiated one's id grows by 2 per copy, keeping the DTLS-role parity of RFC 8832 §6).
    int64_t repeat = 0;
    if (auto s = GetInt(c, "repeat", w, 1, 4096, &repeat); !s.ok()) return s;
    std::vector<ChannelSpec> copies;
    if (repeat == 0) {
      copies.push_back(std::move(spec));
    } else {
      for (int64_t k = 0; k < repeat; ++k) {
        ChannelSpec copy = spec;
        copy.name = absl::StrCat(spec.name, k);
        copy.label = absl::StrCat(spec.label, "-", k);
        if (copy.negotiated) {
          int64_t id = spec.options["id"].get<int64_t>() + 2 * k;
          if (id > 65534) return Bad(w, "repeat runs the negotiated id past 65534");
          copy.options["id"] = id;
        }
        copies.push_back(std::move(copy));
      }
    }
    for (ChannelSpec& one : copies) {
      if (!one.negotiated && repeat > 0 && !labels.insert(one.label).second) {
        return Bad(w, absl::StrCat("duplicate label \"", one.label, "\" among in-band channels"));
      }
      if (!names->insert(one.name).second) return Bad(w, absl::StrCat("channel name \"", one.name, "\" used twice"));
      out->push_back(std::move(one));
    }
  }
  return absl::OkStatus();
}

// connect "transceivers" / "tracks": [{"name", "on", "kind", "source", "init"}] (MediaSpec).
absl::Status ParseMedia(const json& body, const char* key, bool add_track, absl::string_view where,
                        std::vector<MediaSpec>* out) {
  auto it = body.find(key);
  if (it == body.end()) return absl::OkStatus();
  if (!it->is_array()) return Bad(where, absl::StrCat("\"", key, "\" must be an array"));
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    std::string w = absl::StrCat(where, " ", key, " ", i);
    if (!m.is_object()) return Bad(w, "must be an object");
    MediaSpec spec;
    spec.add_track = add_track;
    if (auto s = GetString(m, "name", w, &spec.name, true); !s.ok()) return s;
    if (spec.name.empty()) return Bad(w, "empty name");
    spec.side = add_track ? 1 : 0;  // defaults: transceivers on A (the offerer), tracks on B
    if (m.contains("on")) {
      if (auto s = GetSide(m, "on", w, &spec.side); !s.ok()) return s;
    }
    if (auto s = GetString(m, "kind", w, &spec.kind, true); !s.ok()) return s;
    if (spec.kind != "audio" && spec.kind != "video") return Bad(w, "\"kind\" is \"audio\" or \"video\"");
    auto src = m.find("source");
    if (src != m.end() && !src->is_string() && !src->is_null()) return Bad(w, "\"source\" is a string (tone:FREQ, silence, pattern)");
    if (src != m.end()) spec.source = *src;
    if (add_track && !spec.source.is_string()) return Bad(w, "a track needs a \"source\"");
    if (auto s = GetObject(m, "init", w, &spec.init); !s.ok()) return s;
    if (add_track && m.contains("init")) return Bad(w, "\"init\" belongs to transceivers (addTrack has none)");
    out->push_back(std::move(spec));
  }
  return absl::OkStatus();
}

// "rewrite": [{"match": regex, "replace": string | null, "optional": bool}]
absl::Status ParseRewrites(const json& j, absl::string_view where, std::vector<SdpRewrite>* out) {
  auto it = j.find("rewrite");
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_array()) return Bad(where, "\"rewrite\" must be an array of {match, replace}");
  for (const json& r : *it) {
    if (!r.is_object()) return Bad(where, "rewrite entries must be objects");
    SdpRewrite rw;
    if (auto s = GetString(r, "match", where, &rw.match, true); !s.ok()) return s;
    auto rep = r.find("replace");
    if (rep == r.end()) return Bad(where, "rewrite: missing \"replace\" (a string, or null to remove the line)");
    if (rep->is_null()) rw.remove = true;
    else if (rep->is_string()) rw.replace = rep->get<std::string>();
    else return Bad(where, "rewrite: \"replace\" must be a string or null");
    if (auto s = GetBool(r, "optional", where, &rw.optional); !s.ok()) return s;
    try {
      std::regex re(rw.match, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Bad(where, absl::StrCat("rewrite: bad regex \"", rw.match, "\": ", e.what()));
    }
    out->push_back(std::move(rw));
  }
  return absl::OkStatus();
}

absl::Status ParseStep(const json& j, size_t index, std::set<std::string>* names, Step* step) {
  std::string where = absl::StrCat("step ", index);
  if (!j.is_object()) return Bad(where, "must be an object");
  static const char* kKinds[] = {"connect", "openChannels", "do", "expect", "sendAndExpect", "throughput",
                                 "signal", "expectState", "expectNoEvent", "expectEvents", "stream", "wait",
                                 "network", "expectStats"};
  constexpr int kNumKinds = sizeof(kKinds) / sizeof(kKinds[0]);
  int found = -1;
  for (int k = 0; k < kNumKinds; ++k) {
    if (j.contains(kKinds[k])) {
      if (found >= 0) return Bad(where, absl::StrCat("has both \"", kKinds[found], "\" and \"", kKinds[k], "\""));
      found = k;
    }
  }
  if (found < 0) {
    return Bad(where, "needs one of connect, openChannels, do, expect, sendAndExpect, throughput, signal, expectState, "
                      "expectNoEvent, expectEvents, stream, wait, network, expectStats");
  }
  step->kind = static_cast<StepKind>(found);
  where = absl::StrCat(where, " (", kKinds[found], ")");
  if (auto s = GetString(j, "comment", where, &step->comment, false); !s.ok()) return s;
  if (auto s = GetInt(j, "timeoutMs", where, 1, kMaxTimeoutMs, &step->timeout_ms); !s.ok()) return s;
  // Step level: without "role" an issue applies to the peer on the step's side ("on"/"from").
  if (auto s = ParseKnownIssues(j, where, "", &step->known_issues); !s.ok()) return s;

  switch (step->kind) {
    case StepKind::kConnect:
    case StepKind::kOpenChannels: {
      const json& body = j[kKinds[found]];
      if (!body.is_object()) return Bad(where, "body must be an object");
      if (auto s = ParseChannels(body, where, names, &step->channels); !s.ok()) return s;
      if (auto s = GetObject(body, "config", where, &step->config); !s.ok()) return s;
      if (step->kind == StepKind::kConnect) {
        if (auto s = ParseMedia(body, "transceivers", false, where, &step->media); !s.ok()) return s;
        if (auto s = ParseMedia(body, "tracks", true, where, &step->media); !s.ok()) return s;
        if (auto s = GetObject(body, "configA", where, &step->side_config[0]); !s.ok()) return s;
        if (auto s = GetObject(body, "configB", where, &step->side_config[1]); !s.ok()) return s;
        if (body.contains("pc")) {
          const json& pc = body["pc"];
          if (!pc.is_object()) return Bad(where, "\"pc\" must be an object {\"A\": name, \"B\": name}");
          for (auto& [k, v] : pc.items()) {
            if ((k != "A" && k != "B") || !v.is_string() || v.get<std::string>().empty()) {
              return Bad(where, "\"pc\" maps \"A\"/\"B\" to non-empty names");
            }
            step->pc_name[k == "A" ? 0 : 1] = v.get<std::string>();
          }
        }
      }
      if (auto s = GetInt(body, "timeoutMs", where, 1, kMaxTimeoutMs, &step->timeout_ms); !s.ok()) return s;
      if (auto s = GetBool(body, "trickle", where, &step->trickle); !s.ok()) return s;
      if (step->kind == StepKind::kOpenChannels && !step->trickle) return Bad(where, "\"trickle\" belongs to connect");
      if (step->kind == StepKind::kOpenChannels && step->channels.empty()) return Bad(where, "needs channels");
      if (step->kind == StepKind::kOpenChannels && (body.contains("transceivers") || body.contains("tracks"))) {
        return Bad(where, "\"transceivers\"/\"tracks\" belong to connect");
      }
      return absl::OkStatus();
    }
    case StepKind::kDo: {
      if (auto s = GetString(j, "do", where, &step->name, true); !s.ok()) return s;
      if (step->name.empty()) return Bad(where, "empty op");
      if (auto s = GetSide(j, "on", where, &step->side); !s.ok()) return s;
      if (auto s = GetObject(j, "args", where, &step->args); !s.ok()) return s;
      if (auto s = GetObject(j, "result", where, &step->match); !s.ok()) return s;
      if (auto s = GetSave(j, where, &step->save); !s.ok()) return s;
      if (auto s = GetString(j, "expectError", where, &step->expect_error, false); !s.ok()) return s;
      if (auto s = GetString(j, "as", where, &step->bind_as, false); !s.ok()) return s;
      if (auto s = GetBool(j, "poll", where, &step->poll); !s.ok()) return s;
      if (auto s = ParseRewrites(j, where, &step->rewrite); !s.ok()) return s;
      if (!step->rewrite.empty() && !step->args.contains("description")) {
        return Bad(where, "\"rewrite\" applies to args.description.sdp, and there is no args.description");
      }
      if (!step->bind_as.empty()) names->insert(step->bind_as);
      return absl::OkStatus();
    }
    case StepKind::kExpect: {
      if (auto s = GetString(j, "expect", where, &step->name, true); !s.ok()) return s;
      if (step->name.empty()) return Bad(where, "empty event name");
      if (auto s = GetSide(j, "on", where, &step->side); !s.ok()) return s;
      if (auto s = GetString(j, "channel", where, &step->channel, false); !s.ok()) return s;
      if (auto s = GetObject(j, "match", where, &step->match); !s.ok()) return s;
      if (auto s = GetSave(j, where, &step->save); !s.ok()) return s;
      if (auto s = GetString(j, "as", where, &step->bind_as, false); !s.ok()) return s;
      if (auto s = GetString(j, "before", where, &step->before, false); !s.ok()) return s;
      if (!step->bind_as.empty()) names->insert(step->bind_as);
      return absl::OkStatus();
    }
    case StepKind::kSendAndExpect:
    case StepKind::kThroughput: {
      const json& body = j[kKinds[found]];
      if (!body.is_object()) return Bad(where, "body must be an object");
      if (auto s = GetSide(body, "from", where, &step->side); !s.ok()) return s;
      if (auto s = GetString(body, "channel", where, &step->channel, true); !s.ok()) return s;
      if (step->channel != "*" && !names->count(step->channel)) {
        return Bad(where, absl::StrCat("unknown channel \"", step->channel, "\" (define it in connect/openChannels or with \"as\")"));
      }
      if (auto s = GetInt(body, "timeoutMs", where, 1, kMaxTimeoutMs, &step->timeout_ms); !s.ok()) return s;
      if (auto s = GetInt(body, "count", where, 1, kMaxCount, &step->count); !s.ok()) return s;
      if (auto s = GetBool(body, "binary", where, &step->binary); !s.ok()) return s;
      if (auto s = GetInt(body, "sizeCap", where, 0, int64_t{1} << 32, &step->size_cap); !s.ok()) return s;
      if (auto s = GetString(body, "label", where, &step->label, false); !s.ok()) return s;
      if (step->kind == StepKind::kThroughput) {
        return GetSize(body, where, &step->size, true);
      }
      auto d = body.find("data");
      if (d != body.end()) {
        if (body.contains("size")) return Bad(where, "give either \"data\" or \"size\", not both");
        if (body.contains("count")) return Bad(where, "\"count\" only applies to generated (\"size\") payloads");
        if (d->is_object()) {
          auto b = d->find("binary");
          if (d->size() != 1 || b == d->end() || !b->is_string()) return Bad(where, "binary data is {\"binary\": base64}");
          if (!refrtc::Base64Decode(b->get_ref<const std::string&>())) return Bad(where, "data.binary is not valid base64");
        } else if (!d->is_string()) {
          return Bad(where, "\"data\" must be a string or {\"binary\": base64}");
        }
        step->has_data = true;
        step->data = *d;
        return absl::OkStatus();
      }
      return GetSize(body, where, &step->size, true);
    }
    case StepKind::kSignal: {
      const json& body = j["signal"];
      if (!body.is_object()) return Bad(where, "body must be an object");
      if (auto s = GetSide(body, "from", where, &step->side); !s.ok()) return s;
      if (auto s = GetString(body, "what", where, &step->what, true); !s.ok()) return s;
      if (step->what != "description" && step->what != "candidates") return Bad(where, "\"what\" is \"description\" or \"candidates\"");
      step->action = "deliver";
      if (auto s = GetString(body, "action", where, &step->action, false); !s.ok()) return s;
      static const char* kActions[] = {"deliver", "drop", "duplicate", "hold", "auto"};
      bool known = false;
      for (const char* a : kActions) known |= step->action == a;
      if (!known) return Bad(where, "\"action\" is deliver, drop, duplicate, hold or auto");
      if (step->what == "description" && (step->action == "hold" || step->action == "auto")) {
        return Bad(where, "hold/auto apply to candidates (descriptions only move by signal or connect)");
      }
      if (auto s = ParseRewrites(body, where, &step->rewrite); !s.ok()) return s;
      if (auto s = GetString(body, "expectError", where, &step->expect_error, false); !s.ok()) return s;
      if (auto s = GetInt(body, "timeoutMs", where, 1, kMaxTimeoutMs, &step->timeout_ms); !s.ok()) return s;
      if (auto s = GetInt(body, "delayMs", where, 0, kMaxTimeoutMs, &step->delay_ms); !s.ok()) return s;
      std::string wait;
      if (auto s = GetString(body, "wait", where, &wait, false); !s.ok()) return s;
      if (!wait.empty() && wait != "gathered") return Bad(where, "\"wait\" can only be \"gathered\"");
      step->wait_gathered = wait == "gathered";
      if (auto s = GetBool(body, "endOfCandidates", where, &step->include_end); !s.ok()) return s;
      std::string order;
      if (auto s = GetString(body, "order", where, &order, false); !s.ok()) return s;
      if (!order.empty() && order != "reverse" && order != "fifo") return Bad(where, "\"order\" is \"fifo\" or \"reverse\"");
      step->reverse = order == "reverse";
      std::string source;
      if (auto s = GetString(body, "source", where, &source, false); !s.ok()) return s;
      if (!source.empty() && source != "current" && source != "sld") return Bad(where, "\"source\" is \"sld\" or \"current\"");
      step->from_state = source == "current";
      if (auto s = GetString(body, "type", where, &step->desc_type, false); !s.ok()) return s;
      if (step->what == "candidates" && (step->from_state || !step->desc_type.empty())) {
        return Bad(where, "\"source\"/\"type\" apply to descriptions");
      }
      if (step->what == "description" && (step->reverse || body.contains("endOfCandidates"))) {
        return Bad(where, "\"order\"/\"endOfCandidates\" apply to candidates");
      }
      if ((step->action == "hold" || step->action == "drop") && !step->expect_error.empty()) {
        return Bad(where, "\"expectError\" needs a delivery (deliver, duplicate or auto)");
      }
      return absl::OkStatus();
    }
    case StepKind::kExpectState: {
      if (auto s = GetObject(j, "expectState", where, &step->match); !s.ok()) return s;
      if (auto s = GetSide(j, "on", where, &step->side); !s.ok()) return s;
      if (auto s = GetString(j, "channel", where, &step->channel, false); !s.ok()) return s;
      if (auto s = GetBool(j, "poll", where, &step->poll); !s.ok()) return s;
      if (auto s = GetSave(j, where, &step->save); !s.ok()) return s;
      return absl::OkStatus();
    }
    case StepKind::kExpectNoEvent: {
      if (auto s = GetString(j, "expectNoEvent", where, &step->name, true); !s.ok()) return s;
      if (step->name.empty()) return Bad(where, "empty event name");
      if (auto s = GetSide(j, "on", where, &step->side); !s.ok()) return s;
      if (auto s = GetString(j, "channel", where, &step->channel, false); !s.ok()) return s;
      if (auto s = GetObject(j, "match", where, &step->match); !s.ok()) return s;
      if (!j.contains("forMs")) return Bad(where, "needs \"forMs\" (how long nothing may arrive)");
      if (auto s = GetInt(j, "forMs", where, 0, kMaxTimeoutMs, &step->for_ms); !s.ok()) return s;
      return absl::OkStatus();
    }
    case StepKind::kExpectEvents: {
      const json& list = j["expectEvents"];
      if (!list.is_array() || list.empty()) return Bad(where, "\"expectEvents\" must be a non-empty array");
      if (auto s = GetSide(j, "on", where, &step->side); !s.ok()) return s;
      for (size_t i = 0; i < list.size(); ++i) {
        std::string w = absl::StrCat(where, " event ", i);
        const json& e = list[i];
        EventSpec spec;
        if (e.is_string()) {
          spec.name = e.get<std::string>();
        } else if (e.is_object()) {
          if (auto s = GetString(e, "event", w, &spec.name, true); !s.ok()) return s;
          if (auto s = GetString(e, "channel", w, &spec.channel, false); !s.ok()) return s;
          if (auto s = GetObject(e, "match", w, &spec.match); !s.ok()) return s;
        } else {
          return Bad(w, "must be an event name or {event, channel, match}");
        }
        if (spec.name.empty()) return Bad(w, "empty event name");
        step->events.push_back(std::move(spec));
      }
      return absl::OkStatus();
    }
    case StepKind::kStream: {
      const json& body = j["stream"];
      if (!body.is_object()) return Bad(where, "body must be an object");
      if (auto s = GetSide(body, "from", where, &step->side); !s.ok()) return s;
      if (auto s = GetString(body, "channel", where, &step->channel, true); !s.ok()) return s;
      if (!names->count(step->channel)) return Bad(where, absl::StrCat("unknown channel \"", step->channel, "\""));
      if (auto s = GetString(body, "action", where, &step->action, true); !s.ok()) return s;
      if (step->action != "start" && step->action != "stop") return Bad(where, "\"action\" is \"start\" or \"stop\"");
      if (auto s = GetInt(body, "intervalMs", where, 1, 60000, &step->interval_ms); !s.ok()) return s;
      step->size = 64;
      if (body.contains("size")) {
        if (auto s = GetSize(body, where, &step->size, true); !s.ok()) return s;
        if (!step->size.is_number_integer() || step->size.get<int64_t>() < 16 || step->size.get<int64_t>() > 65536) {
          return Bad(where, "stream \"size\" is an integer in [16, 65536]");
        }
      }
      if (auto s = GetInt(body, "timeoutMs", where, 1, kMaxTimeoutMs, &step->timeout_ms); !s.ok()) return s;
      return absl::OkStatus();
    }
    case StepKind::kWait: {
      if (!j["wait"].is_number_integer()) return Bad(where, "\"wait\" is a number of milliseconds");
      if (auto s = GetInt(j, "wait", where, 0, kMaxTimeoutMs, &step->for_ms); !s.ok()) return s;
      return absl::OkStatus();
    }
    case StepKind::kNetwork: {
      // Impairment / blackout changes of the relay (relay.h ParseNetworkChange checks the body).
      if (auto c = ParseNetworkChange(j["network"], /*scenario_level=*/false); !c.ok()) return Bad(where, c.status().message());
      step->args = j["network"];
      return absl::OkStatus();
    }
    case StepKind::kExpectStats: {
      const json& body = j["expectStats"];
      if (!body.is_object()) return Bad(where, "body must be an object {\"type\", \"match\"}");
      if (auto s = GetString(body, "type", where, &step->stats_type, true); !s.ok()) return s;
      if (step->stats_type.empty()) return Bad(where, "empty stats type");
      if (auto s = GetObject(body, "match", where, &step->match); !s.ok()) return s;
      if (auto s = GetBool(body, "absent", where, &step->absent); !s.ok()) return s;
      // "on" beside the body (like expectState) or inside it.
      if (auto s = GetSide(body.contains("on") ? body : j, "on", where, &step->side); !s.ok()) return s;
      if (auto s = GetBool(j, "poll", where, &step->poll); !s.ok()) return s;
      if (auto s = GetSave(j, where, &step->save); !s.ok()) return s;
      return absl::OkStatus();
    }
  }
  return Bad(where, "unreachable");
}

}  // namespace

absl::StatusOr<Scenario> ParseScenario(absl::string_view text) {
  if (JsonNestingDepth(text) > kMaxDepth) return absl::InvalidArgumentError("scenario nests deeper than 64 levels");
  json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return absl::InvalidArgumentError("scenario is not valid JSON");
  try {
    if (!root.is_object()) return Bad("scenario", "top level must be an object");
    Scenario sc;
    int64_t format = 0;
    if (auto s = GetInt(root, "format", "scenario", 1, 1000, &format); !s.ok()) return s;
    if (format != 1) return Bad("scenario", "\"format\": 1 required (this harness reads format 1)");
    sc.format = 1;
    if (auto s = GetString(root, "name", "scenario", &sc.name, true); !s.ok()) return s;
    if (sc.name.empty()) return Bad("scenario", "empty name");
    if (auto s = GetString(root, "description", "scenario", &sc.description, false); !s.ok()) return s;
    if (auto s = GetInt(root, "timeoutMs", "scenario", 1, kMaxTimeoutMs, &sc.timeout_ms); !s.ok()) return s;
    if (auto s = GetInt(root, "stepTimeoutMs", "scenario", 1, kMaxTimeoutMs, &sc.step_timeout_ms); !s.ok()) return s;
    if (auto s = GetObject(root, "config", "scenario", &sc.config); !s.ok()) return s;
    if (root.contains("requires")) {
      const json& req = root["requires"];
      auto features = [](const json& list, std::vector<std::string>* out) {
        if (!list.is_array()) return false;
        for (const json& f : list) {
          if (!f.is_string()) return false;
          out->push_back(f.get<std::string>());
        }
        return true;
      };
      bool ok = true;
      if (req.is_array()) {
        ok = features(req, &sc.requires_features[0]) && features(req, &sc.requires_features[1]);
      } else if (req.is_object()) {
        for (auto& [k, v] : req.items()) ok = ok && (k == "A" || k == "B") && features(v, &sc.requires_features[k == "A" ? 0 : 1]);
      } else {
        ok = false;
      }
      if (!ok) return Bad("scenario", "\"requires\" must be [features] or {\"A\": [features], \"B\": [features]}");
    }
    if (auto st = ParseKnownIssues(root, "scenario", "any", &sc.known_issues); !st.ok()) return st;
    if (root.contains("network")) {
      if (auto c = ParseNetworkChange(root["network"], /*scenario_level=*/true); !c.ok()) return Bad("scenario", c.status().message());
      sc.network = root["network"];
    }
    auto steps = root.find("steps");
    if (steps == root.end() || !steps->is_array() || steps->empty()) return Bad("scenario", "\"steps\" must be a non-empty array");
    std::set<std::string> names;
    for (size_t i = 0; i < steps->size(); ++i) {
      Step step;
      if (auto s = ParseStep((*steps)[i], i, &names, &step); !s.ok()) return s;
      sc.steps.push_back(std::move(step));
    }
    return sc;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("scenario: ", e.what()));
  }
}

absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto sc = ParseScenario(ss.str());
  if (!sc.ok()) return absl::Status(sc.status().code(), absl::StrCat(path, ": ", sc.status().message()));
  // conformance/<suite>/<name>.json belongs to suite <suite>; top-level files are their own suite.
  std::string dir = path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
  std::string parent = dir.substr(dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/') + 1);
  sc->suite = parent == "conformance" || parent.empty() || parent == "." ? sc->name : parent;
  // "@fixture:NAME" strings in step arguments become the text of conformance/fixtures/NAME (recorded
  // SDP replayed to any implementation). The fixtures directory is next to the file or one level up.
  std::string fixtures = dir + "/fixtures";
  std::ifstream probe(fixtures + "/README.md");
  if (!probe) fixtures = dir.substr(0, dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/')) + "/fixtures";
  absl::Status bad;
  std::function<void(json&)> expand = [&](json& j) {
    if (j.is_string()) {
      const std::string& s = j.get_ref<const std::string&>();
      if (!absl::StartsWith(s, "@fixture:")) return;
      std::string name = s.substr(9);
      if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
        bad = absl::InvalidArgumentError(absl::StrCat(path, ": bad fixture name \"", name, "\""));
        return;
      }
      std::ifstream f(fixtures + "/" + name, std::ios::binary);
      if (!f) {
        bad = absl::NotFoundError(absl::StrCat(path, ": no fixture ", fixtures, "/", name));
        return;
      }
      std::stringstream text;
      text << f.rdbuf();
      j = text.str();
    } else if (j.is_array() || j.is_object()) {
      for (auto& v : j) expand(v);
    }
  };
  for (Step& step : sc->steps) expand(step.args);
  if (!bad.ok()) return bad;
  return sc;
}

absl::StatusOr<std::string> RewriteSdp(const std::string& sdp, const std::vector<SdpRewrite>& rewrites) {
  std::string text = sdp;
  for (const SdpRewrite& rw : rewrites) {
    std::regex re;
    try {
      re = std::regex(rw.match, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError(absl::StrCat("rewrite: bad regex \"", rw.match, "\": ", e.what()));
    }
    std::string out;
    int hits = 0;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      size_t end = nl == std::string::npos ? text.size() : nl + 1;  // includes the line end
      size_t body_end = nl == std::string::npos ? text.size() : nl;
      if (body_end > pos && text[body_end - 1] == '\r') --body_end;
      std::string line = text.substr(pos, body_end - pos);
      std::string eol = text.substr(body_end, end - body_end);
      if (std::regex_search(line, re)) {
        ++hits;
        if (!rw.remove) out += std::regex_replace(line, re, rw.replace, std::regex_constants::format_first_only) + eol;
      } else {
        out += line + eol;
      }
      pos = end;
    }
    if (hits == 0 && !rw.optional) {
      return absl::NotFoundError(absl::StrCat("rewrite: no line matches \"", rw.match, "\""));
    }
    text = std::move(out);
  }
  return text;
}

namespace {

// Whether {op: arg} is a matching operator (JsonMatches).
bool IsOperator(const std::string& op, const json& arg) {
  if (op == "$oneOf") return arg.is_array();
  if (op == "$gte" || op == "$lte" || op == "$gt" || op == "$lt") return arg.is_number();
  if (op == "$contains" || op == "$icontains") return arg.is_string();
  if (op == "$exists") return arg.is_boolean();
  if (op == "$some") return true;
  return false;
}

// One operator (IsOperator is true) applied to `actual`.
bool MatchOperator(const json& actual, const std::string& op, const json& arg, std::string* why, const std::string& path) {
  auto fail = [&](const std::string& msg) {
    if (why) *why = absl::StrCat(path.empty() ? "/" : path, ": ", msg);
    return false;
  };
  if (op == "$oneOf") {
    for (const json& alt : arg) if (JsonMatches(actual, alt, nullptr, path)) return true;
    return fail(absl::StrCat("expected one of ", arg.dump(), ", got ", actual.dump()));
  }
  if (op == "$gte" || op == "$lte" || op == "$gt" || op == "$lt") {
    if (!actual.is_number()) return fail(absl::StrCat("expected a number, got ", actual.is_discarded() ? "nothing" : actual.dump()));
    double a = actual.get<double>(), e = arg.get<double>();
    bool ok = op == "$gte" ? a >= e : op == "$lte" ? a <= e : op == "$gt" ? a > e : a < e;
    if (ok) return true;
    const char* rel = op == "$gte" ? ">= " : op == "$lte" ? "<= " : op == "$gt" ? "> " : "< ";
    return fail(absl::StrCat("expected ", rel, arg.dump(), ", got ", actual.dump()));
  }
  if (op == "$contains" || op == "$icontains") {
    // $icontains ignores ASCII case (e.g. a W3C lowercase fingerprint in an uppercase SDP line).
    bool fold = op == "$icontains";
    if (actual.is_string() &&
        (fold ? absl::StrContains(absl::AsciiStrToLower(actual.get_ref<const std::string&>()),
                                  absl::AsciiStrToLower(arg.get_ref<const std::string&>()))
              : absl::StrContains(actual.get_ref<const std::string&>(), arg.get_ref<const std::string&>()))) {
      return true;
    }
    return fail(absl::StrCat("expected a string containing ", arg.dump(), fold ? " (any case)" : "", ", got ",
                             actual.dump().substr(0, 300)));
  }
  if (op == "$some") {
    // An array with at least one element matching `arg` (a subset, an operator or a value).
    if (!actual.is_array()) return fail(absl::StrCat("expected an array, got ", actual.is_discarded() ? "nothing" : actual.dump().substr(0, 300)));
    for (const json& e : actual) if (JsonMatches(e, arg, nullptr, path)) return true;
    std::string first;
    if (!actual.empty()) JsonMatches(actual[0], arg, &first, absl::StrCat(path, "/0"));
    return fail(absl::StrCat("no element of ", actual.dump().substr(0, 400), " matches ", arg.dump(),
                             first.empty() ? "" : " (first element: " + first + ")"));
  }
  // $exists
  bool exists = !actual.is_discarded() && !actual.is_null();
  if (exists == arg.get<bool>()) return true;
  return fail(absl::StrCat(arg.get<bool>() ? "expected a value" : "expected no value", ", got ", actual.dump()));
}

}  // namespace

bool JsonMatches(const json& actual, const json& expected, std::string* why, const std::string& path) {
  auto fail = [&](const std::string& msg) {
    if (why) *why = absl::StrCat(path.empty() ? "/" : path, ": ", msg);
    return false;
  };
  if (expected.is_object()) {
    // An object of operators only: every one must hold ({"$gte": 430, "$lte": 450}).
    bool operators = !expected.empty();
    for (const auto& [op, arg] : expected.items()) operators = operators && IsOperator(op, arg);
    if (operators) {
      for (const auto& [op, arg] : expected.items()) if (!MatchOperator(actual, op, arg, why, path)) return false;
      return true;
    }
    if (!actual.is_object()) return fail(absl::StrCat("expected an object, got ", actual.dump()));
    for (const auto& [key, value] : expected.items()) {
      auto it = actual.find(key);
      const json missing = json(json::value_t::discarded);
      if (!JsonMatches(it == actual.end() ? missing : *it, value, why, absl::StrCat(path, "/", key))) return false;
    }
    return true;
  }
  if (actual == expected) return true;
  // Numbers compare by value (1 == 1.0).
  if (actual.is_number() && expected.is_number() && actual.get<double>() == expected.get<double>()) return true;
  return fail(absl::StrCat("expected ", expected.dump(), ", got ", actual.is_discarded() ? "nothing" : actual.dump()));
}

}  // namespace refrtc::harness
