// The WebSocket ↔ UDP relay (wasm/relay/PROTOCOL.md): one single-threaded epoll loop (Linux),
// non-blocking sockets everywhere. Each WebSocket connection owns one UDP socket per --udp-bind
// address; datagrams go both ways as binary frames with the PROTOCOL.md header.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace refrtc::relay {

struct RelayOptions {
  std::string listen = "127.0.0.1:8787";  // ADDR:PORT or [V6ADDR]:PORT; port 0 = ephemeral
  std::string token;                       // must be non-empty
  std::vector<std::string> udp_bind;       // numeric addresses; empty = {"127.0.0.1"}
  int max_clients = 16;                    // open WebSocket connections; over that, 503
  size_t max_outgoing_bytes = 4u << 20;    // per client; datagrams toward a fuller buffer are dropped
  bool verbose = false;                    // per-connection logs on stderr
};

struct RelayStats {
  uint64_t connections = 0;           // WebSocket connections opened
  uint64_t rejected = 0;              // handshakes refused (4xx/5xx)
  uint64_t datagrams_to_udp = 0;      // client → UDP sent
  uint64_t datagrams_to_client = 0;   // UDP → client queued
  uint64_t dropped_to_client = 0;     // UDP → client dropped: outgoing buffer full
  uint64_t send_failures = 0;         // client → UDP sendto errors (dropped silently)
  uint64_t bad_frames = 0;            // {"type":"error"} answers
};

// A numeric IPv4/IPv6 socket address.
struct IpAddress {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family() const { return ss.ss_family; }
  uint16_t port() const;
  std::string Ip() const;        // "127.0.0.1" / "::1"
  std::string HostPort() const;  // "127.0.0.1:8787" / "[::1]:8787"
};
// "127.0.0.1:8787", "[::1]:8787". nullopt when malformed or not numeric.
std::optional<IpAddress> ParseHostPort(const std::string& text);
// "127.0.0.1", "::1" or "[::1]" (port 0).
std::optional<IpAddress> ParseIp(const std::string& text);

class RelayServer {
 public:
  explicit RelayServer(RelayOptions options);
  ~RelayServer();
  RelayServer(const RelayServer&) = delete;
  RelayServer& operator=(const RelayServer&) = delete;

  // Validates the options and binds the listening socket. False with *error on failure.
  bool Start(std::string* error);
  // The listening address with the real port (after Start).
  std::string ListenAddress() const;
  // PROTOCOL.md start line: {"listen":"127.0.0.1:8787","token":"…","udp":["127.0.0.1"]}
  std::string StartupLine() const;
  // Runs the loop until Stop(); then closes every connection. Returns 0, or 1 on a loop error.
  int Run();
  // Makes Run() return soon. Async-signal-safe (writes an eventfd), callable from any thread.
  void Stop();
  const RelayStats& stats() const { return stats_; }

 private:
  struct Client;
  struct FdTarget {
    Client* client = nullptr;  // nullptr: listener or wake fd
    int udp_index = -1;        // >= 0: that UDP socket of client
  };

  void Accept();
  void OnClientReadable(Client* c);
  void OnClientWritable(Client* c);
  void OnUdpReadable(Client* c, int index);
  void HandleHandshake(Client* c);
  void HandleMessages(Client* c, const uint8_t* data, size_t size);
  void SendError(Client* c, const std::string& message);
  // Queues bytes toward the client. Droppable data is refused when the buffer would exceed
  // max_outgoing_bytes (returns false); the rest is always queued.
  bool Enqueue(Client* c, const uint8_t* data, size_t size, bool droppable);
  void Flush(Client* c);
  void UpdateEpoll(Client* c);
  // Starts the closing handshake / lingering close: stop relaying, flush, shut down writing.
  void BeginClose(Client* c, const char* why);
  void CloseUdp(Client* c);
  void Destroy(Client* c, const char* why);
  void SweepDeadlines();
  bool OpenUdpSockets(Client* c, std::string* error);
  void Log(const std::string& line) const;

  RelayOptions options_;
  std::vector<IpAddress> udp_addrs_;
  IpAddress listen_addr_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool stopping_ = false;
  uint64_t next_client_id_ = 1;
  int open_clients_ = 0;
  std::unordered_map<int, FdTarget> fds_;
  std::unordered_map<Client*, std::unique_ptr<Client>> clients_;
  std::vector<Client*> dirty_;  // have queued output to flush at the end of the loop turn
  std::vector<Client*> dead_;   // destroyed this turn; freed at the end of it
  std::vector<uint8_t> scratch_;
  RelayStats stats_;
};

}  // namespace refrtc::relay
