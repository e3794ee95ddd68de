#include "util/codec.h"

#include <array>

#include "mbedtls/base64.h"
#include "mbedtls/sha256.h"

namespace refrtc {
namespace {
std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
}  // namespace

uint32_t Crc32(ByteView data) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string Base64Encode(ByteView data) {
  size_t olen = 0;
  mbedtls_base64_encode(nullptr, 0, &olen, data.data(), data.size());
  std::string out(olen, '\0');
  if (mbedtls_base64_encode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &olen,
                            data.data(), data.size()) != 0)
    return "";
  out.resize(olen);  // olen excludes the terminating NUL
  return out;
}

std::optional<Bytes> Base64Decode(absl::string_view text) {
  size_t olen = 0;
  auto* in = reinterpret_cast<const unsigned char*>(text.data());
  int rc = mbedtls_base64_decode(nullptr, 0, &olen, in, text.size());
  if (rc != 0 && rc != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL) return std::nullopt;
  Bytes out(olen);
  if (mbedtls_base64_decode(out.data(), out.size(), &olen, in, text.size()) != 0) return std::nullopt;
  out.resize(olen);
  return out;
}

std::string HexEncode(ByteView data) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(data.size() * 2);
  for (uint8_t b : data) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

Bytes Sha256(ByteView data) {
  Bytes out(32);
  mbedtls_sha256_ret(data.data(), data.size(), out.data(), 0);
  return out;
}

std::string Sha256Hex(ByteView data) { return HexEncode(Sha256(data)); }

}  // namespace refrtc
