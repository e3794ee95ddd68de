// RFC 7983 §7 demultiplexing of one UDP 5-tuple carrying STUN, DTLS and (S)RTP/RTCP.
#pragma once
#include "util/bytes.h"

namespace refrtc::engine {

enum class PacketKind { kStun, kDtls, kRtp, kUnknown };

// First byte: 0..3 STUN, 20..63 DTLS, 128..191 RTP/RTCP; everything else is dropped
// (16..19 ZRTP and 64..79 TURN channels are not used by refrtc).
inline PacketKind Classify(ByteView packet) {
  if (packet.empty()) return PacketKind::kUnknown;
  uint8_t b = packet[0];
  if (b <= 3) return PacketKind::kStun;
  if (b >= 20 && b <= 63) return PacketKind::kDtls;
  if (b >= 128 && b <= 191) return PacketKind::kRtp;
  return PacketKind::kUnknown;
}

}  // namespace refrtc::engine
