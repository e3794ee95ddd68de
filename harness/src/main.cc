// refrtc_harness: runs conformance scenarios over every ordered pair of drivers.
//
//   refrtc_harness [--suite NAME|all|a,b|file.json] [--scenario NAME,...] [--peers native,wrtc] [--pairs a:b,...]
//                  [--report-dir DIR] [--html] [--missing skip|fail] [--conformance-dir DIR]
//                  [--repo-root DIR] [--jobs N] [--retries N] [--seed N] [--capture] [--list] [-v|-vv]
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "matrix.h"
#include "registry.h"
#include "report.h"
#include "runner.h"
#include "scenario.h"
#include "turn_server.h"

#ifndef REFRTC_SOURCE_DIR
#define REFRTC_SOURCE_DIR "."
#endif

namespace {

using namespace refrtc::harness;

int Usage(const std::string& error) {
  if (!error.empty()) std::cerr << "refrtc_harness: " << error << "\n";
  std::cerr << "usage: refrtc_harness [--suite NAME|all|a,b|file.json] [--scenario NAME[*],...] [--peers native,wrtc]\n"
               "                      [--pairs a:b,...] [--others-suite a,b]\n"
               "                      [--report-dir DIR] [--html] [--missing skip|fail] [--conformance-dir DIR]\n"
               "                      [--repo-root DIR] [--jobs N] [--retries N] [--seed N] [--capture] [--list] [-v|-vv]\n"
               "Runs every scenario on every ordered pair (A offers, B answers) of --peers, or on --pairs.\n"
               "A suite is conformance/NAME.json or every file of conformance/NAME/; --scenario keeps only the\n"
               "scenarios of those names (a trailing * matches a prefix). Reports: DIR/report.json, DIR/junit.xml,\n"
               "DIR/report.html (--html), DIR/logs/.\n"
               "--capture puts every cell through the relay without impairment: a pcap and key log per cell.\n"
               "--jobs N runs N cells at a time (default 1). --retries N reruns a failed cell up to N times; a\n"
               "cell that passes on a rerun counts as passed but is reported as flaky, with the first failure.\n"
               "--seed N seeds the impaired relay of scenarios with a \"network\" (default 1; printed with the results).\n"
               "--others-suite a,b: pairs with refrtc (native or wasm) on neither side run only those suites (all = no limit).\n";
  return 2;
}

std::string SelfDir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// JSON files directly in `dir` (full paths, sorted), and its subdirectories (names, sorted).
void ListDir(const std::string& dir, std::vector<std::string>* files, std::vector<std::string>* subdirs) {
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.empty() || n[0] == '.') continue;
      if (n.size() > 5 && absl::EndsWith(n, ".json")) {
        if (files) files->push_back(dir + "/" + n);
      } else if (subdirs && n != "fixtures" && IsDir(dir + "/" + n)) {
        subdirs->push_back(n);
      }
    }
    closedir(d);
  }
  if (files) std::sort(files->begin(), files->end());
  if (subdirs) std::sort(subdirs->begin(), subdirs->end());
}

// A suite name → its scenario files: conformance/NAME.json, or every file in conformance/NAME/.
std::vector<std::string> SuiteFiles(const std::string& dir, absl::string_view suite) {
  if (absl::EndsWith(suite, ".json")) return {std::string(suite)};
  std::string file = absl::StrCat(dir, "/", suite, ".json");
  std::string sub = absl::StrCat(dir, "/", suite);
  std::vector<std::string> files;
  if (IsDir(sub)) ListDir(sub, &files, nullptr);
  else files.push_back(file);
  return files;
}

// --scenario patterns: exact names, or a prefix ending in '*'.
bool NameMatches(const std::string& name, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return true;
  for (const std::string& p : patterns) {
    if (!p.empty() && p.back() == '*' ? absl::StartsWith(name, p.substr(0, p.size() - 1)) : name == p) return true;
  }
  return false;
}

void MakeDirs(const std::string& path) {
  std::string cur;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    cur += std::string(part) + "/";
    if (!part.empty()) mkdir(cur.c_str(), 0755);
  }
}

std::string Now() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string suite = "all", peers_arg = "native,wrtc", pairs_arg, missing_mode = "fail", scenario_arg;
  std::string others_suite;  // --others-suite: suites for pairs without a refrtc implementation
  std::string repo_root = REFRTC_SOURCE_DIR, conformance_dir, report_dir;
  if (const char* env = std::getenv("REFRTC_ROOT"); env && *env) repo_root = env;
  bool html = false, list = false;
  int jobs = 1, retries = 0;
  RunOptions opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    if (a == "--suite" || a == "--suites") { if (!value(&suite)) return Usage("--suite needs a value"); }
    else if (a == "--scenario" || a == "--scenarios") { if (!value(&scenario_arg)) return Usage("--scenario needs a value"); }
    else if (a == "--peers") { if (!value(&peers_arg)) return Usage("--peers needs a value"); }
    else if (a == "--pairs") { if (!value(&pairs_arg)) return Usage("--pairs needs a value"); }
    else if (a == "--others-suite") { if (!value(&others_suite)) return Usage("--others-suite needs a value"); }
    else if (a == "--report-dir") { if (!value(&report_dir)) return Usage("--report-dir needs a value"); }
    else if (a == "--conformance-dir") { if (!value(&conformance_dir)) return Usage("--conformance-dir needs a value"); }
    else if (a == "--repo-root") { if (!value(&repo_root)) return Usage("--repo-root needs a value"); }
    else if (a == "--missing") {
      if (!value(&missing_mode) || (missing_mode != "skip" && missing_mode != "fail")) return Usage("--missing skip|fail");
    }
    else if (a == "--jobs" || a == "-j" || a == "--retries") {
      std::string v;
      if (!value(&v)) return Usage(a + " needs a number");
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < (a == "--retries" ? 0 : 1) || n > 64) return Usage(a + ": bad number " + v);
      (a == "--retries" ? retries : jobs) = static_cast<int>(n);
    }
    else if (a == "--seed") {
      // The relay's impairment decisions (relay.h); the same seed replays the same decisions.
      std::string v;
      if (!value(&v)) return Usage("--seed needs a number");
      char* end = nullptr;
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || v[0] == '-') return Usage("--seed: bad number " + v);
      opts.seed = n;
    }
    else if (a == "--capture") opts.capture = true;
    else if (a == "--html") html = true;
    else if (a == "--list") list = true;
    else if (a == "-v") opts.verbose = 1;
    else if (a == "-vv") opts.verbose = 2;
    else if (a == "-h" || a == "--help") return Usage("");
    else return Usage("unknown argument " + a);
  }
  if (conformance_dir.empty()) conformance_dir = repo_root + "/conformance";
  if (report_dir.empty()) report_dir = repo_root + "/reports";

  // Scenarios.
  std::vector<std::string> files;
  if (suite == "all") {
    std::vector<std::string> subdirs;
    ListDir(conformance_dir, &files, &subdirs);
    for (const std::string& d : subdirs) ListDir(conformance_dir + "/" + d, &files, nullptr);
  } else {
    for (absl::string_view s : absl::StrSplit(suite, ',', absl::SkipEmpty())) {
      for (std::string& f : SuiteFiles(conformance_dir, s)) files.push_back(std::move(f));
    }
  }
  if (files.empty()) return Usage("no scenarios found in " + conformance_dir);
  std::vector<std::string> patterns = absl::StrSplit(scenario_arg, ',', absl::SkipEmpty());
  std::vector<Scenario> scenarios;
  for (const std::string& f : files) {
    auto sc = LoadScenarioFile(f);
    if (!sc.ok()) {
      std::cerr << "refrtc_harness: " << sc.status().message() << "\n";
      return 2;
    }
    if (NameMatches(sc->name, patterns)) scenarios.push_back(std::move(*sc));
  }
  // Logs and report cells are keyed by scenario name, so names are unique across suites.
  for (size_t i = 0; i < scenarios.size(); ++i) {
    for (size_t j = i + 1; j < scenarios.size(); ++j) {
      if (scenarios[i].name == scenarios[j].name) return Usage("scenario name \"" + scenarios[i].name + "\" used twice");
    }
  }
  if (scenarios.empty()) return Usage(absl::StrCat("no scenario named ", scenario_arg, " in suite ", suite));

  // Pairs: every ordered pair of --peers, or exactly --pairs.
  std::vector<std::pair<std::string, std::string>> pairs;
  if (!pairs_arg.empty()) {
    for (absl::string_view p : absl::StrSplit(pairs_arg, ',', absl::SkipEmpty())) {
      std::vector<std::string> ab = absl::StrSplit(p, ':');
      if (ab.size() != 2 || ab[0].empty() || ab[1].empty()) return Usage(absl::StrCat("bad pair \"", p, "\" (want a:b)"));
      pairs.emplace_back(ab[0], ab[1]);
    }
  } else {
    std::vector<std::string> peers = absl::StrSplit(peers_arg, ',', absl::SkipEmpty());
    if (peers.empty()) return Usage("--peers is empty");
    for (const std::string& a : peers) for (const std::string& b : peers) pairs.emplace_back(a, b);
  }

  if (list) {
    for (const Scenario& sc : scenarios) {
      std::cout << sc.suite << "\t" << sc.name << "\t" << sc.steps.size() << " steps\t" << sc.description << "\n";
    }
    return 0;
  }

  RegistryPaths paths{repo_root, SelfDir()};
  MakeDirs(report_dir + "/logs");
  opts.log_dir = report_dir + "/logs";

  // STUN/TURN: one coturn for the run, only when a selected scenario has ${turn.*}/${stun.*}
  // placeholders (turn_server.h). Without it those cells are treated like a missing driver.
  std::vector<bool> needs_turn;
  for (const Scenario& sc : scenarios) needs_turn.push_back(ScenarioUsesServers(sc));
  std::unique_ptr<TurnServerProcess> turn_server;
  std::string turn_missing;
  if (std::find(needs_turn.begin(), needs_turn.end(), true) != needs_turn.end()) {
    std::string bin = TurnServerProcess::FindBinary();
    if (bin.empty()) {
      turn_missing = "coturn (turnserver) not installed";
    } else {
      auto started = TurnServerProcess::Start(bin, report_dir + "/logs/turnserver.log", report_dir + "/turnserver");
      if (started.ok()) turn_server = std::move(*started);
      else turn_missing = absl::StrCat("coturn (turnserver) failed to start: ", started.status().message());
    }
    if (turn_server) {
      if (opts.verbose) std::cerr << "turnserver on 127.0.0.1:" << turn_server->info().port << " (pid " << turn_server->pid() << ")\n";
      for (size_t i = 0; i < scenarios.size(); ++i) {
        if (!needs_turn[i]) continue;
        if (auto st = SubstituteServers(&scenarios[i], turn_server->info().Placeholders()); !st.ok()) {
          std::cerr << "refrtc_harness: " << st.message() << "\n";
          return 2;
        }
      }
    } else {
      std::cerr << "refrtc_harness: " << turn_missing << "\n";
    }
  }

  // Cells run on --jobs worker threads; results keep the scenario × pair order (matrix.h).
  // --others-suite: a pair with refrtc (native or wasm) on neither side runs only those suites' scenarios
  // (the others' mutual bugs are not refrtc's; this keeps a full matrix affordable).
  std::vector<std::string> others = absl::StrSplit(others_suite, ',', absl::SkipEmpty());
  if (others_suite == "all") others.clear();
  auto is_refrtc = [](const std::string& d) { return d == "native" || d == "wasm"; };
  std::vector<MatrixJob> work;
  for (size_t i = 0; i < scenarios.size(); ++i) {
    for (const auto& [a, b] : pairs) {
      if (!others.empty() && !is_refrtc(a) && !is_refrtc(b) &&
          std::find(others.begin(), others.end(), scenarios[i].suite) == others.end())
        continue;
      work.push_back({&scenarios[i], LookupDriver(a, paths), LookupDriver(b, paths)});
      if (needs_turn[i] && !turn_missing.empty() && work.back().a.missing.empty()) work.back().a.missing = turn_missing;
    }
  }
  MatrixOptions mopts;
  mopts.jobs = jobs;
  mopts.retries = retries;
  mopts.skip_missing = missing_mode == "skip";
  mopts.run = opts;
  auto name_of = [&](size_t i) {
    const Scenario& sc = *work[i].scenario;
    return absl::StrCat(sc.suite != sc.name ? sc.suite + "/" : "", sc.name, " ", work[i].a.name, "→", work[i].b.name);
  };
  std::vector<CellResult> cells = RunMatrix(
      work, mopts,
      [&](size_t done, size_t i, const CellResult& cell) {
        std::cerr << "[" << done << "/" << work.size() << "] " << name_of(i) << ": " << cell.status << (cell.flaky ? " (flaky)" : "");
        if (cell.status != "skip") std::cerr << " (" << static_cast<int64_t>(cell.duration_ms) << " ms)";
        if (!cell.reason.empty() && cell.status != "pass") std::cerr << "\n    " << cell.reason;
        if (cell.flaky) std::cerr << "\n    " << cell.notes.front();
        std::cerr << std::endl;
      },
      [&](size_t i, int attempt, const CellResult& failed) {
        std::cerr << "    rerunning " << name_of(i) << " (attempt " << attempt << ") after: " << failed.reason << std::endl;
      });

  std::cout << "seed " << opts.seed << " (relay impairments; rerun with --seed " << opts.seed << ")\n";
  PrintTable(std::cout, cells);
  PrintRatios(std::cout, ComputeRatios(cells));
  nlohmann::json meta = {{"generated", Now()}, {"protocol", 1}, {"suites", suite}, {"conformanceDir", conformance_dir},
                         {"seed", opts.seed}};
  std::string json_path = report_dir + "/report.json";
  if (!WriteJsonReport(json_path, cells, meta)) std::cerr << "refrtc_harness: cannot write " << json_path << "\n";
  else std::cout << "report: " << json_path << "\n";
  std::string junit_path = report_dir + "/junit.xml";
  if (!WriteJUnitReport(junit_path, cells)) std::cerr << "refrtc_harness: cannot write " << junit_path << "\n";
  else std::cout << "junit: " << junit_path << "\n";
  if (html) {
    std::string html_path = report_dir + "/report.html";
    if (!WriteHtmlReport(html_path, cells, meta)) std::cerr << "refrtc_harness: cannot write " << html_path << "\n";
    else std::cout << "html report: " << html_path << "\n";
  }
  Summary s = Summarize(cells);
  if (s.xfailed || s.xpassed) std::cout << s.xfailed << " known peer issues (xfail), " << s.xpassed << " unexpectedly passing (xpass)\n";
  size_t flaky = std::count_if(cells.begin(), cells.end(), [](const CellResult& c) { return c.flaky; });
  if (flaky) std::cout << flaky << " flaky (passed on a rerun; see the cell notes)\n";
  std::cout << s.passed << " passed, " << s.failed << " failed, " << s.skipped << " skipped" << std::endl;
  return s.failed == 0 ? 0 : 1;
}
