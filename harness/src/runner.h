// Runs one scenario on one ordered pair of drivers (A offers, B answers). The runner is the
// signalling channel: it forwards descriptions and trickled candidates between the drivers.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "scenario.h"

namespace refrtc::harness {

// How to start a driver: see registry.h.
struct DriverSpec {
  std::string name;               // "native", "wrtc", ...
  std::vector<std::string> argv;  // command line
  std::string cwd;                // working directory ("" = inherit)
  std::string missing;            // non-empty: why this driver cannot run here (file not built, ...)
};

struct ThroughputResult {
  std::string label;
  std::string direction;  // "A→B" or "B→A"
  int64_t size = 0;
  int64_t count = 0;
  double ms = 0;
  double mbps = 0;  // 10^6 bytes per second
};

struct CellResult {
  std::string scenario;
  std::string suite;           // conformance/<suite>/ directory, or the scenario's own name
  std::string a, b;            // driver names
  std::string status;          // pass, fail, xfail, xpass, skip
  std::string reason;          // why it failed / was skipped
  int failed_step = -1;
  std::optional<double> setup_ms;  // first API call → every channel of the first connect open
  std::vector<ThroughputResult> throughput;
  double duration_ms = 0;
  nlohmann::json hello = nlohmann::json::array();  // hello results of A and B
  std::string log_path;        // protocol trace + driver stderr
  std::vector<std::string> notes;  // known peer deviations tolerated by step-level knownIssues
  // With the relay (scenario "network"): seed, impairments and per-direction counters, pcap and key log
  // paths (null without a relay).
  nlohmann::json network;
  std::vector<double> step_ms;     // duration of each step run, in order (the failed one last)
  bool flaky = false;              // failed, then passed on a rerun (--retries); notes say how it failed
};

struct RunOptions {
  int verbose = 0;          // 1: steps to stderr; 2: every protocol line
  std::string log_dir;      // where traces go ("" = none)
  uint64_t seed = 1;        // --seed: the relay's impairment decisions (relay.h); printed in the report
  bool capture = false;     // --capture: every cell through the relay (no impairment) for a pcap + key log
};

CellResult RunCell(const Scenario& scenario, const DriverSpec& a, const DriverSpec& b, const RunOptions& options);

}  // namespace refrtc::harness
