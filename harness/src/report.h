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
