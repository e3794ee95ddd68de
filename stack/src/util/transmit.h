// What every sans-IO component emits for the host to put on the wire.
#pragma once
#include "util/bytes.h"
#include "util/socket_address.h"

namespace refrtc {

struct Transmit {
  SocketAddress from;  // a local address the host gave the engine (its socket)
  SocketAddress to;
  Bytes data;
};

}  // namespace refrtc
