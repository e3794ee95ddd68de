#include "refrtc/rtc_data_channel.h"

#include "refrtc/rtc_peer_connection.h"
#include "util/dom_exception.h"

namespace refrtc {

void RTCDataChannel::setBufferedAmountLowThreshold(uint64_t v) {
  low_threshold_ = v;
  if (pc_) pc_->ChannelSetLowThreshold(this, v);
}

absl::Status RTCDataChannel::setBinaryType(absl::string_view t) {
  // §6.2 binaryType: "blob" and "arraybuffer"; other values are ignored by WebIDL enum rules,
  // reported here as SyntaxError so a driver can tell.
  if (t != "blob" && t != "arraybuffer") return SyntaxError("binaryType must be 'blob' or 'arraybuffer'");
  binary_type_ = std::string(t);
  return absl::OkStatus();
}

absl::Status RTCDataChannel::send(absl::string_view text) { return Send(AsBytes(text), false); }
absl::Status RTCDataChannel::sendBinary(ByteView data) { return Send(data, true); }

absl::Status RTCDataChannel::Send(ByteView data, bool binary) {
  // §6.2 send() step 1: readyState must be "open".
  if (state_ != RTCDataChannelState::kOpen || !pc_)
    return InvalidStateError("RTCDataChannel.readyState is not 'open'");
  return pc_->ChannelSend(this, data, binary);
}

void RTCDataChannel::close() {
  // §6.2 close(): closing or closed → nothing to do.
  if (state_ == RTCDataChannelState::kClosing || state_ == RTCDataChannelState::kClosed) return;
  state_ = RTCDataChannelState::kClosing;
  if (pc_) pc_->ChannelClose(this);
}

}  // namespace refrtc
