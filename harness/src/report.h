// Result table (terminal), JSON report and HTML matrix.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "runner.h"

namespace refrtc::harness {

struct Summary {
  int passed = 0, failed = 0, skipped = 0, xfailed = 0, xpassed = 0;
};

Summary Summarize(const std::vector<CellResult>& cells);

// An implementation against the reference (native refrtc), both measured in the same run with equal
// peers: impl→impl cells against native→native cells of the same scenarios (passing cells only).
//   throughput: geometric mean over matching throughput measurements (scenario, label, direction)
//               of impl MB/s / native MB/s
//   setup:      median impl setup ms / median native setup ms over the scenarios both measured
struct ImplRatio {
  std::string impl, reference = "native";
  int throughput_samples = 0, setup_samples = 0;
  double throughput = 0, setup = 0;               // ratios (valid when *_samples > 0)
  double impl_setup_ms = 0, reference_setup_ms = 0;  // the medians
  std::vector<std::string> detail;                // "label: 12.3 / 45.6 MB/s"
};
std::vector<ImplRatio> ComputeRatios(const std::vector<CellResult>& cells, const std::string& reference = "native");
void PrintRatios(std::ostream& out, const std::vector<ImplRatio>& ratios);
nlohmann::json RatiosToJson(const std::vector<ImplRatio>& ratios);
nlohmann::json CellToJson(const CellResult& cell);
void PrintTable(std::ostream& out, const std::vector<CellResult>& cells);
// Writes `path` (JSON report). Returns false if it cannot be written.
bool WriteJsonReport(const std::string& path, const std::vector<CellResult>& cells, const nlohmann::json& meta);
// JUnit XML: one <testsuite> per suite, one <testcase> per cell ("scenario [A→B]"); xfail and skip are
// <skipped>, fail is <failure> with the reason and the log path.
bool WriteJUnitReport(const std::string& path, const std::vector<CellResult>& cells);
std::string JUnitXml(const std::vector<CellResult>& cells);
bool WriteHtmlReport(const std::string& path, const std::vector<CellResult>& cells, const nlohmann::json& meta);

}  // namespace refrtc::harness
