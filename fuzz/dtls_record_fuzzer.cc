// Feeds arbitrary datagrams to a DTLS Transport (server role by default; the first input byte's
// low bit selects the client role, which parses ServerHello-side messages) with fixed seeds and
// virtual time. Input: [mode u8] then repeated [u16 big-endian header][datagram]; header bit 15
// advances time by 1 s and fires the timer first, the low 11 bits are the datagram length.
// Checks: no crash/hang/UB, and no application data is ever delivered without the peer having
// been authenticated (the remote fingerprint below matches no certificate).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "dtls/certificate.h"
#include "dtls/dtls_transport.h"

using refrtc::ByteView;
using refrtc::Instant;
namespace dtls = refrtc::dtls;

namespace {
std::shared_ptr<dtls::Certificate> LocalCert() {
  static std::shared_ptr<dtls::Certificate> cert = [] {
    refrtc::Random rng(42);
    auto c = dtls::Certificate::GenerateEcdsaP256(rng, 1700000000, 1700000000 + 30 * 86400);
    if (!c.ok()) std::abort();
    return *c;
  }();
  return cert;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  dtls::Transport t(LocalCert(), 7);
  // A fingerprint no certificate matches: the handshake may progress far, but never to data.
  t.SetRemoteFingerprint("sha-256", "00:11:22:33");
  Instant now = Instant() + std::chrono::hours(1);
  dtls::Role role = (data[0] & 1) ? dtls::Role::kClient : dtls::Role::kServer;
  if (!t.Start(role, now).ok()) std::abort();
  size_t pos = 1;
  while (pos + 2 <= size) {
    uint16_t hdr = static_cast<uint16_t>(data[pos] << 8 | data[pos + 1]);
    pos += 2;
    size_t len = hdr & 0x7ff;
    if (len > size - pos) len = size - pos;
    if (hdr & 0x8000) {
      now += std::chrono::seconds(1);
      t.HandleTimeout(now);
    }
    t.HandleRecord(ByteView(data + pos, len), now);
    pos += len;
    while (t.PollOutgoing()) {
    }
    if (t.PollAppData().has_value()) std::abort();  // peer can never be authenticated here
    if (t.state() == dtls::State::kConnected) std::abort();
    auto deadline = t.PollTimeout();
    if (deadline && *deadline < now - std::chrono::hours(1)) std::abort();
  }
  t.Close(now);
  while (t.PollOutgoing()) {
  }
  return 0;
}
