// ListConntrack and FlushConntrack: the conntrack table (dataplane/tables/conntrack.h) through the
// API. Thin: the filter is validated (errors name the field), then the table's own control
// operations run (serialised among control threads; workers never wait on them).
#pragma once
#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/statusor.h"
#include "dataplane/tables/conntrack.h"
#include "nodeplane/v1/conntrack.pb.h"

namespace nodeplane::ctl {

inline constexpr uint32_t kDefaultConntrackListLimit = 10000;

// The table's filter for `f`; INVALID_ARGUMENT naming `field`.<name> when malformed.
absl::StatusOr<dp::CtFilter> ConntrackFilterFromProto(const v1::ConntrackFilter& f,
                                                      const std::string& field);

// `ct` nullptr (no table in this process): FAILED_PRECONDITION.
grpc::Status ListConntrack(const dp::Conntrack* ct, const v1::ListConntrackRequest& req,
                           v1::ListConntrackReply* reply);
grpc::Status FlushConntrack(dp::Conntrack* ct, const v1::FlushConntrackRequest& req,
                            v1::FlushConntrackReply* reply);

}  // namespace nodeplane::ctl
