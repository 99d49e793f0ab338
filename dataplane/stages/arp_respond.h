// Stage arp_respond: ARP and neighbour handling on the node side of every port.
//   From a pod:    a request for its gateway address is answered in place (proxy ARP, routed model:
//                  every pod's next hop is the link-local gateway, answered with our MAC);
//                  anything else is dropped (ARP_NOT_GATEWAY).
//   From the host: a request for a local pod's address, or for one in a remote node's pod CIDRs
//                  (the Fib; not that node's own underlay address), is answered (the host routes
//                  pod traffic into the exception port); the rest is the host's own business →
//                  meta.punt.
//   From uplink:   a request for one of the node's addresses (the uplink's, the VTEP, one routed to
//                  the host) and every reply → meta.punt (the host kernel owns the node's addresses
//                  on the wire); a request for any other address is dropped (ARP_NOT_FOR_US: ARP
//                  storms stop here). Before that, a request or reply whose sender is a wanted
//                  underlay next hop (Snapshot::wanted_neighbors) is reported to control through
//                  Snapshot::neighbor_events (dataplane/core/neighbor_events.h); a full ring
//                  counts neighbor_events_lost and never holds the packet up.
//   Edges:   kTx (reply, out of the input port), kNext (non-ARP, or punted), kDrop.
//   Drops:   ARP_MALFORMED, ARP_NOT_GATEWAY, ARP_NOT_FOR_US.
//   Never:   allocates, locks, logs, throws, blocks.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct ArpRespondStage {
  static constexpr std::string_view kName = "arp_respond";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<ArpRespondStage>);

}  // namespace nodeplane::dp
