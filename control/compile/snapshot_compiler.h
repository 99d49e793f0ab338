// Compiles the desired state, plus the ports the daemon runs and what it knows of the underlay,
// into the plain SnapshotSpec the dataplane builds its tables from. Pure and deterministic: same
// input, same spec; no DPDK.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "control/model/desired_state.h"
#include "dataplane/core/snapshot_spec.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

// The MAC the dataplane answers with on pod and host ports: the "router" every pod sees.
// Locally administered, unicast; the same on every node so pods never re-ARP after a move.
inline constexpr Mac kGatewayMac{{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}};

struct RuntimePort {
  uint16_t port_id = 0;
  Mac mac;             // the device's MAC (uplink NIC; host tap's kernel side)
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  uint16_t mtu = 1500;  // the device's MTU (rte_eth_dev_get_mtu)
};

struct RuntimePorts {
  uint16_t worker_count = 1;
  std::optional<RuntimePort> uplink;
  std::optional<RuntimePort> host;  // pod ports are in the attachments
};

// Underlay addresses → MACs, as the daemon's NeighborCache knows them (control/daemon/
// neighbor_cache.h): static entries and, later, what ARP on the uplink learns.
using NeighborMap = std::map<Ip4, Mac>;
// Remote node name → its slot (1..) in the Fib and the remote node table; control/compile/fib_plan.h
// assigns them so that they stay stable while a node exists.
using RemoteSlots = std::map<std::string, uint32_t>;

// Where packets for a remote VTEP go first on the underlay: for now the VTEP itself (nodes share
// the uplink's L2 segment). A gateway for VTEPs in other subnets would be decided here.
Ip4 UnderlayNextHop(const RemoteNodeModel& node);

// The full form. Remote nodes without a slot in `slots` are left out.
// `policy_cache` (may be nullptr) lets NetworkPolicy compilation reuse earlier work
// (control/compile/policy_compile.h).
struct PolicyCompileCache;
dp::SnapshotSpec CompileSnapshot(const DesiredState& state, const RuntimePorts& ports,
                                 uint64_t generation, const NeighborMap& neighbors,
                                 const RemoteSlots& slots,
                                 PolicyCompileCache* policy_cache = nullptr);
// No neighbours known (every remote node unresolved), slots 1.. in name order.
dp::SnapshotSpec CompileSnapshot(const DesiredState& state, const RuntimePorts& ports,
                                 uint64_t generation);

}  // namespace nodeplane::ctl
