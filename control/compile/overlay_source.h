// The address this node's SNATed Service traffic has inside the overlay: the network address of
// its first pod CIDR (10.244.1.0 for 10.244.1.0/24), as Flannel gives its VXLAN device. A
// connection from outside the cluster to a NodePort, load-balancer IP or external IP here
// (externalTrafficPolicy Cluster) whose backend runs on another node is SNATed to it, so that
//  - the other node accepts it from our VTEP (its inner source lies in our pod CIDR) and
//  - routes the backend's reply to it back to us over VXLAN (our pod CIDR is ours in its Fib),
// where conntrack reverses both translations and the reply leaves the uplink to the client.
// No pod ever gets it: IPAM (host-local) never hands out a subnet's network address.
// Pure: no DPDK.
#pragma once
#include "control/compile/snapshot_compiler.h"
#include "control/model/desired_state.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

// 0.0.0.0 when the node has no pod CIDR of /30 or wider (the node's own address is used instead).
Ip4 OverlaySourceAddress(const NodeModel& node);

// What CompileSnapshot publishes as SnapshotSpec::overlay.snat_ip: the above when the node runs
// the overlay (a VTEP address and an uplink), else 0.0.0.0. `nodeplanectl lb` explains with it.
Ip4 PublishedOverlaySource(const DesiredState& state, const RuntimePorts& ports);

}  // namespace nodeplane::ctl
