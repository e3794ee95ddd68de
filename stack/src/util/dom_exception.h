// Errors named as the W3C spec's DOMExceptions / RTCError / TypeError, carried in absl::Status.
// The name travels as the status payload "refrtc.dom_exception" so drivers can report the exact
// name; the absl code is chosen to be close in meaning.
#pragma once
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace refrtc {

absl::Status DomError(absl::string_view name, absl::string_view message);
inline absl::Status InvalidStateError(absl::string_view m) { return DomError("InvalidStateError", m); }
inline absl::Status InvalidAccessError(absl::string_view m) { return DomError("InvalidAccessError", m); }
inline absl::Status InvalidModificationError(absl::string_view m) {
  return DomError("InvalidModificationError", m);
}
inline absl::Status OperationError(absl::string_view m) { return DomError("OperationError", m); }
inline absl::Status SyntaxError(absl::string_view m) { return DomError("SyntaxError", m); }
inline absl::Status TypeError(absl::string_view m) { return DomError("TypeError", m); }
inline absl::Status RangeError(absl::string_view m) { return DomError("RangeError", m); }
inline absl::Status NotSupportedError(absl::string_view m) { return DomError("NotSupportedError", m); }
inline absl::Status InvalidCharacterError(absl::string_view m) {
  return DomError("InvalidCharacterError", m);
}
inline absl::Status NotFoundError(absl::string_view m) { return DomError("NotFoundError", m); }

// The DOMException name of a status: the payload when present, else derived from the code
// (OK -> "", InvalidArgument -> "TypeError", FailedPrecondition -> "InvalidStateError",
// otherwise "OperationError").
std::string DomErrorName(const absl::Status& s);

}  // namespace refrtc
