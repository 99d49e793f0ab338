// Stage ip4_lookup: L3 lookup — where does this IPv4 packet go?
//   Decides only; ip4_forward acts. One bulk lookup of the destination per burst in the local
//   table, then one bulk lookup in the Fib for the pods' packets that missed it (and the
//   translated ones below).
//   From a pod:    the source must be the pod's own address (SOURCE_SPOOFED otherwise); a local pod
//                  or node address → meta.out_port; a remote pod CIDR or node address (Fib) →
//                  meta.out_port = uplink and meta.remote = that node's slot (vxlan_encap will
//                  encapsulate it); anything else → NO_ROUTE.
//                  A conntrack reply to a client outside the cluster (UplinkPeers) → uplink.
//   From the overlay (meta.from_overlay, decapsulated by vxlan_decap): a local pod →
//                  meta.out_port; a reply to a client outside the cluster → uplink; a connection
//                  this node translated (its conntrack entry has a DNAT or SNAT) to a remote pod
//                  CIDR (Fib) → that node; svc_lb's REJECT reply to a client behind VXLAN
//                  (meta.own_reply) → the client's node by the Fib (NO_ROUTE if it has none);
//                  one of this node's own addresses (routed to the host port: a host-network
//                  endpoint) → meta.punt (host_exception delivers it to the host kernel);
//                  anything else → VXLAN_INNER_NO_POD (no other transit).
//   From uplink/host: a local pod → meta.out_port; a reply to an outside client → uplink; a
//                  connection this node translated (a Service from outside whose backend runs on
//                  another node) to a remote pod CIDR or node address → that node (ip4_forward
//                  sends one between our and the node's own underlay addresses unencapsulated,
//                  everything else goes over VXLAN); from the host, a
//                  remote pod CIDR (Fib) → that node over VXLAN like a pod's packet, but a remote
//                  node's own underlay address (the Fib's /32 to it) stays on the underlay
//                  (meta.punt); anything else (including the node's own addresses seen on the
//                  uplink) is the host's → meta.punt.
//   Edges:   kNext, kDrop.   Reads: Snapshot::routes, fib, overlay, ports, uplink_peers; meta.ct.
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
