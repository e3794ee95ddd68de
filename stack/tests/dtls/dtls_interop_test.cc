// Peers that are not refrtc Transports: an RSA-certificate peer, and a raw mbedTLS DTLS client
// that presents no certificate (the server must require one, RFC 8827 §6.5).
#include <deque>

#include "dtls/dtls_transport.h"
#include "gtest/gtest.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ssl.h"

namespace refrtc::dtls {
namespace {

constexpr int64_t kNow = 1700000000;

void Shuttle(Transport& a, Transport& b, Instant now) {
  for (int i = 0; i < 20; ++i) {
    bool moved = false;
    while (auto d = a.PollOutgoing()) b.HandleRecord(*d, now), moved = true;
    while (auto d = b.PollOutgoing()) a.HandleRecord(*d, now), moved = true;
    if (!moved) return;
  }
}

TEST(DtlsInteropTest, RsaCertificatePeerUsesEcdheRsa) {
  Random r1(1), r2(2);
  auto rsa = Certificate::GenerateRsa(r1, 2048, 65537, kNow, kNow + 86400);
  ASSERT_TRUE(rsa.ok()) << rsa.status();
  EXPECT_EQ(mbedtls_pk_get_type((*rsa)->pk()), MBEDTLS_PK_RSA);
  auto ec = Certificate::GenerateEcdsaP256(r2, kNow, kNow + 86400);
  ASSERT_TRUE(ec.ok());
  Transport server(*rsa, 1), client(*ec, 2);
  server.SetRemoteFingerprint("sha-256", (*ec)->Fingerprint());
  client.SetRemoteFingerprint("sha-256", (*rsa)->Fingerprint());
  Instant now{};
  ASSERT_TRUE(server.Start(Role::kServer, now).ok());
  ASSERT_TRUE(client.Start(Role::kClient, now).ok());
  Shuttle(client, server, now);
  ASSERT_EQ(client.state(), State::kConnected) << client.failure_reason();
  ASSERT_EQ(server.state(), State::kConnected) << server.failure_reason();
  EXPECT_EQ(client.cipher_suite(), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
  ASSERT_TRUE(server.srtp_keys().has_value());
  EXPECT_EQ(server.srtp_keys()->server_key, client.srtp_keys()->server_key);
  // PEM round trip of an RSA certificate.
  auto loaded = Certificate::FromPem((*rsa)->CertPem(), (*rsa)->KeyPem());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)->Fingerprint(), (*rsa)->Fingerprint());
}

TEST(DtlsInteropTest, GenerateRsaValidatesParameters) {
  Random r(1);
  EXPECT_FALSE(Certificate::GenerateRsa(r, 512, 65537, kNow, kNow + 10).ok());
  EXPECT_FALSE(Certificate::GenerateRsa(r, 2048, 4, kNow, kNow + 10).ok());
}

// A bare mbedTLS DTLS client with no certificate of its own.
class CertlessClient {
 public:
  CertlessClient() {
    mbedtls_ctr_drbg_init(&drbg_);
    mbedtls_ssl_config_init(&conf_);
    mbedtls_ssl_init(&ssl_);
    mbedtls_ctr_drbg_seed(
        &drbg_, [](void*, unsigned char* out, size_t n) { for (size_t i = 0; i < n; ++i) out[i] = static_cast<unsigned char>(i * 31 + 7); return 0; },
        nullptr, nullptr, 0);
    mbedtls_ssl_config_defaults(&conf_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_DATAGRAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_rng(&conf_, mbedtls_ctr_drbg_random, &drbg_);
    mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_setup(&ssl_, &conf_);
    mbedtls_ssl_set_bio(&ssl_, this, &Send, &Recv, nullptr);
    mbedtls_ssl_set_timer_cb(&ssl_, this, [](void*, uint32_t, uint32_t) {}, [](void*) { return 0; });
  }
  ~CertlessClient() {
    mbedtls_ssl_free(&ssl_);
    mbedtls_ssl_config_free(&conf_);
    mbedtls_ctr_drbg_free(&drbg_);
  }
  int Step() { return mbedtls_ssl_handshake(&ssl_); }
  std::deque<Bytes> in, out;

 private:
  static int Send(void* ctx, const unsigned char* b, size_t n) {
    static_cast<CertlessClient*>(ctx)->out.emplace_back(b, b + n);
    return static_cast<int>(n);
  }
  static int Recv(void* ctx, unsigned char* b, size_t n) {
    auto* c = static_cast<CertlessClient*>(ctx);
    if (c->in.empty()) return MBEDTLS_ERR_SSL_WANT_READ;
    Bytes d = std::move(c->in.front());
    c->in.pop_front();
    n = std::min(n, d.size());
    std::copy(d.begin(), d.begin() + static_cast<long>(n), b);
    return static_cast<int>(n);
  }
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_ssl_config conf_;
  mbedtls_ssl_context ssl_;
};

TEST(DtlsInteropTest, ServerRejectsClientWithoutCertificate) {
  Random r(3);
  auto cert = Certificate::GenerateEcdsaP256(r, kNow, kNow + 86400);
  ASSERT_TRUE(cert.ok());
  Transport server(*cert, 1);
  server.SetRemoteFingerprint("sha-256", (*cert)->Fingerprint());
  Instant now{};
  ASSERT_TRUE(server.Start(Role::kServer, now).ok());
  CertlessClient client;
  int ret = 0;
  for (int i = 0; i < 10; ++i) {
    ret = client.Step();
    bool moved = false;
    while (!client.out.empty()) {
      server.HandleRecord(client.out.front(), now);
      client.out.pop_front();
      moved = true;
    }
    while (auto d = server.PollOutgoing()) client.in.push_back(*d), moved = true;
    if (!moved) break;
  }
  EXPECT_EQ(server.state(), State::kFailed);
  EXPECT_EQ(server.failure_reason(), "peer presented no certificate");
  EXPECT_EQ(server.PollAppData(), std::nullopt);
  EXPECT_NE(ret, 0) << "client must see the handshake_failure alert";
}

}  // namespace
}  // namespace refrtc::dtls
