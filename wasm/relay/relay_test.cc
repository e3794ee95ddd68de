// Tests of the WebSocket ↔ UDP relay (PROTOCOL.md): framing (RFC 6455 §5), the handshake (§4.2),
// the datagram header codec, and end to end against the real refrtc_relay binary run as a child
// process on an ephemeral port, with a raw TCP WebSocket client and UDP peers owned by the test.
// No sleeps: every wait is a poll() with a timeout.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "relay_server.h"
#include "ws_frame.h"
#include "ws_handshake.h"

extern char** environ;

namespace refrtc::relay {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string S(const Bytes& b) { return std::string(b.begin(), b.end()); }

const uint8_t kMask[4] = {0x37, 0xfa, 0x21, 0x3d};

// ---- handshake, token, query --------------------------------------------------------------------

TEST(Handshake, AcceptKeyRfc6455Example) {
  // RFC 6455 §1.3.
  EXPECT_EQ(WebSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, Base64) {
  const std::string f = "foobar";
  auto enc = [](const std::string& s) { return Base64Encode(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  EXPECT_EQ(enc(""), "");
  EXPECT_EQ(enc("f"), "Zg==");
  EXPECT_EQ(enc("fo"), "Zm8=");
  EXPECT_EQ(enc("foo"), "Zm9v");
  EXPECT_EQ(enc(f), "Zm9vYmFy");
}

TEST(Handshake, TokenEquals) {
  EXPECT_TRUE(TokenEquals("s3cret", "s3cret"));
  EXPECT_FALSE(TokenEquals("s3cret", "s3cres"));
  EXPECT_FALSE(TokenEquals("s3cret", "s3cre"));
  EXPECT_FALSE(TokenEquals("s3cret", "s3cret!"));
  EXPECT_FALSE(TokenEquals("s3cret", ""));
  EXPECT_FALSE(TokenEquals("", ""));  // an empty relay token never matches
  EXPECT_FALSE(TokenEquals("abc", std::string("abc\0", 4)));
}

TEST(Handshake, ParseQuery) {
  auto q = ParseQuery("token=ab%2Fc&x=1+2&flag&&empty=");
  ASSERT_TRUE(q.has_value());
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[0], std::make_pair(std::string("token"), std::string("ab/c")));
  EXPECT_EQ((*q)[1], std::make_pair(std::string("x"), std::string("1 2")));
  EXPECT_EQ((*q)[2], std::make_pair(std::string("flag"), std::string("")));
  EXPECT_EQ((*q)[3], std::make_pair(std::string("empty"), std::string("")));
  EXPECT_TRUE(ParseQuery("")->empty());
  EXPECT_FALSE(ParseQuery("token=%4").has_value());
  EXPECT_FALSE(ParseQuery("token=%").has_value());
  EXPECT_FALSE(ParseQuery("token=%zz").has_value());
  EXPECT_EQ(*PercentDecode("%41%62c"), "Abc");
}

std::string Request(const std::string& target, const std::string& extra = "",
                    const std::string& key = "dGhlIHNhbXBsZSBub25jZQ==", const std::string& version = "13") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:8787\r\nUpgrade: websocket\r\n"
         "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: " + key +
         "\r\nSec-WebSocket-Version: " + version + "\r\nOrigin: http://localhost\r\n" + extra + "\r\n";
}

TEST(Handshake, Evaluate) {
  auto ok = EvaluateHandshake(Request("/v1?token=tok"), "tok", false);
  EXPECT_EQ(ok.status, 101);
  EXPECT_EQ(ok.response,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  EXPECT_EQ(EvaluateHandshake(Request("/v1?x=1&token=t%6Fk"), "tok", false).status, 101);
  EXPECT_EQ(EvaluateHandshake(Request("/v1?token=bad"), "tok", false).status, 401);
  EXPECT_EQ(EvaluateHandshake(Request("/v1?token="), "tok", false).status, 401);
  EXPECT_EQ(EvaluateHandshake(Request("/v1"), "tok", false).status, 401);
  EXPECT_EQ(EvaluateHandshake(Request("/v1?token=%zz"), "tok", false).status, 401);
  auto r401 = EvaluateHandshake(Request("/v1?token=tok2"), "tok", false);
  EXPECT_EQ(r401.response.rfind("HTTP/1.1 401 Unauthorized\r\n", 0), 0u);
  EXPECT_EQ(EvaluateHandshake(Request("/v2?token=tok"), "tok", false).status, 404);
  EXPECT_EQ(EvaluateHandshake(Request("/?token=tok"), "tok", false).status, 404);
  // Not an upgrade.
  EXPECT_EQ(EvaluateHandshake("GET /v1?token=tok HTTP/1.1\r\nHost: x\r\n\r\n", "tok", false).status, 400);
  EXPECT_EQ(EvaluateHandshake(Request("/v1?token=tok", "", "short"), "tok", false).status, 400);
  // Version.
  auto r426 = EvaluateHandshake(Request("/v1?token=tok", "", "dGhlIHNhbXBsZSBub25jZQ==", "8"), "tok", false);
  EXPECT_EQ(r426.status, 426);
  EXPECT_NE(r426.response.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
  // Capacity.
  auto r503 = EvaluateHandshake(Request("/v1?token=tok"), "tok", true);
  EXPECT_EQ(r503.status, 503);
  EXPECT_EQ(r503.response.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u);
  // Malformed.
  EXPECT_EQ(EvaluateHandshake("", "tok", false).status, 400);
  EXPECT_EQ(EvaluateHandshake("GET /v1?token=tok\r\n\r\n", "tok", false).status, 400);
  EXPECT_EQ(EvaluateHandshake("POST /v1?token=tok HTTP/1.1\r\nHost: x\r\n\r\n", "tok", false).status, 400);
  EXPECT_EQ(EvaluateHandshake("GET /v1?token=tok HTTP/1.1\r\n folded\r\n\r\n", "tok", false).status, 400);
  EXPECT_EQ(EvaluateHandshake("GET /v1?token=tok HTTP/1.1\r\nno colon\r\n\r\n", "tok", false).status, 400);
  EXPECT_EQ(EvaluateHandshake(std::string("\0\xff\r\n\r\n", 6), "tok", false).status, 400);
}

TEST(Handshake, HeaderLookupIsCaseInsensitive) {
  auto req = ParseHttpRequest("GET /v1 HTTP/1.1\r\nsec-websocket-KEY:   abc  \r\n\r\n");
  ASSERT_TRUE(req.has_value());
  ASSERT_NE(req->Header("Sec-WebSocket-Key"), nullptr);
  EXPECT_EQ(*req->Header("Sec-WebSocket-Key"), "abc");
  EXPECT_EQ(req->Header("Host"), nullptr);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\n\r\nxyz"), 18u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\n"), std::string::npos);
}

TEST(Address, Parse) {
  auto a = ParseHostPort("127.0.0.1:8787");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->HostPort(), "127.0.0.1:8787");
  auto b = ParseHostPort("[::1]:0");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->HostPort(), "[::1]:0");
  EXPECT_FALSE(ParseHostPort("::1:8787").has_value());
  EXPECT_FALSE(ParseHostPort("localhost:8787").has_value());
  EXPECT_FALSE(ParseHostPort("127.0.0.1").has_value());
  EXPECT_FALSE(ParseHostPort("127.0.0.1:65536").has_value());
  EXPECT_FALSE(ParseHostPort("127.0.0.1:-1").has_value());
  EXPECT_FALSE(ParseHostPort("[::1]8787").has_value());
  EXPECT_EQ(ParseIp("[::1]")->Ip(), "::1");
  EXPECT_EQ(ParseIp("10.0.0.1")->Ip(), "10.0.0.1");
  EXPECT_FALSE(ParseIp("10.0.0.256").has_value());
}

// ---- frame parser --------------------------------------------------------------------------------

std::vector<WsMessage> FeedAll(WsFrameParser& p, const Bytes& data, bool expect_ok = true) {
  std::vector<WsMessage> out;
  EXPECT_EQ(p.Feed(data.data(), data.size(), &out), expect_ok) << p.error_reason();
  return out;
}

TEST(FrameParser, Rfc6455ExamplesServerSide) {
  // RFC 6455 §5.7, as a client parses them (unmasked server frames).
  WsFrameParser p(/*from_client=*/false);
  auto m = FeedAll(p, {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].opcode, WsOpcode::kText);
  EXPECT_EQ(S(m[0].payload), "Hello");
  // Fragmented "Hel" + "lo".
  m = FeedAll(p, {0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(S(m[0].payload), "Hello");
  // Unmasked ping and pong.
  m = FeedAll(p, {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x8a, 0x00});
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].opcode, WsOpcode::kPing);
  EXPECT_EQ(S(m[0].payload), "Hello");
  EXPECT_EQ(m[1].opcode, WsOpcode::kPong);
  EXPECT_TRUE(m[1].payload.empty());
}

TEST(FrameParser, MaskedRfcExample) {
  // RFC 6455 §5.7: a masked "Hello" from a client.
  WsFrameParser p;
  auto m = FeedAll(p, {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(S(m[0].payload), "Hello");
  // The writer produces the same bytes.
  EXPECT_EQ(WsFrame(WsOpcode::kText, "Hello", true, kMask),
            Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

// A stream exercising the parser: several frame kinds, 7- and 16-bit lengths, fragmentation with
// control frames interleaved, empty frames. Returns the stream and the expected messages.
std::pair<Bytes, std::vector<WsMessage>> MixedStream() {
  Bytes s;
  std::vector<WsMessage> want;
  auto add = [&](const Bytes& f) { s.insert(s.end(), f.begin(), f.end()); };
  const uint8_t m2[4] = {0x01, 0x80, 0xff, 0x7e};
  add(WsFrame(WsOpcode::kText, "hi", true, kMask));
  want.push_back({WsOpcode::kText, B("hi")});
  std::string b200(200, '\0');
  for (size_t i = 0; i < b200.size(); ++i) b200[i] = static_cast<char>(i * 7);
  add(WsFrame(WsOpcode::kBinary, b200, true, m2));  // 16-bit length
  want.push_back({WsOpcode::kBinary, B(b200)});
  add(WsFrame(WsOpcode::kBinary, "", true, kMask));  // empty
  want.push_back({WsOpcode::kBinary, {}});
  // Fragmented binary: 3 fragments with a ping and a pong between them.
  add(WsFrame(WsOpcode::kBinary, "frag1-", false, kMask));
  add(WsFrame(WsOpcode::kPing, "p", true, m2));
  want.push_back({WsOpcode::kPing, B("p")});
  add(WsFrame(WsOpcode::kContinuation, "", false, kMask));
  add(WsFrame(WsOpcode::kPong, "", true, kMask));
  want.push_back({WsOpcode::kPong, {}});
  add(WsFrame(WsOpcode::kContinuation, "frag3", true, m2));
  want.push_back({WsOpcode::kBinary, B("frag1-frag3")});
  add(WsFrame(WsOpcode::kText, "\xc3\xa9t\xc3", false, kMask));  // UTF-8 split across fragments
  add(WsFrame(WsOpcode::kContinuation, "\xa9", true, kMask));
  want.push_back({WsOpcode::kText, B("\xc3\xa9t\xc3\xa9")});
  add(WsFrame(WsOpcode::kPing, std::string(125, 'x'), true, kMask));  // largest control frame
  want.push_back({WsOpcode::kPing, B(std::string(125, 'x'))});
  add(WsFrame(WsOpcode::kClose, std::string("\x03\xe8") + "bye", true, kMask));
  want.push_back({WsOpcode::kClose, B(std::string("\x03\xe8") + "bye")});
  return {s, want};
}

void ExpectSame(const std::vector<WsMessage>& got, const std::vector<WsMessage>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].opcode, want[i].opcode) << what << " message " << i;
    EXPECT_EQ(got[i].payload, want[i].payload) << what << " message " << i;
  }
}

TEST(FrameParser, SplitAtEveryByteBoundary) {
  auto [stream, want] = MixedStream();
  {
    WsFrameParser p;
    ExpectSame(FeedAll(p, stream), want, "whole");
  }
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    WsFrameParser p;
    std::vector<WsMessage> got;
    ASSERT_TRUE(p.Feed(stream.data(), cut, &got)) << p.error_reason();
    ASSERT_TRUE(p.Feed(stream.data() + cut, stream.size() - cut, &got)) << p.error_reason();
    ExpectSame(got, want, "cut at " + std::to_string(cut));
  }
  // Two cuts, and one byte at a time.
  for (size_t a = 0; a < stream.size(); a += 3) {
    for (size_t b = a; b <= stream.size(); b += 5) {
      WsFrameParser p;
      std::vector<WsMessage> got;
      ASSERT_TRUE(p.Feed(stream.data(), a, &got));
      ASSERT_TRUE(p.Feed(stream.data() + a, b - a, &got));
      ASSERT_TRUE(p.Feed(stream.data() + b, stream.size() - b, &got));
      ExpectSame(got, want, "cuts " + std::to_string(a) + "," + std::to_string(b));
    }
  }
  WsFrameParser p;
  std::vector<WsMessage> got;
  for (uint8_t byte : stream) ASSERT_TRUE(p.Feed(&byte, 1, &got));
  ExpectSame(got, want, "bytewise");
}

TEST(FrameParser, SixteenAndSixtyFourBitLengths) {
  for (size_t size : {125u, 126u, 127u, 65535u, 65536u, 65556u}) {
    std::string payload(size, 'a');
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(i % 251);
    const Bytes frame = WsFrame(WsOpcode::kBinary, payload, true, kMask);
    const size_t want_header = size <= 125 ? 2 : size <= 65535 ? 4 : 10;
    EXPECT_EQ(frame.size(), want_header + 4 + size);
    EXPECT_EQ(frame[1] & 0x7f, size <= 125 ? size : size <= 65535 ? 126 : 127);
    // Whole, and split inside the header, the mask and the payload.
    for (size_t cut : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, want_header, want_header + 2,
                       want_header + 4, want_header + 5, frame.size() - 1}) {
      WsFrameParser p;
      std::vector<WsMessage> got;
      ASSERT_TRUE(p.Feed(frame.data(), cut, &got));
      ASSERT_TRUE(p.Feed(frame.data() + cut, frame.size() - cut, &got)) << p.error_reason();
      ASSERT_EQ(got.size(), 1u) << size;
      EXPECT_EQ(got[0].payload, B(payload));
    }
  }
  // A non-minimal 64-bit encoding of a short payload is accepted (lenient).
  WsFrameParser p;
  Bytes f = {0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 'o', 'k'};
  auto got = FeedAll(p, f);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(S(got[0].payload), "ok");
}

struct BadCase {
  const char* name;
  Bytes bytes;
  uint16_t code;
};

TEST(FrameParser, ProtocolViolations) {
  const std::vector<BadCase> cases = {
      {"unmasked client frame", WsFrame(WsOpcode::kBinary, "x"), kCloseProtocolError},
      {"reserved bits", {0xC2, 0x80, 0, 0, 0, 0}, kCloseProtocolError},
      {"opcode 3", {0x83, 0x80, 0, 0, 0, 0}, kCloseProtocolError},
      {"opcode 0xB", {0x8B, 0x80, 0, 0, 0, 0}, kCloseProtocolError},
      {"fragmented ping", {0x09, 0x80, 0, 0, 0, 0}, kCloseProtocolError},
      {"long ping", {0x89, 0xFE, 0x00, 0x7E}, kCloseProtocolError},
      {"continuation first", {0x80, 0x80, 0, 0, 0, 0}, kCloseProtocolError},
      {"64-bit top bit", {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, kCloseProtocolError},
      {"oversized frame", {0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x15, 1, 2, 3, 4}, kCloseTooBig},  // 65557
      {"huge frame", {0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4}, kCloseTooBig},
      {"close 1-byte body", {0x88, 0x81, 0, 0, 0, 0, 0x03}, kCloseProtocolError},
      {"close code 1005", {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xED}, kCloseProtocolError},
      {"close code 999", {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE7}, kCloseProtocolError},
      {"close reason not UTF-8", {0x88, 0x83, 0, 0, 0, 0, 0x03, 0xE8, 0xFF}, kCloseInvalidData},
      {"text not UTF-8", {0x81, 0x82, 0, 0, 0, 0, 0xC0, 0x80}, kCloseInvalidData},
  };
  for (const auto& c : cases) {
    // The error is reported at the same point however the bytes are chunked.
    for (bool bytewise : {false, true}) {
      WsFrameParser p;
      std::vector<WsMessage> got;
      bool ok = true;
      if (bytewise) {
        for (uint8_t b : c.bytes) ok = ok && p.Feed(&b, 1, &got);
      } else {
        ok = p.Feed(c.bytes.data(), c.bytes.size(), &got);
      }
      EXPECT_FALSE(ok) << c.name;
      EXPECT_EQ(p.error_code(), c.code) << c.name;
      EXPECT_TRUE(got.empty()) << c.name;
      // Failed parsers stay failed.
      const Bytes good = WsFrame(WsOpcode::kBinary, "x", true, kMask);
      EXPECT_FALSE(p.Feed(good.data(), good.size(), &got)) << c.name;
      EXPECT_TRUE(got.empty()) << c.name;
    }
  }
  // The oversized frame is refused from its header alone, before any payload is buffered.
  WsFrameParser p;
  std::vector<WsMessage> got;
  Bytes header = {0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x15, 1, 2, 3, 4};
  EXPECT_FALSE(p.Feed(header.data(), header.size(), &got));
  EXPECT_EQ(p.error_code(), kCloseTooBig);
  // A masked frame from a server.
  WsFrameParser client_side(false);
  Bytes masked = WsFrame(WsOpcode::kBinary, "x", true, kMask);
  EXPECT_FALSE(client_side.Feed(masked.data(), masked.size(), &got));
  EXPECT_EQ(client_side.error_code(), kCloseProtocolError);
}

TEST(FrameParser, FragmentationErrors) {
  // A new data frame while a fragmented message is open.
  {
    WsFrameParser p;
    Bytes s = WsFrame(WsOpcode::kBinary, "a", false, kMask);
    const Bytes t = WsFrame(WsOpcode::kText, "b", true, kMask);
    s.insert(s.end(), t.begin(), t.end());
    std::vector<WsMessage> got;
    EXPECT_FALSE(p.Feed(s.data(), s.size(), &got));
    EXPECT_EQ(p.error_code(), kCloseProtocolError);
  }
  // Fragments summing to more than the limit: 1009 once the sum is exceeded.
  {
    WsFrameParser p;
    std::vector<WsMessage> got;
    const Bytes f1 = WsFrame(WsOpcode::kBinary, std::string(40000, 'a'), false, kMask);
    const Bytes f2 = WsFrame(WsOpcode::kContinuation, std::string(25556, 'b'), false, kMask);  // = limit
    const Bytes f3 = WsFrame(WsOpcode::kContinuation, "c", true, kMask);
    EXPECT_TRUE(p.Feed(f1.data(), f1.size(), &got));
    EXPECT_TRUE(p.Feed(f2.data(), f2.size(), &got));
    EXPECT_FALSE(p.Feed(f3.data(), f3.size(), &got));
    EXPECT_EQ(p.error_code(), kCloseTooBig);
    EXPECT_TRUE(got.empty());
  }
  // Exactly the limit, reassembled, is fine.
  {
    WsFrameParser p;
    std::vector<WsMessage> got;
    const Bytes f1 = WsFrame(WsOpcode::kBinary, std::string(40000, 'a'), false, kMask);
    const Bytes f2 = WsFrame(WsOpcode::kContinuation, std::string(25556, 'b'), true, kMask);
    EXPECT_TRUE(p.Feed(f1.data(), f1.size(), &got));
    EXPECT_TRUE(p.Feed(f2.data(), f2.size(), &got));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].payload.size(), kMaxMessageSize);
  }
}

TEST(FrameWriter, LengthsAndClose) {
  Bytes f = WsFrame(WsOpcode::kBinary, std::string(126, 'z'));
  EXPECT_EQ(f[0], 0x82);
  EXPECT_EQ(f[1], 126);
  EXPECT_EQ(f[2], 0);
  EXPECT_EQ(f[3], 126);
  f = WsFrame(WsOpcode::kBinary, std::string(65536, 'z'));
  EXPECT_EQ(f[1], 127);
  EXPECT_EQ(Bytes(f.begin() + 2, f.begin() + 10), Bytes({0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(WsFrame(WsOpcode::kText, "a", false)[0], 0x01);
  // A close frame's reason is cut to 123 bytes at a character boundary.
  std::string reason;
  for (int i = 0; i < 70; ++i) reason += "\xc3\xa9";  // 140 bytes
  Bytes c = WsCloseFrame(1002, reason);
  EXPECT_EQ(c[0], 0x88);
  EXPECT_EQ(c[1], 2 + 122);
  EXPECT_EQ(c[2], 0x03);
  EXPECT_EQ(c[3], 0xEA);
  EXPECT_TRUE(IsValidUtf8(c.data() + 4, c.size() - 4));
}

TEST(Utf8, Validity) {
  auto v = [](const std::string& s) { return IsValidUtf8(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  EXPECT_TRUE(v(""));
  EXPECT_TRUE(v("plain"));
  EXPECT_TRUE(v("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_TRUE(v("\xf4\x8f\xbf\xbf"));                       // U+10FFFF
  EXPECT_FALSE(v("\xc0\xaf"));                              // overlong
  EXPECT_FALSE(v("\xe0\x80\xaf"));                          // overlong
  EXPECT_FALSE(v("\xed\xa0\x80"));                          // surrogate
  EXPECT_FALSE(v("\xf4\x90\x80\x80"));                      // > U+10FFFF
  EXPECT_FALSE(v("\xe2\x82"));                              // truncated
  EXPECT_FALSE(v("\x80"));
  EXPECT_FALSE(v("\xff"));
}

// ---- datagram header ----------------------------------------------------------------------------

TEST(DatagramHeader, EncodeDecodeV4) {
  DatagramHeader h;
  h.socket_id = 3;
  h.family = 4;
  h.port = 0xBEEF;
  h.addr = {192, 0, 2, 7};
  Bytes out;
  const std::string payload = "payload";
  AppendDatagram(h, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), &out);
  EXPECT_EQ(out, Bytes({3, 4, 0xBE, 0xEF, 192, 0, 2, 7, 'p', 'a', 'y', 'l', 'o', 'a', 'd'}));
  DatagramHeader d;
  const uint8_t* p = nullptr;
  size_t n = 0;
  std::string error;
  ASSERT_TRUE(DecodeDatagram(out.data(), out.size(), &d, &p, &n, &error)) << error;
  EXPECT_EQ(d.socket_id, 3);
  EXPECT_EQ(d.family, 4);
  EXPECT_EQ(d.port, 0xBEEF);
  EXPECT_EQ(Bytes(d.addr.begin(), d.addr.begin() + 4), Bytes({192, 0, 2, 7}));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(p), n), payload);
  // Empty payload.
  ASSERT_TRUE(DecodeDatagram(out.data(), 8, &d, &p, &n, &error));
  EXPECT_EQ(n, 0u);
}

TEST(DatagramHeader, EncodeDecodeV6) {
  DatagramHeader h;
  h.socket_id = 1;
  h.family = 6;
  h.port = 5000;
  for (int i = 0; i < 16; ++i) h.addr[i] = static_cast<uint8_t>(0x20 + i);
  Bytes out;
  const uint8_t payload[3] = {0, 1, 2};
  AppendDatagram(h, payload, 3, &out);
  ASSERT_EQ(out.size(), 20u + 3);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], 6);
  EXPECT_EQ(out[2], 5000 >> 8);
  EXPECT_EQ(out[3], 5000 & 0xff);
  EXPECT_EQ(out[4], 0x20);
  EXPECT_EQ(out[19], 0x2F);
  DatagramHeader d;
  const uint8_t* p = nullptr;
  size_t n = 0;
  std::string error;
  ASSERT_TRUE(DecodeDatagram(out.data(), out.size(), &d, &p, &n, &error));
  EXPECT_EQ(d.family, 6);
  EXPECT_EQ(d.port, 5000);
  EXPECT_EQ(d.addr, h.addr);
  EXPECT_EQ(Bytes(p, p + n), Bytes({0, 1, 2}));
}

TEST(DatagramHeader, Malformed) {
  DatagramHeader d;
  const uint8_t* p = nullptr;
  size_t n = 0;
  std::string error;
  auto fails = [&](const Bytes& b, const std::string& needle) {
    error.clear();
    EXPECT_FALSE(DecodeDatagram(b.data(), b.size(), &d, &p, &n, &error));
    EXPECT_NE(error.find(needle), std::string::npos) << error;
  };
  fails({}, "short");
  fails({0}, "short");
  fails({0, 5, 0, 1, 1, 2, 3, 4}, "family");
  fails({0, 0, 0, 1, 1, 2, 3, 4}, "family");
  fails({0, 4, 0, 1, 127, 0, 0}, "short");
  Bytes short6(19, 0);
  short6[1] = 6;
  fails(short6, "short");
  Bytes big(8 + kMaxUdpPayload + 1, 0);
  big[1] = 4;
  fails(big, "too large");
  big.pop_back();
  EXPECT_TRUE(DecodeDatagram(big.data(), big.size(), &d, &p, &n, &error));
  EXPECT_EQ(n, kMaxUdpPayload);
  Bytes big6(20 + kMaxUdpPayload + 1, 0);
  big6[1] = 6;
  fails(big6, "too large");
}

// ---- end to end against the binary ----------------------------------------------------------------

constexpr int kTimeoutMs = 10000;

// Waits for `events` on fd; false on timeout.
bool WaitFd(int fd, short events, int timeout_ms = kTimeoutMs) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

class RelayProcess {
 public:
  explicit RelayProcess(std::vector<std::string> args) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::vector<std::string> all = {REFRTC_RELAY_BIN};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, REFRTC_RELAY_BIN, &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    stdout_fd_ = out[0];
  }
  ~RelayProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
  }
  // The first stdout line (the start line), or "" on timeout / exit.
  std::string ReadLine() {
    std::string line;
    char c;
    while (WaitFd(stdout_fd_, POLLIN) && read(stdout_fd_, &c, 1) == 1) {
      if (c == '\n') return line;
      line += c;
    }
    return "";
  }
  // Sends SIGTERM and waits (poll-bounded) for the process to exit; its exit status, or -1.
  int Terminate() {
    kill(pid_, SIGTERM);
    // The process's stdout reaching EOF means it is exiting; then waitpid does not block long.
    char buf[256];
    while (true) {
      if (!WaitFd(stdout_fd_, POLLIN | POLLHUP)) return -1;
      if (read(stdout_fd_, buf, sizeof buf) <= 0) break;
    }
    int status = 0;
    if (waitpid(pid_, &status, 0) != pid_) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
};

// A raw WebSocket client over a blocking TCP socket; every read waits with poll().
class TestWsClient {
 public:
  explicit TestWsClient(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~TestWsClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return connected_; }
  void SendRaw(const Bytes& b) { SendRaw(S(b)); }
  void SendRaw(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  // Sends the upgrade request; returns the response head (status line + headers).
  std::string Upgrade(const std::string& target, const std::string& key = "dGhlIHNhbXBsZSBub25jZQ==",
                      const std::string& version = "13") {
    SendRaw(Request(target, "", key, version));
    while (FindHeadEnd(buffer_) == std::string::npos) {
      if (!Fill()) return buffer_;
    }
    const size_t end = FindHeadEnd(buffer_);
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end);
    return head;
  }
  // Reads whatever is left until EOF; true when EOF came within the timeout.
  bool ReadToEof(std::string* rest = nullptr) {
    while (true) {
      if (!WaitFd(fd_, POLLIN)) return false;
      char buf[65536];
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n == 0) break;
      if (n < 0) return errno == ECONNRESET;
      buffer_.append(buf, static_cast<size_t>(n));
    }
    if (rest) *rest = buffer_;
    return true;
  }
  // The next message from the relay, or nullopt on timeout / EOF / protocol error.
  std::optional<WsMessage> Next(int timeout_ms = kTimeoutMs) {
    while (pending_.empty()) {
      if (!buffer_.empty()) {
        std::string b;
        b.swap(buffer_);
        if (!parser_.Feed(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &pending_)) return std::nullopt;
        continue;
      }
      if (!Fill(timeout_ms)) return std::nullopt;
    }
    WsMessage m = std::move(pending_.front());
    pending_.erase(pending_.begin());
    return m;
  }
  void Send(WsOpcode op, const Bytes& payload, bool fin = true) {
    Bytes f;
    AppendWsFrame(op, payload.data(), payload.size(), &f, fin, kMask);
    SendRaw(f);
  }
  void SendDatagram(uint8_t id, uint8_t family, uint16_t port, const std::array<uint8_t, 16>& addr,
                    const Bytes& payload) {
    DatagramHeader h;
    h.socket_id = id;
    h.family = family;
    h.port = port;
    h.addr = addr;
    Bytes b;
    AppendDatagram(h, payload.data(), payload.size(), &b);
    Send(WsOpcode::kBinary, b);
  }
  int fd() const { return fd_; }

 private:
  bool Fill(int timeout_ms = kTimeoutMs) {
    if (!WaitFd(fd_, POLLIN, timeout_ms)) return false;
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
  WsFrameParser parser_{/*from_client=*/false};
  std::vector<WsMessage> pending_;
};

// A UDP socket owned by the test, bound to addr:0.
struct TestUdp {
  int fd = -1;
  IpAddress local;
  explicit TestUdp(const std::string& ip) {
    auto a = ParseIp(ip);
    fd = socket(a->family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a->ss), a->len) != 0) {
      if (fd >= 0) close(fd);
      fd = -1;
      return;
    }
    local.len = sizeof local.ss;
    getsockname(fd, reinterpret_cast<sockaddr*>(&local.ss), &local.len);
  }
  ~TestUdp() {
    if (fd >= 0) close(fd);
  }
  std::array<uint8_t, 16> AddrBytes() const {
    std::array<uint8_t, 16> out{};
    if (local.family() == AF_INET) {
      std::memcpy(out.data(), &reinterpret_cast<const sockaddr_in*>(&local.ss)->sin_addr, 4);
    } else {
      std::memcpy(out.data(), &reinterpret_cast<const sockaddr_in6*>(&local.ss)->sin6_addr, 16);
    }
    return out;
  }
  // Receives one datagram (poll-bounded); nullopt on timeout.
  std::optional<std::pair<Bytes, IpAddress>> Recv(int timeout_ms = kTimeoutMs) {
    if (!WaitFd(fd, POLLIN, timeout_ms)) return std::nullopt;
    Bytes buf(65536);
    IpAddress from;
    from.len = sizeof from.ss;
    const ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from.ss), &from.len);
    if (n < 0) return std::nullopt;
    buf.resize(static_cast<size_t>(n));
    return std::make_pair(buf, from);
  }
  void SendTo(const IpAddress& to, const Bytes& payload) {
    sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&to.ss), to.len);
  }
};

// Local addresses of the UDP sockets using `port` in /proc/net/udp{,6}, as "hexaddr" strings.
std::vector<std::string> ProcUdpLocalAddresses(uint16_t port) {
  std::vector<std::string> out;
  for (const char* file : {"/proc/net/udp", "/proc/net/udp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream ss(line);
      std::string sl, local;
      ss >> sl >> local;
      const size_t colon = local.find(':');
      if (colon == std::string::npos) continue;
      if (std::stoul(local.substr(colon + 1), nullptr, 16) == port) out.push_back(local.substr(0, colon));
    }
  }
  return out;
}

struct StartedRelay {
  std::unique_ptr<RelayProcess> process;
  nlohmann::json start_line;
  uint16_t port = 0;
};

StartedRelay StartRelay(std::vector<std::string> args) {
  StartedRelay r;
  r.process = std::make_unique<RelayProcess>(std::move(args));
  const std::string line = r.process->ReadLine();
  r.start_line = nlohmann::json::parse(line, nullptr, false);
  if (!r.start_line.is_discarded() && r.start_line.contains("listen")) {
    auto a = ParseHostPort(r.start_line["listen"].get<std::string>());
    if (a) r.port = a->port();
  }
  return r;
}

// Upgrades and reads the ready message; returns the parsed ready JSON (or null).
nlohmann::json Open(TestWsClient& ws, const std::string& token, std::string* raw = nullptr) {
  const std::string head = ws.Upgrade("/v1?token=" + token);
  EXPECT_EQ(head.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos) << head;
  auto ready = ws.Next();
  if (!ready || ready->opcode != WsOpcode::kText) return nullptr;
  if (raw) *raw = S(ready->payload);
  return nlohmann::json::parse(S(ready->payload), nullptr, false);
}

TEST(RelayEndToEnd, DatagramsBothWays) {
  auto relay = StartRelay({"--listen", "127.0.0.1:0", "--token", "s3cret", "--udp-bind", "127.0.0.1"});
  ASSERT_NE(relay.port, 0) << "start line: " << relay.start_line.dump();
  // The start line: the real port, the token, the UDP addresses.
  EXPECT_EQ(relay.start_line.dump(), "{\"listen\":\"127.0.0.1:" + std::to_string(relay.port) +
                                         "\",\"token\":\"s3cret\",\"udp\":[\"127.0.0.1\"]}");

  // Refused handshakes: each answered, then the connection closes.
  struct Refusal {
    std::string target, version, status_line;
  };
  for (const auto& r : std::vector<Refusal>{
           {"/v1?token=wrong", "13", "HTTP/1.1 401 Unauthorized\r\n"},
           {"/v1", "13", "HTTP/1.1 401 Unauthorized\r\n"},
           {"/v1?token=s3cre", "13", "HTTP/1.1 401 Unauthorized\r\n"},
           {"/other?token=s3cret", "13", "HTTP/1.1 404 Not Found\r\n"},
           {"/v1?token=s3cret", "8", "HTTP/1.1 426 Upgrade Required\r\n"}}) {
    TestWsClient bad(relay.port);
    ASSERT_TRUE(bad.connected());
    const std::string head = bad.Upgrade(r.target, "dGhlIHNhbXBsZSBub25jZQ==", r.version);
    EXPECT_EQ(head.rfind(r.status_line, 0), 0u) << r.target << ": " << head;
    EXPECT_TRUE(bad.ReadToEof()) << r.target;
  }
  {
    TestWsClient plain(relay.port);
    plain.SendRaw("GET /v1?token=s3cret HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string rest;
    ASSERT_TRUE(plain.ReadToEof(&rest));
    EXPECT_EQ(rest.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << rest;
  }

  TestWsClient ws(relay.port);
  ASSERT_TRUE(ws.connected());
  std::string ready_text;
  nlohmann::json ready = Open(ws, "s3cret", &ready_text);
  ASSERT_TRUE(ready.is_object());
  ASSERT_EQ(ready["sockets"].size(), 1u);
  const uint16_t relay_udp_port = ready["sockets"][0]["port"].get<uint16_t>();
  EXPECT_EQ(ready_text, "{\"type\":\"ready\",\"version\":1,\"sockets\":[{\"id\":0,\"ip\":\"127.0.0.1\",\"port\":" +
                              std::to_string(relay_udp_port) + "}]}");
  // The relay's UDP socket is bound to 127.0.0.1 only (0100007F in /proc/net/udp), not 0.0.0.0.
  EXPECT_EQ(ProcUdpLocalAddresses(relay_udp_port), std::vector<std::string>{"0100007F"});

  // Client → relay → UDP peer.
  TestUdp peer("127.0.0.1");
  ASSERT_GE(peer.fd, 0);
  ws.SendDatagram(0, 4, peer.local.port(), peer.AddrBytes(), B("hello"));
  auto got = peer.Recv();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(S(got->first), "hello");
  EXPECT_EQ(got->second.HostPort(), "127.0.0.1:" + std::to_string(relay_udp_port));
  // UDP peer → relay → client, with the peer's address as the source.
  peer.SendTo(got->second, B("world"));
  auto m = ws.Next();
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->opcode, WsOpcode::kBinary);
  DatagramHeader h;
  const uint8_t* payload = nullptr;
  size_t payload_size = 0;
  std::string error;
  ASSERT_TRUE(DecodeDatagram(m->payload.data(), m->payload.size(), &h, &payload, &payload_size, &error));
  EXPECT_EQ(h.socket_id, 0);
  EXPECT_EQ(h.family, 4);
  EXPECT_EQ(h.port, peer.local.port());
  EXPECT_EQ(Bytes(h.addr.begin(), h.addr.begin() + 4), Bytes({127, 0, 0, 1}));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(payload), payload_size), "world");

  // A large datagram sent as a fragmented message, both ways.
  {
    Bytes big(60000);
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 13);
    Bytes framed;
    DatagramHeader to;
    to.family = 4;
    to.port = peer.local.port();
    to.addr = peer.AddrBytes();
    AppendDatagram(to, big.data(), big.size(), &framed);
    const size_t half = framed.size() / 2;
    ws.Send(WsOpcode::kBinary, Bytes(framed.begin(), framed.begin() + half), false);
    ws.Send(WsOpcode::kPing, B("mid"));
    ws.Send(WsOpcode::kContinuation, Bytes(framed.begin() + half, framed.end()), true);
    auto pong = ws.Next();
    ASSERT_TRUE(pong.has_value());
    EXPECT_EQ(pong->opcode, WsOpcode::kPong);
    EXPECT_EQ(S(pong->payload), "mid");
    auto big_got = peer.Recv();
    ASSERT_TRUE(big_got.has_value());
    EXPECT_EQ(big_got->first, big);
    peer.SendTo(big_got->second, big);
    auto back = ws.Next();
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(back->payload.size(), 8 + big.size());
    EXPECT_EQ(Bytes(back->payload.begin() + 8, back->payload.end()), big);
  }

  // Malformed datagrams: an error message each, and the connection stays up.
  auto expect_error = [&](const Bytes& frame_payload, const std::string& needle) {
    ws.Send(WsOpcode::kBinary, frame_payload);
    auto e = ws.Next();
    ASSERT_TRUE(e.has_value()) << needle;
    ASSERT_EQ(e->opcode, WsOpcode::kText) << needle;
    auto j = nlohmann::json::parse(S(e->payload), nullptr, false);
    ASSERT_TRUE(j.is_object()) << S(e->payload);
    EXPECT_EQ(j["type"], "error");
    EXPECT_NE(j["message"].get<std::string>().find(needle), std::string::npos) << j.dump();
  };
  expect_error({0, 4, 0}, "short");
  expect_error({7, 4, 0, 9, 127, 0, 0, 1, 'x'}, "bad socket id 7");
  expect_error({0, 5, 0, 9, 127, 0, 0, 1, 'x'}, "family");
  Bytes v6_on_v4(20, 0);
  v6_on_v4[1] = 6;
  expect_error(v6_on_v4, "does not match");
  Bytes too_big(8 + kMaxUdpPayload + 1, 0);
  too_big[1] = 4;
  expect_error(too_big, "too large");
  // A send that fails (port 0) is dropped silently; the connection still relays afterwards.
  ws.SendDatagram(0, 4, 0, peer.AddrBytes(), B("nowhere"));
  ws.SendDatagram(0, 4, peer.local.port(), peer.AddrBytes(), B("still up"));
  got = peer.Recv();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(S(got->first), "still up");

  // Closing: the relay answers with the same code, closes TCP and the UDP socket.
  ws.Send(WsOpcode::kClose, {0x03, 0xE8});
  auto close_reply = ws.Next();
  ASSERT_TRUE(close_reply.has_value());
  EXPECT_EQ(close_reply->opcode, WsOpcode::kClose);
  EXPECT_EQ(close_reply->payload, Bytes({0x03, 0xE8}));
  EXPECT_TRUE(ws.ReadToEof());
  EXPECT_TRUE(ProcUdpLocalAddresses(relay_udp_port).empty());
  EXPECT_EQ(relay.process->Terminate(), 0);
}

TEST(RelayEndToEnd, UnmaskedFrameClosesWith1002) {
  auto relay = StartRelay({"--listen", "127.0.0.1:0", "--token", "t"});
  ASSERT_NE(relay.port, 0);
  TestWsClient ws(relay.port);
  ASSERT_TRUE(Open(ws, "t").is_object());
  ws.SendRaw(WsFrame(WsOpcode::kBinary, "unmasked"));
  auto m = ws.Next();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->opcode, WsOpcode::kClose);
  ASSERT_GE(m->payload.size(), 2u);
  EXPECT_EQ(m->payload[0] << 8 | m->payload[1], 1002);
  EXPECT_TRUE(ws.ReadToEof());
}

TEST(RelayEndToEnd, OversizedFrameClosesWith1009) {
  auto relay = StartRelay({"--listen", "127.0.0.1:0", "--token", "t"});
  ASSERT_NE(relay.port, 0);
  TestWsClient ws(relay.port);
  ASSERT_TRUE(Open(ws, "t").is_object());
  // Only the header of a 1 GiB frame: the relay refuses without waiting for the payload.
  ws.SendRaw(Bytes({0x82, 0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4}));
  auto m = ws.Next();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->opcode, WsOpcode::kClose);
  ASSERT_GE(m->payload.size(), 2u);
  EXPECT_EQ(m->payload[0] << 8 | m->payload[1], 1009);
  EXPECT_TRUE(ws.ReadToEof());
}

TEST(RelayEndToEnd, GarbageAndSlowHandshakesDoNotBlockOthers) {
  auto relay = StartRelay({"--listen", "127.0.0.1:0", "--token", "t"});
  ASSERT_NE(relay.port, 0);
  // A connection that sends half a request and stalls, one that sends binary garbage, one that
  // sends an endless head.
  TestWsClient stalled(relay.port);
  stalled.SendRaw("GET /v1?token=t HTTP/1.1\r\nHost: x\r\n");
  TestWsClient garbage(relay.port);
  garbage.SendRaw(std::string("\x16\x03\x01\x00\xff\r\n\r\n", 9));
  std::string rest;
  ASSERT_TRUE(garbage.ReadToEof(&rest));
  EXPECT_EQ(rest.rfind("HTTP/1.1 400 ", 0), 0u);
  TestWsClient endless(relay.port);
  endless.SendRaw("GET /v1?token=t HTTP/1.1\r\nX: " + std::string(10000, 'a'));
  ASSERT_TRUE(endless.ReadToEof(&rest));
  EXPECT_EQ(rest.rfind("HTTP/1.1 400 ", 0), 0u);
  // Meanwhile a real client works.
  TestWsClient ws(relay.port);
  EXPECT_TRUE(Open(ws, "t").is_object());
}

TEST(RelayEndToEnd, MaxClients) {
  auto relay = StartRelay({"--listen", "127.0.0.1:0", "--token", "t", "--max-clients", "1"});
  ASSERT_NE(relay.port, 0);
  auto first = std::make_unique<TestWsClient>(relay.port);
  ASSERT_TRUE(Open(*first, "t").is_object());
  {
    TestWsClient second(relay.port);
    const std::string head = second.Upgrade("/v1?token=t");
    EXPECT_EQ(head.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << head;
  }
  // After the first closes (close handshake done), there is room again.
  first->Send(WsOpcode::kClose, {});
  auto reply = first->Next();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->opcode, WsOpcode::kClose);
  TestWsClient third(relay.port);
  EXPECT_TRUE(Open(third, "t").is_object());
}

TEST(RelayEndToEnd, Ipv6Listener) {
  TestUdp probe6("::1");
  if (probe6.fd < 0) GTEST_SKIP() << "no IPv6 loopback";
  auto relay = StartRelay({"--listen", "[::1]:0", "--token", "t", "--udp-bind", "127.0.0.1", "--udp-bind", "::1"});
  ASSERT_NE(relay.port, 0) << relay.start_line.dump();
  EXPECT_EQ(relay.start_line["udp"], nlohmann::json::parse("[\"127.0.0.1\",\"::1\"]"));
  EXPECT_EQ(relay.start_line["listen"].get<std::string>().rfind("[::1]:", 0), 0u);
  // The listener accepts on ::1 (the TestWsClient itself speaks IPv4; see Ipv6UdpSocket).
  int fd6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(relay.port);
  a.sin6_addr = in6addr_loopback;
  ASSERT_EQ(connect(fd6, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  close(fd6);
}

TEST(RelayEndToEnd, Ipv6UdpSocket) {
  TestUdp peer6("::1");
  if (peer6.fd < 0) GTEST_SKIP() << "no IPv6 loopback";
  auto relay = StartRelay({"--listen", "127.0.0.1:0", "--token", "t", "--udp-bind", "127.0.0.1", "--udp-bind", "::1"});
  ASSERT_NE(relay.port, 0);
  TestWsClient ws(relay.port);
  auto ready = Open(ws, "t");
  ASSERT_TRUE(ready.is_object());
  ASSERT_EQ(ready["sockets"].size(), 2u);
  EXPECT_EQ(ready["sockets"][1]["id"], 1);
  EXPECT_EQ(ready["sockets"][1]["ip"], "::1");
  const uint16_t port6 = ready["sockets"][1]["port"].get<uint16_t>();
  // ::1 in /proc/net/udp6 (four little-endian 32-bit words).
  EXPECT_EQ(ProcUdpLocalAddresses(port6), std::vector<std::string>{"00000000000000000000000001000000"});
  ws.SendDatagram(1, 6, peer6.local.port(), peer6.AddrBytes(), B("v6"));
  auto got = peer6.Recv();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(S(got->first), "v6");
  EXPECT_EQ(got->second.HostPort(), "[::1]:" + std::to_string(port6));
  peer6.SendTo(got->second, B("back"));
  auto m = ws.Next();
  ASSERT_TRUE(m.has_value());
  DatagramHeader h;
  const uint8_t* payload = nullptr;
  size_t n = 0;
  std::string error;
  ASSERT_TRUE(DecodeDatagram(m->payload.data(), m->payload.size(), &h, &payload, &n, &error));
  EXPECT_EQ(h.socket_id, 1);
  EXPECT_EQ(h.family, 6);
  EXPECT_EQ(h.port, peer6.local.port());
  EXPECT_EQ(h.addr, peer6.AddrBytes());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(payload), n), "back");
}

TEST(RelayEndToEnd, SlowClientDropsWholeDatagramsAndOthersKeepGoing) {
  auto relay = StartRelay({"--listen", "127.0.0.1:0", "--token", "t"});
  ASSERT_NE(relay.port, 0);
  TestWsClient slow(relay.port);
  auto ready = Open(slow, "t");
  ASSERT_TRUE(ready.is_object());
  IpAddress relay_udp = *ParseHostPort("127.0.0.1:" + std::to_string(ready["sockets"][0]["port"].get<int>()));
  // Far more than the 4 MiB buffer plus the TCP buffers, while the client reads nothing.
  TestUdp peer("127.0.0.1");
  constexpr uint32_t kCount = 30000;
  Bytes d(1200, 0xAB);
  for (uint32_t i = 0; i < kCount; ++i) {
    d[0] = static_cast<uint8_t>(i >> 24);
    d[1] = static_cast<uint8_t>(i >> 16);
    d[2] = static_cast<uint8_t>(i >> 8);
    d[3] = static_cast<uint8_t>(i);
    if (!WaitFd(peer.fd, POLLOUT)) break;
    peer.SendTo(relay_udp, d);
  }
  // The relay is not blocked: another client is served meanwhile.
  {
    TestWsClient other(relay.port);
    EXPECT_TRUE(Open(other, "t").is_object());
  }
  // The slow client then reads intact frames with increasing sequence numbers (gaps = drops).
  int64_t last = -1;
  uint32_t received = 0;
  while (auto m = slow.Next(2000)) {
    ASSERT_EQ(m->opcode, WsOpcode::kBinary);
    ASSERT_EQ(m->payload.size(), 8u + d.size());
    const uint32_t seq = static_cast<uint32_t>(m->payload[8]) << 24 | m->payload[9] << 16 |
                         m->payload[10] << 8 | m->payload[11];
    ASSERT_GT(static_cast<int64_t>(seq), last);
    last = seq;
    ++received;
    if (seq == kCount - 1) break;
  }
  EXPECT_GT(received, 100u);
  EXPECT_LT(received, kCount);  // 36 MB cannot all have been buffered for a client reading nothing
  // And it still relays afterwards.
  d[0] = d[1] = d[2] = d[3] = 0xFF;
  peer.SendTo(relay_udp, d);
  auto m = slow.Next();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload[8], 0xFF);
}

}  // namespace
}  // namespace refrtc::relay
