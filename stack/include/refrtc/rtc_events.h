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
class RTCRtpSender;

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
  kToneChange,                  // sender, state = tone ("" at the end) (webrtc-pc §7.3 RTCDTMFToneChangeEvent)
  // Not W3C (refrtc extension): a DTMF digit received as RFC 4733 telephone-events on the
  // transceiver's receiver: transceiver, state = tone ("0"-"9", "*", "#", "A"-"D"), duration_ms.
  // One per event, reported when its end packet arrives; when all its end packets are lost, when
  // the next event begins or 500 ms after its last packet (rtp/telephone_event.h).
  kDtmfReceived,
  kIdentityResult,              // not W3C: assertion generation settled; state "fulfilled" (data = a=identity) / "rejected" (error_*)
  kPeerIdentityResult,          // not W3C: peerIdentity settled; state "fulfilled" / "rejected" (error_*)
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
  std::shared_ptr<RTCRtpSender> sender;             // kToneChange: the sender whose dtmf() fired it
  uint32_t duration_ms = 0;                         // kDtmfReceived
};

const char* ToString(RTCEventType t);

}  // namespace refrtc
