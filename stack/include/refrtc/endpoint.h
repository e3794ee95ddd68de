// The sans-IO boundary every host drives (native loop, WASM host, virtual-time network, fuzzers).
// An Endpoint never opens sockets, reads clocks or sleeps: the host feeds it datagrams and time,
// and drains what it wants to send plus the one deadline at which it wants handle_timeout().
#pragma once
#include <optional>

#include "util/bytes.h"
#include "util/socket_address.h"
#include "util/time.h"
#include "util/transmit.h"

namespace refrtc {

class Endpoint {
 public:
  virtual ~Endpoint() = default;

  // A local socket address the host owns for this endpoint (one per interface it bound).
  // ICE turns each into a host candidate. Call before gathering starts (before
  // setLocalDescription); addresses added later are gathered as they come.
  virtual void AddLocalAddress(const SocketAddress& local) = 0;

  // One received datagram. `local` is the socket it arrived on, `remote` its source.
  virtual void HandleReceive(ByteView packet, const SocketAddress& local,
                             const SocketAddress& remote, Instant now) = 0;

  // Bytes read from the TCP connection the host opened for a Transmit with protocol kTcp from
  // `local` to `remote` (util/transmit.h): any chunking, in stream order. Hosts without TCP never
  // call it (default: ignored).
  virtual void HandleStreamData(ByteView bytes, const SocketAddress& local, const SocketAddress& remote,
                                Instant now) {}
  // That connection failed to connect, was reset or closed by the remote. A later kTcp Transmit
  // for the same (local, remote) opens a new connection.
  virtual void HandleStreamClosed(const SocketAddress& local, const SocketAddress& remote, Instant now) {}

  // Called when `now` has reached the deadline from PollTimeout() (calling it early is harmless).
  virtual void HandleTimeout(Instant now) = 0;

  // Next datagram to send, or nullopt when none is queued. Hosts drain this after every input.
  virtual std::optional<Transmit> PollTransmit() = 0;

  // The earliest instant at which HandleTimeout must be called; nullopt = no timer needed.
  virtual std::optional<Instant> PollTimeout() = 0;
};

}  // namespace refrtc
