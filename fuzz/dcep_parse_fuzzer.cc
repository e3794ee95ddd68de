// RFC 8832 DCEP parser: arbitrary bytes must parse or be rejected without crashing, and anything
// accepted must serialize back to exactly the same bytes (the format has no slack).
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "sctp/dcep.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  refrtc::ByteView in(data, size);
  auto parsed = refrtc::sctp::ParseDcep(in);
  if (!parsed.ok()) return 0;
  refrtc::Bytes again;
  if (auto* open = std::get_if<refrtc::sctp::DcepOpen>(&*parsed)) {
    if (!refrtc::sctp::IsValidChannelType(open->channel_type)) std::abort();
    again = refrtc::sctp::Serialize(*open);
    auto reparsed = refrtc::sctp::ParseDcep(again);
    if (!reparsed.ok() || !(std::get<refrtc::sctp::DcepOpen>(*reparsed) == *open)) std::abort();
  } else {
    again = refrtc::sctp::SerializeAck();
  }
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  return 0;
}
