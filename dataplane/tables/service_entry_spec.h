// ServiceEntrySpec: a plain description of one service table entry — what one (VIP, port,
// protocol) does to a new connection — made by control/compile/service_compile.cc without DPDK and
// flattened by dataplane/tables/service_table.cc into the entry svc_lb reads.
#pragma once
#include <compare>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nodeplane::dp {

// The key: destination address and port (network order) and IP protocol number.
struct ServiceTableKey {
  uint32_t ip_be = 0;
  uint16_t port_be = 0;
  uint8_t proto = 0;  // IPPROTO_TCP / UDP / SCTP
  uint8_t pad = 0;    // always 0: part of the hashed key
  friend auto operator<=>(const ServiceTableKey&, const ServiceTableKey&) = default;
};
static_assert(sizeof(ServiceTableKey) == 8 && offsetof(ServiceTableKey, port_be) == 4 &&
              offsetof(ServiceTableKey, proto) == 6 && offsetof(ServiceTableKey, pad) == 7);

// What kind of address the key is: it decides which traffic policy applies.
enum class ServiceAddressKind : uint8_t {
  kClusterIp = 0,  // internalTrafficPolicy
  kNodePort,       // a node address; externalTrafficPolicy for traffic from outside
  kExternalIp,     // externalTrafficPolicy for traffic from outside
  kLoadBalancer,   // externalTrafficPolicy for traffic from outside; loadBalancerSourceRanges
};

struct ServiceBackendSpec {
  uint32_t ip_be = 0;
  uint16_t port_be = 0;  // the resolved target port
  bool local = false;    // on this node
  uint32_t weight = 1;
  // Another node's own (underlay) address: a hostNetwork endpoint there. SNATed traffic to it
  // leaves from this node's underlay address, not its overlay one (svc_lb_decide.h SnatSource).
  bool remote_node = false;
  friend bool operator==(const ServiceBackendSpec&, const ServiceBackendSpec&) = default;
};

struct SourceRangeSpec {
  uint32_t net_be = 0;
  uint32_t mask_be = 0;
  friend bool operator==(const SourceRangeSpec&, const SourceRangeSpec&) = default;
};

struct ServiceEntrySpec {
  // The ClientIP affinity key: one per Service port, shared by all its addresses, stable while the
  // port exists (control/compile/service_compile.h ServicePortId).
  uint32_t service_id = 0;
  ServiceAddressKind kind = ServiceAddressKind::kClusterIp;
  bool external_local = false;  // externalTrafficPolicy Local
  bool internal_local = false;  // internalTrafficPolicy Local
  uint32_t affinity_timeout_s = 0;  // 0: no ClientIP affinity
  bool has_any_endpoint = false;    // false: REJECT new connections
  uint32_t snat_ip_be = 0;          // the node address external eTP Cluster traffic leaves from
  std::vector<ServiceBackendSpec> backends;
  // Maglev tables (control/compile/maglev.h): slot → index into backends. Empty: no endpoint in
  // that set.
  std::vector<uint16_t> cluster_table;  // the cluster endpoints
  std::vector<uint16_t> local_table;    // the node-local endpoints (Local policies)
  std::vector<SourceRangeSpec> source_ranges;  // kLoadBalancer only; empty: any source
  friend bool operator==(const ServiceEntrySpec&, const ServiceEntrySpec&) = default;
};

}  // namespace nodeplane::dp
