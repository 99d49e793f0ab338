// SnapshotSpec: a plain description of everything the workers need, produced by control/compile
// without DPDK. dataplane/core/snapshot.cc turns it into the DPDK tables workers read.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "dataplane/core/policy_spec.h"
#include "nodeplane/addr.h"

namespace nodeplane::dp {

enum class PortKind : uint8_t {
  kNone = 0,  // not a port the dataplane uses (or gone)
  kUplink,    // the node's NIC towards the network
  kPod,       // one local pod's interface
  kHost,      // the exception port to the host kernel
};

struct PortSpec {
  uint16_t port_id = 0;  // DPDK port id
  PortKind kind = PortKind::kNone;
  Mac mac;          // our side: the source MAC the dataplane sends with on this port
  Mac peer_mac;     // the kernel interface behind it (pod eth0 / host tap); unused on the uplink
  Ip4 gateway_ip;   // the address we answer ARP for and send ICMP errors from on this port
  Ip4 pod_ip;       // kPod: the only IPv4 source address accepted from it (anti-spoofing)
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
};

struct RouteSpec {
  Ip4 dst;           // a /32: a local pod address or one of the node's own addresses
  uint16_t port_id;  // where packets for it leave
};

// This node's end of the overlay (VXLAN, RFC 7348).
struct OverlaySpec {
  bool enabled = false;         // a VTEP address and an uplink: VXLAN is sent and accepted
  Ip4 vtep_ip;                  // outer source of what we send; the only outer destination accepted
  uint32_t vni = 1;             // the only VNI accepted
  uint16_t udp_port = 4789;     // the only UDP destination port accepted
  Mac vtep_mac;                 // inner source MAC of what we send
  uint16_t uplink_mtu = 1500;   // largest outer IPv4 packet: inner packets up to this − 50 fit
  // SNAT source of Service connections from outside to a backend on another node: an address in
  // this node's pod CIDR (control/compile/overlay_source.h); 0.0.0.0: the node address instead.
  Ip4 snat_ip;
};

// A remote node, reached over VXLAN. Its pod CIDRs are not here: they are routes in the
// process's long-lived Fib (dataplane/tables/fib.h), which point at `slot`.
struct RemoteNodeSpec {
  uint32_t slot = 0;               // 1..; stable while the node exists (the Fib refers to it)
  Ip4 underlay_ip;                 // its VTEP: outer destination of what we send it, outer source
                                   // of what it sends us
  uint32_t vni = 1;                // VNI and UDP port it accepts
  uint16_t udp_port = 4789;
  Mac vtep_mac;                    // inner destination MAC it accepts
  std::optional<Mac> next_hop_mac; // the underlay next hop's MAC; unset: unresolved (drop)
};

struct SnapshotSpec {
  uint64_t generation = 0;
  uint16_t worker_count = 1;
  std::vector<PortSpec> ports;
  std::vector<RouteSpec> routes;
  OverlaySpec overlay;
  std::vector<RemoteNodeSpec> remote_nodes;
  // Underlay addresses whose ARP packets workers report to control (the remote nodes' next hops;
  // see dataplane/core/neighbor_events.h). At most kMaxWantedNeighbors; the rest are not reported.
  std::vector<Ip4> wanted_neighbors;
  // NetworkPolicy (control/compile/policy_compile.h) and its generation: moves whenever the
  // compiled policy may have changed; 0 until the first policy input is published.
  PolicySpec policy;
  uint32_t policy_generation = 0;
};

}  // namespace nodeplane::dp
