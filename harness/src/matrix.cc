#include "matrix.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"

namespace refrtc::harness {

namespace {

CellResult SkippedCell(const MatrixJob& job) {
  CellResult cell;
  cell.scenario = job.scenario->name;
  cell.suite = job.scenario->suite;
  cell.a = job.a.name;
  cell.b = job.b.name;
  cell.status = "skip";
  cell.reason = !job.a.missing.empty() ? job.a.missing : job.b.missing;
  return cell;
}

}  // namespace

std::vector<CellResult> RunMatrix(const std::vector<MatrixJob>& jobs, const MatrixOptions& options,
                                  const std::function<void(size_t, size_t, const CellResult&)>& progress,
                                  const std::function<void(size_t, int, const CellResult&)>& retrying) {
  std::vector<CellResult> cells(jobs.size());
  std::atomic<size_t> next{0};
  size_t done = 0;
  std::mutex mu;
  auto run_one = [&](size_t index) {
    const MatrixJob& job = jobs[index];
    if (options.skip_missing && (!job.a.missing.empty() || !job.b.missing.empty())) return SkippedCell(job);
    CellResult cell = RunCell(*job.scenario, job.a, job.b, options.run);
    for (int attempt = 2; attempt <= options.retries + 1 && cell.status == "fail"; ++attempt) {
      if (retrying) {
        std::lock_guard<std::mutex> lock(mu);
        retrying(index, attempt, cell);
      }
      std::string first_log;
      if (!cell.log_path.empty()) {
        first_log = absl::StrCat(cell.log_path, ".attempt", attempt - 1);
        if (std::rename(cell.log_path.c_str(), first_log.c_str()) != 0) first_log.clear();
      }
      CellResult again = RunCell(*job.scenario, job.a, job.b, options.run);
      if (again.status != "fail") {
        again.flaky = true;
        again.notes.insert(again.notes.begin(),
                           absl::StrCat("flaky: attempt ", attempt - 1, " failed after ", static_cast<int64_t>(cell.duration_ms),
                                        " ms: ", cell.reason, first_log.empty() ? "" : absl::StrCat(" (trace: ", first_log, ")")));
      }
      cell = std::move(again);
    }
    return cell;
  };
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < jobs.size();) {
      CellResult cell = run_one(i);
      std::lock_guard<std::mutex> lock(mu);
      cells[i] = std::move(cell);
      ++done;
      if (progress) progress(done, i, cells[i]);
    }
  };
  std::vector<std::thread> threads;
  int n = std::max(1, std::min<int>(options.jobs, static_cast<int>(jobs.size())));
  for (int t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  return cells;
}

}  // namespace refrtc::harness
