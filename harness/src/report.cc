#include "report.h"

#include <algorithm>
#include <fstream>
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
    size_t deviations = c.notes.size() - (c.flaky ? 1 : 0);
    if (deviations) note = absl::StrCat(deviations, " known deviation(s); ", note);
    if (c.flaky) note = absl::StrCat(FirstLine(c.notes.front(), 120), "; ", note);
    if (!c.reason.empty()) note = FirstLine(c.reason, 160);
    out << Pad(c.scenario, w_sc) << "  " << Pad(Pair(c), w_pair) << "  " << Pad(c.flaky ? "flaky" : c.status, 6) << "  " << Pad(setup, 9) << "  "
        << Pad(mbps, 8) << "  " << note << "\n";
  }
}

bool WriteJsonReport(const std::string& path, const std::vector<CellResult>& cells, const json& meta) {
  json report = meta;
  json arr = json::array();
  for (const CellResult& c : cells) arr.push_back(CellToJson(c));
  report["cells"] = arr;
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

bool WriteHtmlReport(const std::string& path, const std::vector<CellResult>& cells, const json& meta) {
  std::vector<std::string> scenarios, pairs;
  std::map<std::pair<std::string, std::string>, const CellResult*> at;
  for (const CellResult& c : cells) {
    if (std::find(scenarios.begin(), scenarios.end(), c.scenario) == scenarios.end()) scenarios.push_back(c.scenario);
    if (std::find(pairs.begin(), pairs.end(), Pair(c)) == pairs.end()) pairs.push_back(Pair(c));
    at[{c.scenario, Pair(c)}] = &c;
  }
  Summary s = Summarize(cells);
  std::ofstream f(path, std::ios::trunc);
  if (!f) return false;
  f << "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>refrtc conformance</title><style>\n"
       "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
       "td,th{border:1px solid #ccc;padding:.4em .7em;text-align:left;vertical-align:top}"
       ".pass{background:#d7f5d7}.fail{background:#f8d0d0}.skip{background:#eee}.xfail{background:#fbeec0}.xpass{background:#d0e4f8}"
       "small{color:#555}pre{white-space:pre-wrap;max-width:70em}\n</style></head><body>\n";
  f << "<h1>refrtc conformance matrix</h1>\n<p>A offers, B answers. Generated " << Html(meta.value("generated", std::string()))
    << ". " << s.passed << " passed, " << s.failed << " failed, " << s.skipped << " skipped, " << s.xfailed
    << " known peer issues.</p>\n<table><tr><th>scenario</th>";
  for (const std::string& p : pairs) f << "<th>" << Html(p) << "</th>";
  f << "</tr>\n";
  for (const std::string& sc : scenarios) {
    f << "<tr><th>" << Html(sc) << "</th>";
    for (const std::string& p : pairs) {
      auto it = at.find({sc, p});
      if (it == at.end()) { f << "<td></td>"; continue; }
      const CellResult& c = *it->second;
      f << "<td class=\"" << Html(c.status) << "\" title=\"" << Html(c.reason) << "\"><b>" << Html(c.status) << "</b>";
      if (c.flaky) f << " <small class=\"flaky\" title=\"" << Html(c.notes.front()) << "\">(flaky: passed on a rerun)</small>";
      if (c.notes.size() > (c.flaky ? 1u : 0u)) f << " <small title=\"" << Html(c.notes.front()) << "\">(" << c.notes.size() << " known deviation(s))</small>";
      if (c.setup_ms) f << "<br><small>setup " << absl::StrFormat("%.0f", *c.setup_ms) << " ms</small>";
      for (const ThroughputResult& t : c.throughput) {
        f << "<br><small>" << Html(t.label) << ": " << absl::StrFormat("%.1f", t.mbps) << " MB/s</small>";
      }
      f << "</td>";
    }
    f << "</tr>\n";
  }
  f << "</table>\n";
  bool any = false;
  for (const CellResult& c : cells) {
    if (c.reason.empty() && c.notes.empty()) continue;
    if (!any) f << "<h2>Details</h2>\n";
    any = true;
    f << "<h3>" << Html(c.scenario) << " — " << Html(Pair(c)) << " (" << Html(c.status) << ")</h3><pre>" << Html(c.reason);
    for (const std::string& n : c.notes) f << "\n" << Html(n);
    f << "</pre>";
    if (!c.log_path.empty()) f << "<p><small>log: " << Html(c.log_path) << "</small></p>";
    f << "\n";
  }
  f << "</body></html>\n";
  return static_cast<bool>(f);
}

}  // namespace refrtc::harness
