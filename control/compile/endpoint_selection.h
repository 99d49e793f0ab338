// Which endpoints serve a Service port's cluster traffic and which its node-local traffic: the
// rule of kube-proxy's CategorizeEndpoints (pkg/proxy/topology.go), k8s-semantics §2.3.
//  - Cluster set (when the port uses cluster endpoints: internalTrafficPolicy Cluster, or reachable
//    from outside at all): the ready endpoints, narrowed by topology hints when every ready
//    endpoint has hints and one matches this node; if none, the serving-and-terminating ones.
//  - Local set (when the port uses local endpoints: internalTrafficPolicy Local, or
//    externalTrafficPolicy Local and reachable from outside): this node's ready endpoints, else
//    this node's serving-and-terminating ones; topology never applies.
//  - "Not computed" (nullopt) differs from "computed and empty": a set the port does not use is
//    nullopt, and so is a local set with no local endpoint at all (as kube-proxy returns nil).
// Pure; no DPDK.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace nodeplane::ctl {

struct SelectionEndpoint {
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  bool local = false;                   // nodeName is this node
  std::vector<std::string> zone_hints;  // hints.forZones
  std::vector<std::string> node_hints;  // hints.forNodes (PreferSameNode)
};

struct SelectionPolicy {
  bool internal_local = false;         // internalTrafficPolicy Local
  bool external_local = false;         // externalTrafficPolicy Local
  bool externally_accessible = false;  // a NodePort, load-balancer IPs or external IPs

  bool UsesClusterEndpoints() const { return !internal_local || externally_accessible; }
  bool UsesLocalEndpoints() const {
    return internal_local || (external_local && externally_accessible);
  }
};

struct NodeTopology {
  std::string name;
  std::string zone;  // topology.kubernetes.io/zone; "" when the node has none
};

// Indices into the endpoints given, in their order.
struct EndpointSets {
  std::optional<std::vector<size_t>> cluster;
  std::optional<std::vector<size_t>> local;
  std::vector<size_t> all_reachable;  // cluster ∪ local
  bool has_any = false;  // a usable endpoint exists somewhere: REJECT when false, else DROP
};

EndpointSets CategorizeEndpoints(const std::vector<SelectionEndpoint>& endpoints,
                                 const SelectionPolicy& policy, const NodeTopology& node);

}  // namespace nodeplane::ctl
