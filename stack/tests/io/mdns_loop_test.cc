// The native loop's shared mDNS socket (issue B): a Transmit to 224.0.0.251:5353 leaves through
// it, IP_MULTICAST_LOOP brings it back to every endpoint of this process that has queried, and
// the reply arrives with local = the mDNS socket. Sends only to the mDNS group on this machine's
// own interfaces. Skipped where the machine cannot do multicast at all.
#include <gtest/gtest.h>

#include "io/event_loop.h"
#include "testing/fake_endpoint.h"

namespace refrtc::io {
namespace {

Bytes Query(uint8_t tag) {  // a one-question A query for "q<tag>.local"
  return Bytes{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 'q', tag, 5, 'l', 'o', 'c', 'a', 'l', 0, 0, 1, 0, 1};
}
Bytes Response(uint8_t tag) {
  Bytes b = {0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 'q', tag, 5, 'l', 'o', 'c', 'a', 'l', 0};
  b.insert(b.end(), {0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 127, 0, 0, 1});
  return b;
}

TEST(MdnsLoop, QueryLoopsBackAndResponseReachesTheQuerier) {
  EventLoop loop;
  testing::FakeEndpoint responder, querier;
  SocketAddress group = *SocketAddress::Parse("224.0.0.251", 5353);
  SocketAddress any5353 = *SocketAddress::Parse("0.0.0.0", 5353);
  ASSERT_TRUE(loop.Attach(&responder, {*SocketAddress::Parse("127.0.0.1", 0)}).ok());
  ASSERT_TRUE(loop.Attach(&querier, {*SocketAddress::Parse("127.0.0.1", 0)}).ok());
  // The responder answers queries for q<tag>.local to the group (RFC 6762 §6).
  responder.on_receive = [&](testing::FakeEndpoint& self, const testing::FakeEndpoint::Received& r) {
    if (r.data.size() > 14 && r.data[2] == 0 && r.data[13] == 'q') self.Send(group, Response(r.data[14]), any5353);
  };
  // Membership comes with the first mDNS send: the responder announces itself first.
  responder.Send(group, Response('r'), any5353);
  loop.Flush();
  if (loop.stats().mdns_sent == 0) GTEST_SKIP() << "no multicast on this machine";
  querier.Send(group, Query('x'), any5353);
  loop.Wake();
  bool got = loop.RunUntil(
      [&] {
        for (const auto& r : querier.received)
          if (r.data.size() > 3 && r.data[2] == 0x84 && r.data[14] == 'x') return true;
        return false;
      },
      std::chrono::seconds(3));
  ASSERT_TRUE(got) << "mdns_sent=" << loop.stats().mdns_sent << " mdns_received=" << loop.stats().mdns_received;
  for (const auto& r : querier.received) {
    EXPECT_EQ(r.local.port(), 5353);  // the shared mDNS socket, not the endpoint's own
    EXPECT_TRUE(r.local.is_any());
    EXPECT_EQ(r.remote.port(), 5353);
  }
  // The responder heard the looped-back query.
  bool heard = false;
  for (const auto& r : responder.received) heard |= r.data.size() > 14 && r.data[2] == 0 && r.data[14] == 'x';
  EXPECT_TRUE(heard);
}

}  // namespace
}  // namespace refrtc::io
