#include "io/event_loop.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "io/interfaces.h"
#include "testing/fake_endpoint.h"

namespace refrtc::io {
namespace {

using refrtc::testing::FakeEndpoint;
using std::chrono::milliseconds;
using std::chrono::seconds;

SocketAddress Loopback4() { return *SocketAddress::Parse("127.0.0.1", 0); }

TEST(EventLoopTest, AttachBindsEphemeralPortAndReportsIt) {
  EventLoop loop;
  FakeEndpoint a;
  auto bound = loop.Attach(&a, {Loopback4()});
  ASSERT_TRUE(bound.ok()) << bound.status();
  ASSERT_EQ(bound->size(), 1u);
  EXPECT_NE((*bound)[0].port(), 0);
  EXPECT_TRUE((*bound)[0].is_loopback());
  ASSERT_EQ(a.locals.size(), 1u);
  EXPECT_EQ(a.locals[0], (*bound)[0]);
}

TEST(EventLoopTest, AttachFailsCleanlyOnUnbindableAddress) {
  EventLoop loop;
  FakeEndpoint a;
  // TEST-NET-1 is not a local address: bind fails with EADDRNOTAVAIL; nothing is attached.
  auto bound = loop.Attach(&a, {Loopback4(), *SocketAddress::Parse("192.0.2.1", 0)});
  EXPECT_FALSE(bound.ok());
  EXPECT_TRUE(a.locals.empty());
}

TEST(EventLoopTest, TwoEndpointsPingPongOverLoopbackUdp) {
  EventLoop loop;
  FakeEndpoint a, b;
  auto ba = loop.Attach(&a, {Loopback4()});
  auto bb = loop.Attach(&b, {Loopback4()});
  ASSERT_TRUE(ba.ok() && bb.ok());
  const SocketAddress A = (*ba)[0], B = (*bb)[0];
  b.EchoAll();
  int pongs = 0;
  a.on_receive = [&](FakeEndpoint& self, const FakeEndpoint::Received& r) {
    if (++pongs < 100) self.Send(B, "ping " + std::to_string(pongs));
  };
  a.Send(B, "ping 0");
  loop.Wake();
  EXPECT_TRUE(loop.RunUntil([&] { return pongs == 100; }, seconds(10)));
  ASSERT_EQ(b.received.size(), 100u);
  EXPECT_EQ(AsString(b.received[0].data), "ping 0");
  EXPECT_EQ(AsString(a.received[99].data), "ping 99");
  EXPECT_EQ(b.received[0].remote, A);
  EXPECT_EQ(b.received[0].local, B);
  EXPECT_EQ(a.received[0].remote, B);
  EXPECT_EQ(a.received[0].local, A);
  EXPECT_EQ(loop.stats().datagrams_sent, 200u);
  EXPECT_EQ(loop.stats().datagrams_received, 200u);
}

TEST(EventLoopTest, BurstIsReceivedInBatches) {
  EventLoop loop;
  FakeEndpoint a, b;
  auto ba = loop.Attach(&a, {Loopback4()});
  auto bb = loop.Attach(&b, {Loopback4()});
  ASSERT_TRUE(ba.ok() && bb.ok());
  const int kN = 2000;
  for (int i = 0; i < kN; ++i) a.Send((*bb)[0], Bytes(1200, static_cast<uint8_t>(i)));
  EXPECT_TRUE(loop.RunUntil([&] { return b.received.size() == kN; }, seconds(10)));
  EXPECT_EQ(loop.stats().send_dropped, 0u);
  for (int i = 0; i < kN; ++i) {
    ASSERT_EQ(b.received[i].data.size(), 1200u);
    ASSERT_EQ(b.received[i].data[0], static_cast<uint8_t>(i));
  }
}

TEST(EventLoopTest, LargeDatagramFitsReceiveBuffer) {
  EventLoop loop;
  FakeEndpoint a, b;
  auto ba = loop.Attach(&a, {Loopback4()});
  auto bb = loop.Attach(&b, {Loopback4()});
  ASSERT_TRUE(ba.ok() && bb.ok());
  a.Send((*bb)[0], Bytes(65000, 7));
  EXPECT_TRUE(loop.RunUntil([&] { return !b.received.empty(); }, seconds(5)));
  ASSERT_EQ(b.received.size(), 1u);
  EXPECT_EQ(b.received[0].data.size(), 65000u);
}

TEST(EventLoopTest, TimerFiresNotEarly) {
  EventLoop loop;
  FakeEndpoint a;
  ASSERT_TRUE(loop.Attach(&a, {Loopback4()}).ok());
  const Instant start = loop.Now();
  const Instant deadline = start + milliseconds(30);
  a.SetTimer(deadline);
  a.SetTimer(deadline + milliseconds(20));
  int iterations = 0;
  loop.AddAfterIterationHook([&] { ++iterations; });
  loop.Wake();  // the timer was set outside a callback
  EXPECT_TRUE(loop.RunUntil([&] { return a.timer_fired_at.size() == 2; }, seconds(5)));
  ASSERT_EQ(a.timer_fired_at.size(), 2u);
  EXPECT_GE(a.timer_fired_at[0], deadline);
  EXPECT_GE(a.timer_fired_at[1], deadline + milliseconds(20));
  EXPECT_LT(a.timer_fired_at[1] - start, seconds(2));
  // Never called before a deadline: no busy polling.
  for (Instant t : a.timeout_calls) EXPECT_GE(t, deadline);
  EXPECT_LE(a.timeout_calls.size(), 4u);
  // epoll's timeout is rounded up to whole ms: no zero-timeout spinning before a deadline.
  EXPECT_LT(iterations, 20);
}

TEST(EventLoopTest, RunForWithoutDeadlinesBlocksThenReturns) {
  EventLoop loop;
  FakeEndpoint a;
  ASSERT_TRUE(loop.Attach(&a, {Loopback4()}).ok());
  int iterations = 0;
  loop.AddAfterIterationHook([&] { ++iterations; });
  const Instant start = loop.Now();
  loop.RunFor(milliseconds(50));
  EXPECT_GE(loop.Now() - start, milliseconds(50));
  EXPECT_LT(iterations, 10);  // blocked in epoll, did not spin
}

TEST(EventLoopTest, WatchFdRunsCallbackAndFlushes) {
  EventLoop loop;
  FakeEndpoint a, b;
  auto ba = loop.Attach(&a, {Loopback4()});
  auto bb = loop.Attach(&b, {Loopback4()});
  ASSERT_TRUE(ba.ok() && bb.ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string got;
  loop.WatchFd(fds[0], [&] {
    char buf[64];
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      got.append(buf, n);
      a.Send((*bb)[0], absl::string_view(buf, n));  // flushed after the callback
    }
  });
  ASSERT_EQ(write(fds[1], "cmd", 3), 3);
  EXPECT_TRUE(loop.RunUntil([&] { return !b.received.empty(); }, seconds(5)));
  EXPECT_EQ(got, "cmd");
  ASSERT_EQ(b.received.size(), 1u);
  EXPECT_EQ(AsString(b.received[0].data), "cmd");
  loop.UnwatchFd(fds[0]);
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  loop.RunFor(milliseconds(20));
  EXPECT_EQ(got, "cmd");  // no longer watched
  close(fds[0]);
  close(fds[1]);
}

TEST(EventLoopTest, HookCanSendAndStopAndDetach) {
  EventLoop loop;
  FakeEndpoint a, b;
  auto ba = loop.Attach(&a, {Loopback4()});
  auto bb = loop.Attach(&b, {Loopback4()});
  ASSERT_TRUE(ba.ok() && bb.ok());
  bool sent = false;
  loop.AddAfterIterationHook([&] {
    if (!sent) {
      a.Send((*bb)[0], "from hook");  // drained after the hooks
      sent = true;
    }
    if (!b.received.empty()) {
      loop.Detach(&b);
      loop.Stop();
    }
  });
  loop.Wake();
  const Instant start = loop.Now();
  loop.Run();
  EXPECT_LT(loop.Now() - start, seconds(5));
  ASSERT_EQ(b.received.size(), 1u);
  // b is detached: datagrams to its old port are no longer delivered to it.
  a.Send((*bb)[0], "late");
  loop.RunFor(milliseconds(20));
  EXPECT_EQ(b.received.size(), 1u);
}

TEST(EventLoopTest, UnboundSourcePicksSocketOfSameFamily) {
  EventLoop loop;
  FakeEndpoint a, b;
  auto ba = loop.Attach(&a, {Loopback4()});
  auto bb = loop.Attach(&b, {Loopback4()});
  ASSERT_TRUE(ba.ok() && bb.ok());
  a.Send((*bb)[0], Bytes{1, 2, 3}, *SocketAddress::Parse("0.0.0.0", 0));
  EXPECT_TRUE(loop.RunUntil([&] { return !b.received.empty(); }, seconds(5)));
  ASSERT_EQ(b.received.size(), 1u);
  EXPECT_EQ(b.received[0].remote, (*ba)[0]);
  // No IPv6 socket: dropped and counted, not crashed.
  a.Send(*SocketAddress::Parse("::1", 9), Bytes{1});
  loop.RunFor(milliseconds(5));
  EXPECT_EQ(loop.stats().send_no_socket, 1u);
}

TEST(EventLoopTest, SendToClosedPortIsHarmless) {
  EventLoop loop;
  FakeEndpoint a, b;
  auto ba = loop.Attach(&a, {Loopback4()});
  auto bb = loop.Attach(&b, {Loopback4()});
  ASSERT_TRUE(ba.ok() && bb.ok());
  SocketAddress gone = (*bb)[0];
  loop.Detach(&b);
  for (int i = 0; i < 5; ++i) a.Send(gone, "x");  // ICMP port unreachable comes back
  loop.RunFor(milliseconds(20));
  // The loop keeps working afterwards.
  FakeEndpoint c;
  auto bc = loop.Attach(&c, {Loopback4()});
  ASSERT_TRUE(bc.ok());
  a.Send((*bc)[0], "y");
  EXPECT_TRUE(loop.RunUntil([&] { return !c.received.empty(); }, seconds(5)));
}

TEST(EventLoopTest, Ipv6LoopbackExchange) {
  EventLoop loop;
  FakeEndpoint a, b;
  auto ba = loop.Attach(&a, {*SocketAddress::Parse("::1", 0)});
  if (!ba.ok()) GTEST_SKIP() << "no IPv6 loopback: " << ba.status();
  auto bb = loop.Attach(&b, {*SocketAddress::Parse("::1", 0)});
  ASSERT_TRUE(bb.ok());
  a.Send((*bb)[0], "v6");
  EXPECT_TRUE(loop.RunUntil([&] { return !b.received.empty(); }, seconds(5)));
  ASSERT_EQ(b.received.size(), 1u);
  EXPECT_EQ(b.received[0].remote, (*ba)[0]);
  EXPECT_TRUE(b.received[0].remote.is_v6());
}

TEST(InterfacesTest, LoopbackIncludedWhenAllowed) {
  auto all = EnumerateInterfaces(InterfaceFilter{});
  bool has_lo4 = false;
  for (auto& a : all) {
    EXPECT_EQ(a.port(), 0);
    EXPECT_FALSE(a.is_link_local());  // off by default
    if (a.is_v4() && a.is_loopback()) has_lo4 = true;
  }
  EXPECT_TRUE(has_lo4);
}

TEST(InterfacesTest, FiltersAreRespected) {
  InterfaceFilter no_lo;
  no_lo.loopback = false;
  for (auto& a : EnumerateInterfaces(no_lo)) EXPECT_FALSE(a.is_loopback()) << a.ToString();

  InterfaceFilter v6_only;
  v6_only.ipv4 = false;
  for (auto& a : EnumerateInterfaces(v6_only)) EXPECT_TRUE(a.is_v6()) << a.ToString();

  InterfaceFilter v4_only;
  v4_only.ipv6 = false;
  for (auto& a : EnumerateInterfaces(v4_only)) EXPECT_TRUE(a.is_v4()) << a.ToString();

  InterfaceFilter lo_only;
  lo_only.allow_names = {"lo"};
  auto lo = EnumerateInterfaces(lo_only);
  EXPECT_FALSE(lo.empty());
  for (auto& a : lo) EXPECT_TRUE(a.is_loopback()) << a.ToString();

  InterfaceFilter none;
  none.allow_names = {"no-such-if0"};
  EXPECT_TRUE(EnumerateInterfaces(none).empty());
}

TEST(InterfacesTest, EnumeratedAddressesCanBeAttached) {
  InterfaceFilter f;
  f.ipv6 = false;
  f.allow_names = {"lo"};
  auto addrs = EnumerateInterfaces(f);
  ASSERT_FALSE(addrs.empty());
  EventLoop loop;
  FakeEndpoint a;
  auto bound = loop.Attach(&a, addrs);
  ASSERT_TRUE(bound.ok()) << bound.status();
  EXPECT_EQ(bound->size(), addrs.size());
}

}  // namespace
}  // namespace refrtc::io
