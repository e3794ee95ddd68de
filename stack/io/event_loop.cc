#include "io/event_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "io/interfaces.h"

namespace refrtc::io {
namespace {

constexpr int kSocketBufferBytes = 4 << 20;  // ~4 MiB send/receive buffers
constexpr int kMaxBatchesPerWakeup = 8;      // fairness between sockets: 8 x 32 datagrams
constexpr int kMaxEvents = 64;

// Whole milliseconds for epoll_wait, rounded UP so that the loop never wakes before a deadline
// and spins on a zero timeout.
int CeilMillis(Duration d) {
  if (d <= Duration::zero()) return 0;
  int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  int64_t ms = (ns + 999999) / 1000000;
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

// Fills a sockaddr_storage for `a`; returns its length (0 if `a` is not an IP address).
socklen_t ToSockaddr(const SocketAddress& a, unsigned scope_id, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof *ss);
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a.port());
    std::memcpy(&sin->sin_addr, a.ip_bytes(), 4);
    return sizeof(sockaddr_in);
  }
  if (a.is_v6()) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(a.port());
    std::memcpy(&sin6->sin6_addr, a.ip_bytes(), 16);
    sin6->sin6_scope_id = a.is_link_local() ? scope_id : 0;
    return sizeof(sockaddr_in6);
  }
  return 0;
}

SocketAddress FromSockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    std::array<uint8_t, 4> ip;
    std::memcpy(ip.data(), &sin->sin_addr, 4);
    return SocketAddress::V4(ip, ntohs(sin->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    std::array<uint8_t, 16> ip;
    std::memcpy(ip.data(), &sin6->sin6_addr, 16);
    return SocketAddress::V6(ip, ntohs(sin6->sin6_port));
  }
  return SocketAddress();
}

// RFC 6762 §3: the only multicast destinations this host sends to.
bool IsMdnsGroupPort(const SocketAddress& a) {
  static const uint8_t kV4[4] = {224, 0, 0, 251};
  static const uint8_t kV6[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb};
  if (a.port() != 5353) return false;
  if (a.is_v4()) return std::memcmp(a.ip_bytes(), kV4, 4) == 0;
  if (a.is_v6()) return std::memcmp(a.ip_bytes(), kV6, 16) == 0;
  return false;
}

// Indexes of the interfaces that are up, multicast-capable and carry an address of the family.
std::vector<unsigned> MulticastInterfaces(bool v6) {
  std::vector<unsigned> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_name == nullptr) continue;
    if (i->ifa_addr->sa_family != (v6 ? AF_INET6 : AF_INET)) continue;
    if (!(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_MULTICAST)) continue;
    unsigned idx = if_nametoindex(i->ifa_name);
    if (idx != 0 && std::find(out.begin(), out.end(), idx) == out.end()) out.push_back(idx);
  }
  freeifaddrs(list);
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status ErrnoStatus(absl::string_view what, const SocketAddress& a, int err) {
  return absl::UnavailableError(absl::StrCat(what, " ", a.ToString(), ": ", std::strerror(err)));
}

}  // namespace

struct EventLoop::RxStorage {
  std::vector<uint8_t> buf = std::vector<uint8_t>(kBatch * kMaxDatagram);
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  sockaddr_storage names[kBatch];
};

EventLoop::EventLoop() : rx_storage_(std::make_unique<RxStorage>()) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  Source src;
  src.kind = Source::kWake;
  src.fd = wake_fd_;
  AddSource(wake_fd_, std::move(src));
  RxStorage& rx = *rx_storage_;
  std::memset(rx.msgs, 0, sizeof rx.msgs);
  for (int i = 0; i < kBatch; ++i) {
    rx.iovs[i].iov_base = rx.buf.data() + i * kMaxDatagram;
    rx.iovs[i].iov_len = kMaxDatagram;
    rx.msgs[i].msg_hdr.msg_iov = &rx.iovs[i];
    rx.msgs[i].msg_hdr.msg_iovlen = 1;
    rx.msgs[i].msg_hdr.msg_name = &rx.names[i];
  }
}

EventLoop::~EventLoop() {
  for (auto& [id, c] : tcp_) close(c->fd);
  for (auto& st : endpoints_)
    for (auto& s : st->sockets) close(s.fd);
  for (auto& m : mdns_)
    if (m.fd >= 0) close(m.fd);
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

Instant EventLoop::Now() const { return std::chrono::steady_clock::now(); }

uint64_t EventLoop::AddSource(int fd, Source src) {
  uint64_t id = next_source_id_++;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = id;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return 0;
  sources_.emplace(id, std::move(src));
  return id;
}

EventLoop::EndpointState* EventLoop::Find(Endpoint* ep) {
  for (auto& st : endpoints_)
    if (st->ep == ep && !st->dead) return st.get();
  return nullptr;
}

absl::StatusOr<std::vector<SocketAddress>> EventLoop::Attach(
    Endpoint* ep, const std::vector<SocketAddress>& bind_addresses) {
  if (ep == nullptr) return absl::InvalidArgumentError("null endpoint");
  if (epoll_fd_ < 0 || wake_fd_ < 0) return absl::InternalError("epoll/eventfd unavailable");
  std::vector<Socket> opened;
  auto fail = [&](absl::Status s) {
    for (auto& o : opened) close(o.fd);
    return s;
  };
  for (const SocketAddress& want : bind_addresses) {
    if (!want.valid()) return fail(absl::InvalidArgumentError("invalid bind address"));
    int family = want.is_v4() ? AF_INET : AF_INET6;
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) return fail(ErrnoStatus("socket", want, errno));
    Socket s;
    s.fd = fd;
    opened.push_back(s);
    int buf = kSocketBufferBytes;
    // Best effort: the kernel caps these at net.core.{r,w}mem_max.
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (want.is_v6()) {
      int one = 1;
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    unsigned scope = ScopeIdFor(want);
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(want, scope, &ss);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
      return fail(ErrnoStatus("bind", want, errno));
    sockaddr_storage bound{};
    socklen_t blen = sizeof bound;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen) != 0)
      return fail(ErrnoStatus("getsockname", want, errno));
    opened.back().local = FromSockaddr(bound);
    opened.back().scope_id = scope;
  }

  EndpointState* st = Find(ep);
  if (st == nullptr) {
    endpoints_.push_back(std::make_unique<EndpointState>());
    st = endpoints_.back().get();
    st->ep = ep;
  }
  std::vector<SocketAddress> result;
  for (Socket& s : opened) {
    Source src;
    src.kind = Source::kSocket;
    src.ep = st;
    src.fd = s.fd;
    s.source_id = AddSource(s.fd, std::move(src));
    st->sockets.push_back(s);
    result.push_back(s.local);
  }
  opened.clear();
  for (const SocketAddress& a : result) ep->AddLocalAddress(a);
  Wake();  // AddLocalAddress may have queued transmits or changed the deadline
  return result;
}

void EventLoop::Detach(Endpoint* ep) {
  EndpointState* st = Find(ep);
  if (st == nullptr) return;
  for (Socket& s : st->sockets) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.fd, nullptr);
    close(s.fd);
    sources_.erase(s.source_id);
  }
  st->sockets.clear();
  std::vector<TcpConn*> conns;
  for (auto& [id, c] : tcp_)
    if (c->st == st) conns.push_back(c.get());
  for (TcpConn* c : conns) CloseTcp(c, false);
  st->dead = true;  // erased by Sweep() at the top of the next iteration (never mid-dispatch)
  st->ep = nullptr;
}

void EventLoop::Sweep() {
  endpoints_.erase(std::remove_if(endpoints_.begin(), endpoints_.end(),
                                  [](const std::unique_ptr<EndpointState>& s) { return s->dead; }),
                   endpoints_.end());
}

void EventLoop::WatchFd(int fd, std::function<void()> on_readable) {
  UnwatchFd(fd);
  Source src;
  src.kind = Source::kFd;
  src.fd = fd;
  src.callback = std::make_shared<std::function<void()>>(std::move(on_readable));
  uint64_t id = AddSource(fd, std::move(src));
  if (id != 0) fd_watch_ids_[fd] = id;
}

void EventLoop::UnwatchFd(int fd) {
  auto it = fd_watch_ids_.find(fd);
  if (it == fd_watch_ids_.end()) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  sources_.erase(it->second);
  fd_watch_ids_.erase(it);
}

void EventLoop::AddAfterIterationHook(std::function<void()> hook) { hooks_.push_back(std::move(hook)); }

void EventLoop::Wake() {
  uint64_t one = 1;
  ssize_t r = write(wake_fd_, &one, sizeof one);
  (void)r;  // EAGAIN means a wake-up is already pending
}

void EventLoop::Stop() { stop_ = true; }

void EventLoop::ReadSocket(EndpointState* st, int fd, const SocketAddress& local) {
  RxStorage& rx = *rx_storage_;
  for (int batch = 0; batch < kMaxBatchesPerWakeup; ++batch) {
    for (int i = 0; i < kBatch; ++i) {
      rx.msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      rx.msgs[i].msg_hdr.msg_flags = 0;
      rx.msgs[i].msg_len = 0;
    }
    int n = recvmmsg(fd, rx.msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      // EAGAIN: drained. ECONNREFUSED/EHOSTUNREACH etc.: a queued ICMP error for an earlier
      // send; UDP semantics say ignore it. Any other error: give up on this wake-up.
      if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) continue;
      return;
    }
    if (n == 0) return;
    Instant now = Now();
    for (int i = 0; i < n; ++i) {
      if (st->dead) return;  // detached by a callback triggered inside HandleReceive
      const msghdr& h = rx.msgs[i].msg_hdr;
      if (h.msg_flags & MSG_TRUNC) {
        ++stats_.recv_truncated;
        continue;
      }
      SocketAddress remote = FromSockaddr(rx.names[i]);
      if (!remote.valid()) continue;
      size_t len = rx.msgs[i].msg_len;
      ++stats_.datagrams_received;
      stats_.bytes_received += len;
      st->ep->HandleReceive(ByteView(rx.buf.data() + i * kMaxDatagram, len), local, remote, now);
    }
    if (n < kBatch) return;  // short batch: socket queue is empty
  }
}

void EventLoop::FireTimers() {
  Instant now = Now();
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    EndpointState* st = endpoints_[i].get();
    if (st->dead) continue;
    std::optional<Instant> t = st->ep->PollTimeout();
    if (t && *t <= now) {
      ++stats_.timeouts_fired;
      st->ep->HandleTimeout(now);
    }
  }
}

EventLoop::MdnsSocket* EventLoop::OpenMdnsSocket(bool v6) {
  MdnsSocket& m = mdns_[v6 ? 1 : 0];
  if (m.fd >= 0) return &m;
  if (m.tried) return nullptr;
  m.tried = true;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return nullptr;
  int one = 1, ttl = 255;
  // Port 5353 is shared with every other mDNS user on the machine (RFC 6762 §15.1).
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (v6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl);  // §11: 255
  } else {
    unsigned char loop = 1, ttl8 = 255;
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl8, sizeof ttl8);
  }
  SocketAddress want = v6 ? SocketAddress::V6({}, 5353) : SocketAddress::V4({0, 0, 0, 0}, 5353);
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(want, 0, &ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    // Someone holds 5353 without SO_REUSEPORT: fall back to an ephemeral port (one-shot legacy
    // queries, RFC 6762 §5.1/§6.7: responders then answer by unicast).
    want.set_port(0);
    len = ToSockaddr(want, 0, &ss);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      close(fd);
      return nullptr;
    }
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
  m.local = FromSockaddr(bound);
  for (unsigned idx : MulticastInterfaces(v6)) {
    int r;
    if (v6) {
      ipv6_mreq mreq{};
      inet_pton(AF_INET6, "ff02::fb", &mreq.ipv6mr_multiaddr);
      mreq.ipv6mr_interface = idx;
      r = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq);
    } else {
      ip_mreqn mreq{};
      inet_pton(AF_INET, "224.0.0.251", &mreq.imr_multiaddr);
      mreq.imr_ifindex = static_cast<int>(idx);
      r = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq);
    }
    if (r == 0 || errno == EADDRINUSE) m.ifindexes.push_back(idx);  // EADDRINUSE: already joined
  }
  Source src;
  src.kind = Source::kMdns;
  src.fd = fd;
  m.source_id = AddSource(fd, std::move(src));
  m.fd = fd;
  return &m;
}

void EventLoop::SendMdns(EndpointState* st, const Transmit& t) {
  bool v6 = t.to.is_v6();
  MdnsSocket* m = OpenMdnsSocket(v6);
  if (m == nullptr) {
    ++stats_.mdns_socket_errors;
    return;
  }
  st->mdns_member = true;
  // One copy per joined interface (a link-local group reaches one link per send); with no
  // joined interface, one send where the routing table says.
  std::vector<unsigned> ifs = m->ifindexes;
  if (ifs.empty()) ifs.push_back(0);
  for (unsigned idx : ifs) {
    if (idx != 0) {
      if (v6) {
        int i = static_cast<int>(idx);
        setsockopt(m->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &i, sizeof i);
      } else {
        ip_mreqn mreq{};
        mreq.imr_ifindex = static_cast<int>(idx);
        setsockopt(m->fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
      }
    }
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(t.to, 0, &ss);
    if (v6) reinterpret_cast<sockaddr_in6*>(&ss)->sin6_scope_id = idx;
    ssize_t r = sendto(m->fd, t.data.data(), t.data.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), len);
    if (r >= 0) {
      ++stats_.mdns_sent;
      stats_.bytes_sent += t.data.size();
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
      ++stats_.send_dropped;
    } else {
      ++stats_.send_errors;
    }
  }
}

void EventLoop::ReadMdns(bool v6) {
  MdnsSocket& m = mdns_[v6 ? 1 : 0];
  RxStorage& rx = *rx_storage_;
  for (int i = 0; i < kBatch * 2; ++i) {  // bounded per wake-up; level-triggered epoll resumes
    sockaddr_storage from{};
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(m.fd, rx.buf.data(), kMaxDatagram, MSG_DONTWAIT | MSG_TRUNC,
                         reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) {
      if (errno == EINTR || errno == ECONNREFUSED) continue;
      return;
    }
    if (static_cast<size_t>(n) > kMaxDatagram) {
      ++stats_.recv_truncated;
      continue;
    }
    SocketAddress remote = FromSockaddr(from);
    if (!remote.valid()) continue;
    ++stats_.mdns_received;
    stats_.bytes_received += static_cast<size_t>(n);
    Instant now = Now();
    for (size_t e = 0; e < endpoints_.size(); ++e) {
      EndpointState* st = endpoints_[e].get();
      if (st->dead || !st->mdns_member) continue;
      st->ep->HandleReceive(ByteView(rx.buf.data(), static_cast<size_t>(n)), m.local, remote, now);
    }
  }
}

void EventLoop::CloseTcp(TcpConn* c, bool notify) {
  uint64_t id = c->source_id;
  auto it = tcp_.find(id);
  if (it == tcp_.end()) return;
  std::unique_ptr<TcpConn> conn = std::move(it->second);
  tcp_.erase(it);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn->fd, nullptr);
  close(conn->fd);
  sources_.erase(id);
  if (notify) {
    ++stats_.tcp_closed;
    if (!conn->st->dead && conn->st->ep) conn->st->ep->HandleStreamClosed(conn->local, conn->remote, Now());
  }
}

void EventLoop::FlushTcp(TcpConn* c) {
  if (c->connecting) return;
  while (c->out_pos < c->out.size()) {
    ssize_t n = send(c->fd, c->out.data() + c->out_pos, c->out.size() - c->out_pos, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      c->out_pos += static_cast<size_t>(n);
      stats_.tcp_bytes_sent += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    CloseTcp(c, true);  // reset / broken pipe
    return;
  }
  if (c->out_pos == c->out.size()) {
    c->out.clear();
    c->out_pos = 0;
  }
  bool want = c->out_pos < c->out.size();
  if (want != c->want_write) {
    c->want_write = want;
    epoll_event ev{};
    ev.events = static_cast<uint32_t>(EPOLLIN) | (want ? static_cast<uint32_t>(EPOLLOUT) : 0u);
    ev.data.u64 = c->source_id;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
  }
}

void EventLoop::SendTcp(EndpointState* st, const Transmit& t) {
  constexpr size_t kMaxTcpBuffer = 4 << 20;
  TcpConn* conn = nullptr;
  for (auto& [id, c] : tcp_)
    if (c->st == st && c->local == t.from && c->remote == t.to) { conn = c.get(); break; }
  if (conn == nullptr) {
    int fd = socket(t.to.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
      ++stats_.tcp_dropped;
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_storage ss;
    socklen_t len;
    if (t.from.valid() && !t.from.is_any() && t.from.family() == t.to.family()) {
      // Leave from the interface the engine named (its port is the UDP socket's; ours is new).
      SocketAddress src = t.from;
      src.set_port(0);
      len = ToSockaddr(src, ScopeIdFor(t.from), &ss);
      bind(fd, reinterpret_cast<sockaddr*>(&ss), len);  // best effort: routing picks otherwise
    }
    len = ToSockaddr(t.to, 0, &ss);
    int r = connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
    auto owned = std::make_unique<TcpConn>();
    owned->fd = fd;
    owned->st = st;
    owned->local = t.from;
    owned->remote = t.to;
    owned->connecting = r != 0;
    owned->want_write = true;
    if (r != 0 && errno != EINPROGRESS) {
      close(fd);
      ++stats_.tcp_dropped;
      ++stats_.tcp_closed;
      st->ep->HandleStreamClosed(t.from, t.to, Now());
      return;
    }
    uint64_t id = next_source_id_++;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;  // EPOLLOUT: connect completion
    ev.data.u64 = id;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      ++stats_.tcp_dropped;
      return;
    }
    owned->source_id = id;
    Source src;
    src.kind = Source::kTcp;
    src.fd = fd;
    src.ep = st;
    src.tcp = owned.get();
    sources_.emplace(id, std::move(src));
    conn = owned.get();
    tcp_.emplace(id, std::move(owned));
    ++stats_.tcp_connects;
  }
  if (conn->out.size() - conn->out_pos + t.data.size() > kMaxTcpBuffer) {
    ++stats_.tcp_dropped;
    return;
  }
  conn->out.insert(conn->out.end(), t.data.begin(), t.data.end());
  FlushTcp(conn);
}

void EventLoop::OnTcpEvent(TcpConn* c, uint32_t events) {
  uint64_t id = c->source_id;
  if (c->connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN))) {
      CloseTcp(c, true);  // refused / unreachable
      return;
    }
    c->connecting = false;
  }
  if (events & EPOLLOUT) {
    FlushTcp(c);
    if (tcp_.find(id) == tcp_.end()) return;
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    RxStorage& rx = *rx_storage_;
    for (int i = 0; i < 16; ++i) {  // bounded per wake-up; level-triggered epoll resumes
      ssize_t n = recv(c->fd, rx.buf.data(), kMaxDatagram, MSG_DONTWAIT);
      if (n > 0) {
        stats_.tcp_bytes_received += static_cast<uint64_t>(n);
        EndpointState* st = c->st;
        SocketAddress local = c->local, remote = c->remote;
        if (!st->dead) st->ep->HandleStreamData(ByteView(rx.buf.data(), static_cast<size_t>(n)), local, remote, Now());
        if (tcp_.find(id) == tcp_.end()) return;  // closed from inside the callback
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      CloseTcp(c, true);  // 0 = orderly close by the remote; < 0 = reset
      return;
    }
  }
}

void EventLoop::SendOne(EndpointState* st, const Transmit& t) {
  if (t.protocol == TransportProtocol::kTcp) {
    SendTcp(st, t);
    return;
  }
  if (IsMdnsGroupPort(t.to)) {
    SendMdns(st, t);
    return;
  }
  const Socket* sock = nullptr;
  for (const Socket& s : st->sockets)
    if (s.local == t.from && s.local.family() == t.to.family()) { sock = &s; break; }
  if (sock == nullptr) {
    // e.g. a STUN server query from 0.0.0.0: any socket of the destination's family will do.
    for (const Socket& s : st->sockets)
      if (s.local.family() == t.to.family()) { sock = &s; break; }
  }
  if (sock == nullptr) {
    ++stats_.send_no_socket;
    return;
  }
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(t.to, sock->scope_id, &ss);
  if (len == 0) {
    ++stats_.send_errors;
    return;
  }
  for (;;) {
    ssize_t r = sendto(sock->fd, t.data.data(), t.data.size(), MSG_DONTWAIT,
                       reinterpret_cast<sockaddr*>(&ss), len);
    if (r >= 0) {
      ++stats_.datagrams_sent;
      stats_.bytes_sent += t.data.size();
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) ++stats_.send_dropped;
    else ++stats_.send_errors;  // ECONNREFUSED from an earlier ICMP, EMSGSIZE, unreachable...
    return;
  }
}

void EventLoop::DrainTransmits() {
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    EndpointState* st = endpoints_[i].get();
    while (!st->dead) {
      std::optional<Transmit> t = st->ep->PollTransmit();
      if (!t) break;
      SendOne(st, *t);
    }
  }
}

void EventLoop::RecomputeDeadline() {
  deadline_.reset();
  for (auto& st : endpoints_) {
    if (st->dead) continue;
    std::optional<Instant> t = st->ep->PollTimeout();
    if (t && (!deadline_ || *t < *deadline_)) deadline_ = t;
  }
}

void EventLoop::Flush() {
  if (in_flush_) return;  // a hook called Flush(): the outer Flush drains again afterwards
  in_flush_ = true;
  DrainTransmits();
  for (size_t i = 0; i < hooks_.size(); ++i) hooks_[i]();
  DrainTransmits();  // hooks may have made API calls that queued datagrams
  RecomputeDeadline();
  in_flush_ = false;
}

void EventLoop::Iterate(Duration max_wait, bool has_cap) {
  Sweep();
  int timeout_ms = -1;  // block indefinitely when nobody has a deadline
  if (deadline_) timeout_ms = CeilMillis(*deadline_ - Now());
  if (has_cap) {
    int cap = CeilMillis(max_wait);
    if (timeout_ms < 0 || cap < timeout_ms) timeout_ms = cap;
  }
  epoll_event events[kMaxEvents];
  int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
  if (n < 0) n = 0;  // EINTR
  for (int i = 0; i < n; ++i) {
    // epoll_event is packed on x86-64: copy the id out instead of binding a reference to it.
    const uint64_t source_id = events[i].data.u64;
    const uint32_t mask = events[i].events;
    auto it = sources_.find(source_id);
    if (it == sources_.end()) continue;  // removed by an earlier callback in this batch
    Source& src = it->second;
    switch (src.kind) {
      case Source::kSocket: {
        EndpointState* st = src.ep;
        int fd = src.fd;
        SocketAddress local;
        for (const Socket& s : st->sockets)
          if (s.fd == fd) local = s.local;
        ReadSocket(st, fd, local);
        break;
      }
      case Source::kFd: {
        std::shared_ptr<std::function<void()>> cb = src.callback;  // survives UnwatchFd inside
        (*cb)();
        break;
      }
      case Source::kMdns:
        ReadMdns(src.fd == mdns_[1].fd);
        break;
      case Source::kTcp:
        OnTcpEvent(src.tcp, mask);
        break;
      case Source::kWake: {
        uint64_t v;
        while (read(wake_fd_, &v, sizeof v) > 0) {
        }
        break;
      }
    }
  }
  FireTimers();
  Flush();
}

void EventLoop::Run() {
  Flush();
  while (!stop_) Iterate(Duration::zero(), false);
  stop_ = false;
}

void EventLoop::RunFor(Duration d) {
  Flush();
  Instant end = Now() + d;
  while (!stop_) {
    Instant now = Now();
    if (now >= end) break;
    Iterate(end - now, true);
  }
  stop_ = false;
}

bool EventLoop::RunUntil(std::function<bool()> done, Duration max) {
  Flush();
  Instant end = Now() + max;
  while (!stop_) {
    if (done()) break;
    Instant now = Now();
    if (now >= end) break;
    Iterate(end - now, true);
  }
  stop_ = false;
  return done();
}

}  // namespace refrtc::io
