#include "dataplane/core/snapshot.h"

#include <rte_byteorder.h>

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

#include "dataplane/core/packet_meta.h"

namespace nodeplane::dp {
namespace {

// Snapshot::epoch: every snapshot built in this process gets the next one (0 is never given).
uint32_t NextEpoch() {
  static std::atomic<uint32_t> last{0};
  uint32_t e = last.fetch_add(1, std::memory_order_relaxed) + 1;
  if (e == 0) e = last.fetch_add(1, std::memory_order_relaxed) + 1;
  return e;
}

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

bool BuildOverlay(const SnapshotSpec& spec, Snapshot& snap, std::string* error) {
  const OverlaySpec& o = spec.overlay;
  const bool uplink = snap.uplink_port != kNoPort;
  if (o.enabled) {
    if (!uplink) {
      *error = "overlay enabled without an uplink";
      return false;
    }
    if (o.vni == 0 || o.vni > 0xffffff || o.udp_port == 0 || o.uplink_mtu <= kVxlanEncapLen) {
      *error = "overlay: VNI, UDP port or uplink MTU out of range";
      return false;
    }
    snap.overlay.enabled = true;
    snap.overlay.vtep_ip = o.vtep_ip.be;
    snap.overlay.udp_port = rte_cpu_to_be_16(o.udp_port);
    snap.overlay.vni = o.vni;
    snap.overlay.vtep_mac = o.vtep_mac.bytes;
    snap.overlay.uplink_mtu = o.uplink_mtu;
    snap.overlay.snat_ip = o.snat_ip.be;
  }
  Mac uplink_mac;
  if (uplink) uplink_mac.bytes = snap.ports[snap.uplink_port].mac;
  return snap.remotes.Build(o, uplink_mac, spec.remote_nodes, error);
}

}  // namespace

std::unique_ptr<Snapshot> BuildSnapshot(const SnapshotSpec& spec, std::string* error) {
  return BuildSnapshot(spec, nullptr, error);
}

std::unique_ptr<Snapshot> BuildSnapshot(const SnapshotSpec& spec, const Fib* fib,
                                        std::string* error) {
  if (spec.worker_count == 0 || spec.worker_count > kMaxWorkers) {
    *error = "worker count out of range";
    return nullptr;
  }
  auto snap = std::make_unique<Snapshot>();
  snap->generation = spec.generation;
  snap->epoch = NextEpoch();
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
  if (!BuildOverlay(spec, *snap, error)) return nullptr;
  snap->fib = fib;
  if (!snap->policy.Build(spec.policy, error)) return nullptr;
  snap->policy_generation = spec.policy_generation;
  std::vector<uint32_t> wanted;
  for (const Ip4& ip : spec.wanted_neighbors) {
    if (ip != Ip4{}) wanted.push_back(ip.be);
  }
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  if (wanted.size() > kMaxWantedNeighbors) wanted.resize(kMaxWantedNeighbors);
  std::copy(wanted.begin(), wanted.end(), snap->wanted_neighbors.begin());
  snap->wanted_neighbors_n = static_cast<uint16_t>(wanted.size());
  return snap;
}

}  // namespace nodeplane::dp
