// mDNS / DNS message parser (RFC 1035 §4, RFC 6762) and the resolver's response handling.
// Properties: never crashes or reads out of bounds; a parsed message re-serializes (names are
// written uncompressed) to bytes that parse to the same content; the resolver stays bounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "mdns/dns_message.h"
#include "mdns/resolver.h"

using namespace refrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  auto m = mdns::Message::Parse(in);
  if (m.ok()) {
    auto bytes = m->Serialize();
    if (bytes.ok()) {
      auto again = mdns::Message::Parse(*bytes);
      if (!again.ok() || again->questions.size() != m->questions.size() ||
          again->answers.size() != m->answers.size() || again->additionals.size() != m->additionals.size())
        abort();
      for (size_t i = 0; i < m->answers.size(); ++i)
        if (!mdns::NameEquals(again->answers[i].name, m->answers[i].name) ||
            again->answers[i].rdata != m->answers[i].rdata)
          abort();
    }
  }
  mdns::ResolverConfig cfg;
  cfg.max_cache = 4;
  mdns::Resolver r(cfg);
  Instant now{};
  (void)r.Resolve("3e1d5c0e-8b2a-4a4c-9f0e-0123456789ab.local", now);
  (void)r.Resolve("x.local", now);
  SocketAddress from = SocketAddress::V4({192, 0, 2, 9}, 5353);
  r.HandlePacket(in, from, now);
  r.HandlePacket(in, from, now + seconds(1));
  while (r.PollTransmit()) {
  }
  while (r.PollEvent()) {
  }
  if (r.cached() > 4) abort();
  return 0;
}
