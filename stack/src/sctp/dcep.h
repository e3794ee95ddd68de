// RFC 8832 (Data Channel Establishment Protocol) messages: DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK.
// Both travel on the data channel's own SCTP stream with PPID 50 (RFC 8832 §8.1).
#pragma once
#include <cstdint>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "util/bytes.h"

namespace refrtc::sctp {

// RFC 8832 §5.1 message types.
inline constexpr uint8_t kDcepAck = 0x02;
inline constexpr uint8_t kDcepOpen = 0x03;

// RFC 8832 §5.1 channel types. The high bit (0x80) marks the unordered variants.
inline constexpr uint8_t kChannelReliable = 0x00;
inline constexpr uint8_t kChannelReliableUnordered = 0x80;
inline constexpr uint8_t kChannelPartialReliableRexmit = 0x01;
inline constexpr uint8_t kChannelPartialReliableRexmitUnordered = 0x81;
inline constexpr uint8_t kChannelPartialReliableTimed = 0x02;
inline constexpr uint8_t kChannelPartialReliableTimedUnordered = 0x82;

// RFC 8831 §8 payload protocol identifiers.
inline constexpr uint32_t kPpidDcep = 50;
inline constexpr uint32_t kPpidString = 51;
inline constexpr uint32_t kPpidBinaryPartial = 52;  // deprecated (RFC 8831 §8), rejected
inline constexpr uint32_t kPpidBinary = 53;
inline constexpr uint32_t kPpidStringPartial = 54;  // deprecated (RFC 8831 §8), rejected
inline constexpr uint32_t kPpidStringEmpty = 56;
inline constexpr uint32_t kPpidBinaryEmpty = 57;

struct DcepOpen {
  uint8_t channel_type = kChannelReliable;
  uint16_t priority = 0;
  uint32_t reliability_param = 0;
  std::string label, protocol;
  friend bool operator==(const DcepOpen& a, const DcepOpen& b) {
    return a.channel_type == b.channel_type && a.priority == b.priority &&
           a.reliability_param == b.reliability_param && a.label == b.label &&
           a.protocol == b.protocol;
  }
};
struct DcepAck {
  friend bool operator==(const DcepAck&, const DcepAck&) { return true; }
};

// True for the six channel types RFC 8832 §5.1 defines.
bool IsValidChannelType(uint8_t channel_type);

// Parses one DCEP message. Rejects (InvalidArgument) unknown message types, unknown channel
// types, a label/protocol length that runs past the end, and trailing bytes after the message.
absl::StatusOr<std::variant<DcepOpen, DcepAck>> ParseDcep(ByteView data);

// RFC 8832 §5.1 layout. Label/protocol longer than 65535 bytes are truncated to fit the u16
// length fields (the W3C API rejects those earlier with a TypeError).
Bytes Serialize(const DcepOpen& open);
// RFC 8832 §5.2: a single byte 0x02.
Bytes SerializeAck();

}  // namespace refrtc::sctp
