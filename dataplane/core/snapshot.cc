#include "dataplane/core/snapshot.h"

#include <utility>
#include <vector>

namespace nodeplane::dp {
namespace {

// Spread every rx queue of every port over the workers. A port with one queue per worker gives
// worker w its queue w; ports with fewer queues are spread by port id so workers share the load.
bool AssignRxQueues(const SnapshotSpec& spec, Snapshot& snap, std::string* error) {
  for (const PortSpec& p : spec.ports) {
    for (uint16_t q = 0; q < p.rx_queues; ++q) {
      const uint16_t w = p.rx_queues >= spec.worker_count
                             ? q % spec.worker_count
                             : static_cast<uint16_t>((p.port_id + q) % spec.worker_count);
      RxAssignment& a = snap.rx[w];
      if (a.n == kMaxRxQueuesPerWorker) {
        *error = "too many rx queues for one worker";
        return false;
      }
      a.queues[a.n++] = RxQueueRef{p.port_id, q};
    }
  }
  return true;
}

}  // namespace

std::unique_ptr<Snapshot> BuildSnapshot(const SnapshotSpec& spec, std::string* error) {
  if (spec.worker_count == 0 || spec.worker_count > kMaxWorkers) {
    *error = "worker count out of range";
    return nullptr;
  }
  auto snap = std::make_unique<Snapshot>();
  snap->generation = spec.generation;
  for (const PortSpec& p : spec.ports) {
    if (p.port_id >= RTE_MAX_ETHPORTS || p.kind == PortKind::kNone) {
      *error = "port id out of range or kind unset: " + std::to_string(p.port_id);
      return nullptr;
    }
    if (p.tx_queues < spec.worker_count) {
      *error = "port " + std::to_string(p.port_id) + " has fewer tx queues than workers";
      return nullptr;
    }
    PortEntry& e = snap->ports[p.port_id];
    if (e.kind != PortKind::kNone) {
      *error = "port listed twice: " + std::to_string(p.port_id);
      return nullptr;
    }
    e.kind = p.kind;
    e.tx_queues = p.tx_queues;
    e.mac = p.mac.bytes;
    e.peer_mac = p.peer_mac.bytes;
    e.gateway_ip = p.gateway_ip.be;
    e.pod_ip = p.pod_ip.be;
    if (p.kind == PortKind::kUplink) snap->uplink_port = p.port_id;
    if (p.kind == PortKind::kHost) snap->host_port = p.port_id;
  }
  if (!AssignRxQueues(spec, *snap, error)) return nullptr;

  std::vector<std::pair<uint32_t, uint16_t>> routes;
  routes.reserve(spec.routes.size());
  for (const RouteSpec& r : spec.routes) {
    if (r.port_id >= RTE_MAX_ETHPORTS || snap->ports[r.port_id].kind == PortKind::kNone) {
      *error = "route " + r.dst.ToString() + " points at unknown port " + std::to_string(r.port_id);
      return nullptr;
    }
    routes.emplace_back(r.dst.be, r.port_id);
  }
  if (!snap->routes.Build(routes, error)) return nullptr;
  return snap;
}

}  // namespace nodeplane::dp
