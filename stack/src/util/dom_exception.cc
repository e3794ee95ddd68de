#include "util/dom_exception.h"

#include "absl/strings/cord.h"

namespace refrtc {
namespace {
constexpr char kPayloadUrl[] = "refrtc.dom_exception";

absl::StatusCode CodeFor(absl::string_view name) {
  if (name == "InvalidStateError") return absl::StatusCode::kFailedPrecondition;
  if (name == "TypeError" || name == "SyntaxError" || name == "InvalidCharacterError")
    return absl::StatusCode::kInvalidArgument;
  if (name == "RangeError") return absl::StatusCode::kOutOfRange;
  if (name == "NotSupportedError") return absl::StatusCode::kUnimplemented;
  if (name == "NotFoundError") return absl::StatusCode::kNotFound;
  if (name == "InvalidAccessError") return absl::StatusCode::kPermissionDenied;
  if (name == "InvalidModificationError") return absl::StatusCode::kAborted;
  return absl::StatusCode::kInternal;
}
}  // namespace

absl::Status DomError(absl::string_view name, absl::string_view message) {
  absl::Status s(CodeFor(name), message);
  s.SetPayload(kPayloadUrl, absl::Cord(name));
  return s;
}

std::string DomErrorName(const absl::Status& s) {
  if (s.ok()) return "";
  if (auto p = s.GetPayload(kPayloadUrl)) return std::string(*p);
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: return "TypeError";
    case absl::StatusCode::kFailedPrecondition: return "InvalidStateError";
    case absl::StatusCode::kOutOfRange: return "RangeError";
    case absl::StatusCode::kUnimplemented: return "NotSupportedError";
    case absl::StatusCode::kNotFound: return "NotFoundError";
    default: return "OperationError";
  }
}

}  // namespace refrtc
