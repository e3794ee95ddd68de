// The relay's event loop. See relay_server.h and PROTOCOL.md.
#include "relay_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "nlohmann/json.hpp"
#include "ws_frame.h"
#include "ws_handshake.h"

namespace refrtc::relay {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kCloseTimeout = std::chrono::seconds(5);
// Connections still in the HTTP handshake beyond the open ones; more are closed on accept.
constexpr size_t kMaxPendingHandshakes = 64;
constexpr int kMaxReadsPerWakeup = 16;      // TCP reads of 64 KiB per readiness event
constexpr int kMaxDatagramsPerWakeup = 64;  // UDP datagrams per readiness event
constexpr int kUdpSocketBuffer = 1 << 20;

std::string ErrnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

struct RelayServer::Client {
  enum class State { kHandshake, kOpen, kClosing };
  struct Udp {
    int fd = -1;
    IpAddress local;
  };
  uint64_t id = 0;
  int fd = -1;
  std::string peer;
  State state = State::kHandshake;
  std::string head;                 // HTTP request bytes until the head is complete
  WsFrameParser parser{/*from_client=*/true};
  std::vector<uint8_t> out;         // queued bytes toward the client; out[out_off..] pending
  size_t out_off = 0;
  std::vector<Udp> udp;
  bool epoll_out = false;
  bool write_shut = false;
  bool counted_open = false;
  bool dirty = false;
  bool dead = false;
  Clock::time_point deadline;
  uint64_t to_udp = 0, to_client = 0, dropped = 0;
  size_t pending() const { return out.size() - out_off; }
};

// ---- addresses ---------------------------------------------------------------------------------

uint16_t IpAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

std::string IpAddress::Ip() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

std::string IpAddress::HostPort() const {
  const std::string ip = Ip();
  return (family() == AF_INET6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port());
}

std::optional<IpAddress> ParseIp(const std::string& text) {
  std::string host = text;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  IpAddress a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    a.len = sizeof(sockaddr_in);
    return a;
  }
  a.ss = {};
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    a.len = sizeof(sockaddr_in6);
    return a;
  }
  return std::nullopt;
}

std::optional<IpAddress> ParseHostPort(const std::string& text) {
  std::string host, port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(0, close + 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return std::nullopt;  // bare v6 needs []
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const unsigned long p = std::stoul(port);
  if (p > 65535) return std::nullopt;
  auto a = ParseIp(host);
  if (!a) return std::nullopt;
  if (a->family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&a->ss)->sin_port = htons(static_cast<uint16_t>(p));
  } else {
    reinterpret_cast<sockaddr_in6*>(&a->ss)->sin6_port = htons(static_cast<uint16_t>(p));
  }
  return a;
}

// ---- setup -------------------------------------------------------------------------------------

RelayServer::RelayServer(RelayOptions options) : options_(std::move(options)) {
  if (options_.udp_bind.empty()) options_.udp_bind.push_back("127.0.0.1");
}

RelayServer::~RelayServer() {
  for (auto& [ptr, client] : clients_) {
    if (!client->dead) Destroy(ptr, "relay destroyed");
  }
  clients_.clear();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void RelayServer::Log(const std::string& line) const { std::fprintf(stderr, "refrtc_relay: %s\n", line.c_str()); }

bool RelayServer::Start(std::string* error) {
  if (options_.token.empty()) {
    *error = "the token must not be empty";
    return false;
  }
  if (options_.max_clients < 1) {
    *error = "--max-clients must be at least 1";
    return false;
  }
  if (options_.udp_bind.size() > 255) {
    *error = "too many --udp-bind addresses (socket ids are one byte)";
    return false;
  }
  for (const auto& text : options_.udp_bind) {
    auto a = ParseIp(text);
    if (!a) {
      *error = "--udp-bind: not a numeric IP address: " + text;
      return false;
    }
    udp_addrs_.push_back(*a);
  }
  auto listen = ParseHostPort(options_.listen);
  if (!listen) {
    *error = "--listen: expected ADDR:PORT or [V6ADDR]:PORT with a numeric address: " + options_.listen;
    return false;
  }
  listen_fd_ = socket(listen->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    *error = ErrnoText("socket");
    return false;
  }
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listen->family() == AF_INET6) setsockopt(listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(listen_fd_, reinterpret_cast<const sockaddr*>(&listen->ss), listen->len) != 0) {
    *error = ErrnoText(("bind " + listen->HostPort()).c_str());
    return false;
  }
  if (::listen(listen_fd_, 128) != 0) {
    *error = ErrnoText("listen");
    return false;
  }
  listen_addr_.len = sizeof listen_addr_.ss;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&listen_addr_.ss), &listen_addr_.len);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    *error = ErrnoText("epoll/eventfd");
    return false;
  }
  for (int fd : {listen_fd_, wake_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    fds_[fd] = FdTarget{};
  }
  return true;
}

std::string RelayServer::ListenAddress() const { return listen_addr_.HostPort(); }

std::string RelayServer::StartupLine() const {
  nlohmann::ordered_json j;
  j["listen"] = ListenAddress();
  j["token"] = options_.token;
  j["udp"] = nlohmann::ordered_json::array();
  for (const auto& a : udp_addrs_) j["udp"].push_back(a.Ip());
  return j.dump();
}

void RelayServer::Stop() {
  const uint64_t one = 1;
  if (wake_fd_ >= 0) {
    ssize_t r = write(wake_fd_, &one, sizeof one);
    (void)r;
  }
}

// ---- loop --------------------------------------------------------------------------------------

int RelayServer::Run() {
  if (epoll_fd_ < 0) return 1;
  std::vector<epoll_event> events(64);
  while (!stopping_) {
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 1000);
    if (n < 0) {
      if (errno == EINTR) continue;
      Log(ErrnoText("epoll_wait"));
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      auto it = fds_.find(fd);
      if (it == fds_.end()) continue;  // closed earlier in this turn
      const FdTarget target = it->second;
      if (fd == listen_fd_) {
        Accept();
      } else if (fd == wake_fd_) {
        uint64_t v;
        ssize_t r = read(wake_fd_, &v, sizeof v);
        (void)r;
        stopping_ = true;
      } else if (target.udp_index >= 0) {
        OnUdpReadable(target.client, target.udp_index);
      } else if (target.client) {
        if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) OnClientReadable(target.client);
        if (!target.client->dead && (events[i].events & EPOLLOUT)) OnClientWritable(target.client);
      }
    }
    for (Client* c : dirty_) {
      c->dirty = false;
      if (!c->dead) Flush(c);
    }
    dirty_.clear();
    SweepDeadlines();
    for (Client* c : dead_) clients_.erase(c);
    dead_.clear();
  }
  // Shutting down: a best-effort close frame (1001 going away) to every open client.
  for (auto& [ptr, client] : clients_) {
    if (client->dead) continue;
    if (client->state == Client::State::kOpen) {
      const auto frame = WsCloseFrame(kCloseGoingAway, "relay shutting down");
      Enqueue(ptr, frame.data(), frame.size(), false);
      Flush(ptr);
    }
    if (!client->dead) Destroy(ptr, "relay stopping");
  }
  clients_.clear();
  dead_.clear();
  dirty_.clear();
  return 0;
}

void RelayServer::Accept() {
  while (true) {
    IpAddress peer;
    peer.len = sizeof peer.ss;
    const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer.ss), &peer.len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) Log(ErrnoText("accept"));
      return;
    }
    if (clients_.size() >= static_cast<size_t>(options_.max_clients) + kMaxPendingHandshakes) {
      close(fd);  // far over capacity: not even an HTTP answer
      ++stats_.rejected;
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // datagrams are latency-sensitive
    auto client = std::make_unique<Client>();
    Client* c = client.get();
    c->id = next_client_id_++;
    c->fd = fd;
    c->peer = peer.HostPort();
    c->deadline = Clock::now() + kHandshakeTimeout;
    clients_[c] = std::move(client);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    fds_[fd] = FdTarget{c, -1};
    if (options_.verbose) Log("client " + std::to_string(c->id) + " connected from " + c->peer);
  }
}

void RelayServer::OnClientReadable(Client* c) {
  uint8_t buf[65536];
  for (int i = 0; i < kMaxReadsPerWakeup && !c->dead; ++i) {
    const ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) {
      Destroy(c, c->state == Client::State::kClosing ? "closed" : "connection closed by the client");
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) Destroy(c, "recv failed");
      return;
    }
    switch (c->state) {
      case Client::State::kHandshake: {
        c->head.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
        const size_t end = FindHeadEnd(c->head);
        if (end == std::string::npos && c->head.size() <= kMaxRequestHead) break;
        if (end == std::string::npos || end > kMaxRequestHead) {
          const std::string response = HttpErrorResponse(400);
          Enqueue(c, reinterpret_cast<const uint8_t*>(response.data()), response.size(), false);
          ++stats_.rejected;
          BeginClose(c, "request head too large");
          break;
        }
        // Bytes after the head (a client that did not wait for 101) are already frames.
        const std::string rest = c->head.substr(end);
        c->head.resize(end);
        HandleHandshake(c);
        c->head = std::string();
        if (c->state == Client::State::kOpen && !rest.empty()) {
          HandleMessages(c, reinterpret_cast<const uint8_t*>(rest.data()), rest.size());
        }
        break;
      }
      case Client::State::kOpen:
        HandleMessages(c, buf, static_cast<size_t>(n));
        break;
      case Client::State::kClosing:
        break;  // lingering close: read and discard until EOF
    }
  }
}

void RelayServer::OnClientWritable(Client* c) { Flush(c); }

bool RelayServer::OpenUdpSockets(Client* c, std::string* error) {
  for (size_t i = 0; i < udp_addrs_.size(); ++i) {
    const IpAddress& bind_addr = udp_addrs_[i];
    const int fd = socket(bind_addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *error = ErrnoText("udp socket");
      return false;
    }
    int one = 1;
    // IPv6 sockets carry IPv6 only, so a datagram's family always matches its socket's.
    if (bind_addr.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    int size = kUdpSocketBuffer;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    // PROTOCOL.md: bound only to the --udp-bind address, ephemeral port.
    if (bind(fd, reinterpret_cast<const sockaddr*>(&bind_addr.ss), bind_addr.len) != 0) {
      *error = ErrnoText(("udp bind " + bind_addr.Ip()).c_str());
      close(fd);
      return false;
    }
    Client::Udp u;
    u.fd = fd;
    u.local.len = sizeof u.local.ss;
    getsockname(fd, reinterpret_cast<sockaddr*>(&u.local.ss), &u.local.len);
    c->udp.push_back(u);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    fds_[fd] = FdTarget{c, static_cast<int>(i)};
  }
  return true;
}

void RelayServer::HandleHandshake(Client* c) {
  HandshakeDecision d = EvaluateHandshake(c->head, options_.token, open_clients_ >= options_.max_clients);
  std::string udp_error;
  if (d.status == 101 && !OpenUdpSockets(c, &udp_error)) {
    CloseUdp(c);
    Log("client " + std::to_string(c->id) + ": " + udp_error);
    d.status = 500;
    d.response = HttpErrorResponse(500);
    d.reason = udp_error;
  }
  Enqueue(c, reinterpret_cast<const uint8_t*>(d.response.data()), d.response.size(), false);
  if (d.status != 101) {
    ++stats_.rejected;
    if (options_.verbose) Log("client " + std::to_string(c->id) + ": " + std::to_string(d.status) + " " + d.reason);
    BeginClose(c, "handshake refused");
    return;
  }
  c->state = Client::State::kOpen;
  c->counted_open = true;
  ++open_clients_;
  ++stats_.connections;
  // PROTOCOL.md message 1: the sockets of this connection, in --udp-bind order.
  nlohmann::ordered_json ready;
  ready["type"] = "ready";
  ready["version"] = 1;
  ready["sockets"] = nlohmann::ordered_json::array();
  std::string list;
  for (size_t i = 0; i < c->udp.size(); ++i) {
    nlohmann::ordered_json s;
    s["id"] = i;
    s["ip"] = c->udp[i].local.Ip();
    s["port"] = c->udp[i].local.port();
    ready["sockets"].push_back(s);
    list += (i ? " " : "") + c->udp[i].local.HostPort();
  }
  const auto frame = WsFrame(WsOpcode::kText, ready.dump());
  Enqueue(c, frame.data(), frame.size(), false);
  if (options_.verbose) Log("client " + std::to_string(c->id) + " open, udp " + list);
}

void RelayServer::SendError(Client* c, const std::string& message) {
  ++stats_.bad_frames;
  nlohmann::ordered_json j;
  j["type"] = "error";
  j["message"] = message;
  const auto frame = WsFrame(WsOpcode::kText, j.dump());
  Enqueue(c, frame.data(), frame.size(), true);
  if (options_.verbose) Log("client " + std::to_string(c->id) + ": error: " + message);
}

void RelayServer::HandleMessages(Client* c, const uint8_t* data, size_t size) {
  std::vector<WsMessage> messages;
  const bool ok = c->parser.Feed(data, size, &messages);
  for (WsMessage& m : messages) {
    if (c->state != Client::State::kOpen) return;
    switch (m.opcode) {
      case WsOpcode::kBinary: {
        DatagramHeader h;
        const uint8_t* payload = nullptr;
        size_t payload_size = 0;
        std::string error;
        if (!DecodeDatagram(m.payload.data(), m.payload.size(), &h, &payload, &payload_size, &error)) {
          SendError(c, error);
          break;
        }
        if (h.socket_id >= c->udp.size()) {
          SendError(c, "bad socket id " + std::to_string(h.socket_id));
          break;
        }
        const Client::Udp& u = c->udp[h.socket_id];
        const int want = h.family == 6 ? AF_INET6 : AF_INET;
        if (u.local.family() != want) {
          SendError(c, "address family " + std::to_string(h.family) + " does not match socket " +
                           std::to_string(h.socket_id) + " (" + u.local.Ip() + ")");
          break;
        }
        IpAddress to;
        if (want == AF_INET) {
          auto* sin = reinterpret_cast<sockaddr_in*>(&to.ss);
          sin->sin_family = AF_INET;
          sin->sin_port = htons(h.port);
          std::memcpy(&sin->sin_addr, h.addr.data(), 4);
          to.len = sizeof(sockaddr_in);
        } else {
          auto* sin6 = reinterpret_cast<sockaddr_in6*>(&to.ss);
          sin6->sin6_family = AF_INET6;
          sin6->sin6_port = htons(h.port);
          std::memcpy(&sin6->sin6_addr, h.addr.data(), 16);
          to.len = sizeof(sockaddr_in6);
        }
        // A failed send (EHOSTUNREACH, a full socket buffer, port 0, ...) is dropped as UDP would.
        if (sendto(u.fd, payload, payload_size, MSG_DONTWAIT | MSG_NOSIGNAL,
                   reinterpret_cast<const sockaddr*>(&to.ss), to.len) < 0) {
          ++stats_.send_failures;
        } else {
          ++stats_.datagrams_to_udp;
          ++c->to_udp;
        }
        break;
      }
      case WsOpcode::kText:
        SendError(c, "the client sends no text messages in protocol v1");
        break;
      case WsOpcode::kPing: {
        // RFC 6455 §5.5.2/§5.5.3: answer with a pong carrying the same data. When the outgoing
        // buffer is full the pong is skipped (§5.5.3 allows answering only the latest ping).
        std::vector<uint8_t> pong;
        AppendWsFrame(WsOpcode::kPong, m.payload.data(), m.payload.size(), &pong);
        Enqueue(c, pong.data(), pong.size(), true);
        break;
      }
      case WsOpcode::kPong:
        break;  // unsolicited pongs are ignored (§5.5.3)
      case WsOpcode::kClose: {
        // §5.5.1: answer with a close frame, echoing the status code; then close TCP (§7.1.1).
        std::vector<uint8_t> reply;
        if (m.payload.size() >= 2) {
          reply = WsCloseFrame(static_cast<uint16_t>(m.payload[0] << 8 | m.payload[1]), "");
        } else {
          AppendWsFrame(WsOpcode::kClose, nullptr, 0, &reply);
        }
        Enqueue(c, reply.data(), reply.size(), false);
        BeginClose(c, "closed by the client");
        break;
      }
      default:
        break;
    }
  }
  if (!ok && c->state == Client::State::kOpen) {
    // §7.1.7 "Fail the WebSocket Connection": a close frame with the code, then close.
    const auto frame = WsCloseFrame(c->parser.error_code(), c->parser.error_reason());
    Enqueue(c, frame.data(), frame.size(), false);
    if (options_.verbose) {
      Log("client " + std::to_string(c->id) + ": close " + std::to_string(c->parser.error_code()) + " " +
          c->parser.error_reason());
    }
    BeginClose(c, "protocol error");
  }
}

void RelayServer::OnUdpReadable(Client* c, int index) {
  uint8_t buf[65536];
  const Client::Udp& u = c->udp[static_cast<size_t>(index)];
  for (int i = 0; i < kMaxDatagramsPerWakeup; ++i) {
    IpAddress from;
    from.len = sizeof from.ss;
    const ssize_t n = recvfrom(u.fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
                               reinterpret_cast<sockaddr*>(&from.ss), &from.len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN, or an error queued by ICMP: nothing more to read now
    }
    if (static_cast<size_t>(n) > kMaxUdpPayload) continue;  // over the protocol's payload limit
    if (c->state != Client::State::kOpen) continue;
    // PROTOCOL.md datagram toward the client: the socket id and the remote it came from.
    DatagramHeader h;
    h.socket_id = static_cast<uint8_t>(index);
    h.port = from.port();
    if (from.family() == AF_INET) {
      h.family = 4;
      std::memcpy(h.addr.data(), &reinterpret_cast<const sockaddr_in*>(&from.ss)->sin_addr, 4);
    } else if (from.family() == AF_INET6) {
      h.family = 6;
      std::memcpy(h.addr.data(), &reinterpret_cast<const sockaddr_in6*>(&from.ss)->sin6_addr, 16);
    } else {
      continue;
    }
    scratch_.clear();
    AppendDatagram(h, buf, static_cast<size_t>(n), &scratch_);
    std::vector<uint8_t> frame;
    frame.reserve(scratch_.size() + 10);
    AppendWsFrame(WsOpcode::kBinary, scratch_.data(), scratch_.size(), &frame);
    if (Enqueue(c, frame.data(), frame.size(), true)) {
      ++stats_.datagrams_to_client;
      ++c->to_client;
    } else {
      // The client does not keep up: drop the datagram (it is UDP), never block the loop.
      ++stats_.dropped_to_client;
      ++c->dropped;
    }
  }
}

bool RelayServer::Enqueue(Client* c, const uint8_t* data, size_t size, bool droppable) {
  if (c->dead || c->write_shut) return false;
  if (droppable && c->pending() + size > options_.max_outgoing_bytes) return false;
  c->out.insert(c->out.end(), data, data + size);
  if (!c->dirty) {
    c->dirty = true;
    dirty_.push_back(c);
  }
  return true;
}

void RelayServer::Flush(Client* c) {
  while (c->pending() > 0) {
    const ssize_t n = send(c->fd, c->out.data() + c->out_off, c->pending(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      Destroy(c, "send failed");
      return;
    }
    c->out_off += static_cast<size_t>(n);
  }
  if (c->out_off == c->out.size()) {
    c->out.clear();
    c->out_off = 0;
  } else if (c->out_off >= (1u << 20) && c->out_off * 2 >= c->out.size()) {
    c->out.erase(c->out.begin(), c->out.begin() + static_cast<std::ptrdiff_t>(c->out_off));
    c->out_off = 0;
  }
  if (c->pending() == 0 && c->state == Client::State::kClosing && !c->write_shut) {
    // Everything (HTTP error or close frame) is out: half-close, then wait for the client's EOF
    // (a lingering close, so unread input does not turn our last bytes into a reset).
    shutdown(c->fd, SHUT_WR);
    c->write_shut = true;
  }
  UpdateEpoll(c);
}

void RelayServer::UpdateEpoll(Client* c) {
  const bool want_out = c->pending() > 0;
  if (want_out == c->epoll_out) return;
  c->epoll_out = want_out;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want_out ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  ev.data.fd = c->fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
}

void RelayServer::CloseUdp(Client* c) {
  for (auto& u : c->udp) {
    if (u.fd < 0) continue;
    fds_.erase(u.fd);
    close(u.fd);  // also removes it from the epoll set
    u.fd = -1;
  }
  if (c->counted_open) {
    c->counted_open = false;
    --open_clients_;
  }
}

void RelayServer::BeginClose(Client* c, const char* why) {
  if (c->dead || c->state == Client::State::kClosing) return;
  // PROTOCOL.md: the WebSocket closing closes that connection's UDP sockets.
  CloseUdp(c);
  c->state = Client::State::kClosing;
  c->deadline = Clock::now() + kCloseTimeout;
  if (!c->dirty) {  // so that Flush half-closes even when nothing is queued
    c->dirty = true;
    dirty_.push_back(c);
  }
}

void RelayServer::Destroy(Client* c, const char* why) {
  if (c->dead) return;
  CloseUdp(c);
  fds_.erase(c->fd);
  close(c->fd);
  c->fd = -1;
  c->dead = true;
  dead_.push_back(c);
  if (options_.verbose || c->dropped > 0) {
    Log("client " + std::to_string(c->id) + " gone (" + why + "): " + std::to_string(c->to_udp) +
        " datagrams to UDP, " + std::to_string(c->to_client) + " to the client, " +
        std::to_string(c->dropped) + " dropped (client too slow)");
  }
}

void RelayServer::SweepDeadlines() {
  const auto now = Clock::now();
  for (auto& [ptr, client] : clients_) {
    if (client->dead || client->state == Client::State::kOpen || now < client->deadline) continue;
    Destroy(ptr, client->state == Client::State::kHandshake ? "handshake timeout" : "close timeout");
  }
}

}  // namespace refrtc::relay
