#include "control/compile/snapshot_compiler.h"

namespace nodeplane::ctl {

dp::SnapshotSpec CompileSnapshot(const DesiredState& state, const RuntimePorts& ports,
                                 uint64_t generation) {
  dp::SnapshotSpec spec;
  spec.generation = generation;
  spec.worker_count = ports.worker_count;
  const Ip4 node_ip =
      state.node && !state.node->addresses.empty() ? state.node->addresses.front().addr : Ip4{};
  const Ip4 gateway = state.node ? state.node->pod_gateway : *Ip4::Parse(kDefaultPodGateway);

  if (ports.uplink) {
    const RuntimePort& u = *ports.uplink;
    spec.ports.push_back(dp::PortSpec{u.port_id, dp::PortKind::kUplink, u.mac, Mac{}, node_ip,
                                      Ip4{}, u.rx_queues, u.tx_queues});
  }
  if (ports.host) {
    const RuntimePort& h = *ports.host;
    spec.ports.push_back(dp::PortSpec{h.port_id, dp::PortKind::kHost, kGatewayMac, h.mac, node_ip,
                                      Ip4{}, h.rx_queues, h.tx_queues});
    if (state.node) {
      for (const Ip4Prefix& a : state.node->addresses) spec.routes.push_back({a.addr, h.port_id});
    }
  }
  for (const auto& [key, att] : state.attachments) {
    const PodModel& pod = state.pods.at(key);
    const Ip4 pod_ip = pod.ips.empty() ? Ip4{} : pod.ips.front();
    spec.ports.push_back(dp::PortSpec{att.port_id, dp::PortKind::kPod, kGatewayMac, att.mac,
                                      gateway, pod_ip, att.rx_queues, att.tx_queues});
    for (const Ip4& ip : pod.ips) spec.routes.push_back({ip, att.port_id});
  }
  return spec;
}

}  // namespace nodeplane::ctl
