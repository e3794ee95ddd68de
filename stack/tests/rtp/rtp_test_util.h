// Helpers shared by the rtp module tests.
#pragma once
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "util/bytes.h"

namespace refrtc::rtp::testing {

// "80 60 12 34" -> bytes (spaces and newlines ignored).
inline Bytes FromHex(absl::string_view hex) {
  std::string clean = absl::StrReplaceAll(hex, {{" ", ""}, {"\n", ""}});
  std::string raw = absl::HexStringToBytes(clean);
  return Bytes(raw.begin(), raw.end());
}

inline std::string ToHex(const Bytes& b) { return absl::BytesToHexString(AsString(b)); }

}  // namespace refrtc::rtp::testing
