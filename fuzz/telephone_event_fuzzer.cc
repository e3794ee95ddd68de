// RFC 4733 telephone-event payloads and the receive-side decoder (rtp/telephone_event.h): never
// crashes; every payload that parses serializes back to its first 4 bytes (R bit kept); the decoder
// fed arbitrary (timestamp, payload, time) records reports each event at most once, only DTMF
// characters, and stays bounded.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>

#include "rtp/telephone_event.h"

using namespace refrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  if (auto e = rtp::ParseTelephoneEvent(in); e.ok()) {
    auto bytes = rtp::SerializeTelephoneEvent(*e);
    if (!bytes.ok() || bytes->size() != 4 || std::memcmp(bytes->data(), data, 4) != 0) abort();
  }
  if (auto all = rtp::ParseTelephoneEvents(in); all.ok() && all->size() * 4 != size) abort();
  if (size < 1) return 0;
  // Records: [ts delta (2)][time delta ms (1)][len (1) % 9][payload].
  rtp::TelephoneEventDecoder d(data[0] & 1 ? 48000 : 8000);
  Instant now = Instant{} + std::chrono::seconds(10);
  uint32_t ts = 1000;
  size_t i = 1, packets = 0, digits = 0;
  std::set<uint32_t> reported;
  while (i + 4 <= size) {
    ts += static_cast<uint32_t>(int16_t(data[i] << 8 | data[i + 1]));
    now += std::chrono::milliseconds(data[i + 2]);
    size_t len = std::min<size_t>(data[i + 3] % 9, size - i - 4);
    i += 4;
    d.OnPacket(ts, ByteView(data + i, len), now);
    i += len;
    ++packets;
    d.HandleTimeout(now);
    while (auto digit = d.PollDigit()) {
      ++digits;
      if (!rtp::DtmfCharToEvent(digit->tone)) abort();
      reported.insert(digit->rtp_timestamp);
    }
  }
  if (digits > packets) abort();  // at most one digit per packet
  if (auto dl = d.NextDeadline(); dl && *dl > now + rtp::TelephoneEventDecoder::kEventTimeout) abort();
  return 0;
}
