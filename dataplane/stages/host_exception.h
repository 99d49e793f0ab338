// Stage host_exception: the exception path. Packets an earlier stage marked as not ours
// (meta.punt) go to the host kernel through the exception port, and what the host kernel sends
// that is not for a pod goes out of the uplink — untouched both ways, so the node stays reachable
// on its own addresses while the dataplane owns the NIC.
//   Punted from the overlay (a remote node's packet for one of our addresses, decapsulated): its
//   inner Ethernet header carried the VTEP MACs, so it gets the one the host port expects, as
//   ip4_forward writes for a local port (destination = the kernel interface's MAC, source = ours
//   on the host port). TTL is left alone: the packet is delivered to this node, not forwarded (the
//   sending node made the routing hop; Linux's VXLAN device delivers it the same way).
//   Edges:   kNext (meta.out_port set for punted packets), kDrop.
//   Drops:   PORT_UNAVAILABLE (no exception port / no uplink configured).
//   Never:   allocates, locks, logs, throws.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct HostExceptionStage {
  static constexpr std::string_view kName = "host_exception";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<HostExceptionStage>);

}  // namespace nodeplane::dp
