// RTP data packets: RFC 3550 §5.1 fixed header (+ CSRC list), §5.3.1 header extension, RFC 8285
// one-byte (§4.2) and two-byte (§4.3) header-extension elements, and §5.1 padding (P bit).
//
// Parsing copies the packet into an owning RtpPacket (allocation bounded by the input size).
// Serialize() is the exact inverse for canonical input: elements packed without inter-element
// padding, the extension block zero-padded to 32 bits, RTP padding octets zero except the count.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "rtp/rtp_types.h"
#include "util/bytes.h"

namespace refrtc::rtp {

constexpr uint16_t kOneByteExtensionProfile = 0xBEDE;  // RFC 8285 §4.2
constexpr uint16_t kTwoByteExtensionProfile = 0x1000;  // RFC 8285 §4.3: 0x100 + 4 "appbits"
constexpr size_t kRtpFixedHeaderSize = 12;
constexpr size_t kMaxCsrcs = 15;

enum class ExtensionForm {
  kNone,     // X bit clear
  kOneByte,  // profile 0xBEDE
  kTwoByte,  // profile 0x100X
  kGeneric,  // any other profile: RFC 3550 §5.3.1, body kept raw
};

// One RFC 8285 header-extension element (id 1-14 one-byte form, 1-255 two-byte form).
struct HeaderExtension {
  uint8_t id = 0;
  Bytes data;  // one-byte form: 1-16 bytes; two-byte form: 0-255 bytes
  friend bool operator==(const HeaderExtension& a, const HeaderExtension& b) {
    return a.id == b.id && a.data == b.data;
  }
  friend bool operator!=(const HeaderExtension& a, const HeaderExtension& b) { return !(a == b); }
};

struct RtpPacket {
  bool marker = false;
  PayloadType payload_type;  // 0-127
  SequenceNumber sequence_number;
  uint32_t timestamp = 0;
  Ssrc ssrc;
  std::vector<Ssrc> csrcs;  // at most 15 (CC is 4 bits)

  // Header extension (X bit). extension_profile is the 16-bit "defined by profile" field;
  // it selects the form: 0xBEDE one-byte, 0x100X two-byte (X = appbits), anything else generic.
  bool has_extension = false;
  uint16_t extension_profile = 0;
  std::vector<HeaderExtension> extensions;  // one-/two-byte forms, in wire order
  Bytes extension_raw;                      // generic form: the body, a multiple of 4 bytes

  Bytes payload;
  // P bit: number of padding octets at the end including the count octet itself (0 = no P bit).
  uint8_t padding_size = 0;

  ExtensionForm extension_form() const;
  // First element with this id (one-/two-byte forms), nullptr when absent.
  const HeaderExtension* FindExtension(uint8_t id) const;
  // Adds or replaces an element and sets has_extension. Uses the one-byte form while every
  // element fits it (id 1-14, 1-16 bytes), otherwise switches to the two-byte form (appbits 0);
  // a two-byte packet stays two-byte. Fails for id 0, data longer than 255 bytes, or when a
  // generic (non-RFC 8285) extension is present.
  absl::Status SetExtension(uint8_t id, ByteView data);

  // Size of the fixed header + CSRCs + extension block, i.e. the payload offset.
  size_t HeaderSize() const;
  // Fails when a field cannot be encoded: PT > 127, > 15 CSRCs, an element invalid for the chosen
  // form, generic extension body not a multiple of 4 or longer than 65535 words.
  absl::StatusOr<Bytes> Serialize() const;

  friend bool operator==(const RtpPacket& a, const RtpPacket& b);
  friend bool operator!=(const RtpPacket& a, const RtpPacket& b) { return !(a == b); }
};

// RFC 3550 §5.1 / RFC 8285. Errors: shorter than 12 bytes, version != 2, CSRC list or extension
// past the end, an RFC 8285 element past the extension block, P bit with a padding count of 0 or
// larger than what follows the header.
absl::StatusOr<RtpPacket> ParseRtp(ByteView data);

// RFC 5761 §4 demultiplexing of RTP and RTCP on one port: version 2 and the second octet (M bit +
// PT) in 192-223 (RTCP packet types 192-223, e.g. SR=200 ... PSFB=206) means RTCP.
bool IsRtcpPacket(ByteView data);
bool IsRtpPacket(ByteView data);

}  // namespace refrtc::rtp
