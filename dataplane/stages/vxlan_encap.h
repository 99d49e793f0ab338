// Stage vxlan_encap: sends a pod's packet to a remote node inside VXLAN (RFC 7348). Runs after
// ip4_forward, which decided nothing here: ip4_lookup chose the node (meta.remote) and
// ip4_forward already did TTL, inner MACs and the MTU check.
//   Per packet to a remote node: the inner frame is cut to its IPv4 total length (no Ethernet
//   padding travels), the node's precomputed 50-byte outer header (RemoteNodeTable) is prepended
//   with rte_pktmbuf_prepend and three fields are patched: outer IPv4 total length with an
//   incremental header checksum (the template's checksum is for length 0, RFC 1624), UDP length,
//   and the UDP source port = 49152 + the inner flow's hash mod 16384 (RFC 7348 §5: the RSS hash
//   when the NIC gave one, else for a tracked packet its connection's record — one port for the
//   connection's life, both directions —, else a hash of the inner addresses, protocol and ports),
//   so the underlay spreads flows over its paths and the receiver's RSS over its queues. The inner
//   packet and its checksums are left untouched; the outer UDP checksum is 0. No TX offload is
//   used: the whole outer checksum update is two additions, cheaper than describing it to a NIC.
//   Edges:   kNext (now an outer IPv4/UDP/VXLAN frame for the uplink), kDrop, kHold (the node's
//            underlay next hop has no MAC yet: parked in the worker's PendingResolution, sent by
//            the worker once it resolves — core/pending_resolution.h).
//   Drops:   NEIGHBOR_UNRESOLVED (no MAC yet and the pending queue's bounds reached — or held
//            past its deadline, counted by the worker), ENCAP_NO_HEADROOM,
//            NO_ROUTE (the node left the snapshot; cannot happen with the Fib's ordering rules).
//   Skips:   everything without meta.remote.
//   Never:   allocates, locks, logs, throws.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct VxlanEncapStage {
  static constexpr std::string_view kName = "vxlan_encap";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<VxlanEncapStage>);

}  // namespace nodeplane::dp
