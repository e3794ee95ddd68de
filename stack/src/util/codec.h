// Small encodings shared by parsers and drivers: CRC-32 (STUN FINGERPRINT, RFC 8489 §14.7),
// base64 (driver protocol binaries), hex, SHA-256 (fingerprints, harness digests).
#pragma once
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "util/bytes.h"

namespace refrtc {

uint32_t Crc32(ByteView data);  // ISO-HDLC / IEEE 802.3, as used by STUN FINGERPRINT
std::string Base64Encode(ByteView data);
std::optional<Bytes> Base64Decode(absl::string_view text);
std::string HexEncode(ByteView data);  // lowercase, no separators
Bytes Sha256(ByteView data);
std::string Sha256Hex(ByteView data);

}  // namespace refrtc
