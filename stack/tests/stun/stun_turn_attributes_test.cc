// The TURN attributes (RFC 8656 §18) and REALM/NONCE accessors added for the TURN client.
#include <gtest/gtest.h>

#include "stun/stun_message.h"

namespace refrtc::stun {
namespace {

TEST(StunTurnAttributes, RoundTrip) {
  TransactionId tid;
  for (size_t i = 0; i < tid.size(); ++i) tid[i] = static_cast<uint8_t>(i * 17 + 3);
  StunMessage m(StunClass::kRequest, kMethodChannelBind, tid);
  auto peer4 = *SocketAddress::Parse("192.0.2.1", 4000);
  auto relayed6 = *SocketAddress::Parse("2001:db8::7", 50000);
  m.AddXorAddress(attr::kXorPeerAddress, peer4);
  m.AddXorAddress(attr::kXorRelayedAddress, relayed6);
  m.AddChannelNumber(0x4abc);
  m.AddLifetime(3600);
  m.AddRequestedTransport(17);
  m.AddData(Bytes{0, 1, 2});  // 3 bytes: padded on the wire
  m.AddRealm("example.org");
  m.AddNonce("abc");
  Bytes wire = m.Serialize();
  auto p = StunMessage::Parse(wire);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->method(), kMethodChannelBind);
  EXPECT_EQ(p->xor_address(attr::kXorPeerAddress), peer4);
  EXPECT_EQ(p->xor_address(attr::kXorRelayedAddress), relayed6);
  EXPECT_EQ(p->channel_number(), 0x4abc);
  EXPECT_EQ(p->lifetime(), 3600u);
  EXPECT_EQ(p->Find(attr::kRequestedTransport)->value, (Bytes{17, 0, 0, 0}));
  ASSERT_TRUE(p->data());
  EXPECT_EQ(Bytes(p->data()->begin(), p->data()->end()), (Bytes{0, 1, 2}));
  EXPECT_EQ(p->realm(), "example.org");
  EXPECT_EQ(p->nonce(), "abc");
  // XOR-PEER-ADDRESS is XORed on the wire (RFC 8489 §14.2): the plain IP bytes do not appear.
  const Attribute* a = p->Find(attr::kXorPeerAddress);
  ASSERT_TRUE(a);
  EXPECT_NE(a->value[4], 192);
  // Known now: a request carrying them is not answered with 420.
  EXPECT_TRUE(p->UnknownComprehensionRequired().empty());
  EXPECT_FALSE(p->xor_mapped_address());
}

TEST(StunTurnAttributes, MalformedValuesAreRejected) {
  for (uint16_t type : {attr::kLifetime, attr::kChannelNumber, attr::kRequestedTransport}) {
    StunMessage m(StunClass::kRequest, kMethodAllocate, {});
    m.AddRaw(type, Bytes{0, 0, 0});  // 3 bytes instead of 4
    EXPECT_FALSE(StunMessage::Parse(m.Serialize()).ok()) << type;
  }
  for (uint16_t type : {attr::kXorPeerAddress, attr::kXorRelayedAddress}) {
    StunMessage m(StunClass::kRequest, kMethodCreatePermission, {});
    m.AddRaw(type, Bytes{0, 3, 0, 0, 1, 2, 3, 4});  // unknown family
    EXPECT_FALSE(StunMessage::Parse(m.Serialize()).ok()) << type;
  }
}

TEST(StunTurnAttributes, AccessorsOnAbsentOrBadHandBuiltValues) {
  StunMessage m(StunClass::kIndication, kMethodData, {});
  EXPECT_FALSE(m.data());
  EXPECT_FALSE(m.lifetime());
  EXPECT_FALSE(m.channel_number());
  EXPECT_FALSE(m.realm());
  EXPECT_FALSE(m.nonce());
  EXPECT_FALSE(m.xor_address(attr::kXorPeerAddress));
  m.AddRaw(attr::kLifetime, Bytes{1});
  EXPECT_FALSE(m.lifetime());
}

}  // namespace
}  // namespace refrtc::stun
