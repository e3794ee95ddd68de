#include "registry.h"

#include <sys/stat.h>

#include <cctype>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace refrtc::harness {
namespace {

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::vector<std::string> KnownDrivers() { return {"native", "wrtc", "ndc", "werift", "chromium", "wasm"}; }

DriverSpec LookupDriver(const std::string& name, const RegistryPaths& paths) {
  DriverSpec spec;
  spec.name = name;
  std::string env_name = "REFRTC_DRIVER_";
  for (char c : name) env_name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : '_');
  if (const char* env = std::getenv(env_name.c_str()); env && *env) {
    for (absl::string_view part : absl::StrSplit(env, ' ', absl::SkipEmpty())) spec.argv.emplace_back(part);
    return spec;
  }
  if (name == "native") {
    std::string bin = absl::StrCat(paths.bin_dir, "/refrtc_driver_native");
    spec.argv = {bin};
    if (!IsFile(bin)) spec.missing = absl::StrCat(bin, " is not built");
    return spec;
  }
  // Node drivers: harness/drivers/<name>/driver.mjs, run from the repo root so node_modules resolves.
  static const char* kNode[] = {"wrtc", "ndc", "werift", "chromium", "wasm"};
  for (const char* n : kNode) {
    if (name != n) continue;
    std::string script = absl::StrCat(paths.repo_root, "/harness/drivers/", name, "/driver.mjs");
    spec.argv = {"node", script};
    spec.cwd = paths.repo_root;
    if (!IsFile(script)) spec.missing = absl::StrCat(script, " does not exist");
    // The wasm driver runs the npm package in wasm/, whose core comes from `cmake --preset wasm`.
    std::string core = absl::StrCat(paths.repo_root, "/wasm/dist/refrtc_core.cjs");
    if (spec.missing.empty() && name == "wasm" && !IsFile(core))
      spec.missing = absl::StrCat(core, " is not built (./refrtc build --wasm)");
    return spec;
  }
  spec.missing = absl::StrCat("unknown driver \"", name, "\" (known: native, wrtc, ndc, werift, chromium, wasm)");
  return spec;
}

}  // namespace refrtc::harness
