// The Applier's Services and EndpointSlices: each change builds the next ServiceState whole
// (control/model/service_from_proto.h ApplyServiceChange checks it) and commits it like any other.
#include "control/daemon/applier.h"
#include "control/model/service_from_proto.h"

namespace nodeplane::ctl {

absl::StatusOr<uint64_t> Applier::ChangeServicesLocked(
    std::vector<ServiceModel> upsert_services, const std::vector<ServiceKey>& delete_services,
    std::vector<EndpointSliceModel> upsert_slices,
    const std::vector<EndpointSliceKey>& delete_slices) {
  static const ServiceState kNone;
  auto services = ApplyServiceChange(state_.services ? *state_.services : kNone, false,
                                     std::move(upsert_services), delete_services,
                                     std::move(upsert_slices), delete_slices, "services",
                                     "endpoint_slices");
  if (!services.ok()) return services.status();
  DesiredState next = state_;
  next.services = std::make_shared<const ServiceState>(std::move(*services));
  return CommitLocked(std::move(next));
}

absl::StatusOr<uint64_t> Applier::UpsertServices(std::vector<ServiceModel> services) {
  std::lock_guard lock(mu_);
  return ChangeServicesLocked(std::move(services), {}, {}, {});
}

absl::StatusOr<uint64_t> Applier::DeleteServices(const std::vector<ServiceKey>& keys) {
  std::lock_guard lock(mu_);
  return ChangeServicesLocked({}, keys, {}, {});
}

absl::StatusOr<uint64_t> Applier::UpsertEndpointSlices(std::vector<EndpointSliceModel> slices) {
  std::lock_guard lock(mu_);
  return ChangeServicesLocked({}, {}, std::move(slices), {});
}

absl::StatusOr<uint64_t> Applier::DeleteEndpointSlices(const std::vector<EndpointSliceKey>& keys) {
  std::lock_guard lock(mu_);
  return ChangeServicesLocked({}, {}, {}, keys);
}

}  // namespace nodeplane::ctl
