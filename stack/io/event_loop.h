// Native host: a single-threaded epoll loop that drives sans-IO Endpoints with real UDP sockets
// and std::chrono::steady_clock. Not built for WASM (REFRTC_STACK_ONLY).
//
// Contract with the engine (refrtc/endpoint.h): after every input — a batch of datagrams, an fd
// callback, a timer — the loop drains PollTransmit() of every attached endpoint, runs the
// after-iteration hooks, drains again (hooks may call the API), then re-reads PollTimeout() of
// every endpoint and sleeps in epoll_wait until the earliest deadline (rounded UP to whole
// milliseconds so a deadline is never reached early) or indefinitely when no endpoint has one.
//
// mDNS (RFC 6762): a Transmit whose `to` is 224.0.0.251:5353 or [ff02::fb]:5353 (the engine's
// .local candidate resolver, see mdns/resolver.h) is sent through a shared, lazily created mDNS
// socket of that family — bound to port 5353 with SO_REUSEADDR/SO_REUSEPORT (other responders
// and browsers on this machine share the port; if the bind still fails, an ephemeral port is
// used and only unicast "legacy" replies, RFC 6762 §6.7, can arrive), joined to the group on
// every multicast-capable interface that is up, IP_MULTICAST_LOOP on (so responders on this
// machine — e.g. Chromium's — hear us and we hear them), TTL/hop limit 255 (§11), one copy sent
// per interface. Datagrams received on it go to every attached endpoint that has sent an mDNS
// query, with `local` = the mDNS socket's address (0.0.0.0:5353 / [::]:5353). Nothing is ever
// sent to another multicast group by this path.
//
// TCP (TURN over TCP, see util/transmit.h): a Transmit with protocol kTcp is written on a TCP
// connection keyed by (endpoint, from, to), opened on first use — non-blocking connect from
// from's IP (ephemeral port) — with the bytes buffered (bounded, 4 MiB) until it is writable.
// Bytes read from it go to Endpoint::HandleStreamData(bytes, from, to); a failed connect, a reset
// or the remote's close to HandleStreamClosed(from, to), after which the connection is forgotten
// (a later kTcp Transmit opens a new one). Detach closes the endpoint's connections silently.
//
// Clock note: usrsctp keeps a process-global timer clock advanced from the `now` the engines are
// fed; every engine in one process must therefore see one monotonic clock. One EventLoop per
// process (or several, all using steady_clock) satisfies that; never mix an EventLoop and a
// testing::VirtualNetwork driving engines concurrently in one process.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "refrtc/endpoint.h"
#include "util/socket_address.h"
#include "util/time.h"

namespace refrtc::io {

class EventLoop {
 public:
  struct Stats {
    uint64_t datagrams_received = 0;
    uint64_t bytes_received = 0;
    uint64_t datagrams_sent = 0;
    uint64_t bytes_sent = 0;
    uint64_t send_dropped = 0;      // EAGAIN/ENOBUFS: dropped like a full UDP queue would
    uint64_t send_errors = 0;       // other sendto failures (unreachable, EMSGSIZE, ...)
    uint64_t send_no_socket = 0;    // Transmit.from matched no socket of that family
    uint64_t recv_truncated = 0;    // datagrams larger than the 64 KiB buffer (dropped)
    uint64_t timeouts_fired = 0;
    uint64_t mdns_sent = 0;          // multicast copies sent (one per interface)
    uint64_t mdns_received = 0;      // datagrams read from the mDNS sockets
    uint64_t mdns_socket_errors = 0; // mDNS socket creation failures (the query is dropped)
    uint64_t tcp_connects = 0;       // TCP connections opened for kTcp transmits
    uint64_t tcp_closed = 0;         // ... that failed or were closed by the remote
    uint64_t tcp_bytes_sent = 0, tcp_bytes_received = 0;
    uint64_t tcp_dropped = 0;        // kTcp transmits dropped (buffer full, connect impossible)
  };

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Binds one non-blocking UDP socket per address (port 0 = ephemeral; IPV6_V6ONLY on IPv6;
  // SO_RCVBUF/SO_SNDBUF ~4 MiB), registers `ep` and calls ep->AddLocalAddress(bound) for each.
  // Returns the bound addresses (real ports). All-or-nothing: on failure nothing is attached.
  // Attaching an endpoint that is already attached adds sockets to it.
  absl::StatusOr<std::vector<SocketAddress>> Attach(Endpoint* ep,
                                                    const std::vector<SocketAddress>& bind_addresses);
  // Closes the endpoint's sockets and forgets it. Safe to call from any callback/hook.
  void Detach(Endpoint* ep);

  // Watches `fd` for readability (level-triggered); the callback runs on the loop thread and is
  // followed by a Flush. One callback per fd (a second WatchFd replaces it).
  void WatchFd(int fd, std::function<void()> on_readable);
  void UnwatchFd(int fd);

  // Hooks run after every iteration's transmit drain (the driver polls W3C events here).
  void AddAfterIterationHook(std::function<void()> hook);

  // Requests a Flush from API calls made outside loop callbacks (e.g. before Run()).
  // Thread-safe (eventfd), though the loop itself is single-threaded.
  void Wake();

  // Drains transmits, runs hooks, recomputes deadlines now (also done automatically).
  void Flush();

  void Run();  // until Stop()
  void RunFor(Duration d);
  // Runs until done() is true (checked after every iteration) or `max` elapsed; returns done().
  bool RunUntil(std::function<bool()> done, Duration max);
  void Stop();

  Instant Now() const;
  const Stats& stats() const { return stats_; }

 private:
  struct Socket {
    int fd = -1;
    SocketAddress local;
    unsigned scope_id = 0;
    uint64_t source_id = 0;
  };
  struct EndpointState {
    Endpoint* ep = nullptr;
    std::vector<Socket> sockets;
    bool dead = false;
    bool mdns_member = false;  // sent an mDNS query: receives the mDNS sockets' datagrams
  };
  struct MdnsSocket {
    int fd = -1;
    bool tried = false;  // creation is attempted once
    SocketAddress local;
    std::vector<unsigned> ifindexes;  // interfaces joined (and sent on)
    uint64_t source_id = 0;
  };
  struct TcpConn {
    int fd = -1;
    EndpointState* st = nullptr;
    SocketAddress local, remote;  // local = the Transmit's `from` (the engine's name for it)
    bool connecting = true;
    bool want_write = false;  // EPOLLOUT registered
    std::vector<uint8_t> out;
    size_t out_pos = 0;
    uint64_t source_id = 0;
  };
  struct Source {
    enum Kind { kSocket, kFd, kWake, kMdns, kTcp } kind = kSocket;
    TcpConn* tcp = nullptr;
    EndpointState* ep = nullptr;
    int fd = -1;
    std::shared_ptr<std::function<void()>> callback;
  };

  // One epoll_wait + dispatch + timers + Flush. `max_wait` < 0 = no cap.
  void Iterate(Duration max_wait, bool has_cap);
  void ReadSocket(EndpointState* st, int fd, const SocketAddress& local);
  void FireTimers();
  void DrainTransmits();
  void SendOne(EndpointState* st, const Transmit& t);
  void SendMdns(EndpointState* st, const Transmit& t);
  MdnsSocket* OpenMdnsSocket(bool v6);
  void ReadMdns(bool v6);
  void SendTcp(EndpointState* st, const Transmit& t);
  void FlushTcp(TcpConn* c);
  void OnTcpEvent(TcpConn* c, uint32_t events);
  void CloseTcp(TcpConn* c, bool notify);
  void RecomputeDeadline();
  void Sweep();
  EndpointState* Find(Endpoint* ep);
  uint64_t AddSource(int fd, Source src);

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool stop_ = false;
  bool in_flush_ = false;
  uint64_t next_source_id_ = 1;
  std::vector<std::unique_ptr<EndpointState>> endpoints_;
  std::unordered_map<uint64_t, Source> sources_;
  std::unordered_map<int, uint64_t> fd_watch_ids_;
  std::vector<std::function<void()>> hooks_;
  std::optional<Instant> deadline_;  // earliest PollTimeout over all endpoints
  MdnsSocket mdns_[2];  // [0] IPv4, [1] IPv6
  std::unordered_map<uint64_t, std::unique_ptr<TcpConn>> tcp_;  // by source id

  // Reused receive buffers for recvmmsg (kBatch datagrams x 64 KiB).
  static constexpr int kBatch = 32;
  static constexpr size_t kMaxDatagram = 65536;
  struct RxStorage;
  std::unique_ptr<RxStorage> rx_storage_;

  Stats stats_;
};

}  // namespace refrtc::io
