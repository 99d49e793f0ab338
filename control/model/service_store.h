// ServiceStore: applies one Services/EndpointSlices request to the running ServiceState in place,
// at the cost of what the request carries, not of the number of Services stored: the claim index
// (control/model/service_claims.h) and the health-check index are kept per Service, and every
// value the request replaces is kept aside so the change can be taken back whole.
//
// The protocol (the Applier's, under its lock):
//   Apply  — validates the request while applying it; on error the state is exactly as before;
//   then either nothing more (the change stands) or Undo — a later step (compile, table fit)
//   failed — which restores the state and the indexes exactly.
// The state is edited in place only when the caller's pointer is its sole holder; while a reader
// still holds it (a copy of DesiredState from Applier::state()), Apply first copies it, so a
// reader never sees a change happen. A different ServiceState (a sync) is re-indexed once.
// Single-threaded (the caller's lock). Pure C++.
#pragma once
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "control/model/service_claims.h"
#include "control/model/service_model.h"

namespace nodeplane::ctl {

// What one applied request replaced, to take it back; and which Services it touched.
struct ServiceChange {
  std::vector<std::pair<ServiceKey, std::optional<ServiceModel>>> services;  // previous values
  std::vector<std::pair<EndpointSliceKey, std::optional<EndpointSliceModel>>> slices;
  // Services whose compiled entries may differ: upserted, deleted, owners of changed slices.
  std::set<ServiceKey> touched;
};

class ServiceStore {
 public:
  // The request, as ApplyServiceChange (control/model/service_from_proto.h) takes it and with the
  // same checks and error fields: upserts replace by key, deletes ignore unknown keys, no NodePort
  // or VIP:port claimed twice, at most kMaxBackendsPerService endpoints per Service.
  // `state` is the running state's slot: it may be replaced by a private copy (see above).
  absl::StatusOr<ServiceChange> Apply(std::shared_ptr<const ServiceState>& state,
                                      std::vector<ServiceModel> upsert_services,
                                      const std::vector<ServiceKey>& delete_services,
                                      std::vector<EndpointSliceModel> upsert_slices,
                                      const std::vector<EndpointSliceKey>& delete_slices,
                                      const std::string& services_field,
                                      const std::string& slices_field);
  // Takes back the last Apply on the same slot.
  void Undo(std::shared_ptr<const ServiceState>& state, ServiceChange change);

  // The Services with a health-check node port that the proxy programs, for `state` (re-indexed
  // when it is not the state last indexed).
  const std::set<ServiceKey>& HealthChecked(const std::shared_ptr<const ServiceState>& state);
  // The claim index, for `state` (tests compare it with one built from scratch).
  const ServiceClaims& Claims(const std::shared_ptr<const ServiceState>& state);

 private:
  ServiceState& Writable(std::shared_ptr<const ServiceState>& state);
  void Index(const std::shared_ptr<const ServiceState>& state);
  void Forget(const ServiceModel& svc);    // drops its claims and health-check mark
  void Remember(const ServiceModel& svc);  // adds them back (a stored Service: cannot clash)
  void UndoServices(ServiceState& st, ServiceChange& change);

  // The state the indexes describe, and the one this store created (non-const, so it may edit
  // it). Compared by address; the weak pointers keep those addresses from being reused.
  const ServiceState* indexed_ = nullptr;
  std::weak_ptr<const ServiceState> indexed_keep_;
  ServiceState* own_ = nullptr;
  std::weak_ptr<ServiceState> own_keep_;
  ServiceClaims claims_;
  std::set<ServiceKey> health_checked_;
};

}  // namespace nodeplane::ctl
