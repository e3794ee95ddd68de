// Read-only views of the transports under an RTCPeerConnection:
// W3C webrtc-pc §5.5 RTCDtlsTransport, §5.6 RTCIceTransport, §6.1 RTCSctpTransport.
// (The three interfaces are small snapshots here; each has its own section below.)
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace refrtc {

enum class RTCIceGatheringState { kNew, kGathering, kComplete };
enum class RTCIceConnectionState { kNew, kChecking, kConnected, kCompleted, kDisconnected, kFailed, kClosed };
enum class RTCIceTransportState { kNew, kChecking, kConnected, kCompleted, kDisconnected, kFailed, kClosed };
enum class RTCIceRole { kUnknown, kControlling, kControlled };
enum class RTCDtlsTransportState { kNew, kConnecting, kConnected, kClosed, kFailed };
enum class RTCSctpTransportState { kConnecting, kConnected, kClosed };
enum class RTCPeerConnectionState { kNew, kConnecting, kConnected, kDisconnected, kFailed, kClosed };
enum class RTCSignalingState { kStable, kHaveLocalOffer, kHaveRemoteOffer, kHaveLocalPranswer, kHaveRemotePranswer, kClosed };

const char* ToString(RTCIceGatheringState s);
const char* ToString(RTCIceConnectionState s);
const char* ToString(RTCIceRole r);
const char* ToString(RTCDtlsTransportState s);
const char* ToString(RTCSctpTransportState s);
const char* ToString(RTCPeerConnectionState s);
const char* ToString(RTCSignalingState s);

// §5.6 RTCIceTransport (snapshot).
struct RTCIceTransport {
  RTCIceRole role = RTCIceRole::kUnknown;
  RTCIceTransportState state = RTCIceTransportState::kNew;
  RTCIceGatheringState gatheringState = RTCIceGatheringState::kNew;
  std::optional<std::string> selectedLocal, selectedRemote;  // "ip:port" of getSelectedCandidatePair()
};

// §5.5 RTCDtlsTransport (snapshot).
struct RTCDtlsTransport {
  RTCDtlsTransportState state = RTCDtlsTransportState::kNew;
  std::string remoteFingerprint;  // sha-256 of getRemoteCertificates()[0], when connected
  std::string cipherSuite;
  RTCIceTransport iceTransport;
};

// §6.1 RTCSctpTransport (snapshot).
struct RTCSctpTransport {
  RTCSctpTransportState state = RTCSctpTransportState::kConnecting;
  double maxMessageSize = 0;  // the largest message this peer may send (W3C: may be Infinity)
  std::optional<uint16_t> maxChannels;
  RTCDtlsTransport transport;
};

}  // namespace refrtc
