// STUN parser: never crashes; a message that parses re-serializes to something that parses back
// to an equal message (attributes verbatim, FINGERPRINT recomputed), and integrity checks on
// arbitrary bytes are safe.
#include <cstdint>
#include <cstdlib>

#include "stun/stun_message.h"

using namespace refrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  (void)stun::LooksLikeStun(in);
  (void)stun::VerifyMessageIntegrity(in, AsBytes("fuzz-password"));
  auto m = stun::StunMessage::Parse(in);
  if (!m.ok()) return 0;
  // Exercise every typed getter.
  (void)m->username();
  (void)m->software();
  (void)m->xor_mapped_address();
  (void)m->mapped_address();
  (void)m->error_code();
  (void)m->unknown_attributes();
  (void)m->priority();
  (void)m->ice_controlling();
  (void)m->ice_controlled();
  (void)m->UnknownComprehensionRequired();
  Bytes again = m->Serialize();
  auto m2 = stun::StunMessage::Parse(again);
  if (!m2.ok() || *m2 != *m) abort();
  // Re-signing yields a message whose integrity verifies.
  Bytes signed_msg = m->Serialize(AsBytes("k"), true);
  auto m3 = stun::StunMessage::Parse(signed_msg);
  if (signed_msg.size() <= 0xFFFF + 20 && m3.ok() && !stun::VerifyMessageIntegrity(signed_msg, AsBytes("k")).ok())
    abort();
  return 0;
}
