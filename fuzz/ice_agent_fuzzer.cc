// Arbitrary bytes as STUN datagrams into an Agent that has remote credentials and a remote
// candidate, interleaved with timeouts. The first byte picks the mode: raw bytes, or (when the
// bytes parse as STUN) re-signed with the agent's local or remote password so that the
// authenticated request/response paths are reached too.
#include <cstdint>
#include <cstdlib>

#include "ice/agent.h"

using namespace refrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Random rng(data[0]);
  ice::AgentConfig cfg;
  cfg.role = (data[0] & 1) ? ice::Role::kControlling : ice::Role::kControlled;
  cfg.local = {"LOCAL", "localpassword-1234567890"};
  cfg.tie_breaker = 0x8000000000000000ull;
  cfg.stun_servers = {*SocketAddress::Parse("198.51.100.1", 3478)};
  ice::Agent agent(cfg, rng);
  SocketAddress local = *SocketAddress::Parse("10.0.0.1", 1000);
  SocketAddress remote = *SocketAddress::Parse("10.0.0.2", 2000);
  Instant now = Instant() + seconds(10);
  agent.AddLocalAddress(local);
  agent.StartGathering(now);
  agent.SetRemoteCredentials({"REMOTE", "remotepassword-123456789"});
  ice::Candidate c;
  c.foundation = "1";
  c.priority = 2122317823;
  c.address = "10.0.0.2";
  c.port = 2000;
  (void)agent.AddRemoteCandidate(c, now);
  // Split the input into datagrams at 0xFF 0xFF markers; each chunk's first byte is a mode.
  size_t pos = 1;
  int rounds = 0;
  while (pos < size && rounds++ < 64) {
    size_t end = pos;
    while (end + 1 < size && !(data[end] == 0xFF && data[end + 1] == 0xFF)) ++end;
    if (end + 1 >= size) end = size;
    ByteView chunk(data + pos, end - pos);
    pos = end + 2;
    if (chunk.empty()) continue;
    uint8_t mode = chunk[0];
    ByteView body = chunk.subspan(1);
    Bytes packet(body.begin(), body.end());
    if (mode & 1) {
      auto m = stun::StunMessage::Parse(body);
      if (m.ok()) {
        // Take a pending transaction id so responses match something.
        if (mode & 4) {
          while (auto t = agent.PollTransmit()) {
            auto sent = stun::StunMessage::Parse(t->data);
            if (sent.ok()) m->set_transaction_id(sent->transaction_id());
          }
        }
        packet = m->Serialize(AsBytes((mode & 2) ? "localpassword-1234567890" : "remotepassword-123456789"), true);
      }
    }
    SocketAddress from = (mode & 8) ? *SocketAddress::Parse("10.9.9.9", 999) : remote;
    agent.HandleStun(packet, local, from, now);
    while (agent.PollTransmit()) {
    }
    while (agent.PollEvent()) {
    }
    now += milliseconds(1 + (mode >> 4) * 200);
    if (auto t = agent.PollTimeout(); t && *t <= now) agent.HandleTimeout(now);
  }
  // Let timers run out: must terminate (no busy timer) and never crash.
  int stuck = 0;
  for (int i = 0; i < 2000; ++i) {
    auto t = agent.PollTimeout();
    if (!t) break;
    // A deadline that stays in the past after HandleTimeout is a busy timer.
    stuck = *t <= now ? stuck + 1 : 0;
    if (stuck > 50) abort();
    now = std::max(now, *t);
    agent.HandleTimeout(now);
    while (agent.PollTransmit()) {
    }
    while (agent.PollEvent()) {
    }
  }
  return 0;
}
