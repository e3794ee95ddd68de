// TURN client (RFC 8656) against a scripted fake server: long-term credentials (401 / 438),
// allocate errors, refresh timing, permissions, channel binding, Data indications, ChannelData,
// TCP stream framing; and the agent's relay candidates on top of it.
#include "ice/turn_client.h"

#include <gtest/gtest.h>

#include "ice/agent.h"

namespace refrtc::ice {
namespace {

using stun::StunClass;
using stun::StunMessage;

SocketAddress Addr(const char* ip, uint16_t port) { return *SocketAddress::Parse(ip, port); }

const SocketAddress kBase = Addr("10.0.0.2", 5000);
const SocketAddress kServer = Addr("10.0.0.9", 3478);
const SocketAddress kRelayed = Addr("10.0.0.9", 50000);
const SocketAddress kMapped = Addr("192.0.2.7", 6000);
const SocketAddress kPeer = Addr("10.0.0.3", 7000);

TEST(TurnUrl, ParsesRfc7065Forms) {
  auto a = ParseTurnUrl("turn:127.0.0.1:3479?transport=tcp", "u", "p");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->server, Addr("127.0.0.1", 3479));
  EXPECT_EQ(a->transport, TransportProtocol::kTcp);
  EXPECT_EQ(a->username, "u");
  EXPECT_EQ(a->password, "p");
  auto b = ParseTurnUrl("turn:10.1.2.3", "u", "p");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->server, Addr("10.1.2.3", 3478));  // default port
  EXPECT_EQ(b->transport, TransportProtocol::kUdp);
  auto c = ParseTurnUrl("turn:[::1]:5000?transport=udp", "u", "p");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, Addr("::1", 5000));
  EXPECT_EQ(ParseTurnUrl("turns:1.2.3.4", "u", "p").status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ParseTurnUrl("turn:turn.example.org", "u", "p").status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(ParseTurnUrl("turn:1.2.3.4:0", "u", "p").ok());
  EXPECT_FALSE(ParseTurnUrl("turn:1.2.3.4:99999", "u", "p").ok());
  EXPECT_FALSE(ParseTurnUrl("turn:1.2.3.4:", "u", "p").ok());
  EXPECT_FALSE(ParseTurnUrl("turn:1.2.3.4?transport=sctp", "u", "p").ok());
  EXPECT_FALSE(ParseTurnUrl("stun:1.2.3.4", "u", "p").ok());
  EXPECT_FALSE(ParseTurnUrl("turn:[::1", "u", "p").ok());
}

TEST(TurnFraming, LongTermKeyIsMd5OfUserRealmPassword) {
  // md5("user:realm:pass")
  Bytes expected = {0x84, 0x93, 0xfb, 0xc5, 0x3b, 0xa5, 0x82, 0xfb,
                    0x4c, 0x04, 0x4c, 0x45, 0x6b, 0xdc, 0x40, 0xeb};
  EXPECT_EQ(LongTermKey("user", "realm", "pass"), expected);
}

TEST(TurnFraming, ChannelDataRoundTripAndPadding) {
  Bytes data = {1, 2, 3, 4, 5};
  Bytes udp = EncodeChannelData(0x4001, data, false);
  EXPECT_EQ(udp.size(), 9u);
  EXPECT_EQ(udp[0], 0x40);  // RFC 7983: 64..79
  EXPECT_TRUE(LooksLikeChannelData(udp));
  Bytes tcp = EncodeChannelData(0x4FFF, data, true);
  EXPECT_EQ(tcp.size(), 12u);  // padded to 4 over TCP (RFC 8656 §12.5)
  auto p = ParseChannelData(tcp);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->channel, 0x4FFF);
  EXPECT_EQ(Bytes(p->data.begin(), p->data.end()), data);
  // Length beyond the datagram, channel out of range, too short: rejected.
  Bytes bad = udp;
  bad[3] = 6;
  EXPECT_FALSE(ParseChannelData(bad));
  Bytes out_of_range = EncodeChannelData(0x5000, data, false);
  EXPECT_FALSE(ParseChannelData(out_of_range));
  EXPECT_FALSE(ParseChannelData(Bytes{0x40, 0x00, 0x00}));
  EXPECT_FALSE(LooksLikeChannelData(Bytes{80}));
  EXPECT_FALSE(LooksLikeChannelData(Bytes{63}));
  EXPECT_FALSE(LooksLikeChannelData(Bytes{}));
}

TEST(TurnFraming, StreamFramerReassemblesAcrossOddSplits) {
  StunMessage m(StunClass::kSuccessResponse, stun::kMethodRefresh, {});
  m.AddLifetime(600);
  Bytes stun = m.Serialize();
  Bytes cd1 = EncodeChannelData(0x4000, Bytes{9, 9, 9}, true);  // 3 bytes + 1 pad
  Bytes cd2 = EncodeChannelData(0x4001, Bytes{}, true);         // empty
  Bytes stream;
  for (const Bytes* b : {&cd1, &stun, &cd2, &cd1}) stream.insert(stream.end(), b->begin(), b->end());
  for (size_t chunk : {1u, 3u, 5u, 7u, 13u}) {
    StreamFramer f;
    std::vector<Bytes> frames;
    for (size_t i = 0; i < stream.size(); i += chunk) {
      size_t n = std::min(chunk, stream.size() - i);
      ASSERT_TRUE(f.Append(ByteView(stream.data() + i, n)));
      while (auto fr = f.Next()) frames.push_back(*fr);
    }
    ASSERT_EQ(frames.size(), 4u) << "chunk " << chunk;
    EXPECT_EQ(frames[0], cd1);
    EXPECT_EQ(frames[1], stun);
    EXPECT_EQ(frames[2], cd2);
    EXPECT_EQ(frames[3], cd1);
    EXPECT_EQ(f.buffered(), 0u);
  }
}

TEST(TurnFraming, StreamFramerRejectsGarbage) {
  StreamFramer f;
  EXPECT_FALSE(f.Append(Bytes{0x80, 1, 2, 3}));  // RTP-range first byte: not STUN, not ChannelData
  EXPECT_TRUE(f.broken());
  EXPECT_FALSE(f.Next());
  StreamFramer g;
  Bytes cd = EncodeChannelData(0x4000, Bytes{1, 2, 3, 4}, true);
  cd.push_back(0xFF);  // the next frame starts with garbage
  EXPECT_TRUE(g.Append(cd));
  ASSERT_TRUE(g.Next());  // the good frame still comes out
  EXPECT_TRUE(g.broken());
  EXPECT_FALSE(g.Append(Bytes{0, 0, 0}));
}

// ---------------------------------------------------------------------------------------------
// A scripted TURN server: the test decides every answer.

struct Fake {
  std::string user = "alice", pass = "secret", realm = "example.org", nonce = "n1";
  Bytes Key() const { return LongTermKey(user, realm, pass); }

  static StunMessage Parse(const Transmit& t) {
    auto m = StunMessage::Parse(t.data);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *m : StunMessage();
  }
  Bytes Challenge(const StunMessage& req, uint16_t code = 401, const std::string& n = "n1") const {
    StunMessage r(StunClass::kErrorResponse, req.method(), req.transaction_id());
    r.AddErrorCode(code, code == 401 ? "Unauthorized" : "Stale Nonce");
    r.AddRealm(realm);
    r.AddNonce(n);
    return r.Serialize();
  }
  Bytes Error(const StunMessage& req, uint16_t code, const char* reason) const {
    StunMessage r(StunClass::kErrorResponse, req.method(), req.transaction_id());
    r.AddErrorCode(code, reason);
    return r.Serialize(Key());
  }
  Bytes AllocateOk(const StunMessage& req, uint32_t lifetime = 600) const {
    StunMessage r(StunClass::kSuccessResponse, req.method(), req.transaction_id());
    r.AddXorAddress(stun::attr::kXorRelayedAddress, kRelayed);
    r.AddXorMappedAddress(kMapped);
    r.AddLifetime(lifetime);
    return r.Serialize(Key());
  }
  Bytes Ok(const StunMessage& req) const {
    StunMessage r(StunClass::kSuccessResponse, req.method(), req.transaction_id());
    if (req.method() == stun::kMethodRefresh) r.AddLifetime(req.lifetime().value_or(600));
    return r.Serialize(Key());
  }
  // Checks a request carries valid long-term credentials with `n`.
  void ExpectAuthenticated(const Transmit& t, const std::string& n = "n1") const {
    auto m = Parse(t);
    EXPECT_EQ(m.username(), user);
    EXPECT_EQ(m.realm(), realm);
    EXPECT_EQ(m.nonce(), n);
    EXPECT_TRUE(stun::VerifyMessageIntegrity(t.data, Key()).ok());
  }
};

class TurnClientTest : public ::testing::Test {
 protected:
  TurnClientConfig Config(TransportProtocol tp = TransportProtocol::kUdp) {
    TurnClientConfig c;
    c.server.server = kServer;
    c.server.transport = tp;
    c.server.username = fake.user;
    c.server.password = fake.pass;
    c.server.url = "turn:10.0.0.9:3478";
    return c;
  }
  void Make(TransportProtocol tp = TransportProtocol::kUdp) {
    client = std::make_unique<TurnClient>(Config(tp), kBase, rng);
  }
  Transmit Next() {
    auto t = client->PollTransmit();
    EXPECT_TRUE(t.has_value());
    if (!t) return {};
    EXPECT_EQ(t->from, kBase);
    EXPECT_EQ(t->to, kServer);
    return *t;
  }
  void Answer(const Bytes& b) {
    if (client->server().transport == TransportProtocol::kTcp) client->HandleStreamData(b, now);
    else client->HandleDatagram(b, now);
  }
  // 401 challenge, then success.
  void Allocate() {
    client->Start(now);
    auto first = Fake::Parse(Next());
    EXPECT_EQ(first.method(), stun::kMethodAllocate);
    EXPECT_FALSE(first.username());  // the first request goes without credentials
    Answer(fake.Challenge(first));
    Transmit retry = Next();
    fake.ExpectAuthenticated(retry);
    Answer(fake.AllocateOk(Fake::Parse(retry)));
    ASSERT_EQ(client->state(), TurnClient::State::kAllocated);
  }

  Random rng{7};
  Instant now = Instant() + seconds(100);
  Fake fake;
  std::unique_ptr<TurnClient> client;
};

TEST_F(TurnClientTest, ChallengeThenAllocate) {
  Make();
  client->Start(now);
  Transmit t = Next();
  auto req = Fake::Parse(t);
  EXPECT_EQ(req.cls(), StunClass::kRequest);
  ASSERT_TRUE(req.Find(stun::attr::kRequestedTransport));
  EXPECT_EQ(req.Find(stun::attr::kRequestedTransport)->value, (Bytes{17, 0, 0, 0}));  // UDP
  EXPECT_EQ(client->state(), TurnClient::State::kAllocating);
  Answer(fake.Challenge(req));
  Transmit retry = Next();
  auto r2 = Fake::Parse(retry);
  EXPECT_NE(r2.transaction_id(), req.transaction_id());
  fake.ExpectAuthenticated(retry);
  Answer(fake.AllocateOk(r2, 600));
  EXPECT_EQ(client->state(), TurnClient::State::kAllocated);
  EXPECT_EQ(client->relayed(), kRelayed);
  EXPECT_EQ(client->mapped(), kMapped);
  EXPECT_EQ(client->lifetime_s(), 600u);
  EXPECT_FALSE(client->PollTransmit());
}

TEST_F(TurnClientTest, StaleNonceRetriesWithTheNewNonce) {
  Make();
  client->Start(now);
  auto first = Fake::Parse(Next());
  Answer(fake.Challenge(first));
  auto second = Next();
  Answer(fake.Challenge(Fake::Parse(second), 438, "n2"));
  Transmit third = Next();
  fake.ExpectAuthenticated(third, "n2");
  Answer(fake.AllocateOk(Fake::Parse(third)));
  EXPECT_EQ(client->state(), TurnClient::State::kAllocated);
}

TEST_F(TurnClientTest, WrongPasswordFailsWith401) {
  Make();
  client->Start(now);
  auto first = Fake::Parse(Next());
  Answer(fake.Challenge(first));
  auto second = Fake::Parse(Next());
  // The server cannot verify the credentials: another 401.
  Answer(fake.Challenge(second));
  EXPECT_EQ(client->state(), TurnClient::State::kFailed);
  EXPECT_EQ(client->error_code(), 401);
  EXPECT_NE(client->error_text().find("401"), std::string::npos);
  EXPECT_FALSE(client->PollTransmit());  // no third attempt
  EXPECT_FALSE(client->PollTimeout());
}

TEST_F(TurnClientTest, AllocateErrorFails) {
  Make();
  client->Start(now);
  Answer(fake.Challenge(Fake::Parse(Next())));
  auto req = Fake::Parse(Next());
  Answer(fake.Error(req, 486, "Allocation Quota Reached"));
  EXPECT_EQ(client->state(), TurnClient::State::kFailed);
  EXPECT_EQ(client->error_code(), 486);
  EXPECT_NE(client->error_text().find("Allocation Quota Reached"), std::string::npos);
}

TEST_F(TurnClientTest, NoAnswerRetransmitsThenFails) {
  Make();
  client->Start(now);
  int sends = 1;
  Next();
  while (auto t = client->PollTimeout()) {
    now = *t;
    client->HandleTimeout(now);
    while (client->PollTransmit()) ++sends;
  }
  EXPECT_EQ(sends, Config().max_sends);
  EXPECT_EQ(client->state(), TurnClient::State::kFailed);
  EXPECT_EQ(client->error_code(), 0);
}

TEST_F(TurnClientTest, ForgedSuccessWithoutValidIntegrityIsIgnored) {
  Make();
  client->Start(now);
  Answer(fake.Challenge(Fake::Parse(Next())));
  auto req = Fake::Parse(Next());
  StunMessage forged(StunClass::kSuccessResponse, req.method(), req.transaction_id());
  forged.AddXorAddress(stun::attr::kXorRelayedAddress, kRelayed);
  Answer(forged.Serialize(AsBytes("not the key")));
  EXPECT_EQ(client->state(), TurnClient::State::kAllocating);
  Answer(fake.AllocateOk(req));  // the real answer still counts
  EXPECT_EQ(client->state(), TurnClient::State::kAllocated);
}

TEST_F(TurnClientTest, RefreshesBeforeLifetimeEnds) {
  Make();
  Allocate();
  ASSERT_TRUE(client->PollTimeout());
  EXPECT_EQ(*client->PollTimeout(), now + seconds(540));  // a minute before 600 s
  now += seconds(539);
  client->HandleTimeout(now);
  EXPECT_FALSE(client->PollTransmit());
  now += seconds(1);
  client->HandleTimeout(now);
  Transmit t = Next();
  auto req = Fake::Parse(t);
  EXPECT_EQ(req.method(), stun::kMethodRefresh);
  EXPECT_EQ(req.lifetime(), 600u);
  fake.ExpectAuthenticated(t);
  // 438 on the refresh: retried with the new nonce.
  Answer(fake.Challenge(req, 438, "n3"));
  Transmit again = Next();
  fake.ExpectAuthenticated(again, "n3");
  Answer(fake.Ok(Fake::Parse(again)));
  EXPECT_EQ(*client->PollTimeout(), now + seconds(540));
  EXPECT_EQ(client->state(), TurnClient::State::kAllocated);
}

TEST_F(TurnClientTest, RefreshFailureLosesTheAllocation) {
  Make();
  Allocate();
  now += seconds(540);
  client->HandleTimeout(now);
  auto req = Fake::Parse(Next());
  Answer(fake.Error(req, 437, "Allocation Mismatch"));
  EXPECT_EQ(client->state(), TurnClient::State::kFailed);
  EXPECT_EQ(client->error_code(), 437);
}

TEST_F(TurnClientTest, PermissionThenSendIndicationThenChannelData) {
  Make();
  Allocate();
  Bytes d1 = {1, 2, 3}, d2 = {4, 5}, d3 = {6};
  client->Send(kPeer, d1, now);
  client->Send(kPeer, d2, now);
  // Only the CreatePermission goes out; the data waits for it.
  Transmit perm = Next();
  auto preq = Fake::Parse(perm);
  EXPECT_EQ(preq.method(), stun::kMethodCreatePermission);
  EXPECT_EQ(preq.xor_address(stun::attr::kXorPeerAddress), kPeer);
  fake.ExpectAuthenticated(perm);
  EXPECT_FALSE(client->PollTransmit());
  EXPECT_FALSE(client->HasPermission(kPeer));
  Answer(fake.Ok(preq));
  EXPECT_TRUE(client->HasPermission(kPeer));
  // The queued data in Send indications, then a ChannelBind.
  for (const Bytes* d : {&d1, &d2}) {
    auto ind = Fake::Parse(Next());
    EXPECT_EQ(ind.cls(), StunClass::kIndication);
    EXPECT_EQ(ind.method(), stun::kMethodSend);
    EXPECT_EQ(ind.xor_address(stun::attr::kXorPeerAddress), kPeer);
    ASSERT_TRUE(ind.data());
    EXPECT_EQ(Bytes(ind.data()->begin(), ind.data()->end()), *d);
  }
  Transmit bind = Next();
  auto breq = Fake::Parse(bind);
  EXPECT_EQ(breq.method(), stun::kMethodChannelBind);
  ASSERT_TRUE(breq.channel_number());
  uint16_t ch = *breq.channel_number();
  EXPECT_GE(ch, kMinChannel);
  EXPECT_LE(ch, kMaxChannel);
  fake.ExpectAuthenticated(bind);
  // Before the bind succeeds, data still goes in Send indications.
  client->Send(kPeer, d3, now);
  EXPECT_EQ(Fake::Parse(Next()).method(), stun::kMethodSend);
  Answer(fake.Ok(breq));
  EXPECT_EQ(client->BoundChannel(kPeer), ch);
  client->Send(kPeer, d3, now);
  Transmit cd = Next();
  auto parsed = ParseChannelData(cd.data);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->channel, ch);
  EXPECT_EQ(Bytes(parsed->data.begin(), parsed->data.end()), d3);
  EXPECT_EQ(cd.data.size(), 5u);  // UDP: no padding

  // Permission refresh every 240 s (before the 300 s expiry), channel refresh every 540 s.
  now += seconds(240);
  client->HandleTimeout(now);
  auto refresh = Fake::Parse(Next());
  EXPECT_EQ(refresh.method(), stun::kMethodCreatePermission);
  Answer(fake.Ok(refresh));
  now += seconds(300);
  client->HandleTimeout(now);
  bool saw_bind = false, saw_refresh = false;
  while (auto t = client->PollTransmit()) {
    auto m = Fake::Parse(*t);
    saw_bind |= m.method() == stun::kMethodChannelBind && m.channel_number() == ch;
    saw_refresh |= m.method() == stun::kMethodRefresh;
  }
  EXPECT_TRUE(saw_bind);
  EXPECT_TRUE(saw_refresh);  // 540 s: the allocation refresh is due too
}

TEST_F(TurnClientTest, UnwrapsDataIndicationsAndChannelData) {
  Make();
  Allocate();
  // A Data indication from a peer without permission is dropped (RFC 8656 §11.4 / §9).
  StunMessage ind(StunClass::kIndication, stun::kMethodData, {});
  ind.AddXorAddress(stun::attr::kXorPeerAddress, kPeer);
  ind.AddData(Bytes{7, 7});
  Answer(ind.Serialize());
  EXPECT_FALSE(client->PollPeerData());
  client->Send(kPeer, Bytes{1}, now);
  auto preq = Fake::Parse(Next());
  Answer(fake.Ok(preq));
  while (client->PollTransmit()) {
  }
  Answer(ind.Serialize());
  auto d = client->PollPeerData();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->peer, kPeer);
  EXPECT_EQ(d->data, (Bytes{7, 7}));
  // ChannelData on an unbound channel: dropped; on the bound one: delivered.
  Answer(EncodeChannelData(0x4123, Bytes{1}, false));
  EXPECT_FALSE(client->PollPeerData());
  auto ch = client->BoundChannel(kPeer);
  EXPECT_FALSE(ch);
}

TEST_F(TurnClientTest, TcpFramesStreamAndPadsChannelData) {
  Make(TransportProtocol::kTcp);
  client->Start(now);
  Transmit t = Next();
  EXPECT_EQ(t.protocol, TransportProtocol::kTcp);
  auto first = Fake::Parse(t);
  // The challenge and then the success arrive split at odd boundaries, in one stream.
  Bytes challenge = fake.Challenge(first);
  client->HandleStreamData(ByteView(challenge.data(), 3), now);
  EXPECT_FALSE(client->PollTransmit());
  client->HandleStreamData(ByteView(challenge.data() + 3, challenge.size() - 3), now);
  Transmit retry = Next();
  EXPECT_EQ(retry.protocol, TransportProtocol::kTcp);
  Bytes ok = fake.AllocateOk(Fake::Parse(retry));
  for (size_t i = 0; i < ok.size(); i += 7)
    client->HandleStreamData(ByteView(ok.data() + i, std::min<size_t>(7, ok.size() - i)), now);
  ASSERT_EQ(client->state(), TurnClient::State::kAllocated);
  // No retransmissions over TCP: the only timer is the refresh.
  EXPECT_EQ(*client->PollTimeout(), now + seconds(540));
  client->Send(kPeer, Bytes{1, 2, 3, 4, 5}, now);
  auto preq = Fake::Parse(Next());
  Bytes pok = fake.Ok(preq);
  client->HandleStreamData(pok, now);
  Next();  // Send indication
  auto breq = Fake::Parse(Next());
  ASSERT_EQ(breq.method(), stun::kMethodChannelBind);
  // Bind success and a ChannelData from the peer in the same chunk, split mid-frame after.
  Bytes stream = fake.Ok(breq);
  Bytes cd = EncodeChannelData(*breq.channel_number(), Bytes{9, 8, 7}, true);
  stream.insert(stream.end(), cd.begin(), cd.end());
  client->HandleStreamData(ByteView(stream.data(), stream.size() - 2), now);
  EXPECT_FALSE(client->PollPeerData());
  client->HandleStreamData(ByteView(stream.data() + stream.size() - 2, 2), now);
  auto d = client->PollPeerData();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data, (Bytes{9, 8, 7}));
  client->Send(kPeer, Bytes{1, 2, 3, 4, 5}, now);
  Transmit out = Next();
  EXPECT_EQ(out.data.size(), 12u);  // 4 + 5, padded to 4 (RFC 8656 §12.5)
  // Garbage on the stream: the allocation is unusable.
  client->HandleStreamData(Bytes{0xFF, 0, 0, 0}, now);
  EXPECT_EQ(client->state(), TurnClient::State::kFailed);
}

TEST_F(TurnClientTest, TcpConnectionLossFails) {
  Make(TransportProtocol::kTcp);
  client->Start(now);
  Next();
  client->HandleStreamClosed(now);
  EXPECT_EQ(client->state(), TurnClient::State::kFailed);
  EXPECT_NE(client->error_text().find("closed"), std::string::npos);
}

TEST_F(TurnClientTest, CloseDeallocates) {
  Make();
  Allocate();
  client->Close(now);
  Transmit t = Next();
  auto req = Fake::Parse(t);
  EXPECT_EQ(req.method(), stun::kMethodRefresh);
  EXPECT_EQ(req.lifetime(), 0u);
  fake.ExpectAuthenticated(t);
  EXPECT_EQ(client->state(), TurnClient::State::kClosed);
  EXPECT_FALSE(client->PollTimeout());
  client->Send(kPeer, Bytes{1}, now);  // dropped
  EXPECT_FALSE(client->PollTransmit());
}

// ---------------------------------------------------------------------------------------------
// Agent: relay candidates

class AgentTurnTest : public ::testing::Test {
 protected:
  void Make(bool relay_only, TransportProtocol tp = TransportProtocol::kUdp) {
    AgentConfig c;
    c.local = {"ufrg", "passwordpasswordpassword"};
    c.tie_breaker = 1;
    TurnServer s;
    s.server = kServer;
    s.transport = tp;
    s.username = fake.user;
    s.password = fake.pass;
    s.url = "turn:10.0.0.9:3478";
    c.turn_servers.push_back(s);
    c.relay_only = relay_only;
    agent = std::make_unique<Agent>(c, rng);
    agent->AddLocalAddress(kBase);
  }
  std::vector<Transmit> Drain() {
    std::vector<Transmit> out;
    while (auto t = agent->PollTransmit()) out.push_back(*t);
    return out;
  }
  std::vector<Event> Events() {
    std::vector<Event> out;
    while (auto e = agent->PollEvent()) out.push_back(*e);
    return out;
  }
  // Answers the agent's Allocate (challenge + success).
  void AllocateOk() {
    auto out = Drain();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(agent->HandleTurnDatagram(fake.Challenge(Fake::Parse(out[0])), kBase, kServer, now));
    out = Drain();
    ASSERT_EQ(out.size(), 1u);
    fake.ExpectAuthenticated(out[0]);
    EXPECT_TRUE(agent->HandleTurnDatagram(fake.AllocateOk(Fake::Parse(out[0])), kBase, kServer, now));
  }
  Random rng{3};
  Instant now = Instant() + seconds(10);
  Fake fake;
  std::unique_ptr<Agent> agent;
};

TEST_F(AgentTurnTest, RelayOnlyAnnouncesOnlyTheRelayCandidate) {
  Make(true);
  agent->StartGathering(now);
  auto ev = Events();
  for (const auto& e : ev) EXPECT_FALSE(std::holds_alternative<EventLocalCandidate>(e));  // no host
  EXPECT_EQ(agent->gathering_state(), GatheringState::kGathering);  // waits for the allocation
  AllocateOk();
  ev = Events();
  std::vector<Candidate> cands;
  for (const auto& e : ev)
    if (auto* c = std::get_if<EventLocalCandidate>(&e)) cands.push_back(c->candidate);
  ASSERT_EQ(cands.size(), 1u);
  EXPECT_EQ(cands[0].type, CandidateType::kRelay);
  EXPECT_EQ(cands[0].address, "10.0.0.9");
  EXPECT_EQ(cands[0].port, 50000);
  EXPECT_EQ(cands[0].related_address, "192.0.2.7");  // raddr = mapped address
  EXPECT_EQ(cands[0].related_port, 6000);
  EXPECT_EQ(cands[0].priority >> 24, kTypePreferenceRelay);
  EXPECT_EQ(agent->gathering_state(), GatheringState::kComplete);
  EXPECT_TRUE(agent->IsRelayedAddress(kRelayed));
  EXPECT_FALSE(agent->IsRelayedAddress(kBase));
  // Traffic from the server for someone else is not TURN.
  EXPECT_FALSE(agent->HandleTurnDatagram(Bytes{0, 1}, kBase, Addr("10.0.0.99", 3478), now));
}

TEST_F(AgentTurnTest, ChecksFromTheRelayGoThroughTheAllocation) {
  Make(true);
  agent->StartGathering(now);
  AllocateOk();
  Events();
  agent->SetRemoteCredentials({"rfrg", "remotepasswordremotepass"});
  Candidate remote;
  remote.foundation = "1";
  remote.priority = 2130706431;
  remote.address = "10.0.0.3";
  remote.port = 7000;
  ASSERT_TRUE(agent->AddRemoteCandidate(remote, now).ok());
  for (int i = 0; i < 5; ++i) {
    if (auto t = agent->PollTimeout()) now = std::max(now, *t);
    agent->HandleTimeout(now);
  }
  auto out = Drain();
  ASSERT_FALSE(out.empty());
  for (const auto& t : out) {
    EXPECT_EQ(t.to, kServer);  // nothing goes to the peer directly
    EXPECT_EQ(t.from, kBase);
  }
  auto perm = Fake::Parse(out[0]);
  EXPECT_EQ(perm.method(), stun::kMethodCreatePermission);
  EXPECT_EQ(perm.xor_address(stun::attr::kXorPeerAddress), kPeer);
  ASSERT_TRUE(agent->HandleTurnDatagram(fake.Ok(perm), kBase, kServer, now));
  out = Drain();
  // The check, in a Send indication to the peer, then the ChannelBind.
  bool saw_check = false;
  for (const auto& t : out) {
    auto m = Fake::Parse(t);
    if (m.method() != stun::kMethodSend) continue;
    auto inner = StunMessage::Parse(*m.data());
    ASSERT_TRUE(inner.ok());
    EXPECT_TRUE(inner->IsBindingRequest());
    EXPECT_EQ(inner->username(), "rfrg:ufrg");
    saw_check = true;
  }
  EXPECT_TRUE(saw_check);
  // Data the owner sends from the relayed address (DTLS) goes the same way.
  EXPECT_TRUE(agent->SendRelayed(Transmit{kRelayed, kPeer, Bytes{22, 1, 2}}, now));
  EXPECT_FALSE(agent->SendRelayed(Transmit{kBase, kPeer, Bytes{22}}, now));
  out = Drain();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back().to, kServer);
  // A relayed non-STUN datagram comes back out for the owner's demux.
  StunMessage ind(StunClass::kIndication, stun::kMethodData, {});
  ind.AddXorAddress(stun::attr::kXorPeerAddress, kPeer);
  ind.AddData(Bytes{23, 3, 3});
  ASSERT_TRUE(agent->HandleTurnDatagram(ind.Serialize(), kBase, kServer, now));
  auto d = agent->PollRelayedData();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->local, kRelayed);
  EXPECT_EQ(d->remote, kPeer);
  EXPECT_EQ(d->data, (Bytes{23, 3, 3}));
  // Close deallocates.
  agent->Close();
  out = Drain();
  ASSERT_EQ(out.size(), 1u);
  auto dealloc = Fake::Parse(out[0]);
  EXPECT_EQ(dealloc.method(), stun::kMethodRefresh);
  EXPECT_EQ(dealloc.lifetime(), 0u);
}

TEST_F(AgentTurnTest, BadCredentialsReportErrorCompleteGatheringAndFailWithNoCandidates) {
  Make(true);
  agent->StartGathering(now);
  auto out = Drain();
  ASSERT_EQ(out.size(), 1u);
  agent->HandleTurnDatagram(fake.Challenge(Fake::Parse(out[0])), kBase, kServer, now);
  out = Drain();
  ASSERT_EQ(out.size(), 1u);
  agent->HandleTurnDatagram(fake.Challenge(Fake::Parse(out[0])), kBase, kServer, now);
  bool error = false, complete = false, candidate = false;
  for (const auto& e : Events()) {
    if (auto* ce = std::get_if<EventCandidateError>(&e)) {
      error = true;
      EXPECT_EQ(ce->error_code, 401);
      EXPECT_EQ(ce->url, "turn:10.0.0.9:3478");
      EXPECT_EQ(ce->address, "10.0.0.2");
    }
    if (auto* g = std::get_if<EventGatheringStateChanged>(&e)) complete |= g->state == GatheringState::kComplete;
    candidate |= std::holds_alternative<EventLocalCandidate>(e);
  }
  EXPECT_TRUE(error);
  EXPECT_TRUE(complete);
  EXPECT_FALSE(candidate);
  // W3C: zero local candidates + remote end-of-candidates -> failed.
  agent->SetRemoteCredentials({"rfrg", "remotepasswordremotepass"});
  EXPECT_EQ(agent->state(), TransportState::kNew);
  agent->SetRemoteEndOfCandidates();
  EXPECT_EQ(agent->state(), TransportState::kFailed);
}

TEST_F(AgentTurnTest, PolicyAllKeepsHostCandidateAndAddsRelay) {
  Make(false);
  agent->StartGathering(now);
  AllocateOk();
  std::vector<CandidateType> types;
  for (const auto& e : Events())
    if (auto* c = std::get_if<EventLocalCandidate>(&e)) types.push_back(c->candidate.type);
  ASSERT_EQ(types.size(), 2u);
  EXPECT_EQ(types[0], CandidateType::kHost);
  EXPECT_EQ(types[1], CandidateType::kRelay);
}

TEST_F(AgentTurnTest, RelayOnlyIgnoresChecksArrivingOnTheHostSocket) {
  Make(true);
  agent->StartGathering(now);
  AllocateOk();
  agent->SetRemoteCredentials({"rfrg", "remotepasswordremotepass"});
  Drain();
  StunMessage req(StunClass::kRequest, stun::kMethodBinding, {});
  req.AddUsername("ufrg:rfrg");
  req.AddPriority(1);
  req.AddIceControlled(5);
  Bytes raw = req.Serialize(AsBytes("passwordpasswordpassword"), true);
  EXPECT_TRUE(agent->HandleStun(raw, kBase, kPeer, now));
  EXPECT_TRUE(Drain().empty());  // no answer: the host base is not a candidate under "relay"
}

}  // namespace
}  // namespace refrtc::ice
