// Fuzzes SrtpSession's receive path (srtp/srtp_session.h), fresh sessions with fixed test keys per input.
//
// Input: byte 0 = mode, bytes 1..2 = mutation (position, xor mask), the rest = a packet.
//   mode bits 0..1: profile (AES_CM_128_HMAC_SHA1_80 / _32 / AEAD_AES_128_GCM)
//   mode bit 2:     RTCP instead of RTP
//   mode bit 3:     test-only "protect first" mode: the packet is protected by the matching outbound
//                   session (when it parses as RTP/RTCP), one byte is xor-ed with the mask (if non-zero),
//                   then unprotected. This gets past authentication into libsrtp's decrypt paths and
//                   checks two oracles: an unmodified packet must round-trip exactly; a modified one
//                   must be rejected.
//   otherwise:      the raw packet is unprotected (must be rejected or, never in practice, accepted).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "srtp/srtp_session.h"

using refrtc::Bytes;
using namespace refrtc::srtp;

namespace {

const uint8_t kKey[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                          0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
const uint8_t kSalt[14] = {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t mode = data[0];
  const uint8_t pos = data[1], mask = data[2];
  const Profile profiles[] = {Profile::kAes128CmHmacSha1_80, Profile::kAes128CmHmacSha1_32,
                              Profile::kAeadAes128Gcm, Profile::kAes128CmHmacSha1_80};
  const Profile profile = profiles[mode & 3];
  const bool rtcp = mode & 4;
  const bool protect_first = mode & 8;
  Bytes packet(data + 3, data + size);

  const refrtc::ByteView key(kKey, MasterKeyLength(profile));
  const refrtc::ByteView salt(kSalt, MasterSaltLength(profile));
  auto rx = SrtpSession::Create(profile, Direction::kUnprotect, key, salt);
  if (!rx.ok()) return 0;  // e.g. no GCM in the linked libsrtp build

  if (protect_first) {
    auto tx = SrtpSession::Create(profile, Direction::kProtect, key, salt);
    if (!tx.ok()) abort();
    const Bytes plain = packet;
    if (!(rtcp ? tx->ProtectRtcp(packet) : tx->ProtectRtp(packet)).ok()) return 0;  // not RTP/RTCP
    if (mask != 0) packet[pos % packet.size()] ^= mask;
    const absl::Status st = rtcp ? rx->UnprotectRtcp(packet) : rx->UnprotectRtp(packet);
    if (mask == 0 && (!st.ok() || packet != plain)) abort();  // round trip broken
    if (mask != 0 && st.ok()) abort();                        // forgery accepted
    return 0;
  }
  (void)(rtcp ? rx->UnprotectRtcp(packet) : rx->UnprotectRtp(packet));
  return 0;
}
