// Stage ip4_forward: acts on ip4_lookup's decision for routed packets — TTL, checksum, MACs, MTU.
//   TTL 0 or 1: the packet becomes an ICMP time-exceeded back out of its input port, from that
//   port's gateway address (counted as drop IP4_TTL_EXCEEDED, and icmp_time_exceeded_sent). A
//   packet that came from the overlay is dropped without an error (it would have to go back
//   encapsulated; not done).
//   To a remote node (meta.remote set): if the packet plus the 50 bytes of VXLAN exceeds the
//   uplink MTU it is not sent (ENCAP_TOO_BIG); with DF set it becomes an ICMP fragmentation-needed
//   (RFC 1191: next-hop MTU = uplink MTU − 50) back to the pod, counted icmp_frag_needed_sent.
//   Otherwise: TTL−1 with an incremental checksum update (RFC 1624), then the Ethernet header: to a
//   local port, source = our MAC on it, destination = the kernel interface behind it; to a remote
//   node, the inner MACs its VTEP expects (source = our VTEP MAC, destination = its VTEP MAC).
//   To a remote node's own underlay address from ours, in a connection this node translated (a
//   hostNetwork endpoint there): not encapsulated — the node's underlay MAC from the uplink's,
//   meta.remote cleared, so it leaves the uplink as plain IP like the node's replies come back
//   (when its MAC is known and the packet fits the uplink; else the VXLAN path above). Such
//   routes are not remembered for ct_fastpath.
//   Edges:   kNext, kTx (ICMP error), kDrop.
//   Drops:   IP4_TTL_EXCEEDED, ENCAP_TOO_BIG, NO_ROUTE (remote node gone from the snapshot).
//   Skips:   non-IPv4 and punted packets (they pass through unchanged).
//   Never:   allocates, locks, logs, throws.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct Ip4ForwardStage {
  static constexpr std::string_view kName = "ip4_forward";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<Ip4ForwardStage>);

}  // namespace nodeplane::dp
