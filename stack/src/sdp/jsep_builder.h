// Builds the session descriptions refrtc itself generates (RFC 8829 §5.2 createOffer,
// §5.3 createAnswer) for data-only sessions, in the shape Chromium produces:
//
//   v=0
//   o=- <session_id> <session_version> IN IP4 127.0.0.1
//   s=-
//   t=0 0
//   a=group:BUNDLE 0
//   a=extmap-allow-mixed
//   a=msid-semantic: WMS
//   m=application 9 UDP/DTLS/SCTP webrtc-datachannel
//   c=IN IP4 0.0.0.0
//   a=candidate:...            (if any)
//   a=end-of-candidates        (if requested)
//   a=ice-ufrag:...
//   a=ice-pwd:...
//   a=ice-options:trickle
//   a=fingerprint:sha-256 AB:...
//   a=setup:actpass
//   a=mid:0
//   a=sctp-port:5000
//   a=max-message-size:262144
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "sdp/sdp.h"

namespace refrtc::sdp {

struct DataSessionParams {
  uint64_t session_id = 0;       // RFC 8829 §5.2.1: random, < 2^63
  uint64_t session_version = 0;  // incremented on every new description (§5.2.2)
  std::string mid = "0";
  std::string ice_ufrag;
  std::string ice_pwd;
  std::vector<std::string> ice_options = {"trickle"};  // empty: no a=ice-options line
  std::string fingerprint_algorithm = "sha-256";
  std::string fingerprint_value;  // "AB:CD:..."
  std::string setup = "actpass";  // offer: actpass; answer: active or passive (RFC 8842 §5)
  uint16_t sctp_port = 5000;
  uint64_t max_message_size = 262144;  // 0: omit the attribute
  std::vector<std::string> candidates;  // "candidate:..." (the "a=" prefix is also accepted)
  bool end_of_candidates = false;
  bool bundle = true;  // a=group:BUNDLE <mid>
};

SessionDescription MakeDataSession(const DataSessionParams& params);

// Adds a candidate line after the section's existing a=candidate lines (or as the first
// attribute when there are none, Chromium's position). Accepts "candidate:...",
// "a=candidate:..." or the bare attribute value. A duplicate of an existing line is ignored.
void AddCandidate(MediaSection& media, absl::string_view candidate);
// Adds a=end-of-candidates (RFC 8840 §8.2) after the last candidate, once.
void SetEndOfCandidates(MediaSection& media);

// RFC 8829 §5.2.1/§5.3.1 (and §5.2.2 for subsequent descriptions): the m= port and c= address
// come from the default candidate when candidates are known, else "9" and "IN IP4 0.0.0.0".
// The default is chosen like libwebrtc: the first component-1 UDP candidate with an IPv4
// literal address, else one with an IPv6 literal; mDNS (.local) candidates never become the
// default. Returns true when a candidate was used.
bool ApplyDefaultCandidate(MediaSection& media);

// The first data m= section (is_data) that is not rejected, or nullptr.
const MediaSection* FindDataSection(const SessionDescription& sd);

// Everything the transport stack needs from a (validated) description for one m= section, with
// the BUNDLE tagged-section (RFC 8843 §8) and session-level fallbacks applied.
struct TransportParams {
  std::string mid;  // "" when the section has no a=mid
  std::string ice_ufrag;
  std::string ice_pwd;
  std::vector<std::string> ice_options;
  std::vector<Fingerprint> fingerprints;
  std::string setup;  // "" when absent
  uint16_t sctp_port = 5000;  // RFC 8841 §5.2 default when absent
  uint64_t max_message_size = kDefaultMaxMessageSize;  // RFC 8841 §6.1 default when absent
  std::vector<std::string> candidates;  // "candidate:..."
  bool end_of_candidates = false;
};
TransportParams ExtractTransport(const SessionDescription& sd, const MediaSection& media);

}  // namespace refrtc::sdp
