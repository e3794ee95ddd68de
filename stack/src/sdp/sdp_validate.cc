// Semantic checks of session descriptions; see sdp_validate.h.
#include "sdp/sdp_validate.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace refrtc::sdp {
namespace {

// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4)
bool IsIceChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/'; }

absl::Status CheckIceString(absl::string_view what, absl::string_view v, size_t min, size_t max) {
  if (v.size() < min || v.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat("Invalid ", what, " length ", v.size(),
                                                   " (RFC 8839 §5.4 requires ", min, "..", max,
                                                   " ice-chars)"));
  }
  for (char c : v) {
    if (!IsIceChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid ", what, ": contains a character that is not an ice-char"));
    }
  }
  return absl::OkStatus();
}

// Digest length in bytes of the RFC 8122 §5 hash functions (RFC 3279, RFC 4055).
int DigestLength(absl::string_view alg) {
  std::string a = absl::AsciiStrToLower(alg);
  if (a == "sha-1") return 20;
  if (a == "sha-224") return 28;
  if (a == "sha-256") return 32;
  if (a == "sha-384") return 48;
  if (a == "sha-512") return 64;
  if (a == "md5" || a == "md2") return 16;
  return -1;
}

std::string SectionName(const MediaSection& m, size_t index) {
  auto mid = m.mid();
  if (mid) return absl::StrCat("m= section ", index, " (mid ", *mid, ")");
  return absl::StrCat("m= section ", index);
}

bool IsDtlsProtocol(absl::string_view proto) {
  return absl::StrContains(proto, "DTLS") || absl::StrContains(proto, "TLS");
}

}  // namespace

std::optional<SdpType> SdpTypeFromString(absl::string_view s) {
  if (s == "offer") return SdpType::kOffer;
  if (s == "pranswer") return SdpType::kPrAnswer;
  if (s == "answer") return SdpType::kAnswer;
  if (s == "rollback") return SdpType::kRollback;
  return std::nullopt;
}

const char* SdpTypeToString(SdpType t) {
  switch (t) {
    case SdpType::kOffer: return "offer";
    case SdpType::kPrAnswer: return "pranswer";
    case SdpType::kAnswer: return "answer";
    case SdpType::kRollback: return "rollback";
  }
  return "offer";
}

absl::Status ValidateIceUfrag(absl::string_view ufrag) {
  return CheckIceString("ice-ufrag", ufrag, 4, 256);
}

absl::Status ValidateIcePwd(absl::string_view pwd) { return CheckIceString("ice-pwd", pwd, 22, 256); }

absl::Status ValidateFingerprint(const Fingerprint& fp) {
  int len = DigestLength(fp.algorithm);
  if (len < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Unsupported fingerprint hash function '", fp.algorithm, "'"));
  }
  // fingerprint = 2UHEX *(":" 2UHEX) (RFC 8122 §5)
  std::vector<absl::string_view> parts = absl::StrSplit(fp.value, ':');
  bool ok = parts.size() == static_cast<size_t>(len);
  for (auto p : parts) {
    if (!ok) break;
    ok = p.size() == 2 && absl::ascii_isxdigit(static_cast<unsigned char>(p[0])) &&
         absl::ascii_isxdigit(static_cast<unsigned char>(p[1]));
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid ", fp.algorithm, " fingerprint value (expected ", len, " colon-separated hex bytes)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSetup(absl::string_view setup, SdpType type) {
  // RFC 4145 §4: setup = "active" / "passive" / "actpass" / "holdconn"
  if (setup != "active" && setup != "passive" && setup != "actpass" && setup != "holdconn") {
    return absl::InvalidArgumentError(absl::StrCat("Invalid a=setup value '", setup, "'"));
  }
  // RFC 8842 §5.1: "holdconn" MUST NOT be used with DTLS.
  if (setup == "holdconn") {
    return absl::InvalidArgumentError("a=setup:holdconn is not allowed for DTLS (RFC 8842 §5.1)");
  }
  // RFC 8842 §5.3: the answerer MUST NOT use "actpass".
  if ((type == SdpType::kAnswer || type == SdpType::kPrAnswer) && setup == "actpass") {
    return absl::InvalidArgumentError("a=setup:actpass is not allowed in an answer (RFC 8842 §5.3)");
  }
  return absl::OkStatus();
}

const MediaSection& TransportSection(const SessionDescription& sd, const MediaSection& media) {
  if (media.HasAttribute("ice-ufrag")) return media;
  auto mid = media.mid();
  if (!mid) return media;
  for (const auto& group : sd.bundle_groups()) {
    if (group.empty()) continue;
    for (const auto& m : group) {
      if (m != *mid) continue;
      if (const MediaSection* tagged = sd.FindMedia(group[0])) return *tagged;
      return media;
    }
  }
  return media;
}

absl::Status ValidateDescription(const SessionDescription& sd, SdpType type) {
  auto fail = [](const MediaSection& m, size_t i, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(SectionName(m, i), ": ", what));
  };

  // Session-level a=setup (RFC 4145 §4 allows it) must be valid too.
  if (auto s = sd.GetAttribute("setup")) {
    if (auto st = ValidateSetup(*s, type); !st.ok()) return st;
  }

  // RFC 8843 §7.2 / RFC 5888 §4: identification-tags are unique; with BUNDLE all m= have one.
  const auto groups = sd.bundle_groups();
  std::set<std::string> mids;
  for (size_t i = 0; i < sd.media.size(); ++i) {
    const auto& m = sd.media[i];
    auto mid = m.mid();
    if (!mid) {
      if (!groups.empty()) return fail(m, i, "missing a=mid while a=group:BUNDLE is used");
      continue;
    }
    if (mid->empty()) return fail(m, i, "empty a=mid");
    if (!mids.insert(*mid).second) return fail(m, i, absl::StrCat("duplicate a=mid:", *mid));
  }
  for (const auto& g : groups) {
    for (const auto& mid : g) {
      if (!mids.count(mid)) {
        return absl::InvalidArgumentError(
            absl::StrCat("a=group:BUNDLE names mid '", mid, "' which has no m= section"));
      }
    }
  }

  for (size_t i = 0; i < sd.media.size(); ++i) {
    const auto& m = sd.media[i];
    if (m.rejected()) continue;
    const MediaSection& t = TransportSection(sd, m);
    // RFC 8839 §5.4 / RFC 8829 §5.8: ICE credentials are mandatory.
    auto ufrag = EffectiveAttribute(sd, t, "ice-ufrag");
    auto pwd = EffectiveAttribute(sd, t, "ice-pwd");
    if (!ufrag) return fail(m, i, "missing a=ice-ufrag");
    if (!pwd) return fail(m, i, "missing a=ice-pwd");
    if (auto st = ValidateIceUfrag(*ufrag); !st.ok()) return fail(m, i, st.message());
    if (auto st = ValidateIcePwd(*pwd); !st.ok()) return fail(m, i, st.message());

    if (IsDtlsProtocol(m.protocol)) {
      // RFC 8122 §5 / RFC 8829 §5.8: at least one fingerprint, each well formed.
      const bool any = t.HasAttribute("fingerprint") || sd.HasAttribute("fingerprint");
      if (!any) return fail(m, i, "missing a=fingerprint");
      auto raw = t.HasAttribute("fingerprint") ? t.GetAttributes("fingerprint")
                                               : sd.GetAttributes("fingerprint");
      for (const auto& v : raw) {
        auto fp = ParseFingerprint(v);
        if (!fp) return fail(m, i, absl::StrCat("malformed a=fingerprint:", v));
        if (auto st = ValidateFingerprint(*fp); !st.ok()) return fail(m, i, st.message());
      }
    }
    if (auto setup = t.setup()) {
      if (auto st = ValidateSetup(*setup, type); !st.ok()) return fail(m, i, st.message());
    }
    if (m.is_data() && !m.sctp_port()) {
      return fail(m, i, "data m= section without a valid a=sctp-port");
    }
  }
  return absl::OkStatus();
}

}  // namespace refrtc::sdp
