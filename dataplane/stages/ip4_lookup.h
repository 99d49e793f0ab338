// Stage ip4_lookup: L3 lookup — where does this IPv4 packet go?
//   Decides only; ip4_forward acts. One bulk lookup of the destination per burst in the local
//   table, then one bulk lookup in the Fib for the pods' packets that missed it.
//   From a pod:    the source must be the pod's own address (SOURCE_SPOOFED otherwise); a local pod
//                  or node address → meta.out_port; a remote pod CIDR (Fib) → meta.out_port =
//                  uplink and meta.remote = that node's slot (vxlan_encap will encapsulate it);
//                  anything else → NO_ROUTE.
//   From the overlay (meta.from_overlay, decapsulated by vxlan_decap): a local pod →
//                  meta.out_port; anything else → VXLAN_INNER_NO_POD (no transit: a remote node
//                  reaches only this node's pods through it).
//   From uplink/host: a local pod → meta.out_port; anything else (including the node's own
//                  addresses seen on the uplink) is the host's → meta.punt.
//   Edges:   kNext, kDrop.   Reads: Snapshot::routes, fib, overlay, ports.
//   Never:   allocates, locks, logs.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct Ip4LookupStage {
  static constexpr std::string_view kName = "ip4_lookup";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<Ip4LookupStage>);

}  // namespace nodeplane::dp
