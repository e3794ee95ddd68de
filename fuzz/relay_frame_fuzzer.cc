// libFuzzer target for the WebSocket relay's frame parser (RFC 6455 §5) and datagram header
// decoder (wasm/relay/PROTOCOL.md): any byte stream, in any chunking, must parse or fail with a
// close code — never crash, hang or read out of bounds — and whatever parses must round-trip.
// wasm/relay is not part of fuzzer builds (its CMakeLists is skipped with REFRTC_BUILD_FUZZERS)
// and fuzz/CMakeLists.txt links only refrtc_api + refrtc_testing, so ws_frame.cc (standard
// library only, no mbedTLS) is compiled into this target as a unity include.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "../wasm/relay/ws_frame.cc"

namespace {

using refrtc::relay::DatagramHeader;
using refrtc::relay::WsFrameParser;
using refrtc::relay::WsMessage;
using refrtc::relay::WsOpcode;

void CheckDatagram(const uint8_t* data, size_t size) {
  DatagramHeader h;
  const uint8_t* payload = nullptr;
  size_t payload_size = 0;
  std::string error;
  if (!refrtc::relay::DecodeDatagram(data, size, &h, &payload, &payload_size, &error)) {
    if (error.empty()) std::abort();  // every refusal carries a message for the client
    return;
  }
  if (payload < data || payload + payload_size != data + size) std::abort();
  std::vector<uint8_t> again;
  refrtc::relay::AppendDatagram(h, payload, payload_size, &again);
  if (again != std::vector<uint8_t>(data, data + size)) std::abort();
}

// Feeds `data` to a parser in chunks whose sizes come from `seed`; returns the messages and
// whether the parser failed.
std::vector<WsMessage> ParseChunked(bool from_client, const uint8_t* data, size_t size, uint8_t seed, bool* failed) {
  WsFrameParser p(from_client);
  std::vector<WsMessage> out;
  size_t pos = 0;
  uint32_t state = seed | 1u;
  *failed = false;
  while (pos < size) {
    state = state * 1103515245u + 12345u;
    size_t n = seed == 0 ? size - pos : 1 + (state >> 16) % 97;
    if (n > size - pos) n = size - pos;
    if (!p.Feed(data + pos, n, &out)) {
      *failed = true;
      if (p.error_code() == 0) std::abort();
      break;
    }
    pos += n;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t seed = data[0];
  const uint8_t* body = data + 1;
  const size_t body_size = size - 1;
  CheckDatagram(body, body_size);
  for (bool from_client : {true, false}) {
    bool failed_whole = false, failed_chunked = false;
    auto whole = ParseChunked(from_client, body, body_size, 0, &failed_whole);
    auto chunked = ParseChunked(from_client, body, body_size, seed, &failed_chunked);
    // Chunking never changes the outcome.
    if (failed_whole != failed_chunked || whole.size() != chunked.size()) std::abort();
    for (size_t i = 0; i < whole.size(); ++i) {
      if (whole[i].opcode != chunked[i].opcode || whole[i].payload != chunked[i].payload) std::abort();
      if (whole[i].payload.size() > refrtc::relay::kMaxMessageSize) std::abort();
      if (whole[i].opcode == WsOpcode::kBinary) CheckDatagram(whole[i].payload.data(), whole[i].payload.size());
      // A message re-encoded by the writer parses back to itself.
      const uint8_t mask[4] = {seed, 0x5a, 0xa5, 0x0f};
      std::vector<uint8_t> frame;
      refrtc::relay::AppendWsFrame(whole[i].opcode, whole[i].payload.data(), whole[i].payload.size(), &frame,
                                   true, from_client ? mask : nullptr);
      WsFrameParser again(from_client);
      std::vector<WsMessage> back;
      if (!again.Feed(frame.data(), frame.size(), &back) || back.size() != 1 || back[0].payload != whole[i].payload) {
        std::abort();
      }
    }
  }
  return 0;
}
