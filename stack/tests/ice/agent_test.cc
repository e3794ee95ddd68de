#include "ice/agent.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <set>

namespace refrtc::ice {
namespace {

SocketAddress Addr(const char* ip, uint16_t port) { return *SocketAddress::Parse(ip, port); }

// One agent plus what the test observed from it.
struct Peer {
  Peer(Role role, const char* ufrag, const char* pwd, uint64_t tie, uint64_t seed,
       std::vector<SocketAddress> stun = {})
      : rng(std::make_unique<Random>(seed)) {
    AgentConfig c;
    c.role = role;
    c.local = {ufrag, pwd};
    c.tie_breaker = tie;
    c.stun_servers = std::move(stun);
    agent = std::make_unique<Agent>(c, *rng);
  }
  std::unique_ptr<Random> rng;  // heap: the agent keeps a reference, Peer may be moved
  std::unique_ptr<Agent> agent;
  std::vector<Candidate> candidates;
  std::vector<TransportState> states;
  std::vector<std::pair<SocketAddress, SocketAddress>> selections;
  std::vector<GatheringState> gathering;
  void Drain() {
    while (auto e = agent->PollEvent()) {
      if (auto* c = std::get_if<EventLocalCandidate>(&*e)) candidates.push_back(c->candidate);
      if (auto* s = std::get_if<EventStateChanged>(&*e)) states.push_back(s->state);
      if (auto* s = std::get_if<EventSelectedPairChanged>(&*e)) selections.push_back({s->local, s->remote});
      if (auto* g = std::get_if<EventGatheringStateChanged>(&*e)) gathering.push_back(g->state);
    }
  }
  bool Saw(TransportState s) const { return std::find(states.begin(), states.end(), s) != states.end(); }
};

// A tiny virtual network: packets take `latency`, can be dropped by a filter, and a NAT map can
// rewrite source addresses (inside -> outside) and destinations (outside -> inside).
class Net {
 public:
  Instant now = Instant() + seconds(1000);
  Duration latency = milliseconds(5);
  std::function<bool(const Transmit&)> drop;  // true = lose the packet
  std::map<SocketAddress, SocketAddress> nat;  // inside -> outside
  std::vector<Transmit> wire;                  // every packet sent (after NAT), for inspection
  // A STUN server answering Binding requests at this address.
  std::optional<SocketAddress> stun_server;

  void Attach(Peer* p, std::vector<SocketAddress> addrs) {
    for (auto& a : addrs) owners_[a] = p;
  }

  void Pump(Peer* p) {
    while (auto t = p->agent->PollTransmit()) {
      if (drop && drop(*t)) continue;
      auto it = nat.find(t->from);
      if (it != nat.end()) t->from = it->second;
      wire.push_back(*t);
      inflight_.push_back({now + latency, *t});
    }
  }

  void RunFor(Duration d, std::vector<Peer*> peers) { RunUntil(now + d, peers); }

  void RunUntil(Instant end, std::vector<Peer*> peers) {
    for (int guard = 0; guard < 2000000; ++guard) {
      for (auto* p : peers) Pump(p);
      for (auto* p : peers) p->Drain();
      Instant next = end;
      for (auto* p : peers)
        if (auto t = p->agent->PollTimeout()) next = std::min(next, std::max(*t, now));
      for (auto& f : inflight_) next = std::min(next, f.first);
      if (next >= end && now >= end) return;
      ASSERT_GE(next, now);
      now = next;
      Deliver(peers);
      for (auto* p : peers)
        if (auto t = p->agent->PollTimeout(); t && *t <= now) p->agent->HandleTimeout(now);
      if (now >= end) {
        for (auto* p : peers) Pump(p);
        for (auto* p : peers) p->Drain();
        return;
      }
    }
    FAIL() << "event loop did not settle (busy timer?)";
  }

 private:
  void Deliver(std::vector<Peer*>& peers) {
    std::vector<std::pair<Instant, Transmit>> keep;
    std::vector<Transmit> due;
    for (auto& f : inflight_) (f.first <= now ? due.push_back(f.second) : keep.push_back(f));
    inflight_ = keep;
    for (auto& t : due) {
      if (stun_server && t.to == *stun_server) {
        auto req = stun::StunMessage::Parse(t.data);
        if (!req.ok() || !req->IsBindingRequest()) continue;
        stun::StunMessage resp(stun::StunClass::kSuccessResponse, stun::kMethodBinding, req->transaction_id());
        resp.AddXorMappedAddress(t.from);
        inflight_.push_back({now + latency, Transmit{*stun_server, t.from, resp.Serialize({}, true)}});
        continue;
      }
      SocketAddress to = t.to;
      for (auto& [in, out] : nat)
        if (out == to) to = in;
      auto it = owners_.find(to);
      if (it == owners_.end()) continue;
      EXPECT_TRUE(it->second->agent->HandleStun(t.data, to, t.from, now));
    }
  }
  std::map<SocketAddress, Peer*> owners_;
  std::vector<std::pair<Instant, Transmit>> inflight_;
};

void Exchange(Peer& from, Peer& to, Instant now, bool end_of_candidates = true) {
  to.agent->SetRemoteCredentials(from.agent->local_credentials());
  for (const auto& c : from.candidates) EXPECT_TRUE(to.agent->AddRemoteCandidate(c, now).ok()) << c.ToString();
  if (end_of_candidates) to.agent->SetRemoteEndOfCandidates();
}

bool Connected(const Peer& p) {
  return p.agent->state() == TransportState::kConnected || p.agent->state() == TransportState::kCompleted;
}

struct Pair2 {
  Net net;
  Peer a{Role::kControlling, "ufA1", "passwordA-0123456789xyz", 100, 1};
  Peer b{Role::kControlled, "ufB1", "passwordB-0123456789xyz", 200, 2};
  void Setup(std::vector<SocketAddress> aa, std::vector<SocketAddress> ba) {
    for (auto& x : aa) a.agent->AddLocalAddress(x);
    for (auto& x : ba) b.agent->AddLocalAddress(x);
    net.Attach(&a, aa);
    net.Attach(&b, ba);
    a.agent->StartGathering(net.now);
    b.agent->StartGathering(net.now);
    a.Drain();
    b.Drain();
  }
  void Signal() {
    Exchange(a, b, net.now);
    Exchange(b, a, net.now);
  }
  void Run(Duration d) { net.RunFor(d, {&a, &b}); }
};

TEST(IceAgent, HostCandidatesAndGatheringWithoutStunServers) {
  Pair2 t;
  t.Setup({Addr("10.0.0.1", 1000), Addr("2001:db8::1", 1001)}, {Addr("10.0.0.2", 2000)});
  ASSERT_EQ(t.a.candidates.size(), 2u);
  EXPECT_EQ(t.a.candidates[0].type, CandidateType::kHost);
  EXPECT_EQ(t.a.candidates[0].address, "10.0.0.1");
  EXPECT_EQ(t.a.candidates[0].extensions.at("ufrag"), "ufA1");
  // IPv6 host ranks above IPv4 host; both are host type preference 126.
  EXPECT_GT(t.a.candidates[1].priority, t.a.candidates[0].priority);
  EXPECT_EQ(t.a.candidates[0].priority >> 24, 126u);
  EXPECT_NE(t.a.candidates[0].foundation, t.a.candidates[1].foundation);
  EXPECT_EQ(t.a.gathering, (std::vector<GatheringState>{GatheringState::kGathering, GatheringState::kComplete}));
  EXPECT_EQ(t.a.agent->state(), TransportState::kNew);
}

TEST(IceAgent, LocalAddressAddedWhileGatheringBecomesCandidateAtOnce) {
  Pair2 t;
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("10.0.0.2", 2000)});
  ASSERT_EQ(t.a.candidates.size(), 1u);
  t.a.agent->AddLocalAddress(Addr("10.0.5.1", 1005));
  t.a.agent->AddLocalAddress(Addr("10.0.5.1", 1005));  // duplicate ignored
  t.a.Drain();
  ASSERT_EQ(t.a.candidates.size(), 2u);
  EXPECT_EQ(t.a.candidates[1].address, "10.0.5.1");
  EXPECT_NE(t.a.candidates[1].priority, t.a.candidates[0].priority);
}

TEST(IceAgent, ConnectsOverIpv4AndNominates) {
  Pair2 t;
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("10.0.0.2", 2000)});
  t.Signal();
  t.Run(seconds(2));
  ASSERT_TRUE(Connected(t.a));
  ASSERT_TRUE(Connected(t.b));
  EXPECT_TRUE(t.a.Saw(TransportState::kChecking));
  EXPECT_EQ(t.a.states, (std::vector<TransportState>{TransportState::kChecking, TransportState::kConnected,
                                                      TransportState::kCompleted}));
  EXPECT_EQ(t.a.selections.size(), 1u);
  ASSERT_TRUE(t.a.agent->selected_pair().has_value());
  EXPECT_EQ(t.a.agent->selected_pair()->first, Addr("10.0.0.1", 1000));
  EXPECT_EQ(t.a.agent->selected_pair()->second, Addr("10.0.0.2", 2000));
  EXPECT_EQ(t.b.agent->selected_pair()->second, Addr("10.0.0.1", 1000));
  EXPECT_TRUE(t.a.agent->selected_pair_nominated());
  EXPECT_TRUE(t.b.agent->selected_pair_nominated());
  EXPECT_TRUE(t.a.agent->IsValidatedRemote(Addr("10.0.0.1", 1000), Addr("10.0.0.2", 2000)));
  EXPECT_FALSE(t.a.agent->IsValidatedRemote(Addr("10.0.0.1", 1000), Addr("10.0.0.9", 2000)));
  // End-of-candidates both ways, all checks done, nominated -> completed.
  EXPECT_EQ(t.a.agent->state(), TransportState::kCompleted);
  EXPECT_EQ(t.b.agent->state(), TransportState::kCompleted);
  // The controlling agent sent USE-CANDIDATE; the controlled one never did.
  bool a_used = false, b_used = false;
  for (const auto& w : t.net.wire) {
    auto m = stun::StunMessage::Parse(w.data);
    ASSERT_TRUE(m.ok());
    if (m->IsBindingRequest() && m->use_candidate()) (w.from.port() == 1000 ? a_used : b_used) = true;
  }
  EXPECT_TRUE(a_used);
  EXPECT_FALSE(b_used);
}

TEST(IceAgent, PrefersIpv6AndNeverPairsAcrossFamilies) {
  Pair2 t;
  t.Setup({Addr("10.0.0.1", 1000), Addr("2001:db8::1", 1001)}, {Addr("10.0.0.2", 2000), Addr("2001:db8::2", 2001)});
  t.Signal();
  t.Run(seconds(3));
  ASSERT_TRUE(Connected(t.a));
  ASSERT_TRUE(Connected(t.b));
  EXPECT_EQ(t.a.agent->selected_pair()->first, Addr("2001:db8::1", 1001));
  EXPECT_EQ(t.a.agent->selected_pair()->second, Addr("2001:db8::2", 2001));
  EXPECT_EQ(t.b.agent->selected_pair()->second, Addr("2001:db8::1", 1001));
  for (const auto& w : t.net.wire) EXPECT_EQ(w.from.family(), w.to.family());
}

TEST(IceAgent, ConnectsOverIpv6Only) {
  Pair2 t;
  t.Setup({Addr("2001:db8::1", 1001)}, {Addr("2001:db8::2", 2001)});
  t.Signal();
  t.Run(seconds(2));
  EXPECT_TRUE(Connected(t.a));
  EXPECT_TRUE(Connected(t.b));
}

TEST(IceAgent, ChecksArePaced) {
  Pair2 u;
  u.Setup({Addr("10.0.0.1", 1000), Addr("10.0.1.1", 1001), Addr("10.0.2.1", 1002)},
          {Addr("10.0.0.2", 2000), Addr("10.0.1.2", 2001), Addr("10.0.2.2", 2002)});
  std::vector<Instant> first_sends;
  std::set<std::pair<SocketAddress, SocketAddress>> seen;
  u.net.drop = [&](const Transmit& x) {
    if (x.from.port() < 2000 && seen.insert({x.from, x.to}).second) first_sends.push_back(u.net.now);
    return true;
  };
  u.Signal();
  u.Run(seconds(2));
  ASSERT_EQ(seen.size(), 9u);  // every pair of the same family, none across
  for (size_t i = 1; i < first_sends.size(); ++i) EXPECT_GE(first_sends[i] - first_sends[i - 1], milliseconds(50));
}

TEST(IceAgent, RoleConflictBothControllingResolved) {
  Pair2 t;
  t.b = Peer(Role::kControlling, "ufB1", "passwordB-0123456789xyz", 200, 2);
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("10.0.0.2", 2000)});
  t.Signal();
  t.Run(seconds(3));
  ASSERT_TRUE(Connected(t.a));
  ASSERT_TRUE(Connected(t.b));
  // RFC 8445 §7.3.1.1: the larger tie-breaker stays controlling.
  EXPECT_EQ(t.a.agent->role(), Role::kControlled);
  EXPECT_EQ(t.b.agent->role(), Role::kControlling);
  EXPECT_TRUE(t.a.agent->selected_pair_nominated());
  bool saw_487 = false;
  for (const auto& w : t.net.wire) {
    auto m = stun::StunMessage::Parse(w.data);
    if (m.ok() && m->error_code() && m->error_code()->code == 487) saw_487 = true;
  }
  EXPECT_TRUE(saw_487);
}

TEST(IceAgent, RoleConflictBothControlledResolved) {
  Pair2 t;
  t.a = Peer(Role::kControlled, "ufA1", "passwordA-0123456789xyz", 300, 1);
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("10.0.0.2", 2000)});
  t.Signal();
  t.Run(seconds(3));
  ASSERT_TRUE(Connected(t.a));
  ASSERT_TRUE(Connected(t.b));
  EXPECT_EQ(t.a.agent->role(), Role::kControlling);
  EXPECT_EQ(t.b.agent->role(), Role::kControlled);
  EXPECT_TRUE(t.b.agent->selected_pair_nominated());
}

TEST(IceAgent, WrongPasswordGets401AndNoConnection) {
  Pair2 t;
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("10.0.0.2", 2000)});
  // Each side is told a wrong password for the other.
  Credentials bad_a = t.a.agent->local_credentials();
  bad_a.pwd = "not-the-password-xxxxxxx";
  Credentials bad_b = t.b.agent->local_credentials();
  bad_b.pwd = "not-the-password-yyyyyyy";
  t.b.agent->SetRemoteCredentials(bad_a);
  t.a.agent->SetRemoteCredentials(bad_b);
  for (auto& c : t.a.candidates) ASSERT_TRUE(t.b.agent->AddRemoteCandidate(c, t.net.now).ok());
  for (auto& c : t.b.candidates) ASSERT_TRUE(t.a.agent->AddRemoteCandidate(c, t.net.now).ok());
  t.a.agent->SetRemoteEndOfCandidates();
  t.b.agent->SetRemoteEndOfCandidates();
  t.Run(seconds(1));
  int n401 = 0;
  for (const auto& w : t.net.wire) {
    auto m = stun::StunMessage::Parse(w.data);
    ASSERT_TRUE(m.ok());
    if (m->cls() == stun::StunClass::kSuccessResponse) ADD_FAILURE() << "a success response was sent";
    if (m->error_code() && m->error_code()->code == 401) ++n401;
  }
  EXPECT_GT(n401, 0);
  EXPECT_FALSE(t.a.agent->selected_pair().has_value());
  EXPECT_FALSE(t.a.agent->IsValidatedRemote(Addr("10.0.0.1", 1000), Addr("10.0.0.2", 2000)));
  EXPECT_FALSE(t.b.agent->IsValidatedRemote(Addr("10.0.0.2", 2000), Addr("10.0.0.1", 1000)));
  t.Run(seconds(15));
  // All pairs time out; with end-of-candidates that is "failed".
  EXPECT_EQ(t.a.agent->state(), TransportState::kFailed);
  EXPECT_EQ(t.b.agent->state(), TransportState::kFailed);
  EXPECT_FALSE(t.a.Saw(TransportState::kConnected));
}

// Hand-made requests: the exact error codes and that nothing changes.
class SingleAgent : public ::testing::Test {
 protected:
  Random rng{7};
  std::unique_ptr<Agent> agent;
  Instant now = Instant() + seconds(5);
  SocketAddress local = Addr("10.0.0.1", 1000), remote = Addr("10.0.0.2", 2000);
  void SetUp() override {
    AgentConfig c;
    c.role = Role::kControlled;
    c.local = {"LOCAL", "localpassword-1234567890"};
    c.tie_breaker = 5;
    agent = std::make_unique<Agent>(c, rng);
    agent->AddLocalAddress(local);
    agent->StartGathering(now);
    while (agent->PollEvent()) {
    }
  }
  stun::StunMessage Request(absl::string_view username) {
    stun::TransactionId tid{};
    tid[0] = 1;
    stun::StunMessage m(stun::StunClass::kRequest, stun::kMethodBinding, tid);
    if (!username.empty()) m.AddUsername(username);
    m.AddPriority(1234);
    m.AddIceControlling(99);
    return m;
  }
  std::optional<stun::StunMessage> Reply() {
    auto t = agent->PollTransmit();
    if (!t) return std::nullopt;
    EXPECT_EQ(t->from, local);
    EXPECT_EQ(t->to, remote);
    auto m = stun::StunMessage::Parse(t->data);
    EXPECT_TRUE(m.ok());
    return *m;
  }
};

TEST_F(SingleAgent, BadIntegrityGets401NoStateChange) {
  Bytes req = Request("LOCAL:REMOTE").Serialize(AsBytes("wrong-password"), true);
  EXPECT_TRUE(agent->HandleStun(req, local, remote, now));
  auto r = Reply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cls(), stun::StunClass::kErrorResponse);
  EXPECT_EQ(r->error_code()->code, 401);
  EXPECT_FALSE(agent->IsValidatedRemote(local, remote));
  EXPECT_EQ(agent->state(), TransportState::kNew);
  EXPECT_EQ(agent->role(), Role::kControlled);
  EXPECT_FALSE(agent->PollTransmit().has_value());
}

TEST_F(SingleAgent, WrongUfragGets401) {
  Bytes req = Request("OTHER:REMOTE").Serialize(AsBytes("localpassword-1234567890"), true);
  agent->HandleStun(req, local, remote, now);
  EXPECT_EQ(Reply()->error_code()->code, 401);
  EXPECT_FALSE(agent->IsValidatedRemote(local, remote));
}

TEST_F(SingleAgent, MissingUsernameOrIntegrityGets400) {
  agent->HandleStun(Request("").Serialize(AsBytes("localpassword-1234567890"), true), local, remote, now);
  EXPECT_EQ(Reply()->error_code()->code, 400);
  agent->HandleStun(Request("LOCAL:REMOTE").Serialize({}, true), local, remote, now);
  EXPECT_EQ(Reply()->error_code()->code, 400);
  EXPECT_FALSE(agent->IsValidatedRemote(local, remote));
}

TEST_F(SingleAgent, MissingFingerprintDropped) {
  agent->HandleStun(Request("LOCAL:REMOTE").Serialize(AsBytes("localpassword-1234567890"), false), local,
                    remote, now);
  EXPECT_FALSE(agent->PollTransmit().has_value());
}

TEST_F(SingleAgent, UnknownComprehensionRequiredGets420) {
  auto m = Request("LOCAL:REMOTE");
  m.AddRaw(0x0031, {});
  agent->HandleStun(m.Serialize(AsBytes("localpassword-1234567890"), true), local, remote, now);
  auto r = Reply();
  EXPECT_EQ(r->error_code()->code, 420);
  EXPECT_EQ(*r->unknown_attributes(), std::vector<uint16_t>{0x0031});
}

TEST_F(SingleAgent, ValidRequestBeforeRemoteCredentialsAnsweredAndRemembered) {
  Bytes req = Request("LOCAL:REMOTE").Serialize(AsBytes("localpassword-1234567890"), true);
  agent->HandleStun(req, local, remote, now);
  auto t = agent->PollTransmit();
  ASSERT_TRUE(t.has_value());
  auto r = stun::StunMessage::Parse(t->data);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cls(), stun::StunClass::kSuccessResponse);
  EXPECT_EQ(r->xor_mapped_address(), remote);
  EXPECT_TRUE(stun::VerifyMessageIntegrity(t->data, AsBytes("localpassword-1234567890")).ok());
  EXPECT_TRUE(agent->IsValidatedRemote(local, remote));
  // No checks can go out yet (no remote password) ...
  agent->HandleTimeout(now + seconds(1));
  EXPECT_FALSE(agent->PollTransmit().has_value());
  // ... until the credentials arrive: then a triggered check towards the learned prflx address.
  agent->SetRemoteCredentials({"REMOTE", "remotepassword-123456789"});
  auto deadline = agent->PollTimeout();
  ASSERT_TRUE(deadline.has_value());
  agent->HandleTimeout(std::max(*deadline, now + seconds(1)));
  auto check = agent->PollTransmit();
  ASSERT_TRUE(check.has_value());
  EXPECT_EQ(check->to, remote);
  auto m = stun::StunMessage::Parse(check->data);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->username(), "REMOTE:LOCAL");
  EXPECT_TRUE(stun::VerifyMessageIntegrity(check->data, AsBytes("remotepassword-123456789")).ok());
  EXPECT_EQ(m->ice_controlled(), 5u);
}

TEST_F(SingleAgent, NonStunNotConsumed) {
  Bytes dtls = {22, 254, 253, 0, 0};
  EXPECT_FALSE(agent->HandleStun(dtls, local, remote, now));
  Bytes junk = {0, 1, 2};
  EXPECT_TRUE(agent->HandleStun(junk, local, remote, now));
  EXPECT_FALSE(agent->PollTransmit().has_value());
}

TEST_F(SingleAgent, MdnsAndTcpCandidatesIgnoredBadOnesRejected) {
  agent->SetRemoteCredentials({"REMOTE", "remotepassword-123456789"});
  auto mdns = Candidate::Parse("candidate:1 1 udp 2122260223 4f6e1f7c-aaaa-bbbb-cccc-123456789abc.local 5000 typ host");
  ASSERT_TRUE(mdns.ok());
  EXPECT_TRUE(agent->AddRemoteCandidate(*mdns, now).ok());
  auto tcp = Candidate::Parse("candidate:2 1 tcp 1518280447 10.0.0.2 9 typ host tcptype active");
  EXPECT_TRUE(agent->AddRemoteCandidate(*tcp, now).ok());
  agent->HandleTimeout(now + seconds(1));
  EXPECT_FALSE(agent->PollTransmit().has_value());  // no pairs -> no checks
  EXPECT_EQ(agent->state(), TransportState::kNew);
  Candidate bad = *mdns;
  bad.address = "not-an-address";
  EXPECT_EQ(agent->AddRemoteCandidate(bad, now).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SingleAgent, RemoteCandidatesAreCapped) {
  agent->SetRemoteCredentials({"REMOTE", "remotepassword-123456789"});
  int ok = 0;
  for (int i = 0; i < 150; ++i) {
    Candidate c;
    c.foundation = "f";
    c.priority = 1000;
    c.address = "10.1.0." + std::to_string(i % 250 + 1);
    c.port = static_cast<uint16_t>(3000 + i);
    if (agent->AddRemoteCandidate(c, now).ok()) ++ok;
  }
  EXPECT_EQ(ok, 100);
}

TEST(IceAgent, PeerReflexiveFromUnsignaledAddressBehindNat) {
  Pair2 t;
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("192.168.1.2", 2000)});
  t.net.nat[Addr("192.168.1.2", 2000)] = Addr("203.0.113.5", 40000);
  // A learns nothing about B's candidates (only its credentials); B knows A's host candidate.
  t.a.agent->SetRemoteCredentials(t.b.agent->local_credentials());
  Exchange(t.a, t.b, t.net.now);
  t.Run(seconds(3));
  ASSERT_TRUE(Connected(t.a));
  ASSERT_TRUE(Connected(t.b));
  EXPECT_EQ(t.a.agent->selected_pair()->second, Addr("203.0.113.5", 40000));
  EXPECT_EQ(t.b.agent->selected_pair()->first, Addr("192.168.1.2", 2000));
  EXPECT_EQ(t.b.agent->selected_pair()->second, Addr("10.0.0.1", 1000));
  EXPECT_TRUE(t.a.agent->selected_pair_nominated());
  EXPECT_TRUE(t.b.agent->selected_pair_nominated());
}

TEST(IceAgent, RemoteCredentialsArriveLate) {
  Pair2 t;
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("10.0.0.2", 2000)});
  Exchange(t.b, t.a, t.net.now);  // A (offerer) gets B's answer; B has nothing yet
  t.Run(milliseconds(700));
  EXPECT_FALSE(Connected(t.b));
  EXPECT_TRUE(t.b.agent->IsValidatedRemote(Addr("10.0.0.2", 2000), Addr("10.0.0.1", 1000)));
  Exchange(t.a, t.b, t.net.now);
  t.Run(seconds(2));
  EXPECT_TRUE(Connected(t.a));
  EXPECT_TRUE(Connected(t.b));
  EXPECT_TRUE(t.b.agent->selected_pair_nominated());
}

TEST(IceAgent, ConsentLossDisconnectsThenFailsAndRecovers) {
  Pair2 t;
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("10.0.0.2", 2000)});
  t.Signal();
  t.Run(seconds(2));
  ASSERT_TRUE(Connected(t.a));
  // Consent keeps the pair alive for a long time with no data at all.
  t.Run(seconds(60));
  EXPECT_TRUE(Connected(t.a));
  EXPECT_TRUE(Connected(t.b));
  EXPECT_FALSE(t.a.Saw(TransportState::kDisconnected));
  // Outage of ~8 s: disconnected, then back to connected.
  t.net.drop = [](const Transmit&) { return true; };
  t.Run(seconds(12));
  EXPECT_EQ(t.a.agent->state(), TransportState::kDisconnected);
  t.net.drop = nullptr;
  t.Run(seconds(8));
  EXPECT_TRUE(Connected(t.a)) << TransportStateName(t.a.agent->state());
  // Permanent loss: disconnected, then failed after 30 s of no consent; sending stops.
  t.net.drop = [](const Transmit&) { return true; };
  t.Run(seconds(10));
  EXPECT_EQ(t.a.agent->state(), TransportState::kDisconnected);
  t.Run(seconds(25));
  EXPECT_EQ(t.a.agent->state(), TransportState::kFailed);
  EXPECT_EQ(t.b.agent->state(), TransportState::kFailed);
  EXPECT_FALSE(t.a.agent->selected_pair().has_value());
  EXPECT_FALSE(t.a.agent->PollTimeout().has_value());
  size_t before = t.net.wire.size();
  t.net.drop = nullptr;
  t.Run(seconds(10));
  EXPECT_EQ(t.net.wire.size(), before);  // nothing more is sent
}

TEST(IceAgent, RestartReconnectsWithNewCredentials) {
  Pair2 t;
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("10.0.0.2", 2000)});
  t.Signal();
  t.Run(seconds(2));
  ASSERT_TRUE(Connected(t.a));
  t.a.candidates.clear();
  t.b.candidates.clear();
  size_t selections_before = t.a.selections.size();
  t.a.agent->Restart({"ufA2", "passwordA2-0123456789xyz"}, t.net.now);
  t.b.agent->Restart({"ufB2", "passwordB2-0123456789xyz"}, t.net.now);
  t.a.Drain();
  t.b.Drain();
  // Still usable while the new generation is being checked.
  EXPECT_TRUE(t.a.agent->selected_pair().has_value());
  ASSERT_EQ(t.a.candidates.size(), 1u);
  EXPECT_EQ(t.a.candidates[0].extensions.at("ufrag"), "ufA2");
  t.Run(milliseconds(300));  // old-generation traffic in flight
  t.Signal();
  t.Run(seconds(3));
  ASSERT_TRUE(Connected(t.a));
  ASSERT_TRUE(Connected(t.b));
  EXPECT_EQ(t.a.selections.size(), selections_before);  // same addresses, no switch needed
  // New-generation checks were authenticated with the new passwords.
  bool new_gen = false;
  for (const auto& w : t.net.wire) {
    auto m = stun::StunMessage::Parse(w.data);
    if (m.ok() && m->IsBindingRequest() && m->username() == "ufB2:ufA2") new_gen = true;
  }
  EXPECT_TRUE(new_gen);
  // Consent runs on the new credentials: stays up well past the 30 s consent timeout.
  t.Run(seconds(70));
  EXPECT_TRUE(Connected(t.a));
  EXPECT_TRUE(Connected(t.b));
}

TEST(IceAgent, RestartAfterFailureReconnects) {
  Pair2 t;
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("10.0.0.2", 2000)});
  t.Signal();
  t.Run(seconds(2));
  t.net.drop = [](const Transmit&) { return true; };
  t.Run(seconds(40));
  ASSERT_EQ(t.a.agent->state(), TransportState::kFailed);
  t.net.drop = nullptr;
  t.a.candidates.clear();
  t.b.candidates.clear();
  t.a.agent->Restart({"ufA3", "passwordA3-0123456789xyz"}, t.net.now);
  t.b.agent->Restart({"ufB3", "passwordB3-0123456789xyz"}, t.net.now);
  t.a.Drain();
  t.b.Drain();
  t.Signal();
  t.Run(seconds(3));
  EXPECT_TRUE(Connected(t.a));
  EXPECT_TRUE(Connected(t.b));
}

TEST(IceAgent, ServerReflexiveGathering) {
  Pair2 t;
  SocketAddress server = Addr("198.51.100.1", 3478);
  t.a = Peer(Role::kControlling, "ufA1", "passwordA-0123456789xyz", 100, 1, {server, Addr("2001:db8::99", 3478)});
  t.net.stun_server = server;
  t.net.nat[Addr("192.168.1.2", 1000)] = Addr("203.0.113.7", 50000);
  t.Setup({Addr("192.168.1.2", 1000)}, {Addr("10.0.0.2", 2000)});
  EXPECT_EQ(t.a.agent->gathering_state(), GatheringState::kGathering);
  t.Run(milliseconds(200));
  ASSERT_EQ(t.a.candidates.size(), 2u);
  const Candidate& s = t.a.candidates[1];
  EXPECT_EQ(s.type, CandidateType::kServerReflexive);
  EXPECT_EQ(s.address, "203.0.113.7");
  EXPECT_EQ(s.port, 50000);
  EXPECT_EQ(s.related_address, "192.168.1.2");
  EXPECT_EQ(s.related_port, 1000);
  EXPECT_EQ(s.priority >> 24, 100u);
  EXPECT_EQ(t.a.agent->gathering_state(), GatheringState::kComplete);  // v6 server skipped (no v6 host)
}

TEST(IceAgent, UnreachableStunServerGivesUp) {
  Pair2 t;
  t.a = Peer(Role::kControlling, "ufA1", "passwordA-0123456789xyz", 100, 1, {Addr("198.51.100.1", 3478)});
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("10.0.0.2", 2000)});
  t.Run(seconds(2));
  EXPECT_EQ(t.a.agent->gathering_state(), GatheringState::kGathering);
  t.Run(seconds(3));
  EXPECT_EQ(t.a.agent->gathering_state(), GatheringState::kComplete);
  int sends = 0;
  for (const auto& w : t.net.wire) sends += w.to == Addr("198.51.100.1", 3478);
  EXPECT_EQ(sends, 4);
  EXPECT_EQ(t.a.candidates.size(), 1u);
}

TEST(IceAgent, CloseStopsEverything) {
  Pair2 t;
  t.Setup({Addr("10.0.0.1", 1000)}, {Addr("10.0.0.2", 2000)});
  t.Signal();
  t.Run(seconds(2));
  t.a.agent->Close();
  t.a.Drain();
  EXPECT_EQ(t.a.agent->state(), TransportState::kClosed);
  EXPECT_FALSE(t.a.agent->PollTimeout().has_value());
  EXPECT_FALSE(t.a.agent->selected_pair().has_value());
  size_t before = 0;
  for (const auto& w : t.net.wire) before += w.from.port() == 1000;
  t.Run(seconds(10));
  size_t after = 0;
  for (const auto& w : t.net.wire) after += w.from.port() == 1000;
  EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace refrtc::ice
