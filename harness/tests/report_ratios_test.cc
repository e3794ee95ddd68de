// ComputeRatios: implementations against native refrtc, equal peers, same run.
#include <cmath>
#include <sstream>

#include "gtest/gtest.h"
#include "report.h"

namespace refrtc::harness {
namespace {

CellResult Cell(const std::string& impl, const std::string& scenario, std::optional<double> setup,
                std::vector<ThroughputResult> tp = {}, const std::string& status = "pass") {
  CellResult c;
  c.a = c.b = impl;
  c.suite = "s";
  c.scenario = scenario;
  c.status = status;
  c.setup_ms = setup;
  c.throughput = std::move(tp);
  return c;
}

ThroughputResult Tp(const std::string& label, double mbps) {
  ThroughputResult t;
  t.label = label;
  t.direction = "A→B";
  t.mbps = mbps;
  return t;
}

TEST(Ratios, GeometricMeanOfThroughputAndMedianSetup) {
  std::vector<CellResult> cells = {
      Cell("native", "x", 10, {Tp("16k", 100), Tp("1k", 50)}),
      Cell("wasm", "x", 30, {Tp("16k", 50), Tp("1k", 50)}),  // ratios 0.5 and 1 → geometric mean √0.5
      Cell("native", "y", 20),
      Cell("wasm", "y", 50),
      Cell("native", "z", 30),
      Cell("wasm", "z", 1000, {}, "fail"),  // failed cells do not count
      Cell("wasm", "only-wasm", 5),         // no native counterpart: ignored
  };
  CellResult mixed = Cell("native", "x", 1);
  mixed.b = "wasm";  // mixed pairs are not equal peers
  cells.push_back(mixed);
  auto ratios = ComputeRatios(cells);
  ASSERT_EQ(ratios.size(), 1u);
  EXPECT_EQ(ratios[0].impl, "wasm");
  EXPECT_EQ(ratios[0].throughput_samples, 2);
  EXPECT_NEAR(ratios[0].throughput, std::sqrt(0.5), 1e-9);
  EXPECT_EQ(ratios[0].setup_samples, 2);
  EXPECT_DOUBLE_EQ(ratios[0].impl_setup_ms, 40);       // median of 30, 50
  EXPECT_DOUBLE_EQ(ratios[0].reference_setup_ms, 15);  // median of 10, 20
  EXPECT_NEAR(ratios[0].setup, 40.0 / 15.0, 1e-9);
  std::ostringstream out;
  PrintRatios(out, ratios);
  EXPECT_NE(out.str().find("ratio wasm/native"), std::string::npos) << out.str();
  EXPECT_EQ(RatiosToJson(ratios)[0]["throughputSamples"], 2);
}

TEST(Ratios, NothingWithoutTheReference) {
  EXPECT_TRUE(ComputeRatios({Cell("wasm", "x", 3)}).empty());
  EXPECT_TRUE(ComputeRatios({}).empty());
}

}  // namespace
}  // namespace refrtc::harness
