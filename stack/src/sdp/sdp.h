// SDP (RFC 8866) session description model, parser and serializer.
//
// The model keeps every line it does not interpret (unknown attributes, i=/u=/e=/p=/b=/r=/z=/k=
// lines and lines of unknown types) so that Serialize(Parse(x)) parses back to an equal model
// and Serialize(Parse(Serialize(m))) == Serialize(m) byte for byte. Parse normalizes the order
// of non-attribute lines to the RFC 8866 §5 grammar order, which is the order Serialize writes.
//
// Typed accessors (mid, ICE, DTLS, SCTP attributes) are computed from the generic attribute list;
// they never fail: a malformed value reads as absent. Semantic checks live in sdp_validate.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refrtc::sdp {

// a=key or a=key:value (RFC 8866 §5.13). `value` is everything after the first ':' verbatim
// (so "a=msid-semantic: WMS" has value " WMS").
struct Attribute {
  std::string key;
  std::optional<std::string> value;
  friend bool operator==(const Attribute& a, const Attribute& b) {
    return a.key == b.key && a.value == b.value;
  }
  friend bool operator!=(const Attribute& a, const Attribute& b) { return !(a == b); }
};

// A line the model stores without interpreting it: `type` is the letter before '=',
// `value` the text after it.
struct Line {
  char type = 0;
  std::string value;
  friend bool operator==(const Line& a, const Line& b) {
    return a.type == b.type && a.value == b.value;
  }
  friend bool operator!=(const Line& a, const Line& b) { return !(a == b); }
};

// a=fingerprint:<hash-func> <fingerprint> (RFC 8122 §5).
struct Fingerprint {
  std::string algorithm;  // as written, e.g. "sha-256"
  std::string value;      // e.g. "AB:CD:..."
  friend bool operator==(const Fingerprint& a, const Fingerprint& b) {
    return a.algorithm == b.algorithm && a.value == b.value;
  }
};

// RFC 8841 §6.1: when a=max-message-size is absent the peer may receive at most 64 KiB.
constexpr uint64_t kDefaultMaxMessageSize = 65536;

// Resource limits of SessionDescription::Parse (docs/LIMITS.md). RFC 8866 sets no size limits
// and RFC 8829 §5.7 leaves it to the implementation what it rejects; a description comes from
// the remote peer, so its size bounds the memory and time everything downstream spends on it.
// Past a limit Parse fails with ResourceExhausted ("SDP ...: exceeds the limit of N"), which
// setRemoteDescription reports like any SDP error (OperationError, sdp-syntax-error).
// Whole description: bytes of line content, line endings not counted (a browser offer is a few
// KiB; 100 transceivers ~ 300 KiB). Text longer than kMaxSdpSize + 4 * kMaxLines is rejected
// before it is split into lines.
constexpr size_t kMaxSdpSize = 2 * 1024 * 1024;
// One line without its line ending (the longest legitimate line, a=identity, is a few KiB).
constexpr size_t kMaxLineLength = 64 * 1024;
// Lines in the whole description, trailing blank lines not counted (bounds the parsed model at a
// few MiB).
constexpr size_t kMaxLines = 65536;
// m= sections (each becomes a transceiver or data section; RFC 8829 §5.10 mirrors them).
constexpr size_t kMaxMediaSections = 512;
// Formats on one m= line (RTP payload types are 0..127, RFC 3551 §3; 256 leaves room for
// duplicates and non-RTP formats).
constexpr size_t kMaxFormats = 256;
// a=candidate lines in one m= section (RFC 8839 §5.1). The ICE agent keeps at most
// ice::AgentConfig::max_remote_candidates of them; a description with more is rejected.
constexpr size_t kMaxCandidatesPerSection = 256;

// Helpers shared by the session and media attribute lists.
std::optional<std::string> FindAttribute(const std::vector<Attribute>& attrs, absl::string_view key);
std::vector<std::string> FindAttributes(const std::vector<Attribute>& attrs, absl::string_view key);

struct MediaSection {
  // m=<media> <port>[/<num_ports>] <proto> <fmt> ... (RFC 8866 §5.14)
  std::string media;      // "application", "audio", "video"
  uint16_t port = 9;
  uint16_t num_ports = 0;  // 0 = absent
  std::string protocol;   // "UDP/DTLS/SCTP", "DTLS/SCTP", "UDP/TLS/RTP/SAVPF", ...
  std::vector<std::string> formats;  // "webrtc-datachannel", or payload types
  std::string connection;            // first c= line value, e.g. "IN IP4 0.0.0.0" ("" if absent)
  std::vector<Line> other_lines;     // i=, b=, k=, further c= and unknown lines, in order
  std::vector<Attribute> attributes; // all a= lines of the section, in order

  // --- generic attribute access ---
  // First a=<key> value; "" for a flag attribute (a=<key> without value); nullopt if absent.
  std::optional<std::string> GetAttribute(absl::string_view key) const;
  // Values of every a=<key> line, in order ("" for flag attributes).
  std::vector<std::string> GetAttributes(absl::string_view key) const;
  bool HasAttribute(absl::string_view key) const;
  // Replaces the first a=<key> (removing later ones) or appends when absent.
  void SetAttribute(absl::string_view key, std::optional<std::string> value);
  void AddAttribute(absl::string_view key, std::optional<std::string> value = std::nullopt);
  void RemoveAttributes(absl::string_view key);

  // --- typed accessors (RFC 8843, 8839, 8122, 8842, 8841, 8866) ---
  std::optional<std::string> mid() const;        // a=mid (RFC 8843 §14? / RFC 5888 §4)
  std::optional<std::string> ice_ufrag() const;  // media-level only; see EffectiveAttribute
  std::optional<std::string> ice_pwd() const;
  std::vector<std::string> ice_options() const;  // a=ice-options tokens, see SplitIceOptions
  std::vector<Fingerprint> fingerprints() const; // media-level a=fingerprint lines
  std::optional<std::string> setup() const;      // "actpass"/"active"/"passive"/"holdconn"
  // a=sctp-port (RFC 8841 §5.2); for the legacy draft-ietf-mmusic-sctp-sdp-05 form
  // ("m=application 9 DTLS/SCTP 5000" + "a=sctpmap:5000 webrtc-datachannel 1024") the sctpmap
  // port, or the numeric format of a DTLS/SCTP m= line.
  std::optional<uint16_t> sctp_port() const;
  std::optional<uint64_t> max_message_size() const;  // a=max-message-size (RFC 8841 §6)
  std::vector<std::string> candidates() const;  // "candidate:..." per a=candidate line
  bool end_of_candidates() const;                // a=end-of-candidates (RFC 8840 §8.2)
  // Last direction attribute (sendrecv/sendonly/recvonly/inactive); "sendrecv" when none
  // (RFC 8866 §6.7).
  std::string direction() const;
  bool rtcp_mux() const;
  bool bundle_only() const;
  // RFC 8866 §5.14 / RFC 8829 §5.2.2: port 0 rejects the section (unless bundle-only).
  bool rejected() const { return port == 0 && !bundle_only(); }
  // An SCTP-over-DTLS data section (RFC 8841): media "application" and an SCTP protocol.
  bool is_data() const;

  friend bool operator==(const MediaSection& a, const MediaSection& b);
  friend bool operator!=(const MediaSection& a, const MediaSection& b) { return !(a == b); }
};

struct SessionDescription {
  int version = 0;  // v= (RFC 8866 §5.1), always 0
  // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (§5.2)
  std::string origin_username = "-";
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string origin_nettype = "IN";
  std::string origin_addrtype = "IP4";
  std::string origin_address = "127.0.0.1";
  std::string session_name = "-";  // s= (§5.3)
  std::string timing = "0 0";      // first t= (§5.9)
  std::string connection;          // session-level c= ("" if absent)
  // i=, u=, e=, p=, b=, further t= and r=, z=, k= and unknown-type lines, in grammar order.
  std::vector<Line> other_lines;
  // Session-level a= lines (group:BUNDLE, msid-semantic, ice-options, fingerprint,
  // ice-ufrag/pwd at session level, extmap-allow-mixed, ...), in order.
  std::vector<Attribute> attributes;
  std::vector<MediaSection> media;

  std::optional<std::string> GetAttribute(absl::string_view key) const;
  std::vector<std::string> GetAttributes(absl::string_view key) const;
  bool HasAttribute(absl::string_view key) const;
  void SetAttribute(absl::string_view key, std::optional<std::string> value);
  void AddAttribute(absl::string_view key, std::optional<std::string> value = std::nullopt);
  void RemoveAttributes(absl::string_view key);

  // Every a=group:BUNDLE line's mids (RFC 8843 §7.1), in order.
  std::vector<std::vector<std::string>> bundle_groups() const;
  // The media section with a=mid:<mid>, or nullptr.
  const MediaSection* FindMedia(absl::string_view mid) const;
  MediaSection* FindMedia(absl::string_view mid);

  // Accepts "\r\n" and "\n" line endings (trailing blank lines ignored). Structure is checked
  // strictly: v=0 first, then o= (6 fields, numeric ids), s=, at least one t= before the first
  // m=, m= lines with a numeric port and at least one format, well-formed c= lines. Errors are
  // InvalidArgument "SDP line N: ..."; a description over one of the limits above (kMaxSdpSize,
  // ...) is ResourceExhausted. Unknown attributes and unknown line types are kept.
  static absl::StatusOr<SessionDescription> Parse(absl::string_view text);
  // RFC 8866 order, "\r\n" line endings.
  std::string Serialize() const;

  friend bool operator==(const SessionDescription& a, const SessionDescription& b);
  friend bool operator!=(const SessionDescription& a, const SessionDescription& b) {
    return !(a == b);
  }
};

// Effective per-section value with session-level fallback: the media-level a=<key> if present,
// else the session-level one (RFC 8839 §5.4 ice-ufrag/ice-pwd/ice-options, RFC 8122 §5
// fingerprint, RFC 4145 §4 setup may appear at session level).
std::optional<std::string> EffectiveAttribute(const SessionDescription& session,
                                              const MediaSection& media, absl::string_view key);
// Media-level fingerprints if the section has any, else the session-level ones.
std::vector<Fingerprint> EffectiveFingerprints(const SessionDescription& session,
                                               const MediaSection& media);
// Media-level a=ice-options tokens if present, else session-level.
std::vector<std::string> EffectiveIceOptions(const SessionDescription& session,
                                             const MediaSection& media);
// Media-level c= if present, else session-level c= ("" when neither).
std::string EffectiveConnection(const SessionDescription& session, const MediaSection& media);

// Parses "<algorithm> <value>" of a fingerprint attribute; nullopt if malformed.
std::optional<Fingerprint> ParseFingerprint(absl::string_view attr_value);
// Tokens of an a=ice-options value, split on spaces (RFC 8839 §5.6) and also on commas
// (libdatachannel writes "ice2,trickle").
std::vector<std::string> SplitIceOptions(absl::string_view value);

}  // namespace refrtc::sdp
