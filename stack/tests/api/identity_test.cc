// webrtc-identity: two refrtc peer connections with the refrtc test IdP, in virtual time.
#include <gtest/gtest.h>

#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "api/identity_assertion.h"
#include "pc_pair.h"
#include "refrtc/rtc_identity.h"
#include "refrtc/test_identity_provider.h"
#include "sdp/sdp.h"
#include "util/codec.h"

namespace refrtc::test {
namespace {

constexpr char kKey[] = "secret-key";
constexpr char kDomain[] = "idp.example";

std::shared_ptr<TestIdentityProvider> MakeIdp(const std::string& name, TestIdpFailure fail = TestIdpFailure::kNone,
                                              const std::string& key = kKey) {
  TestIdentityProviderOptions o;
  o.domain = kDomain;
  o.key = key;
  o.name = name;
  o.fail = fail;
  return std::make_shared<TestIdentityProvider>(o);
}

// A registers an IdP and sets it; B registers one (for validation) and sets its own too.
void SetupIdps(PcPair& p, TestIdpFailure a_fail = TestIdpFailure::kNone, TestIdpFailure b_fail = TestIdpFailure::kNone,
           bool b_sets_idp = true) {
  ASSERT_TRUE(p.a.pc->identityProviders().Register(kDomain, "default", MakeIdp("alice@idp.example", a_fail)).ok());
  ASSERT_TRUE(p.b.pc->identityProviders().Register(kDomain, "default", MakeIdp("bob@idp.example", b_fail)).ok());
  ASSERT_TRUE(p.a.pc->setIdentityProvider(kDomain).ok());
  if (b_sets_idp) ASSERT_TRUE(p.b.pc->setIdentityProvider(kDomain).ok());
}

std::string IdentityLine(const std::string& sdp) {
  auto parsed = sdp::SessionDescription::Parse(sdp);
  if (!parsed.ok()) return "";
  return parsed->GetAttribute("identity").value_or("");
}

int CountEvents(const Side& s, RTCEventType t, const std::string& state) {
  int n = 0;
  for (const auto& e : s.events) n += e.type == t && e.state == state;
  return n;
}

TEST(Identity, AssertionsAreExchangedAndPeerIdentityResolvesOnBothSides) {
  PcPair p;
  SetupIdps(p);
  auto assertion = p.a.pc->getIdentityAssertion();
  ASSERT_TRUE(assertion.ok()) << assertion.status();
  auto ch = p.a.pc->createDataChannel("chat");
  ASSERT_TRUE(ch.ok());
  auto offer = p.a.pc->createOffer();
  ASSERT_TRUE(offer.ok()) << offer.status();
  // §9.3 step 6: a=identity is the base64 JSON {idp, assertion}, binding our fingerprint.
  EXPECT_EQ(IdentityLine(offer->sdp), *assertion);
  auto attr = identity::ParseIdentityAttribute(*assertion);
  ASSERT_TRUE(attr.ok()) << attr.status();
  EXPECT_EQ(attr->idp.domain, kDomain);
  EXPECT_EQ(attr->idp.protocol, "default");
  EXPECT_TRUE(absl::StrContains(attr->assertion,
                                absl::AsciiStrToUpper(p.a.pc->certificate()->getFingerprints()[0].value)));

  ASSERT_TRUE(p.a.pc->setLocalDescription(*offer).ok());
  ASSERT_TRUE(p.b.pc->setRemoteDescription(*offer).ok());
  auto answer = p.b.pc->createAnswer();
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_FALSE(IdentityLine(answer->sdp).empty());
  ASSERT_TRUE(p.b.pc->setLocalDescription(*answer).ok());
  ASSERT_TRUE(p.a.pc->setRemoteDescription(*answer).ok());
  p.Pump();

  auto pa = p.a.pc->peerIdentity();
  auto pb = p.b.pc->peerIdentity();
  ASSERT_EQ(pa.state, RTCPromiseState::kFulfilled) << pa.error;
  ASSERT_EQ(pb.state, RTCPromiseState::kFulfilled) << pb.error;
  EXPECT_EQ(pa.assertion, (RTCIdentityAssertion{kDomain, "bob@idp.example"}));
  EXPECT_EQ(pb.assertion, (RTCIdentityAssertion{kDomain, "alice@idp.example"}));
  EXPECT_EQ(CountEvents(p.a, RTCEventType::kPeerIdentityResult, "fulfilled"), 1);
  EXPECT_EQ(CountEvents(p.b, RTCEventType::kPeerIdentityResult, "fulfilled"), 1);
  EXPECT_EQ(CountEvents(p.a, RTCEventType::kIdentityResult, "fulfilled"), 1);  // generated once, then stored
  EXPECT_FALSE(p.a.pc->idpLoginUrl());

  // The call still connects, and a renegotiation revalidates the same assertion quietly.
  ASSERT_TRUE(p.RunUntil([&] { return p.b.remote_channels.size() == 1; }));
  auto offer2 = p.a.pc->createOffer();
  ASSERT_TRUE(offer2.ok());
  EXPECT_EQ(IdentityLine(offer2->sdp), *assertion);
}

TEST(Identity, NoIdentityProviderMeansNoAttributeAndPendingPeerIdentity) {
  PcPair p;
  p.a.pc->createDataChannel("x");
  auto offer = p.a.pc->createOffer();
  ASSERT_TRUE(offer.ok());
  EXPECT_EQ(IdentityLine(offer->sdp), "");
  EXPECT_EQ(DomErrorName(p.a.pc->getIdentityAssertion().status()), "InvalidStateError");
  p.Negotiate();
  EXPECT_EQ(p.b.pc->peerIdentity().state, RTCPromiseState::kPending);
}

TEST(Identity, BadSignatureRejectsPeerIdentityWithTokenInvalid) {
  PcPair p;
  SetupIdps(p, TestIdpFailure::kBadSignature, TestIdpFailure::kNone, /*b_sets_idp=*/false);
  p.a.pc->createDataChannel("x");
  p.Negotiate();  // without a target peer identity setRemoteDescription still succeeds
  auto pb = p.b.pc->peerIdentity();
  ASSERT_EQ(pb.state, RTCPromiseState::kRejected);
  EXPECT_EQ(DomErrorName(pb.error), "OperationError");
  EXPECT_EQ(RTCErrorDetail(pb.error), "idp-token-invalid");
  EXPECT_EQ(CountEvents(p.b, RTCEventType::kPeerIdentityResult, "rejected"), 1);
  // A's assertion was fine to generate.
  EXPECT_EQ(p.a.pc->peerIdentity().state, RTCPromiseState::kPending);
}

TEST(Identity, FingerprintMismatchRejectsPeerIdentity) {
  PcPair p;
  SetupIdps(p, TestIdpFailure::kNone, TestIdpFailure::kNone, false);
  p.a.pc->createDataChannel("x");
  auto offer = p.a.pc->createOffer();
  ASSERT_TRUE(offer.ok());
  // The assertion binds A's certificate; the description claims another one (§9.4 step 8).
  auto other = RTCCertificate::Generate(99, 1764000000);
  ASSERT_TRUE(other.ok());
  std::string fp = (*other)->getFingerprints()[0].value;
  std::string sdp = std::regex_replace(offer->sdp, std::regex("a=fingerprint:sha-256 [0-9A-Fa-f:]+"),
                                       "a=fingerprint:sha-256 " + fp);
  ASSERT_NE(sdp, offer->sdp);
  ASSERT_TRUE(p.b.pc->setRemoteDescription({RTCSdpType::kOffer, sdp}).ok());
  auto pb = p.b.pc->peerIdentity();
  ASSERT_EQ(pb.state, RTCPromiseState::kRejected);
  EXPECT_EQ(DomErrorName(pb.error), "OperationError");
  EXPECT_EQ(RTCErrorDetail(pb.error), "");
  EXPECT_TRUE(absl::StrContains(pb.error.message(), "fingerprint")) << pb.error;
}

TEST(Identity, IdpErrorsOnGenerationAndValidation) {
  {
    PcPair p;
    SetupIdps(p, TestIdpFailure::kError);
    auto offer = p.a.pc->createOffer();
    ASSERT_FALSE(offer.ok());
    EXPECT_EQ(DomErrorName(offer.status()), "OperationError");
    EXPECT_EQ(RTCErrorDetail(offer.status()), "idp-execution-failure");
    p.Pump();
    EXPECT_EQ(CountEvents(p.a, RTCEventType::kIdentityResult, "rejected"), 1);
    EXPECT_EQ(p.a.pc->signalingState(), RTCSignalingState::kStable);
    // The failure is reported once; the next call asks the IdP again (and fails again).
    EXPECT_EQ(RTCErrorDetail(p.a.pc->getIdentityAssertion().status()), "idp-execution-failure");
  }
  {
    PcPair p;
    SetupIdps(p, TestIdpFailure::kNone, TestIdpFailure::kError, false);
    p.a.pc->createDataChannel("x");
    p.Negotiate();
    auto pb = p.b.pc->peerIdentity();
    ASSERT_EQ(pb.state, RTCPromiseState::kRejected);
    EXPECT_EQ(RTCErrorDetail(pb.error), "idp-execution-failure");
  }
}

TEST(Identity, GenerationTimesOutInVirtualTime) {
  PcPair p;
  SetupIdps(p, TestIdpFailure::kTimeout);
  const Instant start = p.net.now();
  auto offer = p.a.pc->createOffer();
  ASSERT_FALSE(offer.ok());
  EXPECT_TRUE(IsIdentityPending(offer.status())) << offer.status();
  EXPECT_EQ(p.a.pc->signalingState(), RTCSignalingState::kStable);
  // Still pending on retry, and the pc reports the IdP deadline.
  EXPECT_TRUE(IsIdentityPending(p.a.pc->createOffer().status()));
  auto deadline = p.a.pc->PollTimeout();
  ASSERT_TRUE(deadline);
  EXPECT_LE(*deadline, start + std::chrono::seconds(15));
  ASSERT_TRUE(p.RunUntil([&] { return p.a.Saw(RTCEventType::kIdentityResult, "rejected"); }, std::chrono::seconds(20)));
  EXPECT_GE(p.net.now(), start + std::chrono::seconds(15));
  auto again = p.a.pc->createOffer();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(RTCErrorDetail(again.status()), "idp-timeout");
}

TEST(Identity, ValidationTimesOutAndWithATargetSetRemoteDescriptionWaits) {
  RTCConfiguration config;
  config.peerIdentity = "alice@idp.example";
  PcPair p(3, config);
  SetupIdps(p, TestIdpFailure::kNone, TestIdpFailure::kTimeout, false);
  p.a.pc->setIdpTimeout(std::chrono::seconds(5));
  p.b.pc->setIdpTimeout(std::chrono::seconds(5));
  p.a.pc->createDataChannel("x");
  auto offer = p.a.pc->createOffer();
  ASSERT_TRUE(offer.ok());
  ASSERT_TRUE(p.a.pc->setLocalDescription(*offer).ok());
  // B has a target peer identity: setRemoteDescription cannot complete before validation.
  auto st = p.b.pc->setRemoteDescription(*offer);
  EXPECT_TRUE(IsIdentityPending(st)) << st;
  EXPECT_EQ(p.b.pc->signalingState(), RTCSignalingState::kStable);
  EXPECT_FALSE(p.b.pc->remoteDescription());
  EXPECT_EQ(p.b.pc->peerIdentity().state, RTCPromiseState::kPending);
  ASSERT_TRUE(p.RunUntil([&] { return p.b.Saw(RTCEventType::kPeerIdentityResult, "rejected"); }, std::chrono::seconds(10)));
  EXPECT_EQ(RTCErrorDetail(p.b.pc->peerIdentity().error), "idp-timeout");
  // The retried call is rejected with the same error.
  st = p.b.pc->setRemoteDescription(*offer);
  EXPECT_EQ(RTCErrorDetail(st), "idp-timeout") << st;
  EXPECT_FALSE(p.b.pc->remoteDescription());
}

TEST(Identity, NeedLoginSetsIdpLoginUrl) {
  PcPair p;
  SetupIdps(p, TestIdpFailure::kNeedLogin);
  auto offer = p.a.pc->createOffer();
  ASSERT_FALSE(offer.ok());
  EXPECT_EQ(RTCErrorDetail(offer.status()), "idp-need-login");
  ASSERT_TRUE(p.a.pc->idpLoginUrl());
  EXPECT_EQ(*p.a.pc->idpLoginUrl(), "https://idp.example/login");
  EXPECT_EQ(p.a.pc->idpErrorInfo().value_or(""), "login-required");
}

TEST(Identity, TargetPeerIdentityMismatchRejectsSetRemoteDescription) {
  RTCConfiguration config;
  config.peerIdentity = "alice@idp.example";  // right for B (A is alice), wrong for A (B is bob)
  PcPair p(5, config);
  SetupIdps(p);
  p.a.pc->createDataChannel("x");
  auto offer = p.a.pc->createOffer();
  ASSERT_TRUE(offer.ok());
  ASSERT_TRUE(p.a.pc->setLocalDescription(*offer).ok());
  ASSERT_TRUE(p.b.pc->setRemoteDescription(*offer).ok());
  EXPECT_EQ(p.b.pc->peerIdentity().state, RTCPromiseState::kFulfilled);
  auto answer = p.b.pc->createAnswer();
  ASSERT_TRUE(answer.ok());
  ASSERT_TRUE(p.b.pc->setLocalDescription(*answer).ok());
  auto st = p.a.pc->setRemoteDescription(*answer);
  EXPECT_EQ(DomErrorName(st), "OperationError");
  EXPECT_TRUE(absl::StrContains(st.message(), "target peer identity")) << st;
  EXPECT_EQ(p.a.pc->signalingState(), RTCSignalingState::kHaveLocalOffer);
  EXPECT_EQ(p.a.pc->peerIdentity().state, RTCPromiseState::kRejected);

  // A description without a=identity cannot satisfy a target peer identity either.
  PcPair q(6, config);
  q.a.pc->createDataChannel("x");
  auto plain = q.a.pc->createOffer();
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(DomErrorName(q.b.pc->setRemoteDescription(*plain)), "OperationError");

  // webrtc-identity §6: the target peer identity cannot be changed.
  RTCConfiguration changed = config;
  changed.peerIdentity = "mallory@idp.example";
  EXPECT_EQ(DomErrorName(q.a.pc->setConfiguration(changed)), "InvalidModificationError");
  EXPECT_TRUE(q.a.pc->setConfiguration(config).ok());
}

TEST(Identity, UnknownIdpDomainFailsToLoad) {
  PcPair p;
  // A's IdP is set but nothing is registered for its domain.
  ASSERT_TRUE(p.a.pc->setIdentityProvider("nowhere.example").ok());
  EXPECT_EQ(RTCErrorDetail(p.a.pc->createOffer().status()), "idp-load-failure");
  // A realm without a registered provider: the IdP script did not register.
  p.a.pc->identityProviders().Realm("empty.example");
  ASSERT_TRUE(p.a.pc->setIdentityProvider("empty.example").ok());
  EXPECT_EQ(RTCErrorDetail(p.a.pc->getIdentityAssertion().status()), "idp-bad-script-failure");

  // B cannot load the IdP named by A's assertion.
  PcPair q;
  ASSERT_TRUE(q.a.pc->identityProviders().Register(kDomain, "default", MakeIdp("alice@idp.example")).ok());
  ASSERT_TRUE(q.a.pc->setIdentityProvider(kDomain).ok());
  q.a.pc->createDataChannel("x");
  q.Negotiate();
  auto pb = q.b.pc->peerIdentity();
  ASSERT_EQ(pb.state, RTCPromiseState::kRejected);
  EXPECT_EQ(RTCErrorDetail(pb.error), "idp-load-failure");
}

TEST(Identity, WrongKeyOrForeignDomainIdentityIsRejected) {
  PcPair p;
  ASSERT_TRUE(p.a.pc->identityProviders().Register(kDomain, "default", MakeIdp("alice@idp.example")).ok());
  ASSERT_TRUE(p.b.pc->identityProviders().Register(kDomain, "default", MakeIdp("", TestIdpFailure::kNone, "other")).ok());
  ASSERT_TRUE(p.a.pc->setIdentityProvider(kDomain).ok());
  p.a.pc->createDataChannel("x");
  p.Negotiate();
  EXPECT_EQ(RTCErrorDetail(p.b.pc->peerIdentity().error), "idp-token-invalid");

  // RFC 8827 §7.5: an IdP may only assert identities in its own domain.
  PcPair q;
  ASSERT_TRUE(q.a.pc->identityProviders().Register(kDomain, "default", MakeIdp("alice@elsewhere.example")).ok());
  ASSERT_TRUE(q.b.pc->identityProviders().Register(kDomain, "default", MakeIdp("")).ok());
  ASSERT_TRUE(q.a.pc->setIdentityProvider(kDomain).ok());
  q.a.pc->createDataChannel("x");
  q.Negotiate();
  auto pb = q.b.pc->peerIdentity();
  ASSERT_EQ(pb.state, RTCPromiseState::kRejected);
  EXPECT_TRUE(absl::StrContains(pb.error.message(), "domain")) << pb.error;
}

// An IdP that completes later (as a real one talking to its server would).
class DeferredIdp : public RTCIdentityProvider {
 public:
  explicit DeferredIdp(std::shared_ptr<TestIdentityProvider> inner) : inner_(std::move(inner)) {}
  void generateAssertion(const std::string& contents, const std::string& origin, const RTCIdentityProviderOptions& o,
                         std::shared_ptr<RTCIdentityAssertionRequest> r) override {
    later_.push_back([=] { inner_->generateAssertion(contents, origin, o, r); });
  }
  void validateAssertion(const std::string& assertion, const std::string& origin,
                         std::shared_ptr<RTCIdentityValidationRequest> r) override {
    later_.push_back([=] { inner_->validateAssertion(assertion, origin, r); });
  }
  void RunAll() {
    auto v = std::move(later_);
    later_.clear();
    for (auto& f : v) f();
  }
  std::vector<std::function<void()>> later_;

 private:
  std::shared_ptr<TestIdentityProvider> inner_;
};

TEST(Identity, AsynchronousIdpCompletesThroughTheEventQueue) {
  PcPair p;
  auto a_idp = std::make_shared<DeferredIdp>(MakeIdp("alice@idp.example"));
  auto b_idp = std::make_shared<DeferredIdp>(MakeIdp("bob@idp.example"));
  ASSERT_TRUE(p.a.pc->identityProviders().Register(kDomain, "default", a_idp).ok());
  ASSERT_TRUE(p.b.pc->identityProviders().Register(kDomain, "default", b_idp).ok());
  ASSERT_TRUE(p.a.pc->setIdentityProvider(kDomain).ok());
  p.a.pc->createDataChannel("x");
  EXPECT_TRUE(IsIdentityPending(p.a.pc->createOffer().status()));
  EXPECT_TRUE(IsIdentityPending(p.a.pc->getIdentityAssertion().status()));
  ASSERT_EQ(a_idp->later_.size(), 1u);  // one request for both callers
  a_idp->RunAll();
  p.Pump();
  ASSERT_TRUE(p.a.Saw(RTCEventType::kIdentityResult, "fulfilled"));
  auto offer = p.a.pc->createOffer();
  ASSERT_TRUE(offer.ok()) << offer.status();
  ASSERT_TRUE(p.a.pc->setLocalDescription(*offer).ok());
  // No target peer identity: setRemoteDescription does not wait for the validation.
  ASSERT_TRUE(p.b.pc->setRemoteDescription(*offer).ok());
  EXPECT_EQ(p.b.pc->peerIdentity().state, RTCPromiseState::kPending);
  b_idp->RunAll();
  p.Pump();
  EXPECT_EQ(p.b.pc->peerIdentity().state, RTCPromiseState::kFulfilled);
  EXPECT_EQ(p.b.pc->peerIdentity().assertion.name, "alice@idp.example");
}

TEST(IdentityAssertion, AttributeAndContentsRoundTripAndRejectGarbage) {
  RTCIdentityAssertionResult r{{"idp.example", "default"}, "tok\"en"};
  auto back = identity::ParseIdentityAttribute(identity::EncodeIdentityAttribute(r) + " ext=1");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->idp.domain, "idp.example");
  EXPECT_EQ(back->assertion, "tok\"en");
  for (const char* bad : {"", "!!!", "e30=" /* {} */, "W10=" /* [] */}) EXPECT_FALSE(identity::ParseIdentityAttribute(bad).ok()) << bad;
  auto enc = [](const std::string& s) { return Base64Encode(AsBytes(s)); };
  EXPECT_FALSE(identity::ParseIdentityAttribute(enc(R"({"idp":{"domain":"a/b"},"assertion":"x"})")).ok());
  EXPECT_FALSE(identity::ParseIdentityAttribute(enc(R"({"idp":{"domain":"a","protocol":"../x"},"assertion":"x"})")).ok());
  EXPECT_FALSE(identity::ParseIdentityAttribute(enc(R"({"idp":{"domain":"a"},"assertion":5})")).ok());
  auto ok = identity::ParseIdentityAttribute(enc(R"({"idp":{"domain":"a"},"assertion":"x"})"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->idp.protocol, "default");

  std::vector<RTCDtlsFingerprint> fps{{"sha-256", "ab:cd"}};
  auto c = identity::ParseFingerprintContents(identity::EncodeFingerprintContents(fps));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[0].value, "AB:CD");
  EXPECT_TRUE(identity::FingerprintsCovered(fps, *c));
  EXPECT_FALSE(identity::FingerprintsCovered({{"sha-256", "AB:CE"}}, *c));
  EXPECT_FALSE(identity::FingerprintsCovered({}, *c));
  EXPECT_FALSE(identity::ParseFingerprintContents(R"({"fingerprint":[{"algorithm":1}]})").ok());
  EXPECT_FALSE(identity::ParseFingerprintContents("[").ok());
  EXPECT_TRUE(identity::IdentityDomainMatches("a@IDP.example", "idp.example"));
  EXPECT_FALSE(identity::IdentityDomainMatches("@idp.example", "idp.example"));
  EXPECT_FALSE(identity::IdentityDomainMatches("a@idp.example.evil", "idp.example"));
}

// The token format shared with wasm/lib/test_idp.js: a fixed vector (computed independently
// with Python's hmac module).
TEST(IdentityAssertion, TestIdpSignatureVector) {
  EXPECT_EQ(TestIdentityProvider::Sign("secret-key", "alice@idp.example", R"({"fingerprint":[]})", 0),
            "fd19d0d3252e4a66cbd5c783a20737f9c1eaef1d19fb20502535248f7edfe9ed");
  TestIdentityProviderOptions o;
  o.key = "secret-key";
  int64_t now = 1000;
  o.unix_ms = [&] { return now; };
  TestIdentityProvider idp(o);
  auto req = std::make_shared<RTCIdentityValidationRequest>();
  idp.validateAssertion(TestIdentityProvider::MakeToken("secret-key", "a@idp.example", "c", 2000), "o", req);
  ASSERT_EQ(req->state(), RTCPromiseState::kFulfilled);
  EXPECT_EQ(req->value().identity, "a@idp.example");
  now = 3000;
  auto expired = std::make_shared<RTCIdentityValidationRequest>();
  idp.validateAssertion(TestIdentityProvider::MakeToken("secret-key", "a@idp.example", "c", 2000), "o", expired);
  ASSERT_EQ(expired->state(), RTCPromiseState::kRejected);
  EXPECT_EQ(expired->error().errorDetail, "idp-token-expired");
}

}  // namespace
}  // namespace refrtc::test
