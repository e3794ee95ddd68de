// Data-session description builder; see jsep_builder.h.
#include "sdp/jsep_builder.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sdp/sdp_validate.h"
#include "util/socket_address.h"

namespace refrtc::sdp {
namespace {

absl::string_view CandidateValue(absl::string_view c) {
  absl::ConsumePrefix(&c, "a=");
  absl::ConsumePrefix(&c, "candidate:");
  // Tolerate a trailing CRLF from a copied line.
  while (!c.empty() && (c.back() == '\r' || c.back() == '\n')) c.remove_suffix(1);
  return c;
}

}  // namespace

SessionDescription MakeDataSession(const DataSessionParams& p) {
  SessionDescription sd;
  // RFC 8829 §5.2.1: o=- <sess-id> <sess-version> IN IP4 127.0.0.1, s=-, t=0 0.
  sd.origin_username = "-";
  sd.session_id = p.session_id;
  sd.session_version = p.session_version;
  sd.origin_nettype = "IN";
  sd.origin_addrtype = "IP4";
  sd.origin_address = "127.0.0.1";
  sd.session_name = "-";
  sd.timing = "0 0";
  // RFC 8843 §7.1: BUNDLE group of the one section; Chromium adds extmap-allow-mixed
  // (RFC 8285 §6) and an empty WMS msid-semantic at session level.
  if (p.bundle) sd.AddAttribute("group", absl::StrCat("BUNDLE ", p.mid));
  sd.AddAttribute("extmap-allow-mixed");
  sd.AddAttribute("msid-semantic", " WMS");

  MediaSection m;
  // RFC 8841 §4.1 / RFC 8829 §5.2.1: m=application 9 UDP/DTLS/SCTP webrtc-datachannel.
  m.media = "application";
  m.port = 9;
  m.protocol = "UDP/DTLS/SCTP";
  m.formats = {"webrtc-datachannel"};
  m.connection = "IN IP4 0.0.0.0";
  for (const auto& c : p.candidates) AddCandidate(m, c);
  if (p.end_of_candidates) SetEndOfCandidates(m);
  // RFC 8839 §5.4, §5.6
  m.AddAttribute("ice-ufrag", p.ice_ufrag);
  m.AddAttribute("ice-pwd", p.ice_pwd);
  if (!p.ice_options.empty()) m.AddAttribute("ice-options", absl::StrJoin(p.ice_options, " "));
  // RFC 8122 §5, RFC 8842 §5
  m.AddAttribute("fingerprint", absl::StrCat(p.fingerprint_algorithm, " ", p.fingerprint_value));
  m.AddAttribute("setup", p.setup);
  // RFC 8843 §9.1 (mid), RFC 8841 §5.2, §6 (sctp-port, max-message-size)
  m.AddAttribute("mid", p.mid);
  m.AddAttribute("sctp-port", absl::StrCat(p.sctp_port));
  if (p.max_message_size != 0) {
    m.AddAttribute("max-message-size", absl::StrCat(p.max_message_size));
  }
  ApplyDefaultCandidate(m);
  sd.media.push_back(std::move(m));
  return sd;
}

void AddCandidate(MediaSection& media, absl::string_view candidate) {
  std::string value(CandidateValue(candidate));
  size_t insert_at = 0;
  for (size_t i = 0; i < media.attributes.size(); ++i) {
    const auto& a = media.attributes[i];
    if (a.key == "candidate") {
      if (a.value && *a.value == value) return;
      insert_at = i + 1;
    }
  }
  media.attributes.insert(media.attributes.begin() + static_cast<std::ptrdiff_t>(insert_at),
                          Attribute{"candidate", std::move(value)});
}

void SetEndOfCandidates(MediaSection& media) {
  if (media.end_of_candidates()) return;
  size_t insert_at = 0;
  for (size_t i = 0; i < media.attributes.size(); ++i) {
    if (media.attributes[i].key == "candidate") insert_at = i + 1;
  }
  media.attributes.insert(media.attributes.begin() + static_cast<std::ptrdiff_t>(insert_at),
                          Attribute{"end-of-candidates", std::nullopt});
}

bool ApplyDefaultCandidate(MediaSection& media) {
  // candidate-attribute = "candidate" ":" foundation SP component-id SP transport SP priority
  //                       SP connection-address SP port SP cand-type ... (RFC 8839 §5.1)
  std::optional<std::pair<SocketAddress, std::string>> v4, v6;
  for (const auto& value : media.GetAttributes("candidate")) {
    std::vector<absl::string_view> t = absl::StrSplit(value, ' ', absl::SkipEmpty());
    if (t.size() < 6 || t[1] != "1" || !absl::EqualsIgnoreCase(t[2], "udp")) continue;
    uint32_t port = 0;
    if (!absl::SimpleAtoi(t[5], &port) || port > 65535) continue;
    auto addr = SocketAddress::Parse(t[4], static_cast<uint16_t>(port));
    if (!addr.ok()) continue;  // e.g. an mDNS "<uuid>.local" name
    if (addr->is_v4() && !v4) v4.emplace(*addr, std::string(t[4]));
    if (addr->is_v6() && !v6) v6.emplace(*addr, std::string(t[4]));
  }
  auto& chosen = v4 ? v4 : v6;
  if (!chosen) {
    media.port = 9;
    media.connection = "IN IP4 0.0.0.0";
    return false;
  }
  media.port = chosen->first.port();
  media.connection = absl::StrCat("IN ", chosen->first.is_v4() ? "IP4 " : "IP6 ", chosen->second);
  return true;
}

const MediaSection* FindDataSection(const SessionDescription& sd) {
  for (const auto& m : sd.media) {
    if (m.is_data() && !m.rejected()) return &m;
  }
  return nullptr;
}

TransportParams ExtractTransport(const SessionDescription& sd, const MediaSection& media) {
  TransportParams p;
  const MediaSection& t = TransportSection(sd, media);
  p.mid = media.mid().value_or("");
  p.ice_ufrag = EffectiveAttribute(sd, t, "ice-ufrag").value_or("");
  p.ice_pwd = EffectiveAttribute(sd, t, "ice-pwd").value_or("");
  p.ice_options = EffectiveIceOptions(sd, t);
  p.fingerprints = EffectiveFingerprints(sd, t);
  p.setup = EffectiveAttribute(sd, t, "setup").value_or("");
  if (auto port = media.sctp_port()) p.sctp_port = *port;
  if (auto mms = media.max_message_size()) p.max_message_size = *mms;
  // RFC 8839 §5.1 / RFC 8843 §8: candidates of a bundled section live in the tagged section.
  p.candidates = t.candidates();
  p.end_of_candidates = t.end_of_candidates() || sd.HasAttribute("end-of-candidates");
  return p;
}

}  // namespace refrtc::sdp
