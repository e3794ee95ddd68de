// W3C webrtc-pc §6.2 RTCDataChannel and §6.2 RTCDataChannelInit.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "util/bytes.h"

namespace refrtc {

class RTCPeerConnection;

struct RTCDataChannelInit {
  bool ordered = true;
  std::optional<uint16_t> maxPacketLifeTime;
  std::optional<uint16_t> maxRetransmits;
  std::string protocol;
  bool negotiated = false;
  std::optional<uint16_t> id;
};

enum class RTCDataChannelState { kConnecting, kOpen, kClosing, kClosed };
const char* ToString(RTCDataChannelState s);

// Owned by shared_ptr; the peer connection keeps one reference while the channel is not closed.
// All methods must be called on the host's thread (the engine is single-threaded).
class RTCDataChannel {
 public:
  const std::string& label() const { return label_; }
  bool ordered() const { return init_.ordered; }
  std::optional<uint16_t> maxPacketLifeTime() const { return init_.maxPacketLifeTime; }
  std::optional<uint16_t> maxRetransmits() const { return init_.maxRetransmits; }
  const std::string& protocol() const { return init_.protocol; }
  bool negotiated() const { return init_.negotiated; }
  std::optional<uint16_t> id() const { return id_; }
  RTCDataChannelState readyState() const { return state_; }
  uint64_t bufferedAmount() const { return buffered_amount_; }
  uint64_t bufferedAmountLowThreshold() const { return low_threshold_; }
  void setBufferedAmountLowThreshold(uint64_t v);
  // "arraybuffer" (default for RTCDataChannel) or "blob"; only affects JS bindings and drivers.
  const std::string& binaryType() const { return binary_type_; }
  absl::Status setBinaryType(absl::string_view t);

  // §6.2 send(): InvalidStateError unless open; TypeError above sctp.maxMessageSize;
  // bufferedAmount grows by the byte length.
  absl::Status send(absl::string_view text);
  absl::Status sendBinary(ByteView data);
  // §6.2 close(): starts the closing procedure (RFC 8831 §6.7 stream reset).
  void close();

  // Not W3C: counters the driver reports (messagesReceived/bytesReceived).
  uint64_t messages_received() const { return messages_received_; }
  uint64_t bytes_received() const { return bytes_received_; }
  uint64_t messages_sent() const { return messages_sent_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  // A process-unique handle, stable for the channel's life (drivers name channels by it).
  uint64_t handle() const { return handle_; }

 private:
  friend class RTCPeerConnection;
  RTCDataChannel(RTCPeerConnection* pc, std::string label, RTCDataChannelInit init, uint64_t handle)
      : pc_(pc), label_(std::move(label)), init_(std::move(init)), id_(init_.id), handle_(handle) {}
  absl::Status Send(ByteView data, bool binary);

  RTCPeerConnection* pc_;  // cleared when the peer connection is destroyed
  std::string label_;
  RTCDataChannelInit init_;
  std::optional<uint16_t> id_;
  RTCDataChannelState state_ = RTCDataChannelState::kConnecting;
  uint64_t buffered_amount_ = 0;
  uint64_t low_threshold_ = 0;
  std::string binary_type_ = "arraybuffer";
  uint64_t messages_received_ = 0;
  uint64_t bytes_received_ = 0;
  uint64_t messages_sent_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t handle_;
  bool opened_in_sctp_ = false;
};

}  // namespace refrtc
