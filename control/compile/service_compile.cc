#include "control/compile/service_compile.h"

#include <set>

#include "control/compile/endpoint_selection.h"
#include "control/compile/maglev.h"

namespace nodeplane::ctl {
namespace {

// Every weighted endpoint keeps at least one Maglev slot (control/compile/maglev.h).
static_assert(kMaxEndpointWeight <= kSlotsPerBackend);

uint16_t Be16(uint16_t v) { return static_cast<uint16_t>((v >> 8) | (v << 8)); }

struct Candidate {
  const EndpointModel* ep;
  uint16_t port;  // resolved target port, host order
};

// The port an endpoint serves `sp` on, or 0 when it does not.
uint16_t ResolvePort(const ServicePortModel& sp, const EndpointSliceModel& slice,
                     const EndpointModel& ep, const std::map<PodKey, PodModel>& pods,
                     bool* named) {
  for (const EndpointPortModel& p : slice.ports) {
    if (p.name == sp.name && p.protocol == sp.protocol) return p.port;
  }
  if (!slice.ports.empty()) return 0;  // the slice lists its ports and this one is not there
  if (sp.target_port_name.empty()) return sp.target_port;
  *named = true;
  if (!ep.target_pod) return 0;
  auto it = pods.find(*ep.target_pod);
  if (it == pods.end()) return 0;
  for (const ContainerPort& cp : it->second.ports) {
    if (cp.name == sp.target_port_name && cp.protocol == sp.protocol) return cp.port;
  }
  return 0;
}

// The API's weight (a nodeplane extension): unset (0) means 1.
uint32_t EndpointWeight(const EndpointModel& ep) { return ep.weight != 0 ? ep.weight : 1; }

std::vector<uint16_t> Table(const std::vector<size_t>& set, const std::vector<size_t>& position,
                            const std::vector<Candidate>& cands) {
  if (set.empty()) return {};
  std::vector<MaglevBackend> mb;
  for (size_t i : set) {
    mb.push_back({(uint64_t{cands[i].ep->address.host()} << 16) | cands[i].port,
                  EndpointWeight(*cands[i].ep)});
  }
  std::vector<uint16_t> t = BuildMaglevTable(mb, MaglevTableSize(mb.size()));
  for (uint16_t& slot : t) slot = static_cast<uint16_t>(position[set[slot]]);
  return t;
}

}  // namespace

uint8_t IpProtocolNumber(L4Protocol p) {
  switch (p) {
    case L4Protocol::kTcp: return 6;
    case L4Protocol::kUdp: return 17;
    case L4Protocol::kSctp: return 132;
  }
  return 0;
}

CompiledService CompileService(const ServiceModel& svc,
                               const std::vector<const EndpointSliceModel*>& slices,
                               const NodeModel* node, const std::map<PodKey, PodModel>& pods,
                               const std::vector<uint32_t>& port_ids) {
  CompiledService out;
  for (size_t i = 0; i < svc.ports.size(); ++i) {
    out.port_ids.push_back({svc.ports[i].name, svc.ports[i].protocol,
                            i < port_ids.size() ? port_ids[i] : 0});
  }
  if (!svc.Proxied()) return out;
  const SelectionPolicy policy{svc.internal_policy == TrafficPolicy::kLocal,
                               svc.external_policy == TrafficPolicy::kLocal,
                               svc.ExternallyAccessible()};
  const NodeTopology topo{node ? node->name : "", node ? node->zone : ""};
  const uint32_t node_ip = node && !node->addresses.empty() ? node->addresses.front().addr.be : 0;
  std::set<dp::ServiceTableKey> backend_keys;
  for (size_t port_index = 0; port_index < svc.ports.size(); ++port_index) {
    const ServicePortModel& sp = svc.ports[port_index];
    const uint8_t proto = IpProtocolNumber(sp.protocol);
    // The endpoints serving this port, once each.
    std::vector<Candidate> cands;
    std::set<std::pair<Ip4, uint16_t>> seen;
    for (const EndpointSliceModel* slice : slices) {
      if (!slice->ipv4) continue;
      for (const EndpointModel& ep : slice->endpoints) {
        const uint16_t port = ResolvePort(sp, *slice, ep, pods, &out.uses_named_ports);
        if (port == 0 || !seen.insert({ep.address, port}).second) continue;
        cands.push_back({&ep, port});
        if (cands.size() == kMaxBackendsPerService) break;
      }
    }
    std::vector<SelectionEndpoint> sel;
    for (const Candidate& c : cands) {
      sel.push_back({c.ep->ready, c.ep->serving, c.ep->terminating,
                     node != nullptr && c.ep->node_name == node->name, c.ep->zone_hints,
                     c.ep->node_hints});
    }
    const EndpointSets sets = CategorizeEndpoints(sel, policy, topo);
    dp::ServiceEntrySpec spec;
    spec.service_id = out.port_ids[port_index].id;  // affinity per Service port
    spec.external_local = policy.external_local;
    spec.internal_local = policy.internal_local;
    spec.affinity_timeout_s = svc.affinity_timeout_s ? svc.AffinityTimeout() : 0;
    spec.has_any_endpoint = sets.has_any;
    spec.snat_ip_be = node_ip;
    std::vector<size_t> position(cands.size(), 0);
    for (size_t k = 0; k < sets.all_reachable.size(); ++k) {
      const Candidate& c = cands[sets.all_reachable[k]];
      position[sets.all_reachable[k]] = k;
      spec.backends.push_back({c.ep->address.be, Be16(c.port), sel[sets.all_reachable[k]].local,
                               EndpointWeight(*c.ep)});
      const dp::ServiceTableKey bk{c.ep->address.be, Be16(c.port), proto, 0};
      if (backend_keys.insert(bk).second) out.backends.push_back({bk, sel[sets.all_reachable[k]].local});
    }
    spec.cluster_table = Table(sets.cluster.value_or(std::vector<size_t>{}), position, cands);
    spec.local_table = Table(sets.local.value_or(std::vector<size_t>{}), position, cands);
    auto add = [&](uint32_t ip_be, uint16_t port, dp::ServiceAddressKind kind, uint32_t snat) {
      dp::ServiceEntrySpec s = spec;
      s.kind = kind;
      s.snat_ip_be = snat;
      if (kind == dp::ServiceAddressKind::kLoadBalancer) {
        for (const Ip4Prefix& r : svc.source_ranges) {
          const uint32_t mask = r.len == 0 ? 0 : ~uint32_t{0} << (32 - r.len);
          s.source_ranges.push_back({r.addr.be, Ip4::FromHost(mask).be});
        }
      }
      out.entries[dp::ServiceTableKey{ip_be, Be16(port), proto, 0}] = std::move(s);
    };
    for (Ip4 ip : svc.cluster_ips) add(ip.be, sp.port, dp::ServiceAddressKind::kClusterIp, node_ip);
    for (Ip4 ip : svc.external_ips) add(ip.be, sp.port, dp::ServiceAddressKind::kExternalIp, node_ip);
    for (Ip4 ip : svc.load_balancer_ips) {
      add(ip.be, sp.port, dp::ServiceAddressKind::kLoadBalancer, node_ip);
    }
    if (sp.node_port != 0 && node != nullptr) {
      // Without an overlay, SNAT to the very address the client called, so its replies come back
      // the same way (with one, svc_lb uses the node's overlay address: svc_lb_decide.h).
      for (const Ip4Prefix& a : node->addresses) {
        add(a.addr.be, sp.node_port, dp::ServiceAddressKind::kNodePort, a.addr.be);
      }
    }
  }
  return out;
}

}  // namespace nodeplane::ctl
