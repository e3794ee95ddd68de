#include "report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace refrtc::harness {
namespace {

using nlohmann::json;

std::string Pair(const CellResult& c) { return absl::StrCat(c.a, "→", c.b); }

std::string Html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string FirstLine(const std::string& s, size_t n) {
  std::string line = s.substr(0, s.find('\n'));
  return line.size() > n ? line.substr(0, n) + "…" : line;
}

// Display width of a UTF-8 string (counts code points; good enough for the table).
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) if ((c & 0xC0) != 0x80) ++w;
  return w;
}

std::string Pad(const std::string& s, size_t w) { return s + std::string(w > Width(s) ? w - Width(s) : 0, ' '); }

}  // namespace

Summary Summarize(const std::vector<CellResult>& cells) {
  Summary s;
  for (const CellResult& c : cells) {
    if (c.status == "pass") ++s.passed;
    else if (c.status == "skip") ++s.skipped;
    else if (c.status == "xfail") ++s.xfailed;
    else if (c.status == "xpass") ++s.xpassed;
    else ++s.failed;
  }
  return s;
}

// Notes that are tolerated deviations: not the flaky marker, nor the relay's counters ("relay ...")
// and measured statistics ("stats: ...") that relay cells add.
size_t Deviations(const CellResult& c) {
  size_t n = 0;
  for (const std::string& note : c.notes) {
    if (note.rfind("relay ", 0) != 0 && note.rfind("stats: ", 0) != 0) ++n;
  }
  return n - (c.flaky && n > 0 ? 1 : 0);
}

json CellToJson(const CellResult& c) {
  json j = {{"scenario", c.scenario}, {"a", c.a}, {"b", c.b}, {"pair", Pair(c)}, {"status", c.status},
            {"reason", c.reason}, {"durationMs", c.duration_ms}, {"drivers", c.hello}};
  j["setupMs"] = c.setup_ms ? json(*c.setup_ms) : json();
  j["failedStep"] = c.failed_step >= 0 ? json(c.failed_step) : json();
  json t = json::array();
  for (const ThroughputResult& r : c.throughput) {
    t.push_back({{"label", r.label}, {"direction", r.direction}, {"size", r.size}, {"count", r.count}, {"ms", r.ms}, {"MBps", r.mbps}});
  }
  j["throughput"] = t;
  if (!c.log_path.empty()) j["log"] = c.log_path;
  j["notes"] = c.notes;
  j["flaky"] = c.flaky;
  j["stepMs"] = c.step_ms;
  if (!c.network.is_null()) j["network"] = c.network;  // relay seed, counters, pcap / key log
  return j;
}

void PrintTable(std::ostream& out, const std::vector<CellResult>& cells) {
  size_t w_sc = 8, w_pair = 4;
  for (const CellResult& c : cells) {
    w_sc = std::max(w_sc, Width(c.scenario));
    w_pair = std::max(w_pair, Width(Pair(c)));
  }
  out << Pad("scenario", w_sc) << "  " << Pad("pair", w_pair) << "  " << Pad("result", 6) << "  " << Pad("setup ms", 9)
      << "  " << Pad("MB/s", 8) << "  note\n";
  out << std::string(w_sc + w_pair + 6 + 9 + 8 + 14, '-') << "\n";
  for (const CellResult& c : cells) {
    std::string setup = c.setup_ms ? absl::StrFormat("%.1f", *c.setup_ms) : "-";
    std::string mbps = "-";
    std::string note;
    if (!c.throughput.empty()) {
      mbps = absl::StrFormat("%.2f", c.throughput.front().mbps);
      for (size_t i = 1; i < c.throughput.size(); ++i) {
        absl::StrAppend(&note, note.empty() ? "" : ", ", c.throughput[i].label, ": ", absl::StrFormat("%.2f", c.throughput[i].mbps), " MB/s");
      }
    }
    size_t deviations = Deviations(c);
    if (deviations) note = absl::StrCat(deviations, " known deviation(s); ", note);
    if (c.flaky) note = absl::StrCat(FirstLine(c.notes.front(), 120), "; ", note);
    if (!c.reason.empty()) note = FirstLine(c.reason, 160);
    out << Pad(c.scenario, w_sc) << "  " << Pad(Pair(c), w_pair) << "  " << Pad(c.flaky ? "flaky" : c.status, 6) << "  " << Pad(setup, 9) << "  "
        << Pad(mbps, 8) << "  " << note << "\n";
  }
}

namespace {
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
}  // namespace

std::vector<ImplRatio> ComputeRatios(const std::vector<CellResult>& cells, const std::string& reference) {
  // Equal-peer cells by implementation, then scenario.
  std::map<std::string, std::map<std::string, const CellResult*>> same;
  for (const CellResult& c : cells) {
    if (c.a == c.b && c.status == "pass") same[c.a][c.suite + "/" + c.scenario] = &c;
  }
  std::vector<ImplRatio> out;
  auto ref_it = same.find(reference);
  if (ref_it == same.end()) return out;
  for (const auto& [impl, by_scenario] : same) {
    if (impl == reference) continue;
    ImplRatio r;
    r.impl = impl;
    r.reference = reference;
    double log_sum = 0;
    std::vector<double> impl_setup, ref_setup;
    for (const auto& [key, cell] : by_scenario) {
      auto ref = ref_it->second.find(key);
      if (ref == ref_it->second.end()) continue;
      if (cell->setup_ms && ref->second->setup_ms) {
        impl_setup.push_back(*cell->setup_ms);
        ref_setup.push_back(*ref->second->setup_ms);
      }
      for (const ThroughputResult& t : cell->throughput) {
        for (const ThroughputResult& u : ref->second->throughput) {
          if (t.label != u.label || t.direction != u.direction || t.mbps <= 0 || u.mbps <= 0) continue;
          log_sum += std::log(t.mbps / u.mbps);
          ++r.throughput_samples;
          r.detail.push_back(absl::StrFormat("%s %s %s: %.1f / %.1f MB/s", cell->scenario, t.label, t.direction, t.mbps, u.mbps));
        }
      }
    }
    if (r.throughput_samples) r.throughput = std::exp(log_sum / r.throughput_samples);
    r.setup_samples = static_cast<int>(impl_setup.size());
    if (r.setup_samples) {
      r.impl_setup_ms = Median(impl_setup);
      r.reference_setup_ms = Median(ref_setup);
      r.setup = r.reference_setup_ms > 0 ? r.impl_setup_ms / r.reference_setup_ms : 0;
    }
    if (r.throughput_samples || r.setup_samples) out.push_back(std::move(r));
  }
  return out;
}

void PrintRatios(std::ostream& out, const std::vector<ImplRatio>& ratios) {
  for (const ImplRatio& r : ratios) {
    out << "ratio " << r.impl << "/" << r.reference << " (equal peers, same run):";
    if (r.throughput_samples)
      out << absl::StrFormat(" throughput %.2fx (geometric mean of %d)", r.throughput, r.throughput_samples);
    if (r.setup_samples)
      out << absl::StrFormat("%s setup %.2fx (median %.1f ms vs %.1f ms over %d scenarios)", r.throughput_samples ? ";" : "",
                             r.setup, r.impl_setup_ms, r.reference_setup_ms, r.setup_samples);
    out << "\n";
  }
}

json RatiosToJson(const std::vector<ImplRatio>& ratios) {
  json arr = json::array();
  for (const ImplRatio& r : ratios) {
    json j{{"impl", r.impl}, {"reference", r.reference}, {"throughputSamples", r.throughput_samples},
           {"setupSamples", r.setup_samples}, {"detail", r.detail}};
    j["throughput"] = r.throughput_samples ? json(r.throughput) : json(nullptr);
    j["setup"] = r.setup_samples ? json(r.setup) : json(nullptr);
    j["implSetupMs"] = r.setup_samples ? json(r.impl_setup_ms) : json(nullptr);
    j["referenceSetupMs"] = r.setup_samples ? json(r.reference_setup_ms) : json(nullptr);
    arr.push_back(std::move(j));
  }
  return arr;
}

bool WriteJsonReport(const std::string& path, const std::vector<CellResult>& cells, const json& meta) {
  json report = meta;
  json arr = json::array();
  for (const CellResult& c : cells) arr.push_back(CellToJson(c));
  report["cells"] = arr;
  report["ratios"] = RatiosToJson(ComputeRatios(cells));
  Summary s = Summarize(cells);
  report["summary"] = {{"passed", s.passed}, {"failed", s.failed}, {"skipped", s.skipped}, {"xfailed", s.xfailed}, {"xpassed", s.xpassed}};
  std::ofstream f(path, std::ios::trunc);
  if (!f) return false;
  f << report.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return static_cast<bool>(f);
}

namespace {

// XML 1.0 text/attribute escaping; control characters other than tab/newline cannot appear at all.
std::string Xml(const std::string& s) {
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && ch != '\n' && ch != '\t') out += ' ';
        else out.push_back(ch);
    }
  }
  return out;
}

}  // namespace

std::string JUnitXml(const std::vector<CellResult>& cells) {
  std::vector<std::string> suites;
  for (const CellResult& c : cells) {
    std::string suite = c.suite.empty() ? c.scenario : c.suite;
    if (std::find(suites.begin(), suites.end(), suite) == suites.end()) suites.push_back(suite);
  }
  Summary all = Summarize(cells);
  double total_ms = 0;
  for (const CellResult& c : cells) total_ms += c.duration_ms;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  absl::StrAppend(&x, "<testsuites name=\"refrtc conformance\" tests=\"", cells.size(), "\" failures=\"", all.failed,
                  "\" skipped=\"", all.skipped + all.xfailed, "\" time=\"", absl::StrFormat("%.3f", total_ms / 1000), "\">\n");
  for (const std::string& suite : suites) {
    std::vector<const CellResult*> in;
    for (const CellResult& c : cells) if ((c.suite.empty() ? c.scenario : c.suite) == suite) in.push_back(&c);
    int failures = 0, skipped = 0;
    double ms = 0;
    for (const CellResult* c : in) {
      failures += c->status == "fail";
      skipped += c->status == "skip" || c->status == "xfail";
      ms += c->duration_ms;
    }
    absl::StrAppend(&x, "  <testsuite name=\"", Xml(suite), "\" tests=\"", in.size(), "\" failures=\"", failures,
                    "\" errors=\"0\" skipped=\"", skipped, "\" time=\"", absl::StrFormat("%.3f", ms / 1000), "\">\n");
    for (const CellResult* c : in) {
      absl::StrAppend(&x, "    <testcase classname=\"conformance.", Xml(suite), "\" name=\"", Xml(c->scenario), " [", Xml(Pair(*c)),
                      "]\" time=\"", absl::StrFormat("%.3f", c->duration_ms / 1000), "\">");
      if (c->status == "fail") {
        absl::StrAppend(&x, "\n      <failure message=\"", Xml(FirstLine(c->reason, 300)), "\">", Xml(c->reason),
                        c->log_path.empty() ? "" : "\nlog: " + Xml(c->log_path), "</failure>");
      } else if (c->status == "skip" || c->status == "xfail") {
        absl::StrAppend(&x, "\n      <skipped message=\"", Xml(FirstLine(c->status + ": " + c->reason, 300)), "\"/>");
      }
      std::string out;
      if (c->status == "xpass") out = c->reason;
      for (const std::string& n : c->notes) absl::StrAppend(&out, out.empty() ? "" : "\n", n);
      if (!out.empty()) absl::StrAppend(&x, "\n      <system-out>", Xml(out), "</system-out>");
      absl::StrAppend(&x, c->status == "pass" && out.empty() ? "" : "\n    ", "</testcase>\n");
    }
    x += "  </testsuite>\n";
  }
  x += "</testsuites>\n";
  return x;
}

bool WriteJUnitReport(const std::string& path, const std::vector<CellResult>& cells) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) return false;
  f << JUnitXml(cells);
  return static_cast<bool>(f);
}

namespace {

// The tail of a cell's log for the self-contained report (logs can be megabytes; the end is where
// a failure shows).
std::string LogTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff from = size > static_cast<std::streamoff>(max_bytes) ? size - static_cast<std::streamoff>(max_bytes) : 0;
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (from > 0) text = absl::StrCat("[… first ", from, " bytes left out; whole log: ", path, "]\n", text);
  return text;
}

std::string BaseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool WriteHtmlReport(const std::string& path, const std::vector<CellResult>& cells, const json& meta) {
  std::vector<std::string> scenarios, pairs, impls;
  std::map<std::pair<std::string, std::string>, const CellResult*> at;
  std::map<std::string, std::string> suite_of;
  for (const CellResult& c : cells) {
    if (std::find(scenarios.begin(), scenarios.end(), c.scenario) == scenarios.end()) scenarios.push_back(c.scenario);
    if (std::find(pairs.begin(), pairs.end(), Pair(c)) == pairs.end()) pairs.push_back(Pair(c));
    for (const std::string& i : {c.a, c.b}) {
      if (std::find(impls.begin(), impls.end(), i) == impls.end()) impls.push_back(i);
    }
    at[{c.scenario, Pair(c)}] = &c;
    suite_of[c.scenario] = c.suite.empty() || c.suite == c.scenario ? "core" : c.suite;
  }
  Summary s = Summarize(cells);
  std::ofstream f(path, std::ios::trunc);
  if (!f) return false;
  f << "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>refrtc conformance</title><style>\n"
       "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
       "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
       ".pass{background:#d7f5d7}.fail{background:#f8d0d0}.skip{background:#eee}.xfail{background:#fbeec0}.xpass{background:#d0e4f8}"
       ".flaky{color:#a60}.part{background:#fde7c8}small{color:#555}pre{white-space:pre-wrap;max-width:90em;font-size:85%}"
       "th.suite{background:#f4f4f4}\n</style></head><body>\n";
  f << "<h1>refrtc conformance matrix</h1>\n<p>A offers, B answers. Generated " << Html(meta.value("generated", std::string()));
  if (meta.contains("seed")) f << ", seed " << Html(meta["seed"].dump());
  f << ". " << s.passed << " passed, " << s.failed << " failed, " << s.skipped << " skipped, " << s.xfailed
    << " known peer issues (xfail), " << s.xpassed << " unexpected passes (xpass).</p>\n";

  // Implementation × implementation: passed (incl. xfail) / run, per ordered pair.
  f << "<h2>Implementations</h2>\n<p><small>Row: offerer (A); column: answerer (B). Passed / cells run; "
       "xfail (a documented peer bug) counts as passed.</small></p>\n<table><tr><th>A \\ B</th>";
  for (const std::string& b : impls) f << "<th>" << Html(b) << "</th>";
  f << "</tr>\n";
  for (const std::string& a : impls) {
    f << "<tr><th>" << Html(a) << "</th>";
    for (const std::string& b : impls) {
      int run = 0, ok = 0, failed = 0, xf = 0, flaky = 0;
      for (const CellResult& c : cells) {
        if (c.a != a || c.b != b || c.status == "skip") continue;
        ++run;
        ok += c.status == "pass" || c.status == "xfail" || c.status == "xpass";
        failed += c.status == "fail";
        xf += c.status == "xfail";
        flaky += c.flaky;
      }
      if (run == 0) { f << "<td></td>"; continue; }
      f << "<td class=\"" << (failed == 0 ? "pass" : ok == 0 ? "fail" : "part") << "\">" << ok << " / " << run;
      if (xf) f << "<br><small>" << xf << " xfail</small>";
      if (flaky) f << "<br><small class=\"flaky\">" << flaky << " flaky</small>";
      f << "</td>";
    }
    f << "</tr>\n";
  }
  f << "</table>\n";

  // Implementations against native refrtc, equal peers, same run (ComputeRatios).
  std::vector<ImplRatio> ratios = ComputeRatios(cells);
  if (!ratios.empty()) {
    f << "<h2>Against native refrtc (same run)</h2>\n<p><small>impl→impl cells against native→native cells of the "
         "same scenarios: throughput = geometric mean of MB/s ratios; setup = ratio of median setup times.</small></p>\n"
         "<table><tr><th>implementation</th><th>throughput</th><th>setup</th><th>measurements</th></tr>\n";
    for (const ImplRatio& r : ratios) {
      f << "<tr><td>" << Html(r.impl) << "</td><td>"
        << (r.throughput_samples ? absl::StrFormat("%.2f×", r.throughput) : std::string("-")) << "</td><td>"
        << (r.setup_samples ? absl::StrFormat("%.2f× (%.1f / %.1f ms)", r.setup, r.impl_setup_ms, r.reference_setup_ms)
                            : std::string("-"))
        << "</td><td><small>";
      for (const std::string& d : r.detail) f << Html(d) << "<br>";
      f << "</small></td></tr>\n";
    }
    f << "</table>\n";
  }

  f << "<h2>Scenarios</h2>\n<table><tr><th>scenario</th>";
  for (const std::string& p : pairs) f << "<th>" << Html(p) << "</th>";
  f << "</tr>\n";
  std::string last_suite;
  for (const std::string& sc : scenarios) {
    if (suite_of[sc] != last_suite) {
      last_suite = suite_of[sc];
      f << "<tr><th class=\"suite\" colspan=\"" << pairs.size() + 1 << "\">" << Html(last_suite) << "</th></tr>\n";
    }
    f << "<tr><th>" << Html(sc) << "</th>";
    for (const std::string& p : pairs) {
      auto it = at.find({sc, p});
      if (it == at.end()) { f << "<td></td>"; continue; }
      const CellResult& c = *it->second;
      std::string anchor = absl::StrCat(c.scenario, "__", c.a, "-", c.b);
      bool detailed = !c.reason.empty() || !c.notes.empty();
      f << "<td class=\"" << Html(c.status) << "\" title=\"" << Html(FirstLine(c.reason, 300)) << "\">";
      if (detailed) f << "<a href=\"#" << Html(anchor) << "\">";
      f << "<b>" << Html(c.status) << "</b>";
      if (detailed) f << "</a>";
      if (c.status != "skip") f << " <small>" << absl::StrFormat("%.1f", c.duration_ms / 1000) << " s</small>";
      if (c.flaky) f << " <small class=\"flaky\" title=\"" << Html(c.notes.front()) << "\">flaky</small>";
      size_t deviations = Deviations(c);
      if (deviations) f << " <small>(" << deviations << " known deviation(s))</small>";
      if (c.setup_ms) f << "<br><small>setup " << absl::StrFormat("%.0f", *c.setup_ms) << " ms</small>";
      for (const ThroughputResult& t : c.throughput) {
        f << "<br><small>" << Html(t.label) << ": " << absl::StrFormat("%.1f", t.mbps) << " MB/s</small>";
      }
      f << "</td>";
    }
    f << "</tr>\n";
  }
  f << "</table>\n";
  // Details: reasons and notes, with the tail of the cell's log inline for failures, xfails and
  // flaky cells (the report stays one self-contained file), and a relative link to every log.
  bool any = false;
  for (const CellResult& c : cells) {
    if (c.reason.empty() && c.notes.empty()) continue;
    if (!any) f << "<h2>Details</h2>\n";
    any = true;
    f << "<h3 id=\"" << Html(absl::StrCat(c.scenario, "__", c.a, "-", c.b)) << "\">" << Html(c.scenario) << " — " << Html(Pair(c))
      << " (" << Html(c.flaky ? "pass, flaky" : c.status) << ")</h3><pre>" << Html(c.reason);
    for (const std::string& n : c.notes) f << (c.reason.empty() && &n == &c.notes.front() ? "" : "\n") << Html(n);
    f << "</pre>";
    if (!c.step_ms.empty()) {
      f << "<p><small>step times (ms):";
      for (size_t i = 0; i < c.step_ms.size(); ++i) f << (i ? ", " : " ") << i << ": " << absl::StrFormat("%.0f", c.step_ms[i]);
      f << "</small></p>";
    }
    if (!c.log_path.empty()) {
      f << "<p><small>log: <a href=\"logs/" << Html(BaseName(c.log_path)) << "\">" << Html(c.log_path) << "</a></small></p>";
      if (c.status == "fail" || c.status == "xfail" || c.flaky) {
        std::string tail = LogTail(c.log_path, 48 * 1024);
        if (!tail.empty()) f << "<details><summary>log (end)</summary><pre>" << Html(tail) << "</pre></details>";
      }
    }
    f << "\n";
  }
  f << "</body></html>\n";
  return static_cast<bool>(f);
}

}  // namespace refrtc::harness
