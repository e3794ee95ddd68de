// Placeholder substitution for ${turn.*}/${stun.*} and the coturn child process (turn_server.h).
#include "turn_server.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace refrtc::harness {
namespace {

using json = nlohmann::json;

const std::map<std::string, std::string> kValues = {
    {"turn.host", "127.0.0.1"}, {"turn.port", "3478"}, {"turn.username", "u"},
    {"turn.credential", "p"},   {"stun.host", "127.0.0.1"}, {"stun.port", "3478"}};

TEST(TurnPlaceholders, SubstitutesRecursivelyInStrings) {
  json j = json::parse(R"({"iceServers": [{"urls": ["turn:${turn.host}:${turn.port}?transport=udp",
                             "stun:${stun.host}:${stun.port}"], "username": "${turn.username}",
                             "credential": "x${turn.credential}x"}], "n": 5, "${turn.host}": true})");
  ASSERT_TRUE(SubstitutePlaceholders(&j, kValues).ok());
  EXPECT_EQ(j["iceServers"][0]["urls"][0], "turn:127.0.0.1:3478?transport=udp");
  EXPECT_EQ(j["iceServers"][0]["urls"][1], "stun:127.0.0.1:3478");
  EXPECT_EQ(j["iceServers"][0]["username"], "u");
  EXPECT_EQ(j["iceServers"][0]["credential"], "xpx");
  EXPECT_EQ(j["n"], 5);
  EXPECT_TRUE(j.contains("${turn.host}"));  // keys are not rewritten
}

TEST(TurnPlaceholders, UnknownServerPlaceholderIsAnErrorOthersStay) {
  std::string s = "${turn.hostname}";
  EXPECT_FALSE(SubstitutePlaceholders(&s, kValues).ok());
  std::string other = "a ${var} b ${turn.port} ${unterminated";
  ASSERT_TRUE(SubstitutePlaceholders(&other, kValues).ok());
  EXPECT_EQ(other, "a ${var} b 3478 ${unterminated");
}

TEST(TurnPlaceholders, ScenarioDetectionAndSubstitution) {
  auto sc = ParseScenario(R"({"format": 1, "name": "t", "config": {"iceServers": [{"urls": "stun:${stun.host}:${stun.port}"}]},
    "steps": [{"do": "createPeerConnection", "on": "A", "args": {"config": {"iceServers": [{"urls": ["turn:${turn.host}:${turn.port}"],
      "username": "${turn.username}", "credential": "${turn.credential}"}], "iceTransportPolicy": "relay"}}},
              {"connect": {"channels": [{"name": "dc"}], "config": {"iceServers": [{"urls": "turn:${turn.host}"}]}}}]})");
  ASSERT_TRUE(sc.ok()) << sc.status();
  EXPECT_TRUE(ScenarioUsesServers(*sc));
  ASSERT_TRUE(SubstituteServers(&*sc, kValues).ok());
  EXPECT_FALSE(ScenarioUsesServers(*sc));
  EXPECT_EQ(sc->config["iceServers"][0]["urls"], "stun:127.0.0.1:3478");
  EXPECT_EQ(sc->steps[0].args["config"]["iceServers"][0]["urls"][0], "turn:127.0.0.1:3478");
  EXPECT_EQ(sc->steps[0].args["config"]["iceServers"][0]["credential"], "p");
  EXPECT_EQ(sc->steps[1].config["iceServers"][0]["urls"], "turn:127.0.0.1");

  auto plain = ParseScenario(R"({"format": 1, "name": "p", "steps": [{"do": "createPeerConnection", "on": "A"}]})");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(ScenarioUsesServers(*plain));

  auto bad = ParseScenario(R"({"format": 1, "name": "b", "steps": [{"do": "createPeerConnection", "on": "A",
    "args": {"config": {"iceServers": [{"urls": "turn:${turn.address}"}]}}}]})");
  ASSERT_TRUE(bad.ok());
  auto st = SubstituteServers(&*bad, kValues);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("step 1"), std::string::npos);
}

TEST(TurnServerProcess, StartsAnswersAndStops) {
  std::string bin = TurnServerProcess::FindBinary();
  if (bin.empty()) GTEST_SKIP() << "coturn (turnserver) not installed";
  std::string dir = ::testing::TempDir() + "/refrtc-turn-test";
  mkdir(dir.c_str(), 0755);
  auto p = TurnServerProcess::Start(bin, dir + "/turnserver.log", dir);
  ASSERT_TRUE(p.ok()) << p.status();
  const TurnServerInfo& info = (*p)->info();
  EXPECT_NE(info.port, 0);
  EXPECT_EQ(info.host, "127.0.0.1");
  EXPECT_GE(info.username.size(), 8u);
  EXPECT_GE(info.credential.size(), 16u);
  auto ph = info.Placeholders();
  EXPECT_EQ(ph["turn.port"], std::to_string(info.port));
  EXPECT_EQ(ph["stun.port"], std::to_string(info.port));
  pid_t pid = (*p)->pid();
  ASSERT_GT(pid, 0);
  EXPECT_EQ(kill(pid, 0), 0);
  (*p)->Stop();
  EXPECT_EQ((*p)->pid(), -1);
  EXPECT_NE(kill(pid, 0), 0);  // reaped: gone
  // A second server gets other credentials.
  auto q = TurnServerProcess::Start(bin, dir + "/turnserver2.log", dir);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_NE((*q)->info().credential, info.credential);
}

}  // namespace
}  // namespace refrtc::harness
