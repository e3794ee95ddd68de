// W3C webrtc-pc §4.2.1 RTCConfiguration (and RTCIceServer, §4.2.2).
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace refrtc {

class RTCCertificate;

struct RTCIceServer {
  std::vector<std::string> urls;  // "stun:host:port", "turn:..." (TURN arrives with issue B)
  std::string username;
  std::string credential;
};

enum class RTCIceTransportPolicy { kAll, kRelay };
enum class RTCBundlePolicy { kBalanced, kMaxCompat, kMaxBundle };
enum class RTCRtcpMuxPolicy { kRequire };

struct RTCConfiguration {
  std::vector<RTCIceServer> iceServers;
  RTCIceTransportPolicy iceTransportPolicy = RTCIceTransportPolicy::kAll;
  RTCBundlePolicy bundlePolicy = RTCBundlePolicy::kBalanced;
  RTCRtcpMuxPolicy rtcpMuxPolicy = RTCRtcpMuxPolicy::kRequire;
  uint8_t iceCandidatePoolSize = 0;
  std::vector<std::shared_ptr<RTCCertificate>> certificates;
  // webrtc-identity §6 RTCConfiguration.peerIdentity: the target peer identity ("user@domain").
  std::optional<std::string> peerIdentity;
};

// Not part of the W3C API: what a sans-IO engine needs from its host at construction.
struct RTCEngineOptions {
  uint64_t seed = 1;          // all randomness (ICE credentials, tie-breaker, DTLS RNG) derives from it
  int64_t unix_time_s = 0;    // wall-clock time for certificate validity (hosts pass time(nullptr))
  // Debugging aid: receives "CLIENT_RANDOM <hex> <hex>" lines (NSS key log format) for each DTLS
  // handshake so captures can be decrypted; hosts append them to $SSLKEYLOGFILE. Unset = none.
  std::function<void(const std::string& line)> key_log;
};

const char* ToString(RTCIceTransportPolicy p);
const char* ToString(RTCBundlePolicy p);

}  // namespace refrtc
