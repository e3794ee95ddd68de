// RTCCertificate (W3C webrtc-pc §4.9) and RTCConfiguration.certificates (§4.4.1.1 constructor step 4).
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "refrtc/rtc_peer_connection.h"
#include "util/dom_exception.h"

namespace refrtc {
namespace {

constexpr int64_t kNow = 1764000000;  // the host's wall clock, seconds

TEST(Certificate, ExpiresZeroIsAlreadyExpiredAndTheConstructorRejectsIt) {
  auto cert = RTCCertificate::Generate(/*seed=*/5, kNow, /*expires_ms=*/0);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ((*cert)->expires(), kNow * 1000);
  RTCConfiguration config;
  config.certificates.push_back(*cert);
  auto pc = RTCPeerConnection::Create(config, RTCEngineOptions{1, kNow});
  ASSERT_FALSE(pc.ok());
  EXPECT_EQ(DomErrorName(pc.status()), "InvalidAccessError");
}

TEST(Certificate, OneCertificateServesTwoPeerConnectionsWithTheSameFingerprint) {
  auto cert = RTCCertificate::Generate(/*seed=*/6, kNow);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ((*cert)->expires(), (kNow + 30LL * 86400) * 1000);  // default: 30 days
  auto fps = (*cert)->getFingerprints();
  ASSERT_EQ(fps.size(), 1u);
  EXPECT_EQ(fps[0].algorithm, "sha-256");
  RTCConfiguration config;
  config.certificates.push_back(*cert);
  for (uint64_t seed : {1, 2}) {
    auto pc = RTCPeerConnection::Create(config, RTCEngineOptions{seed, kNow});
    ASSERT_TRUE(pc.ok()) << pc.status();
    ASSERT_TRUE((*pc)->createDataChannel("dc").ok());
    auto offer = (*pc)->createOffer();
    ASSERT_TRUE(offer.ok()) << offer.status();
    EXPECT_NE(absl::AsciiStrToLower(offer->sdp).find("a=fingerprint:sha-256 " + fps[0].value), std::string::npos) << offer->sdp;
    EXPECT_EQ(fps[0].value, absl::AsciiStrToLower(fps[0].value));  // §4.9: lowercase hex
  }
}

TEST(Certificate, NotAfterInThePastIsRefused) {
  EXPECT_FALSE(RTCCertificate::Generate(/*seed=*/7, kNow, /*expires_ms=*/-1000).ok());
}

}  // namespace
}  // namespace refrtc
