// RTCP compound parser (RFC 3550 §6, RFC 4585, RFC 5104, REMB, transport-cc): never crashes;
// every typed packet that parses re-serializes (SR/RR/unknown only when their raw tails are
// 32-bit aligned) to a packet that parses back to an equal value.
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "rtp/rtcp_packet.h"

using namespace refrtc;
using namespace refrtc::rtp;

namespace {

bool MustSerialize(const RtcpPacket& p) {
  if (auto* sr = std::get_if<SenderReport>(&p)) return sr->profile_extension.size() % 4 == 0;
  if (auto* rr = std::get_if<ReceiverReport>(&p)) return rr->profile_extension.size() % 4 == 0;
  if (auto* u = std::get_if<UnknownRtcp>(&p)) return u->body.size() % 4 == 0;
  return true;
}

void RoundTrip(const RtcpPacket& p) {
  Bytes out;
  absl::Status st = AppendRtcpPacket(p, &out);
  if (!st.ok()) {
    if (MustSerialize(p) || !out.empty()) abort();
    return;
  }
  auto blocks = SplitRtcpCompound(out);
  if (!blocks.ok() || blocks->size() != 1) abort();
  auto again = ParseRtcpBlock((*blocks)[0]);
  if (!again.ok() || !(*again == p)) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  for (bool allow_inner_padding : {false, true}) {
    auto blocks = SplitRtcpCompound(in, allow_inner_padding);
    auto compound = ParseRtcpCompound(in, allow_inner_padding);
    if (!blocks.ok()) {
      if (compound.ok()) abort();
      continue;
    }
    bool all_ok = true;
    for (const auto& b : *blocks) {
      if (b.body.size() + 4 > b.raw.size()) abort();
      // Every individual parser on every block (wrong types must be rejected, not misread).
      (void)ParseSenderReport(b);
      (void)ParseReceiverReport(b);
      (void)ParseSdes(b);
      (void)ParseBye(b);
      (void)ParseNack(b);
      (void)ParsePli(b);
      (void)ParseFir(b);
      (void)ParseRemb(b);
      (void)ParseTransportFeedback(b);
      auto p = ParseRtcpBlock(b);
      if (!p.ok()) {
        all_ok = false;
        continue;
      }
      RoundTrip(*p);
    }
    if (all_ok != compound.ok()) abort();
    if (compound.ok() && compound->size() != blocks->size()) abort();
  }
  return 0;
}
