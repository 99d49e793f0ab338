// API ↔ model for Namespaces and NetworkPolicies, validating as the Kubernetes API server does.
// Errors are INVALID_ARGUMENT naming the field path, e.g.
// "network_policies[0].ingress[1].ports[0].end_port: 79 is below port 80".
#pragma once
#include <string>

#include "absl/status/statusor.h"
#include "control/model/network_policy.h"
#include "nodeplane/v1/nodeplane.pb.h"

namespace nodeplane::ctl {

inline constexpr int kMaxPoliciesPerRequest = 10000;
inline constexpr int kMaxNamespacesPerRequest = 10000;

absl::StatusOr<NamespaceModel> NamespaceFromProto(const v1::Namespace& ns, const std::string& field);
absl::StatusOr<PolicyKey> PolicyKeyFromProto(const v1::NetworkPolicyKey& key,
                                             const std::string& field);
absl::StatusOr<NetworkPolicyModel> NetworkPolicyFromProto(const v1::NetworkPolicy& policy,
                                                          const std::string& field);
// Label keys and values as Kubernetes accepts them (qualified names; values of at most 63
// characters, alphanumeric at both ends). `what` goes into the message.
absl::Status CheckLabels(const Labels& labels, const std::string& field);

v1::Namespace NamespaceToProto(const NamespaceModel& ns);
v1::NetworkPolicy NetworkPolicyToProto(const NetworkPolicyModel& policy);
v1::NetworkPolicyKey PolicyKeyToProto(const PolicyKey& key);

}  // namespace nodeplane::ctl
