// RSA local certificates (W3C §4.9 RSASSA-PKCS1-v1_5) in both DTLS roles: our configuration offers
// the ECDHE_RSA suites (RFC 8827 §6.5 / RFC 8422) next to ECDHE_ECDSA, and the client's
// CertificateVerify may be RSA or ECDSA whatever the server's certificate is.
#include "dtls/certificate.h"
#include "dtls/dtls_transport.h"
#include "gtest/gtest.h"

namespace refrtc::dtls {
namespace {

constexpr int64_t kNow = 1700000000;

struct Pair {
  std::shared_ptr<Certificate> server_cert, client_cert;
  std::unique_ptr<Transport> server, client;
};

void Handshake(Pair& p) {
  p.server = std::make_unique<Transport>(p.server_cert, 11);
  p.client = std::make_unique<Transport>(p.client_cert, 12);
  p.server->SetRemoteFingerprint("sha-256", p.client_cert->Fingerprint());
  p.client->SetRemoteFingerprint("sha-256", p.server_cert->Fingerprint());
  Instant now{};
  ASSERT_TRUE(p.server->Start(Role::kServer, now).ok());
  ASSERT_TRUE(p.client->Start(Role::kClient, now).ok());
  for (int i = 0; i < 20; ++i) {
    bool moved = false;
    while (auto d = p.client->PollOutgoing()) p.server->HandleRecord(*d, now), moved = true;
    while (auto d = p.server->PollOutgoing()) p.client->HandleRecord(*d, now), moved = true;
    if (!moved) break;
  }
  ASSERT_EQ(p.client->state(), State::kConnected) << p.client->failure_reason();
  ASSERT_EQ(p.server->state(), State::kConnected) << p.server->failure_reason();
  // Each side saw exactly the other's certificate.
  EXPECT_EQ(p.server->remote_certificate_der(), Bytes(p.client_cert->Der().begin(), p.client_cert->Der().end()));
  EXPECT_EQ(p.client->remote_certificate_der(), Bytes(p.server_cert->Der().begin(), p.server_cert->Der().end()));
  ASSERT_TRUE(p.client->srtp_keys().has_value());
  EXPECT_EQ(p.client->srtp_keys()->client_key, p.server->srtp_keys()->client_key);
}

std::shared_ptr<Certificate> Rsa(uint64_t seed) {
  Random r(seed);
  auto c = Certificate::GenerateRsa(r, 1024, 65537, kNow, kNow + 86400);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

std::shared_ptr<Certificate> Ec(uint64_t seed) {
  Random r(seed);
  auto c = Certificate::GenerateEcdsaP256(r, kNow, kNow + 86400);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

TEST(RsaCertificateTest, RsaClientWithEcdsaServer) {
  Pair p{Ec(1), Rsa(2)};
  Handshake(p);
  // The suite follows the server's certificate; the RSA client signs its CertificateVerify.
  EXPECT_EQ(p.client->cipher_suite(), "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
}

TEST(RsaCertificateTest, RsaOnBothSides) {
  Pair p{Rsa(3), Rsa(4)};
  Handshake(p);
  EXPECT_EQ(p.server->cipher_suite(), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
}

TEST(RsaCertificateTest, RsaServerWithEcdsaClientAndData) {
  Pair p{Rsa(5), Ec(6)};
  Handshake(p);
  EXPECT_EQ(p.server->cipher_suite(), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
  Instant now{};
  ASSERT_TRUE(p.client->Send(ByteView(reinterpret_cast<const uint8_t*>("ping"), 4), now).ok());
  std::optional<Bytes> got;
  while (auto d = p.client->PollOutgoing()) p.server->HandleRecord(*d, now);
  got = p.server->PollAppData();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::string(got->begin(), got->end()), "ping");
}

TEST(RsaCertificateTest, Rsa2048KeyAndCertificate) {
  Random r(7);
  auto c = Certificate::GenerateRsa(r, 2048, 65537, kNow, kNow + 86400);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(mbedtls_pk_get_bitlen((*c)->pk()), 2048u);
  EXPECT_EQ(mbedtls_rsa_get_len(mbedtls_pk_rsa(*(*c)->pk())), 256u);
  EXPECT_EQ((*c)->crt()->sig_md, MBEDTLS_MD_SHA256);
}

}  // namespace
}  // namespace refrtc::dtls
