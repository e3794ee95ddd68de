// DriverProcess and the runner's robustness: a driver that cannot start, crashes, hangs or talks
// garbage fails its cell with a reason; the harness never hangs.
#include "driver_process.h"

#include <poll.h>

#include <chrono>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "runner.h"
#include "scenario.h"

namespace refrtc::harness {
namespace {

using Clock = std::chrono::steady_clock;

// Polls the process's stdout until a line arrives or EOF.
std::vector<std::string> ReadLines(DriverProcess& p, size_t want) {
  std::vector<std::string> lines;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (lines.size() < want && Clock::now() < deadline) {
    struct pollfd fd = {p.stdout_fd(), POLLIN, 0};
    if (p.stdout_fd() < 0 || poll(&fd, 1, 1000) < 0) break;
    if (!p.OnStdoutReadable(&lines)) break;
  }
  return lines;
}

TEST(DriverProcess, EchoesLinesThroughPipes) {
  auto p = DriverProcess::Start({"cat"});
  ASSERT_TRUE(p.ok()) << p.status();
  (*p)->QueueLine(R"({"id": 1})");
  (*p)->QueueLine("second");
  auto lines = ReadLines(**p, 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], R"({"id": 1})");
  EXPECT_EQ(lines[1], "second");
  (*p)->CloseStdin();
  EXPECT_TRUE(ReadLines(**p, 3).size() == 0);  // EOF after cat exits
}

TEST(DriverProcess, MissingProgramIsNotFound) {
  auto p = DriverProcess::Start({"/nonexistent/refrtc_driver"});
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(absl::IsNotFound(p.status())) << p.status();
}

TEST(DriverProcess, ReportsExitStatusAndStderr) {
  auto p = DriverProcess::Start({"sh", "-c", "echo boom >&2; exit 7"});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(ReadLines(**p, 1).empty());
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    struct pollfd fd = {(*p)->stderr_fd(), POLLIN, 0};
    if ((*p)->stderr_fd() < 0) break;
    poll(&fd, 1, 1000);
    if (!(*p)->OnStderrReadable()) break;
  }
  EXPECT_EQ((*p)->stderr_log(), "boom\n");
  std::string how;
  for (int i = 0; i < 1000 && !(*p)->Exited(&how); ++i) poll(nullptr, 0, 5);
  EXPECT_EQ(how, "exited with status 7");
}

Scenario HelloOnly(int64_t timeout_ms) {
  auto sc = ParseScenario(R"({"format": 1, "name": "hello", "timeoutMs": )" + std::to_string(timeout_ms) +
                          R"(, "steps": [{"do": "getStats", "on": "A", "expectError": "NotFoundError"}]})");
  EXPECT_TRUE(sc.ok()) << sc.status();
  return *sc;
}

TEST(Runner, HungDriverFailsWithTimeoutAndIsKilled) {
  DriverSpec hung{"hung", {"sh", "-c", "exec sleep 1000"}, "", ""};
  auto t0 = Clock::now();
  CellResult r = RunCell(HelloOnly(400), hung, hung, RunOptions{});
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  EXPECT_EQ(r.status, "fail");
  EXPECT_TRUE(absl::StrContains(r.reason, "timeout")) << r.reason;
  EXPECT_LT(ms, 5000);
}

TEST(Runner, CrashingDriverFailsWithExitStatus) {
  DriverSpec crash{"crash", {"sh", "-c", "read line; echo 'driver exploded' >&2; exit 3"}, "", ""};
  CellResult r = RunCell(HelloOnly(10000), crash, crash, RunOptions{});
  EXPECT_EQ(r.status, "fail");
  EXPECT_TRUE(absl::StrContains(r.reason, "exited with status 3")) << r.reason;
  EXPECT_TRUE(absl::StrContains(r.reason, "driver exploded")) << r.reason;
}

TEST(Runner, MissingDriverFailsCell) {
  DriverSpec missing{"ghost", {"/nonexistent/driver"}, "", ""};
  DriverSpec marked{"ghost2", {"x"}, "", "not built"};
  EXPECT_EQ(RunCell(HelloOnly(1000), missing, missing, RunOptions{}).status, "fail");
  CellResult r = RunCell(HelloOnly(1000), marked, marked, RunOptions{});
  EXPECT_EQ(r.status, "fail");
  EXPECT_TRUE(absl::StrContains(r.reason, "not built")) << r.reason;
}

// A scripted fake driver in sh: answers hello, then gets a NotFoundError for getStats as the
// scenario expects; everything else is ignored.
TEST(Runner, ScriptedDriverPassesAndKnownIssueMarksXfail) {
  const char* script =
      "while read -r line; do "
      "id=$(echo \"$line\" | sed -n 's/.*\"id\":\\([0-9]*\\).*/\\1/p'); "
      "case \"$line\" in "
      "*'\"hello\"'*) echo \"{\\\"id\\\":$id,\\\"ok\\\":true,\\\"result\\\":{\\\"name\\\":\\\"fake\\\",\\\"protocol\\\":1}}\";; "
      "*'\"getStats\"'*) echo \"{\\\"id\\\":$id,\\\"ok\\\":false,\\\"error\\\":{\\\"name\\\":\\\"NotFoundError\\\"}}\";; "
      "*'\"shutdown\"'*) echo \"{\\\"id\\\":$id,\\\"ok\\\":true,\\\"result\\\":{}}\"; exit 0;; "
      "esac; done";
  DriverSpec fake{"fake", {"sh", "-c", script}, "", ""};
  CellResult r = RunCell(HelloOnly(10000), fake, fake, RunOptions{});
  EXPECT_EQ(r.status, "pass") << r.reason;
  ASSERT_EQ(r.hello.size(), 2u);
  EXPECT_EQ(r.hello[0]["name"], "fake");

  auto sc = ParseScenario(R"({"format": 1, "name": "x", "knownIssues": [{"peer": "fake", "reason": "broken"}],
                              "steps": [{"do": "getStats", "on": "B"}]})");
  ASSERT_TRUE(sc.ok());
  CellResult x = RunCell(*sc, fake, fake, RunOptions{});
  EXPECT_EQ(x.status, "xfail");
  EXPECT_TRUE(absl::StrContains(x.reason, "NotFoundError")) << x.reason;
}

}  // namespace
}  // namespace refrtc::harness
