// WebSocket framing (RFC 6455 §5) and the relay's datagram header codec (wasm/relay/PROTOCOL.md).
// Pure functions and an incremental parser over bytes: no sockets, no mbedTLS, only the standard
// library, so the fuzzer can compile this file into itself (fuzz/relay_frame_fuzzer.cc).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace refrtc::relay {

// RFC 6455 §5.2 opcodes.
enum class WsOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// RFC 6455 §7.4.1 status codes used by the relay.
constexpr uint16_t kCloseNormal = 1000;
constexpr uint16_t kCloseGoingAway = 1001;
constexpr uint16_t kCloseProtocolError = 1002;
constexpr uint16_t kCloseInvalidData = 1007;  // e.g. a text message that is not UTF-8 (§8.1)
constexpr uint16_t kCloseTooBig = 1009;
constexpr uint16_t kCloseInternalError = 1011;

// PROTOCOL.md: frames (and reassembled messages) carry at most 65536 + 20 bytes of payload.
constexpr size_t kMaxMessageSize = 65536 + 20;
// PROTOCOL.md: the UDP payload of one datagram is 0 – 65507 bytes.
constexpr size_t kMaxUdpPayload = 65507;

// One complete message: a reassembled data message (text/binary) or a control frame.
struct WsMessage {
  WsOpcode opcode = WsOpcode::kBinary;  // kText, kBinary, kClose, kPing or kPong
  std::vector<uint8_t> payload;         // unmasked
};

// Incremental parser for one direction of a WebSocket connection. Accepts the bytes in any
// chunking; keeps at most one frame header and one message (≤ max_message bytes) buffered.
class WsFrameParser {
 public:
  // from_client: parses frames sent by a client, which MUST be masked (the relay's side); a
  // server's frames MUST NOT be (RFC 6455 §5.1). Either violation fails with 1002.
  explicit WsFrameParser(bool from_client = true, size_t max_message = kMaxMessageSize)
      : from_client_(from_client), max_message_(max_message) {}

  // Consumes `size` bytes and appends every message completed by them to *out. Returns false on
  // a protocol violation: error_code() (a §7.4.1 close code) and error_reason() say what; the
  // parser then stays failed and ignores further input.
  bool Feed(const uint8_t* data, size_t size, std::vector<WsMessage>* out);

  bool failed() const { return error_code_ != 0; }
  uint16_t error_code() const { return error_code_; }
  const std::string& error_reason() const { return error_reason_; }

 private:
  bool Fail(uint16_t code, const char* reason);
  bool CheckFirstTwoBytes();  // §5.2 checks possible on the first two bytes; false on error
  bool HeaderComplete();      // parses header_ once it holds the whole header; false on error
  bool FinishFrame(std::vector<WsMessage>* out);

  const bool from_client_;
  const size_t max_message_;
  // Current frame.
  uint8_t header_[14] = {};  // 2 + up to 8 length bytes + 4 mask bytes
  size_t header_have_ = 0;
  size_t header_need_ = 2;
  bool in_payload_ = false;
  bool fin_ = false;
  WsOpcode opcode_ = WsOpcode::kBinary;
  bool masked_ = false;
  uint8_t mask_[4] = {};
  uint64_t payload_len_ = 0;
  uint64_t payload_have_ = 0;
  std::vector<uint8_t> control_;  // payload of the current control frame
  // Fragmented data message being reassembled (§5.4).
  bool in_message_ = false;
  WsOpcode message_opcode_ = WsOpcode::kBinary;
  std::vector<uint8_t> message_;
  uint16_t error_code_ = 0;
  std::string error_reason_;
};

// Appends one frame (RFC 6455 §5.2) to *out. `mask` non-null masks the payload with those 4 bytes
// (client → server frames); the relay itself sends unmasked frames (§5.1).
void AppendWsFrame(WsOpcode opcode, const uint8_t* payload, size_t size, std::vector<uint8_t>* out,
                   bool fin = true, const uint8_t* mask = nullptr);
std::vector<uint8_t> WsFrame(WsOpcode opcode, const std::string& payload, bool fin = true,
                             const uint8_t* mask = nullptr);
// A close frame with a status code and a UTF-8 reason (§5.5.1), truncated to fit 125 bytes.
std::vector<uint8_t> WsCloseFrame(uint16_t code, const std::string& reason);

// RFC 3629 UTF-8 validity (shortest form, no surrogates, ≤ U+10FFFF), for text messages (§8.1).
bool IsValidUtf8(const uint8_t* data, size_t size);

// ---- Datagram header (PROTOCOL.md "Datagram") -------------------------------------------------
//   byte 0 socket id, byte 1 family (4|6), bytes 2-3 port (big endian), 4|16 address bytes, payload.
struct DatagramHeader {
  uint8_t socket_id = 0;
  uint8_t family = 4;               // 4 or 6
  uint16_t port = 0;
  std::array<uint8_t, 16> addr{};   // first 4 bytes used for family 4 (network order)
};
constexpr size_t DatagramHeaderSize(uint8_t family) { return family == 6 ? 20 : 8; }

// Decodes a binary message. On success sets *header and the payload span (pointing into `data`);
// on failure returns false and sets *error to the text for the {"type":"error"} message.
// The socket id range is the caller's check (it knows how many sockets exist).
bool DecodeDatagram(const uint8_t* data, size_t size, DatagramHeader* header, const uint8_t** payload,
                    size_t* payload_size, std::string* error);
// Appends header + payload to *out (the payload size is the caller's responsibility).
void AppendDatagram(const DatagramHeader& header, const uint8_t* payload, size_t size,
                    std::vector<uint8_t>* out);

}  // namespace refrtc::relay
