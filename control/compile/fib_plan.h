// The remote-node side of a change, planned without touching anything: which slot each remote node
// has, which routes the Fib must hold, and in which order to change the live Fib around the
// snapshot publication so that no worker ever looks up a slot its snapshot does not hold
// (dataplane/tables/fib.h states the rule; control/daemon/applier.cc carries the plan out).
// Pure: no DPDK.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/compile/snapshot_compiler.h"
#include "control/model/desired_state.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

// Remote pod CIDR → slot of the node that owns it.
using FibRoutes = std::map<Ip4Prefix, uint32_t>;

// Slots for `nodes`: a node that already has one keeps it; a new node gets the lowest slot no node
// in `current` holds (so a slot given up in this change is reused only after it has been published
// away). RESOURCE_EXHAUSTED when more than `max_slot` would be needed.
absl::StatusOr<RemoteSlots> AssignSlots(const RemoteSlots& current,
                                        const std::map<std::string, RemoteNodeModel>& nodes,
                                        uint32_t max_slot);

// Every remote node's pod CIDRs and its own underlay address (/32), pointing at its slot: a pod's
// packet to another node's address (its NodePort, say) goes to it over VXLAN, and that node's
// VXLAN may carry its own address as inner source (Service replies from its NodePort).
FibRoutes WantedRoutes(const std::map<std::string, RemoteNodeModel>& nodes,
                       const RemoteSlots& slots);

struct FibStep {
  enum class Op : uint8_t { kSet, kDelete } op;  // kSet adds, or re-points an existing prefix
  Ip4Prefix prefix;
  uint32_t slot = 0;  // kSet only
  friend bool operator==(const FibStep&, const FibStep&) = default;
};

struct FibPlan {
  // Allowed while the running snapshot is published: deletions, and re-pointing a prefix to a node
  // both snapshots hold.
  std::vector<FibStep> before_publish;
  // A node leaves: after `before_publish`, wait for a grace period before publishing the snapshot
  // without it, so that no worker still holds a lookup result naming its slot.
  bool grace_before_publish = false;
  // Needs the new snapshot published first: routes to nodes it introduces.
  std::vector<FibStep> after_publish;

  bool empty() const { return before_publish.empty() && after_publish.empty(); }
};

// From `installed` (what the Fib holds, published with the `published` slots) to `wanted` (with
// the `next` slots). A prefix whose node changes from one that leaves to one that arrives is
// unreachable for the length of the publication; every other prefix is untouched or changes in one
// atomic step.
FibPlan PlanFibUpdate(const FibRoutes& installed, const FibRoutes& wanted,
                      const RemoteSlots& published, const RemoteSlots& next);

}  // namespace nodeplane::ctl
