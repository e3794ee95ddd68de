// TURN client input (RFC 8656): ChannelData parsing, the TCP stream framer and a TurnClient fed
// arbitrary server datagrams / stream chunks after a scripted successful allocation. Never crashes,
// never reads out of bounds; frames the framer returns are complete and 4-byte aligned (ChannelData)
// or STUN-length consistent.
#include <cstdint>
#include <cstdlib>

#include "ice/turn_client.h"

using namespace refrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  if (auto cd = ice::ParseChannelData(in)) {
    if (cd->data.size() + 4 > size || cd->channel < ice::kMinChannel || cd->channel > ice::kMaxChannel) abort();
  }
  (void)ice::ParseTurnUrl(std::string(reinterpret_cast<const char*>(data), std::min<size_t>(size, 200)), "u", "p");

  // The framer over the input in chunks whose sizes come from the first byte.
  ice::StreamFramer f;
  size_t chunk = size ? (data[0] % 17) + 1 : 1;
  for (size_t i = 0; i < size; i += chunk) {
    f.Append(ByteView(data + i, std::min(chunk, size - i)));
    while (auto frame = f.Next()) {
      if (frame->size() < 4) abort();
      if ((*frame)[0] >= 64 && (*frame)[0] <= 79 && frame->size() % 4 != 0) abort();
    }
  }

  // A client in each transport, allocated by a scripted exchange, then fed the input.
  for (auto tp : {TransportProtocol::kUdp, TransportProtocol::kTcp}) {
    Random rng(1);
    ice::TurnClientConfig cfg;
    cfg.server.server = *SocketAddress::Parse("10.0.0.9", 3478);
    cfg.server.transport = tp;
    cfg.server.username = "u";
    cfg.server.password = "p";
    SocketAddress base = *SocketAddress::Parse("10.0.0.2", 5000);
    ice::TurnClient c(cfg, base, rng);
    Instant now = Instant() + seconds(1);
    c.Start(now);
    auto req = c.PollTransmit();
    if (!req) abort();
    auto m = stun::StunMessage::Parse(req->data);
    if (!m.ok()) abort();
    stun::StunMessage ch(stun::StunClass::kErrorResponse, stun::kMethodAllocate, m->transaction_id());
    ch.AddErrorCode(401, "Unauthorized");
    ch.AddRealm("r");
    ch.AddNonce("n");
    Bytes chb = ch.Serialize();
    if (tp == TransportProtocol::kTcp) c.HandleStreamData(chb, now);
    else c.HandleDatagram(chb, now);
    auto retry = c.PollTransmit();
    if (!retry) abort();
    auto m2 = stun::StunMessage::Parse(retry->data);
    stun::StunMessage ok(stun::StunClass::kSuccessResponse, stun::kMethodAllocate, m2->transaction_id());
    ok.AddXorAddress(stun::attr::kXorRelayedAddress, *SocketAddress::Parse("10.0.0.9", 50000));
    ok.AddLifetime(600);
    Bytes okb = ok.Serialize(ice::LongTermKey("u", "r", "p"));
    if (tp == TransportProtocol::kTcp) c.HandleStreamData(okb, now);
    else c.HandleDatagram(okb, now);
    if (c.state() != ice::TurnClient::State::kAllocated) abort();
    c.Send(*SocketAddress::Parse("10.0.0.3", 7000), Bytes{1, 2, 3}, now);
    while (c.PollTransmit()) {
    }
    if (tp == TransportProtocol::kTcp) {
      for (size_t i = 0; i < size; i += chunk) c.HandleStreamData(ByteView(data + i, std::min(chunk, size - i)), now);
    } else {
      c.HandleDatagram(in, now);
    }
    while (c.PollPeerData()) {
    }
    now += seconds(600);
    c.HandleTimeout(now);
    while (c.PollTransmit()) {
    }
    c.Close(now);
  }
  return 0;
}
