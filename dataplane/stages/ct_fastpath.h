// Stage ct_fastpath: sends an established connection's packet the way the slow path sent the
// connection's previous packets in the same direction, without asking the routing stages again.
// The routing stages (ip4_lookup, ip4_forward) leave a route word and the NAT's checksum deltas
// beside the conntrack record (Conntrack::Fastpath, core/ct_route.h) when they forward an
// established TCP or UDP packet; this stage, right after ct_lookup, takes every packet whose word
// was written under the running snapshot and for its input side, and does in one pass what the
// later stages would do to it: the entry's NAT (the other direction's tuple reversed, with the
// deltas: core/nat_apply.h RewriteWithDeltas), the hop (TTL and MACs, as ip4_forward) and, for a
// remote node, the VXLAN header (core/vxlan_push.h, as vxlan_encap). The bytes sent and the
// counters (routed, vxlan_encapsulated) are the same as the slow path's; ct_fastpath counts too.
//   Why it is exact: everything the skipped stages decide for such a packet is fixed by the
//   connection (its NAT, its policy verdict under the current generation) or by the snapshot (the
//   route: local routes, remote nodes, ports; a Fib change is followed by a new snapshot), and
//   both are part of the key. What depends on the packet itself is checked here and sends the
//   packet down the slow path instead: TTL 1 or less, too big to encapsulate, a remote node
//   unresolved or gone, no headroom.
//   Takes:   IPv4 TCP/UDP packets with ports, kEstablished or kReply, admitted under the snapshot's
//            policy generation, whose route word matches (snapshot epoch, input port, overlay).
//   Edges:   kTx (sent on meta.out_port), kNext (the slow path: everything else).
//   Drops:   none.
//   Writes:  the packet (NAT, TTL, MACs, VXLAN); meta as nat_rewrite, ip4_lookup and vxlan_encap
//            leave it (dst_ip, ports, out_port, remote, l3_offset, src_ip).
//   Never:   decides a route, NAT or policy; remembers routes (ip4_forward does); touches other
//            packets of the burst. A connection's packets in one direction all take the same path
//            within a burst (a worker writes words after this stage has passed its burst), so
//            none overtakes another.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct CtFastpathStage {
  static constexpr std::string_view kName = "ct_fastpath";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<CtFastpathStage>);

}  // namespace nodeplane::dp
