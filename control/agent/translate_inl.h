// Template part of translate.h.
#pragma once

#include "absl/status/status.h"

namespace nodeplane::agent::detail {

template <typename Fn>
auto Guard(Kind kind, const Json& object, Fn fn) -> absl::StatusOr<decltype(fn())> {
  try {
    if (!object.is_object()) {
      return absl::InvalidArgumentError(std::string(KindName(kind)) + ": not a JSON object");
    }
    return fn();
  } catch (const FieldError& e) {
    return absl::InvalidArgumentError(Describe(kind, object) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(Describe(kind, object) + ": " + e.what());
  }
}

}  // namespace nodeplane::agent::detail
