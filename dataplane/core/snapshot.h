// Snapshot: the immutable set of tables a worker reads, published by RCU (dataplane/core/published.h).
// Built and destroyed only on the control thread; workers hold a pointer for one loop iteration.
#pragma once
#include <rte_config.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/core/snapshot_spec.h"
#include "dataplane/tables/local_route_table.h"

namespace nodeplane::dp {

inline constexpr uint16_t kMaxWorkers = 16;
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

// Every field: ctl writes it while building, before publication; dp: ro afterwards; ctl frees it
// after the grace period that follows its replacement.
struct Snapshot {
  uint64_t generation = 0;
  uint16_t uplink_port = 0xffff;
  uint16_t host_port = 0xffff;
  std::array<PortEntry, RTE_MAX_ETHPORTS> ports{};
  std::array<RxAssignment, kMaxWorkers> rx{};  // what each worker polls
  LocalRouteTable routes;

  const PortEntry& port(uint16_t id) const { return ports[id < RTE_MAX_ETHPORTS ? id : 0]; }
};

// Builds the tables. Fails (nullptr, *error set) on a spec the tables cannot hold; never half-builds.
std::unique_ptr<Snapshot> BuildSnapshot(const SnapshotSpec& spec, std::string* error);

}  // namespace nodeplane::dp
