// The relay's capture is decryptable: runs conformance/impaired/impaired-clean.json through
// refrtc_harness (native:native and native:wrtc), then tshark reads each cell's pcap with the cell's
// SSLKEYLOGFILE-format key log and must find the DCEP DATA_CHANNEL_OPEN / ACK (RFC 8832 §5, SCTP PPID
// 50) and the SCTP DATA chunks of the messages (PPID 51 string, 53 binary; RFC 8831 §8).
//
// Needs tshark (Debian package `tshark`, which pulls in wireshark-common). Wireshark 4.0 has no
// "decode as SCTP" for DTLS application data, so a three-line Lua script adds SCTP to the
// dtls.port table for the relay's ports (listed in report.json, cell.network.ports).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace {

std::string SelfDir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.rfind('/'));
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Runs a shell command; returns its exit status and stdout+stderr.
int Shell(const std::string& cmd, std::string* output) {
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  size_t n;
  output->clear();
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) output->append(buf, n);
  int status = pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int CountLines(const std::string& s, const std::string& needle) {
  std::istringstream in(s);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.find(needle) != std::string::npos) ++n;
  }
  return n;
}

// Occurrences of `value` as a whole comma/line-separated field value (tshark prints one line per
// packet, several chunks of one packet comma-separated).
int CountValues(const std::string& s, const std::string& value) {
  int n = 0;
  std::string cur;
  for (size_t i = 0; i <= s.size(); ++i) {
    char c = i < s.size() ? s[i] : '\n';
    if (c == ',' || c == '\n' || c == '\t') {
      if (cur == value) ++n;
      cur.clear();
    } else if (c != '\r') {
      cur.push_back(c);
    }
  }
  return n;
}

TEST(Capture, TsharkDecryptsDcepAndSctpData) {
  std::string out;
  ASSERT_EQ(Shell("command -v tshark", &out), 0)
      << "tshark is not installed: apt-get install -y --no-install-recommends tshark (the capture test needs it)";
#ifdef REFRTC_HARNESS_BIN
  std::string harness = REFRTC_HARNESS_BIN;
#else
  std::string harness = SelfDir() + "/refrtc_harness";
#endif
  std::string bin = harness.substr(0, harness.rfind('/'));
  ASSERT_TRUE(Exists(harness)) << harness << " is not built";
  ASSERT_TRUE(Exists(bin + "/refrtc_driver_native")) << bin << "/refrtc_driver_native is not built";

  std::string dir = ::testing::TempDir() + "/refrtc_capture_test." + std::to_string(getpid());
  std::string cmd = "'" + harness + "' --suite '" REFRTC_SOURCE_DIR "/conformance/impaired/impaired-clean.json' --pairs native:native,native:wrtc "
                    "--retries 1 --report-dir '" + dir + "' --repo-root '" REFRTC_SOURCE_DIR "'";
  int rc = Shell(cmd, &out);
  ASSERT_EQ(rc, 0) << out;

  std::ifstream in(dir + "/report.json");
  nlohmann::json report = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(report.is_object() && report.contains("cells")) << "no report in " << dir;
  ASSERT_EQ(report["cells"].size(), 2u);
  for (const auto& cell : report["cells"]) {
    std::string pair = cell.value("pair", std::string("?"));
    SCOPED_TRACE(pair);
    ASSERT_EQ(cell.value("status", ""), "pass") << cell.dump();
    ASSERT_TRUE(cell.contains("network")) << "no relay in " << cell.dump();
    const auto& net = cell["network"];
    std::string pcap = net.value("pcap", ""), keys = net.value("keylog", "");
    ASSERT_TRUE(Exists(pcap)) << pcap;
    std::ifstream k(keys);
    std::string key_text((std::istreambuf_iterator<char>(k)), std::istreambuf_iterator<char>());
    ASSERT_GE(CountLines(key_text, "CLIENT_RANDOM "), 1) << "no key log lines in " << keys;

    // Wireshark 4.0: DTLS application data → SCTP on the relay's ports (Lua; see the file comment).
    std::string lua = dir + "/sctp_over_dtls.lua";
    {
      std::ofstream l(lua, std::ios::trunc);
      l << "local t = DissectorTable.get(\"dtls.port\")\nlocal sctp = Dissector.get(\"sctp\")\n";
      for (const auto& p : net["ports"]) l << "t:add(" << p.get<int>() << ", sctp)\n";
    }
    std::string base = "tshark -n -X lua_script:'" + lua + "' -r '" + pcap + "' -o tls.keylog_file:'" + keys + "' ";
    // DCEP: DATA_CHANNEL_OPEN (type 3) with our label, DATA_CHANNEL_ACK (type 2).
    ASSERT_EQ(Shell(base + "-Y 'sctp.data_payload_proto_id == 50' -T fields -e rtcdc.message_type -e rtcdc.label", &out), 0) << out;
    EXPECT_GE(CountLines(out, "3\tclean"), 1) << "no DATA_CHANNEL_OPEN for label \"clean\":\n" << out;
    EXPECT_GE(CountValues(out, "2"), 1) << "no DATA_CHANNEL_ACK:\n" << out;
    // User messages: 1 + 50 strings (PPID 51), 1 + 3 binary (PPID 53); the 70,000-byte ones are
    // fragmented into several DATA chunks, so at least 55 chunks carry those PPIDs.
    ASSERT_EQ(Shell(base + "-Y 'sctp.data_payload_proto_id == 51 || sctp.data_payload_proto_id == 53' -T fields "
                         "-e sctp.data_payload_proto_id",
                  &out),
              0)
        << out;
    int strings = CountValues(out, "51"), binaries = CountValues(out, "53");
    EXPECT_GE(strings, 51) << out.substr(0, 2000);
    EXPECT_GE(binaries, 4) << out.substr(0, 2000);
  }
  std::string ignored;
  Shell("rm -rf '" + dir + "'", &ignored);
}

}  // namespace
