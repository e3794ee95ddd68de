// Semantic checks of a parsed description, as setRemoteDescription / setLocalDescription need
// them (RFC 8829 §5.7 "Parsing a Session Description", §5.8, RFC 8839, RFC 8122, RFC 8842,
// RFC 8843). All failures are absl::InvalidArgumentError with a message naming the m= section;
// the API layer maps them to DOMExceptions.
#pragma once
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "sdp/sdp.h"

namespace refrtc::sdp {

enum class SdpType { kOffer, kPrAnswer, kAnswer, kRollback };
// "offer" / "pranswer" / "answer" / "rollback" (W3C RTCSdpType).
std::optional<SdpType> SdpTypeFromString(absl::string_view s);
const char* SdpTypeToString(SdpType t);

// ice-ufrag = 4*256ice-char, ice-pwd = 22*256ice-char, ice-char = ALPHA / DIGIT / "+" / "/"
// (RFC 8839 §5.4).
absl::Status ValidateIceUfrag(absl::string_view ufrag);
absl::Status ValidateIcePwd(absl::string_view pwd);
// hash-func SP 2UHEX *(":" 2UHEX) (RFC 8122 §5); the algorithm must be one of the RFC 8122
// hash functions ("sha-1", "sha-224", "sha-256", "sha-384", "sha-512", "md5", "md2"; case
// insensitive) and the digest length must match it. Lowercase hex is accepted.
absl::Status ValidateFingerprint(const Fingerprint& fp);
// RFC 4145 §4 values; RFC 8842 §5.2/§5.3: an offer uses "actpass" (we also accept
// "active"/"passive" as libwebrtc does), an answer must not use "actpass"; "holdconn" is
// rejected (RFC 8842 §5.1: it MUST NOT be used with DTLS associations).
absl::Status ValidateSetup(absl::string_view setup, SdpType type);

// RFC 8843 §7.2.1/§7.3.1/§8: in a BUNDLE group the transport attributes (ICE, DTLS, candidates)
// may appear only in the tagged m= section, which is the one named first in the group. Returns
// that section for `media` when `media` is in a BUNDLE group, lacks its own a=ice-ufrag and the
// tagged section exists; otherwise `media` itself.
const MediaSection& TransportSection(const SessionDescription& sd, const MediaSection& media);

// The whole-description check run before applying a description:
//  - every m= section that is not rejected has (via TransportSection + session fallback) an effective a=ice-ufrag and a=ice-pwd with a
//    valid syntax (RFC 8839 §5.4; "missing ice-ufrag" etc.);
//  - every non-rejected m= section using DTLS (protocol containing "DTLS" or "TLS") has at
//    least one effective a=fingerprint, each valid (RFC 8122 §5, RFC 8829 §5.8);
//  - a=setup, when present (media or session level), has a valid value for `type`;
//  - mids are unique (RFC 8843 §7.2 / RFC 5888 §4); when any a=group:BUNDLE is present every
//    m= section has a mid and every mid named in a BUNDLE group exists (RFC 8843 §7.2, §9.1);
//  - data sections (is_data) carry an SCTP port (RFC 8841 §5.2; legacy sctpmap accepted).
absl::Status ValidateDescription(const SessionDescription& sd, SdpType type);

}  // namespace refrtc::sdp
