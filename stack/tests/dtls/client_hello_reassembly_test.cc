// A fragmented ClientHello (as Chromium sends: ~1.4 KB in two handshake fragments) must be
// reassembled before mbedTLS 2.28 sees it (RFC 6347 §4.2.3; mbedTLS issue #7549).
#include <gtest/gtest.h>

#include "dtls/client_hello_reassembler.h"
#include "dtls/dtls_transport.h"

namespace refrtc::dtls {
namespace {

constexpr int64_t kNow = 1700000000;

std::shared_ptr<Certificate> MakeCert(uint64_t seed) {
  Random rng(seed);
  return *Certificate::GenerateEcdsaP256(rng, kNow, kNow + 86400 * 30);
}

// Splits a datagram holding one handshake record into handshake fragments at `cuts`
// (offsets into the handshake body), each in its own record and datagram.
std::vector<Bytes> Fragment(const Bytes& datagram, std::vector<uint32_t> cuts) {
  const uint8_t* hs = datagram.data() + 13;
  uint32_t total = static_cast<uint32_t>(hs[1]) << 16 | hs[2] << 8 | hs[3];
  cuts.insert(cuts.begin(), 0);
  cuts.push_back(total);
  std::vector<Bytes> out;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    uint32_t off = cuts[i], len = cuts[i + 1] - cuts[i];
    Bytes d(datagram.begin(), datagram.begin() + 13);
    d[10] = static_cast<uint8_t>(d[10] + i);  // record sequence number grows
    size_t rec_len = 12 + len;
    d[11] = static_cast<uint8_t>(rec_len >> 8);
    d[12] = static_cast<uint8_t>(rec_len);
    d.insert(d.end(), hs, hs + 6);  // type, length, message_seq
    d.push_back(static_cast<uint8_t>(off >> 16));
    d.push_back(static_cast<uint8_t>(off >> 8));
    d.push_back(static_cast<uint8_t>(off));
    d.push_back(static_cast<uint8_t>(len >> 16));
    d.push_back(static_cast<uint8_t>(len >> 8));
    d.push_back(static_cast<uint8_t>(len));
    d.insert(d.end(), hs + 12 + off, hs + 12 + off + len);
    out.push_back(d);
  }
  return out;
}

void HandshakeWithFragmentedHello(const std::vector<uint32_t>& cuts, bool reverse) {
  auto ccert = MakeCert(1), scert = MakeCert(2);
  Transport client(ccert, 10), server(scert, 11);
  client.SetRemoteFingerprint("sha-256", scert->Fingerprint());
  server.SetRemoteFingerprint("sha-256", ccert->Fingerprint());
  Instant now = Instant() + std::chrono::hours(1);
  ASSERT_TRUE(server.Start(Role::kServer, now).ok());
  ASSERT_TRUE(client.Start(Role::kClient, now).ok());
  auto hello = client.PollOutgoing();
  ASSERT_TRUE(hello);
  ASSERT_EQ((*hello)[0], 22);
  ASSERT_EQ((*hello)[13], 1);  // ClientHello
  auto parts = Fragment(*hello, cuts);
  if (reverse) std::reverse(parts.begin(), parts.end());
  for (auto& p : parts) server.HandleRecord(p, now);
  for (int round = 0; round < 50; ++round) {
    bool moved = false;
    while (auto d = client.PollOutgoing()) { moved = true; server.HandleRecord(*d, now); }
    while (auto d = server.PollOutgoing()) { moved = true; client.HandleRecord(*d, now); }
    if (!moved) break;
  }
  EXPECT_EQ(server.state(), State::kConnected) << server.failure_reason();
  EXPECT_EQ(client.state(), State::kConnected) << client.failure_reason();
}

TEST(ClientHelloReassembly, TwoFragmentsInOrder) { HandshakeWithFragmentedHello({100}, false); }
TEST(ClientHelloReassembly, ThreeFragmentsOutOfOrder) { HandshakeWithFragmentedHello({40, 90}, true); }

TEST(ClientHelloReassembler, PassesOtherRecordsAndBoundsInput) {
  ClientHelloReassembler r;
  Bytes app = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 2, 0xaa, 0xbb};
  auto out = r.Process(app);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, app);
  // A fragment claiming a 1 MB ClientHello is not buffered (passed through for mbedTLS to reject).
  Bytes huge = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 14, 1, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0xcc, 0xdd};
  auto h = r.Process(huge);
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, huge);
  EXPECT_FALSE(r.pending());
  // A lone sane fragment is buffered.
  Bytes frag = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 14, 1, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 2, 0xcc, 0xdd};
  EXPECT_FALSE(r.Process(frag));
  EXPECT_TRUE(r.pending());
  // Truncated garbage does not crash.
  Bytes junk = {22, 0xfe};
  EXPECT_TRUE(r.Process(junk));
}

}  // namespace
}  // namespace refrtc::dtls
