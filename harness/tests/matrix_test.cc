// RunMatrix: parallel cells keep their order; a failed cell is rerun and a pass on the rerun is
// reported as flaky with the first failure; a cell that keeps failing stays failed.
#include "matrix.h"

#include <chrono>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace refrtc::harness {
namespace {

// A fake driver in sh that answers hello and shutdown, and answers getStats with NotFoundError
// (what the scenario expects) only when `marker` exists — and creates the marker as it starts, so
// the first run fails (no reply → step timeout) and a rerun passes. Each side gets its own marker:
// with one shared marker, B's process could start first, create it, and A's first run would pass
// (a race that failed Matrix.WithoutRetriesTheFailureStands once under -j2 load).
DriverSpec FlakyDriver(const std::string& name, const std::string& marker) {
  std::string script =
      "if [ -e '" + marker + "' ]; then ok=1; else ok=0; touch '" + marker + "'; fi; "
      "while read -r line; do "
      "id=$(echo \"$line\" | sed -n 's/.*\"id\":\\([0-9]*\\).*/\\1/p'); "
      "case \"$line\" in "
      "*'\"hello\"'*) echo \"{\\\"id\\\":$id,\\\"ok\\\":true,\\\"result\\\":{\\\"name\\\":\\\"fake\\\",\\\"protocol\\\":1}}\";; "
      "*'\"getStats\"'*) if [ $ok = 1 ]; then echo \"{\\\"id\\\":$id,\\\"ok\\\":false,\\\"error\\\":{\\\"name\\\":\\\"NotFoundError\\\"}}\"; "
      "else echo \"{\\\"id\\\":$id,\\\"ok\\\":false,\\\"error\\\":{\\\"name\\\":\\\"OperationError\\\"}}\"; fi;; "
      "*'\"shutdown\"'*) echo \"{\\\"id\\\":$id,\\\"ok\\\":true,\\\"result\\\":{}}\"; exit 0;; "
      "esac; done";
  return DriverSpec{name, {"sh", "-c", script}, "", ""};
}

Scenario GetStatsScenario(const std::string& name) {
  auto sc = ParseScenario(R"({"format": 1, "name": ")" + name +
                          R"(", "timeoutMs": 5000, "steps": [{"do": "getStats", "on": "A", "expectError": "NotFoundError"}]})");
  EXPECT_TRUE(sc.ok()) << sc.status();
  return *sc;
}

std::string TempDir() {
  char tmpl[] = "/tmp/refrtc-matrix-XXXXXX";
  const char* d = mkdtemp(tmpl);
  return d ? d : "/tmp";
}

TEST(Matrix, FailedCellPassingOnRerunIsFlakyWithFirstReason) {
  std::string dir = TempDir();
  Scenario sc = GetStatsScenario("flaky-one");
  DriverSpec a = FlakyDriver("fake", dir + "/marker-a"), b = FlakyDriver("fake", dir + "/marker-b");
  MatrixOptions opts;
  opts.retries = 1;
  int reruns = 0;
  auto cells = RunMatrix({{&sc, a, b}}, opts, {}, [&](size_t, int attempt, const CellResult& failed) {
    ++reruns;
    EXPECT_EQ(attempt, 2);
    EXPECT_EQ(failed.status, "fail");
  });
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(reruns, 1);
  EXPECT_EQ(cells[0].status, "pass") << cells[0].reason;
  EXPECT_TRUE(cells[0].flaky);
  ASSERT_FALSE(cells[0].notes.empty());
  EXPECT_TRUE(absl::StartsWith(cells[0].notes[0], "flaky: attempt 1 failed")) << cells[0].notes[0];
  EXPECT_TRUE(absl::StrContains(cells[0].notes[0], "OperationError")) << cells[0].notes[0];
}

TEST(Matrix, WithoutRetriesTheFailureStands) {
  std::string dir = TempDir();
  Scenario sc = GetStatsScenario("flaky-two");
  DriverSpec a = FlakyDriver("fake", dir + "/marker-a"), b = FlakyDriver("fake", dir + "/marker-b");
  auto cells = RunMatrix({{&sc, a, b}}, MatrixOptions{}, {});
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].status, "fail");
  EXPECT_FALSE(cells[0].flaky);
}

TEST(Matrix, ParallelJobsKeepOrderAndSkipMissingDrivers) {
  std::string dir = TempDir();
  std::vector<Scenario> scs;
  for (int i = 0; i < 4; ++i) scs.push_back(GetStatsScenario("cell" + std::to_string(i)));
  std::vector<MatrixJob> jobs;
  for (int i = 0; i < 4; ++i) {
    // Every cell's driver already "ran once": the marker exists, so each passes first time.
    std::string marker = dir + "/m" + std::to_string(i);
    std::system(("touch '" + marker + "'").c_str());
    DriverSpec d = FlakyDriver("fake" + std::to_string(i), marker);
    jobs.push_back({&scs[i], d, d});
  }
  DriverSpec ghost{"ghost", {"x"}, "", "not built"};
  jobs.push_back({&scs[0], ghost, ghost});
  MatrixOptions opts;
  opts.jobs = 3;
  opts.skip_missing = true;
  size_t calls = 0;
  auto cells = RunMatrix(jobs, opts, [&](size_t done, size_t, const CellResult&) { EXPECT_EQ(done, ++calls); });
  ASSERT_EQ(cells.size(), 5u);
  EXPECT_EQ(calls, 5u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(cells[i].scenario, "cell" + std::to_string(i));
    EXPECT_EQ(cells[i].a, "fake" + std::to_string(i));
    EXPECT_EQ(cells[i].status, "pass") << cells[i].reason;
  }
  EXPECT_EQ(cells[4].status, "skip");
  EXPECT_EQ(cells[4].reason, "not built");
}

}  // namespace
}  // namespace refrtc::harness

namespace refrtc::harness {
namespace {

// A driver that answers with garbage: the cell fails at once, naming the line — no wait for the
// step timeout, no hang.
TEST(Runner, GarbageOutputFailsTheCellAtOnceWithTheLine) {
  DriverSpec garbage{"garbage", {"sh", "-c", "while read -r line; do echo 'this is { not json'; done"}, "", ""};
  auto sc = ParseScenario(R"({"format": 1, "name": "g", "timeoutMs": 20000, "steps": [{"do": "getStats", "on": "A"}]})");
  ASSERT_TRUE(sc.ok());
  auto t0 = std::chrono::steady_clock::now();
  CellResult r = RunCell(*sc, garbage, garbage, RunOptions{});
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, "fail");
  EXPECT_TRUE(absl::StrContains(r.reason, "non-JSON line: this is { not json")) << r.reason;
  EXPECT_LT(ms, 5000);
}

}  // namespace
}  // namespace refrtc::harness
