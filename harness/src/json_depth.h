// Deepest array/object nesting of a JSON text, brackets inside strings not counted. The harness's
// readers (scenario files, driver lines) and the native driver refuse texts nested deeper than 64
// before parsing: nlohmann::json's parser is iterative, but copying, dump() and the scenario
// matcher recurse once per level, so a line nested 200 000 deep overflowed the stack.
#pragma once

#include <algorithm>

#include "absl/strings/string_view.h"

namespace refrtc {

inline int JsonNestingDepth(absl::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') max_depth = std::max(max_depth, ++depth);
    else if (c == '}' || c == ']') --depth;
  }
  return max_depth;
}

}  // namespace refrtc
