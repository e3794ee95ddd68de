// W3C webrtc-pc §4.8.2 RTCIceCandidate and RTCIceCandidateInit.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace refrtc {

struct RTCIceCandidateInit {
  std::string candidate;  // "candidate:..." (an "a=" prefix is tolerated); "" = end-of-candidates
  std::optional<std::string> sdpMid;
  std::optional<uint16_t> sdpMLineIndex;
  std::optional<std::string> usernameFragment;
};

enum class RTCIceComponent { kRtp, kRtcp };
enum class RTCIceProtocol { kUdp, kTcp };
enum class RTCIceCandidateType { kHost, kSrflx, kPrflx, kRelay };
enum class RTCIceTcpCandidateType { kActive, kPassive, kSo };

class RTCIceCandidate {
 public:
  // The constructor's steps (§4.8.2): TypeError when both sdpMid and sdpMLineIndex are null;
  // the candidate-attribute is parsed into the read-only fields, which stay null if it does not
  // parse (the constructor does not reject an unparsable candidate string).
  static absl::StatusOr<RTCIceCandidate> Create(const RTCIceCandidateInit& init);

  const std::string& candidate() const { return init_.candidate; }
  const std::optional<std::string>& sdpMid() const { return init_.sdpMid; }
  const std::optional<uint16_t>& sdpMLineIndex() const { return init_.sdpMLineIndex; }
  const std::optional<std::string>& usernameFragment() const { return init_.usernameFragment; }
  const std::optional<std::string>& foundation() const { return foundation_; }
  const std::optional<RTCIceComponent>& component() const { return component_; }
  const std::optional<uint32_t>& priority() const { return priority_; }
  const std::optional<std::string>& address() const { return address_; }
  const std::optional<RTCIceProtocol>& protocol() const { return protocol_; }
  const std::optional<uint16_t>& port() const { return port_; }
  const std::optional<RTCIceCandidateType>& type() const { return type_; }
  const std::optional<RTCIceTcpCandidateType>& tcpType() const { return tcp_type_; }
  const std::optional<std::string>& relatedAddress() const { return related_address_; }
  const std::optional<uint16_t>& relatedPort() const { return related_port_; }
  RTCIceCandidateInit toJSON() const { return init_; }

 private:
  RTCIceCandidateInit init_;
  std::optional<std::string> foundation_;
  std::optional<RTCIceComponent> component_;
  std::optional<uint32_t> priority_;
  std::optional<std::string> address_;
  std::optional<RTCIceProtocol> protocol_;
  std::optional<uint16_t> port_;
  std::optional<RTCIceCandidateType> type_;
  std::optional<RTCIceTcpCandidateType> tcp_type_;
  std::optional<std::string> related_address_;
  std::optional<uint16_t> related_port_;
};

const char* ToString(RTCIceCandidateType t);

}  // namespace refrtc
