// Security regressions for the ICE agent (issue F): what an off-path or on-path attacker can do
// with Binding requests. The test plays the remote agent by hand (requests built with
// stun::StunMessage, responses to the agent's checks signed with the remote password) so that
// every effect — responses, role, nomination, peer-reflexive candidates, checks sent — is observed
// directly. Existing coverage (agent_test.cc): SingleAgent.MissingUsernameOrIntegrityGets400,
// SingleAgent.BadIntegrityGets401NoStateChange, SingleAgent.WrongUfragGets401,
// SingleAgent.UnknownComprehensionRequiredGets420, IceAgent.WrongPasswordGets401AndNoConnection,
// IceAgent.ConsentLossDisconnectsThenFailsAndRecovers.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "ice/agent.h"
#include "util/codec.h"

namespace refrtc::ice {
namespace {

SocketAddress Addr(const char* ip, uint16_t port) { return *SocketAddress::Parse(ip, port); }

constexpr char kLocalUfrag[] = "LOCAL";
constexpr char kLocalPwd[] = "localpassword-1234567890";
constexpr char kRemoteUfrag[] = "REMOTE";
constexpr char kRemotePwd[] = "remotepassword-123456789";

struct RequestOptions {
  std::string username = "LOCAL:REMOTE";
  std::string key = kLocalPwd;  // MESSAGE-INTEGRITY key ("" = none)
  std::optional<uint32_t> priority = 1234;
  bool use_candidate = false;
  std::optional<uint64_t> controlling, controlled;
  std::vector<uint16_t> unknown_required;
  uint8_t tid = 1;
};

Bytes MakeRequest(const RequestOptions& o) {
  stun::TransactionId tid{};
  tid[0] = o.tid;
  tid[11] = 0x5A;
  stun::StunMessage m(stun::StunClass::kRequest, stun::kMethodBinding, tid);
  if (!o.username.empty()) m.AddUsername(o.username);
  if (o.priority) m.AddPriority(*o.priority);
  if (o.use_candidate) m.AddUseCandidate();
  if (o.controlling) m.AddIceControlling(*o.controlling);
  if (o.controlled) m.AddIceControlled(*o.controlled);
  for (uint16_t t : o.unknown_required) m.AddRaw(t, {});
  return m.Serialize(AsBytes(o.key), true);
}

class IceSecurity : public ::testing::Test {
 protected:
  Random rng{11};
  std::unique_ptr<Agent> agent;
  Instant now = Instant() + seconds(100);
  const SocketAddress local = Addr("10.0.0.1", 1000);
  const SocketAddress peer = Addr("10.0.0.2", 2000);        // the signalled remote candidate
  const SocketAddress attacker = Addr("203.0.113.66", 6666);  // never signalled

  void Make(Role role, uint64_t tie_breaker = 1000) {
    AgentConfig c;
    c.role = role;
    c.local = {kLocalUfrag, kLocalPwd};
    c.tie_breaker = tie_breaker;
    agent = std::make_unique<Agent>(c, rng);
    agent->AddLocalAddress(local);
    agent->StartGathering(now);
    while (agent->PollEvent()) {
    }
  }
  void AddPeer(uint32_t priority = 2000000000) {
    agent->SetRemoteCredentials({kRemoteUfrag, kRemotePwd});
    Candidate c;
    c.foundation = "1";
    c.priority = priority;
    c.address = peer.IpString();
    c.port = peer.port();
    ASSERT_TRUE(agent->AddRemoteCandidate(c, now).ok());
  }
  // Runs the agent's timers for `d`; answers every check it sends to an address in `answer` with
  // an authenticated success (as the real remote agent would); everything sent is collected.
  std::vector<Transmit> Run(Duration d, std::vector<SocketAddress> answer = {}) {
    std::vector<Transmit> sent;
    Instant end = now + d;
    for (int guard = 0; guard < 100000; ++guard) {
      while (auto t = agent->PollTransmit()) {
        sent.push_back(*t);
        auto m = stun::StunMessage::Parse(t->data);
        if (!m.ok() || !m->IsBindingRequest()) continue;
        if (std::find(answer.begin(), answer.end(), t->to) == answer.end()) continue;
        stun::StunMessage r(stun::StunClass::kSuccessResponse, stun::kMethodBinding, m->transaction_id());
        r.AddXorMappedAddress(t->from);
        agent->HandleStun(r.Serialize(AsBytes(kRemotePwd), true), t->from, t->to, now);
      }
      while (agent->PollEvent()) {
      }
      auto next = agent->PollTimeout();
      if (!next || *next > end) break;
      now = std::max(now, *next);
      agent->HandleTimeout(now);
    }
    now = end;
    return sent;
  }
  // Delivers `req` from `from` and returns the agent's one reply (parsed), checking it goes back.
  std::optional<stun::StunMessage> Send(const Bytes& req, const SocketAddress& from, Bytes* raw = nullptr) {
    EXPECT_TRUE(agent->HandleStun(req, local, from, now));
    auto t = agent->PollTransmit();
    if (!t) return std::nullopt;
    EXPECT_EQ(t->to, from);
    EXPECT_EQ(t->from, local);
    if (raw) *raw = t->data;
    auto m = stun::StunMessage::Parse(t->data);
    EXPECT_TRUE(m.ok());
    return m.ok() ? std::optional<stun::StunMessage>(*m) : std::nullopt;
  }
  static size_t CountTo(const std::vector<Transmit>& v, const SocketAddress& to) {
    size_t n = 0;
    for (const auto& t : v) n += t.to == to;
    return n;
  }
};

// RFC 8489 §9.1.3 / RFC 8445 §7.3: a request with a bad MESSAGE-INTEGRITY (wrong password) or an
// unknown USERNAME (ufrag that is not ours) gets 401 and changes nothing: even though it claims
// ICE-CONTROLLING with a winning tie-breaker (role conflict, §7.3.1.1) and USE-CANDIDATE
// (§7.3.1.5) from an unsignalled address (§7.3.1.3), there is no role switch, no 487, no
// peer-reflexive candidate (no check is ever sent to that address), no nomination, and the 401 is
// unauthenticated (no MESSAGE-INTEGRITY: we cannot know which key the sender has).
TEST_F(IceSecurity, UnauthenticatedRequestChangesNoState) {
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    Make(Role::kControlling, /*tie_breaker=*/1000);
    AddPeer();
    RequestOptions o;
    o.controlling = ~0ull;  // would win the role conflict
    o.use_candidate = true;
    if (variant == 0) o.key = "not-the-local-password";
    if (variant == 1) o.username = "NOTUS:REMOTE";  // unknown USERNAME, right password
    if (variant == 2) o.username = "LOCALX:REMOTE";  // our ufrag as a prefix only
    auto r = Send(MakeRequest(o), attacker);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->cls(), stun::StunClass::kErrorResponse);
    EXPECT_EQ(r->error_code()->code, 401);
    EXPECT_FALSE(r->has_message_integrity());
    EXPECT_FALSE(agent->PollTransmit().has_value());
    EXPECT_EQ(agent->role(), Role::kControlling);
    EXPECT_FALSE(agent->IsValidatedRemote(local, attacker));
    EXPECT_FALSE(agent->HasConsent(local, attacker));
    // The real peer connects; the attacker's address never gets a check (no prflx candidate).
    auto sent = Run(seconds(5), {peer});
    EXPECT_EQ(CountTo(sent, attacker), 0u);
    EXPECT_FALSE(agent->pair_stats(local, attacker).has_value());
    ASSERT_TRUE(agent->selected_pair().has_value());
    EXPECT_EQ(agent->selected_pair()->second, peer);
    EXPECT_EQ(agent->role(), Role::kControlling);
  }
}

// RFC 8445 §7.3.1.5: only an authenticated request with USE-CANDIDATE nominates. A forged
// USE-CANDIDATE on the valid pair (bad MESSAGE-INTEGRITY) is answered 401 and the pair stays
// unnominated; the same request with the right password then nominates it (the test can fail).
TEST_F(IceSecurity, ForgedUseCandidateDoesNotNominate) {
  Make(Role::kControlled, 5);
  AddPeer();
  Run(seconds(2), {peer});
  ASSERT_EQ(agent->selected_pair(), std::make_pair(local, peer));
  ASSERT_FALSE(agent->selected_pair_nominated());
  RequestOptions o;
  o.use_candidate = true;
  o.controlling = 99;
  o.key = "forged-key-forged-key-00";
  auto r = Send(MakeRequest(o), peer);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->error_code()->code, 401);
  EXPECT_FALSE(agent->selected_pair_nominated());
  o.key = kLocalPwd;
  o.tid = 2;
  r = Send(MakeRequest(o), peer);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cls(), stun::StunClass::kSuccessResponse);
  EXPECT_TRUE(agent->selected_pair_nominated());
}

// RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY are ignored. An on-path attacker who appends
// USE-CANDIDATE and a winning ICE-CONTROLLED to a genuine request (the HMAC still verifies, the
// FINGERPRINT is recomputed) neither nominates the pair nor flips our role: the request is
// answered as the original (success, not 487).
TEST_F(IceSecurity, AttributesAppendedAfterIntegrityHaveNoEffect) {
  Make(Role::kControlled, /*tie_breaker=*/5);
  AddPeer();
  Run(seconds(2), {peer});
  ASSERT_FALSE(agent->selected_pair_nominated());
  RequestOptions o;
  o.controlling = 99;
  stun::TransactionId tid{};
  tid[0] = 3;
  stun::StunMessage m(stun::StunClass::kRequest, stun::kMethodBinding, tid);
  m.AddUsername("LOCAL:REMOTE");
  m.AddPriority(1234);
  m.AddIceControlling(99);
  Bytes b = m.Serialize(AsBytes(kLocalPwd));
  // USE-CANDIDATE; ICE-CONTROLLED with tie-breaker 0 (we, controlled with 5, would switch to
  // controlling per §7.3.1.1); an unknown comprehension-required attribute (would be a 420).
  Bytes tail = {0x00, 0x25, 0x00, 0x00, 0x80, 0x29, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x31, 0x00, 0x00};
  b.insert(b.end(), tail.begin(), tail.end());
  size_t len = b.size() - stun::kHeaderSize + 8;
  b[2] = static_cast<uint8_t>(len >> 8);
  b[3] = static_cast<uint8_t>(len);
  uint32_t crc = Crc32(b) ^ stun::kFingerprintXor;
  Bytes fp = {0x80, 0x28, 0x00, 0x04, static_cast<uint8_t>(crc >> 24), static_cast<uint8_t>(crc >> 16),
              static_cast<uint8_t>(crc >> 8), static_cast<uint8_t>(crc)};
  b.insert(b.end(), fp.begin(), fp.end());
  ASSERT_TRUE(stun::VerifyMessageIntegrity(b, AsBytes(kLocalPwd)).ok());
  auto r = Send(b, peer);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cls(), stun::StunClass::kSuccessResponse);
  EXPECT_FALSE(agent->selected_pair_nominated());
  EXPECT_EQ(agent->role(), Role::kControlled);
}

// RFC 8489 §6.3 / §6.3.1 (RFC 5389 §7.3): unknown comprehension-required attributes are checked
// after authentication. Authenticated: 420 with UNKNOWN-ATTRIBUTES, protected by MESSAGE-INTEGRITY
// with our password, and nothing else of the request acted on. Unauthenticated: 401, no list.
// Fixed bug: the 420 used to be sent before (and without) authentication.
TEST_F(IceSecurity, UnknownRequiredAttributeGets420OnlyAfterAuthentication) {
  Make(Role::kControlling, 1000);
  RequestOptions o;
  o.unknown_required = {0x0031, 0x7FFE};
  o.controlling = ~0ull;
  o.use_candidate = true;
  o.key = "wrong-password-wrong-pwd";
  auto r = Send(MakeRequest(o), attacker);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->error_code()->code, 401);
  EXPECT_FALSE(r->unknown_attributes().has_value());
  o.key = kLocalPwd;
  o.tid = 2;
  Bytes raw;
  r = Send(MakeRequest(o), attacker, &raw);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cls(), stun::StunClass::kErrorResponse);
  EXPECT_EQ(r->error_code()->code, 420);
  EXPECT_EQ(*r->unknown_attributes(), (std::vector<uint16_t>{0x0031, 0x7FFE}));
  EXPECT_TRUE(stun::VerifyMessageIntegrity(raw, AsBytes(kLocalPwd)).ok());
  EXPECT_EQ(agent->role(), Role::kControlling);
  EXPECT_FALSE(agent->IsValidatedRemote(local, attacker));
  agent->SetRemoteCredentials({kRemoteUfrag, kRemotePwd});
  auto sent = Run(seconds(3));
  EXPECT_EQ(CountTo(sent, attacker), 0u);  // no peer-reflexive candidate was learned
}

// RFC 8445 §7.3.1.3: a check from an unknown source address creates a peer-reflexive remote
// candidate — only once it is authenticated — whose priority is the PRIORITY attribute of the
// request. Two authenticated checks from unsignalled addresses with different PRIORITY values:
// after both pairs succeed, the selected pair (best valid pair before nomination) is the one with
// the higher PRIORITY, whichever address carries it.
TEST_F(IceSecurity, PeerReflexiveCandidateTakesPriorityFromAuthenticatedCheck) {
  const SocketAddress x = Addr("192.0.2.10", 3000), y = Addr("192.0.2.20", 4000);
  for (bool x_higher : {true, false}) {
    SCOPED_TRACE(x_higher);
    Make(Role::kControlled, 5);
    agent->SetRemoteCredentials({kRemoteUfrag, kRemotePwd});
    RequestOptions o;
    o.controlling = 99;
    o.priority = x_higher ? 0x7E0000FFu : 0x10;
    o.tid = 1;
    auto r = Send(MakeRequest(o), x);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->cls(), stun::StunClass::kSuccessResponse);
    EXPECT_EQ(r->xor_mapped_address(), x);
    o.priority = x_higher ? 0x10 : 0x7E0000FFu;
    o.tid = 2;
    r = Send(MakeRequest(o), y);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->cls(), stun::StunClass::kSuccessResponse);
    EXPECT_TRUE(agent->IsValidatedRemote(local, x));
    EXPECT_TRUE(agent->IsValidatedRemote(local, y));
    auto sent = Run(seconds(2), {x, y});  // triggered checks to both, answered
    EXPECT_GT(CountTo(sent, x), 0u);
    EXPECT_GT(CountTo(sent, y), 0u);
    ASSERT_TRUE(agent->selected_pair().has_value());
    EXPECT_EQ(agent->selected_pair()->second, x_higher ? x : y);
  }
}

// RFC 7675 §5.1 (agent level; the engine-level effect is in api/transport_security_test.cc):
// consent is refreshed only by authenticated responses to our own requests. Forged success
// responses (wrong key, or an unknown transaction) and authenticated requests from the peer do
// not extend it: 30 s after the last genuine response the agent is failed and stops sending.
TEST_F(IceSecurity, ConsentIsNotExtendedByForgedResponsesOrPeerRequests) {
  Make(Role::kControlling, 1000);
  AddPeer();
  Run(seconds(2), {peer});
  ASSERT_TRUE(agent->HasConsent(local, peer));
  const Instant lost_at = now;
  uint8_t tid = 10;
  bool failed = false;
  while (now < lost_at + seconds(40) && !failed) {
    auto sent = Run(milliseconds(500));  // nothing answered genuinely
    for (const auto& t : sent) {
      auto m = stun::StunMessage::Parse(t.data);
      if (!m.ok() || !m->IsBindingRequest()) continue;
      // A forged response to the real transaction, keyed with the wrong password.
      stun::StunMessage f(stun::StunClass::kSuccessResponse, stun::kMethodBinding, m->transaction_id());
      f.AddXorMappedAddress(t.from);
      agent->HandleStun(f.Serialize(AsBytes("attacker-password-000000"), true), t.from, t.to, now);
      // An unauthenticated one without MESSAGE-INTEGRITY.
      agent->HandleStun(f.Serialize({}, true), t.from, t.to, now);
    }
    // The peer keeps sending authenticated checks: that proves liveness, not consent.
    RequestOptions o;
    o.tid = tid++;
    o.controlled = 1;
    agent->HandleStun(MakeRequest(o), local, peer, now);
    failed = agent->state() == TransportState::kFailed;
  }
  ASSERT_TRUE(failed);
  // The last genuine response came during the 2 s of Run() before lost_at.
  EXPECT_GE(now - lost_at, seconds(27));
  EXPECT_LE(now - lost_at, seconds(32));
  EXPECT_FALSE(agent->HasConsent(local, peer));
  EXPECT_FALSE(agent->selected_pair().has_value());
  // No more sending at all, not even answers to the peer's requests.
  while (agent->PollTransmit()) {
  }
  RequestOptions o;
  o.tid = 200;
  o.controlled = 1;
  agent->HandleStun(MakeRequest(o), local, peer, now);
  auto sent = Run(seconds(10), {peer});
  EXPECT_TRUE(sent.empty());
}

}  // namespace
}  // namespace refrtc::ice
