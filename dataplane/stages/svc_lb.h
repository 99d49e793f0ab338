// Stage svc_lb: Kubernetes Services — which backend a new connection to a Service address gets.
//   Decides only (DESIGN §3): writes meta.xlate_dst_{ip,port} (DNAT) and meta.xlate_src_ip (SNAT);
//   nat_rewrite applies them and conntrack remembers them, so established packets never come here.
//   Input:   IPv4 TCP/UDP/SCTP packets with ports, not punted, that open a connection (ct_state
//            kNew; kNone too, while conntrack does not run).
//   Lookup:  one bulk lookup of (dst, dst port, protocol) per burst in Snapshot::services
//            (dataplane/tables/service_table.h). A miss is not a Service: kNext, untouched.
//   Choice:  traffic "from outside" is what arrives on the uplink (a host on the underlay, or a pod
//            of another node through VXLAN); pods and the host of this node are inside.
//            - load-balancer IP with loadBalancerSourceRanges, source outside them → SVC_SOURCE_RANGE;
//            - ClusterIP: internalTrafficPolicy Local → this node's endpoints, else the cluster's;
//            - NodePort/LB IP/externalIP from outside: externalTrafficPolicy Local → this node's
//              endpoints, client source kept; Cluster → the cluster's, SNAT to this node's
//              overlay address (Snapshot::overlay.snat_ip, in its pod CIDR: a backend on another
//              node accepts it and routes the reply back here over VXLAN; no overlay: the node
//              address);
//              from inside: the cluster's, no SNAT (kube-proxy's short circuit);
//            - ClusterIP from outside: SNAT the same way (replies must come back here);
//            - hairpin (the chosen backend is the client itself): SNAT to the pod's gateway
//              address on its port, so the pod sees a peer that is not itself and replies to us.
//            Backend: the ClientIP affinity entry if the Service has affinity and it is fresh,
//            else Maglev over a hash of the 5-tuple (control/compile/maglev.h).
//   Edges:   kNext (translated, or not a Service); kTx — no usable endpoint anywhere: the packet
//            becomes a TCP RST (or ICMP port unreachable for UDP/SCTP) back to the client on its
//            input port, counted as SVC_NO_ENDPOINTS; kDrop: SVC_NO_LOCAL_ENDPOINT (Local policy,
//            none here), SVC_SOURCE_RANGE, SVC_NO_ENDPOINTS (when no reply can be built, or the
//            client is behind VXLAN).
//   Writes:  meta.xlate_*; the affinity table (Snapshot::affinity, lock-free, shared).
//   Never:   allocates, locks, logs; rewrites a packet it forwards.
#pragma once
#include <string_view>

#include "dataplane/core/stage.h"

namespace nodeplane::dp {

struct SvcLbStage {
  static constexpr std::string_view kName = "svc_lb";
  static void Process(StageContext& ctx, Burst& burst, Verdicts& out) noexcept;
};
static_assert(Stage<SvcLbStage>);

}  // namespace nodeplane::dp
