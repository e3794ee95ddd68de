// RTP parser (RFC 3550 §5.1, RFC 8285): never crashes; every packet that parses serializes, the
// serialization parses back to equal fields, and serialization is canonical (idempotent, never
// longer than the input).
#include <cstdint>
#include <cstdlib>

#include "rtp/rtp_packet.h"

using namespace refrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  (void)rtp::IsRtpPacket(in);
  (void)rtp::IsRtcpPacket(in);
  auto p = rtp::ParseRtp(in);
  if (!p.ok()) return 0;
  (void)p->HeaderSize();
  (void)p->FindExtension(1);
  auto bytes = p->Serialize();
  if (!bytes.ok()) abort();
  if (bytes->size() > size) abort();
  if (bytes->size() != p->HeaderSize() + p->payload.size() + p->padding_size) abort();
  auto p2 = rtp::ParseRtp(*bytes);
  if (!p2.ok() || *p2 != *p) abort();
  auto bytes2 = p2->Serialize();
  if (!bytes2.ok() || *bytes2 != *bytes) abort();
  // Adding an element keeps the packet encodable and parseable.
  if (p->extension_form() != rtp::ExtensionForm::kGeneric) {
    const uint8_t id = size > 0 ? static_cast<uint8_t>(data[0] | 1) : 1;
    if (!p->SetExtension(id, in.first(size < 20 ? size : 20)).ok()) abort();
    auto b3 = p->Serialize();
    if (!b3.ok()) abort();
    auto p3 = rtp::ParseRtp(*b3);
    if (!p3.ok() || *p3 != *p) abort();
  }
  return 0;
}
