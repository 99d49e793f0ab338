// absl::Status (control-plane errors) → grpc::Status, code for code.
#pragma once
#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace nodeplane::ctl {

inline grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

}  // namespace nodeplane::ctl
