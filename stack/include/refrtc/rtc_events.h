// The events an RTCPeerConnection fires (W3C webrtc-pc §4.4.1.x, §5, §6), in the order the spec
// fires them. Sans-IO: the host polls them with RTCPeerConnection::PollEvent().
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "refrtc/rtc_ice_candidate.h"
#include "util/bytes.h"

namespace refrtc {

class RTCDataChannel;
class RTCRtpTransceiver;

enum class RTCEventType {
  kIceCandidate,                // candidate (nullopt = end of gathering: the null candidate)
  kIceCandidateError,           // error_* (STUN server unreachable etc.)
  kIceGatheringStateChange,     // state
  kIceConnectionStateChange,    // state
  kConnectionStateChange,       // state
  kSignalingStateChange,        // state
  kNegotiationNeeded,
  kDataChannel,                 // channel (remote-created, already open)
  kChannelOpen,                 // channel
  kChannelClosing,              // channel
  kChannelClose,                // channel
  kChannelMessage,              // channel, data, binary
  kChannelBufferedAmountLow,    // channel
  kChannelError,                // channel, error_*
  kTrack,                       // transceiver, streams (webrtc-pc §5.7 RTCTrackEvent)
};

struct RTCEvent {
  RTCEventType type;
  std::string state;
  std::optional<RTCIceCandidateInit> candidate;
  std::shared_ptr<RTCDataChannel> channel;
  Bytes data;
  bool binary = false;
  std::string error_name, error_message, error_detail;
  std::shared_ptr<RTCRtpTransceiver> transceiver;  // kTrack: receiver/track via transceiver
  std::vector<std::string> streams;                // kTrack: the remote stream ids (a=msid)
};

const char* ToString(RTCEventType t);

}  // namespace refrtc
