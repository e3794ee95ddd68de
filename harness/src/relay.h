// The harness's impaired UDP relay: a seeded, real-time UDP forwarder on 127.0.0.1 that the runner
// puts between the two drivers of one cell (one scenario on one pair) when the scenario asks for a
// network ("network" at scenario level or any network step; see conformance/README.md "Network").
//
// Mapping model (one relay socket per real endpoint, like an endpoint-independent NAT on both sides):
//   * Every real UDP address R of a driver that the relay knows about is *represented* by one relay
//     socket F(R) bound to 127.0.0.1:<ephemeral>. Candidates the runner forwards are rewritten so the
//     other side only ever sees F(R) instead of R (Expose / RewriteCandidate / RewriteDescription).
//   * A datagram arriving on F(R) from real source S is forwarded to R from F(S): the receiver sees
//     it coming from the relay socket that represents the sender. If S was never signalled (a socket
//     whose candidate was dropped, or a source address differing from its candidate) the relay
//     creates F(S) on first sight ("learned"); the receiver then learns F(S) as a peer-reflexive
//     candidate (RFC 8445 §7.3.1.3), which ICE handles.
//   * Replies therefore come back symmetric: A sends a check from X to F(Y); B receives it from F(X)
//     and answers F(X); the relay forwards the answer from F(Y) to X, which is where the request went
//     (RFC 8445 §7.2.5.2.1 requires exactly that for a successful check).
//   * With the relay on, only relayable candidates reach the other side: UDP with an IPv4 literal
//     address (host, srflx, prflx, relay types alike). TCP, IPv6 and mDNS (.local) candidates are
//     dropped so no path can bypass the relay. The rewrite keeps every other field (foundation,
//     priority, type, raddr/rport, extensions).
//
// Impairments apply per direction (0 = A→B, 1 = B→A), in this order: blackout (drop all), loss,
// rate limit (a serial link of rate_kbps with a FIFO queue of queue_bytes; arrivals that do not fit
// are tail-dropped), then delay + uniform jitter in [0, jitter_ms] (jitter keeps FIFO order: a
// packet never overtakes an earlier one, as on a queueing path), while reorder_pct of packets are
// held back reorder_ms longer so later ones overtake them (the only source of reordering), then
// duplicate_pct of packets are sent twice (the copy after its own jitter draw). Decisions are
// seeded: each direction has its own std::mt19937_64 (seed mixed with the direction) and every packet
// draws exactly five numbers whatever the settings, so the same packet sequence and seed give the
// same decisions.
//
// The relay writes one pcap (LINKTYPE_RAW, synthesized IPv4/UDP headers) of every datagram it
// sends, at the moment it sends it (so impairment-dropped packets are absent, duplicates appear
// twice), addressed as A's sockets see the conversation: A→B packets from A's real address to the
// relay address representing B, B→A packets from that relay address to A's real address. Both
// directions of a path are then one UDP conversation (what Wireshark's DTLS dissector needs).
// Capped at pcap_cap bytes; beyond that capture stops and pcap_note() says so.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace refrtc::harness {

struct UdpAddr {
  uint32_t ip = 0;  // host byte order
  uint16_t port = 0;
  bool operator<(const UdpAddr& o) const { return ip != o.ip ? ip < o.ip : port < o.port; }
  bool operator==(const UdpAddr& o) const { return ip == o.ip && port == o.port; }
  std::string ToString() const;
  std::string IpString() const;
  static std::optional<UdpAddr> Parse(const std::string& ip, uint16_t port);  // IPv4 dotted quad only
};

struct Impairment {
  double loss_pct = 0;       // [0, 100]
  int64_t delay_ms = 0;
  int64_t jitter_ms = 0;     // uniform extra delay in [0, jitter_ms]
  double reorder_pct = 0;    // share of packets held back reorder_ms longer
  int64_t reorder_ms = 30;
  double duplicate_pct = 0;  // share of packets sent twice
  int64_t rate_kbps = 0;     // 0 = unlimited; kbit/s = 1000 bit/s
  int64_t queue_bytes = 256 * 1024;  // rate-limited link's queue
  bool operator==(const Impairment& o) const;
  std::string ToString() const;
};

struct DirectionStats {
  uint64_t received = 0;        // datagrams that entered the relay in this direction
  uint64_t forwarded = 0;       // datagrams sent on (duplicates included)
  uint64_t forwarded_bytes = 0;
  uint64_t lost = 0;            // dropped by loss_pct
  uint64_t blackout = 0;        // dropped during a blackout
  uint64_t queue_dropped = 0;   // tail-dropped by the rate limiter's queue
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
  uint64_t send_errors = 0;     // sendto failed (unreachable address, full buffer)
  std::string ToString() const;
  nlohmann::json ToJson() const;
};

struct RelayOptions {
  uint64_t seed = 1;
  std::string pcap_path;                 // "" = no capture
  uint64_t pcap_cap = 64ull << 20;       // bytes
  // Capture mode (--capture): candidates the relay cannot carry (TCP, IPv6, mDNS) stay in
  // descriptions unchanged instead of being dropped, so every scenario still works; only the traffic
  // on relayable candidates is captured.
  bool keep_unrelayable = false;
};

// Capture mode: a candidate the relay cannot carry keeps its address but gets priority 1 (RFC 8445
// §5.1.2), so ICE prefers the relayed (captured) paths and uses it only when nothing else works
// (e.g. an IPv6-only scenario). Lines that are not candidates come back unchanged.
std::string DemoteCandidatePriority(const std::string& line);

class Relay {
 public:
  static absl::StatusOr<std::unique_ptr<Relay>> Start(const RelayOptions& options);
  ~Relay();  // stops the thread, closes sockets and the pcap
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // The relay address that represents side `side`'s real address `real` (creating its socket on
  // first use). A relay address maps to itself.
  absl::StatusOr<UdpAddr> Expose(int side, const UdpAddr& real);

  // Rewrites one candidate attribute ("candidate:..." or "a=candidate:...") that came from side
  // `from_side`; nullopt = not relayable, must not be delivered.
  std::optional<std::string> RewriteCandidate(int from_side, const std::string& candidate);
  // Rewrites every a=candidate line of a description from `from_side`, dropping unrelayable ones
  // (counted in *dropped when given).
  std::string RewriteDescription(int from_side, const std::string& sdp, int* dropped = nullptr);

  void SetImpairment(int direction, const Impairment& impairment);
  void SetBlackout(int direction, bool on);
  Impairment impairment(int direction) const;
  bool blackout(int direction) const;
  DirectionStats stats(int direction) const;
  uint64_t seed() const { return options_.seed; }
  // Every relay socket: "127.0.0.1:P → side real-address" lines (for the cell log).
  std::vector<std::string> Mappings() const;
  std::vector<uint16_t> Ports() const;  // every relay socket's port (e.g. for tshark decode-as)
  std::string pcap_note() const;        // "" or why capture stopped

 private:
  struct Sock {
    int fd = -1;
    UdpAddr local;   // 127.0.0.1:port
    UdpAddr real;    // the real endpoint it represents
    int side = 0;    // whose endpoint that is
    bool learned = false;
  };
  struct Pending {
    int64_t due_us;
    uint64_t seq;
    int from_fd;
    UdpAddr from, to;  // as written to the pcap (A's view, see OnDatagram)
    UdpAddr dest;      // where it goes
    int direction;
    std::string payload;
    bool operator>(const Pending& o) const { return due_us != o.due_us ? due_us > o.due_us : seq > o.seq; }
  };
  struct Direction {
    Impairment imp;
    bool blackout = false;
    std::mt19937_64 rng;
    int64_t link_free_us = 0;  // rate limiter: when the serial link is next idle
    int64_t last_due_us = 0;   // FIFO under jitter: the latest in-order departure
    DirectionStats stats;
  };

  explicit Relay(const RelayOptions& options);
  absl::Status Init();
  absl::StatusOr<Sock*> NewSocketLocked(int side, const UdpAddr& real, bool learned);
  void Loop();
  void OnDatagram(Sock* at, const UdpAddr& src, std::string payload, int64_t now_us);
  void Flush(int64_t now_us);
  void WritePcap(const UdpAddr& from, const UdpAddr& to, const std::string& payload);
  void Wake();

  RelayOptions options_;
  mutable std::mutex mu_;  // everything below
  std::vector<std::unique_ptr<Sock>> socks_;
  std::map<UdpAddr, Sock*> by_real_;
  std::map<UdpAddr, Sock*> by_local_;
  Direction dir_[2];
  std::vector<Pending> heap_;  // min-heap on (due_us, seq)
  uint64_t next_seq_ = 0;
  uint64_t generation_ = 0;    // bumps when sockets are added (the loop rebuilds its poll set)
  FILE* pcap_ = nullptr;
  uint64_t pcap_bytes_ = 0;
  uint16_t ip_id_ = 0;
  std::string pcap_note_;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// ----- scenario syntax ("network" at scenario level and the network step) -----

// One network change: {"relay": true, "impair": {...}|null, "blackout": bool, "direction": ...}.
struct NetworkChange {
  bool relay = true;
  bool set_impair = false;       // "impair" present (null = clear)
  Impairment impair;
  bool impair_dir[2] = {true, true};
  std::optional<bool> blackout;
  bool blackout_dir[2] = {true, true};
};
// Validates one "network" object. `scenario_level` allows "relay" (must be true) and disallows nothing
// else; a step may not carry "relay".
absl::StatusOr<NetworkChange> ParseNetworkChange(const nlohmann::json& body, bool scenario_level);
// Applies it to a running relay.
void ApplyNetworkChange(Relay& relay, const NetworkChange& change);

}  // namespace refrtc::harness
