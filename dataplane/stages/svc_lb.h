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
//   Reject:  no usable endpoint anywhere (kube-proxy's REJECT): the packet becomes a TCP RST (ICMP
//            port unreachable for UDP/SCTP) from the address and port the client called, counted
//            as SVC_NO_ENDPOINTS. A client of this node (pod, host, uplink: a host on the segment
//            or behind a router) gets it back out of its input port, to the MAC the request came
//            from (kTx). A client behind VXLAN (a pod of another node calling our NodePort) gets
//            it as a new packet that continues (kNext, meta.own_reply, ct_state kNone, meta
//            describing the reply): ip4_lookup routes it by the Fib to the client's node,
//            ip4_forward and vxlan_encap send it encapsulated there.
//   Edges:   kNext (translated, not a Service, or a REJECT reply for a client behind VXLAN);
//            kTx (a REJECT reply out of the input port); kDrop: SVC_NO_LOCAL_ENDPOINT (Local
//            policy, none here), SVC_SOURCE_RANGE, SVC_NO_ENDPOINTS (when no reply may be built:
//            the request is itself a RST, comes from a broadcast/multicast source, or is in
//            several segments).
//   Writes:  meta.xlate_*; the affinity table (Snapshot::affinity, lock-free, shared); for a REJECT,
//            the packet and its meta (addresses, ports, protocol, own_reply).
//   Never:   allocates, locks, logs; rewrites a packet it forwards to a backend.
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
