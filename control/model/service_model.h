// Services and EndpointSlices in the model: what the API said, validated (control/model/
// service_from_proto.cc), in parsed form. Pure C++. The whole set is one ServiceState shared by
// copies of DesiredState, so a pod change does not copy every Service; a Service or slice change
// edits it in place when nothing else holds it (control/model/service_store.h).
#pragma once
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "control/model/desired_state.h"
#include "nodeplane/addr.h"

namespace nodeplane::ctl {

struct ServiceKey {
  std::string ns;
  std::string name;
  std::string ToString() const { return ns + "/" + name; }
  friend auto operator<=>(const ServiceKey&, const ServiceKey&) = default;
};

enum class ServiceType : uint8_t { kClusterIp, kNodePort, kLoadBalancer, kExternalName };
enum class TrafficPolicy : uint8_t { kCluster, kLocal };

// sessionAffinityConfig.clientIP.timeoutSeconds: Kubernetes' default and limit.
inline constexpr uint32_t kDefaultAffinityTimeoutS = 10800;
inline constexpr uint32_t kMaxAffinityTimeoutS = 86400;
// Labels that make the default proxy leave a Service alone (k8s-semantics §2.1).
inline constexpr const char* kServiceProxyNameLabel = "service.kubernetes.io/service-proxy-name";
inline constexpr const char* kHeadlessLabel = "service.kubernetes.io/headless";

// The NodePort range (apiserver --service-node-port-range; nodeplaned --node-port-range).
struct NodePortRange {
  uint16_t first = 30000;
  uint16_t last = 32767;
  bool Contains(uint32_t port) const { return port >= first && port <= last; }
  std::string ToString() const { return std::to_string(first) + "-" + std::to_string(last); }
  // "30000-32767"; nullopt when malformed or empty.
  static std::optional<NodePortRange> Parse(const std::string& text);
};

struct ServicePortModel {
  std::string name;
  L4Protocol protocol = L4Protocol::kTcp;
  uint16_t port = 0;
  uint16_t target_port = 0;      // numeric targetPort (0 when named)
  std::string target_port_name;  // named targetPort, resolved per endpoint
  uint16_t node_port = 0;        // 0: none
  friend bool operator==(const ServicePortModel&, const ServicePortModel&) = default;
};

struct ServiceModel {
  ServiceKey key;
  ServiceType type = ServiceType::kClusterIp;
  bool headless = false;           // clusterIP "None"
  std::vector<Ip4> cluster_ips;
  std::vector<Ip4> external_ips;
  std::vector<Ip4> load_balancer_ips;
  std::vector<ServicePortModel> ports;
  TrafficPolicy external_policy = TrafficPolicy::kCluster;
  TrafficPolicy internal_policy = TrafficPolicy::kCluster;
  // ClientIP affinity timeout in seconds as given (0 = the default); nullopt: affinity None.
  std::optional<uint32_t> affinity_timeout_s;
  std::vector<Ip4Prefix> source_ranges;  // loadBalancerSourceRanges
  uint16_t health_check_node_port = 0;
  std::map<std::string, std::string> labels;
  std::string traffic_distribution;

  // Whether this proxy programs it at all: not ExternalName, not headless, not claimed by another
  // proxy or marked headless by label. The others are stored (reads return them) but unprogrammed.
  bool Proxied() const;
  // NodePort, load-balancer IPs or externalIPs: reachable from outside the cluster.
  bool ExternallyAccessible() const;
  uint32_t AffinityTimeout() const {
    return affinity_timeout_s && *affinity_timeout_s != 0 ? *affinity_timeout_s
                                                          : kDefaultAffinityTimeoutS;
  }
  friend bool operator==(const ServiceModel&, const ServiceModel&) = default;
};

using EndpointSliceKey = ServiceKey;  // namespace and name, like a Service's

struct EndpointModel {
  Ip4 address;  // addresses[0] (kube-proxy uses only the first)
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  std::string node_name;
  std::string zone;
  std::vector<std::string> zone_hints;  // hints.forZones
  std::optional<PodKey> target_pod;
  std::vector<std::string> node_hints;  // hints.forNodes
  uint32_t weight = 0;  // as given (a nodeplane extension): 0 means 1, at most kMaxEndpointWeight
  friend bool operator==(const EndpointModel&, const EndpointModel&) = default;
};

struct EndpointPortModel {
  std::string name;
  L4Protocol protocol = L4Protocol::kTcp;
  uint16_t port = 0;
  friend bool operator==(const EndpointPortModel&, const EndpointPortModel&) = default;
};

struct EndpointSliceModel {
  EndpointSliceKey key;
  std::string service_name;  // in key.ns
  bool ipv4 = true;          // false: an FQDN slice, stored but ignored (as kube-proxy does)
  std::vector<EndpointModel> endpoints;
  std::vector<EndpointPortModel> ports;
  friend bool operator==(const EndpointSliceModel&, const EndpointSliceModel&) = default;
};

// The most endpoints one Service may have over all its slices: what a Service's backend table and
// Maglev table hold (control/compile/maglev.h sizes the table from it).
inline constexpr size_t kMaxBackendsPerService = 4096;
inline constexpr int kMaxEndpointsPerSlice = 1000;  // the EndpointSlice API's own limit
// The largest endpoint weight: Maglev gives each backend kSlotsPerBackend (100) slots on average
// (control/compile/maglev.h), so weights up to 100 keep every endpoint at least one slot.
inline constexpr uint32_t kMaxEndpointWeight = 100;
inline constexpr int kMaxPortsPerSlice = 100;
inline constexpr int kMaxServicesPerRequest = 10000;
inline constexpr int kMaxSlicesPerRequest = 10000;

struct ServiceState {
  std::map<ServiceKey, ServiceModel> services;
  std::map<EndpointSliceKey, EndpointSliceModel> slices;
  // Service → its slices' keys (kept by PutSlice/EraseSlice), so finding them does not scan.
  std::map<ServiceKey, std::vector<EndpointSliceKey>> slices_by_service;

  // The slices of a Service (same namespace, service_name = its name), in key order.
  std::vector<const EndpointSliceModel*> SlicesOf(const ServiceKey& svc) const;
  // Add or replace a slice / remove one (unknown keys: no-op), keeping the index.
  void PutSlice(EndpointSliceModel slice);
  void EraseSlice(const EndpointSliceKey& key);
  friend bool operator==(const ServiceState&, const ServiceState&) = default;
};

}  // namespace nodeplane::ctl
