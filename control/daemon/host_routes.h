// HostPodRoutes: the host kernel's routes to other nodes' pod CIDRs through the exception
// interface, so that the host (and every hostNetwork pod) reaches remote pods, and answers remote
// nodes' traffic to its own addresses, over the overlay (dataplane/README.md, "The host across the
// overlay"). The routes to this node's own pod CIDRs are Applier::ConfigureHostLocked's.
// Kept in step with the remote nodes by every commit that can change them: routes a change needs
// are added before it is published (a failure rejects the change, and what was added for it is
// taken out again); routes it no longer needs are removed after (a failure there is reported and
// retried on the next commit: nothing fails after the swap). SetNode and syncs add them all again
// (new addresses on the interface may have taken routes through it with the old ones).
// Not thread-safe: the Applier calls it under its lock.
#pragma once
#include <functional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "control/model/desired_state.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

class HostPodRoutes {
 public:
  // How a route is added (or replaced) and removed; removing one that is gone is OK.
  struct Ops {
    std::function<absl::Status(const Ip4Prefix&)> replace;
    std::function<absl::Status(const Ip4Prefix&)> remove;
  };
  explicit HostPodRoutes(Ops ops) : ops_(std::move(ops)) {}
  // Routes through `ifname` in nodeplaned's own network namespace (control/netns/pod_interface.h),
  // with `mtu` (what fits the tunnel: the uplink's less VXLAN, as pods get), so the host's TCP
  // advertises and sends segments that fit without depending on ICMP.
  static HostPodRoutes ThroughInterface(const std::string& ifname, uint32_t mtu);

  // Every remote node's pod CIDRs.
  static std::set<Ip4Prefix> Wanted(const DesiredState& state);

  // Before publishing `wanted`: adds the routes not installed yet (all of them with `resync`, which
  // also repairs routes removed behind our back). On failure, removes what this call added.
  absl::Status Prepare(const std::set<Ip4Prefix>& wanted, bool resync);
  // After `wanted` is published: removes the installed routes it lacks.
  void Settle(const std::set<Ip4Prefix>& wanted);
  // The change was not published: removes what Prepare added.
  void Abort();

  const std::set<Ip4Prefix>& installed() const { return installed_; }

 private:
  Ops ops_;
  std::set<Ip4Prefix> installed_;  // in the kernel (as far as we know)
  std::set<Ip4Prefix> added_;      // by the last Prepare, not installed before it
};

}  // namespace nodeplane::ctl
