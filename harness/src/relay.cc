#include "relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace refrtc::harness {
namespace {

using nlohmann::json;

constexpr uint32_t kLoopback = 0x7f000001;   // 127.0.0.1
constexpr size_t kMaxScheduled = 200000;     // packets in flight inside the relay (beyond: dropped)
constexpr int kSocketBuffer = 4 << 20;
constexpr int kMaxBatch = 256;               // datagrams read per socket per round
constexpr size_t kMaxSockets = 512;          // relay addresses per cell (candidates beyond are dropped)

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

sockaddr_in ToSockaddr(const UdpAddr& a) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(a.ip);
  sa.sin_port = htons(a.port);
  return sa;
}

void Put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}
void Put32(std::string* out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v & 0xffff));
}

// RFC 791 §3.1 header checksum: one's complement of the one's complement sum of 16-bit words.
uint16_t IpChecksum(const std::string& hdr) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < hdr.size(); i += 2) {
    sum += (static_cast<uint8_t>(hdr[i]) << 8) | static_cast<uint8_t>(hdr[i + 1]);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Uniform [0, 1) from one 64-bit draw (53 bits, as std::generate_canonical would, but fixed here so
// decisions do not depend on the standard library's implementation).
double Unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0); }

}  // namespace

// ------------------------------------------------------------------ addresses, impairments, stats

std::string UdpAddr::IpString() const {
  return absl::StrFormat("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}
std::string UdpAddr::ToString() const { return absl::StrCat(IpString(), ":", port); }

std::optional<UdpAddr> UdpAddr::Parse(const std::string& ip, uint16_t port) {
  in_addr a{};
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1) return std::nullopt;
  UdpAddr out;
  out.ip = ntohl(a.s_addr);
  out.port = port;
  return out;
}

bool Impairment::operator==(const Impairment& o) const {
  return loss_pct == o.loss_pct && delay_ms == o.delay_ms && jitter_ms == o.jitter_ms && reorder_pct == o.reorder_pct &&
         reorder_ms == o.reorder_ms && duplicate_pct == o.duplicate_pct && rate_kbps == o.rate_kbps &&
         queue_bytes == o.queue_bytes;
}

std::string Impairment::ToString() const {
  if (*this == Impairment{}) return "none";
  std::vector<std::string> parts;
  if (loss_pct > 0) parts.push_back(absl::StrCat("loss ", loss_pct, "%"));
  if (delay_ms > 0) parts.push_back(absl::StrCat("delay ", delay_ms, " ms"));
  if (jitter_ms > 0) parts.push_back(absl::StrCat("jitter ", jitter_ms, " ms"));
  if (reorder_pct > 0) parts.push_back(absl::StrCat("reorder ", reorder_pct, "% (+", reorder_ms, " ms)"));
  if (duplicate_pct > 0) parts.push_back(absl::StrCat("duplicate ", duplicate_pct, "%"));
  if (rate_kbps > 0) parts.push_back(absl::StrCat("rate ", rate_kbps, " kbit/s (queue ", queue_bytes, " B)"));
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

std::string DirectionStats::ToString() const {
  return absl::StrCat(received, " in, ", forwarded, " out (", forwarded_bytes, " B), lost ", lost, ", blackout ", blackout,
                      ", queue-dropped ", queue_dropped, ", duplicated ", duplicated, ", reordered ", reordered,
                      send_errors ? absl::StrCat(", send errors ", send_errors) : "");
}

json DirectionStats::ToJson() const {
  return json{{"received", received},     {"forwarded", forwarded},   {"forwardedBytes", forwarded_bytes},
              {"lost", lost},             {"blackout", blackout},     {"queueDropped", queue_dropped},
              {"duplicated", duplicated}, {"reordered", reordered},   {"sendErrors", send_errors}};
}

// ------------------------------------------------------------------ relay

Relay::Relay(const RelayOptions& options) : options_(options) {
  for (int d = 0; d < 2; ++d) {
    // Independent per-direction streams: the seed mixed with the direction (splitmix64 constant).
    dir_[d].rng.seed(options_.seed ^ (0x9e3779b97f4a7c15ull * static_cast<uint64_t>(d + 1)));
  }
}

absl::StatusOr<std::unique_ptr<Relay>> Relay::Start(const RelayOptions& options) {
  std::unique_ptr<Relay> r(new Relay(options));
  if (auto st = r->Init(); !st.ok()) return st;
  return r;
}

absl::Status Relay::Init() {
  if (pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  if (!options_.pcap_path.empty()) {
    pcap_ = fopen(options_.pcap_path.c_str(), "wb");
    if (!pcap_) return absl::InternalError(absl::StrCat("cannot write ", options_.pcap_path, ": ", strerror(errno)));
    // libpcap file header: magic, version 2.4, thiszone, sigfigs, snaplen, LINKTYPE_RAW (101: the
    // packet begins with an IPv4/IPv6 header).
    uint32_t magic = 0xa1b2c3d4, snaplen = 65535, linktype = 101, zero = 0;
    uint16_t major = 2, minor = 4;
    fwrite(&magic, 4, 1, pcap_);
    fwrite(&major, 2, 1, pcap_);
    fwrite(&minor, 2, 1, pcap_);
    fwrite(&zero, 4, 1, pcap_);
    fwrite(&zero, 4, 1, pcap_);
    fwrite(&snaplen, 4, 1, pcap_);
    fwrite(&linktype, 4, 1, pcap_);
    pcap_bytes_ = 24;
  }
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

Relay::~Relay() {
  stop_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
  for (auto& s : socks_) close(s->fd);
  for (int fd : wake_) if (fd >= 0) close(fd);
  if (pcap_) fclose(pcap_);
}

void Relay::Wake() {
  if (wake_[1] >= 0) {
    char c = 1;
    ssize_t n = write(wake_[1], &c, 1);
    (void)n;
  }
}

absl::StatusOr<Relay::Sock*> Relay::NewSocketLocked(int side, const UdpAddr& real, bool learned) {
  if (socks_.size() >= kMaxSockets) return absl::ResourceExhaustedError("relay: too many endpoints");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("relay socket: ", strerror(errno)));
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof(kSocketBuffer));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof(kSocketBuffer));
  sockaddr_in sa = ToSockaddr(UdpAddr{kLoopback, 0});
  socklen_t len = sizeof(sa);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    int e = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("relay bind: ", strerror(e)));
  }
  auto s = std::make_unique<Sock>();
  s->fd = fd;
  s->local = UdpAddr{kLoopback, ntohs(sa.sin_port)};
  s->real = real;
  s->side = side;
  s->learned = learned;
  Sock* raw = s.get();
  socks_.push_back(std::move(s));
  by_real_[real] = raw;
  by_local_[raw->local] = raw;
  ++generation_;
  return raw;
}

absl::StatusOr<UdpAddr> Relay::Expose(int side, const UdpAddr& real) {
  std::lock_guard<std::mutex> lock(mu_);
  if (by_local_.count(real)) return real;  // already a relay address
  auto it = by_real_.find(real);
  if (it != by_real_.end()) return it->second->local;
  auto s = NewSocketLocked(side, real, false);
  if (!s.ok()) return s.status();
  Wake();
  return (*s)->local;
}

std::optional<std::string> Relay::RewriteCandidate(int from_side, const std::string& candidate) {
  // RFC 8839 §5.1: candidate-attribute = "candidate" ":" foundation SP component-id SP transport SP
  // priority SP connection-address SP port SP cand-type [SP rel-addr SP rel-port] *(SP extension).
  std::string prefix;
  std::string body = candidate;
  if (body.rfind("a=", 0) == 0) {
    prefix = "a=";
    body = body.substr(2);
  }
  std::vector<std::string> tok = absl::StrSplit(body, ' ', absl::SkipEmpty());
  if (tok.size() < 8 || tok[0].rfind("candidate:", 0) != 0 || tok[6] != "typ") return std::nullopt;
  if (absl::AsciiStrToLower(tok[2]) != "udp") return std::nullopt;
  int port = 0;
  if (tok[5].empty() || tok[5].size() > 5 || tok[5].find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  port = std::stoi(tok[5]);
  if (port <= 0 || port > 65535) return std::nullopt;
  auto real = UdpAddr::Parse(tok[4], static_cast<uint16_t>(port));
  if (!real || real->ip == 0) return std::nullopt;
  auto front = Expose(from_side, *real);
  if (!front.ok()) return std::nullopt;
  tok[4] = front->IpString();
  tok[5] = absl::StrCat(front->port);
  return absl::StrCat(prefix, absl::StrJoin(tok, " "));
}

std::string DemoteCandidatePriority(const std::string& line) {
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ ...
  size_t start = line.rfind("a=", 0) == 0 ? 2 : 0;
  if (line.compare(start, 10, "candidate:") != 0) return line;
  size_t field = start, n = 0;
  while (n < 3) {
    field = line.find(' ', field);
    if (field == std::string::npos) return line;
    ++field;
    ++n;
  }
  size_t end = line.find(' ', field);
  if (end == std::string::npos || end == field) return line;
  return line.substr(0, field) + "1" + line.substr(end);
}

std::string Relay::RewriteDescription(int from_side, const std::string& sdp, int* dropped) {
  std::string out;
  size_t pos = 0;
  while (pos < sdp.size()) {
    size_t nl = sdp.find('\n', pos);
    size_t end = nl == std::string::npos ? sdp.size() : nl + 1;
    std::string line = sdp.substr(pos, end - pos);
    pos = end;
    std::string eol;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
      eol.insert(eol.begin(), line.back());
      line.pop_back();
    }
    if (line.rfind("a=candidate:", 0) == 0) {
      auto rewritten = RewriteCandidate(from_side, line);
      if (!rewritten && !options_.keep_unrelayable) {
        if (dropped) ++*dropped;
        continue;
      }
      line = rewritten ? *rewritten : DemoteCandidatePriority(line);
    }
    out += line + eol;
  }
  return out;
}

void Relay::SetImpairment(int direction, const Impairment& impairment) {
  std::lock_guard<std::mutex> lock(mu_);
  dir_[direction].imp = impairment;
  Wake();
}

void Relay::SetBlackout(int direction, bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  dir_[direction].blackout = on;
}

Impairment Relay::impairment(int direction) const {
  std::lock_guard<std::mutex> lock(mu_);
  return dir_[direction].imp;
}

bool Relay::blackout(int direction) const {
  std::lock_guard<std::mutex> lock(mu_);
  return dir_[direction].blackout;
}

DirectionStats Relay::stats(int direction) const {
  std::lock_guard<std::mutex> lock(mu_);
  return dir_[direction].stats;
}

std::vector<std::string> Relay::Mappings() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& s : socks_) {
    out.push_back(absl::StrCat(s->local.ToString(), " represents ", s->side == 0 ? "A " : "B ", s->real.ToString(),
                               s->learned ? " (learned from traffic)" : ""));
  }
  return out;
}

std::vector<uint16_t> Relay::Ports() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint16_t> out;
  for (const auto& s : socks_) out.push_back(s->local.port);
  return out;
}

std::string Relay::pcap_note() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pcap_note_;
}

void Relay::Loop() {
  std::vector<pollfd> fds;
  std::vector<Sock*> owners;
  uint64_t built = ~0ull;
  std::vector<char> buf(65536);
  while (!stop_) {
    int timeout_ms = 100;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (built != generation_) {
        fds.assign(1, pollfd{wake_[0], POLLIN, 0});
        owners.assign(1, nullptr);
        for (auto& s : socks_) {
          fds.push_back(pollfd{s->fd, POLLIN, 0});
          owners.push_back(s.get());
        }
        built = generation_;
      }
      if (!heap_.empty()) {
        int64_t wait = heap_.front().due_us - NowUs();
        timeout_ms = wait <= 0 ? 0 : static_cast<int>(std::min<int64_t>(100, (wait + 999) / 1000));
      }
    }
    int n = poll(fds.data(), static_cast<nfds_t>(fds.size()), timeout_ms);
    if (stop_) break;
    std::lock_guard<std::mutex> lock(mu_);
    if (n > 0) {
      if (fds[0].revents) {
        char drain[64];
        while (read(wake_[0], drain, sizeof(drain)) > 0) {
        }
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        for (int k = 0; k < kMaxBatch; ++k) {
          sockaddr_in from{};
          socklen_t flen = sizeof(from);
          ssize_t got = recvfrom(fds[i].fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &flen);
          if (got < 0) break;  // EAGAIN (or an ICMP error surfaced: ignore)
          UdpAddr src{ntohl(from.sin_addr.s_addr), ntohs(from.sin_port)};
          OnDatagram(owners[i], src, std::string(buf.data(), static_cast<size_t>(got)), NowUs());
        }
      }
    }
    Flush(NowUs());
  }
}

// Called with mu_ held.
void Relay::OnDatagram(Sock* at, const UdpAddr& src, std::string payload, int64_t now_us) {
  if (by_local_.count(src)) return;  // relay to relay: never happens by construction; refuse loops
  Sock* from = nullptr;
  auto it = by_real_.find(src);
  if (it != by_real_.end()) {
    from = it->second;
  } else {
    // An unsignalled source: represent it from now on (its side is the other one).
    auto s = NewSocketLocked(1 - at->side, src, true);
    if (!s.ok()) return;
    from = *s;
  }
  int d = from->side == 0 ? 0 : 1;  // A→B or B→A
  Direction& dir = dir_[d];
  dir.stats.received++;
  // Five draws per packet whatever the settings (reproducible decisions for the same packet sequence).
  double u_loss = Unit(dir.rng), u_dup = Unit(dir.rng), u_reorder = Unit(dir.rng), u_jitter = Unit(dir.rng),
         u_jitter_dup = Unit(dir.rng);
  const Impairment& imp = dir.imp;
  if (dir.blackout) {
    dir.stats.blackout++;
    return;
  }
  if (u_loss * 100.0 < imp.loss_pct) {
    dir.stats.lost++;
    return;
  }
  int64_t depart = now_us;
  if (imp.rate_kbps > 0) {
    // A serial link of rate_kbps: transmission takes size·8/rate; the backlog waiting for the link
    // is the queue, bounded by queue_bytes (tail drop).
    double bytes_per_us = static_cast<double>(imp.rate_kbps) * 1000.0 / 8.0 / 1e6;
    int64_t start = std::max(now_us, dir.link_free_us);
    double backlog = static_cast<double>(start - now_us) * bytes_per_us;
    if (backlog + static_cast<double>(payload.size()) > static_cast<double>(imp.queue_bytes)) {
      dir.stats.queue_dropped++;
      return;
    }
    dir.link_free_us = start + static_cast<int64_t>(static_cast<double>(payload.size()) / bytes_per_us);
    depart = dir.link_free_us;
  }
  int64_t due = depart + imp.delay_ms * 1000 + static_cast<int64_t>(u_jitter * static_cast<double>(imp.jitter_ms) * 1000.0);
  if (u_reorder * 100.0 < imp.reorder_pct) {
    // Held back: later packets overtake it.
    due += imp.reorder_ms * 1000;
    dir.stats.reordered++;
  } else {
    // Jitter alone keeps FIFO order (a queue on the path varies the delay, it does not reorder):
    // a packet never leaves before the one that entered before it.
    due = std::max(due, dir.last_due_us);
    dir.last_due_us = due;
  }
  int copies = 1;
  if (u_dup * 100.0 < imp.duplicate_pct) {
    copies = 2;
    dir.stats.duplicated++;
  }
  for (int c = 0; c < copies; ++c) {
    if (heap_.size() >= kMaxScheduled) {
      dir.stats.queue_dropped++;
      return;
    }
    int64_t when = c == 0 ? due : due + static_cast<int64_t>(u_jitter_dup * static_cast<double>(imp.jitter_ms) * 1000.0);
    // The capture shows every datagram as A's sockets see the conversation (A's real address ↔ the
    // relay address representing B), so both directions of one 5-tuple form one conversation and
    // dissectors (DTLS) keep their state: A→B as src = A's real source, dst = the relay socket it
    // was sent to; B→A as src = the relay socket it comes from, dst = A's real address.
    UdpAddr cap_from = d == 0 ? src : from->local;
    UdpAddr cap_to = d == 0 ? at->local : at->real;
    heap_.push_back(Pending{when, next_seq_++, from->fd, cap_from, cap_to, at->real, d, payload});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<Pending>());
  }
}

// Called with mu_ held: sends every packet that is due.
void Relay::Flush(int64_t now_us) {
  while (!heap_.empty() && heap_.front().due_us <= now_us) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<Pending>());
    Pending p = std::move(heap_.back());
    heap_.pop_back();
    sockaddr_in to = ToSockaddr(p.dest);
    ssize_t sent = sendto(p.from_fd, p.payload.data(), p.payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    DirectionStats& st = dir_[p.direction].stats;
    if (sent < 0) {
      st.send_errors++;
      continue;
    }
    st.forwarded++;
    st.forwarded_bytes += p.payload.size();
    WritePcap(p.from, p.to, p.payload);
  }
}

// Called with mu_ held.
void Relay::WritePcap(const UdpAddr& from, const UdpAddr& to, const std::string& payload) {
  if (!pcap_) return;
  uint32_t len = static_cast<uint32_t>(20 + 8 + payload.size());
  if (pcap_bytes_ + 16 + len > options_.pcap_cap) {
    pcap_note_ = absl::StrCat("capture stopped at the ", options_.pcap_cap, "-byte cap");
    fclose(pcap_);
    pcap_ = nullptr;
    return;
  }
  // IPv4 (RFC 791) + UDP (RFC 768, checksum 0 = none) headers in network byte order.
  std::string pkt;
  pkt.reserve(len);
  pkt.push_back(0x45);
  pkt.push_back(0);
  Put16(&pkt, static_cast<uint16_t>(len));
  Put16(&pkt, ip_id_++);
  Put16(&pkt, 0x4000);  // DF
  pkt.push_back(64);
  pkt.push_back(17);
  Put16(&pkt, 0);
  Put32(&pkt, from.ip);
  Put32(&pkt, to.ip);
  uint16_t sum = IpChecksum(pkt);
  pkt[10] = static_cast<char>(sum >> 8);
  pkt[11] = static_cast<char>(sum & 0xff);
  Put16(&pkt, from.port);
  Put16(&pkt, to.port);
  Put16(&pkt, static_cast<uint16_t>(8 + payload.size()));
  Put16(&pkt, 0);
  pkt += payload;
  timeval tv{};
  gettimeofday(&tv, nullptr);
  uint32_t rec[4] = {static_cast<uint32_t>(tv.tv_sec), static_cast<uint32_t>(tv.tv_usec), len, len};
  fwrite(rec, 4, 4, pcap_);
  fwrite(pkt.data(), 1, pkt.size(), pcap_);
  pcap_bytes_ += 16 + len;
}

// ------------------------------------------------------------------ scenario syntax

namespace {

absl::Status BadNet(const std::string& what) { return absl::InvalidArgumentError(absl::StrCat("network: ", what)); }

absl::Status ParseDirection(const json& j, bool dirs[2]) {
  auto it = j.find("direction");
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_string()) return BadNet("\"direction\" is \"both\", \"AtoB\" or \"BtoA\"");
  const std::string& d = it->get_ref<const std::string&>();
  if (d == "both") {
    dirs[0] = dirs[1] = true;
  } else if (d == "AtoB") {
    dirs[0] = true;
    dirs[1] = false;
  } else if (d == "BtoA") {
    dirs[0] = false;
    dirs[1] = true;
  } else {
    return BadNet(absl::StrCat("\"direction\" is \"both\", \"AtoB\" or \"BtoA\", not \"", d, "\""));
  }
  return absl::OkStatus();
}

absl::Status GetNumber(const json& j, const char* key, double lo, double hi, double* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_number()) return BadNet(absl::StrCat("impair.", key, " must be a number"));
  double v = it->get<double>();
  if (!(v >= lo && v <= hi)) return BadNet(absl::StrCat("impair.", key, " must be in [", lo, ", ", hi, "]"));
  *out = v;
  return absl::OkStatus();
}

absl::Status GetMs(const json& j, const char* key, int64_t lo, int64_t hi, int64_t* out) {
  double v = static_cast<double>(*out);
  if (auto st = GetNumber(j, key, static_cast<double>(lo), static_cast<double>(hi), &v); !st.ok()) return st;
  *out = static_cast<int64_t>(v);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<NetworkChange> ParseNetworkChange(const json& body, bool scenario_level) {
  if (!body.is_object()) return BadNet("must be an object");
  NetworkChange c;
  static const char* kKeys[] = {"relay", "impair", "blackout", "direction"};
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string k = it.key();
    if (std::find_if(std::begin(kKeys), std::end(kKeys), [&k](const char* x) { return k == x; }) == std::end(kKeys)) {
      return BadNet(absl::StrCat("unknown key \"", k, "\" (relay, impair, blackout, direction)"));
    }
  }
  if (body.contains("relay")) {
    if (!scenario_level) return BadNet("\"relay\" belongs to the scenario-level \"network\"");
    if (!body["relay"].is_boolean() || !body["relay"].get<bool>()) {
      return BadNet("\"relay\" must be true (omit \"network\" for a direct path)");
    }
  }
  if (auto st = ParseDirection(body, c.blackout_dir); !st.ok()) return st;
  c.impair_dir[0] = c.blackout_dir[0];
  c.impair_dir[1] = c.blackout_dir[1];
  if (body.contains("blackout")) {
    if (!body["blackout"].is_boolean()) return BadNet("\"blackout\" is true or false");
    c.blackout = body["blackout"].get<bool>();
  }
  if (body.contains("impair")) {
    c.set_impair = true;
    const json& imp = body["impair"];
    if (!imp.is_null()) {
      if (!imp.is_object()) return BadNet("\"impair\" is an object or null (clear)");
      static const char* kImp[] = {"loss", "delayMs", "jitterMs", "reorder", "reorderMs", "duplicate", "rateKbps",
                                   "queueBytes", "direction"};
      for (auto it = imp.begin(); it != imp.end(); ++it) {
        const std::string k = it.key();
        if (std::find_if(std::begin(kImp), std::end(kImp), [&k](const char* x) { return k == x; }) == std::end(kImp)) {
          return BadNet(absl::StrCat("unknown impair key \"", k,
                                     "\" (loss, delayMs, jitterMs, reorder, reorderMs, duplicate, rateKbps, queueBytes, direction)"));
        }
      }
      Impairment& i = c.impair;
      if (auto st = GetNumber(imp, "loss", 0, 100, &i.loss_pct); !st.ok()) return st;
      if (auto st = GetMs(imp, "delayMs", 0, 10000, &i.delay_ms); !st.ok()) return st;
      if (auto st = GetMs(imp, "jitterMs", 0, 10000, &i.jitter_ms); !st.ok()) return st;
      if (auto st = GetNumber(imp, "reorder", 0, 100, &i.reorder_pct); !st.ok()) return st;
      if (auto st = GetMs(imp, "reorderMs", 0, 10000, &i.reorder_ms); !st.ok()) return st;
      if (auto st = GetNumber(imp, "duplicate", 0, 100, &i.duplicate_pct); !st.ok()) return st;
      if (auto st = GetMs(imp, "rateKbps", 0, 10000000, &i.rate_kbps); !st.ok()) return st;
      if (auto st = GetMs(imp, "queueBytes", 1500, 64 << 20, &i.queue_bytes); !st.ok()) return st;
      if (auto st = ParseDirection(imp, c.impair_dir); !st.ok()) return st;
    }
  }
  if (!scenario_level && !c.set_impair && !c.blackout) return BadNet("a network step needs \"impair\" or \"blackout\"");
  if (scenario_level && c.blackout) return BadNet("\"blackout\" is a step (the scenario-level network starts without one)");
  return c;
}

void ApplyNetworkChange(Relay& relay, const NetworkChange& change) {
  for (int d = 0; d < 2; ++d) {
    if (change.set_impair && change.impair_dir[d]) relay.SetImpairment(d, change.impair);
    if (change.blackout && change.blackout_dir[d]) relay.SetBlackout(d, *change.blackout);
  }
}

}  // namespace refrtc::harness
