// Services and EndpointSlices: API messages → model, validating every field and naming it by its
// path in the request ("services[0].ports[1].node_port: ..."), and model → API for reads.
#pragma once
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/model/service_model.h"
#include "nodeplane/v1/nodeplane.pb.h"

namespace nodeplane::ctl {

absl::StatusOr<ServiceKey> ServiceKeyFromProto(const v1::ServiceKey& key, const std::string& field);
absl::StatusOr<ServiceModel> ServiceFromProto(const v1::Service& svc, const std::string& field,
                                              const NodePortRange& range);
absl::StatusOr<EndpointSliceKey> EndpointSliceKeyFromProto(const v1::EndpointSliceKey& key,
                                                           const std::string& field);
absl::StatusOr<EndpointSliceModel> EndpointSliceFromProto(const v1::EndpointSlice& slice,
                                                          const std::string& field);

// Whole lists, as a request carries them: each element valid, keys unique within the list.
absl::StatusOr<std::vector<ServiceModel>> ServicesFromProto(
    const google::protobuf::RepeatedPtrField<v1::Service>& services, const std::string& field,
    const NodePortRange& range);
absl::StatusOr<std::vector<EndpointSliceModel>> EndpointSlicesFromProto(
    const google::protobuf::RepeatedPtrField<v1::EndpointSlice>& slices, const std::string& field);

// What a request would make of `current` (upserts replace by key), checked as a whole: no NodePort
// (or health-check node port) number used twice for one protocol, no VIP:port/protocol served by
// two Services, no Service with more than kMaxBackendsPerService endpoints. Errors name the
// offending element of the request by `services_field`/`slices_field` ("services[1].ports[0]...").
absl::StatusOr<ServiceState> ApplyServiceChange(const ServiceState& current, bool replace_all,
                                                std::vector<ServiceModel> upsert_services,
                                                const std::vector<ServiceKey>& delete_services,
                                                std::vector<EndpointSliceModel> upsert_slices,
                                                const std::vector<EndpointSliceKey>& delete_slices,
                                                const std::string& services_field,
                                                const std::string& slices_field);

v1::Service ServiceToProto(const ServiceModel& svc);
v1::EndpointSlice EndpointSliceToProto(const EndpointSliceModel& slice);

}  // namespace nodeplane::ctl
