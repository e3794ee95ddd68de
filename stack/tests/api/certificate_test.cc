// RTCCertificate (W3C webrtc-pc §4.9) and RTCConfiguration.certificates (§4.4.1.1 constructor step 4).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "dtls/certificate.h"
#include "dtls/dtls_transport.h"
#include "engine/transport_stack.h"
#include "mbedtls/pk.h"
#include "pc_pair.h"
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

// §4.9: the two algorithms a user agent must support, and NotSupportedError for the rest.
TEST(Certificate, GeneratesRsassaPkcs1v15) {
  auto cert = RTCCertificate::Generate(RTCKeygenAlgorithm::Rsa(1024), /*seed=*/8, kNow, /*expires_ms=*/3600 * 1000);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ((*cert)->algorithm_name(), "RSASSA-PKCS1-v1_5");
  EXPECT_EQ((*cert)->expires(), (kNow + 3600) * 1000);
  const auto& engine = *(*cert)->engine_certificate();
  ASSERT_EQ(mbedtls_pk_get_type(engine.pk()), MBEDTLS_PK_RSA);
  EXPECT_EQ(mbedtls_pk_get_bitlen(engine.pk()), 1024u);
  EXPECT_EQ(mbedtls_rsa_get_len(mbedtls_pk_rsa(*engine.pk())), 128u);
  EXPECT_EQ(engine.crt()->sig_md, MBEDTLS_MD_SHA256);
  EXPECT_EQ(engine.crt()->sig_pk, MBEDTLS_PK_RSA);  // RSASSA-PKCS1-v1_5 signature on the certificate
  auto fps = (*cert)->getFingerprints();
  ASSERT_EQ(fps.size(), 1u);
  EXPECT_EQ(fps[0].value, absl::AsciiStrToLower(engine.Fingerprint("sha-256")));
  // The same seed gives the same key (all randomness comes from the seed), another seed another.
  auto again = RTCCertificate::Generate(RTCKeygenAlgorithm::Rsa(1024), 8, kNow, 3600 * 1000);
  auto other = RTCCertificate::Generate(RTCKeygenAlgorithm::Rsa(1024), 9, kNow, 3600 * 1000);
  ASSERT_TRUE(again.ok() && other.ok());
  EXPECT_EQ((*again)->getFingerprints()[0].value, fps[0].value);
  EXPECT_NE((*other)->getFingerprints()[0].value, fps[0].value);
  auto ec = RTCCertificate::Generate(RTCKeygenAlgorithm::Ecdsa(), 8, kNow);
  ASSERT_TRUE(ec.ok());
  EXPECT_EQ((*ec)->algorithm_name(), "ECDSA");
}

TEST(Certificate, UnsupportedAlgorithmsAreNotSupportedError) {
  auto name = [](RTCKeygenAlgorithm a) { return DomErrorName(RTCCertificate::Generate(a, 1, kNow).status()); };
  RTCKeygenAlgorithm a = RTCKeygenAlgorithm::Ecdsa();
  a.namedCurve = "P-384";
  EXPECT_EQ(name(a), "NotSupportedError");
  a.namedCurve = "p-256";  // WebCrypto compares namedCurve exactly
  EXPECT_EQ(name(a), "NotSupportedError");
  RTCKeygenAlgorithm r = RTCKeygenAlgorithm::Rsa();
  r.hash = "SHA-1";
  EXPECT_EQ(name(r), "NotSupportedError");
  r = RTCKeygenAlgorithm::Rsa(512);
  EXPECT_EQ(name(r), "NotSupportedError");
  r = RTCKeygenAlgorithm::Rsa(16384);
  EXPECT_EQ(name(r), "NotSupportedError");
  r = RTCKeygenAlgorithm::Rsa(2047);
  EXPECT_EQ(name(r), "NotSupportedError");
  r = RTCKeygenAlgorithm::Rsa();
  r.publicExponent = 3;
  EXPECT_EQ(name(r), "NotSupportedError");
  r.publicExponent = 65537;
  r.hash = "sha-256";  // algorithm names are case-insensitive
  EXPECT_TRUE(r.CheckSupported().ok());
  EXPECT_TRUE(RTCKeygenAlgorithm::Rsa(8192).CheckSupported().ok());
  EXPECT_TRUE(RTCKeygenAlgorithm::Rsa(1024).CheckSupported().ok());
}

TEST(Certificate, ExpiresIsValidatedAndCapped) {
  // RTCCertificateExpiration.expires is [EnforceRange] unsigned: negative → TypeError.
  EXPECT_EQ(DomErrorName(RTCCertificate::Generate(1, kNow, -1).status()), "TypeError");
  // §4.9: more than 365 days is capped to 31536000000 ms.
  auto capped = RTCCertificate::Generate(1, kNow, 10 * RTCCertificate::kMaxExpiresMs);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ((*capped)->expires(), kNow * 1000 + RTCCertificate::kMaxExpiresMs);
  // The X.509 notAfter follows expires (what FromPem reads back).
  const auto& crt = *(*capped)->engine_certificate()->crt();
  EXPECT_EQ(dtls::DaysFromCivil(crt.valid_to.year, crt.valid_to.mon, crt.valid_to.day), kNow / 86400 + 365);
}

TEST(Certificate, PemRoundTripKeepsFingerprintAndExpiry) {
  for (auto alg : {RTCKeygenAlgorithm::Ecdsa(), RTCKeygenAlgorithm::Rsa(1024)}) {
    auto cert = RTCCertificate::Generate(alg, 21, kNow, 86400 * 1000);
    ASSERT_TRUE(cert.ok()) << cert.status();
    std::string pem = (*cert)->ToPem();
    EXPECT_EQ(pem.find("-----BEGIN CERTIFICATE-----"), 0u);
    EXPECT_NE(pem.find("PRIVATE KEY-----"), std::string::npos);
    auto loaded = RTCCertificate::FromPem(pem);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ((*loaded)->getFingerprints()[0].value, (*cert)->getFingerprints()[0].value);
    EXPECT_EQ((*loaded)->expires(), (*cert)->expires());  // from notAfter
    EXPECT_EQ((*loaded)->algorithm_name(), (*cert)->algorithm_name());
    EXPECT_EQ((*loaded)->ToPem(), pem);
    // Key block first, CRLF line ends and surrounding text are fine too.
    std::string cert_part = (*cert)->engine_certificate()->CertPem();
    std::string key_part = (*cert)->engine_certificate()->KeyPem();
    auto swapped = RTCCertificate::FromPem("saved by app\n" + key_part + "\n" + cert_part);
    ASSERT_TRUE(swapped.ok()) << swapped.status();
    EXPECT_EQ((*swapped)->getFingerprints()[0].value, (*cert)->getFingerprints()[0].value);
    auto crlf = RTCCertificate::FromPem(absl::StrReplaceAll(pem, {{"\n", "\r\n"}}));
    ASSERT_TRUE(crlf.ok()) << crlf.status();
    EXPECT_EQ((*crlf)->getFingerprints()[0].value, (*cert)->getFingerprints()[0].value);
  }
}

TEST(Certificate, FromPemRejectsBadInputWithAReason) {
  auto a = RTCCertificate::Generate(31, kNow);
  auto b = RTCCertificate::Generate(32, kNow);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string cert_a = (*a)->engine_certificate()->CertPem(), key_a = (*a)->engine_certificate()->KeyPem();
  const std::string cert_b = (*b)->engine_certificate()->CertPem(), key_b = (*b)->engine_certificate()->KeyPem();
  auto why = [](absl::string_view pem) {
    auto r = RTCCertificate::FromPem(pem);
    EXPECT_FALSE(r.ok()) << pem;
    EXPECT_EQ(DomErrorName(r.status()), "TypeError");
    return std::string(r.status().message());
  };
  EXPECT_NE(why("").find("no CERTIFICATE"), std::string::npos);
  EXPECT_NE(why("hello").find("no CERTIFICATE"), std::string::npos);
  EXPECT_NE(why(cert_a).find("no private key"), std::string::npos);
  EXPECT_NE(why(key_a).find("no CERTIFICATE"), std::string::npos);
  EXPECT_NE(why(cert_a + cert_b + key_a).find("more than one CERTIFICATE"), std::string::npos);
  EXPECT_NE(why(cert_a + key_a + key_b).find("more than one private key"), std::string::npos);
  EXPECT_NE(why(cert_a + key_b).find("does not match"), std::string::npos);
  EXPECT_NE(why(cert_a.substr(0, cert_a.size() / 2) + key_a).find("END"), std::string::npos);
  EXPECT_NE(why("-----BEGIN CERTIFICATE"), "");
  EXPECT_NE(why(cert_a + "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").find("unexpected"),
            std::string::npos);
  EXPECT_NE(why(cert_a + "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
                .find("encrypted"),
            std::string::npos);
  // Base64 damage inside the blocks.
  std::string damaged = cert_a;
  damaged[damaged.find('\n') + 10] = '*';
  EXPECT_NE(why(damaged + key_a).find("certificate parse failed"), std::string::npos);
  std::string bad_key = key_a;
  bad_key[bad_key.find('\n') + 5] = '*';
  EXPECT_NE(why(cert_a + bad_key).find("private key parse failed"), std::string::npos);
  EXPECT_NE(why(std::string(70 * 1024, 'x')).find("64 KiB"), std::string::npos);
}

std::string ReadSeed(const std::string& name) {
  std::ifstream f(std::string(REFRTC_SOURCE_DIR) + "/fuzz/corpus/certificate_pem/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// PEM written by another tool (OpenSSL 3: PKCS#8, SEC1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY"
// keys; the fuzzer's seeds) loads, and saves back to something that loads to the same certificate.
TEST(Certificate, FromPemReadsOpenSslOutput) {
  for (const char* name : {"ecdsa_pkcs8.pem", "ecdsa_sec1_key_first.pem", "rsa1024_pkcs8.pem", "rsa1024_pkcs1.pem"}) {
    std::string pem = ReadSeed(name);
    ASSERT_FALSE(pem.empty()) << name;
    auto cert = RTCCertificate::FromPem(pem);
    ASSERT_TRUE(cert.ok()) << name << ": " << cert.status();
    EXPECT_EQ((*cert)->algorithm_name(), std::string(name).rfind("rsa", 0) == 0 ? "RSASSA-PKCS1-v1_5" : "ECDSA");
    const auto& t = (*cert)->engine_certificate()->crt()->valid_to;
    EXPECT_EQ((*cert)->expires(), (dtls::DaysFromCivil(t.year, t.mon, t.day) * 86400 + t.hour * 3600 + t.min * 60 + t.sec) * 1000);
    auto again = RTCCertificate::FromPem((*cert)->ToPem());
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ((*again)->getFingerprints()[0].value, (*cert)->getFingerprints()[0].value);
  }
  for (const char* name : {"mismatched.pem", "truncated.pem", "empty_blocks.pem"}) {
    std::string pem = ReadSeed(name);
    ASSERT_FALSE(pem.empty()) << name;
    EXPECT_FALSE(RTCCertificate::FromPem(pem).ok()) << name;
  }
}

// Pinning a fingerprint across runs: the certificate saved as PEM and loaded again is used by a new
// RTCPeerConnection, whose SDP carries the same fingerprint.
TEST(Certificate, LoadedCertificateKeepsTheSdpFingerprint) {
  auto cert = RTCCertificate::Generate(RTCKeygenAlgorithm::Rsa(1024), 41, kNow);
  ASSERT_TRUE(cert.ok());
  std::string saved = (*cert)->ToPem();
  auto loaded = RTCCertificate::FromPem(saved);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  RTCConfiguration config;
  config.certificates.push_back(*loaded);
  auto pc = RTCPeerConnection::Create(config, RTCEngineOptions{3, kNow + 60});
  ASSERT_TRUE(pc.ok()) << pc.status();
  ASSERT_TRUE((*pc)->createDataChannel("dc").ok());
  auto offer = (*pc)->createOffer();
  ASSERT_TRUE(offer.ok());
  EXPECT_NE(offer->sdp.find("a=fingerprint:sha-256 " + absl::AsciiStrToUpper((*cert)->getFingerprints()[0].value)),
            std::string::npos)
      << offer->sdp;
  // An expired certificate loads (its expires is the notAfter) but the constructor refuses it.
  auto expired = RTCCertificate::Generate(42, kNow, 0);
  ASSERT_TRUE(expired.ok());
  auto expired_loaded = RTCCertificate::FromPem((*expired)->ToPem());
  ASSERT_TRUE(expired_loaded.ok()) << expired_loaded.status();
  EXPECT_EQ((*expired_loaded)->expires(), kNow * 1000);
  RTCConfiguration with_expired;
  with_expired.certificates.push_back(*expired_loaded);
  EXPECT_EQ(DomErrorName(RTCPeerConnection::Create(with_expired, RTCEngineOptions{4, kNow}).status()),
            "InvalidAccessError");
}

// §4.4.1.x set a configuration: certificates compared by identity and order with the constructor's
// (the web-platform-tests RTCCertificate.html cases).
TEST(Certificate, SetConfigurationCertificatesMustBeTheConstructionOnes) {
  auto c1 = RTCCertificate::Generate(51, kNow);
  auto c2 = RTCCertificate::Generate(52, kNow);
  ASSERT_TRUE(c1.ok() && c2.ok());
  RTCConfiguration one;
  one.certificates = {*c1};
  auto pc = RTCPeerConnection::Create(one, RTCEngineOptions{5, kNow});
  ASSERT_TRUE(pc.ok());
  EXPECT_TRUE((*pc)->setConfiguration(one).ok());
  RTCConfiguration other;
  other.certificates = {*c2};
  EXPECT_EQ(DomErrorName((*pc)->setConfiguration(other)), "InvalidModificationError");
  RTCConfiguration both;
  both.certificates = {*c1, *c2};
  EXPECT_EQ(DomErrorName((*pc)->setConfiguration(both)), "InvalidModificationError");
  // A certificate loaded from the same PEM is another RTCCertificate: a different one.
  RTCConfiguration reloaded;
  reloaded.certificates = {*RTCCertificate::FromPem((*c1)->ToPem())};
  EXPECT_EQ(DomErrorName((*pc)->setConfiguration(reloaded)), "InvalidModificationError");
  // Not giving certificates keeps the construction's.
  EXPECT_TRUE((*pc)->setConfiguration(RTCConfiguration{}).ok());
  EXPECT_EQ((*pc)->getConfiguration().certificates.size(), 1u);
  EXPECT_EQ((*pc)->getConfiguration().certificates[0], *c1);

  auto pc2 = RTCPeerConnection::Create(both, RTCEngineOptions{6, kNow});
  ASSERT_TRUE(pc2.ok());
  RTCConfiguration reversed;
  reversed.certificates = {*c2, *c1};
  EXPECT_EQ(DomErrorName((*pc2)->setConfiguration(reversed)), "InvalidModificationError");
  EXPECT_TRUE((*pc2)->setConfiguration(both).ok());
  // A configuration change that is rejected leaves the certificate in use (and the SDP) as it was.
  EXPECT_EQ((*pc)->certificate(), *c1);
}

// RSA certificates on both ends, through ICE, DTLS (ECDHE-RSA) and SCTP in virtual time. The offerer
// A is the DTLS server (B answers active), so both handshake roles sign with RSA.
TEST(Certificate, RsaCertificatesCarryADataChannelBothWays) {
  auto rsa = RTCCertificate::Generate(RTCKeygenAlgorithm::Rsa(1024), 61, 1764000000);
  ASSERT_TRUE(rsa.ok());
  RTCConfiguration config;
  config.certificates.push_back(*rsa);
  test::PcPair p(3, config);
  auto ch = p.Connect();
  ASSERT_EQ(p.a.pc->connectionState(), RTCPeerConnectionState::kConnected);
  EXPECT_EQ(p.a.pc->transport_stack().dtls().cipher_suite().rfind("TLS_ECDHE_RSA_WITH_", 0), 0u)
      << p.a.pc->transport_stack().dtls().cipher_suite();
  EXPECT_EQ(p.a.pc->transport_stack().dtls().role(), dtls::Role::kServer);
  EXPECT_EQ(p.b.pc->transport_stack().dtls().role(), dtls::Role::kClient);
  ASSERT_TRUE(ch->send("rsa to").ok());
  ASSERT_TRUE(p.b.remote_channels.at(0)->send("rsa back").ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.a.messages.size() == 1 && p.b.messages.size() == 1; }));
  EXPECT_EQ(p.b.messages[0].first, "rsa to");
  EXPECT_EQ(p.a.messages[0].first, "rsa back");
  // Each side verified the other's RSA certificate against the fingerprint in the SDP.
  const std::string fp = absl::AsciiStrToUpper((*rsa)->getFingerprints()[0].value);
  EXPECT_NE(p.b.pc->remoteDescription()->sdp.find(fp), std::string::npos);
  Bytes remote = p.b.pc->transport_stack().dtls().remote_certificate_der();
  auto digest = dtls::CertificateDigest("sha-256", remote);
  ASSERT_TRUE(digest);
  EXPECT_EQ(dtls::FormatFingerprint(*digest), fp);
}

}  // namespace
}  // namespace refrtc
