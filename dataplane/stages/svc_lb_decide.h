// The Service decision for one new connection, shared by the svc_lb stage (per packet) and the
// control plane's explanation of it (`nodeplanectl lb`), so what is explained is what runs.
// Pure and read-only: recording the affinity choice is the caller's (the stage's) business.
#pragma once
#include <cstdint>

#include "dataplane/tables/affinity_table.h"
#include "dataplane/tables/service_table.h"

namespace nodeplane::dp {

struct ServiceDecision {
  enum class Outcome : uint8_t { kTranslate, kReject, kDropNoLocalEndpoint, kDropSourceRange };
  Outcome outcome = Outcome::kTranslate;
  bool local_set = false;     // chose among this node's endpoints (a Local traffic policy)
  bool snat = false;          // SNAT to the entry's node address (before the hairpin check)
  bool affinity_hit = false;  // the ClientIP affinity entry chose the backend
  uint32_t slot = 0;          // Maglev slot (when not by affinity)
  uint32_t slots = 0;         // Maglev table length of the set used
  uint16_t backend = 0;       // index into e.backends (kTranslate)
};

uint32_t ServiceFlowHash(uint32_t src_be, uint32_t dst_be, uint16_t sport_be, uint16_t dport_be,
                         uint8_t proto) noexcept;

// `outside`: the connection comes from outside the cluster (the uplink, not this node's pods or
// host). `affinity` may be null; `now_s` is its clock.
inline ServiceDecision DecideService(const ServiceEntry& e, bool outside, uint32_t src_be,
                                     uint32_t dst_be, uint16_t sport_be, uint16_t dport_be,
                                     uint8_t proto, const AffinityTable* affinity,
                                     uint32_t now_s) noexcept {
  ServiceDecision d;
  if (e.kind == ServiceAddressKind::kLoadBalancer && e.n_ranges != 0) {
    bool in = false;
    for (uint16_t i = 0; i < e.n_ranges && !in; ++i) {
      in = (src_be & e.ranges[i].mask_be) == e.ranges[i].net_be;
    }
    if (!in) {
      d.outcome = ServiceDecision::Outcome::kDropSourceRange;
      return d;
    }
  }
  if (e.kind == ServiceAddressKind::kClusterIp) {
    d.local_set = e.internal_local;
    d.snat = outside;  // an off-cluster client of a ClusterIP: replies must come back here
  } else if (outside) {
    d.local_set = e.external_local;
    d.snat = !e.external_local;
  }  // in-cluster traffic to NodePort/LB/external IPs: Cluster semantics, no SNAT
  d.slots = d.local_set ? e.local_slots : e.cluster_slots;
  if (d.slots == 0) {
    d.outcome = e.has_any_endpoint ? ServiceDecision::Outcome::kDropNoLocalEndpoint
                                   : ServiceDecision::Outcome::kReject;
    return d;
  }
  AffinityTable::Choice c;
  if (affinity != nullptr && e.affinity_timeout_s != 0 &&
      affinity->Lookup(src_be, e.service_id, now_s, e.affinity_timeout_s, &c) &&
      c.index < e.n_backends &&
      (d.local_set ? e.backends[c.index].local : e.backends[c.index].in_cluster) &&
      e.backends[c.index].ip_be == c.ip_be && e.backends[c.index].port_be == c.port_be) {
    d.affinity_hit = true;
    d.backend = c.index;
    return d;
  }
  const uint32_t h = ServiceFlowHash(src_be, dst_be, sport_be, dport_be, proto);
  d.slot = static_cast<uint32_t>((static_cast<uint64_t>(h) * d.slots) >> 32);
  d.backend = d.local_set ? e.local_table[d.slot] : e.cluster_table[d.slot];
  return d;
}

// The source a translated connection leaves with when `d.snat` (the hairpin case is the caller's):
// `overlay_snat_be`, this node's address inside its pod CIDR (control/compile/overlay_source.h),
// whichever node the backend runs on — a backend on another node must see a source that node
// accepts from our VTEP and routes back to us over VXLAN, which the node address is not; one on
// this node is answered through conntrack whatever the address. Without one (no overlay): the
// entry's node address.
// A backend that is another node's own address (a hostNetwork endpoint) is the exception: as with
// kube-proxy's masquerade, it sees this node's underlay address (`underlay_be`, our VTEP), and
// the connection stays on the underlay both ways (ip4_forward sends it unencapsulated; that
// node's kernel answers us there).
inline uint32_t SnatSource(const ServiceEntry& e, const ServiceBackend& b, uint32_t overlay_snat_be,
                           uint32_t underlay_be) noexcept {
  if (b.remote_node != 0 && overlay_snat_be != 0 && underlay_be != 0) return underlay_be;
  return overlay_snat_be != 0 ? overlay_snat_be : e.snat_ip_be;
}

}  // namespace nodeplane::dp
