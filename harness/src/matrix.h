// The matrix loop: runs cells (scenario × ordered pair) on worker threads, with reruns of failed
// cells. Shared by refrtc_harness's main and its unit tests.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "runner.h"
#include "scenario.h"

namespace refrtc::harness {

struct MatrixJob {
  const Scenario* scenario = nullptr;
  DriverSpec a, b;
};

struct MatrixOptions {
  int jobs = 1;     // cells at a time
  int retries = 0;  // reruns of a failed cell
  bool skip_missing = false;  // a cell whose driver is missing is "skip" instead of a failing run
  RunOptions run;
};

// Runs every job; results come back in job order whatever order the cells finish in. `progress`
// (may be empty) is called under a lock as each cell ends, with the number of cells done so far;
// `retrying` likewise before each rerun, with the failed attempt.
//
// Reruns: interop peers are multithreaded programs on a shared machine, and one timing-dependent
// failure must not hide the rest of the matrix. A cell that passes on a rerun keeps the rerun's
// result but is marked `flaky`, its first note says how the earlier attempt failed, and that
// attempt's trace is kept as <log>.attemptN — never a silent pass.
std::vector<CellResult> RunMatrix(const std::vector<MatrixJob>& jobs, const MatrixOptions& options,
                                  const std::function<void(size_t done, size_t index, const CellResult&)>& progress,
                                  const std::function<void(size_t index, int attempt, const CellResult&)>& retrying = {});

}  // namespace refrtc::harness
