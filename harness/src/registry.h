// Driver registry: how each implementation's driver is started.
#pragma once
#include <string>
#include <vector>

#include "runner.h"

namespace refrtc::harness {

struct RegistryPaths {
  std::string repo_root;  // source tree (harness/drivers/...)
  std::string bin_dir;    // where refrtc_driver_native lives (normally the harness's own directory)
};

// Known driver names, in display order.
std::vector<std::string> KnownDrivers();

// The command line for `name`. The environment variable REFRTC_DRIVER_<NAME> (upper case), when set,
// replaces it (split on spaces). `missing` is set when the driver's program or script does not exist.
DriverSpec LookupDriver(const std::string& name, const RegistryPaths& paths);

}  // namespace refrtc::harness
