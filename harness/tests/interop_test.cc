// The interop matrix as ctest cases: one test per ordered pair (A offers, B answers), each running
// every conformance scenario through refrtc_harness. A pair is skipped only while the native driver
// binary has not been written yet.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <ostream>
#include <string>

#include "gtest/gtest.h"

namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string BinDir() {
  std::string bin = REFRTC_HARNESS_BIN;
  return bin.substr(0, bin.rfind('/'));
}

// `suites`: what ctest runs for the pair — every suite (core, signaling/, ice/ incl. TURN against
// coturn, dtls/, channels/, impaired/ through the seeded relay) for native against each of the four
// other implementations in both directions, with their documented peer bugs as known issues. The
// other implementations against each other are in `./refrtc demo`'s report (their bugs are not
// refrtc's); libwebrtc↔libwebrtc runs the core suites here as a sanity check of the harness.
constexpr const char* kCore = "basic,close,large-messages,many-channels,throughput";
// Every suite but impaired/: the peer's behaviour under loss is covered by native↔peer (the wasm
// build is the same engine), and werift's documented stalls there cost minutes of timeouts per run.
constexpr const char* kAllButImpaired = "basic,close,large-messages,many-channels,throughput,signaling,ice,dtls,channels";
// CI time budget (60 min on 2 cores, see README "CI time"): the WASM build runs the whole matrix
// against libwebrtc, Chromium and native refrtc; against werift only the core suites (the engine is
// the same C++ as native, which runs every suite against werift). `./refrtc demo` and
// `refrtc_harness --suite all --pairs werift:wasm` still run everything.
struct Pair {
  const char* a;
  const char* b;
  const char* suites = "all";
  const char* pairs = nullptr;  // several pairs in one harness run (default "a:b")
  const char* extra = "";       // more harness options
};

void PrintTo(const Pair& p, std::ostream* os) { *os << p.a << "→" << p.b; }

class InteropMatrix : public ::testing::TestWithParam<Pair> {};

TEST_P(InteropMatrix, AllScenariosPass) {
  const Pair p = GetParam();
  for (const char* d : {p.a, p.b}) {
    if (std::string(d) == "native" && !Exists(BinDir() + "/refrtc_driver_native")) {
      GTEST_SKIP() << "native driver not built yet: " << BinDir() << "/refrtc_driver_native does not exist";
    }
  }
  std::string pair = p.pairs ? p.pairs : std::string(p.a) + ":" + p.b;
  std::string report_dir = std::string(REFRTC_REPORT_DIR) + "/" + p.a + "-" + p.b;
  std::string cmd = std::string("'") + REFRTC_HARNESS_BIN + "' --suite " + p.suites + " --pairs " + pair + " --retries 1 " + p.extra + " --report-dir '" +
                    report_dir + "' --repo-root '" REFRTC_SOURCE_DIR "' 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr) << "cannot run " << cmd;
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) output.append(buf, n);
  int status = pclose(f);
  std::printf("%s", output.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << "harness did not exit normally";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "conformance failures for " << pair << " (report in " << report_dir << ")";
}

std::string Name(const ::testing::TestParamInfo<Pair>& info) {
  if (info.param.pairs) return "equal_peers_native_and_wasm";
  return std::string(info.param.a) + "_to_" + info.param.b;
}

// Longest pairs first (seconds measured in a fresh-clone CI run, in comments): ctest -j2 starts tests
// in this order, so the long ones do not form a tail at the end. Pairs with wasm run refrtc compiled
// to WebAssembly (wasm/, Node host) against native refrtc and the four others, both directions.
INSTANTIATE_TEST_SUITE_P(Pairs, InteropMatrix,
                         ::testing::Values(Pair{"chromium", "wasm"},                          // 420
                                           Pair{"werift", "native"},                          // 357
                                           Pair{"wasm", "chromium"},                          // 348
                                           Pair{"chromium", "native"},                        // 339
                                           Pair{"native", "werift"},                          // 319
                                           Pair{"native", "chromium"},                        // 319
                                           Pair{"ndc", "native"},                             // 177
                                           Pair{"wrtc", "wasm"},                              // 168
                                           Pair{"ndc", "wasm", kAllButImpaired},              // 153
                                           Pair{"wasm", "wrtc"},                              // 152
                                           Pair{"native", "wasm"},                            // 144
                                           Pair{"wrtc", "native"},                            // 140
                                           Pair{"wasm", "native"},                            // 140
                                           Pair{"native", "ndc"},                             // 130
                                           Pair{"native", "wrtc"},                            // 114
                                           Pair{"wasm", "ndc", kAllButImpaired},              // 98
                                           Pair{"native", "native"},                          // 93
                                           Pair{"wasm", "werift", kCore},                     // 37
                                           Pair{"werift", "wasm", kCore},                     // 25
                                           // wasm→wasm next to native→native in one run: the harness
                                           // prints wasm/native throughput and setup ratios.
                                           Pair{"wasm", "wasm", kCore, "native:native,wasm:wasm", "--jobs 1"},  // 12
                                           Pair{"wrtc", "wrtc", kCore}),                      // 12
                         Name);

}  // namespace
