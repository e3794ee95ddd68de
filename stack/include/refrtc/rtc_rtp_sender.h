// W3C webrtc-pc §5.2 RTCRtpSender (+ §5.2.1 RTCRtpSendParameters).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "refrtc/media_stream_track.h"
#include "refrtc/rtc_dtmf_sender.h"

namespace refrtc {

class RTCPeerConnection;
class MediaSession;
class RTCRtpReceiver;
class RTCRtpTransceiver;

class RTCPeerConnection;
class RTCRtpTransceiver;

// §5.2.5 RTCRtpCodec / §5.2.4 RTCRtpCodecParameters.
struct RTCRtpCodec {
  std::string mimeType;  // "audio/opus", "video/VP8"
  uint32_t clockRate = 0;
  std::optional<uint16_t> channels;
  std::string sdpFmtpLine;
  std::optional<uint8_t> payloadType;  // set in RTCRtpCodecParameters (negotiated)
};

// §5.2.2 RTCRtpEncodingParameters (the fields this stack honours).
struct RTCRtpEncodingParameters {
  bool active = true;
  std::optional<uint64_t> maxBitrate;
  std::optional<uint32_t> ssrc;  // not W3C (read-only, informative)
};

struct RTCRtpSendParameters {
  std::string transactionId;
  std::vector<RTCRtpEncodingParameters> encodings;
  std::vector<RTCRtpCodec> codecs;
};

class RTCRtpSender {
 public:
  // §5.2 track: null when sending nothing.
  const std::shared_ptr<MediaStreamTrack>& track() const { return track_; }
  // §5.2 replaceTrack(): InvalidStateError when the transceiver is stopping/stopped or the peer
  // connection is closed; TypeError when the kind differs. No renegotiation needed.
  absl::Status replaceTrack(std::shared_ptr<MediaStreamTrack> track);
  // §5.2 getParameters() / setParameters(): only `active` and `maxBitrate` may change; a different
  // transactionId or number of encodings is InvalidModificationError.
  RTCRtpSendParameters getParameters();
  absl::Status setParameters(const RTCRtpSendParameters& parameters);
  // The stream ids given to addTrack (a=msid).
  const std::vector<std::string>& stream_ids() const { return stream_ids_; }
  uint64_t handle() const { return handle_; }
  // §7.1 dtmf: the RTCDTMFSender of an audio sender (the same object every time), null for video.
  std::shared_ptr<RTCDTMFSender> dtmf() const;

 private:
  friend class RTCPeerConnection;
  friend class MediaSession;
  friend class RTCRtpReceiver;
  friend class RTCDTMFSender;
  friend class RTCRtpTransceiver;
  RTCRtpSender() = default;
  RTCPeerConnection* pc_ = nullptr;
  RTCRtpTransceiver* transceiver_ = nullptr;
  std::shared_ptr<MediaStreamTrack> track_;
  std::vector<std::string> stream_ids_;
  std::vector<RTCRtpEncodingParameters> encodings_{RTCRtpEncodingParameters{}};
  std::string last_transaction_id_;
  uint64_t transaction_counter_ = 0;
  bool ever_sent_ = false;  // §5.1 addTrack step 7: [[ever been used to send]]
  uint64_t handle_ = 0;
  mutable std::shared_ptr<RTCDTMFSender> dtmf_;  // created on first use (audio only)
};

}  // namespace refrtc
