// RFC 7983 §7 demultiplexing of one UDP 5-tuple carrying STUN, DTLS and (S)RTP/RTCP.
#pragma once
#include "util/bytes.h"
#include "util/socket_address.h"

namespace refrtc::engine {

enum class PacketKind { kStun, kDtls, kRtp, kUnknown };

// First byte: 0..3 STUN, 20..63 DTLS, 128..191 RTP/RTCP (SRTP/SRTCP on the DTLS 5-tuple,
// RFC 5764 §5.1.2; TransportStack::HandleSrtp); everything else is dropped
// (16..19 ZRTP and 64..79 TURN channels are not used by refrtc).
inline PacketKind Classify(ByteView packet) {
  if (packet.empty()) return PacketKind::kUnknown;
  uint8_t b = packet[0];
  if (b <= 3) return PacketKind::kStun;
  if (b >= 20 && b <= 63) return PacketKind::kDtls;
  if (b >= 128 && b <= 191) return PacketKind::kRtp;
  return PacketKind::kUnknown;
}

// Multicast DNS (RFC 6762) shares the engine's input but is plain DNS: its first byte is the
// high byte of the query id, 0 in mDNS (§18.1), which RFC 7983 would take for STUN. It is
// therefore routed BEFORE the first-byte demux, by address:
//  * remote port 5353: every mDNS response comes from port 5353 (RFC 6762 §6), or
//  * local port 5353 on an any/multicast address: the host's shared mDNS socket
//    (0.0.0.0:5353 / [::]:5353, or the group itself in the virtual network).
// A STUN message (RFC 5389 §6: top two bits 0 and the magic cookie 0x2112A442 at offset 4) is
// never mDNS, whatever its ports, so a peer whose candidate happens to use port 5353 still gets
// ICE. (A DNS header with those bytes would claim 0x2112 questions and 0xA442 answers — at least
// 500 KB, more than a UDP datagram — so no real mDNS message is lost by this rule.)
inline bool LooksLikeStun(ByteView packet) {
  return packet.size() >= 20 && (packet[0] & 0xc0) == 0 && packet[4] == 0x21 && packet[5] == 0x12 &&
         packet[6] == 0xa4 && packet[7] == 0x42;
}
inline bool IsMulticast(const SocketAddress& a) {
  return (a.is_v4() && (a.ip_bytes()[0] & 0xf0) == 0xe0) || (a.is_v6() && a.ip_bytes()[0] == 0xff);
}
inline bool IsMdns(ByteView packet, const SocketAddress& local, const SocketAddress& remote) {
  constexpr uint16_t kMdnsPort = 5353;
  bool mdns_socket = local.port() == kMdnsPort && (local.is_any() || IsMulticast(local));
  if (remote.port() != kMdnsPort && !mdns_socket) return false;
  return !LooksLikeStun(packet);
}

}  // namespace refrtc::engine
