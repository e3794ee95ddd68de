#include "sctp/dcep.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace refrtc::sctp {

bool IsValidChannelType(uint8_t t) {
  switch (t) {
    case kChannelReliable:
    case kChannelReliableUnordered:
    case kChannelPartialReliableRexmit:
    case kChannelPartialReliableRexmitUnordered:
    case kChannelPartialReliableTimed:
    case kChannelPartialReliableTimedUnordered:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::variant<DcepOpen, DcepAck>> ParseDcep(ByteView data) {
  ByteReader r(data);
  auto type = r.U8();
  if (!type) return absl::InvalidArgumentError("DCEP: empty message");
  if (*type == kDcepAck) {
    // RFC 8832 §5.2: the ACK is exactly one byte.
    if (r.remaining() != 0) return absl::InvalidArgumentError("DCEP: trailing bytes after ACK");
    return DcepAck{};
  }
  if (*type != kDcepOpen) {
    return absl::InvalidArgumentError(absl::StrCat("DCEP: unknown message type ", *type));
  }
  // RFC 8832 §5.1: Message Type (1) | Channel Type (1) | Priority (2) | Reliability Parameter (4)
  //                | Label Length (2) | Protocol Length (2) | Label | Protocol
  auto channel_type = r.U8();
  auto priority = r.U16();
  auto reliability = r.U32();
  auto label_len = r.U16();
  auto protocol_len = r.U16();
  if (!protocol_len) return absl::InvalidArgumentError("DCEP: truncated OPEN header");
  if (!IsValidChannelType(*channel_type)) {
    return absl::InvalidArgumentError(absl::StrCat("DCEP: unknown channel type ", *channel_type));
  }
  auto label = r.Take(*label_len);
  if (!label) return absl::InvalidArgumentError("DCEP: label runs past the end of the message");
  auto protocol = r.Take(*protocol_len);
  if (!protocol) {
    return absl::InvalidArgumentError("DCEP: protocol runs past the end of the message");
  }
  if (r.remaining() != 0) return absl::InvalidArgumentError("DCEP: trailing bytes after OPEN");
  DcepOpen open;
  open.channel_type = *channel_type;
  open.priority = *priority;
  open.reliability_param = *reliability;
  open.label = std::string(AsString(*label));
  open.protocol = std::string(AsString(*protocol));
  return open;
}

Bytes Serialize(const DcepOpen& open) {
  const size_t label_len = std::min<size_t>(open.label.size(), 0xffff);
  const size_t protocol_len = std::min<size_t>(open.protocol.size(), 0xffff);
  Bytes out;
  out.reserve(12 + label_len + protocol_len);
  ByteWriter w(&out);
  w.U8(kDcepOpen);
  w.U8(open.channel_type);
  w.U16(open.priority);
  w.U32(open.reliability_param);
  w.U16(static_cast<uint16_t>(label_len));
  w.U16(static_cast<uint16_t>(protocol_len));
  w.Append(AsBytes(absl::string_view(open.label).substr(0, label_len)));
  w.Append(AsBytes(absl::string_view(open.protocol).substr(0, protocol_len)));
  return out;
}

Bytes SerializeAck() { return Bytes{kDcepAck}; }

}  // namespace refrtc::sctp
