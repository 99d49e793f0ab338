// DesiredState: what this node's dataplane has been told, validated and in parsed form. Pure C++
// (no DPDK, no gRPC): the applier copies it, changes the copy, checks it, compiles it, and only
// then replaces the running one — so a rejected request leaves nothing half-applied.
#pragma once
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "control/model/network_policy.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

struct ServiceState;  // control/model/service_model.h

struct PodKey {
  std::string ns;
  std::string name;
  std::string ToString() const { return ns + "/" + name; }
  friend auto operator<=>(const PodKey&, const PodKey&) = default;
};

enum class L4Protocol : uint8_t { kTcp = 1, kUdp = 2, kSctp = 3 };

// As Kubernetes spells it (error messages).
inline const char* ProtocolName(L4Protocol p) {
  switch (p) {
    case L4Protocol::kTcp: return "TCP";
    case L4Protocol::kUdp: return "UDP";
    case L4Protocol::kSctp: return "SCTP";
  }
  return "?";
}

struct ContainerPort {
  std::string name;
  uint16_t port = 0;
  L4Protocol protocol = L4Protocol::kTcp;
};

inline constexpr uint32_t kDefaultVni = 1;
inline constexpr uint16_t kDefaultVxlanPort = 4789;  // IANA
inline constexpr uint32_t kMaxVni = 0xffffff;        // 24 bits
// The VTEP MAC of a nodeplane node unless told otherwise (the same as the pods' gateway MAC).
inline constexpr Mac kDefaultVtepMac{{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}};

struct NodeModel {
  std::string name;
  std::vector<Ip4Prefix> addresses;  // the node's own, with their prefix lengths
  std::vector<Ip4Prefix> pod_cidrs;
  Ip4 pod_gateway;
  // The overlay. vtep unset (0.0.0.0): no address to terminate VXLAN on, the overlay is off.
  Ip4 vtep;                          // given, or the first of `addresses`
  uint32_t vni = kDefaultVni;
  uint16_t vxlan_port = kDefaultVxlanPort;
  Mac vtep_mac = kDefaultVtepMac;
  std::string zone;  // label topology.kubernetes.io/zone; "" when none (topology hints ignored)
};

// Another node, reached over VXLAN. Values are kept as given (0 = default) so reads return them.
struct RemoteNodeModel {
  std::string name;
  Ip4 underlay;                      // its VTEP address
  std::vector<Ip4Prefix> pod_cidrs;
  uint32_t vni = 0;                  // 0: this node's VNI
  uint16_t udp_port = 0;             // 0: 4789
  std::optional<Mac> vtep_mac;       // unset: ee:ee:ee:ee:ee:ee

  uint32_t EffectiveVni(const NodeModel* local) const {
    return vni != 0 ? vni : (local ? local->vni : kDefaultVni);
  }
  uint16_t EffectivePort() const { return udp_port != 0 ? udp_port : kDefaultVxlanPort; }
  Mac EffectiveVtepMac() const { return vtep_mac.value_or(kDefaultVtepMac); }
};

struct PodModel {
  PodKey key;
  std::vector<Ip4> ips;
  std::map<std::string, std::string> labels;
  std::string node_name;
  std::vector<ContainerPort> ports;
};

// How a local pod is wired: its interface and the DPDK port behind it.
struct Attachment {
  PodKey key;
  std::string netns;
  std::string ifname;
  Mac mac;
  uint32_t mtu = 1500;
  uint16_t port_id = 0;
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  std::string device;  // DPDK device name
};

inline constexpr const char* kDefaultPodGateway = "169.254.1.1";

struct DesiredState {
  std::optional<NodeModel> node;
  std::map<PodKey, PodModel> pods;
  std::map<PodKey, Attachment> attachments;
  std::map<std::string, RemoteNodeModel> remote_nodes;  // by name
  // Services and EndpointSlices (control/model/service_model.h): immutable, shared by copies of
  // the state and replaced whole when they change; nullptr: none.
  std::shared_ptr<const ServiceState> services;

  // NetworkPolicy inputs (control/model/network_policy.h, compiled by control/compile/
  // policy_compile.h). Policies may name pods and namespaces that do not exist (yet).
  std::map<std::string, NamespaceModel> namespaces;          // by name
  std::map<PolicyKey, NetworkPolicyModel> network_policies;  // by namespace/name

  // Whole-state invariants, checked on a candidate before it replaces the running state:
  // unique pod addresses, pods on a known node (this one or a remote one), attached pods inside
  // the node's pod CIDRs; remote nodes not named like this node, with underlay addresses of their
  // own (not this node's, not another remote node's), and pod CIDRs that overlap neither this
  // node's nor another remote node's.
  absl::Status Check() const;
};

}  // namespace nodeplane::ctl
