// ICE candidates: the SDP candidate-attribute (RFC 8839 §5.1) and the priority / foundation
// rules of RFC 8445 §5.1.2 and §5.1.1.3.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "util/socket_address.h"

namespace refrtc::ice {

enum class CandidateType { kHost, kServerReflexive, kPeerReflexive, kRelay };

const char* CandidateTypeName(CandidateType t);  // "host", "srflx", "prflx", "relay"

// RFC 8445 §5.1.2.2 recommended type preferences.
constexpr uint32_t kTypePreferenceHost = 126;
constexpr uint32_t kTypePreferencePeerReflexive = 110;
constexpr uint32_t kTypePreferenceServerReflexive = 100;
constexpr uint32_t kTypePreferenceRelay = 0;
uint32_t TypePreference(CandidateType t);

// RFC 8445 §5.1.2.1: priority = 2^24 * type pref + 2^8 * local pref + (256 - component id).
uint32_t ComputePriority(CandidateType type, uint16_t local_preference, uint32_t component);

// RFC 8445 §6.1.2.3: pair priority = 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0), G = controlling.
uint64_t PairPriority(uint32_t controlling_priority, uint32_t controlled_priority);

struct Candidate {  // RFC 8839 §5.1 candidate-attribute
  std::string foundation;
  uint32_t component = 1;
  std::string protocol = "udp";  // lower-cased on parse
  uint32_t priority = 0;
  std::string address;  // as written: an IP literal, or an mDNS name like "abcd.local"
  uint16_t port = 0;
  CandidateType type = CandidateType::kHost;
  std::string related_address;
  uint16_t related_port = 0;
  std::string tcptype;
  std::map<std::string, std::string> extensions;  // generation, ufrag, network-id, network-cost, ...

  // Accepts "candidate:..." with or without a leading "a=" (and a trailing CRLF). Rejects with
  // InvalidArgument: missing fields, non-numeric component/priority/port, out-of-range values,
  // unknown "typ", a foundation that is not 1*32 ice-char, dangling extension names.
  static absl::StatusOr<Candidate> Parse(absl::string_view text);
  // "candidate:foundation 1 udp prio ip port typ host [raddr x rport y] [tcptype t] [k v]..."
  std::string ToString() const;
  // nullopt for ".local" names / anything that is not an IP literal.
  std::optional<SocketAddress> socket_address() const;
  bool is_mdns() const;  // address ends in ".local" (RFC 8839 / draft-ietf-mmusic-mdns-ice-candidates)

  friend bool operator==(const Candidate& a, const Candidate& b) {
    return a.foundation == b.foundation && a.component == b.component && a.protocol == b.protocol &&
           a.priority == b.priority && a.address == b.address && a.port == b.port && a.type == b.type &&
           a.related_address == b.related_address && a.related_port == b.related_port &&
           a.tcptype == b.tcptype && a.extensions == b.extensions;
  }
};

}  // namespace refrtc::ice
