// Kubernetes objects (their JSON, as the API server serves them) → nodeplane API messages, field
// for field. Each function translates one object whole or returns INVALID_ARGUMENT naming the
// object and the field ("Service default/web: spec.ports[1].port: 70000 outside 1-65535").
// std::nullopt means "valid, but nothing the dataplane is told about" (e.g. a hostNetwork pod);
// the caller treats it as a delete of that key.
//
// Addresses: nodeplaned is IPv4-only today, so IPv6 pod IPs, Service IPs and IPv6 EndpointSlices
// are left out rather than failing the whole sync of a dual-stack cluster.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/agent/json_field.h"
#include "nodeplane/v1/nodeplane.pb.h"

namespace nodeplane::agent {

namespace v1 = ::nodeplane::v1;

// The kinds the agent reads.
enum class Kind { kNamespace, kPod, kService, kEndpointSlice, kNetworkPolicy, kNode };
inline constexpr Kind kAllKinds[] = {Kind::kNamespace, Kind::kPod,           Kind::kService,
                                     Kind::kEndpointSlice, Kind::kNetworkPolicy, Kind::kNode};

// "Pod", "Service", ...
const char* KindName(Kind kind);
// The apiVersion a kind lives in: "v1", "discovery.k8s.io/v1", "networking.k8s.io/v1".
const char* KindApiVersion(Kind kind);
// From a manifest's apiVersion and kind; nullopt when the agent does not read that kind.
std::optional<Kind> KindFromManifest(const std::string& api_version, const std::string& kind);
// A kind name accepted on the command line ("pods", "services", "Pod", ...).
std::optional<Kind> KindFromName(const std::string& name);

// "namespace/name", or "name" for cluster-scoped kinds; the identity used for deltas.
absl::StatusOr<std::string> ObjectKey(Kind kind, const Json& object);

// A Node as the agent needs it: this node becomes SetNode, the others RemoteNodes.
struct KubeNode {
  std::string name;
  std::string internal_ip;              // first IPv4 InternalIP ("" when none)
  std::vector<std::string> addresses;   // IPv4 InternalIP and ExternalIP addresses, in order
  std::vector<std::string> pod_cidrs;   // spec.podCIDRs (IPv4), or spec.podCIDR
  // The MAC its VXLAN device accepts: annotation nodeplane.io/vtep-mac, else Flannel's
  // flannel.alpha.coreos.com/backend-data {"VtepMAC": ...}; "" when neither (the cluster default).
  std::string vtep_mac;
  std::string zone;  // label topology.kubernetes.io/zone ("" when none): for topology hints
};

absl::StatusOr<v1::Namespace> NamespaceFromJson(const Json& object);
absl::StatusOr<std::optional<v1::Pod>> PodFromJson(const Json& object);
absl::StatusOr<v1::Service> ServiceFromJson(const Json& object);
absl::StatusOr<std::optional<v1::EndpointSlice>> EndpointSliceFromJson(const Json& object);
absl::StatusOr<v1::NetworkPolicy> NetworkPolicyFromJson(const Json& object);
absl::StatusOr<KubeNode> NodeFromJson(const Json& object);

// Internal helpers shared by the translators.
namespace detail {
// "Service default/web" for error messages (best effort on malformed metadata).
std::string Describe(Kind kind, const Json& object);
// Runs fn(); a FieldError or JSON error becomes INVALID_ARGUMENT prefixed with Describe().
template <typename Fn>
auto Guard(Kind kind, const Json& object, Fn fn) -> absl::StatusOr<decltype(fn())>;
bool IsIpv4(const std::string& text);
bool IsIpv6(const std::string& text);
// A CIDR of either family; the field fails otherwise.
void CheckCidr(const JsonField& field, const std::string& text);
v1::Protocol ProtocolOf(const JsonField& parent, const std::string& key);
}  // namespace detail

}  // namespace nodeplane::agent

#include "control/agent/translate_inl.h"
