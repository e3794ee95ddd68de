// W3C webrtc-pc §5.4 RTCRtpTransceiver (+ §5.1 RTCRtpTransceiverInit, RTCRtpTransceiverDirection).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "refrtc/rtc_rtp_receiver.h"
#include "refrtc/rtc_rtp_sender.h"

namespace refrtc {

class RTCPeerConnection;
class MediaSession;
class RTCRtpSender;
class RTCRtpReceiver;

enum class RTCRtpTransceiverDirection { kSendrecv, kSendonly, kRecvonly, kInactive, kStopped };
const char* ToString(RTCRtpTransceiverDirection d);
std::optional<RTCRtpTransceiverDirection> ParseDirection(const std::string& s);

struct RTCRtpTransceiverInit {
  RTCRtpTransceiverDirection direction = RTCRtpTransceiverDirection::kSendrecv;
  std::vector<std::string> streams;  // stream ids
  std::vector<RTCRtpEncodingParameters> sendEncodings;
};

class RTCRtpTransceiver {
 public:
  // §5.4 mid: null until negotiated (set by setLocalDescription / setRemoteDescription).
  const std::optional<std::string>& mid() const { return mid_; }
  const std::string& kind() const { return kind_; }
  const std::shared_ptr<RTCRtpSender>& sender() const { return sender_; }
  const std::shared_ptr<RTCRtpReceiver>& receiver() const { return receiver_; }
  RTCRtpTransceiverDirection direction() const { return direction_; }
  // §5.4 direction setter: InvalidStateError when closed or stopping; "stopped" is a TypeError.
  absl::Status setDirection(RTCRtpTransceiverDirection d);
  // §5.4 currentDirection: null until an answer was applied.
  std::optional<RTCRtpTransceiverDirection> currentDirection() const { return current_direction_; }
  // §5.4 stop(): stopping now (sender stops sending, receiver track ends), stopped after the next
  // negotiation (port 0 in the next offer/answer).
  absl::Status stop();
  // §5.4 setCodecPreferences(): the order of codecs in our next offer/answer; an empty list resets;
  // a codec we cannot receive is InvalidModificationError.
  absl::Status setCodecPreferences(const std::vector<RTCRtpCodec>& codecs);
  bool stopping() const { return stopping_; }
  bool stopped() const { return stopped_; }
  uint64_t handle() const { return handle_; }

 private:
  friend class RTCPeerConnection;
  friend class MediaSession;
  friend class RTCRtpSender;
  friend class RTCDTMFSender;
  friend class RTCRtpReceiver;
  RTCRtpTransceiver() = default;
  RTCPeerConnection* pc_ = nullptr;
  std::string kind_;
  std::optional<std::string> mid_;
  std::shared_ptr<RTCRtpSender> sender_;
  std::shared_ptr<RTCRtpReceiver> receiver_;
  RTCRtpTransceiverDirection direction_ = RTCRtpTransceiverDirection::kSendrecv;
  std::optional<RTCRtpTransceiverDirection> current_direction_;
  bool stopping_ = false, stopped_ = false;
  bool created_by_add_track_ = false;  // §4.4.1.6: may be associated with a remote offer's m-section
  bool fired_direction_recv_ = false;  // [[Receptive]]: track event fired for the current recv state
  std::vector<RTCRtpCodec> preferences_;
  uint64_t handle_ = 0;
  // Negotiation bookkeeping (RTCPeerConnection).
  std::optional<std::string> pending_mid_;  // mid given by our pending offer, or by a pending remote offer
  bool created_by_remote_offer_ = false;    // removed again when that offer is rolled back
  bool mid_from_pending_offer_ = false;      // mid set by a pending offer (reverted on rollback)
  uint32_t local_ssrc_ = 0, local_rtx_ssrc_ = 0;  // RFC 3550 §8.1: random, chosen at creation
  std::vector<std::string> remote_stream_ids_;
};

}  // namespace refrtc
