// Stage vxlan_decap: terminates the overlay (RFC 7348). Runs right after eth_parse.
//   Input:   IPv4 packets from the uplink that eth_parse validated (outer header included).
//   Ours:    UDP to this node's VTEP address and VXLAN port (OverlayEntry). Checked in order:
//            not an outer fragment (VXLAN_OUTER_FRAGMENT), UDP length consistent with the packet
//            and long enough for VXLAN + inner Ethernet (VXLAN_TRUNCATED), the I flag set
//            (VXLAN_BAD_FLAGS; reserved bits are ignored, as RFC 7348 says), the VNI is ours
//            (VXLAN_WRONG_VNI), the inner frame is IPv4 (VXLAN_INNER_NOT_IP4) with a valid
//            header (the IP4_* reasons, core/ip4_header.h — the same checks as eth_parse), and the
//            inner source lies in the pod CIDRs of the remote node whose underlay address sent it
//            (one bulk Fib lookup per burst; VXLAN_INNER_SPOOFED). Then the outer headers are
//            stripped (rte_pktmbuf_adj), the frame is cut to the VXLAN payload's length, and
//            PacketMeta describes the inner packet with meta.from_overlay set; ip4_lookup
//            delivers it to a local pod or drops it (VXLAN_INNER_NO_POD).
//   Not ours, passed on untouched: anything not from the uplink, not UDP, a non-first fragment
//            (it has no UDP header to tell), UDP to our VTEP on another port (ordinary host
//            traffic: punted later), UDP to the VXLAN port for another address of this node or a
//            local pod. UDP to the VXLAN port for any other address (it reached our MAC) →
//            VXLAN_OTHER_VTEP. The outer UDP checksum is not verified (RFC 7348 §4.2 allows it;
//            Linux sends 0) and the inner MACs are not checked (we route, we do not bridge).
//   Edges:   kNext, kDrop.   Reads: Snapshot::overlay, fib, remotes, routes.
//   Writes:  the packet (outer headers removed); meta.{l3_offset, src_ip, dst_ip, from_overlay}.
//   Never:   allocates, locks, logs, throws.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct VxlanDecapStage {
  static constexpr std::string_view kName = "vxlan_decap";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<VxlanDecapStage>);

}  // namespace nodeplane::dp
