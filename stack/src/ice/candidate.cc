#include "ice/candidate.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace refrtc::ice {
namespace {

absl::Status Bad(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("candidate: ", why));
}

// RFC 8839 §5.1: ice-char = ALPHA / DIGIT / "+" / "/".
bool IsIceChars(absl::string_view s) {
  for (char c : s)
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') return false;
  return true;
}

bool ParseU32(absl::string_view s, uint32_t max, uint32_t* out) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s)
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  uint64_t v = 0;
  for (char c : s) v = v * 10 + static_cast<uint64_t>(c - '0');
  if (v > max) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

// connection-address: IP4/IP6 literal or an FQDN (mDNS names). Visible ASCII without spaces.
bool IsAddressToken(absl::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

}  // namespace

const char* CandidateTypeName(CandidateType t) {
  switch (t) {
    case CandidateType::kHost: return "host";
    case CandidateType::kServerReflexive: return "srflx";
    case CandidateType::kPeerReflexive: return "prflx";
    case CandidateType::kRelay: return "relay";
  }
  return "host";
}

uint32_t TypePreference(CandidateType t) {
  switch (t) {
    case CandidateType::kHost: return kTypePreferenceHost;
    case CandidateType::kServerReflexive: return kTypePreferenceServerReflexive;
    case CandidateType::kPeerReflexive: return kTypePreferencePeerReflexive;
    case CandidateType::kRelay: return kTypePreferenceRelay;
  }
  return 0;
}

uint32_t ComputePriority(CandidateType type, uint16_t local_preference, uint32_t component) {
  component = std::min<uint32_t>(std::max<uint32_t>(component, 1), 256);
  return (TypePreference(type) << 24) + (static_cast<uint32_t>(local_preference) << 8) + (256 - component);
}

uint64_t PairPriority(uint32_t g, uint32_t d) {
  uint64_t lo = std::min(g, d), hi = std::max(g, d);
  return (lo << 32) + 2 * hi + (g > d ? 1 : 0);
}

absl::StatusOr<Candidate> Candidate::Parse(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);  // tolerate trailing CRLF
  absl::ConsumePrefix(&text, "a=");
  if (!absl::ConsumePrefix(&text, "candidate:")) return Bad("does not start with \"candidate:\"");
  std::vector<absl::string_view> f = absl::StrSplit(text, ' ', absl::SkipEmpty());
  if (f.size() < 8) return Bad("fewer than 8 fields");
  // Fields are separated by SP; control characters (NUL, TAB, CR, LF, ...) inside a field are
  // rejected so that ToString() always parses back to the same candidate.
  for (absl::string_view field : f)
    if (!IsAddressToken(field)) return Bad("control or non-ASCII character in a field");
  Candidate c;
  // foundation = 1*32ice-char
  if (f[0].empty() || f[0].size() > 32 || !IsIceChars(f[0])) return Bad("bad foundation");
  c.foundation = std::string(f[0]);
  // component-id = 1*3DIGIT, 1..256 (RFC 8445 §5.1.1.1)
  if (!ParseU32(f[1], 256, &c.component) || c.component == 0 || f[1].size() > 3)
    return Bad("bad component id");
  // transport = "UDP" / transport-extension (token); compared case-insensitively
  if (f[2].empty() || !IsAddressToken(f[2]) || f[2].size() > 32) return Bad("bad transport");
  c.protocol = absl::AsciiStrToLower(f[2]);
  if (!ParseU32(f[3], 0xFFFFFFFFu, &c.priority)) return Bad("bad priority");
  if (!IsAddressToken(f[4])) return Bad("bad connection address");
  c.address = std::string(f[4]);
  uint32_t port;
  if (!ParseU32(f[5], 65535, &port)) return Bad("bad port");
  c.port = static_cast<uint16_t>(port);
  if (f[6] != "typ") return Bad("missing \"typ\"");
  if (f[7] == "host") c.type = CandidateType::kHost;
  else if (f[7] == "srflx") c.type = CandidateType::kServerReflexive;
  else if (f[7] == "prflx") c.type = CandidateType::kPeerReflexive;
  else if (f[7] == "relay") c.type = CandidateType::kRelay;
  else return Bad(absl::StrCat("unknown candidate type \"", f[7], "\""));
  size_t i = 8;
  // [SP rel-addr] [SP rel-port] *(SP cand-extension), extension = name SP value. raddr/rport
  // are accepted anywhere in this tail (some stacks reorder), and kept in the related fields.
  while (i < f.size()) {
    if (i + 1 >= f.size()) return Bad(absl::StrCat("extension \"", f[i], "\" has no value"));
    if (f[i] == "raddr") {
      c.related_address = std::string(f[i + 1]);
    } else if (f[i] == "rport") {
      if (!ParseU32(f[i + 1], 65535, &port)) return Bad("bad rport");
      c.related_port = static_cast<uint16_t>(port);
    } else if (f[i] == "typ") {
      return Bad("duplicate \"typ\"");
    } else if (f[i] == "tcptype") {
      c.tcptype = std::string(f[i + 1]);
    } else if (c.extensions.size() < 32) {  // bounded
      c.extensions.emplace(std::string(f[i]), std::string(f[i + 1]));
    }
    i += 2;
  }
  return c;
}

std::string Candidate::ToString() const {
  std::string s = absl::StrCat("candidate:", foundation, " ", component, " ", protocol, " ", priority, " ",
                               address, " ", port, " typ ", CandidateTypeName(type));
  if (!related_address.empty()) absl::StrAppend(&s, " raddr ", related_address);
  if (!related_address.empty() || related_port != 0) absl::StrAppend(&s, " rport ", related_port);
  if (!tcptype.empty()) absl::StrAppend(&s, " tcptype ", tcptype);
  for (const auto& [k, v] : extensions) absl::StrAppend(&s, " ", k, " ", v);
  return s;
}

bool Candidate::is_mdns() const {
  absl::string_view a = address;
  absl::ConsumeSuffix(&a, ".");
  return absl::EndsWithIgnoreCase(a, ".local");
}

std::optional<SocketAddress> Candidate::socket_address() const {
  if (is_mdns()) return std::nullopt;
  // Only IP literals; no name resolution here (sans-IO).
  if (address.find_first_not_of("0123456789abcdefABCDEF.:[]%") != std::string::npos &&
      address.find('%') == std::string::npos)
    return std::nullopt;
  auto a = SocketAddress::Parse(address, port);
  if (!a.ok()) return std::nullopt;
  return *a;
}

}  // namespace refrtc::ice
