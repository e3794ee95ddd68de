// WebSocket framing (RFC 6455 §5) and the relay datagram header (PROTOCOL.md). See ws_frame.h.
#include "ws_frame.h"

#include <algorithm>
#include <cstring>

namespace refrtc::relay {
namespace {

bool IsControl(uint8_t opcode) { return (opcode & 0x8) != 0; }

bool IsKnownOpcode(uint8_t op) {
  // §5.2: 0x3-0x7 and 0xB-0xF are reserved; no extension is negotiated, so they fail the connection.
  return op == 0x0 || op == 0x1 || op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA;
}

// §7.4.1 / §7.4.2: codes an endpoint may put in a close frame it sends. 1004, 1005, 1006 and 1015
// are never sent on the wire; 0-999 and 1016-2999 (unassigned) are invalid; 3000-4999 are for
// libraries and applications.
bool IsValidWireCloseCode(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  if (code < 1000 || code > 1014) return false;
  return code != 1004 && code != 1005 && code != 1006;
}

}  // namespace

bool WsFrameParser::Fail(uint16_t code, const char* reason) {
  error_code_ = code;
  error_reason_ = reason;
  return false;
}

bool WsFrameParser::CheckFirstTwoBytes() {
  const uint8_t b0 = header_[0], b1 = header_[1];
  const uint8_t op = b0 & 0x0F;
  // §5.2 RSV1-3 MUST be 0 unless an extension defines them (none is negotiated).
  if (b0 & 0x70) return Fail(kCloseProtocolError, "reserved bits set");
  if (!IsKnownOpcode(op)) return Fail(kCloseProtocolError, "unknown opcode");
  const bool fin = (b0 & 0x80) != 0;
  const bool masked = (b1 & 0x80) != 0;
  const uint8_t len7 = b1 & 0x7F;
  // §5.1: a server MUST close the connection on an unmasked client frame (and a client on a
  // masked server frame).
  if (from_client_ && !masked) return Fail(kCloseProtocolError, "unmasked client frame");
  if (!from_client_ && masked) return Fail(kCloseProtocolError, "masked server frame");
  if (IsControl(op)) {
    // §5.5: control frames have a payload of at most 125 bytes and MUST NOT be fragmented.
    if (!fin) return Fail(kCloseProtocolError, "fragmented control frame");
    if (len7 > 125) return Fail(kCloseProtocolError, "control frame too long");
  } else if (op == 0x0) {
    // §5.4: a continuation frame only follows an unfinished data frame.
    if (!in_message_) return Fail(kCloseProtocolError, "continuation without a message");
  } else if (in_message_) {
    // §5.4: data frames of different messages MUST NOT be interleaved.
    return Fail(kCloseProtocolError, "new message before the previous one finished");
  }
  fin_ = fin;
  opcode_ = static_cast<WsOpcode>(op);
  masked_ = masked;
  header_need_ = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
  return true;
}

bool WsFrameParser::HeaderComplete() {
  const uint8_t len7 = header_[1] & 0x7F;
  size_t pos = 2;
  uint64_t len = len7;
  if (len7 == 126) {  // §5.2: 16-bit extended payload length
    len = static_cast<uint64_t>(header_[2]) << 8 | header_[3];
    pos = 4;
  } else if (len7 == 127) {  // 64-bit extended payload length; the most significant bit MUST be 0
    len = 0;
    for (int i = 0; i < 8; ++i) len = len << 8 | header_[2 + i];
    pos = 10;
    if (len >> 63) return Fail(kCloseProtocolError, "payload length has its top bit set");
  }
  if (masked_) std::memcpy(mask_, header_ + pos, 4);
  if (IsControl(static_cast<uint8_t>(opcode_))) {
    control_.clear();
  } else {
    if (opcode_ != WsOpcode::kContinuation) {
      message_opcode_ = opcode_;
      message_.clear();
    }
    // PROTOCOL.md: frames and reassembled messages are limited in size (close 1009, §7.4.1).
    if (len > max_message_ || message_.size() + len > max_message_) {
      return Fail(kCloseTooBig, "message too big");
    }
    message_.reserve(message_.size() + static_cast<size_t>(len));
  }
  payload_len_ = len;
  payload_have_ = 0;
  in_payload_ = true;
  return true;
}

bool WsFrameParser::FinishFrame(std::vector<WsMessage>* out) {
  in_payload_ = false;
  header_have_ = 0;
  header_need_ = 2;
  const uint8_t op = static_cast<uint8_t>(opcode_);
  if (IsControl(op)) {
    if (opcode_ == WsOpcode::kClose) {
      // §5.5.1: an optional body of a 2-byte status code then a UTF-8 reason.
      if (control_.size() == 1) return Fail(kCloseProtocolError, "close frame with a 1-byte body");
      if (control_.size() >= 2) {
        const uint16_t code = static_cast<uint16_t>(control_[0] << 8 | control_[1]);
        if (!IsValidWireCloseCode(code)) return Fail(kCloseProtocolError, "invalid close code");
        if (!IsValidUtf8(control_.data() + 2, control_.size() - 2)) {
          return Fail(kCloseInvalidData, "close reason is not UTF-8");
        }
      }
    }
    out->push_back(WsMessage{opcode_, std::move(control_)});
    control_.clear();
    return true;
  }
  if (!fin_) {
    in_message_ = true;  // §5.4: more fragments follow
    return true;
  }
  in_message_ = false;
  // §8.1: a text message must be valid UTF-8, else the connection fails with 1007.
  if (message_opcode_ == WsOpcode::kText && !IsValidUtf8(message_.data(), message_.size())) {
    return Fail(kCloseInvalidData, "text message is not UTF-8");
  }
  out->push_back(WsMessage{message_opcode_, std::move(message_)});
  message_.clear();
  return true;
}

bool WsFrameParser::Feed(const uint8_t* data, size_t size, std::vector<WsMessage>* out) {
  if (failed()) return false;
  size_t pos = 0;
  while (pos < size) {
    if (!in_payload_) {
      const size_t n = std::min(header_need_ - header_have_, size - pos);
      std::memcpy(header_ + header_have_, data + pos, n);
      header_have_ += n;
      pos += n;
      if (header_have_ < header_need_) break;
      if (header_have_ == 2) {
        if (!CheckFirstTwoBytes()) return false;
        if (header_need_ > 2) continue;
      }
      if (!HeaderComplete()) return false;
      if (payload_len_ == 0 && !FinishFrame(out)) return false;
      continue;
    }
    // §5.3: payload byte i is unmasked with mask byte i mod 4.
    const size_t n = static_cast<size_t>(std::min<uint64_t>(payload_len_ - payload_have_, size - pos));
    std::vector<uint8_t>& dst = IsControl(static_cast<uint8_t>(opcode_)) ? control_ : message_;
    const size_t at = dst.size();
    dst.insert(dst.end(), data + pos, data + pos + n);
    if (masked_) {
      for (size_t i = 0; i < n; ++i) dst[at + i] ^= mask_[(payload_have_ + i) & 3];
    }
    payload_have_ += n;
    pos += n;
    if (payload_have_ == payload_len_ && !FinishFrame(out)) return false;
  }
  return true;
}

void AppendWsFrame(WsOpcode opcode, const uint8_t* payload, size_t size, std::vector<uint8_t>* out,
                   bool fin, const uint8_t* mask) {
  // §5.2 base framing: FIN, RSV=0, opcode; MASK bit and the shortest length encoding.
  out->push_back(static_cast<uint8_t>((fin ? 0x80 : 0) | static_cast<uint8_t>(opcode)));
  const uint8_t mask_bit = mask ? 0x80 : 0;
  if (size <= 125) {
    out->push_back(static_cast<uint8_t>(mask_bit | size));
  } else if (size <= 0xFFFF) {
    out->push_back(mask_bit | 126);
    out->push_back(static_cast<uint8_t>(size >> 8));
    out->push_back(static_cast<uint8_t>(size));
  } else {
    out->push_back(mask_bit | 127);
    const uint64_t len = size;
    for (int i = 7; i >= 0; --i) out->push_back(static_cast<uint8_t>(len >> (8 * i)));
  }
  const size_t at = out->size();
  if (mask) out->insert(out->end(), mask, mask + 4);
  out->insert(out->end(), payload, payload + size);
  if (mask) {
    uint8_t* p = out->data() + at + 4;
    for (size_t i = 0; i < size; ++i) p[i] ^= mask[i & 3];
  }
}

std::vector<uint8_t> WsFrame(WsOpcode opcode, const std::string& payload, bool fin, const uint8_t* mask) {
  std::vector<uint8_t> out;
  AppendWsFrame(opcode, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), &out, fin, mask);
  return out;
}

std::vector<uint8_t> WsCloseFrame(uint16_t code, const std::string& reason) {
  // §5.5: control payloads are ≤ 125 bytes: 2 for the code, ≤ 123 for the reason, cut at a UTF-8
  // character boundary.
  size_t n = std::min<size_t>(reason.size(), 123);
  while (n > 0 && n < reason.size() && (static_cast<uint8_t>(reason[n]) & 0xC0) == 0x80) --n;
  std::vector<uint8_t> body;
  body.push_back(static_cast<uint8_t>(code >> 8));
  body.push_back(static_cast<uint8_t>(code));
  body.insert(body.end(), reason.begin(), reason.begin() + n);
  std::vector<uint8_t> out;
  AppendWsFrame(WsOpcode::kClose, body.data(), body.size(), &out);
  return out;
}

bool IsValidUtf8(const uint8_t* s, size_t n) {
  // RFC 3629 §4 syntax: shortest forms only, no UTF-16 surrogates (U+D800-DFFF), ≤ U+10FFFF.
  size_t i = 0;
  while (i < n) {
    const uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (n - i < len) return false;
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

bool DecodeDatagram(const uint8_t* data, size_t size, DatagramHeader* header, const uint8_t** payload,
                    size_t* payload_size, std::string* error) {
  // PROTOCOL.md "Datagram": id, family, port (BE), 4|16 address bytes, payload.
  if (size < 2) {
    *error = "short datagram header";
    return false;
  }
  const uint8_t family = data[1];
  if (family != 4 && family != 6) {
    *error = "bad address family " + std::to_string(family) + " (expected 4 or 6)";
    return false;
  }
  const size_t header_size = DatagramHeaderSize(family);
  if (size < header_size) {
    *error = "short datagram header";
    return false;
  }
  if (size - header_size > kMaxUdpPayload) {
    *error = "payload too large (" + std::to_string(size - header_size) + " > 65507 bytes)";
    return false;
  }
  header->socket_id = data[0];
  header->family = family;
  header->port = static_cast<uint16_t>(data[2] << 8 | data[3]);
  header->addr.fill(0);
  std::memcpy(header->addr.data(), data + 4, family == 6 ? 16 : 4);
  *payload = data + header_size;
  *payload_size = size - header_size;
  return true;
}

void AppendDatagram(const DatagramHeader& header, const uint8_t* payload, size_t size,
                    std::vector<uint8_t>* out) {
  out->push_back(header.socket_id);
  out->push_back(header.family);
  out->push_back(static_cast<uint8_t>(header.port >> 8));
  out->push_back(static_cast<uint8_t>(header.port));
  out->insert(out->end(), header.addr.begin(), header.addr.begin() + (header.family == 6 ? 16 : 4));
  out->insert(out->end(), payload, payload + size);
}

}  // namespace refrtc::relay
