// SDP (RFC 8866) parser and serializer; see sdp.h.
#include "sdp/sdp.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace refrtc::sdp {
namespace {

// Unsigned decimal (RFC 8866 §9 "integer"-like fields): digits only, no sign, no overflow.
std::optional<uint64_t> ParseUint(absl::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  if (v > max) return std::nullopt;
  return v;
}

std::vector<absl::string_view> Tokens(absl::string_view s) {
  return absl::StrSplit(s, ' ', absl::SkipEmpty());
}

// For error messages: the line, cut short and without control characters.
std::string Excerpt(absl::string_view line) {
  std::string out;
  for (char c : line.substr(0, 60)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (line.size() > 60) out += "...";
  return out;
}

absl::Status LineError(size_t line_no, absl::string_view what, absl::string_view line) {
  return absl::InvalidArgumentError(
      absl::StrCat("SDP line ", line_no, ": ", what, " ('", Excerpt(line), "')"));
}

// Order of non-attribute lines in the RFC 8866 §5 grammar. Session level:
//   v o s [i] [u] *e *p [c] *b 1*(t *r) [z] [k] *a *(media)
// Media level:  m [i] *c *b [k] *a
int SessionRank(char type) {
  switch (type) {
    case 'i': return 0;
    case 'u': return 1;
    case 'e': return 2;
    case 'p': return 3;
    case 'b': return 5;
    case 't': case 'r': return 6;  // printed after the first t=, relative order kept
    case 'z': return 7;
    case 'k': return 8;
    default: return 9;  // unknown types: just before the a= lines
  }
}
int MediaRank(char type) {
  switch (type) {
    case 'i': return 0;
    case 'c': return 1;  // further c= lines, after the first
    case 'b': return 2;
    case 'k': return 3;
    default: return 4;
  }
}

template <typename RankFn>
void NormalizeOrder(std::vector<Line>* lines, RankFn rank) {
  std::stable_sort(lines->begin(), lines->end(),
                   [&](const Line& a, const Line& b) { return rank(a.type) < rank(b.type); });
}

// c=<nettype> <addrtype> <connection-address> (RFC 8866 §5.7).
bool ValidConnection(absl::string_view value) { return Tokens(value).size() == 3; }

// t=<start-time> <stop-time> (RFC 8866 §5.9).
bool ValidTiming(absl::string_view value) {
  auto t = Tokens(value);
  return t.size() == 2 && ParseUint(t[0], UINT64_MAX) && ParseUint(t[1], UINT64_MAX);
}

absl::StatusOr<Attribute> ParseAttribute(size_t line_no, absl::string_view line,
                                         absl::string_view value) {
  Attribute a;
  size_t colon = value.find(':');
  if (colon == absl::string_view::npos) {
    a.key = std::string(value);
  } else {
    a.key = std::string(value.substr(0, colon));
    a.value = std::string(value.substr(colon + 1));
  }
  if (a.key.empty()) return LineError(line_no, "attribute without a name", line);
  return a;
}

// m=<media> <port>[/<number of ports>] <proto> 1*(SP <fmt>) (RFC 8866 §5.14).
absl::StatusOr<MediaSection> ParseMediaLine(size_t line_no, absl::string_view line,
                                            absl::string_view value) {
  auto t = Tokens(value);
  if (t.size() < 4) {
    return LineError(line_no, "m= line needs <media> <port> <proto> <fmt>...", line);
  }
  MediaSection m;
  m.media = std::string(t[0]);
  absl::string_view port = t[1];
  size_t slash = port.find('/');
  if (slash != absl::string_view::npos) {
    auto n = ParseUint(port.substr(slash + 1), 65535);
    if (!n || *n == 0) return LineError(line_no, "m= line has an invalid number of ports", line);
    m.num_ports = static_cast<uint16_t>(*n);
    port = port.substr(0, slash);
  }
  auto p = ParseUint(port, 65535);
  if (!p) return LineError(line_no, "m= line port is not a number in 0..65535", line);
  m.port = static_cast<uint16_t>(*p);
  m.protocol = std::string(t[2]);
  for (size_t i = 3; i < t.size(); ++i) m.formats.emplace_back(t[i]);
  return m;
}

// Attributes that RFC 8843 §9.1 (mid), RFC 8839 §5.1 (candidate), RFC 8841 §5.2 (sctp-port)
// and RFC 8866 §6.6 (rtpmap) define at media level only. At session level they would be
// silently misapplied, so Parse rejects them.
bool MediaLevelOnly(absl::string_view key) {
  return key == "mid" || key == "candidate" || key == "sctp-port" || key == "rtpmap";
}

void SetAttr(std::vector<Attribute>* attrs, absl::string_view key,
             std::optional<std::string> value) {
  auto it = std::find_if(attrs->begin(), attrs->end(),
                         [&](const Attribute& a) { return a.key == key; });
  if (it == attrs->end()) {
    attrs->push_back(Attribute{std::string(key), std::move(value)});
    return;
  }
  it->value = std::move(value);
  ++it;
  attrs->erase(std::remove_if(it, attrs->end(), [&](const Attribute& a) { return a.key == key; }),
               attrs->end());
}

void RemoveAttrs(std::vector<Attribute>* attrs, absl::string_view key) {
  attrs->erase(std::remove_if(attrs->begin(), attrs->end(),
                              [&](const Attribute& a) { return a.key == key; }),
               attrs->end());
}

void AppendAttributes(const std::vector<Attribute>& attrs, std::string* out) {
  for (const auto& a : attrs) {
    absl::StrAppend(out, "a=", a.key);
    if (a.value) absl::StrAppend(out, ":", *a.value);
    out->append("\r\n");
  }
}

void AppendLine(char type, absl::string_view value, std::string* out) {
  out->push_back(type);
  out->push_back('=');
  out->append(value.data(), value.size());
  out->append("\r\n");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Attribute helpers

std::optional<std::string> FindAttribute(const std::vector<Attribute>& attrs,
                                         absl::string_view key) {
  for (const auto& a : attrs) {
    if (a.key == key) return a.value.value_or("");
  }
  return std::nullopt;
}

std::vector<std::string> FindAttributes(const std::vector<Attribute>& attrs,
                                        absl::string_view key) {
  std::vector<std::string> out;
  for (const auto& a : attrs) {
    if (a.key == key) out.push_back(a.value.value_or(""));
  }
  return out;
}

std::optional<Fingerprint> ParseFingerprint(absl::string_view attr_value) {
  // fingerprint-attribute = "fingerprint" ":" hash-func SP fingerprint (RFC 8122 §5)
  auto t = Tokens(attr_value);
  if (t.size() != 2) return std::nullopt;
  return Fingerprint{std::string(t[0]), std::string(t[1])};
}

// ---------------------------------------------------------------------------------------------
// MediaSection

std::optional<std::string> MediaSection::GetAttribute(absl::string_view key) const {
  return FindAttribute(attributes, key);
}
std::vector<std::string> MediaSection::GetAttributes(absl::string_view key) const {
  return FindAttributes(attributes, key);
}
bool MediaSection::HasAttribute(absl::string_view key) const {
  return GetAttribute(key).has_value();
}
void MediaSection::SetAttribute(absl::string_view key, std::optional<std::string> value) {
  SetAttr(&attributes, key, std::move(value));
}
void MediaSection::AddAttribute(absl::string_view key, std::optional<std::string> value) {
  attributes.push_back(Attribute{std::string(key), std::move(value)});
}
void MediaSection::RemoveAttributes(absl::string_view key) { RemoveAttrs(&attributes, key); }

std::optional<std::string> MediaSection::mid() const { return GetAttribute("mid"); }
std::optional<std::string> MediaSection::ice_ufrag() const { return GetAttribute("ice-ufrag"); }
std::optional<std::string> MediaSection::ice_pwd() const { return GetAttribute("ice-pwd"); }

// ice-options = "ice-options:" ice-option-tag *(SP ice-option-tag) (RFC 8839 §5.6).
// libdatachannel writes "ice2,trickle"; ',' is not an ice-char, so splitting on it as well is
// safe and keeps "trickle" visible.
std::vector<std::string> SplitIceOptions(absl::string_view v) {
  std::vector<std::string> out;
  for (auto tok : absl::StrSplit(v, absl::ByAnyChar(" ,"), absl::SkipEmpty())) out.emplace_back(tok);
  return out;
}

std::vector<std::string> MediaSection::ice_options() const {
  std::vector<std::string> out;
  for (const auto& v : GetAttributes("ice-options")) {
    for (auto& tok : SplitIceOptions(v)) out.push_back(std::move(tok));
  }
  return out;
}

std::vector<Fingerprint> MediaSection::fingerprints() const {
  std::vector<Fingerprint> out;
  for (const auto& v : GetAttributes("fingerprint")) {
    if (auto f = ParseFingerprint(v)) out.push_back(std::move(*f));
  }
  return out;
}

std::optional<std::string> MediaSection::setup() const { return GetAttribute("setup"); }

std::optional<uint16_t> MediaSection::sctp_port() const {
  // RFC 8841 §5.2: a=sctp-port:<port>.
  if (auto v = GetAttribute("sctp-port")) {
    if (auto p = ParseUint(absl::StripAsciiWhitespace(*v), 65535)) return static_cast<uint16_t>(*p);
    return std::nullopt;
  }
  // draft-ietf-mmusic-sctp-sdp-05 §5: a=sctpmap:<sctpmap-number> <app> [<streams>], where the
  // number is the SCTP port and also the m= line's format.
  for (const auto& v : GetAttributes("sctpmap")) {
    auto t = Tokens(v);
    if (!t.empty()) {
      if (auto p = ParseUint(t[0], 65535)) return static_cast<uint16_t>(*p);
    }
  }
  if (protocol == "DTLS/SCTP" && !formats.empty()) {
    if (auto p = ParseUint(formats[0], 65535)) return static_cast<uint16_t>(*p);
  }
  return std::nullopt;
}

std::optional<uint64_t> MediaSection::max_message_size() const {
  auto v = GetAttribute("max-message-size");
  if (!v) return std::nullopt;
  return ParseUint(absl::StripAsciiWhitespace(*v), UINT64_MAX);
}

std::vector<std::string> MediaSection::candidates() const {
  std::vector<std::string> out;
  for (const auto& v : GetAttributes("candidate")) out.push_back(absl::StrCat("candidate:", v));
  return out;
}

bool MediaSection::end_of_candidates() const { return HasAttribute("end-of-candidates"); }

std::string MediaSection::direction() const {
  std::string dir = "sendrecv";
  for (const auto& a : attributes) {
    if (a.value) continue;
    if (a.key == "sendrecv" || a.key == "sendonly" || a.key == "recvonly" || a.key == "inactive") {
      dir = a.key;
    }
  }
  return dir;
}

bool MediaSection::rtcp_mux() const { return HasAttribute("rtcp-mux"); }
bool MediaSection::bundle_only() const { return HasAttribute("bundle-only"); }

bool MediaSection::is_data() const {
  return media == "application" && absl::StrContains(protocol, "SCTP");
}

bool operator==(const MediaSection& a, const MediaSection& b) {
  return a.media == b.media && a.port == b.port && a.num_ports == b.num_ports &&
         a.protocol == b.protocol && a.formats == b.formats && a.connection == b.connection &&
         a.other_lines == b.other_lines && a.attributes == b.attributes;
}

// ---------------------------------------------------------------------------------------------
// SessionDescription

std::optional<std::string> SessionDescription::GetAttribute(absl::string_view key) const {
  return FindAttribute(attributes, key);
}
std::vector<std::string> SessionDescription::GetAttributes(absl::string_view key) const {
  return FindAttributes(attributes, key);
}
bool SessionDescription::HasAttribute(absl::string_view key) const {
  return GetAttribute(key).has_value();
}
void SessionDescription::SetAttribute(absl::string_view key, std::optional<std::string> value) {
  SetAttr(&attributes, key, std::move(value));
}
void SessionDescription::AddAttribute(absl::string_view key, std::optional<std::string> value) {
  attributes.push_back(Attribute{std::string(key), std::move(value)});
}
void SessionDescription::RemoveAttributes(absl::string_view key) {
  RemoveAttrs(&attributes, key);
}

std::vector<std::vector<std::string>> SessionDescription::bundle_groups() const {
  // group-attribute = "a=group:" semantics *(SP identification-tag) (RFC 5888 §5)
  std::vector<std::vector<std::string>> out;
  for (const auto& v : GetAttributes("group")) {
    auto t = Tokens(v);
    if (t.empty() || t[0] != "BUNDLE") continue;
    out.emplace_back(t.begin() + 1, t.end());
  }
  return out;
}

const MediaSection* SessionDescription::FindMedia(absl::string_view mid) const {
  for (const auto& m : media) {
    auto v = m.mid();
    if (v && *v == mid) return &m;
  }
  return nullptr;
}
MediaSection* SessionDescription::FindMedia(absl::string_view mid) {
  return const_cast<MediaSection*>(static_cast<const SessionDescription*>(this)->FindMedia(mid));
}

bool operator==(const SessionDescription& a, const SessionDescription& b) {
  return a.version == b.version && a.origin_username == b.origin_username &&
         a.session_id == b.session_id && a.session_version == b.session_version &&
         a.origin_nettype == b.origin_nettype && a.origin_addrtype == b.origin_addrtype &&
         a.origin_address == b.origin_address && a.session_name == b.session_name &&
         a.timing == b.timing && a.connection == b.connection && a.other_lines == b.other_lines &&
         a.attributes == b.attributes && a.media == b.media;
}

absl::StatusOr<SessionDescription> SessionDescription::Parse(absl::string_view text) {
  // Resource limits (sdp.h, docs/LIMITS.md). They count what survives Serialize(Parse(x)) -- line
  // contents and the number of lines, not line endings or trailing blank lines -- so whatever
  // parses also parses again after serializing. A coarse check first bounds the work and the
  // line vector: content plus at most "\r\n" per line, and at most as many blank trailing lines.
  if (text.size() > kMaxSdpSize + 2 * 2 * kMaxLines) {
    return absl::ResourceExhaustedError(absl::StrCat("SDP of ", text.size(),
                                                     " bytes exceeds the limit of ", kMaxSdpSize));
  }
  if (static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) > 2 * kMaxLines) {
    return absl::ResourceExhaustedError(
        absl::StrCat("SDP has more than the limit of ", kMaxLines, " lines"));
  }
  // Split into lines on "\n", dropping one "\r" before it (RFC 8866 §5 requires CRLF but also
  // says parsers SHOULD accept a bare LF). Trailing blank lines are ignored.
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (auto& l : lines) {
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return absl::InvalidArgumentError("SDP is empty");
  if (lines.size() > kMaxLines) {
    return absl::ResourceExhaustedError(
        absl::StrCat("SDP has more than the limit of ", kMaxLines, " lines"));
  }
  size_t content = 0;
  for (auto l : lines) content += l.size();
  if (content > kMaxSdpSize) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "SDP of ", content, " bytes (without line endings) exceeds the limit of ", kMaxSdpSize));
  }

  SessionDescription sd;
  sd.attributes.clear();
  sd.timing.clear();
  bool have_timing = false;
  bool have_session_connection = false;
  MediaSection* cur = nullptr;  // nullptr while at session level
  bool cur_has_connection = false;
  size_t cur_candidates = 0;  // a=candidate lines in the current m= section

  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t no = i + 1;
    absl::string_view line = lines[i];
    if (line.size() > kMaxLineLength) {
      return absl::ResourceExhaustedError(absl::StrCat("SDP line ", no, ": ", line.size(),
                                                       " bytes exceeds the line limit of ",
                                                       kMaxLineLength, " ('", Excerpt(line), "')"));
    }
    // RFC 8866 §5: <type>=<value>, type a single case-significant letter; values may not
    // contain NUL, CR or LF.
    if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
      return LineError(no, "malformed line, expected <type>=<value>", line);
    }
    if (line.find('\0') != absl::string_view::npos || line.find('\r') != absl::string_view::npos) {
      return LineError(no, "line contains a NUL or CR character", line);
    }
    const char type = line[0];
    absl::string_view value = line.substr(2);

    // The first three lines are fixed: v=, o=, s= (RFC 8866 §5).
    if (i == 0) {
      if (type != 'v') return LineError(no, "SDP must start with v=", line);
      if (value != "0") return LineError(no, "unsupported protocol version (v= must be 0)", line);
      continue;
    }
    if (i == 1) {
      if (type != 'o') return LineError(no, "expected o= as the second line", line);
      // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (§5.2)
      auto t = Tokens(value);
      if (t.size() != 6) return LineError(no, "o= line needs 6 fields", line);
      auto id = ParseUint(t[1], UINT64_MAX);
      auto ver = ParseUint(t[2], UINT64_MAX);
      if (!id) return LineError(no, "o= session id is not an unsigned 64-bit number", line);
      if (!ver) return LineError(no, "o= session version is not an unsigned 64-bit number", line);
      sd.origin_username = std::string(t[0]);
      sd.session_id = *id;
      sd.session_version = *ver;
      sd.origin_nettype = std::string(t[3]);
      sd.origin_addrtype = std::string(t[4]);
      sd.origin_address = std::string(t[5]);
      continue;
    }
    if (i == 2) {
      if (type != 's') return LineError(no, "expected s= as the third line", line);
      sd.session_name = std::string(value);
      continue;
    }

    if (type == 'v' || type == 'o' || type == 's') {
      return LineError(no, absl::StrCat("duplicate ", std::string(1, type), "= line"), line);
    }

    if (type == 'm') {
      if (!have_timing) return LineError(no, "missing t= line before the first m= line", line);
      if (sd.media.size() >= kMaxMediaSections) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "SDP line ", no, ": more than the limit of ", kMaxMediaSections, " m= sections"));
      }
      auto m = ParseMediaLine(no, line, value);
      if (!m.ok()) return m.status();
      if (m->formats.size() > kMaxFormats) {
        return absl::ResourceExhaustedError(absl::StrCat("SDP line ", no, ": ", m->formats.size(),
                                                         " formats exceed the limit of ",
                                                         kMaxFormats, " per m= line"));
      }
      cur_candidates = 0;
      sd.media.push_back(std::move(*m));
      cur = &sd.media.back();
      cur_has_connection = false;
      continue;
    }

    if (type == 'a') {
      auto a = ParseAttribute(no, line, value);
      if (!a.ok()) return a.status();
      if (cur == nullptr) {
        if (MediaLevelOnly(a->key)) {
          return LineError(no, absl::StrCat("media-level attribute a=", a->key,
                                            " appears before any m= line"),
                           line);
        }
        sd.attributes.push_back(std::move(*a));
      } else {
        if (a->key == "candidate" && ++cur_candidates > kMaxCandidatesPerSection) {
          return absl::ResourceExhaustedError(
              absl::StrCat("SDP line ", no, ": more than the limit of ", kMaxCandidatesPerSection,
                           " a=candidate lines in one m= section"));
        }
        cur->attributes.push_back(std::move(*a));
      }
      continue;
    }

    if (type == 'c') {
      if (!ValidConnection(value)) {
        return LineError(no, "c= line needs <nettype> <addrtype> <connection-address>", line);
      }
      if (cur == nullptr) {
        if (have_session_connection) return LineError(no, "duplicate session-level c= line", line);
        have_session_connection = true;
        sd.connection = std::string(value);
      } else if (!cur_has_connection) {
        cur_has_connection = true;
        cur->connection = std::string(value);
      } else {
        cur->other_lines.push_back(Line{type, std::string(value)});  // multicast: several c=
      }
      continue;
    }

    if (cur != nullptr) {
      // Media level: m [i] *c *b [k] *a; session-only types are structural errors.
      if (type == 't' || type == 'r' || type == 'z' || type == 'u' || type == 'e' || type == 'p') {
        return LineError(no, absl::StrCat(std::string(1, type), "= is not allowed in a media section"),
                         line);
      }
      cur->other_lines.push_back(Line{type, std::string(value)});
      continue;
    }

    // Session level.
    if (type == 't') {
      if (!ValidTiming(value)) return LineError(no, "t= line needs <start-time> <stop-time>", line);
      if (!have_timing) {
        have_timing = true;
        sd.timing = std::string(value);
        continue;
      }
    } else if (type == 'r' && !have_timing) {
      return LineError(no, "r= line without a preceding t= line", line);
    }
    sd.other_lines.push_back(Line{type, std::string(value)});
  }

  if (lines.size() < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("SDP line ", lines.size() + 1, ": missing ",
                     lines.size() == 1 ? "o=" : "s=", " line"));
  }
  if (!have_timing) {
    return absl::InvalidArgumentError(
        absl::StrCat("SDP line ", lines.size() + 1, ": missing t= line"));
  }
  NormalizeOrder(&sd.other_lines, SessionRank);
  for (auto& m : sd.media) NormalizeOrder(&m.other_lines, MediaRank);
  return sd;
}

std::string SessionDescription::Serialize() const {
  std::string out;
  out.reserve(512 + media.size() * 512);
  AppendLine('v', absl::StrCat(version), &out);
  AppendLine('o',
             absl::StrCat(origin_username, " ", session_id, " ", session_version, " ",
                          origin_nettype, " ", origin_addrtype, " ", origin_address),
             &out);
  AppendLine('s', session_name, &out);
  // RFC 8866 §5 order: [i] [u] *e *p [c] *b 1*(t *r) [z] [k] *a
  size_t k = 0;
  auto emit_until = [&](int rank_limit) {
    while (k < other_lines.size() && SessionRank(other_lines[k].type) < rank_limit) {
      AppendLine(other_lines[k].type, other_lines[k].value, &out);
      ++k;
    }
  };
  emit_until(4);
  if (!connection.empty()) AppendLine('c', connection, &out);
  emit_until(6);
  AppendLine('t', timing, &out);
  emit_until(100);
  AppendAttributes(attributes, &out);

  for (const auto& m : media) {
    std::string mline = m.media;
    absl::StrAppend(&mline, " ", m.port);
    if (m.num_ports != 0) absl::StrAppend(&mline, "/", m.num_ports);
    absl::StrAppend(&mline, " ", m.protocol);
    for (const auto& f : m.formats) absl::StrAppend(&mline, " ", f);
    AppendLine('m', mline, &out);
    size_t j = 0;
    auto emit_media_until = [&](int rank_limit) {
      while (j < m.other_lines.size() && MediaRank(m.other_lines[j].type) < rank_limit) {
        AppendLine(m.other_lines[j].type, m.other_lines[j].value, &out);
        ++j;
      }
    };
    emit_media_until(1);
    if (!m.connection.empty()) AppendLine('c', m.connection, &out);
    emit_media_until(100);
    AppendAttributes(m.attributes, &out);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Session-level fallback

std::optional<std::string> EffectiveAttribute(const SessionDescription& session,
                                              const MediaSection& media, absl::string_view key) {
  if (auto v = media.GetAttribute(key)) return v;
  return session.GetAttribute(key);
}

std::vector<Fingerprint> EffectiveFingerprints(const SessionDescription& session,
                                               const MediaSection& media) {
  if (media.HasAttribute("fingerprint")) return media.fingerprints();
  std::vector<Fingerprint> out;
  for (const auto& v : session.GetAttributes("fingerprint")) {
    if (auto f = ParseFingerprint(v)) out.push_back(std::move(*f));
  }
  return out;
}

std::vector<std::string> EffectiveIceOptions(const SessionDescription& session,
                                             const MediaSection& media) {
  if (media.HasAttribute("ice-options")) return media.ice_options();
  std::vector<std::string> out;
  for (const auto& v : session.GetAttributes("ice-options")) {
    for (auto& tok : SplitIceOptions(v)) out.push_back(std::move(tok));
  }
  return out;
}

std::string EffectiveConnection(const SessionDescription& session, const MediaSection& media) {
  return media.connection.empty() ? session.connection : media.connection;
}

}  // namespace refrtc::sdp
