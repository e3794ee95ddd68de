// What every sans-IO component emits for the host to put on the wire.
#pragma once
#include <cstdint>

#include "util/bytes.h"
#include "util/socket_address.h"

namespace refrtc {

// Decision (TURN over TCP, RFC 8656 §3.1 / RFC 6062-style stream framing): the sans-IO boundary
// stays message-shaped and the engine keeps all protocol logic. A Transmit is a UDP datagram by
// default. With protocol kTcp it means "write these bytes, in order, on the host's TCP connection
// from the local address `from` (an address the host gave the engine; it names the interface,
// the connection's own port is the host's business) to `to`; connect it first if none is open".
// The engine does the stream framing itself (STUN messages back to back, ChannelData padded to
// 4 bytes) and reassembles what the host reads back through Endpoint::HandleStreamData in any
// chunking. Hosts without TCP (the virtual network by default, WASM) may drop kTcp transmits:
// the TURN allocation then times out like an unreachable server.
enum class TransportProtocol : uint8_t { kUdp = 0, kTcp = 1 };

struct Transmit {
  SocketAddress from;  // a local address the host gave the engine (its socket)
  SocketAddress to;
  Bytes data;
  TransportProtocol protocol = TransportProtocol::kUdp;
};

}  // namespace refrtc
