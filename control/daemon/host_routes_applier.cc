// The Applier's part of the host's routes to remote pod CIDRs (control/daemon/host_routes.h).
#include "control/daemon/applier.h"

namespace nodeplane::ctl {

void Applier::SetHostPodRouteOps(HostPodRoutes::Ops ops) {
  std::lock_guard lock(mu_);
  host_routes_.emplace(std::move(ops));
}

std::set<Ip4Prefix> Applier::host_pod_routes() const {
  std::lock_guard lock(mu_);
  return host_routes_ ? host_routes_->installed() : std::set<Ip4Prefix>{};
}

absl::StatusOr<uint64_t> Applier::CommitRemoteNodesLocked(DesiredState next, bool resync) {
  if (!host_routes_) return CommitLocked(std::move(next));
  if (absl::Status s = next.Check(); !s.ok()) return s;  // invalid input touches no route
  const std::set<Ip4Prefix> wanted = HostPodRoutes::Wanted(next);
  if (absl::Status s = host_routes_->Prepare(wanted, resync); !s.ok()) return s;
  auto generation = CommitLocked(std::move(next));
  if (!generation.ok()) {
    host_routes_->Abort();
    return generation;
  }
  host_routes_->Settle(wanted);
  return generation;
}

}  // namespace nodeplane::ctl
