// SnapshotSpec: a plain description of everything the workers need, produced by control/compile
// without DPDK. dataplane/core/snapshot.cc turns it into the DPDK tables workers read.
#pragma once
#include <cstdint>
#include <vector>

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

struct SnapshotSpec {
  uint64_t generation = 0;
  uint16_t worker_count = 1;
  std::vector<PortSpec> ports;
  std::vector<RouteSpec> routes;
};

}  // namespace nodeplane::dp
