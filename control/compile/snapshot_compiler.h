// Compiles the desired state, plus the ports the daemon runs, into the plain SnapshotSpec the
// dataplane builds its tables from. Pure and deterministic: same input, same spec; no DPDK.
#pragma once
#include <cstdint>
#include <optional>

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
};

struct RuntimePorts {
  uint16_t worker_count = 1;
  std::optional<RuntimePort> uplink;
  std::optional<RuntimePort> host;  // pod ports are in the attachments
};

dp::SnapshotSpec CompileSnapshot(const DesiredState& state, const RuntimePorts& ports,
                                 uint64_t generation);

}  // namespace nodeplane::ctl
