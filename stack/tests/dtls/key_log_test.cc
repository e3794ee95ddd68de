// Transport::SetKeyLog: NSS key log lines (SSLKEYLOGFILE format) for decrypting captures.
#include <regex>
#include <string>
#include <vector>

#include "dtls/dtls_transport.h"
#include "gtest/gtest.h"

namespace refrtc::dtls {
namespace {

constexpr int64_t kNow = 1700000000;

std::shared_ptr<Certificate> Cert(uint64_t seed) {
  Random rng(seed);
  auto c = Certificate::GenerateEcdsaP256(rng, kNow, kNow + 86400 * 30);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

// One handshake back to back in virtual time; returns the lines each side logged.
void Handshake(uint64_t seed, std::vector<std::string>* client_lines, std::vector<std::string>* server_lines) {
  auto cc = Cert(seed * 3 + 1), sc = Cert(seed * 3 + 2);
  Transport client(cc, seed * 2), server(sc, seed * 2 + 1);
  client.SetKeyLog([client_lines](const std::string& l) { client_lines->push_back(l); });
  server.SetKeyLog([server_lines](const std::string& l) { server_lines->push_back(l); });
  client.SetRemoteFingerprint("sha-256", sc->Fingerprint());
  server.SetRemoteFingerprint("sha-256", cc->Fingerprint());
  Instant now = Instant() + std::chrono::hours(1000);
  ASSERT_TRUE(server.Start(Role::kServer, now).ok());
  ASSERT_TRUE(client.Start(Role::kClient, now).ok());
  for (int round = 0; round < 200; ++round) {
    bool moved = false;
    while (auto d = client.PollOutgoing()) {
      moved = true;
      server.HandleRecord(*d, now);
    }
    while (auto d = server.PollOutgoing()) {
      moved = true;
      client.HandleRecord(*d, now);
    }
    if (!moved) break;
  }
  ASSERT_EQ(client.state(), State::kConnected) << client.failure_reason();
  ASSERT_EQ(server.state(), State::kConnected) << server.failure_reason();
}

TEST(DtlsKeyLog, OneMatchingLinePerSide) {
  std::vector<std::string> c, s;
  Handshake(1, &c, &s);
  ASSERT_EQ(c.size(), 1u);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(c[0], s[0]) << "both ends must log the same client random and master secret";
  EXPECT_TRUE(std::regex_match(c[0], std::regex("CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}"))) << c[0];
  EXPECT_EQ(c[0].find(std::string(96, '0')), std::string::npos);
}

TEST(DtlsKeyLog, EachHandshakeHasItsOwnSecrets) {
  std::vector<std::string> c1, s1, c2, s2;
  Handshake(1, &c1, &s1);
  Handshake(2, &c2, &s2);
  ASSERT_EQ(c1.size(), 1u);
  ASSERT_EQ(c2.size(), 1u);
  EXPECT_NE(c1[0].substr(14, 64), c2[0].substr(14, 64));    // client random
  EXPECT_NE(c1[0].substr(79), c2[0].substr(79));            // master secret
}

}  // namespace
}  // namespace refrtc::dtls
