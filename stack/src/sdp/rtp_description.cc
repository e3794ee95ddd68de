#include "sdp/rtp_description.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace refrtc::sdp {
namespace {

// Digits only (RFC 8866 §9 integer): no sign, no whitespace; nullopt past 2^32-1 (so
// "4294967296" is rejected, not wrapped to 0).
std::optional<uint32_t> ParseU32(absl::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 0xffffffffull) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// "<pt> <rest>" → (pt, rest); nullopt when the payload type is not 0..127.
std::optional<std::pair<uint8_t, std::string>> SplitPt(absl::string_view value) {
  value = absl::StripLeadingAsciiWhitespace(value);
  size_t sp = value.find(' ');
  absl::string_view pt_s = sp == absl::string_view::npos ? value : value.substr(0, sp);
  auto pt = ParseU32(pt_s);
  if (!pt || *pt > 127) return std::nullopt;
  std::string rest = sp == absl::string_view::npos ? "" : std::string(absl::StripAsciiWhitespace(value.substr(sp + 1)));
  return std::make_pair(static_cast<uint8_t>(*pt), rest);
}

}  // namespace

std::optional<uint8_t> RtpCodec::apt() const {
  for (absl::string_view p : absl::StrSplit(fmtp, ';')) {
    p = absl::StripAsciiWhitespace(p);
    if (absl::StartsWithIgnoreCase(p, "apt=")) {
      auto v = ParseU32(p.substr(4));
      if (v && *v <= 127) return static_cast<uint8_t>(*v);
    }
  }
  return std::nullopt;
}

bool RtpCodec::has_feedback(absl::string_view fb) const {
  return std::any_of(rtcp_fb.begin(), rtcp_fb.end(), [&](const std::string& f) { return absl::EqualsIgnoreCase(f, fb); });
}

bool RtpCodec::is_rtx() const { return absl::EqualsIgnoreCase(name, "rtx"); }

const RtpCodec* RtpDescription::FindCodec(uint8_t pt) const {
  for (const auto& c : codecs)
    if (c.payload_type == pt) return &c;
  return nullptr;
}

const RtpCodec* RtpDescription::FindRtxFor(uint8_t pt) const {
  for (const auto& c : codecs)
    if (c.is_rtx() && c.apt() == pt) return &c;
  return nullptr;
}

uint8_t RtpDescription::ExtensionId(absl::string_view uri) const {
  for (const auto& e : extensions)
    if (e.uri == uri) return e.id;
  return 0;
}

RtpDescription ParseRtpDescription(const MediaSection& m) {
  RtpDescription d;
  d.kind = m.media;
  d.direction = m.direction();
  // RFC 8866 §5.14: the format list gives the order; a=rtpmap gives names (static payload types
  // 0 PCMU and 8 PCMA may come without one, RFC 3551 §6).
  for (const auto& f : m.formats) {
    // Payload types are 7 bits (RFC 3550 §5.1): anything else (128, 4294967295, -1, 2^32+96)
    // is ignored, never truncated into a valid type. A repeated type is listed once, so the
    // codec list stays <= 128 entries whatever the m= line holds.
    auto pt = ParseU32(f);
    if (!pt || *pt > 127) continue;
    if (d.FindCodec(static_cast<uint8_t>(*pt))) continue;
    RtpCodec c;
    c.payload_type = static_cast<uint8_t>(*pt);
    if (*pt == 0) c = RtpCodec{0, "PCMU", 8000, 1, "", {}};
    if (*pt == 8) c = RtpCodec{8, "PCMA", 8000, 1, "", {}};
    d.codecs.push_back(c);
  }
  for (const auto& a : m.attributes) {
    if (!a.value) {
      if (a.key == "rtcp-mux") d.rtcp_mux = true;
      if (a.key == "rtcp-rsize") d.rtcp_rsize = true;
      continue;
    }
    const std::string& v = *a.value;
    if (a.key == "rtpmap" || a.key == "fmtp" || a.key == "rtcp-fb") {
      auto split = SplitPt(v);
      if (!split) continue;
      RtpCodec* c = nullptr;
      for (auto& x : d.codecs)
        if (x.payload_type == split->first) c = &x;
      if (!c) continue;  // RFC 8866 §6.6: only formats of the m= line
      if (a.key == "rtpmap") {
        // <encoding name>/<clock rate>[/<encoding parameters>]
        std::vector<std::string> parts = absl::StrSplit(split->second, '/');
        if (parts.size() < 2) continue;
        auto rate = ParseU32(parts[1]);
        if (!rate || parts[0].empty()) continue;
        c->name = parts[0];
        c->clock_rate = *rate;
        c->channels = 1;
        if (parts.size() > 2) {
          auto ch = ParseU32(parts[2]);
          if (ch && *ch >= 1 && *ch <= 8) c->channels = static_cast<uint8_t>(*ch);
        }
      } else if (a.key == "fmtp") {
        c->fmtp = split->second;
      } else {
        if (!split->second.empty()) c->rtcp_fb.push_back(split->second);
      }
    } else if (a.key == "extmap") {
      // RFC 8285 §8: extmap:<id>[/<direction>] <uri> [<attributes>]
      std::vector<std::string> parts = absl::StrSplit(v, ' ', absl::SkipEmpty());
      if (parts.size() < 2) continue;
      std::string id_s = parts[0].substr(0, parts[0].find('/'));
      auto id = ParseU32(id_s);
      if (!id || *id < 1 || *id > 255) continue;
      d.extensions.push_back(RtpExtension{static_cast<uint8_t>(*id), parts[1]});
    } else if (a.key == "msid") {
      // RFC 8830 §2: msid:<stream id> [<track id>]
      std::vector<std::string> parts = absl::StrSplit(v, ' ', absl::SkipEmpty());
      if (parts.empty()) continue;
      if (parts[0] != "-") d.stream_ids.push_back(parts[0]);
      if (parts.size() > 1) d.track_id = parts[1];
    } else if (a.key == "ssrc") {
      // RFC 5576 §4.1: ssrc:<ssrc-id> <attribute>[:<value>]
      std::vector<std::string> parts = absl::StrSplit(v, absl::MaxSplits(' ', 1));
      auto ssrc = ParseU32(parts[0]);
      if (!ssrc) continue;
      if (std::find(d.ssrcs.begin(), d.ssrcs.end(), *ssrc) == d.ssrcs.end()) d.ssrcs.push_back(*ssrc);
      if (parts.size() > 1 && absl::StartsWith(parts[1], "cname:") && d.cname.empty()) d.cname = parts[1].substr(6);
      if (parts.size() > 1 && absl::StartsWith(parts[1], "msid:") && d.stream_ids.empty()) {
        // Plan B era: a=ssrc:<x> msid:<stream> <track> (no a=msid line).
        std::vector<std::string> ms = absl::StrSplit(parts[1].substr(5), ' ', absl::SkipEmpty());
        if (!ms.empty() && ms[0] != "-") d.stream_ids.push_back(ms[0]);
        if (ms.size() > 1 && d.track_id.empty()) d.track_id = ms[1];
      }
    } else if (a.key == "ssrc-group") {
      // RFC 5576 §4.2 / RFC 4588 §8.7: ssrc-group:FID <media> <rtx>
      std::vector<std::string> parts = absl::StrSplit(v, ' ', absl::SkipEmpty());
      if (parts.size() == 3 && parts[0] == "FID" && !d.rtx_ssrc) {
        auto media = ParseU32(parts[1]);
        auto rtx = ParseU32(parts[2]);
        if (media && rtx) {
          d.media_ssrc = *media;
          d.rtx_ssrc = *rtx;
        }
      }
    }
  }
  // Codecs without a usable rtpmap (a dynamic type never described) cannot be used.
  d.codecs.erase(std::remove_if(d.codecs.begin(), d.codecs.end(), [](const RtpCodec& c) { return c.name.empty(); }),
                 d.codecs.end());
  if (!d.media_ssrc && !d.ssrcs.empty()) d.media_ssrc = d.ssrcs.front();
  return d;
}

void WriteRtpDescription(const RtpDescription& d, MediaSection& m) {
  m.formats.clear();
  for (const auto& c : d.codecs) m.formats.push_back(std::to_string(c.payload_type));
  for (const auto& e : d.extensions) m.AddAttribute("extmap", absl::StrCat(e.id, " ", e.uri));
  m.AddAttribute(d.direction);
  if (!d.stream_ids.empty() || !d.track_id.empty()) {
    // RFC 8830 §2; "-" for a track without a stream (RFC 8829 §5.2.1).
    if (d.stream_ids.empty()) {
      m.AddAttribute("msid", absl::StrCat("- ", d.track_id));
    } else {
      for (const auto& s : d.stream_ids) m.AddAttribute("msid", absl::StrCat(s, " ", d.track_id));
    }
  }
  if (d.rtcp_mux) m.AddAttribute("rtcp-mux");
  if (d.rtcp_rsize) m.AddAttribute("rtcp-rsize");
  for (const auto& c : d.codecs) {
    std::string map = absl::StrCat(c.payload_type, " ", c.name, "/", c.clock_rate);
    if (d.kind == "audio" && c.channels > 1) absl::StrAppend(&map, "/", c.channels);
    m.AddAttribute("rtpmap", map);
    for (const auto& fb : c.rtcp_fb) m.AddAttribute("rtcp-fb", absl::StrCat(c.payload_type, " ", fb));
    if (!c.fmtp.empty()) m.AddAttribute("fmtp", absl::StrCat(c.payload_type, " ", c.fmtp));
  }
  if (d.media_ssrc) {
    if (d.rtx_ssrc) m.AddAttribute("ssrc-group", absl::StrCat("FID ", *d.media_ssrc, " ", *d.rtx_ssrc));
    std::vector<uint32_t> ssrcs{*d.media_ssrc};
    if (d.rtx_ssrc) ssrcs.push_back(*d.rtx_ssrc);
    for (uint32_t s : ssrcs) {
      if (!d.cname.empty()) m.AddAttribute("ssrc", absl::StrCat(s, " cname:", d.cname));
      std::string stream = d.stream_ids.empty() ? "-" : d.stream_ids.front();
      if (!d.track_id.empty()) m.AddAttribute("ssrc", absl::StrCat(s, " msid:", stream, " ", d.track_id));
    }
  }
}

std::string AnswerDirection(absl::string_view offered, absl::string_view wanted) {
  // RFC 3264 §6.1: we may send only if the offerer receives, receive only if it sends.
  bool send = DirectionSends(wanted) && DirectionReceives(offered);
  bool recv = DirectionReceives(wanted) && DirectionSends(offered);
  return send && recv ? "sendrecv" : send ? "sendonly" : recv ? "recvonly" : "inactive";
}

std::string ReverseDirection(absl::string_view direction) {
  if (direction == "sendonly") return "recvonly";
  if (direction == "recvonly") return "sendonly";
  return std::string(direction);
}

bool DirectionSends(absl::string_view d) { return d == "sendrecv" || d == "sendonly"; }
bool DirectionReceives(absl::string_view d) { return d == "sendrecv" || d == "recvonly"; }

}  // namespace refrtc::sdp
