// Security regressions for the DTLS transport (issue F): fingerprint binding across remote
// description changes, handshake-fragment floods (memory), client certificates without proof of
// possession, and renegotiation. Memory-BIO handshakes between dtls::Transport objects, or a raw
// mbedTLS peer where the attack needs a behaviour refrtc's own Transport never shows
// (renegotiation). Existing coverage: dtls_transport_test.cc
// DtlsTransportTest.FingerprintMismatchFailsAndDeliversNoData / ClientDetectsServerFingerprintMismatch /
// LateWrongFingerprintFailsAndDropsBufferedData, dtls_interop_test.cc
// DtlsInteropTest.ServerRejectsClientWithoutCertificate.
#include <gtest/gtest.h>
#include <malloc.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dtls/client_hello_reassembler.h"
#include "dtls/dtls_transport.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ssl.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REFRTC_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define REFRTC_TEST_ASAN 1
#endif
#ifdef REFRTC_TEST_ASAN
#include <sanitizer/allocator_interface.h>
#endif

namespace refrtc::dtls {
namespace {

constexpr int64_t kNow = 1700000000;
const Instant kT0 = Instant() + std::chrono::hours(1);

// Bytes currently allocated on the heap (malloc'd by mbedTLS and by us alike).
size_t HeapInUse() {
#ifdef REFRTC_TEST_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

std::shared_ptr<Certificate> MakeCert(uint64_t seed) {
  Random rng(seed);
  return *Certificate::GenerateEcdsaP256(rng, kNow, kNow + 86400 * 30);
}

using Filter = std::function<std::optional<Bytes>(Bytes)>;  // nullopt = drop

// Moves datagrams both ways until quiet; `c2s` may rewrite/drop what the client sends.
void Shuttle(Transport& client, Transport& server, Instant now, const Filter& c2s = nullptr) {
  for (int i = 0; i < 50; ++i) {
    bool moved = false;
    while (auto d = client.PollOutgoing()) {
      moved = true;
      std::optional<Bytes> out = c2s ? c2s(*d) : std::optional<Bytes>(*d);
      if (out) server.HandleRecord(*out, now);
    }
    while (auto d = server.PollOutgoing()) {
      moved = true;
      client.HandleRecord(*d, now);
    }
    if (!moved) return;
  }
}

// Calls `fn(record_offset, record_len)` for each DTLS record in a datagram (RFC 6347 §4.1).
template <typename Fn>
void ForEachRecord(const Bytes& d, Fn fn) {
  size_t pos = 0;
  while (pos + 13 <= d.size()) {
    size_t len = static_cast<size_t>(d[pos + 11]) << 8 | d[pos + 12];
    if (pos + 13 + len > d.size()) return;
    fn(pos, len);
    pos += 13 + len;
  }
}

// An epoch-0 handshake record whose message type is `type` (RFC 6347 §4.2.2).
bool IsPlainHandshake(const Bytes& d, size_t pos, size_t len, uint8_t type) {
  return d[pos] == 22 && d[pos + 3] == 0 && d[pos + 4] == 0 && len >= 12 && d[pos + 13] == type;
}

struct Connected {
  std::shared_ptr<Certificate> ccert = MakeCert(1), scert = MakeCert(2);
  Transport client{ccert, 10}, server{scert, 11};
  std::vector<std::string> client_keys, server_keys;  // NSS key log lines = master secrets made
  Connected() {
    client.SetKeyLog([this](const std::string& l) { client_keys.push_back(l); });
    server.SetKeyLog([this](const std::string& l) { server_keys.push_back(l); });
    client.SetRemoteFingerprint("sha-256", scert->Fingerprint());
    server.SetRemoteFingerprint("sha-256", ccert->Fingerprint());
  }
  bool Connect() {
    if (!server.Start(Role::kServer, kT0).ok() || !client.Start(Role::kClient, kT0).ok()) return false;
    Shuttle(client, server, kT0);
    return client.state() == State::kConnected && server.state() == State::kConnected;
  }
};

// RFC 8842 §5 / RFC 8122 §5: the certificate of the DTLS association is bound to the signalled
// fingerprint. A later remote description (an ICE restart keeps the DTLS association) that
// carries a different fingerprint must not leave the association up with a certificate that no
// longer matches: the transport fails, sends a fatal alert and delivers no more data. The same
// fingerprint (the normal ICE restart) keeps it connected.
// Fixed bug: a changed fingerprint on a connected transport used to be stored and ignored.
TEST(DtlsSecurity, FingerprintChangedWhileConnectedTearsTransportDown) {
  Connected c;
  ASSERT_TRUE(c.Connect());
  // Re-signalled unchanged (ICE restart, renegotiation): still connected, data flows.
  c.server.SetRemoteFingerprint("SHA-256", c.ccert->Fingerprint());
  ASSERT_EQ(c.server.state(), State::kConnected);
  ASSERT_TRUE(c.client.Send(AsBytes("before"), kT0).ok());
  Shuttle(c.client, c.server, kT0);
  auto got = c.server.PollAppData();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::string(got->begin(), got->end()), "before");
  // Now a description with another certificate's fingerprint.
  auto other = MakeCert(99);
  c.server.SetRemoteFingerprint("sha-256", other->Fingerprint());
  EXPECT_EQ(c.server.state(), State::kFailed);
  EXPECT_NE(c.server.failure_reason().find("fingerprint"), std::string::npos) << c.server.failure_reason();
  // A fatal bad_certificate alert goes out; the peer fails too.
  Shuttle(c.client, c.server, kT0);
  EXPECT_EQ(c.client.state(), State::kFailed);
  // No data either way.
  EXPECT_FALSE(c.server.Send(AsBytes("x"), kT0).ok());
  EXPECT_FALSE(c.server.PollAppData().has_value());
}

// RFC 6347 §4.2.3 with pion CVE-2022-29190 in mind: handshake fragments are buffered until the
// message is complete, but a flood of fragments (zero-length ones, huge offsets and lengths,
// thousands of distinct offsets of a 16 KB ClientHello) must not grow memory without bound.
// refrtc reassembles ClientHellos itself (mbedTLS 2.28 cannot): its buffer is capped at
// kMaxFragments / kMaxBufferedBytes, zero-length fragments are dropped, insane ones passed to
// mbedTLS (which rejects them). Fixed bug: the reassembler had no cap on fragment count or on
// overlapping bytes (up to ~134 MB for one 16 KB ClientHello).
TEST(DtlsSecurity, ClientHelloFragmentFloodStaysBounded) {
  ClientHelloReassembler r;
  auto frag = [](uint32_t total, uint32_t offset, uint32_t len, uint16_t seq = 0) {
    Bytes d = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    size_t rec = 12 + len;
    d[11] = static_cast<uint8_t>(rec >> 8);
    d[12] = static_cast<uint8_t>(rec);
    Bytes hs = {1, static_cast<uint8_t>(total >> 16), static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total),
                static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq),
                static_cast<uint8_t>(offset >> 16), static_cast<uint8_t>(offset >> 8), static_cast<uint8_t>(offset),
                static_cast<uint8_t>(len >> 16), static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)};
    d.insert(d.end(), hs.begin(), hs.end());
    d.insert(d.end(), len, 0xAB);
    return d;
  };
  const uint32_t total = ClientHelloReassembler::kMaxClientHello;
  // Zero-length fragments: consumed, nothing buffered.
  for (uint32_t off = 1; off < 2000; ++off) EXPECT_FALSE(r.Process(frag(total, off, 0)).has_value());
  EXPECT_EQ(r.buffered_fragments(), 0u);
  // Heavily overlapping big fragments at thousands of distinct offsets, never completing
  // (offset 0 is never sent).
  size_t max_bytes = 0, max_frags = 0;
  for (uint32_t off = 1; off < 4000; ++off) {
    uint32_t len = std::min<uint32_t>(total - off, 8000);
    r.Process(frag(total, off, len));
    max_bytes = std::max(max_bytes, r.buffered_bytes());
    max_frags = std::max(max_frags, r.buffered_fragments());
  }
  EXPECT_LE(max_bytes, ClientHelloReassembler::kMaxBufferedBytes);
  EXPECT_LE(max_frags, ClientHelloReassembler::kMaxFragments);
  EXPECT_GT(max_bytes, 0u);
  // Huge offsets/lengths beyond the 16 KB bound are not buffered (handed on unchanged).
  for (uint32_t k = 0; k < 200; ++k) {
    Bytes d = frag(0xFFFFFF, 0xFFFF00 - k, 64, 0);
    auto out = r.Process(d);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(*out, d);
  }
  EXPECT_LE(r.buffered_bytes(), ClientHelloReassembler::kMaxBufferedBytes);
  // After the flood a genuine fragmented ClientHello still reassembles.
  ClientHelloReassembler fresh;
  EXPECT_FALSE(fresh.Process(frag(100, 50, 50, 0)).has_value());
  auto whole = fresh.Process(frag(100, 0, 50, 0));
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->size(), 13u + 12u + 100u);
  EXPECT_FALSE(fresh.pending());
}

// The same flood through a server Transport (before and during the handshake: the ClientHello
// reassembler, then mbedTLS 2.28's own reassembly of later handshake messages, bounded by
// MBEDTLS_SSL_DTLS_MAX_BUFFERING): ~12,000 datagrams (~12 MB) of fragments with huge message
// lengths and offsets, and zero-length fragments, leave the heap within 2 MB of where it started, and the genuine handshake
// still completes afterwards.
TEST(DtlsSecurity, HandshakeFragmentFloodDoesNotGrowMemory) {
  Connected c;
  ASSERT_TRUE(c.server.Start(Role::kServer, kT0).ok());
  ASSERT_TRUE(c.client.Start(Role::kClient, kT0).ok());
  // `sane`: ClientHello fragments within the 16 KB bound (what the reassembler buffers);
  // otherwise message lengths near 2^24 with offsets all over that range.
  auto flood = [&](uint8_t msg_type, uint16_t first_seq, int n, bool sane = false) {
    Bytes d(13 + 12 + 1000, 0x5A);
    for (int i = 0; i < n; ++i) {
      uint32_t total = sane ? 16384u : 0x00FFFFFF - static_cast<uint32_t>(i);
      uint32_t offset = sane ? 1u + static_cast<uint32_t>(i) * 7u % 15000u : static_cast<uint32_t>(i) * 997u % 0x00FFF000u;
      uint16_t seq = static_cast<uint16_t>(sane ? first_seq : first_seq + i % 4);
      uint8_t hdr[25] = {22, 0xfe, 0xfd, 0, 0, 0, 0, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                         static_cast<uint8_t>(i), 0, static_cast<uint8_t>(1012 >> 8), static_cast<uint8_t>(1012 & 0xFF),
                         msg_type, static_cast<uint8_t>(total >> 16), static_cast<uint8_t>(total >> 8),
                         static_cast<uint8_t>(total), static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq),
                         static_cast<uint8_t>(offset >> 16), static_cast<uint8_t>(offset >> 8),
                         static_cast<uint8_t>(offset), 0, static_cast<uint8_t>(1000 >> 8),
                         static_cast<uint8_t>(1000 & 0xFF)};
      std::copy(std::begin(hdr), std::end(hdr), d.begin());
      c.server.HandleRecord(d, kT0);
      while (c.server.PollOutgoing()) {
      }
    }
  };
  const size_t before = HeapInUse();
  // Before the ClientHello: ClientHello fragments of an impossible size (and sane-looking ones).
  flood(/*ClientHello*/ 1, 0, 3000);
  flood(/*ClientHello*/ 1, 0, 3000, /*sane=*/true);  // ~3 MB of overlapping fragments
  EXPECT_EQ(c.server.state(), State::kConnecting);
  // The real ClientHello; the server answers with its flight and waits for the client's.
  auto hello = c.client.PollOutgoing();
  ASSERT_TRUE(hello.has_value());
  c.server.HandleRecord(*hello, kT0);
  std::vector<Bytes> server_flight;
  while (auto d = c.server.PollOutgoing()) server_flight.push_back(*d);
  ASSERT_FALSE(server_flight.empty());
  // Fragments of the Certificate the server now expects (message_seq 1) and of future messages.
  flood(/*Certificate*/ 11, 1, 3000);
  flood(/*Finished*/ 20, 3, 3000);
  // Zero-length fragments of the expected Certificate at every offset of a 64 KB message.
  for (uint32_t off = 0; off < 3000; ++off) {
    uint32_t o = off * 21;
    Bytes z = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0x20, static_cast<uint8_t>(off >> 8), static_cast<uint8_t>(off), 0, 12,
               11, 0x01, 0x00, 0x00, 0, 1, static_cast<uint8_t>(o >> 16), static_cast<uint8_t>(o >> 8),
               static_cast<uint8_t>(o), 0, 0, 0};
    c.server.HandleRecord(z, kT0);
    while (c.server.PollOutgoing()) {
    }
  }
  const size_t after = HeapInUse();
  EXPECT_LT(after, before + 2 * 1024 * 1024) << "heap grew by " << (after - before) << " bytes";
  // The server's handshake state survived: the genuine handshake completes. (The flood used up
  // epoch-0 record sequence numbers 0..2999, so the genuine client's epoch-0 records are moved
  // past them — otherwise the anti-replay window, RFC 6347 §4.1.2.6, drops them as replays; an
  // injector on the ICE-validated path can always deny service, that is not what is tested.)
  ASSERT_EQ(c.server.state(), State::kConnecting) << c.server.failure_reason();
  Filter shift_seq = [](Bytes d) -> std::optional<Bytes> {
    ForEachRecord(d, [&](size_t pos, size_t) {
      if (d[pos + 3] == 0 && d[pos + 4] == 0) d[pos + 7] = static_cast<uint8_t>(d[pos + 7] + 1);  // +2^24
    });
    return d;
  };
  for (auto& d : server_flight) c.client.HandleRecord(d, kT0);
  Shuttle(c.client, c.server, kT0, shift_seq);
  EXPECT_EQ(c.server.state(), State::kConnected) << c.server.failure_reason();
  EXPECT_EQ(c.client.state(), State::kConnected) << c.client.failure_reason();
}

// CVE-2022-29222 (pion/dtls): a client that sends a Certificate but no valid CertificateVerify
// (no proof it holds the private key) must fail the handshake. mbedTLS verifies CertificateVerify
// whenever the client sent a certificate (RFC 5246 §7.4.8). A CertificateVerify with one bit of
// the signature flipped: the server fails at once (no app data, never connected), the client
// gets the alert and fails too.
TEST(DtlsSecurity, TamperedCertificateVerifyFailsHandshake) {
  Connected c;
  ASSERT_TRUE(c.server.Start(Role::kServer, kT0).ok());
  ASSERT_TRUE(c.client.Start(Role::kClient, kT0).ok());
  int tampered = 0;
  Shuttle(c.client, c.server, kT0, [&](Bytes d) -> std::optional<Bytes> {
    ForEachRecord(d, [&](size_t pos, size_t len) {
      if (IsPlainHandshake(d, pos, len, /*CertificateVerify*/ 15)) {
        d[pos + 13 + len - 1] ^= 0x01;  // last byte of the signature
        ++tampered;
      }
    });
    return d;
  });
  ASSERT_GE(tampered, 1);
  EXPECT_EQ(c.server.state(), State::kFailed);
  // mbedTLS: MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE_VERIFY / PK verify failure, decrypt_error alert.
  EXPECT_NE(c.server.failure_reason().find("DTLS handshake"), std::string::npos) << c.server.failure_reason();
  EXPECT_NE(c.client.state(), State::kConnected);
  EXPECT_FALSE(c.server.PollAppData().has_value());
  EXPECT_FALSE(c.server.Send(AsBytes("secret"), kT0).ok());
}

// CVE-2022-29222, second form: the CertificateVerify is left out of the client's flight (every
// retransmission too). The server must never complete the handshake on Certificate + Finished
// alone: it stays without a connection and gives up at the handshake timeout; no data passes.
TEST(DtlsSecurity, OmittedCertificateVerifyNeverConnects) {
  Connected c;
  ASSERT_TRUE(c.server.Start(Role::kServer, kT0).ok());
  ASSERT_TRUE(c.client.Start(Role::kClient, kT0).ok());
  int removed = 0;
  Filter drop_cv = [&](Bytes d) -> std::optional<Bytes> {
    Bytes out;
    ForEachRecord(d, [&](size_t pos, size_t len) {
      if (IsPlainHandshake(d, pos, len, 15)) {
        ++removed;
        return;
      }
      out.insert(out.end(), d.begin() + pos, d.begin() + pos + 13 + len);
    });
    if (out.empty()) return std::nullopt;
    return out;
  };
  Instant now = kT0;
  Shuttle(c.client, c.server, now, drop_cv);
  ASSERT_GE(removed, 1);
  EXPECT_NE(c.server.state(), State::kConnected);
  // Let retransmissions run for the whole handshake timeout (virtual time).
  for (int i = 0; i < 400 && now < kT0 + Transport::kHandshakeTimeout + std::chrono::seconds(5); ++i) {
    std::optional<Instant> t = c.server.PollTimeout();
    std::optional<Instant> u = c.client.PollTimeout();
    Instant next = now + std::chrono::seconds(1);
    if (t) next = std::min(next, std::max(*t, now));
    if (u) next = std::min(next, std::max(*u, now));
    now = std::max(next, now + std::chrono::milliseconds(1));
    c.server.HandleTimeout(now);
    c.client.HandleTimeout(now);
    Shuttle(c.client, c.server, now, drop_cv);
    ASSERT_NE(c.server.state(), State::kConnected) << "handshake completed without CertificateVerify";
  }
  EXPECT_EQ(c.server.state(), State::kFailed);
  EXPECT_NE(c.client.state(), State::kConnected);
  EXPECT_FALSE(c.server.PollAppData().has_value());
}

// A raw mbedTLS DTLS 1.2 peer with a certificate and renegotiation ENABLED (what refrtc itself
// never does), to send a renegotiating ClientHello (client) or a HelloRequest (server).
class RawPeer {
 public:
  RawPeer(bool server, const std::shared_ptr<Certificate>& cert) : cert_(cert) {
    mbedtls_ctr_drbg_init(&drbg_);
    mbedtls_ssl_config_init(&conf_);
    mbedtls_ssl_init(&ssl_);
    mbedtls_ctr_drbg_seed(
        &drbg_,
        [](void*, unsigned char* out, size_t n) {
          for (size_t i = 0; i < n; ++i) out[i] = static_cast<unsigned char>(i * 17 + 3);
          return 0;
        },
        nullptr, nullptr, 0);
    mbedtls_ssl_config_defaults(&conf_, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_rng(&conf_, mbedtls_ctr_drbg_random, &drbg_);
    mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_OPTIONAL);
    mbedtls_ssl_conf_own_cert(&conf_, cert_->crt(), cert_->pk());
    mbedtls_ssl_conf_renegotiation(&conf_, MBEDTLS_SSL_RENEGOTIATION_ENABLED);
    if (server) mbedtls_ssl_conf_dtls_cookies(&conf_, nullptr, nullptr, nullptr);
    mbedtls_ssl_setup(&ssl_, &conf_);
    mbedtls_ssl_set_bio(&ssl_, this, &Send, &Recv, nullptr);
    mbedtls_ssl_set_timer_cb(&ssl_, this, [](void*, uint32_t, uint32_t) {}, [](void*) { return 0; });
  }
  ~RawPeer() {
    mbedtls_ssl_free(&ssl_);
    mbedtls_ssl_config_free(&conf_);
    mbedtls_ctr_drbg_free(&drbg_);
  }
  int Handshake() { return mbedtls_ssl_handshake(&ssl_); }
  bool Done() const { return ssl_.state == MBEDTLS_SSL_HANDSHAKE_OVER; }
  int Renegotiate() { return mbedtls_ssl_renegotiate(&ssl_); }
  int Write(absl::string_view s) {
    return mbedtls_ssl_write(&ssl_, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  }
  std::optional<std::string> Read() {
    unsigned char buf[2048];
    int n = mbedtls_ssl_read(&ssl_, buf, sizeof(buf));
    if (n <= 0) return std::nullopt;
    return std::string(buf, buf + n);
  }
  std::deque<Bytes> in, out;

 private:
  static int Send(void* ctx, const unsigned char* b, size_t n) {
    static_cast<RawPeer*>(ctx)->out.emplace_back(b, b + n);
    return static_cast<int>(n);
  }
  static int Recv(void* ctx, unsigned char* b, size_t n) {
    auto* p = static_cast<RawPeer*>(ctx);
    if (p->in.empty()) return MBEDTLS_ERR_SSL_WANT_READ;
    Bytes d = std::move(p->in.front());
    p->in.pop_front();
    n = std::min(n, d.size());
    std::copy(d.begin(), d.begin() + static_cast<long>(n), b);
    return static_cast<int>(n);
  }
  std::shared_ptr<Certificate> cert_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_ssl_config conf_;
  mbedtls_ssl_context ssl_;
};

// Handshakes `raw` with `t` (already started); returns true when both are done.
bool RawHandshake(RawPeer& raw, Transport& t) {
  for (int i = 0; i < 30; ++i) {
    raw.Handshake();
    bool moved = false;
    while (!raw.out.empty()) {
      t.HandleRecord(raw.out.front(), kT0);
      raw.out.pop_front();
      moved = true;
    }
    while (auto d = t.PollOutgoing()) raw.in.push_back(*d), moved = true;
    if (raw.Done() && t.state() == State::kConnected && !moved) return true;
  }
  return raw.Done() && t.state() == State::kConnected;
}

// Content types of the records in what `t` sends next.
std::vector<uint8_t> OutgoingRecordTypes(Transport& t, std::deque<Bytes>* keep = nullptr) {
  std::vector<uint8_t> types;
  while (auto d = t.PollOutgoing()) {
    ForEachRecord(*d, [&](size_t pos, size_t) { types.push_back((*d)[pos]); });
    if (keep) keep->push_back(*d);
  }
  return types;
}

// RFC 5746 / RFC 6347 §4.2.8 and the renegotiation attacks (CVE-2009-3555 class): refrtc never
// renegotiates (mbedTLS renegotiation disabled). A renegotiating ClientHello from a connected
// client gets at most a no_renegotiation warning alert — no ServerHello, no new master secret —
// and the association goes on: data sent by the client after its ClientHello still arrives, and
// the server still sends. (A renegotiation could otherwise switch to another certificate.)
TEST(DtlsSecurity, RenegotiationClientHelloIsRefused) {
  auto scert = MakeCert(2), ccert = MakeCert(3);
  Transport server(scert, 11);
  std::vector<std::string> keys;
  server.SetKeyLog([&](const std::string& l) { keys.push_back(l); });
  server.SetRemoteFingerprint("sha-256", ccert->Fingerprint());
  ASSERT_TRUE(server.Start(Role::kServer, kT0).ok());
  RawPeer client(false, ccert);
  ASSERT_TRUE(RawHandshake(client, server)) << server.failure_reason();
  ASSERT_EQ(keys.size(), 1u);
  const Bytes cert_before = server.remote_certificate_der();
  // Application data the client sends before starting a renegotiation, delivered after it.
  ASSERT_GT(client.Write("after-hello"), 0);
  Bytes app = client.out.front();
  client.out.pop_front();
  int r = client.Renegotiate();
  ASSERT_TRUE(r == 0 || r == MBEDTLS_ERR_SSL_WANT_READ) << r;
  ASSERT_FALSE(client.out.empty()) << "the raw client sent no renegotiating ClientHello";
  while (!client.out.empty()) {
    server.HandleRecord(client.out.front(), kT0);
    client.out.pop_front();
  }
  server.HandleRecord(app, kT0);
  EXPECT_EQ(server.state(), State::kConnected) << server.failure_reason();
  for (uint8_t type : OutgoingRecordTypes(server))
    EXPECT_EQ(type, 21) << "server answered the renegotiation with a record of type " << int(type);
  EXPECT_EQ(keys.size(), 1u) << "a second master secret was made";
  EXPECT_EQ(server.remote_certificate_der(), cert_before);
  auto got = server.PollAppData();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::string(got->begin(), got->end()), "after-hello");
  ASSERT_TRUE(server.Send(AsBytes("still-here"), kT0).ok());
  EXPECT_EQ(OutgoingRecordTypes(server), std::vector<uint8_t>{23});
}

// The other direction: a HelloRequest from a connected server (RFC 5246 §7.4.1.1) is ignored by
// refrtc's client — no ClientHello is sent, no new master secret — and data keeps flowing.
TEST(DtlsSecurity, HelloRequestIsIgnored) {
  auto scert = MakeCert(4), ccert = MakeCert(5);
  Transport client(ccert, 12);
  std::vector<std::string> keys;
  client.SetKeyLog([&](const std::string& l) { keys.push_back(l); });
  client.SetRemoteFingerprint("sha-256", scert->Fingerprint());
  RawPeer server(true, scert);
  ASSERT_TRUE(client.Start(Role::kClient, kT0).ok());
  while (auto d = client.PollOutgoing()) server.in.push_back(*d);
  ASSERT_TRUE(RawHandshake(server, client)) << client.failure_reason();
  ASSERT_EQ(keys.size(), 1u);
  ASSERT_GT(server.Write("after-hello-request"), 0);
  Bytes app = server.out.front();
  server.out.pop_front();
  int r = server.Renegotiate();
  ASSERT_TRUE(r == 0 || r == MBEDTLS_ERR_SSL_WANT_READ) << r;
  ASSERT_FALSE(server.out.empty()) << "the raw server sent no HelloRequest";
  while (!server.out.empty()) {
    client.HandleRecord(server.out.front(), kT0);
    server.out.pop_front();
  }
  client.HandleRecord(app, kT0);
  EXPECT_EQ(client.state(), State::kConnected) << client.failure_reason();
  for (uint8_t type : OutgoingRecordTypes(client))
    EXPECT_EQ(type, 21) << "client answered the HelloRequest with a record of type " << int(type);
  EXPECT_EQ(keys.size(), 1u);
  auto got = client.PollAppData();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::string(got->begin(), got->end()), "after-hello-request");
  ASSERT_TRUE(client.Send(AsBytes("still-here"), kT0).ok());
  EXPECT_EQ(OutgoingRecordTypes(client), std::vector<uint8_t>{23});
}

// RFC 6347 §4.2.8 ("client reconnect": a new epoch-0 ClientHello on a connected 5-tuple) from a
// different certificate — e.g. an attacker on the path after an ICE restart. refrtc runs without
// HelloVerifyRequest cookies (ICE proved the address), so mbedTLS cannot verify the reconnect and
// drops it: no answer at all, the association and its certificate stay, data flows.
TEST(DtlsSecurity, NewClientHelloOnConnectedServerCannotReplaceTheCertificate) {
  Connected c;
  ASSERT_TRUE(c.Connect());
  const Bytes cert_before = c.server.remote_certificate_der();
  auto mallory_cert = MakeCert(66);
  Transport mallory(mallory_cert, 66);
  mallory.SetRemoteFingerprint("sha-256", c.scert->Fingerprint());
  ASSERT_TRUE(mallory.Start(Role::kClient, kT0).ok());
  int hellos = 0;
  while (auto d = mallory.PollOutgoing()) c.server.HandleRecord(*d, kT0), ++hellos;
  ASSERT_GE(hellos, 1);
  EXPECT_TRUE(OutgoingRecordTypes(c.server).empty()) << "the server answered the new ClientHello";
  EXPECT_EQ(c.server.state(), State::kConnected);
  EXPECT_EQ(c.server.remote_certificate_der(), cert_before);
  EXPECT_EQ(c.server_keys.size(), 1u);
  ASSERT_TRUE(c.client.Send(AsBytes("legit"), kT0).ok());
  Shuttle(c.client, c.server, kT0);
  auto got = c.server.PollAppData();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::string(got->begin(), got->end()), "legit");
  EXPECT_NE(mallory.state(), State::kConnected);
}

}  // namespace
}  // namespace refrtc::dtls
