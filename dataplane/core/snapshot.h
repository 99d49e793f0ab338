// Snapshot: the immutable set of tables a worker reads, published by RCU (dataplane/core/published.h).
// Built and destroyed only on the control thread; workers hold a pointer for one loop iteration.
#pragma once
#include <rte_config.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/core/snapshot_spec.h"
#include "dataplane/tables/conntrack.h"
#include "dataplane/tables/fib.h"
#include "dataplane/tables/local_route_table.h"
#include "dataplane/tables/policy_table.h"
#include "dataplane/tables/remote_node_table.h"

namespace nodeplane::dp {

class NeighborEvents;
class UplinkPeers;
class ServiceTable;
class AffinityTable;

inline constexpr uint16_t kMaxWorkers = 16;
inline constexpr uint16_t kMaxWantedNeighbors = 256;
inline constexpr uint16_t kMaxRxQueuesPerWorker = RTE_MAX_ETHPORTS;

struct PortEntry {
  PortKind kind = PortKind::kNone;
  uint16_t tx_queues = 0;
  std::array<uint8_t, 6> mac{};
  std::array<uint8_t, 6> peer_mac{};
  uint32_t gateway_ip = 0;  // network order
  uint32_t pod_ip = 0;      // network order
};

struct RxQueueRef {
  uint16_t port;
  uint16_t queue;
};

struct RxAssignment {
  uint16_t n = 0;
  RxQueueRef queues[kMaxRxQueuesPerWorker];
};

// This node's VTEP, in the form the overlay stages compare packets with.
struct OverlayEntry {
  bool enabled = false;          // VTEP address and uplink known: VXLAN is sent and accepted
  uint32_t vtep_ip = 0;          // network order
  uint16_t udp_port = 0;         // network order
  uint32_t vni = 0;              // host order, 24 bits
  std::array<uint8_t, 6> vtep_mac{};  // inner source MAC of what we encapsulate
  uint16_t uplink_mtu = 1500;    // largest outer IPv4 packet the uplink carries
  uint32_t snat_ip = 0;          // network order; svc_lb's SNAT towards remote backends (0: none)
};

// Every field: ctl writes it while building, before publication; dp: ro afterwards; ctl frees it
// after the grace period that follows its replacement — except `fib`, which is not owned: see
// dataplane/tables/fib.h (long-lived, updated per route by control under its own rules).
struct Snapshot {
  uint64_t generation = 0;
  // Which snapshot this is among all built in the process (BuildSnapshot; never 0 there, 0 in one
  // assembled by hand): routes remembered for established connections (core/ct_route.h) hold only
  // under the snapshot they were decided in. A route change in the Fib is followed by a new
  // snapshot (control/daemon/applier.cc), which is what makes established connections see it.
  uint32_t epoch = 0;
  uint16_t uplink_port = 0xffff;
  uint16_t host_port = 0xffff;
  std::array<PortEntry, RTE_MAX_ETHPORTS> ports{};
  std::array<RxAssignment, kMaxWorkers> rx{};  // what each worker polls
  LocalRouteTable routes;
  OverlayEntry overlay;
  RemoteNodeTable remotes;      // by slot
  const Fib* fib = nullptr;     // remote pod CIDR → slot; nullptr: no remote routes at all
  // Underlay next hops whose ARP packets are reported to control: sorted, network order.
  uint16_t wanted_neighbors_n = 0;
  std::array<uint32_t, kMaxWantedNeighbors> wanted_neighbors{};
  // Where they are reported; not owned (outlives every snapshot); nullptr: nowhere.
  // dp: enqueue only (multi-producer), ctl: sets it before publication.
  NeighborEvents* neighbor_events = nullptr;
  // Connection tracking: not owned (dataplane/tables/conntrack.h: one per process, outlives every
  // snapshot; workers write entries under the table's own rules). nullptr: nothing is tracked.
  // Clients outside the cluster and the MAC they came from (dataplane/tables/uplink_peers.h):
  // not owned, one per process. dp: rw (lock-free), ctl: sets it before publication.
  UplinkPeers* uplink_peers = nullptr;
  Conntrack* conntrack = nullptr;
  // NetworkPolicy (dataplane/tables/policy_table.h) and the generation it was compiled as:
  // conntrack entries admitted under another generation are re-checked by the policy stage
  // (DESIGN §5). Nonzero once the first generation is published.
  PolicyTable policy;
  uint32_t policy_generation = 0;
  // Services (dataplane/tables/service_table.h): long-lived like the Fib, updated per key by
  // control; not owned. nullptr: no Services. dp: ro, ctl: sets it before publication.
  const ServiceTable* services = nullptr;
  // ClientIP affinity (dataplane/tables/affinity_table.h); not owned. dp: rw (lock-free), ctl: ro.
  AffinityTable* affinity = nullptr;

  bool IsWantedNeighbor(uint32_t ip_be) const noexcept {
    return std::binary_search(wanted_neighbors.data(), wanted_neighbors.data() + wanted_neighbors_n,
                              ip_be);
  }

  const PortEntry& port(uint16_t id) const { return ports[id < RTE_MAX_ETHPORTS ? id : 0]; }
};

// Builds the tables. Fails (nullptr, *error set) on a spec the tables cannot hold; never half-builds.
// `fib` (may be nullptr) is referenced, not owned: it must outlive the snapshot.
std::unique_ptr<Snapshot> BuildSnapshot(const SnapshotSpec& spec, const Fib* fib,
                                        std::string* error);
// The same without remote routes (fib = nullptr).
std::unique_ptr<Snapshot> BuildSnapshot(const SnapshotSpec& spec, std::string* error);

}  // namespace nodeplane::dp
