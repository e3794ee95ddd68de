#include "sctp/sctp_transport.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <usrsctp.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "util/dom_exception.h"

// ---------------------------------------------------------------------------------------------
// usrsctp's wall clock.
//
// In nothreads mode usrsctp's timer wheel only moves through usrsctp_handle_timers(elapsed), which
// we drive from the host's `now` (AdvanceClock below). But usrsctp ALSO timestamps things with
// gettimeofday() (SCTP_GETTIME_TIMEVAL) and compares those stamps with its RTO/timer intervals:
//  * sctp_heartbeat_timer() only sends a HEARTBEAT when heart_beat_delay (30 s) of gettimeofday time
//    has passed since the last packet to the path;
//  * sctp_mark_all_for_resend() (T3-rtx expiry) only retransmits chunks whose send stamp is older
//    than gettimeofday() - (SRTT + 4 RTTVAR);
//  * RTT samples (RFC 4960 §6.3.1), cookie lifetime, PR-SCTP TTL (RFC 3758) use it too.
// When the host's clock is not the system clock (a virtual-time test runs minutes of protocol time
// in milliseconds), the two clocks disagree: T3 expiries mark nothing, so each expiry only raises
// the path error count until the only path is marked INACTIVE (RFC 4960 §8.2, Path.Max.Retrans);
// data to an inactive path waits for a HEARTBEAT-ACK, and the HEARTBEAT is never sent because 30 s
// of *real* time never pass — the association stalls forever with its send buffer full.
//
// Fix: usrsctp gets the same clock as its timers. While a Transport is inside a usrsctp call (on
// this thread), gettimeofday() — the only clock usrsctp reads — returns a monotonic "usrsctp time"
// that advances by exactly the milliseconds fed to usrsctp_handle_timers(). Every other caller of
// gettimeofday() in the process gets the real time. (Interposition: the definition below takes
// precedence over libc's for the shared libusrsctp. Static WASM builds skip it: there the host
// clock is the real clock anyway.)
namespace refrtc::sctp {
namespace {
// Origin far from 0: usrsctp treats tv_sec == 0 as "never" and subtracts RTOs from now.
constexpr int64_t kUsrsctpClockOriginUs = int64_t{1000000} * 1000000;
std::atomic<int64_t> g_usrsctp_clock_us{kUsrsctpClockOriginUs};
thread_local int g_inside_usrsctp = 0;

// Marks "this thread is inside usrsctp on behalf of a Transport" (nests).
class UsrsctpCall {
 public:
  UsrsctpCall() { ++g_inside_usrsctp; }
  ~UsrsctpCall() { --g_inside_usrsctp; }
  UsrsctpCall(const UsrsctpCall&) = delete;
  UsrsctpCall& operator=(const UsrsctpCall&) = delete;
};
}  // namespace
}  // namespace refrtc::sctp

#if defined(__linux__) && !defined(__EMSCRIPTEN__) && !defined(__USE_TIME_BITS64)
extern "C" int gettimeofday(struct timeval* __restrict tv, void* __restrict tz) __THROW {
  if (tz != nullptr) std::memset(tz, 0, sizeof(struct timezone));  // obsolete; glibc zeroes it
  if (refrtc::sctp::g_inside_usrsctp > 0) {
    const int64_t us = refrtc::sctp::g_usrsctp_clock_us.load(std::memory_order_relaxed);
    tv->tv_sec = static_cast<time_t>(us / 1000000);
    tv->tv_usec = static_cast<suseconds_t>(us % 1000000);
    return 0;
  }
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
  tv->tv_sec = ts.tv_sec;
  tv->tv_usec = static_cast<suseconds_t>(ts.tv_nsec / 1000);
  return 0;
}
#endif

namespace refrtc::sctp {
namespace {

// SCTP packet size budget: 1200-byte UDP payloads (the common WebRTC choice) minus the worst
// DTLS 1.2 record overhead (13-byte header + 8-byte explicit nonce + 16-byte AEAD tag).
constexpr uint32_t kMaxSctpPacket = 1200 - 37;
// RTO bounds (RFC 4960 §6.3.1 allows tuning). Initial 1 s as RFC 6298 suggests for fresh paths.
constexpr uint32_t kRtoInitialMs = 1000;
// RTO.Min 200 ms (RFC 9260 suggests 1 s; usrsctp's WebRTC users commonly ran 400 ms). On the
// low-RTT paths of a LAN or loopback the computed RTO (SRTT + 4·RTTVAR) is below any minimum, so
// the minimum alone decides how long a lost retransmission (which fast retransmit cannot repair a
// second time, RFC 9260 §7.2.4) stalls the association. Measured in virtual time, 20 × 70 KB at
// 10 % loss: 35 s in total over 8 seeded runs with 400 ms, 20 s with 200 ms. On longer paths the
// computed RTO is larger and governs.
constexpr uint32_t kRtoMinMs = 200;
constexpr uint32_t kRtoMaxMs = 10000;
constexpr int kSocketBufferBytes = 2 * 1024 * 1024;
constexpr size_t kReadChunk = 64 * 1024;
// Timer granularity while anything is in flight / idle (usrsctp does not expose its next
// deadline, so we poll its timer wheel at these intervals; see the header comment).
constexpr auto kBusyTick = milliseconds(10);
constexpr auto kIdleTick = milliseconds(100);

// Process-global usrsctp glue: address-token → Transport routing and the shared timer clock.
// All Transports of a process must be driven from one thread (usrsctp's callbacks write into the
// owning Transport's queues synchronously).
struct Global {
  std::mutex mu;
  std::unordered_map<uintptr_t, Transport*> routes;
  uintptr_t next_token = 0x1000;
  std::optional<Instant> last_tick;
};
Global& G() {
  static Global* g = new Global;  // never destroyed: usrsctp is never torn down either
  return *g;
}

Instant LastTick() {
  std::lock_guard<std::mutex> l(G().mu);
  return G().last_tick.value_or(Instant{});
}

sockaddr_conn MakeConn(void* token, uint16_t port) {
  sockaddr_conn a;
  std::memset(&a, 0, sizeof(a));
  a.sconn_family = AF_CONN;
  a.sconn_port = htons(port);
  a.sconn_addr = token;
  return a;
}

// Security filter in front of usrsctp (issue F): RFC 9260 §3.2.1 — a parameter's length includes
// its 4-byte header, so a length below 4 or one running past the end of its chunk is malformed.
// usrsctp 0.9.5.0 (Debian's, and the WASM build's) walks the parameters of an INIT received on an
// existing association (sctp_are_there_new_addresses, building the INIT-ACK) by their length
// without this check: a zero-length parameter never advances the walk and one packet from the
// peer hangs the whole process (usrsctp #570, fixed upstream in c08562e after that release). The
// chunks whose value is a TLV parameter list (after a fixed part) are checked here, and a packet
// with a malformed list is dropped as a whole — a legitimate peer never sends one.
size_t FixedPartBeforeParameters(uint8_t chunk_type) {
  switch (chunk_type) {
    case 1:     // INIT (RFC 9260 §3.3.2): tag, a_rwnd, OS, MIS, initial TSN
    case 2:     // INIT ACK (§3.3.3)
      return 16;
    case 0xC1:  // ASCONF (RFC 5061 §4.1.1): serial number
    case 0x80:  // ASCONF-ACK (RFC 5061 §4.1.2)
      return 4;
    case 0x82:  // RE-CONFIG (RFC 6525 §3.1): parameters only
      return 0;
    default:
      return SIZE_MAX;  // not a parameter-list chunk
  }
}

bool WellFormedParameters(ByteView packet) {
  constexpr size_t kCommonHeader = 12;  // RFC 9260 §3.1
  size_t off = kCommonHeader;
  while (off + 4 <= packet.size()) {
    const uint8_t type = packet[off];
    const size_t chunk_len = static_cast<size_t>(packet[off + 2]) << 8 | packet[off + 3];
    // Chunk-level framing errors are usrsctp's to handle (it stops at them); only look inside
    // chunks that are complete.
    if (chunk_len < 4 || chunk_len > packet.size() - off) return true;
    const size_t fixed = FixedPartBeforeParameters(type);
    if (fixed != SIZE_MAX && chunk_len >= 4 + fixed) {
      const size_t end = off + chunk_len;
      size_t p = off + 4 + fixed;
      while (p + 4 <= end) {
        const size_t param_len = static_cast<size_t>(packet[p + 2]) << 8 | packet[p + 3];
        if (param_len < 4 || param_len > end - p) return false;
        p += (param_len + 3) & ~size_t{3};
      }
    }
    off += (chunk_len + 3) & ~size_t{3};
  }
  return true;
}

template <typename T>
int SetOpt(struct socket* s, int level, int name, const T& v) {
  return usrsctp_setsockopt(s, level, name, &v, static_cast<socklen_t>(sizeof(v)));
}

}  // namespace

int Transport::ConnOutput(void* addr, void* buffer, size_t length, uint8_t, uint8_t) {
  // Called synchronously from inside usrsctp (any Transport's call may trigger output of
  // another's association through the shared timer wheel). Only queue: never re-enter usrsctp.
  Global& g = G();
  std::lock_guard<std::mutex> l(g.mu);
  auto it = g.routes.find(reinterpret_cast<uintptr_t>(addr));
  if (it == g.routes.end()) return 0;  // torn down: drop
  const uint8_t* p = static_cast<const uint8_t*>(buffer);
  it->second->outgoing_packets_.emplace_back(p, p + length);
  return 0;
}

void Transport::Upcall(struct socket*, void* arg, int) {
  // Only remember that the socket has something for us; it is drained by the next Pump.
  static_cast<Transport*>(arg)->upcall_pending_ = true;
}

Transport::Transport(bool is_dtls_client, uint16_t local_port, uint16_t remote_port)
    : is_dtls_client_(is_dtls_client), local_port_(local_port), remote_port_(remote_port) {
  UsrsctpCall in_usrsctp;
  static std::once_flag init_once;
  std::call_once(init_once, [] {
    // Port 0: no UDP encapsulation; AF_CONN only. Never finished (process-global).
    usrsctp_init_nothreads(0, &Transport::ConnOutput, nullptr);
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_pr_enable(1);        // RFC 3758 PR-SCTP (RFC 8831 §6.1)
    usrsctp_sysctl_set_sctp_reconfig_enable(1);  // RFC 6525 stream reset (RFC 8831 §6.7)
  });
  {
    Global& g = G();
    std::lock_guard<std::mutex> l(g.mu);
    uintptr_t token = g.next_token;
    g.next_token += 0x10;
    addr_token_ = reinterpret_cast<void*>(token);
    g.routes[token] = this;
  }
  usrsctp_register_address(addr_token_);
  sock_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (sock_) ConfigureSocket();
}

// Abortive close: the association is freed now instead of lingering in the global stack.
void Transport::AbortSocket() {
  usrsctp_set_upcall(sock_, nullptr, nullptr);
  struct linger lg;
  lg.l_onoff = 1;
  lg.l_linger = 0;
  SetOpt(sock_, SOL_SOCKET, SO_LINGER, lg);
  usrsctp_close(sock_);
  sock_ = nullptr;
}

Transport::~Transport() {
  UsrsctpCall in_usrsctp;
  if (sock_) {
    AbortSocket();
  }
  usrsctp_deregister_address(addr_token_);
  Global& g = G();
  std::lock_guard<std::mutex> l(g.mu);
  g.routes.erase(reinterpret_cast<uintptr_t>(addr_token_));
}

void Transport::ConfigureSocket() {
  usrsctp_set_non_blocking(sock_, 1);
  usrsctp_set_upcall(sock_, &Transport::Upcall, this);
  int on = 1;
  SetOpt(sock_, IPPROTO_SCTP, SCTP_NODELAY, on);
  SetOpt(sock_, IPPROTO_SCTP, SCTP_EXPLICIT_EOR, on);  // messages are whole; EOR marks the end
  SetOpt(sock_, IPPROTO_SCTP, SCTP_RECVRCVINFO, on);   // stream id + PPID on every read
  SetOpt(sock_, SOL_SOCKET, SO_SNDBUF, kSocketBufferBytes);
  SetOpt(sock_, SOL_SOCKET, SO_RCVBUF, kSocketBufferBytes);
  sctp_assoc_value reset{};
  reset.assoc_id = SCTP_ALL_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;  // RFC 8831 §6.7 closes by stream reset
  SetOpt(sock_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset);
  sctp_initmsg init{};
  init.sinit_num_ostreams = kMaxStreams;
  init.sinit_max_instreams = kMaxStreams;
  SetOpt(sock_, IPPROTO_SCTP, SCTP_INITMSG, init);
  sctp_rtoinfo rto{};
  rto.srto_initial = kRtoInitialMs;
  rto.srto_min = kRtoMinMs;
  rto.srto_max = kRtoMaxMs;
  SetOpt(sock_, IPPROTO_SCTP, SCTP_RTOINFO, rto);
  for (uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_SENDER_DRY_EVENT,
                        SCTP_PARTIAL_DELIVERY_EVENT, SCTP_SHUTDOWN_EVENT}) {
    sctp_event ev{};
    ev.se_assoc_id = SCTP_ALL_ASSOC;
    ev.se_type = type;
    ev.se_on = 1;
    SetOpt(sock_, IPPROTO_SCTP, SCTP_EVENT, ev);
  }
  sockaddr_conn local = MakeConn(addr_token_, local_port_);
  if (usrsctp_bind(sock_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    usrsctp_close(sock_);
    sock_ = nullptr;
  }
}

void Transport::SetRemoteMaxMessageSize(uint64_t bytes) { remote_max_message_size_ = bytes; }

uint64_t Transport::max_message_size() const {
  // W3C webrtc §6.1.1 "update the data max message size": 0 remote = unlimited.
  if (remote_max_message_size_ == 0) return kLocalMaxMessageSize;
  return std::min(remote_max_message_size_, kLocalMaxMessageSize);
}

uint16_t Transport::max_channels() const { return max_channels_; }

void Transport::AdvanceClock(Instant now) {
  uint32_t elapsed = 0;
  {
    Global& g = G();
    std::lock_guard<std::mutex> l(g.mu);
    if (!g.last_tick) {
      g.last_tick = now;
    } else if (now > *g.last_tick) {
      int64_t ms = ToMillis(now - *g.last_tick);
      ms = std::min<int64_t>(ms, 3600 * 1000);
      elapsed = static_cast<uint32_t>(ms);
      *g.last_tick += milliseconds(ms);  // keep the sub-millisecond remainder for later
      // usrsctp's gettimeofday() moves with its timer wheel (see the top of this file).
      g_usrsctp_clock_us.fetch_add(ms * 1000, std::memory_order_relaxed);
    } else if (*g.last_tick - now > seconds(1)) {
      g.last_tick = now;  // a different (restarted) clock: re-base, never run timers backwards
    }
  }
  if (elapsed > 0) {
    UsrsctpCall in_usrsctp;
    usrsctp_handle_timers(elapsed);
  }
}

absl::Status Transport::Start(Instant now) {
  UsrsctpCall in_usrsctp;
  AdvanceClock(now);
  if (!sock_) return absl::InternalError("usrsctp socket could not be created");
  if (state_ != State::kNew) return absl::FailedPreconditionError("SCTP already started");
  sockaddr_conn remote = MakeConn(addr_token_, remote_port_);
  int rc = usrsctp_connect(sock_, reinterpret_cast<sockaddr*>(&remote), sizeof(remote));
  if (rc != 0 && errno != EINPROGRESS) {
    return absl::InternalError(absl::StrCat("usrsctp_connect failed: errno ", errno));
  }
  state_ = State::kConnecting;
  // Fixed path MTU: the packets travel inside DTLS records over ICE (RFC 8261 §5), so PMTU
  // discovery of the lower layers is not visible here.
  sctp_paddrparams params{};
  std::memcpy(&params.spp_address, &remote, sizeof(remote));
  params.spp_flags = SPP_PMTUD_DISABLE;
  params.spp_pathmtu = kMaxSctpPacket;
  SetOpt(sock_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, params);
  Pump();
  return absl::OkStatus();
}

void Transport::HandlePacket(ByteView packet, Instant now) {
  UsrsctpCall in_usrsctp;
  AdvanceClock(now);
  if (!sock_ || state_ == State::kNew || state_ == State::kClosed) return;
  if (packet.empty()) return;
  if (!WellFormedParameters(packet)) {
    ++dropped_malformed_;
    return;
  }
  usrsctp_conninput(addr_token_, packet.data(), packet.size(), 0);
  Pump();
}

std::optional<Bytes> Transport::PollOutgoing() {
  if (outgoing_packets_.empty()) return std::nullopt;
  Bytes b = std::move(outgoing_packets_.front());
  outgoing_packets_.pop_front();
  return b;
}

void Transport::HandleTimeout(Instant now) {
  UsrsctpCall in_usrsctp;
  AdvanceClock(now);
  if (sock_ && state_ != State::kNew) Pump();
  upcall_pending_ = false;
}

bool Transport::HasUnackedData() const {
  UsrsctpCall in_usrsctp;
  if (!sock_) return false;
  sctp_status st{};
  socklen_t len = sizeof(st);
  if (usrsctp_getsockopt(sock_, IPPROTO_SCTP, SCTP_STATUS, &st, &len) != 0) return false;
  return st.sstat_unackdata > 0 || st.sstat_penddata > 0;
}

std::optional<Instant> Transport::PollTimeout() const {
  const Instant last = LastTick();
  // Work that appeared through the shared usrsctp stack (another Transport's timer tick can
  // make our association send or fail): ask to be called right away.
  if (!outgoing_packets_.empty() || upcall_pending_) return last;
  // API calls only queue; the queued work is handed to usrsctp on the next pump.
  if (pump_wanted_ && state_ == State::kUp) return last;
  if (!sock_ || state_ == State::kNew || state_ == State::kClosed) return std::nullopt;
  bool busy = state_ != State::kUp || !send_queue_.empty() || HasUnackedData();
  for (const auto& [sid, ch] : channels_) {
    if (ch.reset_wanted && !ch.out_reset) busy = true;
  }
  return last + (busy ? kBusyTick : kIdleTick);
}

std::optional<Event> Transport::PollEvent() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void Transport::Pump() {
  if (in_pump_ || !sock_) return;
  UsrsctpCall in_usrsctp;
  in_pump_ = true;
  ReadAll();
  FlushSendQueue();
  ProcessResets();
  ReadAll();
  upcall_pending_ = false;
  pump_wanted_ = false;
  in_pump_ = false;
}

void Transport::ReadAll() {
  std::vector<uint8_t> buf(kReadChunk);
  while (sock_ && state_ != State::kClosed) {
    sockaddr_conn from;
    socklen_t fromlen = sizeof(from);
    sctp_rcvinfo rcv{};
    socklen_t infolen = sizeof(rcv);
    unsigned int infotype = 0;
    int flags = 0;
    ssize_t n = usrsctp_recvv(sock_, buf.data(), buf.size(), reinterpret_cast<sockaddr*>(&from),
                              &fromlen, &rcv, &infolen, &infotype, &flags);
    if (n < 0) break;  // EWOULDBLOCK: drained (or not connected yet)
    if (n == 0) {
      // End of stream: the association is gone (SHUTDOWN completed or aborted).
      if (state_ == State::kUp || state_ == State::kShuttingDown) {
        OnAssociationDown("shutdown");
      }
      break;
    }
    const size_t len = static_cast<size_t>(n);
    if (flags & MSG_NOTIFICATION) {
      if (notification_partial_.size() + len > 1024 * 1024) {
        notification_partial_.clear();  // absurd: drop
        continue;
      }
      notification_partial_.insert(notification_partial_.end(), buf.begin(), buf.begin() + n);
      if (flags & MSG_EOR) {
        Bytes note = std::move(notification_partial_);
        notification_partial_.clear();
        HandleNotification(note.data(), note.size());
      }
      continue;
    }
    if (infotype != SCTP_RECVV_RCVINFO) continue;
    const uint16_t sid = rcv.rcv_sid;
    const uint32_t ppid = ntohl(rcv.rcv_ppid);
    const bool eor = (flags & MSG_EOR) != 0;
    if (discarding_.count(sid)) {
      if (eor) discarding_.erase(sid);
      continue;
    }
    auto it = partial_in_.find(sid);
    if (it == partial_in_.end()) {
      if (eor) {
        HandleData(sid, ppid, Bytes(buf.begin(), buf.begin() + n));
        continue;
      }
      it = partial_in_.emplace(sid, std::make_pair(ppid, Bytes())).first;
    }
    Bytes& acc = it->second.second;
    // Reassembly cap (our advertised max-message-size, RFC 8841 §6): discard larger messages.
    if (acc.size() + len > kLocalMaxMessageSize) {
      partial_in_.erase(it);
      ++discarded_oversized_;
      if (!eor) discarding_.insert(sid);
      continue;
    }
    acc.insert(acc.end(), buf.begin(), buf.begin() + n);
    if (eor) {
      uint32_t first_ppid = it->second.first;
      Bytes msg = std::move(acc);
      partial_in_.erase(it);
      HandleData(sid, first_ppid, std::move(msg));
    }
  }
}

void Transport::HandleNotification(const uint8_t* data, size_t len) {
  if (len < sizeof(sctp_notification::sn_header)) return;
  sctp_notification::sctp_tlv hdr;
  std::memcpy(&hdr, data, sizeof(hdr));
  switch (hdr.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      if (len < sizeof(sctp_assoc_change)) return;
      sctp_assoc_change ac;
      std::memcpy(&ac, data, sizeof(ac));
      switch (ac.sac_state) {
        case SCTP_COMM_UP:
          OnAssociationUp(ac.sac_inbound_streams, ac.sac_outbound_streams);
          break;
        case SCTP_RESTART:
          break;  // same streams; nothing to do for data channels
        case SCTP_COMM_LOST:
          OnAssociationDown("association lost (COMM_LOST/ABORT)");
          break;
        case SCTP_SHUTDOWN_COMP:
          OnAssociationDown("shutdown");
          break;
        case SCTP_CANT_STR_ASSOC:
          OnAssociationDown("could not establish association");
          break;
      }
      break;
    }
    case SCTP_SHUTDOWN_EVENT:
      // The peer sent SHUTDOWN (RFC 4960 §9.2): no new data; wait for SHUTDOWN_COMP.
      if (state_ == State::kUp) state_ = State::kShuttingDown;
      break;
    case SCTP_PARTIAL_DELIVERY_EVENT: {
      if (len < sizeof(sctp_pdapi_event)) return;
      sctp_pdapi_event pd;
      std::memcpy(&pd, data, sizeof(pd));
      if (pd.pdapi_indication == SCTP_PARTIAL_DELIVERY_ABORTED && pd.pdapi_stream <= 0xffff) {
        partial_in_.erase(static_cast<uint16_t>(pd.pdapi_stream));
        discarding_.erase(static_cast<uint16_t>(pd.pdapi_stream));
      }
      break;
    }
    case SCTP_STREAM_RESET_EVENT: {
      if (len < sizeof(sctp_stream_reset_event)) return;
      sctp_stream_reset_event ev;
      std::memcpy(&ev, data, sizeof(ev));
      size_t total = std::min<size_t>(len, ev.strreset_length);
      if (total < sizeof(sctp_stream_reset_event)) return;
      size_t count = (total - sizeof(sctp_stream_reset_event)) / sizeof(uint16_t);
      const uint8_t* list = data + sizeof(sctp_stream_reset_event);
      const bool failed =
          (ev.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) != 0;
      for (size_t i = 0; i < count; ++i) {
        uint16_t sid;
        std::memcpy(&sid, list + 2 * i, 2);
        auto it = channels_.find(sid);
        if (it == channels_.end()) continue;
        Channel& ch = it->second;
        if (ev.strreset_flags & SCTP_STREAM_RESET_OUTGOING_SSN) {
          if (failed) {
            ch.reset_requested = false;  // try again on the next pump
          } else {
            ch.out_reset = true;
          }
        }
        if ((ev.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) && !failed) {
          // RFC 8831 §6.7: the peer reset its outgoing stream; we reset ours in turn.
          ch.in_reset = true;
          partial_in_.erase(sid);
          discarding_.erase(sid);
          if (ch.state != ChannelState::kClosing) {
            ch.state = ChannelState::kClosing;
            events_.push_back(EventChannelClosing{StreamId(sid)});
          }
          ch.reset_wanted = true;
        }
        MaybeFinishClose(sid);
      }
      break;
    }
    default:
      break;
  }
}

void Transport::OnAssociationUp(uint16_t in_streams, uint16_t out_streams) {
  if (state_ != State::kConnecting) return;
  state_ = State::kUp;
  max_channels_ = std::min(in_streams, out_streams);
  events_.push_back(EventAssociationUp{});
  // Channels whose id does not fit the negotiated stream count cannot exist (W3C: closed).
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (it->first >= max_channels_) {
      const uint16_t sid = it->first;
      send_queue_.erase(std::remove_if(send_queue_.begin(), send_queue_.end(),
                                       [sid](const Outgoing& o) { return o.sid == sid; }),
                        send_queue_.end());
      events_.push_back(EventChannelClosed{StreamId(sid)});
      it = channels_.erase(it);
      continue;
    }
    if (it->second.init.negotiated && it->second.state == ChannelState::kConnecting) {
      it->second.state = ChannelState::kOpen;
      events_.push_back(EventChannelOpen{StreamId(it->first)});
    }
    ++it;
  }
}

void Transport::OnAssociationDown(const std::string& reason) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  events_.push_back(EventAssociationDown{reason});
  // W3C webrtc §6.2: when the SCTP transport closes, every data channel closes.
  for (auto& [sid, ch] : channels_) events_.push_back(EventChannelClosed{StreamId(sid)});
  channels_.clear();
  send_queue_.clear();
  partial_in_.clear();
  discarding_.clear();
}

void Transport::HandleData(uint16_t sid, uint32_t ppid, Bytes data) {
  if (ppid == kPpidDcep) {
    HandleDcep(sid, data);
    return;
  }
  auto it = channels_.find(sid);
  if (it == channels_.end()) return;  // no channel on this stream: drop
  Channel& ch = it->second;
  if (ch.we_opened && !ch.acked && ch.state == ChannelState::kConnecting) {
    // RFC 8832 §6: user data on the stream implies the peer processed our OPEN.
    ch.acked = true;
    ch.state = ChannelState::kOpen;
    events_.push_back(EventChannelOpen{StreamId(sid)});
  }
  // W3C webrtc §6.2 "receiving messages": discarded unless the channel is open.
  if (ch.state != ChannelState::kOpen) return;
  switch (ppid) {
    case kPpidString:
      events_.push_back(EventMessage{StreamId(sid), std::move(data), false});
      break;
    case kPpidBinary:
      events_.push_back(EventMessage{StreamId(sid), std::move(data), true});
      break;
    case kPpidStringEmpty:  // RFC 8831 §6.6: the single payload byte is ignored
      events_.push_back(EventMessage{StreamId(sid), Bytes(), false});
      break;
    case kPpidBinaryEmpty:
      events_.push_back(EventMessage{StreamId(sid), Bytes(), true});
      break;
    default:
      break;  // 52/54 (deprecated partial delivery) and unknown PPIDs are dropped
  }
}

void Transport::HandleDcep(uint16_t sid, ByteView data) {
  auto msg = ParseDcep(data);
  if (!msg.ok()) return;  // malformed DCEP: dropped
  if (auto* open = std::get_if<DcepOpen>(&*msg)) {
    // RFC 8832 §6: the peer must use the other parity; a wrong-parity or in-use id (also a
    // negotiated channel on that id) is ignored.
    if (OurParity(sid) || channels_.count(sid) || sid >= max_channels_) return;
    if (state_ != State::kUp) return;
    Channel ch;
    ch.init.label = open->label;
    ch.init.protocol = open->protocol;
    ch.init.priority = open->priority;
    ch.init.ordered = (open->channel_type & 0x80) == 0;
    const uint16_t param = static_cast<uint16_t>(std::min<uint32_t>(open->reliability_param, 0xffff));
    switch (open->channel_type & 0x7f) {
      case kChannelPartialReliableRexmit:
        ch.init.max_retransmits = param;
        break;
      case kChannelPartialReliableTimed:
        ch.init.max_packet_life_time_ms = param;
        break;
      default:
        break;
    }
    ch.acked = true;
    ch.state = ChannelState::kOpen;
    ChannelInit init = ch.init;
    channels_.emplace(sid, std::move(ch));
    // RFC 8832 §6: answer with DATA_CHANNEL_ACK on the same stream.
    Enqueue(sid, kPpidDcep, SerializeAck(), /*control=*/true);
    events_.push_back(EventIncomingChannel{StreamId(sid), std::move(init)});
    return;
  }
  // DATA_CHANNEL_ACK.
  auto it = channels_.find(sid);
  if (it == channels_.end()) return;
  Channel& ch = it->second;
  if (!ch.we_opened || ch.acked) return;
  ch.acked = true;
  if (ch.state == ChannelState::kConnecting) {
    ch.state = ChannelState::kOpen;
    events_.push_back(EventChannelOpen{StreamId(sid)});
  }
}

void Transport::Enqueue(uint16_t sid, uint32_t ppid, Bytes data, bool control) {
  Outgoing o;
  o.sid = sid;
  o.ppid = ppid;
  o.control = control;
  o.counted = !control && ppid != kPpidStringEmpty && ppid != kPpidBinaryEmpty;
  if (o.counted) {
    auto it = channels_.find(sid);
    if (it != channels_.end()) it->second.buffered += data.size();
  }
  o.data = std::move(data);
  send_queue_.push_back(std::move(o));
}

void Transport::FlushSendQueue() {
  while (state_ == State::kUp && !send_queue_.empty()) {
    Outgoing& m = send_queue_.front();
    auto it = channels_.find(m.sid);
    Channel* ch = it == channels_.end() ? nullptr : &it->second;
    sctp_sendv_spa spa{};
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    spa.sendv_sndinfo.snd_sid = m.sid;
    spa.sendv_sndinfo.snd_ppid = htonl(m.ppid);
    if (!m.started) {
      // RFC 8832 §6: DCEP messages, and user data before our OPEN is acknowledged, go ordered
      // so that the OPEN is processed first.
      m.flags = 0;
      if (!m.control && ch && !ch->init.ordered && ch->acked) m.flags |= SCTP_UNORDERED;
    }
    spa.sendv_sndinfo.snd_flags = m.flags | SCTP_EOR;
    if (!m.control && ch) {
      // RFC 8831 §6.1 partial reliability via PR-SCTP (RFC 3758).
      if (ch->init.max_retransmits) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
        spa.sendv_prinfo.pr_value = *ch->init.max_retransmits;
      } else if (ch->init.max_packet_life_time_ms) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
        spa.sendv_prinfo.pr_value = *ch->init.max_packet_life_time_ms;
      }
    }
    const size_t remaining = m.data.size() - m.offset;
    ssize_t n = usrsctp_sendv(sock_, m.data.data() + m.offset, remaining, nullptr, 0, &spa,
                              sizeof(spa), SCTP_SENDV_SPA, 0);
    if (n < 0) {
      if (errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS) break;
      // Unsendable (e.g. stream no longer exists): drop this message only.
      n = static_cast<ssize_t>(remaining);
    } else if (n == 0) {
      break;
    }
    m.started = true;
    m.offset += static_cast<size_t>(n);
    if (m.counted && ch) {
      const uint64_t before = ch->buffered;
      ch->buffered -= std::min<uint64_t>(ch->buffered, static_cast<uint64_t>(n));
      if (before > ch->low_threshold && ch->buffered <= ch->low_threshold) {
        events_.push_back(EventBufferedAmountLow{StreamId(m.sid)});
      }
    }
    if (m.offset < m.data.size()) break;  // usrsctp's buffer is full; rest goes later
    send_queue_.pop_front();
  }
}

void Transport::ProcessResets() {
  if (state_ != State::kUp) return;
  std::vector<uint16_t> sids;
  for (auto& [sid, ch] : channels_) {
    if (!ch.reset_wanted || ch.reset_requested || ch.out_reset) continue;
    // Our queued data for the stream goes out first (W3C closing procedure); usrsctp itself
    // holds the reset request until the stream's data is acknowledged (RFC 6525 §5.1.2).
    const uint16_t s = sid;
    bool queued = std::any_of(send_queue_.begin(), send_queue_.end(),
                              [s](const Outgoing& o) { return o.sid == s; });
    if (!queued) sids.push_back(sid);
  }
  if (sids.empty()) return;
  std::vector<uint8_t> buf(sizeof(sctp_reset_streams) + sids.size() * sizeof(uint16_t));
  sctp_reset_streams rs{};
  rs.srs_assoc_id = SCTP_ALL_ASSOC;
  rs.srs_flags = SCTP_STREAM_RESET_OUTGOING;
  rs.srs_number_streams = static_cast<uint16_t>(sids.size());
  std::memcpy(buf.data(), &rs, sizeof(rs));
  std::memcpy(buf.data() + sizeof(rs), sids.data(), sids.size() * sizeof(uint16_t));
  if (usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_RESET_STREAMS, buf.data(),
                         static_cast<socklen_t>(buf.size())) == 0) {
    for (uint16_t sid : sids) channels_[sid].reset_requested = true;
  }
  // Otherwise (a request is already outstanding) retried on a later pump.
}

void Transport::MaybeFinishClose(uint16_t sid) {
  auto it = channels_.find(sid);
  if (it == channels_.end()) return;
  if (it->second.in_reset && it->second.out_reset) {
    channels_.erase(it);
    events_.push_back(EventChannelClosed{StreamId(sid)});
  }
}

absl::StatusOr<StreamId> Transport::OpenChannel(const ChannelInit& init,
                                                std::optional<uint16_t> id, Instant now) {
  AdvanceClock(now);
  if (state_ == State::kClosed || state_ == State::kShuttingDown || !sock_) {
    return InvalidStateError("SCTP transport is closed");
  }
  if (init.max_retransmits && init.max_packet_life_time_ms) {
    return TypeError("maxRetransmits and maxPacketLifeTime are mutually exclusive");
  }
  if (init.label.size() > 0xffff || init.protocol.size() > 0xffff) {
    return TypeError("label or protocol longer than 65535 bytes");
  }
  if (init.negotiated && !id) return TypeError("negotiated channel needs an id");
  uint16_t sid = 0;
  if (id) {
    if (*id == 0xffff) return TypeError("id 65535 is reserved");
    if (state_ == State::kUp && *id >= max_channels_) {
      return OperationError("id exceeds the negotiated number of streams");
    }
    if (channels_.count(*id)) return OperationError("id already in use");
    sid = *id;
  } else {
    // RFC 8832 §6: DTLS client picks even ids, server odd; the lowest free one.
    bool found = false;
    for (uint32_t s = is_dtls_client_ ? 0 : 1; s < max_channels_; s += 2) {
      if (!channels_.count(static_cast<uint16_t>(s))) {
        sid = static_cast<uint16_t>(s);
        found = true;
        break;
      }
    }
    if (!found) return OperationError("no free stream id");
  }
  Channel ch;
  ch.init = init;
  if (init.negotiated) {
    ch.acked = true;
    if (state_ == State::kUp) {
      ch.state = ChannelState::kOpen;
      events_.push_back(EventChannelOpen{StreamId(sid)});
    }
    channels_.emplace(sid, std::move(ch));
  } else {
    ch.we_opened = true;
    channels_.emplace(sid, std::move(ch));
    DcepOpen open;
    const bool unordered = !init.ordered;
    if (init.max_retransmits) {
      open.channel_type = unordered ? kChannelPartialReliableRexmitUnordered
                                    : kChannelPartialReliableRexmit;
      open.reliability_param = *init.max_retransmits;
    } else if (init.max_packet_life_time_ms) {
      open.channel_type = unordered ? kChannelPartialReliableTimedUnordered
                                    : kChannelPartialReliableTimed;
      open.reliability_param = *init.max_packet_life_time_ms;
    } else {
      open.channel_type = unordered ? kChannelReliableUnordered : kChannelReliable;
    }
    open.priority = init.priority;
    open.label = init.label;
    open.protocol = init.protocol;
    // Queued now so that it precedes any data on the stream; sent once the association is up.
    Enqueue(sid, kPpidDcep, Serialize(open), /*control=*/true);
  }
  pump_wanted_ = true;
  return StreamId(sid);
}

absl::Status Transport::Send(StreamId id, ByteView data, bool binary, Instant now) {
  AdvanceClock(now);
  auto it = channels_.find(id.value());
  if (it == channels_.end() || state_ == State::kClosed || state_ == State::kShuttingDown) {
    return InvalidStateError("data channel is not open");
  }
  Channel& ch = it->second;
  if (ch.state == ChannelState::kClosing || ch.state == ChannelState::kClosed) {
    return InvalidStateError("data channel is closing");
  }
  if (data.size() > max_message_size()) {
    return TypeError(absl::StrCat("message of ", data.size(), " bytes exceeds maxMessageSize ",
                                  max_message_size()));
  }
  // W3C webrtc-pc §6.2 send(): the buffer is full → OperationError (kMaxSendQueueBytes).
  uint64_t queued = 0;
  for (const auto& [sid, c] : channels_) queued += c.buffered;
  if (queued + data.size() > kMaxSendQueueBytes) {
    return OperationError(absl::StrCat("send queue is full (", queued, " bytes buffered, limit ",
                                       kMaxSendQueueBytes, ")"));
  }
  if (data.empty()) {
    // RFC 8831 §6.6: an empty message is one byte with the "empty" PPID.
    Enqueue(id.value(), binary ? kPpidBinaryEmpty : kPpidStringEmpty, Bytes{0}, false);
  } else {
    Enqueue(id.value(), binary ? kPpidBinary : kPpidString, Bytes(data.begin(), data.end()),
            false);
  }
  pump_wanted_ = true;
  return absl::OkStatus();
}

uint64_t Transport::buffered_amount(StreamId id) const {
  auto it = channels_.find(id.value());
  return it == channels_.end() ? 0 : it->second.buffered;
}

void Transport::SetBufferedAmountLowThreshold(StreamId id, uint64_t threshold) {
  auto it = channels_.find(id.value());
  if (it != channels_.end()) it->second.low_threshold = threshold;
}

void Transport::CloseChannel(StreamId id, Instant now) {
  AdvanceClock(now);
  auto it = channels_.find(id.value());
  if (it == channels_.end()) return;
  Channel& ch = it->second;
  if (ch.state == ChannelState::kClosing || ch.state == ChannelState::kClosed) return;
  if (state_ != State::kUp) {
    // Never reached the peer (association not up): nothing to reset.
    const uint16_t sid = id.value();
    send_queue_.erase(std::remove_if(send_queue_.begin(), send_queue_.end(),
                                     [sid](const Outgoing& o) { return o.sid == sid; }),
                      send_queue_.end());
    channels_.erase(it);
    events_.push_back(EventChannelClosed{id});
    return;
  }
  // RFC 8831 §6.7: close = reset our outgoing stream; closed when the peer resets its own.
  ch.state = ChannelState::kClosing;
  ch.reset_wanted = true;
  pump_wanted_ = true;
}

void Transport::Flush(Instant now) {
  UsrsctpCall in_usrsctp;
  AdvanceClock(now);
  if (sock_ && state_ != State::kNew) Pump();
}

ChannelState Transport::channel_state(StreamId id) const {
  auto it = channels_.find(id.value());
  return it == channels_.end() ? ChannelState::kClosed : it->second.state;
}

void Transport::Close(Instant now) {
  UsrsctpCall in_usrsctp;
  AdvanceClock(now);
  if (!sock_ || state_ == State::kClosed) return;
  if (state_ == State::kUp) {
    FlushSendQueue();
    // RFC 4960 §9.2 graceful SHUTDOWN after the data already handed to usrsctp.
    usrsctp_shutdown(sock_, SHUT_WR);
    state_ = State::kShuttingDown;
    Pump();
    return;
  }
  if (state_ == State::kShuttingDown) return;
  // Not associated yet: abort the attempt.
  AbortSocket();
  OnAssociationDown("closed");
}

}  // namespace refrtc::sctp
