#include "refrtc/rtc_json.h"

#include "absl/strings/str_cat.h"
#include "util/dom_exception.h"

namespace refrtc {
namespace {
using json = nlohmann::json;

bool Present(const json& j, const char* key) { return j.is_object() && j.contains(key) && !j[key].is_null(); }

// WebIDL [EnforceRange] unsigned short.
absl::StatusOr<std::optional<uint16_t>> OptUint16(const json& j, const char* key) {
  if (!Present(j, key)) return std::optional<uint16_t>();
  const json& v = j[key];
  if (!v.is_number()) return TypeError(absl::StrCat(key, " must be a number"));
  double d = v.get<double>();
  if (!(d >= 0 && d <= 65535)) return TypeError(absl::StrCat(key, " is out of range for unsigned short"));
  return std::optional<uint16_t>(static_cast<uint16_t>(d));
}

absl::StatusOr<std::string> OptString(const json& j, const char* key, std::string dflt = "") {
  if (!Present(j, key)) return dflt;
  if (!j[key].is_string()) return TypeError(absl::StrCat(key, " must be a string"));
  return j[key].get<std::string>();
}

absl::StatusOr<bool> OptBool(const json& j, const char* key, bool dflt) {
  if (!Present(j, key)) return dflt;
  if (!j[key].is_boolean()) return TypeError(absl::StrCat(key, " must be a boolean"));
  return j[key].get<bool>();
}

}  // namespace

absl::StatusOr<RTCConfiguration> RTCConfigurationFromJson(const json& j, const CertificateLookup& lookup) {
  RTCConfiguration c;
  if (j.is_null()) return c;
  if (!j.is_object()) return TypeError("RTCConfiguration must be an object");
  if (Present(j, "certificates")) {
    if (!j["certificates"].is_array()) return TypeError("certificates must be a sequence of RTCCertificate");
    for (const auto& h : j["certificates"]) {
      auto cert = lookup ? lookup(h) : absl::StatusOr<std::shared_ptr<RTCCertificate>>(TypeError("no certificates"));
      if (!cert.ok()) return cert.status();
      c.certificates.push_back(*cert);
    }
  }
  if (Present(j, "iceServers")) {
    if (!j["iceServers"].is_array()) return TypeError("iceServers must be a sequence of RTCIceServer");
    for (const auto& s : j["iceServers"]) {
      if (!s.is_object()) return TypeError("an RTCIceServer must be an object");
      RTCIceServer server;
      if (!Present(s, "urls")) return TypeError("RTCIceServer.urls is required");
      if (s["urls"].is_string()) {
        server.urls.push_back(s["urls"].get<std::string>());
      } else if (s["urls"].is_array()) {
        for (const auto& u : s["urls"]) {
          if (!u.is_string()) return TypeError("RTCIceServer.urls must hold strings");
          server.urls.push_back(u.get<std::string>());
        }
      } else {
        return TypeError("RTCIceServer.urls must be a string or a sequence of strings");
      }
      auto user = OptString(s, "username");
      if (!user.ok()) return user.status();
      auto cred = OptString(s, "credential");
      if (!cred.ok()) return cred.status();
      server.username = *user;
      server.credential = *cred;
      c.iceServers.push_back(std::move(server));
    }
  }
  auto policy = OptString(j, "iceTransportPolicy", "all");
  if (!policy.ok()) return policy.status();
  if (*policy == "relay") c.iceTransportPolicy = RTCIceTransportPolicy::kRelay;
  else if (*policy != "all") return TypeError(absl::StrCat("bad iceTransportPolicy '", *policy, "'"));
  auto bundle = OptString(j, "bundlePolicy", "balanced");
  if (!bundle.ok()) return bundle.status();
  if (*bundle == "max-bundle") c.bundlePolicy = RTCBundlePolicy::kMaxBundle;
  else if (*bundle == "max-compat") c.bundlePolicy = RTCBundlePolicy::kMaxCompat;
  else if (*bundle != "balanced") return TypeError(absl::StrCat("bad bundlePolicy '", *bundle, "'"));
  auto mux = OptString(j, "rtcpMuxPolicy", "require");
  if (!mux.ok()) return mux.status();
  if (*mux != "require") return TypeError(absl::StrCat("bad rtcpMuxPolicy '", *mux, "'"));
  if (Present(j, "iceCandidatePoolSize")) {
    const json& v = j["iceCandidatePoolSize"];
    // [EnforceRange] octet.
    if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() <= 255))
      return TypeError("iceCandidatePoolSize is out of range for octet");
    c.iceCandidatePoolSize = static_cast<uint8_t>(v.get<double>());
  }
  return c;
}

json RTCConfigurationToJson(const RTCConfiguration& c) {
  json servers = json::array();
  for (const auto& s : c.iceServers) {
    json e{{"urls", s.urls}};
    if (!s.username.empty()) e["username"] = s.username;
    if (!s.credential.empty()) e["credential"] = s.credential;
    servers.push_back(std::move(e));
  }
  const char* bundle = c.bundlePolicy == RTCBundlePolicy::kMaxBundle   ? "max-bundle"
                       : c.bundlePolicy == RTCBundlePolicy::kMaxCompat ? "max-compat"
                                                                       : "balanced";
  return json{{"iceServers", servers},
              {"iceTransportPolicy", c.iceTransportPolicy == RTCIceTransportPolicy::kRelay ? "relay" : "all"},
              {"bundlePolicy", bundle},
              {"rtcpMuxPolicy", "require"},
              {"iceCandidatePoolSize", c.iceCandidatePoolSize}};
}

absl::StatusOr<RTCDataChannelInit> RTCDataChannelInitFromJson(const json& j) {
  RTCDataChannelInit init;
  if (j.is_null()) return init;
  if (!j.is_object()) return TypeError("RTCDataChannelInit must be an object");
  auto ordered = OptBool(j, "ordered", true);
  if (!ordered.ok()) return ordered.status();
  init.ordered = *ordered;
  auto life = OptUint16(j, "maxPacketLifeTime");
  if (!life.ok()) return life.status();
  init.maxPacketLifeTime = *life;
  auto rtx = OptUint16(j, "maxRetransmits");
  if (!rtx.ok()) return rtx.status();
  init.maxRetransmits = *rtx;
  auto proto = OptString(j, "protocol");
  if (!proto.ok()) return proto.status();
  init.protocol = *proto;
  auto negotiated = OptBool(j, "negotiated", false);
  if (!negotiated.ok()) return negotiated.status();
  init.negotiated = *negotiated;
  auto id = OptUint16(j, "id");
  if (!id.ok()) return id.status();
  init.id = *id;
  return init;
}

json RTCDataChannelToJson(const RTCDataChannel& ch) {
  json j{{"label", ch.label()},
         {"ordered", ch.ordered()},
         {"protocol", ch.protocol()},
         {"negotiated", ch.negotiated()},
         {"readyState", ToString(ch.readyState())},
         {"bufferedAmount", ch.bufferedAmount()},
         {"bufferedAmountLowThreshold", ch.bufferedAmountLowThreshold()},
         {"binaryType", ch.binaryType()}};
  j["id"] = ch.id() ? json(*ch.id()) : json(nullptr);
  j["maxPacketLifeTime"] = ch.maxPacketLifeTime() ? json(*ch.maxPacketLifeTime()) : json(nullptr);
  j["maxRetransmits"] = ch.maxRetransmits() ? json(*ch.maxRetransmits()) : json(nullptr);
  return j;
}

json RTCIceCandidateInitToJson(const RTCIceCandidateInit& c) {
  json j{{"candidate", c.candidate}};
  j["sdpMid"] = c.sdpMid ? json(*c.sdpMid) : json(nullptr);
  j["sdpMLineIndex"] = c.sdpMLineIndex ? json(*c.sdpMLineIndex) : json(nullptr);
  j["usernameFragment"] = c.usernameFragment ? json(*c.usernameFragment) : json(nullptr);
  return j;
}

absl::StatusOr<RTCIceCandidateInit> RTCIceCandidateInitFromJson(const json& j) {
  if (!j.is_object()) return TypeError("RTCIceCandidateInit must be an object");
  RTCIceCandidateInit c;
  auto cand = OptString(j, "candidate");
  if (!cand.ok()) return cand.status();
  c.candidate = *cand;
  if (Present(j, "sdpMid")) {
    auto mid = OptString(j, "sdpMid");
    if (!mid.ok()) return mid.status();
    c.sdpMid = *mid;
  }
  auto index = OptUint16(j, "sdpMLineIndex");
  if (!index.ok()) return index.status();
  c.sdpMLineIndex = *index;
  if (Present(j, "usernameFragment")) {
    auto u = OptString(j, "usernameFragment");
    if (!u.ok()) return u.status();
    c.usernameFragment = *u;
  }
  return c;
}

json RTCSessionDescriptionToJson(const std::optional<RTCSessionDescription>& d) {
  if (!d) return nullptr;
  return json{{"type", ToString(d->type)}, {"sdp", d->sdp}};
}

}  // namespace refrtc
