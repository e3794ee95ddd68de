// The wire forms of webrtc-identity / RFC 8827 §7: the a=identity attribute and the assertion
// "contents" binding the DTLS fingerprints. Parsers of network input: never throw, never crash.
#pragma once
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "refrtc/rtc_certificate.h"
#include "refrtc/rtc_identity.h"

namespace refrtc::identity {

// The decoded value of a=identity (RFC 8827 §7.4 / webrtc-identity §9.3 step 6): base64 of the
// JSON {"idp":{"domain":...,"protocol":...},"assertion":"..."}.
struct IdentityAttribute {
  RTCIdentityProviderDetails idp;
  std::string assertion;
};

// base64(JSON) for an a=identity line.
std::string EncodeIdentityAttribute(const RTCIdentityAssertionResult& result);
// Parses an a=identity attribute value: "<base64 assertion>[ <extensions>]" (RFC 8827 §7.4
// identity-attribute); the extensions are ignored. InvalidArgument on malformed input, a
// missing/empty domain, or a domain/protocol that is not a safe path component (RFC 8827 §7.5:
// the protocol is a path segment of the well-known URI, without '/', '\', '?' or '#').
absl::StatusOr<IdentityAttribute> ParseIdentityAttribute(absl::string_view value);

// RFC 8827 §7.1 contents: {"fingerprint":[{"algorithm":"sha-256","digest":"AB:..."}, ...]}.
std::string EncodeFingerprintContents(const std::vector<RTCDtlsFingerprint>& fingerprints);
absl::StatusOr<std::vector<RTCDtlsFingerprint>> ParseFingerprintContents(absl::string_view contents);

// webrtc-identity §9.4 step 8: every fingerprint of the description is in the validated
// contents (algorithm and hex digest compared case-insensitively).
bool FingerprintsCovered(const std::vector<RTCDtlsFingerprint>& in_description,
                         const std::vector<RTCDtlsFingerprint>& in_contents);
// §9.4 step 9 / RFC 8827 §7.5: the domain part of "user@domain" equals the IdP domain
// (case-insensitive); an identity without '@' or with an empty user or domain does not match.
bool IdentityDomainMatches(absl::string_view identity, absl::string_view idp_domain);
// A domain or protocol usable in https://<domain>/.well-known/idp-proxy/<protocol>.
bool ValidIdpDomain(absl::string_view domain);
bool ValidIdpProtocol(absl::string_view protocol);

}  // namespace refrtc::identity
