#include "control/compile/snapshot_compiler.h"

#include "control/compile/overlay_source.h"
#include "control/compile/policy_compile.h"

namespace nodeplane::ctl {
namespace {

dp::OverlaySpec CompileOverlay(const DesiredState& state, const RuntimePorts& ports) {
  dp::OverlaySpec o;
  if (!state.node || state.node->vtep == Ip4{} || !ports.uplink) return o;
  const NodeModel& n = *state.node;
  o.enabled = true;
  o.vtep_ip = n.vtep;
  o.vni = n.vni;
  o.udp_port = n.vxlan_port;
  o.vtep_mac = n.vtep_mac;
  o.uplink_mtu = ports.uplink->mtu;
  o.snat_ip = PublishedOverlaySource(state, ports);
  return o;
}

}  // namespace

Ip4 UnderlayNextHop(const RemoteNodeModel& node) { return node.underlay; }

dp::SnapshotSpec CompileSnapshot(const DesiredState& state, const RuntimePorts& ports,
                                 uint64_t generation) {
  RemoteSlots slots;
  uint32_t next = 1;
  for (const auto& [name, node] : state.remote_nodes) slots[name] = next++;
  return CompileSnapshot(state, ports, generation, NeighborMap{}, slots);
}

dp::SnapshotSpec CompileSnapshot(const DesiredState& state, const RuntimePorts& ports,
                                 uint64_t generation, const NeighborMap& neighbors,
                                 const RemoteSlots& slots, PolicyCompileCache* policy_cache) {
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

  spec.overlay = CompileOverlay(state, ports);
  const NodeModel* local = state.node ? &*state.node : nullptr;
  for (const auto& [name, node] : state.remote_nodes) {
    const auto slot = slots.find(name);
    if (slot == slots.end()) continue;
    dp::RemoteNodeSpec r;
    r.slot = slot->second;
    r.underlay_ip = node.underlay;
    r.vni = node.EffectiveVni(local);
    r.udp_port = node.EffectivePort();
    r.vtep_mac = node.EffectiveVtepMac();
    if (const auto mac = neighbors.find(UnderlayNextHop(node)); mac != neighbors.end()) {
      r.next_hop_mac = mac->second;
    }
    spec.remote_nodes.push_back(r);
    spec.wanted_neighbors.push_back(UnderlayNextHop(node));
  }
  spec.policy = CompilePolicy(state, policy_cache);
  return spec;
}

}  // namespace nodeplane::ctl
